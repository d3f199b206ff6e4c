//! Inputs the fuzzers found (`fuzz/regressions/<target>/`, each named after what it
//! reproduces), replayed through the same library calls as the fuzz targets: each must
//! end without an uncaught panic, and its damage must be reported as a warning.

use std::path::{Path, PathBuf};

use netsession_scan::internals::registry::hive::HiveInput;
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
            netsession_scan::internals::registry::analyze_hives(
                &[hive_input(&data)],
                &catalog,
                &warnings,
            )
        }));
        assert!(result.is_ok(), "{}: uncaught panic", file.display());
        assert!(
            !warnings.snapshot().is_empty(),
            "{}: damage not reported",
            file.display()
        );
    }
}

/// A regression input, unpacked when stored gzip-compressed (`None`, saying so, without
/// gzip).
fn input_bytes(file: &Path) -> Option<Vec<u8>> {
    if file.extension().is_some_and(|e| e == "gz") {
        let Ok(out) = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(file)
            .output()
        else {
            eprintln!("skipped {}: gzip not installed", file.display());
            return None;
        };
        assert!(out.status.success(), "{}: gzip failed", file.display());
        return Some(out.stdout);
    }
    Some(std::fs::read(file).unwrap())
}

/// As `fuzz/fuzz_targets/ntfs_volume.rs`: the input is a whole image. Each must finish
/// (a hang fails after a minute), without an uncaught panic.
#[test]
fn image_regressions_finish_without_panics() {
    let files = regressions("ntfs_volume");
    assert!(!files.is_empty(), "fuzz/regressions/ntfs_volume is empty");
    for file in files {
        let Some(data) = input_bytes(&file) else {
            continue;
        };
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let result = std::panic::catch_unwind(|| {
                netsession_scan::scan_image_source(
                    Box::new(netsession_scan::internals::image::source::MemoryImage::new(
                        data,
                    )),
                    "regression",
                    &Catalog::embedded().unwrap(),
                    &netsession_scan::AnalysisOptions {
                        hash: true,
                        text_cap: 1 << 20,
                        ..netsession_scan::AnalysisOptions::default()
                    },
                    &Warnings::new(),
                )
                .warnings
            });
            let _ = done.send(result);
        });
        let result = finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{}: still running after 60 s", file.display()));
        let warnings = result.unwrap_or_else(|_| panic!("{}: uncaught panic", file.display()));
        assert!(
            !warnings.is_empty(),
            "{}: damage not reported",
            file.display()
        );
    }
}
