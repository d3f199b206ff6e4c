//! Our `$UsnJrnl:$J` parser (`netsession_scan::internals::ntfs::usn`) against a journal nobody on
//! this team wrote: `usnjrnlj.bin` from the shared corpus, compared record by record with
//! `usnjrnlj.fsutil.txt`, what Windows' `fsutil usn readjournal` printed for it.
//!
//! What the fsutil text is, measured on it:
//! - a header block, then one block per record starting with "Usn", blocks separated by
//!   blank lines (CRLF), except that no blank line follows a version 4 record's extents;
//! - `fsutil` asked for versions 2..4 and printed version 2 records as version 3
//!   ("Major version : 3", 128-bit "File ID" as 32 hex digits, record length 16 bytes
//!   more than the stored one), so version and record length are not compared;
//! - version 4 records (range tracking: no name, no time stamp, extents) are printed
//!   too; the parser skips them and reports each as a problem, which is checked;
//! - the time stamp is printed to the second as `M/D/YYYY H:MM:SS`, in the local time
//!   of the machine that ran fsutil. It equals our FILETIME formatted in UTC, truncated
//!   to the second, for every record, so that machine ran on UTC; sub-seconds can't be
//!   compared;
//! - the security id (always 0) is not kept by the parser and not compared;
//! - the journal was copied after fsutil ran: the .bin holds a few records past fsutil's
//!   "Next USN", which must be the only records fsutil did not print.
//!
//! The corpus lives beside the repo (`../shared/corpus`, or `$NETSESSION_CORPUS`); the
//! test skips, saying so, when the files are absent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use netsession_scan::internals::ntfs::usn::{UsnRecord, parse_records, reason_names};

fn corpus_file(name: &str) -> Option<PathBuf> {
    let base = std::env::var_os("NETSESSION_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let path = base.join("ntfs/dfir_ntfs").join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipped: no corpus file {}", path.display());
        None
    }
}

/// One block of the fsutil text: field name → value (both trimmed).
type Block = HashMap<String, String>;

