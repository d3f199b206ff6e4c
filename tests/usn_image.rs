//! End-to-end: the change journal of an NTFS volume read from the image, on
//! `fixtures/images/uninstalled` (built by its `make_uninstalled.sh`): NetSession was
//! installed, updated and removed, and the freed MFT records were taken by later files,
//! so only `$Extend\$UsnJrnl:$J` still tells the story.
//!
//! The expected records come from the fixture's README (written by the script from what
//! `journal.py` wrote, with the MFT references `istat` gave); sleuthkit's `usnjls`
//! reads the same volume independently when it is installed.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::*;

/// One journal record as the fixture's README lists it.
#[derive(Debug)]
struct Expected {
    usn: u64,
    time: String,
    file: (u64, u16),
    parent: (u64, u16),
    reason: u32,
    name: String,
}

fn reference(text: &str) -> (u64, u16) {
    let (record, sequence) = text.split_once(':').expect("record:sequence");
    (record.parse().unwrap(), sequence.parse().unwrap())
}

/// The README's MFT references (`name=record:sequence`) and journal table.
fn ground_truth() -> (HashMap<String, (u64, u16)>, Vec<Expected>) {
    let readme = std::fs::read_to_string(fixture("uninstalled/README.md")).unwrap();
    let refs = readme
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(name, value)| {
            name.chars().all(|c| c.is_ascii_lowercase() || c == '_') && value.contains(':')
        })
        .map(|(name, value)| (name.to_string(), reference(value)))
        .collect();
    let records = readme
        .lines()
        .filter(|l| l.starts_with("| 1"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            Expected {
                usn: cells[0].parse().unwrap(),
                time: cells[1].to_string(),
                file: reference(cells[2]),
                parent: reference(cells[3]),
                reason: u32::from_str_radix(cells[4].trim_start_matches("0x"), 16).unwrap(),
                name: cells[6].to_string(),
            }
        })
        .collect();
    (refs, records)
}

/// `USN_REASON_*` names of the flags the fixture uses, lowest bit first (Microsoft's
/// names without the prefix).
fn reason_text(reason: u32) -> String {
    let names = [
        (0x1, "DATA_OVERWRITE"),
        (0x2, "DATA_EXTEND"),
        (0x20, "NAMED_DATA_EXTEND"),
        (0x100, "FILE_CREATE"),
        (0x200, "FILE_DELETE"),
        (0x1000, "RENAME_OLD_NAME"),
        (0x2000, "RENAME_NEW_NAME"),
        (0x20_0000, "STREAM_CHANGE"),
        (0x8000_0000, "CLOSE"),
    ];
    let known: u32 = names.iter().map(|(bit, _)| bit).sum();
    assert_eq!(
        reason & !known,
        0,
        "reason {reason:#x} uses a flag the test lacks"
    );
    names
        .iter()
        .filter(|(bit, _)| reason & bit != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join("|")
}

fn volume(into: &Path) -> Option<std::path::PathBuf> {
    gunzip("uninstalled/uninstalled.ntfs.gz", into)
}

fn journal_rows(rows: &[Row]) -> Vec<&Row> {
    rows.iter()
        .filter(|r| r["artifact"] == "ntfs.usn_journal")
        .collect()
}

fn row_for_usn<'a>(rows: &[&'a Row], usn: u64) -> Option<&'a Row> {
    rows.iter()
        .copied()
        .find(|r| r["value"].contains(&format!("usn={usn};")))
}

