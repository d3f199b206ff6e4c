//! Our MFT record parser (`netsession_scan::internals::ntfs::record`) against bytes nobody on this
//! team wrote: the extracted $MFT files of the shared corpus (with `fls` output as ground
//! truth) and the NTFS partition of the fixture image `fixtures/images/gpt.raw.gz`.
//!
//! The corpus lives beside the repo (`../shared/corpus`, or `$NETSESSION_CORPUS`); the
//! tests skip, saying so, when it (or gzip, or fls) is absent.

mod common;
use common::corpus_dir;

use std::path::Path;
use std::process::Command;

use netsession_scan::internals::ntfs::record::{
    ATTR_DATA, ATTR_FLAG_COMPRESSED, ATTR_FLAG_SPARSE, AttrBody, BootSector, MftRecord,
    NAMESPACE_DOS, parse_record,
};

/// Every record of an extracted $MFT: record number → parsed record (None when the
/// record is unused / not a FILE record / torn). The record size comes from the first
/// record's allocated size at 0x1C.
struct MftFile {
    records: Vec<Option<MftRecord>>,
    problems: Vec<String>,
    record_size: usize,
}

fn load_mft(path: &Path) -> MftFile {
    let bytes = std::fs::read(path).expect("read $MFT");
    let allocated = bytes
        .get(0x1C..0x20)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(1024);
    let record_size = if [1024, 4096].contains(&allocated) {
        allocated
    } else {
        1024
    };
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (n, chunk) in bytes.chunks_exact(record_size).enumerate() {
        let mut rec = chunk.to_vec();
        match parse_record(&mut rec, n as u64, 512) {
            Ok((r, p)) => {
                problems.extend(p);
                records.push(Some(r));
            }
            Err(e) => {
                // Never-used records are zeroed; anything else is worth a look.
                if chunk.iter().any(|&b| b != 0) {
                    problems.push(e.to_string());
                }
                records.push(None);
            }
        }
    }
    MftFile {
        records,
        problems,
        record_size,
    }
}

/// One line of `fls -r -p -l` output: `r/r 64-128-2:\tpath\t...` or `r/r * 65-128-2:\t...`.
struct FlsEntry {
    record: u64,
    deleted: bool,
    path: String,
}

fn read_fls(path: &Path) -> Vec<FlsEntry> {
    read_fls_text(&std::fs::read_to_string(path).expect("read .fls"))
}

fn read_fls_text(text: &str) -> Vec<FlsEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split('\t');
        let (Some(head), Some(name)) = (fields.next(), fields.next()) else {
            continue;
        };
        if head.starts_with("V/V") || head.starts_with("-/") && head.contains("$Orphan") {
            continue; // TSK's virtual entries ($OrphanFiles, ...)
        }
        let deleted = head.split_whitespace().any(|t| t == "*");
        let Some(inode) = head.trim_end_matches(':').split_whitespace().last() else {
            continue;
        };
        let Some(record) = inode.split('-').next().and_then(|n| n.parse().ok()) else {
            continue;
        };
        out.push(FlsEntry {
            record,
            deleted,
            path: name.to_string(),
        });
    }
    out
}

/// The last path component without a `:stream` suffix.
fn fls_file_name(path: &str) -> &str {
    let last = path.rsplit('/').next().unwrap_or(path);
    last.split(':').next().unwrap_or(last)
}

/// Names of a record as a directory listing shows them (Win32 / POSIX, not DOS-only).
fn long_names(rec: &MftRecord) -> Vec<String> {
    rec.file_names()
        .into_iter()
        .filter(|n| n.namespace != NAMESPACE_DOS)
        .map(|n| n.name)
        .collect()
}

