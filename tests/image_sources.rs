//! Image sources on the committed fixtures (`fixtures/images`, see its README): E01 and
//! split raw against the raw disk they were made from, incomplete and damaged sets, the
//! block cache, slices and error propagation, and the shared corpus where present.
//!
//! The raw fixtures are gzip-compressed; they are unpacked with the `gzip` command into a
//! temporary folder (a test skips with a message when gzip is missing).

mod common;

use common::{XorShift, hex, image_sha256, readme_sha256};

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use netsession_scan::internals::image::cache::BlockCache;
use netsession_scan::internals::image::e01::EwfImage;
use netsession_scan::internals::image::raw::RawImage;
use netsession_scan::internals::image::source::{
    ImageError, ImageReader, ImageSource, MemoryImage, Slice, open_image,
};
use netsession_scan::internals::image::split::SplitRawImage;
use sha2::{Digest, Sha256};

const MIB: u64 = 1024 * 1024;
/// Where the NTFS partition starts in each fixture disk.
const GPT_PART: u64 = 2048 * 512;
const MBR_PART: u64 = 63 * 512;
const VOL_LEN: u64 = 8 * MIB;
/// `netsession_win.exe` in the fixture volumes: "MZ" then (7i + 13) mod 251.
const EXE_LEN: usize = 20000;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images")
}

fn exe_content() -> Vec<u8> {
    let mut v = b"MZ".to_vec();
    v.extend((0..EXE_LEN - 2).map(|i| ((i * 7 + 13) % 251) as u8));
    v
}

/// Unpack `src` (gzip) to `dst`; false (and a message) when gzip is not installed.
fn gunzip(src: &Path, dst: &Path) -> bool {
    let out = std::fs::File::create(dst).expect("create");
    match Command::new("gzip")
        .arg("-dc")
        .arg(src)
        .stdout(out)
        .stderr(Stdio::inherit())
        .status()
    {
        Ok(status) => {
            assert!(status.success(), "gzip -dc {} failed", src.display());
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "skipped: gzip is not installed, cannot unpack {}",
                src.display()
            );
            false
        }
        Err(e) => panic!("gzip: {e}"),
    }
}

/// A fixture `.gz` unpacked into `dir` under its name without `.gz`.
fn unpack(dir: &Path, name: &str) -> Option<PathBuf> {
    let dst = dir.join(name.trim_end_matches(".gz"));
    gunzip(&fixtures().join(name), &dst).then_some(dst)
}

