//! Hives anywhere in a directory input: any file with a valid `regf` base block is a
//! hive whatever its name or folder, its kind read from its content, its logs found
//! beside it, the hives of one folder analysed together. The hives are the fixtures of
//! `fixtures/registry/make_hives.py`, copied under other names.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;

#[test]
fn a_folder_of_exported_hives_gives_the_facts_the_hives_give_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("export");
    for name in ["SYSTEM", "SOFTWARE", "NTUSER.DAT"] {
        place(&folder, name, name);
    }
    let (rows, summary) = scan_inputs(&[&folder]);
    assert!(!rows.is_empty(), "{summary}");
    assert_eq!(hives_analysed(&summary), 3, "{summary}");
    let direct: Vec<PathBuf> = ["SYSTEM", "SOFTWARE", "NTUSER.DAT"]
        .iter()
        .map(|n| registry_fixture(n))
        .collect();
    let direct: Vec<&Path> = direct.iter().map(PathBuf::as_path).collect();
    let (direct_rows, _) = scan_inputs(&direct);
    assert_eq!(facts(&rows), facts(&direct_rows));
    let label = folder.display().to_string();
    for row in &rows {
        assert_eq!(row["source"], label);
        let hive = row["locator"].split(' ').next().unwrap();
        assert!(
            ["hive=SYSTEM", "hive=SOFTWARE", "hive=NTUSER.DAT"].contains(&hive),
            "{}",
            row["locator"]
        );
    }
}

#[test]
fn renamed_hives_in_any_folder_are_read_by_content() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    place(&case, "SYSTEM", "SYSTEM.hiv");
    place(&case, "NTUSER.DAT", "zoe_NTUSER.DAT");
    place(&case, "SOFTWARE", "hives/1.bin");
    place(&case, "Amcache.hve", "hives/deeper/x");
    let (rows, summary) = scan_inputs(&[&case]);
    assert_eq!(hives_analysed(&summary), 4, "{summary}");
    let from = |hive: &str| -> Vec<&Row> {
        rows.iter()
            .filter(|r| r["locator"].starts_with(&format!("hive={hive} ")))
            .collect()
    };
    let software = from("hives\\1.bin");
    assert!(!software.is_empty(), "no rows from hives\\1.bin");
    assert!(software.iter().all(|r| r["path"].starts_with("SOFTWARE\\")));
    let system = from("SYSTEM.hiv");
    assert!(system.iter().any(|r| r["artifact"] == "registry.service"));
    assert!(system.iter().all(|r| r["path"].starts_with("SYSTEM\\")));
    let ntuser = from("zoe_NTUSER.DAT");
    assert!(ntuser.iter().all(|r| r["path"].starts_with("NTUSER\\")));
    assert!(
        ntuser
            .iter()
            .any(|r| r["artifact"] == "execution.userassist")
    );
    let amcache = from("hives\\deeper\\x");
    assert!(amcache.iter().any(|r| r["artifact"] == "execution.amcache"));
}

#[test]
fn a_dirty_hive_found_by_content_has_its_logs_replayed() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    place(&case, "dirty/NTUSER.DAT", "users/zoe.dat");
    place(&case, "dirty/NTUSER.DAT.LOG1", "users/zoe.dat.LOG1");
    let (rows, summary) = scan_inputs(&[&case]);
    // The log is used beside its hive, never as a hive of its own.
    assert_eq!(hives_analysed(&summary), 1, "{summary}");
    assert!(
        rows.iter().any(|r| r["state"] == "from-log"),
        "no row from the log: {summary}"
    );
    let (direct, _) = scan_inputs(&[&registry_fixture("dirty/NTUSER.DAT")]);
    assert_eq!(facts(&rows), facts(&direct));
}

#[test]
fn a_hive_matched_by_name_is_read_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mounted");
    place(&root, "SYSTEM", "C/Windows/System32/config/SYSTEM");
    place(&root, "SYSTEM", "C/Windows/System32/config/SYSTEM.bak");
    place(&root, "NTUSER.DAT", "C/Users/zoe/NTUSER.DAT");
    let (rows, summary) = scan_inputs(&[&root]);
    // SYSTEM and NTUSER.DAT by name, SYSTEM.bak by content: three, none twice.
    assert_eq!(hives_analysed(&summary), 3, "{summary}");
    let mut seen = BTreeSet::new();
    for row in &rows {
        assert!(
            seen.insert((
                row["source"].clone(),
                row["locator"].clone(),
                row["message"].clone()
            )),
            "a row twice: {row:?}"
        );
    }
    assert!(
        rows.iter()
            .any(|r| r["locator"].starts_with("hive=C\\Windows\\System32\\config\\SYSTEM.bak "))
    );
}

#[test]
fn files_that_only_look_like_hives_are_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    std::fs::create_dir_all(&case).unwrap();
    // `regf` and nothing valid after it; a hive cut to 4 KiB; a plain 8 KiB file.
    let mut fake = b"regf".to_vec();
    fake.resize(8192, 0xFF);
    std::fs::write(case.join("fake.bin"), &fake).unwrap();
    let hive = std::fs::read(registry_fixture("SYSTEM")).unwrap();
    std::fs::write(case.join("cut.bin"), &hive[..4096]).unwrap();
    std::fs::write(case.join("plain.bin"), vec![b'x'; 8192]).unwrap();
    let (rows, summary) = scan_inputs(&[&case]);
    assert!(rows.is_empty());
    assert_eq!(hives_analysed(&summary), 0, "{summary}");
}

#[test]
fn the_limit_on_files_opened_is_said() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("many");
    let limit = netsession_scan::internals::fs::hive_suspects::MAX_SUSPECTS;
    for folder in 0..=(limit / 1000) {
        let dir = case.join(format!("d{folder:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..1000 {
            // Sparse 8 KiB files: a plausible hive size, no disk used.
            let f = std::fs::File::create(dir.join(format!("f{i:04}"))).unwrap();
            f.set_len(8192).unwrap();
        }
    }
    let (rows, summary) = scan_inputs(&[&case]);
    assert!(rows.is_empty());
    assert!(
        summary.contains("1000 more files of a plausible hive size were not opened"),
        "{summary}"
    );
}

#[test]
fn inside_a_volume_hives_are_found_by_name_and_in_the_config_folder_by_content() {
    // A mounted volume (Windows and Users at its root): its files are not all opened
    // for a signature (that would stat every file of the volume). Hive copies in
    // Windows\System32\config and below are; so is a folder of hives beside the volume.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("case");
    place(
        &root,
        "SYSTEM",
        "C/Windows/System32/config/RegBack/SYSTEM.old",
    );
    place(&root, "NTUSER.DAT", "C/Users/zoe/Desktop/exported.dat");
    place(&root, "SOFTWARE", "hives/soft.hiv");
    let (_, summary) = scan_inputs(&[&root]);
    assert_eq!(
        hives_analysed(&summary),
        2,
        "RegBack copy and the loose hive, not the copy on the desktop: {summary}"
    );
}