#[test]
fn corpus_mft_files_match_fls() {
    let Some(dir) = corpus_dir() else { return };
    for stem in [
        "deleted",
        "orphan",
        "unicode",
        "compressed_sparse",
        "4k-large",
    ] {
        let mft_path = dir.join(format!("{stem}.mft"));
        if !mft_path.is_file() {
            eprintln!("skipped: {} missing", mft_path.display());
            continue;
        }
        let mft = load_mft(&mft_path);
        let expected_size = if stem == "4k-large" { 4096 } else { 1024 };
        assert_eq!(mft.record_size, expected_size, "{stem}: record size");
        let parsed = mft.records.iter().flatten().count();
        let in_use = mft
            .records
            .iter()
            .flatten()
            .filter(|r| r.header.in_use)
            .count();
        let named_free = mft
            .records
            .iter()
            .flatten()
            .filter(|r| !r.header.in_use && !r.file_names().is_empty())
            .count();
        eprintln!(
            "{stem}: {} records, {parsed} FILE records, {in_use} in use, {named_free} not in use with a name, {} problems",
            mft.records.len(),
            mft.problems.len()
        );
        for p in &mft.problems {
            eprintln!("  problem: {p}");
        }
        assert!(mft.problems.is_empty(), "{stem}: {:?}", mft.problems);
        if stem == "deleted" {
            // No .fls here: the deleted files are the free records that still hold a name.
            for r in mft.records.iter().flatten().filter(|r| !r.header.in_use) {
                eprintln!(
                    "  free record {} (sequence {}): {:?}",
                    r.number,
                    r.header.sequence,
                    long_names(r)
                );
            }
            assert!(
                named_free > 0,
                "deleted.mft: no deleted records with a name"
            );
        }
        // The system files are where they always are.
        let name_of = |n: usize| {
            mft.records
                .get(n)
                .and_then(Option::as_ref)
                .and_then(MftRecord::best_file_name)
                .map(|f| f.name)
        };
        assert_eq!(name_of(0).as_deref(), Some("$MFT"), "{stem}");
        assert_eq!(name_of(5).as_deref(), Some("."), "{stem}");

        let fls_path = dir.join(format!("{stem}.fls"));
        if fls_path.is_file() {
            let entries = read_fls(&fls_path);
            let mut matched = 0;
            let mut exceptions = Vec::new();
            for e in &entries {
                let want = fls_file_name(&e.path);
                let Some(Some(rec)) = mft.records.get(e.record as usize) else {
                    exceptions.push(format!("{}: record {} not parsed", e.path, e.record));
                    continue;
                };
                let names = long_names(rec);
                if !names.iter().any(|n| n == want) {
                    exceptions.push(format!("{}: record {} names {names:?}", e.path, e.record));
                    continue;
                }
                if e.deleted && rec.header.in_use {
                    exceptions.push(format!(
                        "{}: deleted but record {} in use",
                        e.path, e.record
                    ));
                    continue;
                }
                if !e.deleted && !rec.header.in_use {
                    exceptions.push(format!(
                        "{}: allocated but record {} free",
                        e.path, e.record
                    ));
                    continue;
                }
                matched += 1;
            }
            eprintln!(
                "{stem}: fls {} entries, {matched} matched, {} exceptions",
                entries.len(),
                exceptions.len()
            );
            for x in &exceptions {
                eprintln!("  exception: {x}");
            }
            assert!(exceptions.is_empty(), "{stem}: {exceptions:?}");
            assert!(matched > 20, "{stem}: only {matched} fls entries matched");
        }

        if stem == "compressed_sparse" {
            let data: Vec<_> = mft
                .records
                .iter()
                .flatten()
                .filter(|r| r.header.in_use)
                .flat_map(|r| {
                    r.attributes
                        .iter()
                        .filter(|a| a.type_code == ATTR_DATA)
                        .map(move |a| (r, a))
                })
                .collect();
            let compressed: Vec<_> = data
                .iter()
                .filter(|(_, a)| a.flags & ATTR_FLAG_COMPRESSED != 0)
                .collect();
            let sparse: Vec<_> = data
                .iter()
                .filter(|(_, a)| a.flags & ATTR_FLAG_SPARSE != 0)
                .collect();
            for (r, a) in compressed.iter().chain(sparse.iter()) {
                let runs = match &a.body {
                    AttrBody::NonResident { runs, .. } => {
                        runs.iter().map(ToString::to_string).collect::<Vec<_>>()
                    }
                    AttrBody::Resident { .. } => vec!["resident".to_string()],
                };
                eprintln!(
                    "  record {} {:?} $DATA:{} flags {:#06x} size {} runs {runs:?}",
                    r.number,
                    r.best_file_name().map(|f| f.name),
                    a.name,
                    a.flags,
                    a.data_size()
                );
            }
            assert!(!compressed.is_empty(), "no compressed $DATA");
            assert!(!sparse.is_empty(), "no sparse $DATA");
            for (_, a) in &compressed {
                if let AttrBody::NonResident {
                    compression_unit, ..
                } = &a.body
                {
                    assert_eq!(*compression_unit, 4, "compression unit of 16 clusters");
                }
            }
            // A sparse file has at least one sparse run.
            assert!(sparse.iter().any(|(_, a)| matches!(&a.body,
                AttrBody::NonResident { runs, .. } if runs.iter().any(|r| r.lcn.is_none()))));
        }
    }
}