/// `reads` random reads (offsets anywhere, lengths up to `max_len`, some past the end)
/// give the same bytes and counts from both sources.
fn same_random_reads(
    a: &dyn ImageSource,
    b: &dyn ImageSource,
    reads: usize,
    max_len: u64,
    seed: u64,
) {
    assert_eq!(a.size(), b.size());
    let mut rng = XorShift(seed);
    let (mut x, mut y) = (vec![0u8; max_len as usize], vec![0u8; max_len as usize]);
    for _ in 0..reads {
        let offset = rng.below(a.size() + 1000);
        let len = 1 + rng.below(max_len) as usize;
        let na = a.read_at(offset, &mut x[..len]).expect("read a");
        let nb = b.read_at(offset, &mut y[..len]).expect("read b");
        assert_eq!(na, nb, "count at {offset}+{len}");
        assert_eq!(x[..na], y[..nb], "bytes at {offset}+{len}");
        let expect = a.size().saturating_sub(offset).min(len as u64) as usize;
        assert_eq!(na, expect, "short only at the end: {offset}+{len}");
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The NTFS boot sector at `part` and the known executable somewhere in the volume.
fn check_volume(disk: &dyn ImageSource, part: u64) {
    let vol = Slice::new(disk, part, VOL_LEN);
    assert!(!vol.is_truncated());
    let mut reader = ImageReader::new(&vol);
    let mut boot = [0u8; 512];
    reader.read_exact(&mut boot).expect("boot sector");
    assert_eq!(&boot[3..11], b"NTFS    ");
    assert_eq!(boot[510..], [0x55, 0xAA]);
    let hidden = u32::from_le_bytes(boot[28..32].try_into().unwrap());
    assert_eq!(
        u64::from(hidden),
        part / 512,
        "hidden sectors = partition start"
    );
    // The executable's data is one run of clusters: find its first 64 bytes.
    let exe = exe_content();
    reader.seek(SeekFrom::Start(0)).unwrap();
    let mut volume = Vec::new();
    reader.read_to_end(&mut volume).expect("whole volume");
    assert_eq!(volume.len() as u64, VOL_LEN);
    let at = find(&volume, &exe[..64]).expect("netsession_win.exe data in the volume");
    assert_eq!(at % 4096, 0, "cluster aligned");
    assert_eq!(volume[at..at + EXE_LEN], exe[..]);
}

// ---------------------------------------------------------------------------------------
// E01 against raw
// ---------------------------------------------------------------------------------------

#[test]
fn e01_reads_exactly_the_raw_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw_path) = unpack(tmp.path(), "gpt.raw.gz") else {
        return;
    };
    let raw = RawImage::open(&raw_path).unwrap();
    let raw_sha = image_sha256(&raw, MIB as usize);
    assert_eq!(raw_sha, readme("gpt.raw"), "committed gpt.raw.gz vs README");

    let e01 = EwfImage::open(&fixtures().join("gpt.E01")).unwrap();
    assert_eq!(e01.describe(), "E01 (3 segments)");
    assert_eq!(e01.size(), raw.size());
    assert_eq!(e01.size(), 10 * MIB);
    // Odd piece sizes cross chunk and segment boundaries at every possible phase.
    assert_eq!(image_sha256(&e01, 100_003), raw_sha);
    let cached = BlockCache::new(&e01);
    assert_eq!(image_sha256(&cached, 4097), raw_sha);
    same_random_reads(&raw, &cached, 3000, 70_000, 0x9e37_79b9_7f4a_7c15);
    same_random_reads(&raw, &e01, 500, 40_000, 7);
    // Two threads on one cached E01.
    std::thread::scope(|scope| {
        for seed in [3u64, 4] {
            let (raw, cached) = (&raw, &cached);
            scope.spawn(move || same_random_reads(raw, cached, 1500, 100_000, seed));
        }
    });

    // Detected by content, from any segment.
    for seg in ["gpt.E01", "gpt.E02", "gpt.E03"] {
        let img = open_image(&fixtures().join(seg)).unwrap();
        assert_eq!(img.describe(), "E01 (3 segments)", "{seg}");
        assert_eq!(img.size(), raw.size());
    }
    check_volume(&cached, GPT_PART);
}

#[test]
fn raw_disk_opens_as_raw_and_holds_the_volume() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(path) = unpack(tmp.path(), "gpt.raw.gz") else {
        return;
    };
    let img = open_image(&path).unwrap();
    assert_eq!(img.describe(), "raw");
    check_volume(&img, GPT_PART);
    // A GPT header at LBA 1 and a protective MBR.
    let mut sector = [0u8; 512];
    img.read_at(512, &mut sector).unwrap();
    assert_eq!(&sector[..8], b"EFI PART");
    img.read_at(0, &mut sector).unwrap();
    assert_eq!(sector[450], 0xEE);
}

/// Copy some of the E01 segments into a fresh folder.
fn e01_subset(names: &[&str]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for name in names {
        std::fs::copy(fixtures().join(name), tmp.path().join(name)).unwrap();
    }
    tmp
}

fn expect_missing(result: Result<impl ImageSource, ImageError>, expected: &Path) {
    match result {
        Err(ImageError::MissingSegment { expected: got }) => assert_eq!(got, expected),
        Err(other) => panic!(
            "expected MissingSegment {}, got {other}",
            expected.display()
        ),
        Ok(img) => panic!("opened an incomplete image: {}", img.describe()),
    }
}

/// The chunk range (first, count) segment `index` (0-based) holds in the full set.
fn chunks_of_segment(index: usize) -> (u64, u64) {
    let full = EwfImage::open(&fixtures().join("gpt.E01")).unwrap();
    let reader = full.reader();
    let of: Vec<u64> = (0..reader.chunk_count())
        .filter(|&i| reader.debug_chunk(i).unwrap().3 == index)
        .map(|i| i as u64)
        .collect();
    assert!(!of.is_empty(), "segment {index} holds chunks");
    assert!(of.windows(2).all(|w| w[1] == w[0] + 1), "contiguous");
    (of[0], of.len() as u64)
}

