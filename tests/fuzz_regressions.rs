//! Inputs the fuzzers found (`fuzz/regressions/<target>/`, each named after what it
//! reproduces), replayed through the same library calls as the fuzz targets: each must
//! end without an uncaught panic, and its damage must be reported as a warning.

use std::path::{Path, PathBuf};

use netsession_scan::registry::hive::HiveInput;
use netsession_scan::{Catalog, Warnings};

fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// As `fuzz/fuzz_targets/hive.rs`: 4-byte length of the hive, the hive, then a log.
fn hive_input(data: &[u8]) -> HiveInput {
    let (len, rest) = data.split_at(4.min(data.len()));
    let len = u32::from_le_bytes(len.try_into().unwrap_or([0; 4])) as usize;
    let (hive, log) = rest.split_at(len.min(rest.len()));
    HiveInput {
        bytes: hive.to_vec(),
        logs: if log.is_empty() {
            Vec::new()
        } else {
            vec![("NTUSER.DAT.LOG1".to_string(), log.to_vec())]
        },
        evidence_path: "NTUSER.DAT".into(),
        source: "regression".into(),
        user_hint: Some("regression".into()),
        sha256: String::new(),
    }
}

#[test]
fn hive_regressions_end_with_warnings_not_panics() {
    let files = regressions("hive");
    assert!(!files.is_empty(), "fuzz/regressions/hive is empty");
    let catalog = Catalog::embedded().unwrap();
    for file in files {
        let data = std::fs::read(&file).unwrap();
        let warnings = Warnings::new();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            netsession_scan::registry::analyze_hives(&[hive_input(&data)], &catalog, &warnings)
        }));
        assert!(result.is_ok(), "{}: uncaught panic", file.display());
        assert!(
            !warnings.snapshot().is_empty(),
            "{}: damage not reported",
            file.display()
        );
    }
}
