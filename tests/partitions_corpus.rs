//! Partition tables of the disk images in the shared corpus, read with
//! `partitions::read_partitions` over a plain file, checked against values found
//! with sleuthkit's `mmls` (hard-coded here, so machines without sleuthkit check them too)
//! and, where `mmls` is installed, against its output at run time.
//!
//! The corpus lives beside the repo (`../shared/corpus`, or `$NETSESSION_CORPUS`); the
//! tests skip, saying so, when it is absent or when `gzip`/`tar` are missing.

mod common;
use common::corpus_dir;

use netsession_scan::internals::partitions::{PartitionTable, Scheme, read_partitions};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `gzip -dc file.gz > into/name`; None (with a message) when gzip is missing or fails.
fn gunzip(gz: &Path, into: &Path) -> Option<PathBuf> {
    let name = gz.file_stem()?.to_owned();
    let out_path = into.join(name);
    let out = File::create(&out_path).ok()?;
    match Command::new("gzip").arg("-dc").arg(gz).stdout(out).status() {
        Ok(s) if s.success() => Some(out_path),
        Ok(s) => {
            eprintln!("skipped {}: gzip failed ({s})", gz.display());
            None
        }
        Err(e) => {
            eprintln!("skipped {}: no gzip ({e})", gz.display());
            None
        }
    }
}

/// Extract one member of a tar archive (compression detected by tar; sparse files kept
/// sparse), giving up when it takes longer than `limit` or fills more than `max_bytes`.
fn untar(archive: &Path, member: &str, into: &Path, limit: Duration) -> Option<PathBuf> {
    const MAX_BYTES: u64 = 512 << 20;
    let mut child = match Command::new("tar")
        .arg("-xSf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .arg(member)
        .stdout(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipped {}: no tar ({e})", archive.display());
            return None;
        }
    };
    let out_path = into.join(member);
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => return Some(out_path),
            Ok(Some(s)) => {
                eprintln!("skipped {}: tar failed ({s})", archive.display());
                return None;
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("skipped {}: waiting for tar: {e}", archive.display());
                return None;
            }
        }
        let used = std::fs::metadata(&out_path)
            .map(|m| m.blocks() * 512)
            .unwrap_or(0);
        if started.elapsed() > limit || used > MAX_BYTES {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!(
                "skipped {}: extraction took over {limit:?} or {MAX_BYTES} bytes of disk",
                archive.display()
            );
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_image(path: &Path) -> PartitionTable {
    let file = File::open(path).unwrap();
    let size = file.metadata().unwrap().len();
    let read = move |off: u64, buf: &mut [u8]| file.read_at(buf, off).map_err(|e| e.to_string());
    read_partitions(&read, size)
}

/// (start, length) in bytes of every allocated (non-meta) partition, from `mmls`.
/// None when mmls is not installed.
fn mmls(path: &Path) -> Option<Vec<(u64, u64)>> {
    let out = match Command::new("mmls").arg(path).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("mmls comparison skipped: no mmls ({e})");
            return None;
        }
    };
    assert!(out.status.success(), "mmls {} failed", path.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut unit = 512u64;
    let mut spans = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Units are in ") {
            unit = rest
                .split('-')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("mmls unit line");
            continue;
        }
        // "004:  000       0000000034   0000000064   0000000031   Linux filesystem"
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [index, slot, start, _end, length, ..] = fields.as_slice() else {
            continue;
        };
        if !index.ends_with(':') || index.trim_end_matches(':').parse::<u32>().is_err() {
            continue;
        }
        if *slot == "Meta" || slot.starts_with("---") {
            continue;
        }
        let start: u64 = start.parse().expect("mmls start");
        let length: u64 = length.parse().expect("mmls length");
        spans.push((start * unit, length * unit));
    }
    spans.sort();
    Some(spans)
}

/// Our allocated partitions (extended containers are mmls's "Meta") as sorted spans.
fn spans(t: &PartitionTable) -> Vec<(u64, u64)> {
    let mut s: Vec<(u64, u64)> = t
        .partitions
        .iter()
        .filter(|p| !p.is_extended())
        .map(|p| (p.start, p.length))
        .collect();
    s.sort();
    s
}

