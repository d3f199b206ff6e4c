//! Corruption with deterministic seeds: random bytes of the case image's files flipped
//! (every finding of the other files must stay exactly as it was), random flips and
//! truncations of the whole image, of its E01 and of the hives (exit 0 or 2, a warning,
//! never a panic).

mod common;

use std::collections::BTreeSet;
use std::ops::Range;

use common::Scanned as Report;
use common::*;
use netsession_scan::internals::evidence::EvidenceRow;
use netsession_scan::internals::image::source::MemoryImage;
use netsession_scan::{AnalysisOptions, Catalog, Warnings};

/// xorshift64*: the same damage on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn scan(bytes: Vec<u8>) -> Report {
    let options = AnalysisOptions {
        hash: true,
        text_cap: 64 << 20,
        ..netsession_scan::AnalysisOptions::default()
    };
    netsession_scan::scan_image_source(
        Box::new(MemoryImage::new(bytes)),
        "case.raw",
        &Catalog::embedded().unwrap(),
        &options,
        &Warnings::new(),
    )
    .into()
}

/// The clusters (as disk byte ranges) of MFT record `number`'s unnamed data.
fn data_ranges(bytes: &[u8], number: u64) -> Vec<Range<u64>> {
    case_record_ranges(bytes, number).1
}

/// What a finding is, whatever a damaged hive does to user names and messages.
fn finding(row: &EvidenceRow) -> String {
    let f = row.fields();
    [&f[0], &f[3], &f[5], &f[6], &f[8], &f[10], &f[11]]
        .map(|s| s.as_str())
        .join("|")
}

#[test]
fn flipped_file_data_changes_only_that_file_s_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw) = gunzip("case/case.raw.gz", tmp.path()) else {
        return;
    };
    let clean = std::fs::read(raw).unwrap();
    let baseline = scan(clean.clone());
    // (MFT record, path prefix of its rows, locator prefix of facts read from it)
    let targets = [
        (
            76,
            "Users\\José Müller\\AppData\\Local\\Akamai\\netsession_win.exe",
            "",
        ),
        (
            80,
            "Users\\José Müller\\AppData\\Local\\Akamai\\cache\\blob.dat",
            "",
        ),
        (81, "Users\\José Müller\\Downloads\\NetSessionSetup.exe", ""),
        (
            82,
            "Windows\\System32\\config\\SYSTEM",
            "hive=Windows\\System32\\config\\SYSTEM ",
        ),
        (
            84,
            "Users\\José Müller\\NTUSER.DAT",
            "hive=Users\\José Müller\\NTUSER.DAT ",
        ),
    ];
    let mut rng = Rng(0x5eed_0001);
    for round in 0..10 {
        let (record, path, hive) = targets[round % targets.len()];
        let ranges = data_ranges(&clean, record);
        let mut bytes = clean.clone();
        let mut flipped = Vec::new();
        for _ in 0..8 {
            let range = &ranges[rng.below(ranges.len() as u64) as usize];
            let at = range.start + rng.below(range.end - range.start);
            bytes[at as usize] ^= 1 << rng.below(8);
            flipped.push(at);
        }
        let damaged = std::panic::catch_unwind(|| scan(bytes))
            .unwrap_or_else(|_| panic!("round {round}: panic with flips at {flipped:?}"));
        // Rows of other files and of other hives are untouched.
        let untouched = |report: &Report| -> BTreeSet<String> {
            report
                .rows
                .iter()
                .filter(|r| !r.path.starts_with(path))
                .filter(|r| hive.is_empty() || !r.locator.starts_with(hive))
                // SOFTWARE's svchost groups are reported when they host a NetSession
                // service, which SYSTEM names: damage to SYSTEM may hide them.
                .filter(|r| record != 82 || r.artifact != "registry.svchost_group")
                .map(finding)
                .collect()
        };
        let (before, after) = (untouched(&baseline), untouched(&damaged));
        let lost: Vec<&String> = before.difference(&after).collect();
        assert!(
            lost.is_empty(),
            "round {round} (record {record}, flips {flipped:?}) lost {lost:#?}"
        );
        if !hive.is_empty() {
            continue; // hives are read, not listed: their own rows may change or go
        }
        // The damaged file itself is still listed, with another hash.
        let listed: Vec<&EvidenceRow> = damaged.rows.iter().filter(|r| r.path == path).collect();
        assert!(!listed.is_empty(), "round {round}: {path} no longer listed");
        let old_hash = &baseline
            .rows
            .iter()
            .find(|r| r.path == path)
            .unwrap()
            .sha256;
        assert!(
            listed.iter().all(|r| &r.sha256 != old_hash),
            "round {round}"
        );
    }
}

#[test]
fn random_flips_and_truncations_of_the_image_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw) = gunzip("case/case.raw.gz", tmp.path()) else {
        return;
    };
    let clean = std::fs::read(raw).unwrap();
    let mut rng = Rng(0x5eed_0002);
    // The first 3 MiB hold the partition tables, the boot sector and $MFT.
    for round in 0..12 {
        let mut bytes = clean.clone();
        for _ in 0..64 {
            let at = rng.below(3 << 20) as usize;
            bytes[at] ^= rng.next() as u8 | 1;
        }
        if round % 3 == 2 {
            bytes.truncate(rng.below(clean.len() as u64) as usize);
        }
        let result = std::panic::catch_unwind(|| scan(bytes));
        assert!(result.is_ok(), "round {round}: panic");
    }
}

#[test]
fn damaged_e01_files_exit_0_or_2_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = std::fs::read(fixture("case/case.E01")).unwrap();
    let e01 = tmp.path().join("case.E01");
    let mut rng = Rng(0x5eed_0003);
    for round in 0..16 {
        let mut bytes = clean.clone();
        if round % 2 == 0 {
            for _ in 0..16 {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] ^= rng.next() as u8 | 1;
            }
        } else {
            bytes.truncate(rng.below(bytes.len() as u64) as usize);
        }
        std::fs::write(&e01, &bytes).unwrap();
        let out = run_on(&e01, &["-q"]);
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(2),
            "round {round}: exit {code:?}\n{}",
            stderr(&out)
        );
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "round {round}: {err}");
        // Damage in chunks the scan never reads goes unnoticed, and may: but then the
        // findings must be exactly those of the intact image.
        if !err.contains("warning:") && !err.contains("error:") {
            std::fs::write(&e01, &clean).unwrap();
            let intact = run_on(&e01, &["-q"]);
            assert_eq!(
                out.stdout, intact.stdout,
                "round {round}: silent damage changed rows"
            );
        }
    }
}
