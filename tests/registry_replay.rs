//! Transaction-log replay and base-block validation against real hives and logs made by
//! Windows (yarp's and regipy's test files, see ../shared/corpus/SOURCES.md).
//!
//! The corpus lives beside the crate: `../shared/corpus`, or the directory named by the
//! NETSESSION_CORPUS environment variable. Tests skip, saying so, when it is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use netsession_scan::internals::registry::base_block::{
    BaseBlock, HBIN_START, HiveError, mark_clean,
};
use netsession_scan::internals::registry::replay::{LogFile, ReplayOutcome, replay};
use nt_hive::{Hive, KeyNode, NtHiveNameString};

// ---------------------------------------------------------------------------------------
// Corpus access

fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("NETSESSION_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    };
    if dir.join("hives").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: registry corpus not found at {} (set NETSESSION_CORPUS)",
            dir.display()
        );
        None
    }
}

fn yarp(rel: &str) -> Option<PathBuf> {
    let path = corpus()?.join("hives/yarp").join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIP: {} not in the corpus", path.display());
        None
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Decompress a regipy `.xz` file into memory with the `xz` tool; None (with a message)
/// when the corpus or `xz` is missing.
fn regipy(name: &str) -> Option<Vec<u8>> {
    let path = corpus()?.join("hives/regipy").join(name);
    if !path.exists() {
        eprintln!("SKIP: {} not in the corpus", path.display());
        return None;
    }
    match Command::new("xz").arg("-dc").arg(&path).output() {
        Ok(out) if out.status.success() => Some(out.stdout),
        Ok(out) => panic!(
            "xz -dc {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            eprintln!("SKIP: cannot run xz ({e}) to decompress {}", path.display());
            None
        }
    }
}

fn logs<'a>(files: &'a [(&str, Vec<u8>)]) -> Vec<LogFile<'a>> {
    files
        .iter()
        .map(|(name, bytes)| LogFile {
            name: (*name).to_string(),
            bytes,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Walking a hive with nt-hive

/// (value name, data type (u32::MAX if unknown to nt-hive), data or its error)
type ValueFact = (String, u32, Result<Vec<u8>, String>);

#[derive(Debug, PartialEq, Eq)]
struct KeyFact {
    last_written: Option<u64>,
    values: Vec<ValueFact>,
}

#[derive(Debug, Default)]
struct Walk {
    keys: BTreeMap<String, KeyFact>,
    values: usize,
    errors: Vec<String>,
}

fn name_string(name: &NtHiveNameString<'_>) -> String {
    name.to_string_lossy()
}

/// The key's last-written FILETIME. nt-hive does not expose it, but the name slice it
/// returns borrows from the hive buffer: the name starts at +0x4C of the `nk` record
/// (the 4-byte cell header precedes the record), and the FILETIME is at `nk` + 4.
fn key_last_written(buf: &[u8], key: &KeyNode<'_, &[u8]>) -> Option<u64> {
    let name = key.name().ok()?;
    let slice: &[u8] = match name {
        NtHiveNameString::Latin1(s) | NtHiveNameString::Utf16LE(s) => s,
    };
    let pos = (slice.as_ptr() as usize).checked_sub(buf.as_ptr() as usize)?;
    let nk = pos.checked_sub(0x4C)?;
    if buf.get(nk..nk + 2)? != b"nk" {
        return None;
    }
    Some(u64::from_le_bytes(
        buf.get(nk + 4..nk + 12)?.try_into().ok()?,
    ))
}

fn walk_key(buf: &[u8], key: &KeyNode<'_, &[u8]>, path: String, walk: &mut Walk) {
    let mut values = Vec::new();
    if let Some(list) = key.values() {
        match list {
            Ok(iter) => {
                for v in iter {
                    match v {
                        Ok(v) => {
                            let name = v
                                .name()
                                .map(|n| name_string(&n))
                                .unwrap_or_else(|e| format!("<name error: {e}>"));
                            let ty = v.data_type().map(|t| t as u32).unwrap_or(u32::MAX);
                            let data = v
                                .data()
                                .and_then(|d| d.into_vec())
                                .map_err(|e| e.to_string());
                            values.push((name, ty, data));
                        }
                        Err(e) => walk.errors.push(format!("{path}: value: {e}")),
                    }
                }
            }
            Err(e) => walk.errors.push(format!("{path}: values list: {e}")),
        }
    }
    values.sort_by(|a, b| a.0.cmp(&b.0));
    walk.values += values.len();
    walk.keys.insert(
        path.clone(),
        KeyFact {
            last_written: key_last_written(buf, key),
            values,
        },
    );
    if let Some(subkeys) = key.subkeys() {
        match subkeys {
            Ok(iter) => {
                for sub in iter {
                    match sub {
                        Ok(sub) => {
                            let name = sub
                                .name()
                                .map(|n| name_string(&n))
                                .unwrap_or_else(|e| format!("<name error: {e}>"));
                            walk_key(buf, &sub, format!("{path}\\{name}"), walk);
                        }
                        Err(e) => walk.errors.push(format!("{path}: subkey: {e}")),
                    }
                }
            }
            Err(e) => walk.errors.push(format!("{path}: subkeys: {e}")),
        }
    }
}

/// Walk the whole hive with `nt_hive::Hive::new` (the image must have a clean base block).
fn walk(buf: &[u8]) -> Result<Walk, String> {
    let hive = Hive::new(buf).map_err(|e| format!("Hive::new: {e}"))?;
    let root = hive.root_key_node().map_err(|e| format!("root key: {e}"))?;
    let mut w = Walk::default();
    walk_key(buf, &root, String::new(), &mut w);
    Ok(w)
}

/// Walk a primary as found: mark a copy clean so that nt-hive accepts it.
fn walk_as_found(primary: &[u8]) -> Result<Walk, String> {
    let mut copy = primary.to_vec();
    mark_clean(&mut copy);
    walk(&copy)
}

fn entries_applied(out: &ReplayOutcome) -> usize {
    out.applied
        .iter()
        .filter_map(|l| {
            let rest = l.split_once("applied ")?.1;
            rest.split_whitespace().next()?.parse::<usize>().ok()
        })
        .sum()
}

fn assert_recovered_ranges_sane(out: &ReplayOutcome) {
    let mut prev_end = HBIN_START;
    for r in &out.recovered {
        assert!(
            r.start >= prev_end && r.start < r.end && r.end <= out.hive.len(),
            "{r:?}"
        );
        prev_end = r.end;
    }
}

// ---------------------------------------------------------------------------------------
// NewDirtyHive1: Windows 10's own replay result is the ground truth

/// (log name, log bytes)
type LogSet = Vec<(&'static str, Vec<u8>)>;

/// (primary, logs, Windows' own replay result)
fn new_dirty_hive1() -> Option<(Vec<u8>, LogSet, Vec<u8>)> {
    let dir = yarp("NewDirtyHive1")?;
    Some((
        read(&dir.join("NewDirtyHive")),
        vec![
            ("NewDirtyHive.LOG1", read(&dir.join("NewDirtyHive.LOG1"))),
            ("NewDirtyHive.LOG2", read(&dir.join("NewDirtyHive.LOG2"))),
        ],
        read(&dir.join("RecoveredHive_Windows10")),
    ))
}

#[test]
fn new_dirty_hive1_matches_windows_replay() {
    let Some((primary, log_files, recovered)) = new_dirty_hive1() else {
        return;
    };
    let before = BaseBlock::parse(&primary).unwrap();
    assert!(before.is_dirty() && before.checksum_ok());

    let mut reversed = log_files.clone();
    reversed.reverse();
    for files in [log_files, reversed] {
        let out = replay(&primary, &logs(&files)).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        // LOG1 holds entry 2, LOG2 entries 3, 4 and 5: all four apply.
        assert_eq!(entries_applied(&out), 4, "{:?}", out.applied);
        assert!(
            out.applied
                .iter()
                .any(|l| l.starts_with("NewDirtyHive.LOG1") && l.contains("sequence 2..=2")),
            "{:?}",
            out.applied
        );
        assert!(
            out.applied
                .iter()
                .any(|l| l.starts_with("NewDirtyHive.LOG2") && l.contains("sequence 3..=5")),
            "{:?}",
            out.applied
        );
        let bb = BaseBlock::parse(&out.hive).unwrap();
        assert_eq!((bb.primary_seq, bb.secondary_seq), (5, 5));
        assert!(bb.checksum_ok());
        assert!(!out.recovered.is_empty());
        assert_recovered_ranges_sane(&out);

        // (1) Bytes: everything after the base block is identical to what Windows wrote
        // (the base blocks differ: Windows wrote sequence 6 after its own replay).
        assert_eq!(out.hive.len(), recovered.len());
        let first_diff = out.hive[HBIN_START..]
            .iter()
            .zip(&recovered[HBIN_START..])
            .position(|(a, b)| a != b)
            .map(|p| p + HBIN_START);
        assert_eq!(
            first_diff, None,
            "replayed image differs from RecoveredHive_Windows10 at file offset {first_diff:#x?}"
        );

        // (2) Structure: keys, key last-write times, values.
        let ours = walk(&out.hive).unwrap();
        let mut theirs_bytes = recovered.clone();
        mark_clean(&mut theirs_bytes); // already clean; harmless
        let theirs = walk(&theirs_bytes).unwrap();
        assert!(ours.errors.is_empty(), "{:?}", ours.errors);
        assert!(theirs.errors.is_empty(), "{:?}", theirs.errors);
        assert_eq!(ours.keys, theirs.keys);
        assert!(ours.keys.values().all(|k| k.last_written.is_some()));
        assert!(
            ours.keys.contains_key("\\Key3\\Key3_3"),
            "{:?}",
            ours.keys.keys()
        );
        assert!(!ours.keys.contains_key("\\Key1"));
        eprintln!(
            "NewDirtyHive1: {} keys and {} values equal to RecoveredHive_Windows10; {} bytes of hive bins identical; recovered ranges {:x?}",
            ours.keys.len(),
            ours.values,
            out.hive.len() - HBIN_START,
            out.recovered
        );

        // Before replay the primary holds the older state.
        let old = walk_as_found(&primary).unwrap();
        assert!(old.keys.contains_key("\\Key1"));
        assert!(!old.keys.contains_key("\\Key3"));
    }
}

#[test]
fn new_dirty_hive1_flipped_byte_in_real_log_stops_at_that_entry() {
    let Some((primary, mut log_files, _)) = new_dirty_hive1() else {
        return;
    };
    // LOG2's second entry (sequence 4) starts at 0x2000; flip a byte of its page data.
    log_files[1].1[0x3000] ^= 0x01;
    let out = replay(&primary, &logs(&log_files)).unwrap();
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    let (loc, msg) = &out.warnings[0];
    assert_eq!(loc, "NewDirtyHive.LOG2 offset 0x2000");
    assert!(msg.contains("Hash-1"), "{msg}");
    assert_eq!(entries_applied(&out), 2, "{:?}", out.applied);
    let bb = BaseBlock::parse(&out.hive).unwrap();
    assert_eq!((bb.primary_seq, bb.secondary_seq), (3, 3));
    let w = walk(&out.hive).unwrap();
    assert!(w.errors.is_empty(), "{:?}", w.errors);

    // Flip a header byte (the sequence number) of LOG2's first entry instead: Hash-2.
    let Some((primary, mut log_files, _)) = new_dirty_hive1() else {
        return;
    };
    log_files[1].1[0x200 + 12] ^= 0x01;
    let out = replay(&primary, &logs(&log_files)).unwrap();
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert_eq!(out.warnings[0].0, "NewDirtyHive.LOG2 offset 0x200");
    assert!(out.warnings[0].1.contains("Hash-2"), "{:?}", out.warnings);
    assert_eq!(entries_applied(&out), 1, "{:?}", out.applied);
}

#[test]
fn new_dirty_hive2_applies_without_warnings() {
    let Some(dir) = yarp("NewDirtyHive2") else {
        return;
    };
    let primary = read(&dir.join("NewDirtyHive"));
    let files = vec![
        ("NewDirtyHive.LOG1", read(&dir.join("NewDirtyHive.LOG1"))),
        ("NewDirtyHive.LOG2", read(&dir.join("NewDirtyHive.LOG2"))),
    ];
    let out = replay(&primary, &logs(&files)).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    // Primary 4/3: LOG1's only entry (2) is older than the hive; LOG2's 3..5 apply.
    assert_eq!(entries_applied(&out), 3, "{:?}", out.applied);
    assert!(
        out.applied
            .iter()
            .any(|l| l.starts_with("NewDirtyHive.LOG1") && l.contains("nothing to apply")),
        "{:?}",
        out.applied
    );
    let bb = BaseBlock::parse(&out.hive).unwrap();
    assert_eq!((bb.primary_seq, bb.secondary_seq), (5, 5));
    assert_recovered_ranges_sane(&out);
    let w = walk(&out.hive).unwrap();
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    eprintln!(
        "NewDirtyHive2: {} keys, {} values after replay",
        w.keys.len(),
        w.values
    );
}

// ---------------------------------------------------------------------------------------
// Damaged logs and base blocks

#[test]
fn bad_log_hive1_old_format_log_with_bad_checksum_is_refused() {
    let Some(dir) = yarp("BadLogHive1") else {
        return;
    };
    let primary = read(&dir.join("BadLogHive"));
    let files = vec![
        ("BadLogHive.LOG1", read(&dir.join("BadLogHive.LOG1"))),
        ("BadLogHive.LOG2", read(&dir.join("BadLogHive.LOG2"))), // empty file
    ];
    let out = replay(&primary, &logs(&files)).unwrap();
    // LOG1's base block checksum is wrong: not used (Windows and yarp refuse it too);
    // LOG2 is empty; the hive comes back as found, marked clean.
    let locations: Vec<&str> = out.warnings.iter().map(|(l, _)| l.as_str()).collect();
    assert!(
        locations.contains(&"BadLogHive.LOG1 offset 0x1fc"),
        "{:?}",
        out.warnings
    );
    assert!(
        locations.contains(&"BadLogHive.LOG2 offset 0x0"),
        "{:?}",
        out.warnings
    );
    assert!(
        out.warnings
            .iter()
            .any(|(_, m)| m.contains("no usable transaction log")),
        "{:?}",
        out.warnings
    );
    assert_eq!(&out.hive[HBIN_START..], &primary[HBIN_START..]);
    assert!(out.recovered.is_empty());
    let w = walk(&out.hive).unwrap();
    eprintln!(
        "BadLogHive1: warnings {:?}; walk: {} keys, {} values, {} errors",
        out.warnings,
        w.keys.len(),
        w.values,
        w.errors.len()
    );
    assert!(w.errors.is_empty(), "{:?}", w.errors);
}

#[test]
fn bad_log_hive3_new_format_logs_with_bad_checksums_are_refused() {
    let Some(dir) = yarp("BadLogHive3") else {
        return;
    };
    let primary = read(&dir.join("BadLogHive"));
    let files = vec![
        ("BadLogHive.LOG1", read(&dir.join("BadLogHive.LOG1"))),
        ("BadLogHive.LOG2", read(&dir.join("BadLogHive.LOG2"))),
    ];
    let out = replay(&primary, &logs(&files)).unwrap();
    // Both logs are NewDirtyHive1's with their base-block checksums spoilt: refused.
    let locations: Vec<&str> = out.warnings.iter().map(|(l, _)| l.as_str()).collect();
    assert!(
        locations.contains(&"BadLogHive.LOG1 offset 0x1fc"),
        "{:?}",
        out.warnings
    );
    assert!(
        locations.contains(&"BadLogHive.LOG2 offset 0x1fc"),
        "{:?}",
        out.warnings
    );
    assert_eq!(entries_applied(&out), 0);
    assert_eq!(&out.hive[HBIN_START..], &primary[HBIN_START..]);
    let w = walk(&out.hive).unwrap();
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    eprintln!(
        "BadLogHive3: warnings {:?}; walk: {} keys",
        out.warnings,
        w.keys.len()
    );
}

#[test]
fn bad_base_block_hive_recovers_through_the_log_base_block() {
    let Some(dir) = yarp("BadBaseBlockHive") else {
        return;
    };
    let primary = read(&dir.join("BadBaseBlockHive"));
    let bb = BaseBlock::parse(&primary).unwrap();
    assert!(!bb.checksum_ok()); // stored "INVL"; minor version spoilt to 1
    let files = vec![
        (
            "BadBaseBlockHive.LOG1",
            read(&dir.join("BadBaseBlockHive.LOG1")),
        ),
        (
            "BadBaseBlockHive.LOG2",
            read(&dir.join("BadBaseBlockHive.LOG2")),
        ),
    ];
    let out = replay(&primary, &logs(&files)).unwrap();
    assert!(
        out.applied
            .iter()
            .any(|l| l.contains("base block taken from BadBaseBlockHive.LOG1")),
        "{:?}",
        out.applied
    );
    assert!(
        out.applied
            .iter()
            .any(|l| l.starts_with("BadBaseBlockHive.LOG1: old format")),
        "{:?}",
        out.applied
    );
    let fixed = BaseBlock::parse(&out.hive).unwrap();
    assert_eq!((fixed.major, fixed.minor, fixed.file_type), (1, 3, 0));
    assert!(fixed.checksum_ok() && !fixed.is_dirty());
    assert!(!out.recovered.is_empty());
    assert_recovered_ranges_sane(&out);
    let w = walk(&out.hive).unwrap();
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    assert!(
        w.keys.contains_key("\\key_with_many_subkeys"),
        "{:?}",
        w.keys.keys().take(5).collect::<Vec<_>>()
    );
    eprintln!(
        "BadBaseBlockHive: applied {:?}, warnings {:?}; {} keys",
        out.applied,
        out.warnings,
        w.keys.len()
    );

    // Without its log, the damaged base block is still read (checksum alone is no error).
    let alone = replay(&primary, &[]).unwrap();
    assert!(
        alone
            .warnings
            .iter()
            .any(|(l, _)| l == "primary hive offset 0x1fc"),
        "{:?}",
        alone.warnings
    );
}

/// Files that are damaged or not whole hives: parsing and replay never panic.
#[test]
fn damaged_hives_give_ok_or_typed_errors() {
    let Some(dir) = yarp("") else {
        return;
    };
    let file = |name: &str| read(&dir.join(name));

    // TruncatedHive: clean, 12288 bytes of a 0x77000-byte hive bins data.
    //   parse: Err(DataSizeOutOfRange at 0x28); replay: Ok, unchanged, truncation warning.
    let h = file("TruncatedHive");
    assert!(matches!(
        BaseBlock::parse(&h),
        Err(HiveError::DataSizeOutOfRange {
            offset: 0x28,
            size: 0x77000,
            file_len: 12288
        })
    ));
    let out = replay(&h, &[]).unwrap();
    assert_eq!(out.hive, h);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert_eq!(out.warnings[0].0, "primary hive offset 0x28");

    // TruncatedDirtyHive: the same cut, dirty (5/4), no logs.
    //   parse: Err(DataSizeOutOfRange at 0x28); replay: Ok, bins unchanged, base block
    //   marked clean, warnings "no usable transaction log" and truncation.
    let h = file("TruncatedDirtyHive");
    assert!(matches!(
        BaseBlock::parse(&h),
        Err(HiveError::DataSizeOutOfRange { offset: 0x28, .. })
    ));
    let out = replay(&h, &[]).unwrap();
    assert_eq!(&out.hive[HBIN_START..], &h[HBIN_START..]);
    assert!(
        out.warnings
            .iter()
            .any(|(_, m)| m.contains("no usable transaction log"))
    );
    assert!(
        out.warnings
            .iter()
            .any(|(l, _)| l == "primary hive offset 0x28")
    );

    // GarbageHive: sequence numbers equal, checksum "INVL", 7 bytes of garbage after the
    //   bins. parse: Ok (checksum_ok false); replay: Ok, needs recovery because of the
    //   checksum, no logs: returned with the checksum rewritten, and walkable.
    // EffectiveSizeHive: same situation (checksum wrong; 0x1000 bytes of bins in a
    //   524288-byte file). Same results.
    for name in ["GarbageHive", "EffectiveSizeHive"] {
        let h = file(name);
        let bb = BaseBlock::parse(&h).unwrap();
        assert!(!bb.checksum_ok() && !bb.is_dirty(), "{name}");
        let out = replay(&h, &[]).unwrap();
        assert_eq!(&out.hive[HBIN_START..], &h[HBIN_START..], "{name}");
        assert!(
            out.warnings
                .iter()
                .any(|(l, _)| l == "primary hive offset 0x1fc"),
            "{name}: {:?}",
            out.warnings
        );
        let w = walk(&out.hive).unwrap();
        assert!(w.errors.is_empty(), "{name}: {:?}", w.errors);
        eprintln!("{name}: {} keys, {} values", w.keys.len(), w.values);
    }

    // InvalidParentFragment: a lone 4096-byte hive bin, no base block.
    //   parse: Err(BadSignature at 0x0, found "hbin"); replay: the same error.
    let h = file("InvalidParentFragment");
    let expected = HiveError::BadSignature {
        offset: 0,
        found: *b"hbin",
    };
    assert_eq!(BaseBlock::parse(&h).unwrap_err(), expected);
    assert_eq!(replay(&h, &[]).unwrap_err(), expected);

    // System_Delta: a "delta" hive (base block fine: 6/6, checksum ok, 0x20000 bytes of
    //   bins). parse: Ok; replay: Ok, clean, unchanged. (nt-hive panics walking its cells;
    //   that is the walker's business, not the base block's.)
    let h = file("System_Delta");
    assert!(BaseBlock::parse(&h).unwrap().checksum_ok());
    let out = replay(&h, &[]).unwrap();
    assert_eq!(out.hive, h);
    assert!(out.warnings.is_empty());

    // What each gives, for the record.
    for name in [
        "TruncatedHive",
        "TruncatedDirtyHive",
        "GarbageHive",
        "EffectiveSizeHive",
        "InvalidParentFragment",
        "System_Delta",
    ] {
        let h = file(name);
        let parsed = BaseBlock::parse(&h).map(|bb| (bb.is_dirty(), bb.checksum_ok()));
        match replay(&h, &[]) {
            Ok(out) => eprintln!(
                "{name}: parse {parsed:?} (dirty, checksum_ok); replay Ok, warnings {:?}",
                out.warnings
            ),
            Err(e) => eprintln!("{name}: parse {parsed:?}; replay Err({e})"),
        }
    }

    // Every file, every prefix length around the base block: no panic.
    for name in [
        "TruncatedHive",
        "TruncatedDirtyHive",
        "GarbageHive",
        "EffectiveSizeHive",
        "InvalidParentFragment",
        "System_Delta",
    ] {
        let h = file(name);
        for len in [0, 1, 4, 511, 512, 4095, 4096, 4097, 8192, h.len()] {
            let cut = &h[..len.min(h.len())];
            let _ = BaseBlock::parse(cut);
            let _ = replay(cut, &[]);
            let _ = replay(
                cut,
                &[LogFile {
                    name: "x.LOG1".into(),
                    bytes: cut,
                }],
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// regipy: dirty hives with logs, and dirty hives without

fn regipy_with_logs(primary: &str, log1: &str, log2: &str) {
    let (Some(p), Some(l1), Some(l2)) = (regipy(primary), regipy(log1), regipy(log2)) else {
        return;
    };
    let bb = BaseBlock::parse(&p).unwrap();
    assert!(bb.is_dirty(), "{primary} is expected dirty");
    let files = vec![
        (log1.trim_end_matches(".xz"), l1),
        (log2.trim_end_matches(".xz"), l2),
    ];
    let out = replay(&p, &logs(&files)).unwrap();
    assert!(out.warnings.is_empty(), "{primary}: {:?}", out.warnings);
    let n = entries_applied(&out);
    assert!(n > 0, "{primary}: {:?}", out.applied);
    let fixed = BaseBlock::parse(&out.hive).unwrap();
    assert!(fixed.checksum_ok() && !fixed.is_dirty());
    assert_recovered_ranges_sane(&out);

    let before = walk_as_found(&p).unwrap();
    let after = walk(&out.hive).unwrap();
    assert!(after.errors.is_empty(), "{primary}: {:?}", after.errors);
    assert!(after.keys.len() > 1);
    eprintln!(
        "{primary}: {n} entries applied ({:?}); keys {} -> {}, values {} -> {}, walk errors {} -> {}, recovered {} ranges",
        out.applied,
        before.keys.len(),
        after.keys.len(),
        before.values,
        after.values,
        before.errors.len(),
        after.errors.len(),
        out.recovered.len()
    );
}

#[test]
fn regipy_usrclass_with_logs() {
    // Primary 256/255; LOG1 holds entries 287..290, LOG2 291..300: the first entry of
    // LOG1 carries its base block's sequence number, which is not below the hive's.
    regipy_with_logs(
        "UsrClass.dat.xz",
        "UsrClass.dat.LOG1.xz",
        "UsrClass.dat.LOG2.xz",
    );
}

#[test]
fn regipy_transactions_ntuser_with_logs() {
    // Primary 567/566; log1 holds 566..588 (hive grows to 0xe2000), log2 only 562.
    regipy_with_logs(
        "transactions_NTUSER.DAT.xz",
        "transactions_ntuser.dat.log1.xz",
        "transactions_ntuser.dat.log2.xz",
    );
}

#[test]
fn regipy_dirty_hives_without_logs() {
    for name in ["SYSTEM_WIN_10_1709.xz", "amcache.hve.xz"] {
        let Some(p) = regipy(name) else {
            return;
        };
        assert!(BaseBlock::parse(&p).unwrap().is_dirty(), "{name}");
        let out = replay(&p, &[]).unwrap();
        assert_eq!(out.warnings.len(), 1, "{name}: {:?}", out.warnings);
        assert!(out.warnings[0].1.contains("no usable transaction log"));
        assert_eq!(out.hive.len(), p.len());
        assert_eq!(&out.hive[HBIN_START..], &p[HBIN_START..]);
        assert!(out.recovered.is_empty());
        let w = walk(&out.hive).unwrap();
        eprintln!(
            "{name}: {} keys, {} values, {} walk errors",
            w.keys.len(),
            w.values,
            w.errors.len()
        );
        assert!(w.keys.len() > 1);
    }
}
