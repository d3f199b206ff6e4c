//! Failure injection: the case image (`fixtures/images/case`) read through a source that
//! fails on chosen byte ranges, as a disk with bad sectors does. Each failure must give a
//! warning naming where, and every finding outside the failed range must still be
//! reported exactly as without the failure.

mod common;

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::PathBuf;

use common::Scanned as Report;
use netsession_scan::internals::evidence::EvidenceRow;
use netsession_scan::internals::image::source::{ImageError, ImageSource, MemoryImage};
use netsession_scan::{AnalysisOptions, Catalog, Warnings};

/// An image whose reads fail where they touch the bad range.
struct BadSectors {
    inner: MemoryImage,
    bad: Option<Range<u64>>,
}

impl ImageSource for BadSectors {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let end = offset + buf.len() as u64;
        if let Some(bad) = self
            .bad
            .as_ref()
            .filter(|r| r.start < end && offset < r.end)
        {
            return Err(ImageError::Io {
                path: PathBuf::from("bad-sectors"),
                offset: bad.start.max(offset),
                source: std::io::Error::other("injected read error (bad sector)"),
            });
        }
        self.inner.read_at(offset, buf)
    }

    fn describe(&self) -> String {
        "memory image with bad sectors".into()
    }
}

fn case_bytes() -> Option<Vec<u8>> {
    let tmp = tempfile::tempdir().unwrap();
    let raw = common::gunzip("case/case.raw.gz", tmp.path())?;
    Some(std::fs::read(raw).unwrap())
}

fn scan(bytes: &[u8], bad: Option<Range<u64>>) -> Report {
    let source = BadSectors {
        inner: MemoryImage::new(bytes.to_vec()),
        bad,
    };
    let options = AnalysisOptions {
        hash: true,
        text_cap: 64 << 20,
        ..netsession_scan::AnalysisOptions::default()
    };
    netsession_scan::scan_image_source(
        Box::new(source),
        "case.raw",
        &Catalog::embedded().unwrap(),
        &options,
        &Warnings::new(),
    )
    .into()
}

/// A row's identity for comparing scans.
fn key(row: &EvidenceRow) -> String {
    row.fields().join("|")
}

fn locate(bytes: &[u8], number: u64) -> (Range<u64>, Vec<Range<u64>>) {
    common::case_record_ranges(bytes, number)
}

fn rows_of(report: &Report) -> BTreeSet<String> {
    report.rows.iter().map(key).collect()
}

#[test]
fn a_bad_sector_in_a_file_loses_only_that_file_s_content() {
    let Some(bytes) = case_bytes() else {
        return;
    };
    let baseline = scan(&bytes, None);
    assert!(baseline.warnings.is_empty(), "{:?}", baseline.warnings);
    // netsession_win.exe is MFT record 76 (README); one sector in its data goes bad.
    let (_, data) = locate(&bytes, 76);
    let sector = data[0].start + 4096..data[0].start + 4096 + 512;
    let damaged = scan(&bytes, Some(sector.clone()));

    let exe = "Users\\José Müller\\AppData\\Local\\Akamai\\netsession_win.exe";
    assert!(
        damaged
            .warnings
            .iter()
            .any(|w| w.location.contains("netsession_win.exe")
                && w.to_string().contains(&sector.start.to_string())),
        "{:?}",
        damaged.warnings
    );
    // The exe is still listed (its MFT record is fine), without a hash.
    let exe_rows: Vec<&EvidenceRow> = damaged.rows.iter().filter(|r| r.path == exe).collect();
    assert!(!exe_rows.is_empty());
    assert!(exe_rows.iter().all(|r| r.sha256.is_empty()), "{exe_rows:?}");
    // Everything else exactly as before.
    let others = |r: &Report| -> BTreeSet<String> {
        r.rows.iter().filter(|r| r.path != exe).map(key).collect()
    };
    let (before, after) = (others(&baseline), others(&damaged));
    let lost: Vec<&String> = before.difference(&after).collect();
    let new: Vec<&String> = after.difference(&before).collect();
    assert!(
        lost.is_empty() && new.is_empty(),
        "lost {lost:#?}\nnew {new:#?}"
    );
}