/// Without one segment, every chunk outside it reads as in the raw disk, every read in
/// it fails naming the segment, and the gap is told at open.
fn check_read_around(present: &[&str], missing: &str, index: usize) {
    let tmp = e01_subset(present);
    let Some(raw_path) = unpack(tmp.path(), "gpt.raw.gz") else {
        return;
    };
    let raw = std::fs::read(raw_path).unwrap();
    let (first, count) = chunks_of_segment(index);
    for opened_from in present {
        let image = EwfImage::open(&tmp.path().join(opened_from)).unwrap();
        assert!(
            image.describe().contains("1 missing"),
            "{}",
            image.describe()
        );
        let chunk = 16 * 1024u64;
        let (start, end) = (first * chunk, ((first + count) * chunk).min(10 * MIB));
        let gaps = image.known_gaps();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(gaps[0].0.ends_with(missing), "{gaps:?}");
        assert!(
            gaps[0].1.contains(&format!("bytes {start}..{end}")),
            "{gaps:?}"
        );
        let mut buf = vec![0u8; chunk as usize];
        for offset in (0..10 * MIB).step_by(chunk as usize) {
            let result = image.read_at(offset, &mut buf);
            if (start..end).contains(&offset) {
                match result {
                    Err(ImageError::InMissingSegment {
                        segment,
                        offset: at,
                    }) => {
                        assert_eq!(segment, tmp.path().join(missing));
                        assert_eq!(at, offset);
                    }
                    other => panic!("read at {offset} in the gap: {other:?}"),
                }
            } else {
                assert_eq!(result.unwrap(), chunk as usize);
                let o = offset as usize;
                assert!(buf[..] == raw[o..o + chunk as usize], "bytes at {offset}");
            }
        }
        // The manifest lists the files read, not the missing one.
        assert!(!image.files().iter().any(|f| f.ends_with(missing)));
    }
}

#[test]
fn e01_missing_middle_segment_is_read_around() {
    check_read_around(&["gpt.E01", "gpt.E03"], "gpt.E02", 1);
    // The crate alone refuses the set, with a numbered gap and no file name.
    let tmp = e01_subset(&["gpt.E01", "gpt.E03"]);
    let crate_err = ewf::EwfReader::open(tmp.path().join("gpt.E01")).unwrap_err();
    assert!(matches!(
        crate_err,
        ewf::EwfError::SegmentGap {
            expected: 2,
            got: 3
        }
    ));
}

#[test]
fn e01_missing_last_segment_is_read_around() {
    check_read_around(&["gpt.E01", "gpt.E02"], "gpt.E03", 2);
    // The crate alone opens it and fails only when a read reaches the missing chunks
    // (an error, not zeros).
    let tmp = e01_subset(&["gpt.E01", "gpt.E02"]);
    let reader = ewf::EwfReader::open(tmp.path().join("gpt.E01")).unwrap();
    assert_eq!(reader.total_size(), 10 * MIB);
    let mut buf = [0u8; 512];
    assert!(reader.read_at(&mut buf, 10 * MIB - 512).is_err());
}

/// The hole is sized from the volume section's chunk count: a count that fails the
/// section's checksum, or disagrees with its sector count, must not place chunks.
#[test]
fn e01_hole_is_not_sized_from_an_untrusted_chunk_count() {
    let bytes = std::fs::read(fixtures().join("gpt.E01")).unwrap();
    let desc = bytes
        .windows(16)
        .position(|w| w == b"volume\0\0\0\0\0\0\0\0\0\0")
        .expect("volume section");
    let body = desc + 76;
    let count_at = body + 4;
    let count = u32::from_le_bytes(bytes[count_at..count_at + 4].try_into().unwrap());
    for fix_checksum in [false, true] {
        let mut forged = bytes.clone();
        forged[count_at..count_at + 4].copy_from_slice(&(count + 8).to_le_bytes());
        if fix_checksum {
            // A careful forger: checksum right, but the count no longer matches the
            // sector count.
            let sum = ewf::sections::adler32(&forged[body..body + 1048]);
            forged[body + 1048..body + 1052].copy_from_slice(&sum.to_le_bytes());
        }
        let tmp = e01_subset(&["gpt.E03"]);
        std::fs::write(tmp.path().join("gpt.E01"), &forged).unwrap();
        expect_missing(
            EwfImage::open(&tmp.path().join("gpt.E01")),
            &tmp.path().join("gpt.E02"),
        );
        // The same forged segment in a complete set opens as before (the count only
        // matters for placing a hole).
        std::fs::copy(fixtures().join("gpt.E02"), tmp.path().join("gpt.E02")).unwrap();
        assert!(EwfImage::open(&tmp.path().join("gpt.E01")).is_ok());
    }
}

