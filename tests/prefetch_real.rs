//! Real Prefetch files (`fixtures/prefetch/real/`, sources and licences in its
//! SOURCES.md) read by our reader give what an independent reader, `sccainfo`
//! (libscca-utils), gives: version, executable, hash, run count, last run times, the file
//! name list and the volumes (device path, creation time, serial). Its output is stored
//! in `fixtures/prefetch/expected/` (`fixtures/prefetch/make_expected.sh`) and, where
//! sccainfo is installed, also taken live.
//!
//! `PREFETCH_CORPUS=/folder cargo test --test prefetch_real -- --nocapture` checks every
//! Prefetch file below a folder the same way (skipped, saying so, when unset or when
//! sccainfo is missing). Measured 2026-12-05 on the DFIRArtifactMuseum and plaso
//! Prefetch folders: all 1804 files of versions 17 to 31 equal (1135 of them version 30
//! MAM-compressed, 435 version 31).
//!
//! Damage: a real uncompressed sample cut at every length and with bytes changed at every
//! offset is read to an `Ok` or an `Err`, never a panic.

mod common;

use std::path::{Path, PathBuf};

use common::sccainfo::{
    SccaSummary, difference, parse_sccainfo, run_reference, sccainfo_installed, summary_of,
};
use netsession_scan::internals::content::prefetch::{Prefetch, file, parse};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/prefetch")
}

/// Every file below `dir` that starts like a Prefetch file (`MAM\x04`, or `SCCA` at 4).
fn prefetch_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            prefetch_files(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path)
            && (bytes.starts_with(b"MAM\x04") || bytes.get(4..8) == Some(b"SCCA"))
        {
            out.push(path);
        }
    }
}

/// Our reading of a file.
fn read_ours(path: &Path) -> Result<Prefetch, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    parse(&bytes).map_err(|e| e.to_string())
}

/// The committed samples and their stored sccainfo text.
fn committed_samples() -> Vec<(PathBuf, PathBuf)> {
    let real = fixtures().join("real");
    let mut files = Vec::new();
    prefetch_files(&real, &mut files);
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(&real).unwrap().to_path_buf();
            let mut expected = fixtures().join("expected").join(&rel).into_os_string();
            expected.push(".sccainfo.txt");
            (f, PathBuf::from(expected))
        })
        .collect()
}