#[test]
fn a_bad_mft_record_loses_only_that_record() {
    let Some(bytes) = case_bytes() else {
        return;
    };
    let baseline = scan(&bytes, None);
    // readme.txt is MFT record 77.
    let (record, _) = locate(&bytes, 77);
    let damaged = scan(&bytes, Some(record.start + 512..record.start + 1024));
    assert!(
        damaged
            .warnings
            .iter()
            .any(|w| w.to_string().contains("MFT")),
        "{:?}",
        damaged.warnings
    );
    let readme = "Users\\José Müller\\AppData\\Local\\Akamai\\readme.txt";
    let lost: BTreeSet<String> = rows_of(&baseline)
        .difference(&rows_of(&damaged))
        .cloned()
        .collect();
    assert!(!lost.is_empty(), "the readme's rows should be gone");
    // Only rows of the readme (its inventory and what its text said) were lost...
    for row in baseline.rows.iter().filter(|r| lost.contains(&key(r))) {
        assert_eq!(
            row.path, readme,
            "lost a row not in the damaged record: {row:?}"
        );
    }
    // ...and nothing new appeared but rows about the damage itself.
    assert!(rows_of(&damaged).is_subset(&rows_of(&baseline)));
}

#[test]
fn a_bad_sector_in_a_hive_keeps_the_other_hives_and_all_files() {
    let Some(bytes) = case_bytes() else {
        return;
    };
    let baseline = scan(&bytes, None);
    // The SOFTWARE hive is MFT record 83: its first cluster (the base block) goes bad.
    let (_, data) = locate(&bytes, 83);
    let damaged = scan(&bytes, Some(data[0].start..data[0].start + 512));
    assert!(
        damaged
            .warnings
            .iter()
            .any(|w| w.location.contains("SOFTWARE")),
        "{:?}",
        damaged.warnings
    );
    let software = |r: &&EvidenceRow| r.path.starts_with("SOFTWARE\\");
    assert!(baseline.rows.iter().any(|r| software(&r)));
    let left: Vec<&EvidenceRow> = damaged.rows.iter().filter(|r| software(r)).collect();
    assert!(left.is_empty(), "{left:#?}\n{:#?}", damaged.warnings);
    // SYSTEM and NTUSER rows, and every file row, are unchanged; the SOFTWARE hive's own
    // file row loses only its hash.
    let kept = |r: &Report| -> BTreeSet<String> {
        r.rows
            .iter()
            .filter(|r| !software(r) && !r.path.ends_with("config\\SOFTWARE"))
            .filter(|r| r.locator.starts_with("mft=") || !r.locator.contains("SOFTWARE"))
            // SYSTEM's BAM and firewall rows take their user from SOFTWARE's
            // ProfileList: without it the user (and a message naming them) may change,
            // the finding may not.
            .map(|r| {
                let f = r.fields();
                [&f[0], &f[3], &f[5], &f[6], &f[10], &f[11]]
                    .map(|s| s.as_str())
                    .join("|")
            })
            .collect()
    };
    let before = kept(&baseline);
    let after = kept(&damaged);
    let missing: Vec<&String> = before.difference(&after).collect();
    assert!(
        missing.is_empty(),
        "lost rows outside the damaged hive: {missing:#?}"
    );
}