#[test]
fn e01_missing_first_segment_is_named() {
    let tmp = e01_subset(&["gpt.E02", "gpt.E03"]);
    expect_missing(
        EwfImage::open(&tmp.path().join("gpt.E02")),
        &tmp.path().join("gpt.E01"),
    );
}

#[test]
fn e01_truncated_last_segment_is_refused() {
    let tmp = e01_subset(&["gpt.E01", "gpt.E02", "gpt.E03"]);
    let e03 = tmp.path().join("gpt.E03");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&e03)
        .unwrap()
        .set_len(200_000)
        .unwrap();
    let err = EwfImage::open(&tmp.path().join("gpt.E01")).err().unwrap();
    assert!(matches!(err, ImageError::Ewf { .. }), "{err}");
    assert!(err.to_string().contains("covers"), "{err}");
}

/// Where gpt.E01's `table` section descriptor is.
fn e01_table_offset(e01: &[u8]) -> u64 {
    let mut off = 13usize;
    loop {
        if e01[off..off + 16].starts_with(b"table\0") {
            return off as u64;
        }
        let next = u64::from_le_bytes(e01[off + 16..off + 24].try_into().unwrap()) as usize;
        assert!(next > off, "no table section");
        off = next;
    }
}

/// The chunk table of gpt.E01 (EnCase 6, one `table` section): (offset, compressed).
fn e01_chunks(e01: &[u8]) -> (u64, Vec<(u64, bool)>) {
    let u32_at = |o: usize| u32::from_le_bytes(e01[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(e01[o..o + 8].try_into().unwrap());
    let off = e01_table_offset(e01) as usize;
    let count = u32_at(off + 76) as usize;
    let base = u64_at(off + 84);
    let chunks = (0..count)
        .map(|i| {
            let e = u32_at(off + 100 + 4 * i);
            (base + u64::from(e & 0x7fff_ffff), e & 0x8000_0000 != 0)
        })
        .collect();
    (16384, chunks)
}

/// Flip one byte of a copy of gpt.E01 and read the chunk it belongs to.
fn read_damaged(at: u64, xor: u8, chunk_offset: u64) -> Result<Vec<u8>, ImageError> {
    let tmp = e01_subset(&["gpt.E01", "gpt.E02", "gpt.E03"]);
    let path = tmp.path().join("gpt.E01");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[at as usize] ^= xor;
    std::fs::write(&path, bytes).unwrap();
    let img = EwfImage::open(&path)?;
    let mut buf = vec![0u8; 16384];
    img.read_at(chunk_offset, &mut buf).map(|_| buf)
}

#[test]
fn e01_damaged_chunks_are_errors_not_wrong_bytes() {
    let e01 = std::fs::read(fixtures().join("gpt.E01")).unwrap();
    let (chunk_size, chunks) = e01_chunks(&e01);
    let ok = EwfImage::open(&fixtures().join("gpt.E01")).unwrap();
    let good = |i: usize| {
        let mut buf = vec![0u8; chunk_size as usize];
        ok.read_at(i as u64 * chunk_size, &mut buf).unwrap();
        buf
    };
    // Every byte of a small compressed chunk (an all-zero one: 39 bytes), each flipped
    // in turn: the read fails naming the chunk, or (damage deflate cannot notice, in
    // the stream's padding bits) gives the right bytes. Never wrong bytes.
    let (i, (start, compressed)) = chunks
        .iter()
        .enumerate()
        .find(|(i, (_, c))| *c && good(*i).iter().all(|&b| b == 0))
        .map(|(i, c)| (i, *c))
        .unwrap();
    assert!(compressed);
    let end = chunks[i + 1].0;
    let expect = good(i);
    let mut errors = 0;
    for at in start..end {
        for xor in [0x01, 0x80] {
            match read_damaged(at, xor, i as u64 * chunk_size) {
                Ok(bytes) => assert!(bytes == expect, "flip {xor:#x} at {at}: wrong bytes"),
                Err(e) => {
                    assert_eq!(e.offset(), Some(i as u64 * chunk_size), "{e}");
                    errors += 1;
                }
            }
        }
    }
    assert!(errors > 0);
    // A stored (uncompressed) chunk: its data and its Adler-32.
    let (i, (start, _)) = chunks.iter().enumerate().find(|(_, (_, c))| !*c).unwrap();
    for at in [
        *start,
        start + 5000,
        start + chunk_size - 1,
        start + chunk_size + 2,
    ] {
        let err = read_damaged(at, 0x10, i as u64 * chunk_size).unwrap_err();
        assert_eq!(err.offset(), Some(i as u64 * chunk_size), "{err}");
        assert!(err.to_string().contains("Adler-32"), "{err}");
    }
    // Damaged chunk table entries: the chunks of that table are refused.
    let table_entries = e01_table_offset(&e01) + 100;
    let err = read_damaged(table_entries + 4 * 3 + 1, 0x01, 3 * chunk_size).unwrap_err();
    assert!(err.to_string().contains("chunk table"), "{err}");
    assert_eq!(err.offset(), Some(3 * chunk_size));
    // A damaged section descriptor (here the volume's): refused when opening.
    let err = read_damaged(899 + 30, 0x04, 0).unwrap_err();
    assert!(matches!(err, ImageError::Ewf { .. }), "{err}");
    assert!(
        err.to_string().contains("section descriptor at offset 899"),
        "{err}"
    );
    // Unchecked, the crate hands out the damaged bytes.
    let tmp = e01_subset(&["gpt.E01", "gpt.E02", "gpt.E03"]);
    let path = tmp.path().join("gpt.E01");
    let mut bytes = e01.clone();
    bytes[(start + 5000) as usize] ^= 0x10;
    std::fs::write(&path, bytes).unwrap();
    let mut img = EwfImage::open(&path).unwrap();
    img.set_verify_checksums(false);
    let mut buf = vec![0u8; chunk_size as usize];
    img.read_at(i as u64 * chunk_size, &mut buf).unwrap();
    assert_ne!(buf, good(i));
    assert_eq!(buf[5000], good(i)[5000] ^ 0x10);
}

/// A sequential reader (the read-ahead window fills the chunks ahead on both cores)
/// meets a damaged chunk: every byte before it is right, and the error names its start.
#[test]
fn e01_sequential_reads_stop_at_a_damaged_chunk() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw_path) = unpack(tmp.path(), "gpt.raw.gz") else {
        return;
    };
    let raw = std::fs::read(&raw_path).unwrap();
    let e01 = std::fs::read(fixtures().join("gpt.E01")).unwrap();
    let (chunk_size, chunks) = e01_chunks(&e01);
    // A compressed chunk well inside the segment, holding data (not zeros).
    let i = (40..chunks.len() - 1)
        .find(|&i| {
            let (start, compressed) = chunks[i];
            compressed && chunks[i + 1].0 - start > 200
        })
        .expect("a compressed chunk with data");
    let (start, end) = (chunks[i].0, chunks[i + 1].0);
    let damaged = e01_subset(&["gpt.E01", "gpt.E02", "gpt.E03"]);
    let path = damaged.path().join("gpt.E01");
    let mut bytes = e01.clone();
    bytes[((start + end) / 2) as usize] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();
    let img = EwfImage::open(&path).unwrap();
    let mut buf = vec![0u8; 4096];
    let mut pos = 0u64;
    let err = loop {
        match img.read_at(pos, &mut buf) {
            Ok(0) => panic!("read to the end past a damaged chunk"),
            Ok(n) => {
                assert_eq!(&buf[..n], &raw[pos as usize..pos as usize + n], "at {pos}");
                pos += n as u64;
            }
            Err(e) => break e,
        }
    };
    assert_eq!(pos, i as u64 * chunk_size, "{err}");
    assert_eq!(err.offset(), Some(pos), "{err}");
    // Past it, reading goes on with the right bytes.
    let after = (i as u64 + 1) * chunk_size;
    let n = img.read_at(after, &mut buf).unwrap();
    assert_eq!(&buf[..n], &raw[after as usize..after as usize + n]);
}

