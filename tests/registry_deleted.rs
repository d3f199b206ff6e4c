//! Deleted keys and values recovered from hives' free cells (#17 item 3).
//!
//! yarp's test hives (fixtures/registry/deleted/SOURCE.md) with what yarp's own tests
//! assert of them, and the hives of `fixtures/registry/make_deleted_hives.py`, in which
//! NetSession's Run value and Uninstall keys were deleted.

mod common;

use common::*;
use netsession_scan::internals::registry::analyze_hives;
use netsession_scan::internals::registry::base_block::BaseBlock;
use netsession_scan::internals::registry::deleted::{self, Recovered, value::Data};
use netsession_scan::internals::registry::hive::HiveInput;
use netsession_scan::{Catalog, EvidenceRow, RecordState, Warnings};

const REG_SZ: u32 = 1;
const REG_DWORD: u32 = 4;

fn path(name: &str) -> String {
    format!(
        "{}/fixtures/registry/deleted/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn hive_bytes(name: &str) -> Vec<u8> {
    std::fs::read(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn recover(bytes: &[u8]) -> Recovered {
    let base = BaseBlock::parse_header(bytes).unwrap_or_else(|e| panic!("{e}"));
    deleted::recover(bytes, base.root_cell_offset, base.hive_bins_data_size)
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(|u| u.to_le_bytes())
        .collect()
}

fn paths(r: &Recovered) -> Vec<(String, bool)> {
    let mut p: Vec<_> = r
        .keys
        .iter()
        .map(|k| (k.path.clone(), k.complete))
        .collect();
    p.sort();
    p
}

/// yarp test_deleted: one deleted key `456` whose one value is `v` = "123456"; two
/// deleted values in all, `v` and `v2` = "456", both REG_SZ.
#[test]
fn yarp_deleted_data_hive() {
    for hive in ["DeletedDataHive", "DeletedDataHiveTruncated"] {
        let r = recover(&hive_bytes(hive));
        assert!(r.errors.is_empty(), "{hive}: {:?}", r.errors);
        assert_eq!(r.keys.len(), 1, "{hive}");
        let k = &r.keys[0];
        assert_eq!((k.name.as_str(), k.values.len()), ("456", 1), "{hive}");
        assert!(k.complete && k.lost.is_empty(), "{hive}: {k:?}");
        let v = &r.values[k.values[0]];
        assert_eq!((v.name.as_str(), v.data_type), ("v", REG_SZ));
        assert_eq!(v.data, Data::Read(utf16z("123456")));
        let mut all: Vec<(&str, u32, &Data)> = r
            .values
            .iter()
            .map(|v| (v.name.as_str(), v.data_type, &v.data))
            .collect();
        all.sort_by_key(|(n, _, _)| *n);
        assert_eq!(
            all,
            [
                ("v", REG_SZ, &Data::Read(utf16z("123456"))),
                ("v2", REG_SZ, &Data::Read(utf16z("456")))
            ],
            "{hive}"
        );
        // yarp test_deleted_value_assoc: `v2` was the live key `123`'s, whose value
        // list still names it past its count.
        if hive == "DeletedDataHiveTruncated" {
            // Truncated: yarp (test_sqlite) reads `v2` as unassociated there too.
            assert_eq!(r.orphans.len(), 1);
            assert_eq!(r.values[r.orphans[0]].name, "v2");
            continue;
        }
        assert!(r.orphans.is_empty(), "{hive}: {:?}", r.orphans);
        assert_eq!(r.owners.len(), 1, "{hive}");
        let owner = &r.owners[0];
        assert_eq!(owner.path, "123");
        let names: Vec<&str> = owner
            .values
            .iter()
            .map(|&i| r.values[i].name.as_str())
            .collect();
        assert_eq!(names, ["v2"]);
    }
}

/// yarp test_deleted, test_deleted_tree_no_root_flag, test_deleted_tree_partial_path.
#[test]
fn yarp_deleted_trees_with_full_and_partial_paths() {
    let full = [r"1\2\3", r"1\2\3\4", r"1\2\3\4\5", r"1\2\3\4\New Key #1"];
    for hive in ["DeletedTreeHive", "DeletedTreeNoRootFlagHive"] {
        let r = recover(&hive_bytes(hive));
        let want: Vec<(String, bool)> = full.iter().map(|p| (p.to_string(), true)).collect();
        assert_eq!(paths(&r), want, "{hive}");
        assert!(r.values.is_empty());
    }
    let r = recover(&hive_bytes("DeletedTreePartialPathHive"));
    let want: Vec<(String, bool)> = ["3", r"3\4", r"3\4\5", r"3\4\New Key #1"]
        .iter()
        .map(|p| (p.to_string(), false))
        .collect();
    assert_eq!(paths(&r), want);
}

/// yarp test_remnants: one value, unnamed, REG_DWORD 1, in the data after the hive bins.
#[test]
fn yarp_remnant_value_after_the_bins() {
    let r = recover(&hive_bytes("RemnantsHive"));
    assert!(r.keys.is_empty());
    assert_eq!(r.values.len(), 1);
    let v = &r.values[0];
    assert_eq!((v.name.as_str(), v.data_type), ("", REG_DWORD));
    assert_eq!(v.data, Data::Read(1u32.to_le_bytes().to_vec()));
}

fn scan_rows(files: &[&str]) -> (Vec<Row>, String) {
    let paths: Vec<String> = files.iter().map(|f| path(f)).collect();
    let args: Vec<&std::ffi::OsStr> = paths.iter().map(|p| p.as_ref()).collect();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (parse_csv(&out.stdout), stderr(&out))
}

#[test]
fn deleted_netsession_entries_are_recovered_with_their_times() {
    let (rows, err) = scan_rows(&["NTUSER.DAT", "SOFTWARE"]);
    assert!(rows.iter().all(|r| r["state"] == "deleted"), "{rows:?}");
    let uninstall: Vec<&Row> = rows
        .iter()
        .filter(|r| r["artifact"] == "registry.uninstall")
        .collect();
    assert_eq!(uninstall.len(), 2, "{rows:?}");
    for (r, hive, cell, location) in [
        (
            uninstall[0],
            "NTUSER",
            "0x1248",
            r"C:\Users\José Müller\AppData\Local\Akamai",
        ),
        (
            uninstall[1],
            "SOFTWARE",
            "0x11d8",
            r"C:\Program Files (x86)\Common Files\Akamai",
        ),
    ] {
        assert_eq!(
            r["path"],
            format!(
                r"{hive}\{}Microsoft\Windows\CurrentVersion\Uninstall\Akamai NetSession Interface",
                if hive == "NTUSER" { r"Software\" } else { "" }
            )
        );
        // The planted last-write time of the key before it was deleted.
        assert_eq!(r["datetime"], "2012-02-14T09:30:04.0000001Z");
        assert_eq!(r["timestamp_desc"], "Key Last Written");
        assert!(
            r["value"].starts_with("DisplayName=Akamai NetSession Interface; DisplayVersion=1.9.2.3; Publisher=Akamai Technologies, Inc; InstallDate=20120214; "),
            "{}",
            r["value"]
        );
        assert!(r["value"].contains(&format!("InstallLocation={location}")));
        assert!(r["value"].ends_with("; recovered-from-free-cell"));
        assert!(
            r["locator"].ends_with(&format!(" cell={cell} recovered-from-free-cell")),
            "{}",
            r["locator"]
        );
        assert!(r["message"].contains("[deleted key, recovered from a free cell of the hive]"));
    }
    assert_eq!(uninstall[0]["user"], "José Müller");
    // NTUSER's Run value, deleted the Windows way: the Run key's value list still names
    // it past its count, so it is the Run rule's, dated by the Run key's last write.
    let run: Vec<&Row> = rows
        .iter()
        .filter(|r| r["artifact"] == "registry.run")
        .collect();
    assert_eq!(run.len(), 1, "{rows:?}");
    assert_eq!(
        run[0]["path"],
        r"NTUSER\Software\Microsoft\Windows\CurrentVersion\Run"
    );
    assert_eq!(run[0]["datetime"], "2014-03-02T10:15:00.0000000Z");
    assert_eq!(
        run[0]["timestamp_desc"],
        "Key Last Written (value deleted by then)"
    );
    assert_eq!(
        run[0]["value"],
        r#"Akamai NetSession Interface = "C:\Users\José Müller\AppData\Local\Akamai\netsession_win.exe"; recovered-from-free-cell"#
    );
    assert!(run[0]["locator"].ends_with(" offset=0x26cc cell=0x16c8 recovered-from-free-cell"));
    assert!(run[0]["message"].contains("[deleted value, recovered from a free cell of the hive]"));
    // SOFTWARE's WOW6432Node Run value, deleted by hivex (which rewrote the list): its
    // key is unknown and it has no time.
    let orphan: Vec<&Row> = rows
        .iter()
        .filter(|r| r["artifact"] == "registry.deleted_entry")
        .collect();
    assert_eq!(orphan.len(), 1, "{rows:?}");
    assert_eq!(
        orphan[0]["value"],
        r#"Akamai NetSession Interface = "C:\Program Files (x86)\Common Files\Akamai\netsession_win.exe" -startup; recovered-from-free-cell"#
    );
    assert_eq!(orphan[0]["path"], r"SOFTWARE\(key unknown)");
    assert_eq!(orphan[0]["datetime"], "");
    assert!(orphan[0]["locator"].ends_with(" cell=0x1838 recovered-from-free-cell"));
    // The decoys (OneDrive, iTunesHelper old copies) and the Uninstall keys' values
    // are not rows of their own.
    assert_eq!(rows.len(), 4);
    // Verdict: removal evidence with the last time known present and the time the Run
    // value was gone by; a deleted Run value is no autostart in place.
    assert!(
        err.contains(r"deleted registry entries recovered from hive free cells: 2 distinct: NTUSER\Software\Microsoft\Windows\CurrentVersion\Run, NTUSER\Software\Microsoft\Windows\CurrentVersion\Uninstall\Akamai NetSession Interface; last known present 2012-02-14T09:30:04.0000001Z (a deleted key's last write) NTUSER\Software\Microsoft\Windows\CurrentVersion\Uninstall\Akamai NetSession Interface; a deleted value gone by 2014-03-02T10:15:00.0000000Z (last write of its live key) NTUSER\Software\Microsoft\Windows\CurrentVersion\Run (2 rows)"),
        "{err}"
    );
    assert!(!err.contains("autostart:\n"), "{err}");
    assert!(err.contains("autostart: none found"), "{err}");
    assert!(!err.contains("last seen: 2014"), "{err}");
    assert!(!err.contains("deleted files"), "{err}");
    assert!(!err.contains("left behind"), "{err}");
}

fn analyze(bytes: Vec<u8>) -> (Vec<EvidenceRow>, Vec<String>) {
    let input = HiveInput {
        bytes,
        logs: Vec::new(),
        evidence_path: "NTUSER.DAT".into(),
        source: "case/NTUSER.DAT".into(),
        user_hint: None,
        sha256: String::new(),
    };
    let catalog = Catalog::embedded().unwrap_or_else(|e| panic!("{e}"));
    let warnings = Warnings::new();
    let rows = analyze_hives(&[input], &catalog, &warnings);
    let texts = warnings
        .snapshot()
        .iter()
        .map(|w| format!("{} | {} | {}", w.input, w.location, w.message))
        .collect();
    (rows, texts)
}

fn put_i32(b: &mut [u8], hive_bins_offset: usize, v: i32) {
    let at = 4096 + hive_bins_offset;
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn damaged_free_space_gives_warnings_naming_hive_and_offset() {
    let good = hive_bytes("NTUSER.DAT");
    let (rows, warnings) = analyze(good.clone());
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(warnings.is_empty(), "{warnings:?}");

    // A free cell whose size cannot be right: the rest of its bin is not searched.
    let mut bad = good.clone();
    put_i32(&mut bad, 0x1378, 12);
    let (rows, warnings) = analyze(bad);
    assert!(
        warnings.iter().any(|w| w.starts_with("case/NTUSER.DAT | NTUSER.DAT: free cells, hive-bins offset 0x1378 | deleted-entry search: cell at hive-bins offset 0x1378 has an impossible size 12")),
        "{warnings:?}"
    );
    // The deleted Uninstall key lies before the damage and is still found.
    assert!(
        rows.iter()
            .any(|r| r.artifact == "registry.uninstall" && r.state == RecordState::Deleted)
    );

    // Truncated in the middle of the second bin.
    let (_, warnings) = analyze(good[..4096 + 0x1700].to_vec());
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("free cells, hive-bins offset 0x1700") && w.contains("truncated")),
        "{warnings:?}"
    );

    // The Run value's data cell now in use by something else: its name and type are
    // still told, its data said to be overwritten.
    let mut reused = good.clone();
    put_i32(&mut reused, 0x1700, -136);
    let (rows, _) = analyze(reused);
    let run: Vec<&EvidenceRow> = rows
        .iter()
        .filter(|r| r.artifact == "registry.run")
        .collect();
    assert_eq!(run.len(), 1, "{rows:?}");
    assert!(
        run[0]
            .value
            .starts_with("Akamai NetSession Interface = (data overwritten; type 1, 126 bytes)"),
        "{}",
        run[0].value
    );
    assert!(
        run[0]
            .message
            .contains("its data cell at 0x1700 is in use by other data now: overwritten"),
        "{}",
        run[0].message
    );
}

/// Garbage in free space: signatures everywhere, sizes and offsets of every kind. No
/// panic, and nothing implausible becomes a row.
#[test]
fn garbage_in_free_space_is_no_panic() {
    let good = hive_bytes("NTUSER.DAT");
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..40 {
        let mut bad = good.clone();
        for at in (4096 + 0x1788..4096 + 0x2000).chain(4096 + 0x1240..4096 + 0x1300) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bad[at] = match seed % 5 {
                0 => b'n',
                1 => b'k',
                2 => b'v',
                _ => (seed >> 8) as u8,
            };
        }
        if round % 2 == 0 {
            bad[4096 + 0x1790..4096 + 0x1792].copy_from_slice(b"nk");
        }
        let _ = recover(&bad);
        let (rows, _) = analyze(bad);
        assert!(rows.len() <= 2, "{rows:?}");
    }
}

/// A dirty hive: what the primary file's free cells held where log replay wrote other
/// bytes is searched too, and said to be from before replay; what replay left alone is
/// found once.
#[test]
fn the_primary_file_of_a_dirty_hive_is_searched_where_replay_rewrote_it() {
    use netsession_scan::internals::registry::deleted::cells::CellMap;
    use netsession_scan::internals::registry::hive::OpenedHive;
    let dir = format!("{}/fixtures/registry/dirty", env!("CARGO_MANIFEST_DIR"));
    let primary = std::fs::read(format!("{dir}/NTUSER.DAT")).unwrap_or_else(|e| panic!("{e}"));
    let log = std::fs::read(format!("{dir}/NTUSER.DAT.LOG1")).unwrap_or_else(|e| panic!("{e}"));
    let input = |bytes: Vec<u8>| HiveInput {
        bytes,
        logs: vec![("NTUSER.DAT.LOG1".into(), log.clone())],
        evidence_path: "NTUSER.DAT".into(),
        source: "case/NTUSER.DAT".into(),
        user_hint: Some("José Müller".into()),
        sha256: String::new(),
    };
    let dirty = input(primary.clone());
    let opened = OpenedHive::open(&dirty).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !opened.recovered.is_empty(),
        "the fixture's log rewrites pages"
    );
    // A free cell of the primary, inside a page the log rewrites, with room for a key.
    let base = BaseBlock::parse_header(&primary).unwrap_or_else(|e| panic!("{e}"));
    let map = CellMap::walk(&primary, base.hive_bins_data_size);
    let name = b"Akamai NetSession";
    let room = 4 + 0x4C + name.len() as u32;
    let cell = map
        .free
        .iter()
        .flat_map(|&(start, end)| (start..end.saturating_sub(room)).step_by(8))
        .find(|&c| {
            let (from, to) = (4096 + c as usize, 4096 + (c + room) as usize);
            opened
                .recovered
                .iter()
                .any(|r| r.start <= from && to <= r.end)
                && opened.bytes[from..to] != primary[from..to]
        })
        .unwrap_or_else(|| panic!("no free cell in a rewritten page: {:?}", opened.recovered));
    let mut planted = primary.clone();
    let nk = 4096 + cell as usize + 4;
    planted[nk..nk + 2].copy_from_slice(b"nk");
    planted[nk + 2..nk + 4].copy_from_slice(&0x20u16.to_le_bytes());
    // 2011-06-01T12:00:00Z
    planted[nk + 4..nk + 12].copy_from_slice(&129_514_032_000_000_000u64.to_le_bytes());
    planted[nk + 0x10..nk + 0x14].copy_from_slice(&base.root_cell_offset.to_le_bytes());
    planted[nk + 0x14..nk + 0x4C].fill(0);
    planted[nk + 0x48..nk + 0x4A].copy_from_slice(&(name.len() as u16).to_le_bytes());
    planted[nk + 0x4C..nk + 0x4C + name.len()].copy_from_slice(name);

    let catalog = Catalog::embedded().unwrap_or_else(|e| panic!("{e}"));
    let rows_of = |bytes: Vec<u8>| {
        let warnings = Warnings::new();
        let rows = analyze_hives(&[input(bytes)], &catalog, &warnings);
        rows.into_iter()
            .filter(|r| r.state == RecordState::Deleted)
            .collect::<Vec<_>>()
    };
    assert!(rows_of(primary).is_empty());
    let rows = rows_of(planted);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r.artifact, "registry.deleted_entry");
    assert_eq!(r.path, r"NTUSER\Akamai NetSession");
    assert_eq!(
        r.datetime.map(|t| t.to_iso8601()).as_deref(),
        Some("2011-06-01T12:00:00.0000000Z")
    );
    assert!(
        r.locator.ends_with(&format!(
            " cell={cell:#x} recovered-from-free-cell before-log-replay"
        )),
        "{}",
        r.locator
    );
    assert!(r.message.contains("before log replay"), "{}", r.message);
}