/// An E01 without its middle segment: the image is read around the gap. Only findings
/// whose MFT record or data lay in the missing chunks change; the warning names the
/// segment and the bytes it held; the command exits 0.
#[test]
fn an_e01_missing_a_segment_loses_only_what_that_segment_held() {
    use netsession_scan::internals::image::e01::EwfImage;
    let images = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images");
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw) = common::gunzip("gpt.raw.gz", tmp.path()) else {
        return;
    };
    let raw = std::fs::read(raw).unwrap();
    let gap_dir = tmp.path().join("gap");
    std::fs::create_dir(&gap_dir).unwrap();
    for name in ["gpt.E01", "gpt.E03"] {
        std::fs::copy(images.join(name), gap_dir.join(name)).unwrap();
    }
    // The bytes segment 2 held, from the crate's view of the whole set.
    let full = EwfImage::open(&images.join("gpt.E01")).unwrap();
    let chunks: Vec<u64> = (0..full.reader().chunk_count())
        .filter(|&i| full.reader().debug_chunk(i).unwrap().3 == 1)
        .map(|i| i as u64)
        .collect();
    let chunk = full.reader().chunk_size();
    let gap = chunks[0] * chunk..(chunks[chunks.len() - 1] + 1) * chunk;

    // A case rule for the filler file that lies in the gap, so that the scan reads it.
    let rules = tmp.path().join("case-rules.toml");
    std::fs::write(
        &rules,
        "[[file]]\nid = \"case.noise\"\npaths = [\"Users\\\\Public\\\\noise.bin\"]\nwhat = \"filler\"\n\
         proves = \"nothing\"\nconfidence = \"G\"\nsource = \"test\"\n",
    )
    .unwrap();
    let catalog = Catalog::with_extra_files(&[rules]).unwrap();
    let scan_e01 = |image: EwfImage| -> Report {
        netsession_scan::scan_image_source(
            Box::new(image),
            "gpt.E01",
            &catalog,
            &AnalysisOptions::default(),
            &Warnings::new(),
        )
        .into()
    };
    let baseline = scan_e01(full);
    let damaged = scan_e01(EwfImage::open(&gap_dir.join("gpt.E01")).unwrap());
    assert!(
        damaged
            .warnings
            .iter()
            .any(|w| w.location.ends_with("gpt.E02")
                && w.message
                    .contains(&format!("bytes {}..{}", gap.start, gap.end))),
        "{:#?}",
        damaged.warnings
    );
    let touches_gap = |row: &EvidenceRow| -> bool {
        let Some(number) = row
            .locator
            .strip_prefix("mft=")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
        else {
            return false;
        };
        let (record, data) = common::case_record_ranges(&raw, number);
        std::iter::once(record)
            .chain(data)
            .any(|r| r.start < gap.end && gap.start < r.end)
    };
    let before: BTreeSet<String> = baseline.rows.iter().map(key).collect();
    let after: BTreeSet<String> = damaged.rows.iter().map(key).collect();
    for row in baseline.rows.iter().filter(|r| !after.contains(&key(r))) {
        assert!(touches_gap(row), "lost, yet outside the gap: {row:#?}");
    }
    for row in damaged.rows.iter().filter(|r| !before.contains(&key(r))) {
        assert!(touches_gap(row), "changed, yet outside the gap: {row:#?}");
    }
    // The install itself lay outside the gap: all of it is still there.
    let exe = |r: &Report| {
        r.rows
            .iter()
            .filter(|r| r.path.ends_with("netsession_win.exe"))
            .count()
    };
    assert!(exe(&baseline) > 0);
    assert_eq!(exe(&damaged), exe(&baseline));
    // The filler's data lay in the gap: listed, without a hash, and named in a warning.
    let noise: Vec<&EvidenceRow> = damaged
        .rows
        .iter()
        .filter(|r| r.path.ends_with("noise.bin"))
        .collect();
    assert!(
        !noise.is_empty() && noise.iter().all(|r| r.sha256.is_empty()),
        "{noise:#?}"
    );
    assert!(
        baseline
            .rows
            .iter()
            .any(|r| r.path.ends_with("noise.bin") && !r.sha256.is_empty())
    );
    assert!(
        damaged
            .warnings
            .iter()
            .any(|w| w.location.ends_with("noise.bin") && w.message.contains("missing segment")),
        "{:#?}",
        damaged.warnings
    );
    assert!(
        damaged.rows.len() * 10 >= baseline.rows.len() * 9,
        "{} of {} rows",
        damaged.rows.len(),
        baseline.rows.len()
    );

    // The command: exit 0, the gap in a warning.
    let out = common::run(&["-q".as_ref(), gap_dir.join("gpt.E01").as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("gpt.E02: missing: image bytes"));
}