#[test]
fn committed_samples_equal_stored_sccainfo() {
    let samples = committed_samples();
    assert!(samples.len() >= 5, "samples: {samples:?}");
    let mut versions = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for (sample, expected) in &samples {
        let text = std::fs::read_to_string(expected)
            .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
        let theirs = parse_sccainfo(&text).unwrap();
        versions.insert(theirs.version);
        match parse(&std::fs::read(sample).unwrap()) {
            Ok(pf) => {
                if let Some(d) = difference(&summary_of(&pf), &theirs) {
                    failures.push(format!("{}: {d}", sample.display()));
                }
                assert!(
                    pf.problems.is_empty(),
                    "{}: {:?}",
                    sample.display(),
                    pf.problems
                );
                assert_eq!(
                    pf.compressed,
                    std::fs::read(sample).unwrap().starts_with(b"MAM")
                );
            }
            Err(e) => failures.push(format!("{}: {e}", sample.display())),
        }
        if let Some(Ok(live)) = run_reference(sample) {
            assert_eq!(
                parse_sccainfo(&live).unwrap(),
                theirs,
                "{}",
                sample.display()
            );
        }
    }
    assert_eq!(
        versions.into_iter().collect::<Vec<_>>(),
        [17, 23, 26, 30, 31]
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The committed uncompressed samples, read with `parse_decompressed` (no decompressor
/// needed).
#[test]
fn committed_uncompressed_samples_read_directly() {
    let mut n = 0;
    for (sample, expected) in committed_samples() {
        let bytes = std::fs::read(&sample).unwrap();
        if bytes.starts_with(b"MAM") {
            continue;
        }
        let theirs = parse_sccainfo(&std::fs::read_to_string(&expected).unwrap()).unwrap();
        let pf = file::parse_decompressed(&bytes).unwrap();
        assert_eq!(
            difference(&summary_of(&pf), &theirs),
            None,
            "{}",
            sample.display()
        );
        assert!(!pf.compressed);
        n += 1;
    }
    assert!(n >= 3);
}

#[test]
fn corpus_equals_sccainfo() {
    let Some(dir) = std::env::var_os("PREFETCH_CORPUS") else {
        println!("PREFETCH_CORPUS not set: corpus check skipped");
        return;
    };
    if !sccainfo_installed() {
        println!("sccainfo not installed: corpus check skipped");
        return;
    }
    let mut files = Vec::new();
    prefetch_files(Path::new(&dir), &mut files);
    let mut per_version: std::collections::BTreeMap<u32, (usize, usize)> = Default::default();
    let (mut matched, mut mismatched, mut refused_both) = (0, Vec::new(), 0);
    let mut with_problems = 0;
    for path in &files {
        let theirs: Result<SccaSummary, String> = run_reference(path)
            .unwrap()
            .and_then(|t| parse_sccainfo(&t));
        let ours = read_ours(path);
        match (&ours, &theirs) {
            (Ok(pf), Ok(t)) => {
                let entry = per_version.entry(t.version).or_default();
                if !pf.problems.is_empty() {
                    with_problems += 1;
                    println!("problems {}: {:?}", path.display(), pf.problems);
                }
                match difference(&summary_of(pf), t) {
                    None => {
                        matched += 1;
                        entry.0 += 1;
                    }
                    Some(d) => {
                        entry.1 += 1;
                        mismatched.push(format!("{}: {d}", path.display()));
                    }
                }
            }
            (Err(_), Err(_)) => refused_both += 1,
            (Ok(_), Err(e)) => {
                mismatched.push(format!("{}: sccainfo refused: {e}", path.display()))
            }
            (Err(e), Ok(_)) => mismatched.push(format!("{}: we refused: {e}", path.display())),
        }
    }
    println!(
        "prefetch corpus {}: {} files, {matched} matched, {} mismatched, {refused_both} \
         refused by both, {with_problems} with problems",
        Path::new(&dir).display(),
        files.len(),
        mismatched.len()
    );
    for (v, (ok, bad)) in &per_version {
        println!("  version {v}: {ok} matched, {bad} mismatched");
    }
    for m in &mismatched {
        println!("  MISMATCH {m}");
    }
    assert!(mismatched.is_empty(), "{} mismatched", mismatched.len());
}

/// A real uncompressed sample cut at every length, and with four bytes inverted or set to
/// 0xFF at every offset: always `Ok` or `Err`, never a panic; a cut after the file
/// information keeps the run count.
#[test]
fn damaged_real_sample_never_panics() {
    let bytes = std::fs::read(fixtures().join("real/v23/SVCHOST.EXE-18D06B2E.pf")).unwrap();
    let whole = file::parse_decompressed(&bytes).unwrap();
    for len in 0..bytes.len() {
        match parse(&bytes[..len]) {
            Ok(pf) => {
                assert!(len >= 84 + 156, "read a cut header at {len}");
                assert_eq!(pf.run_count, whole.run_count);
                assert_eq!(pf.last_runs, whole.last_runs);
                assert!(!pf.problems.is_empty(), "cut at {len} without a problem");
            }
            Err(_) => assert!(len < 84 + 156, "refused a file cut at {len}"),
        }
    }
    for at in 0..bytes.len() {
        for mutate in [|b: u8| !b, |_| 0xFF] {
            let mut damaged = bytes.clone();
            let end = (at + 4).min(damaged.len());
            for b in &mut damaged[at..end] {
                *b = mutate(*b);
            }
            let _ = parse(&damaged);
        }
    }
}
