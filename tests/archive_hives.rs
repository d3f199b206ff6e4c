//! Hives by content inside archives: a ZIP and a tar.gz holding renamed hives (the
//! fixtures of `fixtures/registry/make_hives.py` under other names, built here) give the
//! registry facts the same files give unpacked in a folder: same hives found (by name
//! and by content, with the folders' volume-root policy), logs beside them replayed.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::*;

/// (fixture, name in the collection)
const LAYOUT: &[(&str, &str)] = &[
    ("SOFTWARE", "hives/soft.hiv"),
    ("SYSTEM", "SYSTEM.hiv"),
    ("NTUSER.DAT", "zoe_NTUSER.DAT"),
    ("dirty/NTUSER.DAT", "users/zoe.dat"),
    ("dirty/NTUSER.DAT.LOG1", "users/zoe.dat.LOG1"),
    // A volume root (Windows and Users): by name, and in config by content only.
    ("SYSTEM", "C/Windows/System32/config/SYSTEM"),
    ("SYSTEM", "C/Windows/System32/config/RegBack/SYSTEM.old"),
    ("NTUSER.DAT", "C/Users/zoe/Desktop/exported.dat"),
];

fn scan(input: &Path) -> (Vec<Row>, String) {
    scan_inputs(&[input])
}

fn build(tmp: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let folder = tmp.join("case");
    let zip_path = tmp.join("case.zip");
    let tgz_path = tmp.join("case.tar.gz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&tgz_path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for (name, at) in LAYOUT {
        let bytes = std::fs::read(registry_fixture(name)).unwrap();
        let target = folder.join(at);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, &bytes).unwrap();
        zip.start_file(*at, options).unwrap();
        zip.write_all(&bytes).unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, at, &bytes[..]).unwrap();
    }
    // `regf` and nothing valid after it: no hive.
    let mut fake = b"regf".to_vec();
    fake.resize(8192, 0xFF);
    std::fs::write(folder.join("fake.bin"), &fake).unwrap();
    zip.start_file("fake.bin", options).unwrap();
    zip.write_all(&fake).unwrap();
    zip.finish().unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    (folder, zip_path, tgz_path)
}

#[test]
fn hives_in_an_archive_are_found_by_content_as_in_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let (folder, zip_path, tgz_path) = build(tmp.path());
    let (folder_rows, folder_summary) = scan(&folder);
    // By name: config\SYSTEM; by content: soft.hiv, SYSTEM.hiv, zoe_NTUSER.DAT, zoe.dat
    // (its log used beside it) and RegBack\SYSTEM.old; not the copy on the desktop.
    assert_eq!(hives_analysed(&folder_summary), 6, "{folder_summary}");
    let want = facts(&folder_rows);
    for archive in [zip_path, tgz_path] {
        let (rows, summary) = scan(&archive);
        let name = archive.display().to_string();
        assert_eq!(hives_analysed(&summary), 6, "{name}: {summary}");
        assert_eq!(
            facts(&rows).symmetric_difference(&want).collect::<Vec<_>>(),
            Vec::<&Vec<String>>::new(),
            "{name} differs from the folder"
        );
        // The source is the archive (with the volume root, for the hive matched there).
        assert!(
            rows.iter().all(|r| r["source"].starts_with(&name)),
            "{name}"
        );
        let from = |hive: &str| -> Vec<&Row> {
            rows.iter()
                .filter(|r| r["locator"].starts_with(&format!("hive={hive} ")))
                .collect()
        };
        let soft = from("hives\\soft.hiv");
        assert!(!soft.is_empty(), "{name}: no rows from hives\\soft.hiv");
        assert!(soft.iter().all(|r| r["path"].starts_with("SOFTWARE\\")));
        assert!(
            from("users\\zoe.dat")
                .iter()
                .any(|r| r["state"] == "from-log"),
            "{name}: log not replayed"
        );
        assert!(!from("C\\Windows\\System32\\config\\RegBack\\SYSTEM.old").is_empty());
        assert!(from("C\\Users\\zoe\\Desktop\\exported.dat").is_empty());
    }
}

#[test]
fn an_archive_with_nothing_to_scan_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let make = |name: &str, files: &[(&str, &[u8])]| {
        let path = tmp.path().join(name);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        for (at, bytes) in files {
            zip.start_file(*at, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        path
    };
    let empty = make("empty.zip", &[]);
    let (rows, summary) = scan(&empty);
    assert!(rows.is_empty());
    assert!(
        summary.contains("an empty archive (0 entries)"),
        "{summary}"
    );
    let holiday = make(
        "photos.zip",
        &[
            ("holiday/beach.jpg", b"\xff\xd8\xff"),
            ("notes.txt", b"hello"),
        ],
    );
    let (_, summary) = scan(&holiday);
    assert!(
        summary.contains("nothing could be scanned: 2 entries listed"),
        "{summary}"
    );
    // A collection with something to scan says nothing of the kind.
    let (zip, _, _) = build(tmp.path());
    let (_, summary) = scan(&zip);
    assert!(!summary.contains("nothing could be scanned"), "{summary}");
    assert!(!summary.contains("empty archive"), "{summary}");
}