// ---------------------------------------------------------------------------------------
// Split raw
// ---------------------------------------------------------------------------------------

const SPLIT: [&str; 3] = ["mbr63.raw.001", "mbr63.raw.002", "mbr63.raw.003"];

#[test]
fn split_raw_reads_exactly_the_raw_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw_path) = unpack(tmp.path(), "mbr63.raw.gz") else {
        return;
    };
    let split_dir = tmp.path().join("split");
    std::fs::create_dir(&split_dir).unwrap();
    for seg in SPLIT {
        if unpack(&split_dir, &format!("{seg}.gz")).is_none() {
            return;
        }
    }
    let raw = RawImage::open(&raw_path).unwrap();
    let raw_sha = image_sha256(&raw, MIB as usize);
    assert_eq!(raw_sha, readme("mbr63.raw"));
    for seg in SPLIT {
        let one = RawImage::open(&split_dir.join(seg)).unwrap();
        assert_eq!(image_sha256(&one, MIB as usize), readme(seg));
    }

    let split = open_image(&split_dir.join("mbr63.raw.001")).unwrap();
    assert_eq!(split.describe(), "split raw (3 segments)");
    assert_eq!(split.size(), 9 * MIB);
    assert_eq!(image_sha256(&split, 999_999), raw_sha);
    same_random_reads(&raw, &split, 3000, 3 * MIB, 42);
    // Across each boundary.
    let mut a = vec![0u8; 4096];
    let mut b = vec![0u8; 4096];
    for boundary in [4 * MIB, 8 * MIB] {
        for delta in [1u64, 100, 2048, 4095] {
            let off = boundary - delta;
            assert_eq!(split.read_at(off, &mut a).unwrap(), 4096);
            raw.read_at(off, &mut b).unwrap();
            assert_eq!(a, b, "at {off}");
        }
    }
    // Opened from a later segment, it is the same image.
    let from_third = SplitRawImage::open(&split_dir.join("mbr63.raw.003")).unwrap();
    assert_eq!(image_sha256(&from_third, MIB as usize), raw_sha);
    check_volume(&BlockCache::new(&split), MBR_PART);
    // Its partition table: type 7 at sector 63.
    let mut mbr = [0u8; 512];
    split.read_at(0, &mut mbr).unwrap();
    assert_eq!(mbr[446 + 4], 0x07);
    assert_eq!(
        u32::from_le_bytes(mbr[446 + 8..446 + 12].try_into().unwrap()),
        63
    );

    // A missing middle segment is named, from the first segment or any other.
    let gap = tmp.path().join("gap");
    std::fs::create_dir(&gap).unwrap();
    for seg in [SPLIT[0], SPLIT[2]] {
        std::fs::copy(split_dir.join(seg), gap.join(seg)).unwrap();
    }
    let missing = gap.join("mbr63.raw.002");
    expect_missing(open_image(&gap.join(SPLIT[0])), &missing);
    expect_missing(SplitRawImage::open(&gap.join(SPLIT[0])), &missing);
    expect_missing(SplitRawImage::open(&gap.join(SPLIT[2])), &missing);
    // Without the first, the first is named.
    std::fs::remove_file(gap.join(SPLIT[0])).unwrap();
    expect_missing(open_image(&gap.join(SPLIT[2])), &gap.join("mbr63.raw.001"));
    // A lone `.001` is just a raw image.
    let lone = tmp.path().join("lone");
    std::fs::create_dir(&lone).unwrap();
    std::fs::copy(split_dir.join(SPLIT[0]), lone.join(SPLIT[0])).unwrap();
    assert_eq!(open_image(&lone.join(SPLIT[0])).unwrap().describe(), "raw");
}