fn parse_fsutil(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current = Block::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            // fsutil writes no blank line after a version 4 record's extents.
            if key.trim() == "Usn" && !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
            current.insert(key.trim().to_string(), value.trim().to_string());
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

/// "0x80000100: File create | Close" → (0x80000100, ["file create", "close"]).
fn flags(value: &str) -> (u32, Vec<String>) {
    let (hex, names) = value.split_once(':').unwrap_or((value, ""));
    let hex = hex.trim().trim_start_matches("0x");
    let bits = u32::from_str_radix(hex, 16).expect("hex flags");
    let names = names
        .split('|')
        .map(normalize)
        .filter(|n| !n.is_empty())
        .collect();
    (bits, names)
}

/// "Rename: old name" / "RENAME_OLD_NAME" → "rename old name".
fn normalize(name: &str) -> String {
    name.replace([':', '_'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The 128-bit id as fsutil prints it, from our record number and sequence number.
fn file_id(record: u64, sequence: u16) -> String {
    format!("{:032x}", (u128::from(sequence) << 48) | u128::from(record))
}

/// FILETIME → `M/D/YYYY H:MM:SS` in UTC, truncated to the second.
fn fsutil_time(filetime: u64) -> String {
    let secs = (filetime / 10_000_000) as i64 - 11_644_473_600;
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("time stamp in range")
        .format("%-m/%-d/%Y %-H:%M:%S")
        .to_string()
}

#[test]
fn usn_journal_matches_fsutil() {
    let (Some(bin), Some(txt)) = (
        corpus_file("usnjrnlj.bin"),
        corpus_file("usnjrnlj.fsutil.txt"),
    ) else {
        return;
    };
    let data = std::fs::read(bin).expect("read usnjrnlj.bin");
    let text = std::fs::read_to_string(txt).expect("read usnjrnlj.fsutil.txt");
    let (records, problems) = parse_records(&data, 0);

    let blocks = parse_fsutil(&text);
    let header = &blocks[0];
    assert!(header.contains_key("USN Journal ID"), "{header:?}");
    let next_usn: i64 = header["Next USN"].parse().expect("Next USN");
    let entries: Vec<&Block> = blocks.iter().filter(|b| b.contains_key("Usn")).collect();
    let (named, v4): (Vec<&Block>, Vec<&Block>) = entries
        .iter()
        .partition(|b| b.get("Major version").map(String::as_str) != Some("4"));

    // Every record sits at the offset equal to its USN (the sample starts at USN 0).
    for r in &records {
        assert_eq!(r.offset as i64, r.usn, "{r:?}");
        assert_eq!(r.major, 2, "{r:?}");
    }
    let by_usn: HashMap<i64, &UsnRecord> = records.iter().map(|r| (r.usn, r)).collect();
    assert_eq!(by_usn.len(), records.len(), "duplicate USNs");

    // Version 4 records: skipped, one problem each, naming their offset (= USN).
    assert_eq!(problems.len(), v4.len(), "{problems:?}");
    for block in &v4 {
        let usn: u64 = block["Usn"].parse().expect("Usn");
        let at = format!("offset {usn:#x}: version 4.0");
        assert!(
            problems.iter().any(|p| p.contains(&at)),
            "no problem for v4 record at {usn}: {problems:?}"
        );
    }

    let mut matched = HashMap::<&str, usize>::new();
    let mut count = |field: &'static str| *matched.entry(field).or_default() += 1;
    for block in &named {
        let usn: i64 = block["Usn"].parse().expect("Usn");
        let r = by_usn
            .get(&usn)
            .unwrap_or_else(|| panic!("fsutil record at USN {usn} not parsed"));
        count("usn");
        assert_eq!(r.name, block["File name"], "USN {usn}");
        count("file name");
        let name_len: usize = block["File name length"].parse().expect("name length");
        assert_eq!(r.name.encode_utf16().count() * 2, name_len, "USN {usn}");
        count("file name length");

        let (bits, names) = flags(&block["Reason"]);
        assert_eq!(r.reason, bits, "USN {usn}");
        count("reason (hex)");
        let ours: Vec<String> = reason_names(r.reason).into_iter().map(normalize).collect();
        assert_eq!(ours, names, "USN {usn}");
        count("reason (names)");

        assert_eq!(
            file_id(r.file_record, r.file_sequence),
            block["File ID"],
            "USN {usn}"
        );
        count("file reference");
        assert_eq!(
            file_id(r.parent_record, r.parent_sequence),
            block["Parent file ID"],
            "USN {usn}"
        );
        count("parent reference");

        assert_eq!(fsutil_time(r.timestamp), block["Time stamp"], "USN {usn}");
        count("time stamp (to the second, UTC)");

        let (attributes, _) = flags(&block["File attributes"]);
        assert_eq!(r.file_attributes, attributes, "USN {usn}");
        count("file attributes");
        let (source, _) = flags(&block["Source info"]);
        assert_eq!(r.source_info, source, "USN {usn}");
        count("source info");
        assert_eq!(block["Minor version"], r.minor.to_string(), "USN {usn}");
    }

    // Parsed records fsutil did not print: only those written after it ran.
    let printed: Vec<i64> = named.iter().map(|b| b["Usn"].parse().unwrap()).collect();
    let extra: Vec<&UsnRecord> = records
        .iter()
        .filter(|r| !printed.contains(&r.usn))
        .collect();
    for r in &extra {
        assert!(r.usn >= next_usn, "record not printed by fsutil: {r:?}");
    }

    let mut fields: Vec<_> = matched.into_iter().collect();
    fields.sort();
    eprintln!(
        "usnjrnlj.bin: {} records parsed, {} problems (version 4 records); fsutil printed \
         {} records ({} with names, {} version 4); {} parsed records are past fsutil's \
         Next USN {next_usn}",
        records.len(),
        problems.len(),
        entries.len(),
        named.len(),
        v4.len(),
        extra.len()
    );
    for (field, n) in fields {
        eprintln!("  {field}: {n}/{} matched exactly", named.len());
    }
    assert_eq!(records.len(), named.len() + extra.len());
}
