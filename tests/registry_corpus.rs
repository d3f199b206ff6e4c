//! Every real-world hive in the shared corpus: the scan finishes (exit 0), finds no
//! NetSession trace, never panics, and reports damage as warnings.
//!
//! The corpus lives beside the repo (`../shared/corpus`, or `$NETSESSION_CORPUS`); the
//! tests skip, saying so, when it is absent. xz-compressed hives are unpacked with `xz`
//! into a temporary folder (skipped when `xz` is missing).

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("NETSESSION_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("hives").is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: no corpus at {}", dir.display());
        None
    }
}

/// Unpack `hives/regipy/*.xz` into `into`, keeping names (minus `.xz`).
fn unpack_regipy(corpus: &Path, into: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(corpus.join("hives/regipy")) else {
        return out;
    };
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".xz") else {
            continue;
        };
        let Ok(output) = std::process::Command::new("xz")
            .arg("-dc")
            .arg(&path)
            .output()
        else {
            eprintln!("skipped regipy hives: xz not installed");
            return Vec::new();
        };
        assert!(output.status.success(), "xz failed on {name}");
        let target = into.join(stem);
        std::fs::write(&target, output.stdout).unwrap();
        out.push(target);
    }
    out
}

fn scan_one(hive: &Path) -> (Option<i32>, Vec<Row>, String) {
    let out = run_on(hive, &["-q"]);
    let rows = if out.stdout.is_empty() {
        Vec::new()
    } else {
        parse_csv(&out.stdout)
    };
    (out.status.code(), rows, stderr(&out))
}

#[test]
fn yarp_hives_give_no_rows_and_no_panic() {
    let Some(corpus) = corpus() else { return };
    let yarp = corpus.join("hives/yarp");
    let mut files: Vec<PathBuf> = walk_files(&yarp);
    files.sort();
    assert!(files.len() > 10, "corpus incomplete: {files:?}");
    for file in files {
        let (code, rows, err) = scan_one(&file);
        assert!(
            code == Some(0) || code == Some(2),
            "{}: exit {code:?}: {err}",
            file.display()
        );
        assert!(!err.contains("panicked"), "{}: {err}", file.display());
        assert!(
            rows.is_empty(),
            "{}: NetSession rows in a clean hive: {rows:?}",
            file.display()
        );
        if code == Some(2) {
            assert_eq!(err.lines().count(), 1, "{}: {err}", file.display());
        }
        eprintln!(
            "{}: exit {code:?}, {} warning line(s)",
            file.display(),
            err.lines().filter(|l| l.starts_with("warning")).count()
        );
    }
}

#[test]
fn damaged_yarp_hives_are_warnings() {
    let Some(corpus) = corpus() else { return };
    let yarp = corpus.join("hives/yarp");
    for damaged in [
        "BadLogHive1/BadLogHive",
        "BadLogHive3/BadLogHive",
        "TruncatedDirtyHive",
    ] {
        let (code, _, err) = scan_one(&yarp.join(damaged));
        assert_eq!(code, Some(0), "{damaged}: {err}");
        assert!(
            err.lines().any(|l| l.starts_with("warning: ")),
            "{damaged}: no warning: {err}"
        );
    }
}

#[test]
fn regipy_hives_give_no_rows_and_no_panic() {
    let Some(corpus) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let hives = unpack_regipy(&corpus, tmp.path());
    for hive in &hives {
        let (code, rows, err) = scan_one(hive);
        assert!(
            code == Some(0) || code == Some(2),
            "{}: exit {code:?}: {err}",
            hive.display()
        );
        assert!(!err.contains("panicked"), "{}: {err}", hive.display());
        assert!(rows.is_empty(), "{}: rows: {rows:?}", hive.display());
    }
    // The dirty hive without logs says so.
    if let Some(dirty) = hives.iter().find(|h| h.ends_with("SYSTEM_WIN_10_1709")) {
        let (_, _, err) = scan_one(dirty);
        assert!(err.contains("no usable transaction log"), "{err}");
    }
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk_files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