/// Check one image: the expected partitions (number, start sector, sectors, type_code,
/// filesystem), then mmls's view where mmls is installed.
fn check(path: &Path, scheme: Scheme, expected: &[(u32, u64, u64, &str, &str)]) -> PartitionTable {
    let t = read_image(path);
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    assert_eq!(t.scheme, Some(scheme), "{name}");
    assert_eq!(t.sector_size, 512, "{name}");
    assert!(t.problems.is_empty(), "{name}: {:?}", t.problems);
    let got: Vec<(u32, u64, u64, &str, &str)> = t
        .partitions
        .iter()
        .map(|p| {
            (
                p.number,
                p.start / 512,
                p.length / 512,
                p.type_code.as_str(),
                p.filesystem.as_str(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{name}");
    if let Some(from_mmls) = mmls(path) {
        assert_eq!(spans(&t), from_mmls, "{name}: ours vs mmls");
        eprintln!("{name}: {} partitions, same as mmls", from_mmls.len());
    }
    t
}

const LINUX_FS: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const EFI_SYSTEM: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const MS_RESERVED: &str = "E3C9E316-0B5C-4DB8-817D-F92DF00215AE";
const BASIC_DATA: &str = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";

#[test]
fn gpt_512_3p() {
    let Some(dir) = corpus_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = gunzip(&dir.join("gpt-512-3p.raw.gz"), tmp.path()) else {
        return;
    };
    let t = check(
        &img,
        Scheme::Gpt,
        &[
            (1, 34, 31, LINUX_FS, "unknown"),
            (2, 65, 64, LINUX_FS, "unknown"),
            (3, 129, 1886, EFI_SYSTEM, "unknown"),
        ],
    );
    let names: Vec<&str> = t.partitions.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["Linux filesystem", "Linux filesystem", "EFI System"]
    );
    let types: Vec<&str> = t.partitions.iter().map(|p| p.type_name.as_str()).collect();
    assert_eq!(
        types,
        ["Linux filesystem", "Linux filesystem", "EFI system"]
    );
}

#[test]
fn mbr_512_p1e2() {
    let Some(dir) = corpus_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = gunzip(&dir.join("mbr-512-p1e2.bin.gz"), tmp.path()) else {
        return;
    };
    // Slot 1: extended at sector 1; slot 2: Linux; two logicals in the chain.
    let t = check(
        &img,
        Scheme::Mbr,
        &[
            (1, 1, 1024, "0x05", "unknown"),
            (2, 1025, 1023, "0x83", "unknown"),
            (5, 2, 511, "0x83", "unknown"),
            (6, 514, 511, "0x83", "unknown"),
        ],
    );
    assert_eq!(t.partitions[0].type_name, "extended (0x05)");
    assert_eq!(t.partitions[1].type_name, "Linux (0x83)");
}

#[test]
fn ntfs_index_mbr() {
    let Some(dir) = corpus_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = gunzip(&dir.join("ntfs_index.raw.gz"), tmp.path()) else {
        return;
    };
    let t = check(&img, Scheme::Mbr, &[(1, 128, 59392, "0x07", "NTFS")]);
    assert_eq!(t.partitions[0].type_name, "NTFS/exFAT/HPFS (0x07)");
}

#[test]
fn mbr_win_512() {
    let Some(dir) = corpus_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // Named .tgz but a plain tar: let tar detect the compression.
    let Some(img) = untar(
        &dir.join("mbr-win-512.raw.tgz"),
        "mbr-win-512.raw",
        tmp.path(),
        Duration::from_secs(30),
    ) else {
        return;
    };
    // Three FAT16 primaries, an extended partition in slot 4, five logicals (unformatted).
    check(
        &img,
        Scheme::Mbr,
        &[
            (1, 128, 16384, "0x06", "unknown"),
            (2, 16512, 16384, "0x06", "unknown"),
            (3, 32896, 16384, "0x06", "unknown"),
            (4, 49280, 471040, "0x05", "unknown"),
            (5, 49408, 16384, "0x06", "unknown"),
            (6, 65920, 16384, "0x06", "unknown"),
            (7, 82432, 16384, "0x06", "unknown"),
            (8, 98944, 417792, "0x06", "unknown"),
        ],
    );
}

#[test]
fn vss_1_vol_sparse_gpt() {
    let Some(dir) = corpus_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // A 5 GiB sparse disk: about 11 MB really written, extracted in well under a second.
    let Some(img) = untar(
        &dir.join("vss_1_vol.tar.gz"),
        "vss_1_vol.raw",
        tmp.path(),
        Duration::from_secs(30),
    ) else {
        return;
    };
    let t = check(
        &img,
        Scheme::Gpt,
        &[
            (1, 34, 65536, MS_RESERVED, "unknown"),
            (2, 67584, 10416128, BASIC_DATA, "NTFS"),
        ],
    );
    let p = &t.partitions;
    assert_eq!(p[0].type_name, "MS reserved");
    assert_eq!(p[0].name, "Microsoft reserved partition");
    assert_eq!(p[1].type_name, "Microsoft basic data");
    assert_eq!(p[1].name, "Basic data partition");
}