// ---------------------------------------------------------------------------------------
// Block cache
// ---------------------------------------------------------------------------------------

/// A source of `len` pseudo-random bytes.
fn random_image(len: usize, seed: u64) -> MemoryImage {
    let mut rng = XorShift(seed);
    MemoryImage::new((0..len).map(|_| rng.next() as u8).collect())
}

#[test]
fn cache_random_reads_equal_direct_reads_and_memory_stays_bounded() {
    let img = random_image(1_000_003, 99);
    for (block, capacity) in [(65536, 4 * 65536), (4096, 10 * 4096), (1000, 3500), (7, 70)] {
        let cache = BlockCache::with_capacity(&img, block, capacity);
        let max_blocks = (capacity / block).max(1);
        assert_eq!(cache.max_blocks(), max_blocks);
        same_random_reads(&img, &cache, 4000, 3 * block as u64 + 17, block as u64);
        let stats = cache.stats();
        assert!(stats.peak_blocks <= max_blocks, "{stats:?}");
        assert!(stats.cached_bytes <= max_blocks * block, "{stats:?}");
        assert!(stats.misses > 0 && stats.evictions > 0, "{stats:?}");
        // The last block is short and reads at the end are short.
        let mut buf = vec![0u8; 2 * block];
        let n = cache.read_at(img.size() - 3, &mut buf).unwrap();
        assert_eq!(n, 3);
        assert_eq!(cache.read_at(img.size(), &mut buf).unwrap(), 0);
    }
    // Repeated small reads inside one block are hits.
    let cache = BlockCache::with_capacity(&img, 65536, 65536 * 2);
    let mut buf = [0u8; 512];
    for i in 0..100u64 {
        cache.read_at(i * 512, &mut buf).unwrap();
    }
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits), (1, 99));
}

