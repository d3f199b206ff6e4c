//! A small Prefetch writer for tests: uncompressed (`SCCA`) files of format version 17,
//! 23, 26, 30 (file information variant 2, as Windows 10 from 1903 on writes it) or 31
//! (Windows 11, laid out as 30's variant 2), laid out as Windows lays them out:
//!
//! - the 84-byte header (version, `SCCA`, 0x0F or 0x11, file size, executable name,
//!   hash), then the file information (68, 156, 220 or 212 bytes) with the section
//!   offsets, the last run time(s) and the run count at each version's place;
//! - the file metrics array right after it (20-byte entries in 17, 32 from 23 on), one
//!   entry per file name pointing at its string (offset, length without the NUL);
//! - a trace chains array of one single-entry chain per metrics entry (12 bytes, 8 from
//!   30 on);
//! - the filename strings (UTF-16LE, NUL-ended), padded to 8 bytes;
//! - the volumes information: the entries (40, 104 or 96 bytes), then for each volume its
//!   device path (NUL-ended), its file references header (no references) and its
//!   directory strings (u16 length, characters, NUL).
#![allow(dead_code)] // each test file uses a different subset

/// One volume of the volumes information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    pub device_path: String,
    pub serial: u32,
    /// FILETIME.
    pub created: u64,
    pub directories: Vec<String>,
}

/// What the written file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefetchSpec {
    /// 17, 23, 26, 30 or 31.
    pub version: u32,
    pub executable: String,
    pub hash: u32,
    pub run_count: u32,
    /// FILETIMEs, newest first: one is kept in 17 and 23, up to eight from 26 on.
    pub last_runs: Vec<u64>,
    pub files: Vec<String>,
    pub volumes: Vec<VolumeSpec>,
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn pad8(b: &mut Vec<u8>) {
    while !b.len().is_multiple_of(8) {
        b.push(0);
    }
}

/// (file information size, last run offset, slots, run count offset, metrics entry size,
/// trace entry size, volume entry size) of a version.
fn layout(version: u32) -> (usize, usize, usize, usize, usize, usize, usize) {
    match version {
        17 => (68, 36, 1, 60, 20, 12, 40),
        23 => (156, 44, 1, 68, 32, 12, 104),
        26 => (220, 44, 8, 124, 32, 12, 104),
        30 | 31 => (212, 44, 8, 116, 32, 8, 96),
        v => panic!("the writer does not write version {v}"),
    }
}

/// The bytes of an uncompressed Prefetch file for `spec`.
pub fn write_prefetch(spec: &PrefetchSpec) -> Vec<u8> {
    let (fi_size, runs_at, slots, count_at, metric_size, trace_size, vol_size) =
        layout(spec.version);
    let mut b = vec![0u8; 84 + fi_size];
    put32(&mut b, 0, spec.version);
    b[4..8].copy_from_slice(b"SCCA");
    put32(&mut b, 8, if spec.version == 17 { 0x0F } else { 0x11 });
    let name = utf16(&spec.executable);
    assert!(name.len() <= 58, "executable name over 29 characters");
    b[16..16 + name.len()].copy_from_slice(&name);
    put32(&mut b, 76, spec.hash);
    let fi = 84;
    for (i, &t) in spec.last_runs.iter().take(slots).enumerate() {
        put64(&mut b, fi + runs_at + 8 * i, t);
    }
    put32(&mut b, fi + count_at, spec.run_count);

    // File metrics: one entry per file name.
    let metrics_at = b.len();
    let mut name_offset = 0usize;
    for (i, f) in spec.files.iter().enumerate() {
        let mut e = vec![0u8; metric_size];
        let chars = f.encode_utf16().count() as u32;
        let name_at = if spec.version == 17 { 8 } else { 12 };
        put32(&mut e, 0, i as u32); // first trace chain entry
        put32(&mut e, 4, 1); // trace chain entries
        put32(&mut e, name_at, name_offset as u32);
        put32(&mut e, name_at + 4, chars);
        put32(&mut e, name_at + 8, 0x0200);
        b.extend_from_slice(&e);
        name_offset += 2 * chars as usize + 2;
    }
    // Trace chains: one one-entry chain per file.
    let trace_at = b.len();
    for _ in &spec.files {
        let mut e = vec![0u8; trace_size];
        if trace_size == 12 {
            put32(&mut e, 0, u32::MAX);
            put32(&mut e, 4, 1);
            e[8] = 2;
            e[9] = 1;
            e[10..12].copy_from_slice(&1u16.to_le_bytes());
        } else {
            put32(&mut e, 0, 1);
            e[4] = 2;
            e[5] = 1;
            e[6..8].copy_from_slice(&1u16.to_le_bytes());
        }
        b.extend_from_slice(&e);
    }
    // Filename strings.
    let strings_at = b.len();
    for f in &spec.files {
        b.extend_from_slice(&utf16(f));
        b.extend_from_slice(&[0, 0]);
    }
    let strings_size = b.len() - strings_at;
    pad8(&mut b);
    // Volumes information.
    let volumes_at = b.len();
    let mut section = vec![0u8; vol_size * spec.volumes.len()];
    for (i, v) in spec.volumes.iter().enumerate() {
        let e = i * vol_size;
        let path_at = section.len();
        section.extend_from_slice(&utf16(&v.device_path));
        section.extend_from_slice(&[0, 0]);
        pad8(&mut section);
        let refs_at = section.len();
        section.extend_from_slice(&(if spec.version == 17 { 1u32 } else { 3 }).to_le_bytes());
        section.extend_from_slice(&0u32.to_le_bytes());
        if spec.version != 17 {
            section.extend_from_slice(&[0; 8]);
        }
        let refs_size = section.len() - refs_at;
        let dirs_at = section.len();
        for d in &v.directories {
            section.extend_from_slice(&(d.encode_utf16().count() as u16).to_le_bytes());
            section.extend_from_slice(&utf16(d));
            section.extend_from_slice(&[0, 0]);
        }
        pad8(&mut section);
        put32(&mut section, e, path_at as u32);
        put32(
            &mut section,
            e + 4,
            v.device_path.encode_utf16().count() as u32,
        );
        put64(&mut section, e + 8, v.created);
        put32(&mut section, e + 16, v.serial);
        put32(&mut section, e + 20, refs_at as u32);
        put32(&mut section, e + 24, refs_size as u32);
        put32(&mut section, e + 28, dirs_at as u32);
        put32(&mut section, e + 32, v.directories.len() as u32);
        if spec.version != 17 {
            let copy_at = if spec.version >= 30 { 64 } else { 68 };
            put32(&mut section, e + copy_at, v.directories.len() as u32);
        }
    }
    let volumes_size = section.len();
    b.extend_from_slice(&section);

    for (at, v) in [
        (0, metrics_at),
        (4, spec.files.len()),
        (8, trace_at),
        (12, spec.files.len()),
        (16, strings_at),
        (20, strings_size),
        (24, volumes_at),
        (28, spec.volumes.len()),
        (32, volumes_size),
    ] {
        put32(&mut b, fi + at, v as u32);
    }
    let len = b.len() as u32;
    put32(&mut b, 12, len);
    b
}

/// The file information's offset of the volumes information (for damage tests).
pub const VOLUMES_OFFSET_FIELD: usize = 84 + 24;
