//! `--no-hash` reads only what a reader needs (#18 item 4): a 2 GiB peer-cache file is
//! listed with its size and times, but barely read. Measured with this process's own
//! read counter (`/proc/self/io` `rchar`: bytes passed by read calls, page cache or
//! not), so this file holds one test that scans: nothing else reads meanwhile.

use std::path::{Path, PathBuf};

use netsession_scan::{AnalysisOptions, Catalog, Warnings, detect_inputs, scan};

/// Bytes this process has read so far, or `None` off Linux.
fn bytes_read() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
}

/// A per-user install with a peer-cache file of `cache_size` bytes (sparse).
fn tree(dir: &Path, cache_size: u64) -> PathBuf {
    let root = dir.join("C");
    let akamai = root.join("Users/alice/AppData/Local/Akamai");
    std::fs::create_dir_all(akamai.join("Cache/0a")).unwrap();
    std::fs::create_dir_all(root.join("Windows/System32/config")).unwrap();
    std::fs::write(akamai.join("netsession_win.exe"), b"MZ not really").unwrap();
    let cache = std::fs::File::create(akamai.join("Cache/0a/3f9e2b.dat")).unwrap();
    cache.set_len(cache_size).unwrap();
    root
}

/// Bytes read by a scan of `root`, and the size its cache row states.
fn scan_reads(root: &Path, hash: bool) -> (u64, String) {
    let catalog = Catalog::embedded().unwrap();
    let inputs = detect_inputs(&[root.to_path_buf()]).unwrap();
    let options = AnalysisOptions {
        hash,
        ..AnalysisOptions::default()
    };
    let before = bytes_read().unwrap();
    let report = scan(&inputs, &catalog, &options, &Warnings::new());
    let read = bytes_read().unwrap() - before;
    let rows = report.rows.to_vec().unwrap();
    let cache = rows
        .iter()
        .find(|r| r.artifact == "cache.file")
        .unwrap_or_else(|| panic!("no cache row: {rows:#?}"));
    let size = cache.size.map(|s| s.to_string()).unwrap_or_default();
    if !hash {
        assert!(cache.sha256.is_empty(), "hashed with --no-hash");
    }
    (read, size)
}

#[test]
fn no_hash_does_not_read_a_big_cache_file() {
    if bytes_read().is_none() {
        eprintln!("skipped: no /proc/self/io here");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // The counter sees a file being read: with hashing, all 64 MiB of a cache file are.
    let small = tree(&tmp.path().join("small"), 64 << 20);
    let (read, size) = scan_reads(&small, true);
    assert_eq!(size, (64u64 << 20).to_string());
    assert!(read >= 64 << 20, "only {read} bytes read with hashing on");

    let big = tree(&tmp.path().join("big"), 2 << 30);
    let (read, size) = scan_reads(&big, false);
    assert_eq!(size, (2u64 << 30).to_string());
    assert!(
        read < 1 << 20,
        "{read} bytes read with --no-hash for a 2 GiB cache file"
    );
}