#[test]
fn cache_serves_two_threads_at_once() {
    let img = random_image(3_000_000, 5);
    let cache = BlockCache::with_capacity(&img, 65536, 8 * 65536);
    std::thread::scope(|scope| {
        for seed in [1u64, 2] {
            let (img, cache) = (&img, &cache);
            scope.spawn(move || same_random_reads(img, cache, 3000, 200_000, seed));
        }
    });
    let stats = cache.stats();
    assert!(stats.peak_blocks <= 8, "{stats:?}");
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// A memory image whose reads fail when they cover one of the `bad` offsets.
struct Failing {
    data: MemoryImage,
    bad: Vec<u64>,
    reads: Mutex<usize>,
}

impl ImageSource for Failing {
    fn size(&self) -> u64 {
        self.data.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        *self.reads.lock().unwrap() += 1;
        let end = offset + buf.len() as u64;
        if let Some(&bad) = self.bad.iter().find(|&&b| b >= offset && b < end) {
            return Err(ImageError::Io {
                path: "failing.img".into(),
                offset: bad,
                source: std::io::Error::other("injected read failure"),
            });
        }
        self.data.read_at(offset, buf)
    }
    fn describe(&self) -> String {
        "failing".into()
    }
}

#[test]
fn read_errors_propagate_with_their_offset() {
    let bad = 300_000u64;
    let failing = Failing {
        data: random_image(1_000_000, 3),
        bad: vec![bad],
        reads: Mutex::new(0),
    };
    let mut buf = vec![0u8; 10_000];
    let err = failing.read_at(bad - 10, &mut buf).unwrap_err();
    assert_eq!(err.offset(), Some(bad));

    // Through the cache: the same error, nothing cached for it, other blocks fine.
    let cache = BlockCache::with_capacity(&failing, 4096, 16 * 4096);
    let err = cache.read_at(bad - 10, &mut buf).unwrap_err();
    assert_eq!(err.offset(), Some(bad));
    assert!(err.to_string().contains("failing.img"), "{err}");
    assert!(err.to_string().contains(&bad.to_string()), "{err}");
    let err = cache.read_at(bad, &mut buf[..1]).unwrap_err();
    assert_eq!(err.offset(), Some(bad), "not cached after failing");
    assert_eq!(cache.read_at(0, &mut buf).unwrap(), 10_000);

    // Through a slice: the offset stays the underlying image's.
    let slice = Slice::new(&cache, 200_000, 500_000);
    let err = slice.read_at(bad - 200_000, &mut buf[..100]).unwrap_err();
    assert_eq!(err.offset(), Some(bad));

    // Through Read: an io::Error carrying the ImageError.
    let mut reader = ImageReader::new(&slice);
    reader.seek(SeekFrom::Start(bad - 200_000 - 5)).unwrap();
    let io_err = reader.read_exact(&mut [0u8; 64]).unwrap_err();
    let inner = io_err
        .get_ref()
        .and_then(|e| e.downcast_ref::<ImageError>())
        .expect("ImageError inside");
    assert_eq!(inner.offset(), Some(bad));
    assert!(io_err.to_string().contains(&bad.to_string()));
}

#[test]
fn slices_keep_to_their_window() {
    let img = random_image(10_000, 11);
    let mut whole = vec![0u8; 10_000];
    img.read_at(0, &mut whole).unwrap();
    let slice = Slice::new(&img, 1000, 2000);
    assert_eq!(slice.size(), 2000);
    let mut buf = vec![0u8; 5000];
    assert_eq!(slice.read_at(0, &mut buf).unwrap(), 2000);
    assert_eq!(buf[..2000], whole[1000..3000]);
    assert_eq!(slice.read_at(1999, &mut buf).unwrap(), 1);
    assert_eq!(slice.read_at(2000, &mut buf).unwrap(), 0);
    let mut reader = ImageReader::new(&slice);
    let mut all = Vec::new();
    reader.read_to_end(&mut all).unwrap();
    assert_eq!(all, whole[1000..3000]);
    // A partition running past the end of the image is cut, and says so.
    let cut = Slice::new(&img, 9000, 4000);
    assert!(cut.is_truncated());
    assert_eq!((cut.size(), cut.declared_len()), (1000, 4000));
    assert_eq!(cut.read_at(500, &mut buf).unwrap(), 500);
    assert_eq!(buf[..500], whole[9500..]);
    // Random reads against the same window of the whole.
    let window = MemoryImage::new(whole[1000..3000].to_vec());
    same_random_reads(&window, &slice, 2000, 3000, 17);
}

// ---------------------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------------------

#[test]
fn corpus_disks_open_as_raw() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ntfs/dfir_ntfs");
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = HashSet::new();
    for name in ["gpt-512-3p.raw.gz", "mbr-512-p1e2.bin.gz"] {
        let src = corpus.join(name);
        if !src.exists() {
            eprintln!("skipped: corpus file {} is absent", src.display());
            continue;
        }
        let dst = tmp.path().join(name.trim_end_matches(".gz"));
        if !gunzip(&src, &dst) {
            return;
        }
        let img = open_image(&dst).unwrap();
        assert_eq!(img.describe(), "raw");
        let bytes = std::fs::read(&dst).unwrap();
        assert_eq!(img.size(), bytes.len() as u64);
        assert_eq!(image_sha256(&img, 65536), hex(&Sha256::digest(&bytes)));
        let mut sector = [0u8; 512];
        img.read_at(0, &mut sector).unwrap();
        assert_eq!(sector[510..], [0x55, 0xAA], "{name}: boot signature");
        seen.insert(name);
    }
    eprintln!("corpus disks checked: {seen:?}");
}