#[test]
fn the_journal_dates_install_update_and_uninstall_after_the_mft_moved_on() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(vol) = volume(tmp.path()) else {
        return;
    };
    let (refs, expected) = ground_truth();
    assert_eq!(expected.len(), 29, "README journal table");
    let rows = scan_ok(&vol);
    let journal = journal_rows(&rows);
    // Every NetSession record, and nothing of the 307 noise records.
    assert_eq!(journal.len(), expected.len(), "{journal:#?}");

    let user = "Users\\Kenji Sato";
    let folder_of = |parent: (u64, u16)| -> (String, &'static str) {
        if parent == refs["akamai"] {
            // The install folder's record is a photo now: only the journal names it.
            (
                format!("{user}\\AppData\\Local\\Akamai"),
                "folder named by the journal's own records",
            )
        } else if parent == refs["local"] {
            (format!("{user}\\AppData\\Local"), "")
        } else if parent == refs["downloads"] {
            (format!("{user}\\Downloads"), "")
        } else {
            ("$Orphan".to_string(), "folder unknown")
        }
    };
    for e in &expected {
        let row = row_for_usn(&journal, e.usn).unwrap_or_else(|| panic!("no row for {e:?}"));
        let (folder, note) = folder_of(e.parent);
        assert_eq!(row["path"], format!("{folder}\\{}", e.name), "{e:?}");
        assert_eq!(row["datetime"], e.time, "100-ns time of {e:?}");
        assert_eq!(row["timestamp_desc"], "USN Journal Entry");
        assert_eq!(
            row["value"],
            format!(
                "reasons={}; usn={}; file=mft {} seq {}",
                reason_text(e.reason),
                e.usn,
                e.file.0,
                e.file.1
            )
        );
        assert!(row["message"].contains(note), "{row:?}");
        assert_eq!(
            row["user"],
            if folder == "$Orphan" {
                ""
            } else {
                "Kenji Sato"
            }
        );
        assert_eq!(
            row["locator"],
            format!("$UsnJrnl:$J offset={:#x} usn={}", e.usn, e.usn)
        );
        // The state says what the record says: a deletion is `deleted`.
        let state = if e.reason & 0x200 != 0 {
            "deleted"
        } else {
            "allocated"
        };
        assert_eq!(row["state"], state, "{row:?}");
        let what = if e.reason & 0x200 != 0 {
            "deleted"
        } else if e.reason & 0x100 != 0 {
            "created"
        } else if e.reason & 0x2000 != 0 {
            "renamed to this name"
        } else if e.reason & 0x1000 != 0 {
            "renamed from this name"
        } else {
            "changed"
        };
        assert!(
            row["message"].starts_with(&format!("USN journal: {} {what} (", e.name)),
            "{row:?}"
        );
    }
    // Install and uninstall times, spelled out once.
    let created = row_for_usn(&journal, expected[6].usn).unwrap();
    assert_eq!(created["path"], format!("{user}\\AppData\\Local\\Akamai"));
    assert_eq!(created["datetime"], "2013-03-04T18:21:00.0000001Z");
    assert!(
        journal
            .iter()
            .any(|r| r["datetime"] == "2014-01-15T09:00:00.5000003Z"
                && r["path"] == format!("{user}\\AppData\\Local\\Akamai")
                && r["value"].starts_with("reasons=FILE_DELETE|CLOSE;"))
    );

    // The one NetSession MFT record not reused: deleted, its folder a photo now.
    let (dll, dll_seq) = refs["dll_new"];
    let orphan: Vec<&Row> = rows
        .iter()
        .filter(|r| r["path"] == "$Orphan\\netsession_win_5c7d0e4.dll")
        .collect();
    assert!(!orphan.is_empty(), "deleted DLL not found");
    for r in &orphan {
        assert_eq!(r["artifact"], "remnant.orphaned_file");
        assert_eq!(r["state"], "deleted");
        assert_eq!(r["locator"], format!("mft={dll} seq={}", dll_seq + 1));
        assert_eq!(r["size"], "30002");
        // Written as 30002 bytes of 0x92 (`tr '\0' '\222'`).
        use sha2::Digest;
        let hash: String = sha2::Sha256::digest([0x92u8; 30002])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(r["sha256"], hash);
    }
    // Nothing else: the photos, notes and temporary files are not NetSession's.
    assert!(
        rows.iter().all(|r| r["artifact"] == "ntfs.usn_journal"
            || r["path"] == "$Orphan\\netsession_win_5c7d0e4.dll"),
        "unexpected rows"
    );
}

