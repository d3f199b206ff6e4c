//! Collected NTFS metadata inside archives: the KAPE-style collection
//! `fixtures/collections/kape_case.tar.gz` (made by `make_kape.sh`), read as that tar.gz
//! and as a ZIP of the same files (built here with the `zip` crate), gives the MFT-derived
//! rows and the journal rows of the same collection unpacked: same names, states, times,
//! locators; only `source` (the archive and its entry) and the name of the collection's
//! copy of a file differ.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use common::*;

fn kape_case() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/kape_case.tar.gz")
}

/// Unpacks the collection into `into` with the `tar` crate (test side only).
fn unpack(into: &Path) -> PathBuf {
    let file = std::fs::File::open(kape_case()).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(into)
        .unwrap();
    into.join("kape")
}

/// A ZIP of the folder `kape` (deflated, names under `kape/`), at `zip_path`.
fn zip_folder(kape: &Path, zip_path: &Path) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let base = kape.parent().unwrap();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![kape.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let name = path
            .strip_prefix(base)
            .unwrap()
            .to_string_lossy()
            .to_string();
        zip.start_file(name, options).unwrap();
        zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

/// The rows of collected `$MFT`s and `$J`s, keyed by all but `source` and `message`.
fn collected(rows: &[Row]) -> BTreeSet<Vec<String>> {
    rows.iter()
        .filter(|r| r["source"].contains("$MFT") || r["source"].contains("$J"))
        .map(|r| {
            [
                "datetime",
                "timestamp_desc",
                "artifact",
                "user",
                "path",
                "value",
                "size",
                "sha256",
                "state",
                "locator",
            ]
            .iter()
            .map(|c| r[*c].clone())
            .collect()
        })
        .collect()
}

#[test]
fn a_kape_zip_and_tar_gz_give_the_mft_and_journal_rows_of_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let kape = unpack(tmp.path());
    let zip_path = tmp.path().join("kape_case.zip");
    zip_folder(&kape, &zip_path);

    let folder_rows = scan_ok(&kape);
    let want = collected(&folder_rows);
    // The planted evidence is there: the deleted DLL from C's $MFT, the journal of D.
    assert!(
        folder_rows
            .iter()
            .any(|r| r["path"].ends_with("netsession_win_a1b2c3d.dll") && r["state"] == "deleted"),
        "deleted DLL from the folder's $MFT"
    );
    let journal = folder_rows
        .iter()
        .filter(|r| r["artifact"] == "ntfs.usn_journal")
        .count();
    assert_eq!(journal, 29);
    assert!(want.len() > 60, "{}", want.len());

    for archive in [zip_path, kape_case()] {
        let rows = scan_ok(&archive);
        let got = collected(&rows);
        assert_eq!(
            got.symmetric_difference(&want).collect::<Vec<_>>(),
            Vec::<&Vec<String>>::new(),
            "{} differs from the unpacked folder",
            archive.display()
        );
        let name = archive.file_name().unwrap().to_string_lossy().to_string();
        let sources: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r["source"].contains("$MFT") || r["source"].contains("$J"))
            .map(|r| r["source"].as_str())
            .collect();
        let expected: BTreeSet<String> = ["kape/C/$MFT", "kape/D/$MFT", "kape/D/$Extend/$J"]
            .iter()
            .map(|e| format!("{} entry={e}", archive.display()))
            .collect();
        assert_eq!(
            sources,
            expected.iter().map(String::as_str).collect(),
            "{name}"
        );
        // A file the archive holds a copy of is read there once, the $MFT row names it.
        let exe: Vec<&Row> = rows
            .iter()
            .filter(|r| r["path"].ends_with("Akamai\\netsession_win.exe"))
            .collect();
        assert!(
            exe.iter().any(|r| r["message"].contains(
                "entry=kape/C/Users/José Müller/AppData/Local/Akamai/netsession_win.exe"
            )),
            "{name}: {exe:?}"
        );
        // Its content is hashed from the archive's entry, never again through the $MFT.
        assert!(
            exe.iter()
                .any(|r| !r["sha256"].is_empty() && r["locator"].starts_with("entry=")),
            "{name}: {exe:?}"
        );
        assert!(
            exe.iter()
                .all(|r| r["sha256"].is_empty() || !r["source"].contains("$MFT")),
            "{name}: {exe:?}"
        );
    }
}

#[test]
fn a_velociraptor_layout_gives_the_same_journal_rows() {
    // D's $MFT and $J as a Velociraptor collector stores them: device folder and the
    // journal's stream name URL-encoded.
    let tmp = tempfile::tempdir().unwrap();
    let kape = unpack(tmp.path());
    let device = "uploads/ntfs/%5C%5C.%5CD%3A";
    let zip_path = tmp.path().join("velociraptor.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (from, to) in [
        ("D/$MFT", format!("{device}/$MFT")),
        ("D/$Extend/$J", format!("{device}/$Extend/$UsnJrnl%3A$J")),
    ] {
        zip.start_file(to, options).unwrap();
        zip.write_all(&std::fs::read(kape.join(from)).unwrap())
            .unwrap();
    }
    zip.finish().unwrap();
    let journal = |rows: &[Row]| -> BTreeSet<Vec<String>> {
        collected(
            &rows
                .iter()
                .filter(|r| r["artifact"] == "ntfs.usn_journal")
                .cloned()
                .collect::<Vec<_>>(),
        )
    };
    let want = journal(&scan_ok(&kape.join("D")));
    assert!(!want.is_empty());
    let rows = scan_ok(&zip_path);
    assert_eq!(journal(&rows), want);
    let source = format!(
        "{} entry={device}/$Extend/$UsnJrnl%3A$J",
        zip_path.display()
    );
    assert!(
        rows.iter()
            .filter(|r| r["artifact"] == "ntfs.usn_journal")
            .all(|r| r["source"] == source)
    );
}