#[test]
fn e01_with_a_forged_table_is_an_error_not_a_panic() {
    let e01 = std::fs::read(fixtures().join("gpt.E01")).unwrap();
    // The table section's base offset (descriptor + 76 + 8): forge it so every entry's
    // offset overflows, in `table` and `table2` alike. The crate (0.4.10) panics on
    // this in its lazy table (index out of bounds); that must come back as an error.
    let mut forged = e01.clone();
    let mut off = 13usize;
    let mut patched = 0;
    while off + 76 <= forged.len() {
        let kind = forged[off..off + 16].to_vec();
        let next = u64::from_le_bytes(forged[off + 16..off + 24].try_into().unwrap()) as usize;
        if kind.starts_with(b"table") {
            forged[off + 84..off + 92].copy_from_slice(&(u64::MAX - 10).to_le_bytes());
            // With a valid header checksum, so that only the crate can object.
            let sum = ewf::sections::adler32(&forged[off + 76..off + 96]);
            forged[off + 96..off + 100].copy_from_slice(&sum.to_le_bytes());
            patched += 1;
        }
        if next <= off {
            break;
        }
        off = next;
    }
    assert_eq!(patched, 2);
    let tmp = e01_subset(&["gpt.E02", "gpt.E03"]);
    let path = tmp.path().join("gpt.E01");
    std::fs::write(&path, forged).unwrap();
    let mut buf = vec![0u8; 4096];
    match EwfImage::open(&path) {
        Err(e) => eprintln!("refused at open: {e}"),
        Ok(img) => {
            let err = img.read_at(0, &mut buf).unwrap_err();
            assert_eq!(err.offset(), Some(0), "{err}");
            eprintln!("refused at read: {err}");
        }
    }
    // Random damage to the first segment's headers, first chunks and tables: each read
    // is an error or the right bytes, and nothing panics.
    let good = EwfImage::open(&fixtures().join("gpt.E01")).unwrap();
    let mut right = vec![0u8; 4096];
    let mut rng = XorShift(0xdead_beef);
    let (mut opened, mut failed_reads) = (0, 0);
    for _ in 0..60 {
        let mut bytes = e01.clone();
        for _ in 0..3 {
            let at = rng.below(2600) as usize; // headers, volume, first chunks
            bytes[at] ^= 1 << rng.below(8);
        }
        let at = 1_039_827 + rng.below(1900) as usize; // the table sections
        bytes[at] ^= 1 << rng.below(8);
        std::fs::write(&path, &bytes).unwrap();
        let Ok(img) = EwfImage::open(&path) else {
            continue;
        };
        opened += 1;
        for offset in [0u64, 16384, 3 * MIB, 5 * MIB] {
            match img.read_at(offset, &mut buf) {
                Ok(n) => {
                    good.read_at(offset, &mut right).unwrap();
                    assert_eq!(buf[..n], right[..n], "wrong bytes at {offset}");
                }
                Err(_) => failed_reads += 1,
            }
        }
    }
    eprintln!("damaged E01s opened: {opened}, failed reads: {failed_reads}");
}

/// The SHA-256 the fixtures README records for `name`.
fn readme(name: &str) -> String {
    readme_sha256(&fixtures().join("README.md"), name)
}