fn gunzip(path: &Path) -> Option<Vec<u8>> {
    match Command::new("gzip").arg("-dc").arg(path).output() {
        Ok(out) if out.status.success() => Some(out.stdout),
        Ok(out) => {
            eprintln!(
                "skipped: gzip failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("skipped: cannot run gzip: {e}");
            None
        }
    }
}

#[test]
fn fixture_image_netsession_record() {
    let gz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images/gpt.raw.gz");
    if !gz.is_file() {
        eprintln!("skipped: {} missing", gz.display());
        return;
    }
    let Some(image) = gunzip(&gz) else { return };
    let part = 2048 * 512;
    let boot = BootSector::parse(&image[part..part + 512]).expect("NTFS boot sector");
    assert_eq!(boot.cluster_size, 4096);
    assert_eq!(boot.record_size, 1024);
    let record_size = boot.record_size as usize;
    let sector = usize::from(boot.bytes_per_sector);
    let mft_start = part + boot.mft_lcn as usize * boot.cluster_size as usize;
    let mut rec0 = image
        .get(mft_start..mft_start + record_size)
        .expect("record 0 inside the image")
        .to_vec();

    // Record 0 ($MFT) must say that its first records are contiguous at mft_lcn. The
    // brief asked for the first 64 records, but mkntfs + ntfs-3g put the file at record
    // 75, so read every record of $MFT's first data run (capped by the image length).
    let (mft, problems) = parse_record(&mut rec0, 0, sector).expect("record 0");
    assert!(problems.is_empty(), "{problems:?}");
    let data = mft.data_attributes("").next().expect("$MFT $DATA");
    let AttrBody::NonResident { runs, .. } = &data.body else {
        panic!("$MFT $DATA is resident");
    };
    let first = runs.first().expect("a run");
    assert_eq!(first.lcn, Some(boot.mft_lcn));
    let run_bytes = first.length * boot.cluster_size;
    assert!(run_bytes >= 64 * record_size as u64);
    let mft_end = (mft_start as u64 + run_bytes).min(image.len() as u64) as usize;
    let mft_bytes = &image[mft_start..mft_end];

    let mut found = Vec::new();
    for (n, chunk) in mft_bytes.chunks_exact(record_size).enumerate() {
        let mut rec = chunk.to_vec();
        let Ok((r, problems)) = parse_record(&mut rec, n as u64, sector) else {
            continue;
        };
        assert!(problems.is_empty(), "record {n}: {problems:?}");
        if r.header.in_use && long_names(&r).iter().any(|n| n == "netsession_win.exe") {
            found.push(r);
        }
    }
    assert_eq!(found.len(), 1, "one netsession_win.exe record");
    let rec = &found[0];
    let data = rec.data_attributes("").next().expect("unnamed $DATA");
    assert_eq!(data.data_size(), 20000);
    let zone = rec
        .data_attributes("Zone.Identifier")
        .next()
        .expect("Zone.Identifier stream");
    if let Some(bytes) = zone.resident_data() {
        assert_eq!(bytes, b"[ZoneTransfer]\r\nZoneId=3\r\n");
    }
    eprintln!("netsession_win.exe is record {}", rec.number);

    // Cross-check the record number with The Sleuth Kit.
    let dir = tempfile::tempdir().expect("temp dir");
    let raw = dir.path().join("gpt.raw");
    std::fs::write(&raw, &image).expect("write image");
    match Command::new("fls")
        .args(["-r", "-p", "-o", "2048"])
        .arg(&raw)
        .output()
    {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let entry = read_fls_text(&text)
                .into_iter()
                .find(|e| e.path.ends_with("/netsession_win.exe"))
                .expect("fls lists netsession_win.exe");
            assert_eq!(entry.record, rec.number, "fls: {}", entry.path);
        }
        Ok(out) => eprintln!(
            "fls failed, not cross-checked: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("skipped fls cross-check: {e}"),
    }
}