/// `usnjls -m` lines: version|length|file|parent|usn|seconds.nanoseconds|reason|source|
/// security|attributes|name. Its nanoseconds are printed without zero padding
/// (100 µs shows as `.100000`), so the fraction is read as an integer.
fn usnjls(vol: &Path) -> Option<Vec<Vec<String>>> {
    let out = std::process::Command::new("usnjls")
        .arg("-m")
        .arg(vol)
        .output()
        .ok()?;
    assert!(out.status.success(), "usnjls failed");
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('|').map(String::from).collect())
            .collect(),
    )
}

fn filetime_text(seconds_nanos: &str) -> String {
    let (seconds, nanos) = seconds_nanos.split_once('.').unwrap();
    let seconds: i64 = seconds.parse().unwrap();
    let nanos: u32 = nanos.parse().unwrap();
    let t = chrono::DateTime::from_timestamp(seconds, nanos).unwrap();
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), nanos / 100)
}

#[test]
fn journal_rows_agree_with_usnjls() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(vol) = volume(tmp.path()) else {
        return;
    };
    let Some(listed) = usnjls(&vol) else {
        eprintln!("skipped: usnjls (sleuthkit) not installed");
        return;
    };
    assert_eq!(listed.len(), 336, "records usnjls lists");
    let rows = scan_ok(&vol);
    let journal = journal_rows(&rows);
    let mut netsession = 0;
    for fields in &listed {
        let [_, _, file, _parent, usn, time, reason, _, _, _, name] = fields.as_slice() else {
            panic!("usnjls line {fields:?}");
        };
        let lower = name.to_lowercase();
        let ours = row_for_usn(&journal, usn.parse().unwrap());
        if !(lower.contains("netsession") || lower.contains("akamai") || lower.contains("readme")) {
            assert!(ours.is_none(), "noise reported: {fields:?}");
            continue;
        }
        netsession += 1;
        let row = ours.unwrap_or_else(|| panic!("usnjls record not reported: {fields:?}"));
        assert!(row["path"].ends_with(&format!("\\{name}")), "{row:?}");
        assert_eq!(row["datetime"], filetime_text(time), "{fields:?}");
        let (file_record, file_sequence) = file.split_once('-').unwrap();
        assert!(
            row["value"].ends_with(&format!("file=mft {file_record} seq {file_sequence}")),
            "{row:?}"
        );
        assert!(
            row["value"].starts_with(&format!(
                "reasons={};",
                reason_text(reason.parse().unwrap())
            )),
            "{row:?} vs {fields:?}"
        );
    }
    assert_eq!(netsession, journal.len());
}

#[test]
fn a_damaged_journal_record_is_skipped_with_a_warning_and_the_rest_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(vol) = volume(tmp.path()) else {
        return;
    };
    let (_, expected) = ground_truth();
    // The first story record after the orphan: find its USN field in the image and
    // break the record's length (the field is 24 bytes into the record).
    let victim = &expected[1];
    let mut bytes = std::fs::read(&vol).unwrap();
    let needle = victim.usn.to_le_bytes();
    let positions: Vec<usize> = bytes
        .windows(8)
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .filter(|&i| i >= 24 && bytes[i - 24..i - 20] == [104, 0, 0, 0])
        .collect();
    assert_eq!(
        positions.len(),
        1,
        "record with usn {} in the image",
        victim.usn
    );
    let start = positions[0] - 24;
    bytes[start..start + 4].copy_from_slice(&0x00FF_FFF8u32.to_le_bytes());
    std::fs::write(&vol, &bytes).unwrap();

    let out = run_on(&vol, &["-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("$UsnJrnl:$J") && err.contains("damaged or unknown journal record"),
        "{err}"
    );
    let rows = parse_csv(&out.stdout);
    let journal = journal_rows(&rows);
    assert!(row_for_usn(&journal, victim.usn).is_none());
    for e in expected.iter().filter(|e| e.usn != victim.usn) {
        assert!(row_for_usn(&journal, e.usn).is_some(), "lost {e:?}");
    }
}
