//! LZXPRESS Huffman decompression checked against Python's `dissect.util` (an
//! independent implementation) on real `MAM\x04` Prefetch files, and round trips through
//! the test compressor (`common::xpress_huffman_writer`) for what real files rarely
//! hold: several blocks, long matches with every length escape, overlapping copies.
//!
//! `XPRESS_LIST=list.txt cargo test --test xpress_huffman -- --nocapture` checks every
//! file of a list made by `fixtures/prefetch/dissect_sha256.py` (lines
//! `sha256 length path`); skipped, saying so, when unset.

mod common;

use std::path::Path;

use common::xpress_huffman_writer::{compress, mam};
use netsession_scan::internals::content::prefetch::xpress_huffman::{XpressError, decompress};
use sha2::{Digest, Sha256};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decompresses a MAM file's payload to the size its header states.
fn unmam(bytes: &[u8]) -> Result<Vec<u8>, XpressError> {
    assert_eq!(&bytes[..4], b"MAM\x04");
    let n = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    decompress(&bytes[8..], n)
}

/// Lines `sha256 length path` (paths relative to the list's folder when not absolute).
/// Returns the files checked and how many of them dissect.util decompressed short.
fn check_list(list: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(list).unwrap();
    let base = list.parent().unwrap();
    let (mut n, mut short) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let (sha, len, path) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let path = base.join(path);
        let bytes = std::fs::read(&path).unwrap();
        let out = unmam(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let theirs = len.parse::<usize>().unwrap();
        if theirs < out.len() {
            // dissect.util (3.24) stops short of the end on some real files; the
            // decompressed file's own header then states our length
            assert_eq!(
                u32::from_le_bytes(out[12..16].try_into().unwrap()) as usize,
                out.len(),
                "{}: dissect.util gave {theirs} bytes",
                path.display()
            );
            short += 1;
        } else {
            assert_eq!(out.len(), theirs, "{}", path.display());
        }
        assert_eq!(
            hex(&Sha256::digest(&out[..theirs])),
            sha,
            "{}",
            path.display()
        );
        n += 1;
    }
    (n, short)
}

#[test]
fn committed_mam_samples_equal_dissect_util() {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/prefetch/real/mam_sha256.txt");
    assert_eq!(check_list(&list), (3, 0));
}

#[test]
fn corpus_equals_dissect_util() {
    let Some(list) = std::env::var_os("XPRESS_LIST") else {
        println!("XPRESS_LIST not set: corpus check skipped");
        return;
    };
    let (n, short) = check_list(Path::new(&list));
    println!(
        "{n} MAM files decompress as dissect.util does ({short} of them past where \
         dissect.util stopped, to the length their SCCA header states)"
    );
}

/// Deterministic bytes: text-like runs, repeats near and far, and noise.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    let mut v = Vec::with_capacity(len);
    let words: [&[u8]; 5] = [
        b"\\VOLUME{01d9a1b2c3d4e5f6-1234abcd}\\",
        b"PROGRAM FILES (X86)\\COMMON FILES\\AKAMAI\\",
        b"NETSESSION_WIN.EXE",
        b"\x00\x00\x00\x00",
        b"WINDOWS\\SYSTEM32\\NTDLL.DLL",
    ];
    while v.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        match (x >> 60) % 4 {
            0 => v.extend_from_slice(words[(x >> 20) as usize % words.len()]),
            1 => v.push((x >> 33) as u8),
            2 if v.len() > 40_000 => {
                let from = (x >> 16) as usize % (v.len() - 1);
                let n = ((x >> 40) as usize % 300).min(v.len() - from);
                let copy = v[from..from + n].to_vec();
                v.extend_from_slice(&copy);
            }
            _ => v.extend(std::iter::repeat_n(
                (x >> 24) as u8,
                (x >> 48) as usize % 40,
            )),
        }
    }
    v.truncate(len);
    v
}

#[test]
fn round_trips_across_blocks() {
    for (len, seed) in [
        (0, 1),
        (1, 2),
        (5, 3),
        (65_535, 4),
        (65_536, 5),
        (65_537, 6),
        (300_000, 7),
    ] {
        let data = sample(len, seed);
        let packed = compress(&data);
        assert_eq!(decompress(&packed, len).unwrap(), data, "length {len}");
    }
}

#[test]
fn every_length_escape_and_matches_past_a_block_end() {
    // one byte repeated: the lengths need the byte, the 16-bit and (across blocks) the
    // 32-bit escape; 'ab' repeated: a copy overlapping its own output at distance 2
    let mut data = b"x".to_vec();
    data.extend(std::iter::repeat_n(b'a', 20));
    data.extend(std::iter::repeat_n(b'b', 200));
    data.extend(std::iter::repeat_n(b'c', 5_000));
    data.extend(b"ab".repeat(40_000));
    data.extend(std::iter::repeat_n(b'z', 150_000));
    data.extend(sample(70_000, 9));
    for cross in [false, true] {
        let packed = common::xpress_huffman_writer::compress_with(&data, cross);
        assert_eq!(
            decompress(&packed, data.len()).unwrap(),
            data,
            "cross {cross}"
        );
        // asking for less stops early with a prefix
        assert_eq!(decompress(&packed, 1_000).unwrap(), data[..1_000]);
    }
}

#[test]
fn damaged_data_gives_errors_or_bytes_never_a_panic() {
    let data = sample(150_000, 11);
    let packed = mam(&data);
    let payload = &packed[8..];
    let mut errors = 0;
    for cut in (0..payload.len()).step_by(997) {
        if decompress(&payload[..cut], data.len()).is_err() {
            errors += 1;
        }
    }
    assert_eq!(errors, payload.len().div_ceil(997), "every cut is an error");
    let mut x = 99u64;
    for _ in 0..400 {
        let mut bad = payload.to_vec();
        for _ in 0..4 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            let at = (x >> 33) as usize % bad.len();
            bad[at] ^= (x >> 20) as u8 | 1;
        }
        if let Ok(out) = decompress(&bad, data.len()) {
            assert_eq!(out.len(), data.len());
        }
    }
    // a real file cut in half: the end of the data is named
    let real = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/prefetch/real/v30/USERINIT.EXE-2257A3E7.pf"),
    )
    .unwrap();
    let cut = unmam(&real[..real.len() / 2]).unwrap_err();
    assert!(matches!(cut, XpressError::Truncated { .. }), "{cut}");
}

/// The test compressor's output decompresses the same with dissect.util, so files made
/// with it are what other tools read too (skipped, saying so, without dissect.util).
#[test]
fn test_compressor_output_reads_back_with_dissect_util() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import dissect.util.compression.lzxpress_huffman"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        println!("python3 dissect.util not installed: check skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("xpress-writer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [sample(200_000, 21), b"ab".repeat(50_000), sample(3_000, 22)];
    for (i, data) in cases.iter().enumerate() {
        std::fs::write(dir.join(format!("{i}.pf")), mam(data)).unwrap();
    }
    let list = dir.join("list.txt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/prefetch/dissect_sha256.py");
    let st = std::process::Command::new("python3")
        .arg(script)
        .arg(&dir)
        .arg(&list)
        .status()
        .unwrap();
    assert!(st.success());
    let text = std::fs::read_to_string(&list).unwrap();
    for (i, data) in cases.iter().enumerate() {
        let line = format!("{} {} {i}.pf", hex(&Sha256::digest(data)), data.len());
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
