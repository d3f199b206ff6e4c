//! Archives read in place: ZIP, tar and tar.gz collections give the rows of the same
//! collection unpacked (but for `source`, `locator` and the times the archive keeps);
//! encrypted ZIPs are refused without their password and read with it; a damaged ZIP
//! keeps what could be read. Fixtures: `fixtures/collections/make_collections.py`.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::{Row, parse_csv, run, stderr};
use netsession_scan::internals::fs::archive::{ArchiveFormat, ArchiveFs};
use netsession_scan::internals::warning::Warnings;

fn collection(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/collections")
        .join(name)
}

fn scan(path: &Path, extra: &[&str]) -> (Vec<Row>, String) {
    let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(|s| s.as_ref()).collect();
    args.push(path.as_os_str());
    let out = run(&args);
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    (parse_csv(&out.stdout), stderr(&out))
}

/// Rows without what differs by container: source, locator and times.
fn content(rows: &[Row]) -> BTreeSet<Vec<String>> {
    rows.iter()
        .map(|r| {
            [
                "message", "artifact", "user", "path", "value", "size", "sha256", "state",
            ]
            .iter()
            .map(|c| r[*c].clone())
            .collect()
        })
        .collect()
}

/// The files of the case image as collected, with the SHA-256 the case README gives.
const CASE_FILES: &[(&str, &str)] = &[
    (
        "Users/José Müller/AppData/Local/Akamai/netsession_win.exe",
        "163caf390d81cefbebceca9a5ba2e7b2295eecf8c3c74e8ecbd79467df355ad0",
    ),
    (
        "Users/José Müller/AppData/Local/Akamai/readme.txt",
        "4400ab0d25956c216caad8cc6b065ad73e1336d4cc64e237a853347368870314",
    ),
    (
        "Users/José Müller/AppData/Local/Akamai/logs/netsession.log",
        "4c0fe7edfd9d5ece680a01e04f90ec36f68951c28ff734d32d01cd02753e1393",
    ),
    (
        "Users/José Müller/AppData/Local/Akamai/cache/blob.dat",
        "595f1b8ed256fa1b0132938cb89c96254f09daa4e6b50e101d5f3c5f3ecbf128",
    ),
    (
        "Users/José Müller/Downloads/NetSessionSetup.exe",
        "05fed936629c57579c49538c49afab3f0eaba87568cf0be015ae417dfe795dc4",
    ),
    (
        "Windows/System32/config/SYSTEM",
        "98a4776ee2c3300e3862c57b48c02429cb5e36b6b8e27baf44b5a16f7bb10544",
    ),
    (
        "Windows/System32/config/SOFTWARE",
        "3adeb6108da4e05a36efa4a3eb0fb6f39685f9c340c003398b918cc6b92a5870",
    ),
    (
        "Users/José Müller/NTUSER.DAT",
        "162d1e6c81739bb65940b63951a5ca868805a09242db104ff9ef1403eaeb6cfa",
    ),
];

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The plain tar inside `kape-gnu.tar.gz`, written to a temporary folder.
fn plain_tar(dir: &Path) -> PathBuf {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(collection("kape-gnu.tar.gz")).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    let path = dir.join("kape-gnu.tar");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn archives_give_the_rows_of_the_unpacked_tree() {
    let (tree, _) = scan(&collection("kape"), &[]);
    let expected = content(&tree);
    // The tree's own rows: every planted file with its hash, the hives analysed.
    for (path, sha) in CASE_FILES {
        let windows = path.replace('/', "\\");
        if path.contains("Akamai") || path.contains("Downloads") {
            assert!(
                tree.iter()
                    .any(|r| r["path"] == windows && r["sha256"] == *sha),
                "{path} with its hash"
            );
        }
    }
    assert!(
        tree.iter().any(|r| r["artifact"] == "execution.bam"),
        "hives analysed"
    );
    let dir = tempfile::tempdir().unwrap();
    let tar = plain_tar(dir.path());
    for (input, extra) in [
        (collection("kape.tar.gz"), &[][..]),
        (collection("kape-gnu.tar.gz"), &[][..]),
        (tar, &[][..]),
        (collection("kape-zip64.zip"), &[][..]),
        (collection("velociraptor.zip"), &[][..]),
        (collection("aes.zip"), &["--password", "infected"][..]),
        (collection("zipcrypto.zip"), &["--password", "infected"][..]),
    ] {
        let (rows, _) = scan(&input, extra);
        let got = content(&rows);
        assert_eq!(
            got.symmetric_difference(&expected).collect::<Vec<_>>(),
            Vec::<&Vec<String>>::new(),
            "{} differs from the unpacked tree",
            input.display()
        );
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            rows.iter().all(|r| r["source"].contains(&name)),
            "{name}: source names the archive"
        );
        let exe = rows
            .iter()
            .find(|r| r["path"].ends_with("Akamai\\netsession_win.exe"))
            .unwrap();
        assert!(exe["locator"].starts_with("entry="), "{}", exe["locator"]);
        assert!(
            exe["locator"].ends_with("/Users/José Müller/AppData/Local/Akamai/netsession_win.exe"),
            "{}",
            exe["locator"]
        );
    }
}

#[test]
fn velociraptor_collection_times_come_from_its_metadata() {
    let (rows, _) = scan(&collection("velociraptor.zip"), &[]);
    let exe: Vec<&Row> = rows
        .iter()
        .filter(|r| r["path"] == "Users\\José Müller\\AppData\\Local\\Akamai\\netsession_win.exe")
        .collect();
    let times: BTreeSet<(String, String)> = exe
        .iter()
        .map(|r| (r["datetime"].clone(), r["timestamp_desc"].clone()))
        .collect();
    assert_eq!(
        times,
        BTreeSet::from([
            (
                "2012-02-14T09:30:00Z".to_string(),
                "Created, Modified, Metadata Changed (collection metadata)".to_string()
            ),
            (
                "2012-02-14T09:35:12Z".to_string(),
                "Accessed (collection metadata)".to_string()
            ),
        ])
    );
    let row = exe[0];
    assert!(
        row["source"].ends_with("velociraptor.zip root=uploads/auto/C:"),
        "{}",
        row["source"]
    );
    assert_eq!(
        row["locator"],
        "entry=uploads/auto/C%3A/Users/José Müller/AppData/Local/Akamai/netsession_win.exe"
    );
}

#[test]
fn archive_times_are_labelled_as_such() {
    // ZIP DOS times are local, with no zone.
    let (rows, _) = scan(&collection("kape-zip64.zip"), &[]);
    let exe = rows
        .iter()
        .find(|r| r["path"].ends_with("Akamai\\netsession_win.exe"))
        .unwrap();
    assert_eq!(exe["datetime"], "2024-05-01T12:00:00Z");
    assert_eq!(
        exe["timestamp_desc"],
        "Modified (archive entry, DOS local time, zone unknown)"
    );
    // tar times are UTC: the file's own modification time as the collector kept it.
    let (rows, _) = scan(&collection("kape.tar.gz"), &[]);
    let log = rows
        .iter()
        .find(|r| r["artifact"] == "install.log")
        .unwrap();
    assert_eq!(log["datetime"], "2012-02-14T09:41:22Z");
    assert_eq!(log["timestamp_desc"], "Modified (archive entry, UTC)");
}

#[test]
fn encrypted_zip_is_refused_without_its_password() {
    for name in ["aes.zip", "zipcrypto.zip"] {
        let path = collection(name);
        let out = run(&[path.as_os_str()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = stderr(&out);
        assert!(err.contains(name), "{err}");
        assert!(
            err.contains("8 file entries are all encrypted") && err.contains("--password"),
            "{err}"
        );
        let out = run(&["--password".as_ref(), "wrong".as_ref(), path.as_os_str()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stderr(&out).contains("wrong password"), "{}", stderr(&out));
    }
}

#[test]
fn partly_encrypted_zip_warns_per_unreadable_entry() {
    let (rows, err) = scan(&collection("partly-encrypted.zip"), &[]);
    assert!(err.contains("1 of 8 entries are encrypted"), "{err}");
    assert!(
        err.contains("NetSessionSetup.exe") && err.contains("encrypted: give the password"),
        "{err}"
    );
    let setup = rows
        .iter()
        .find(|r| r["path"].ends_with("NetSessionSetup.exe"))
        .unwrap();
    assert_eq!(setup["sha256"], "", "nothing read, nothing hashed");
    assert!(rows.iter().any(|r| r["artifact"] == "execution.bam"));
    let (rows, err) = scan(
        &collection("partly-encrypted.zip"),
        &["--password", "infected"],
    );
    assert!(!err.contains("warning:"), "{err}");
    let setup = rows
        .iter()
        .find(|r| r["path"].ends_with("NetSessionSetup.exe"))
        .unwrap();
    assert_eq!(setup["sha256"], CASE_FILES[4].1);
}

#[test]
fn truncated_zip_keeps_what_was_read() {
    let (rows, err) = scan(&collection("velociraptor-truncated.zip"), &[]);
    assert!(
        err.contains("central directory") && err.contains("read one by one"),
        "{err}"
    );
    for (path, sha) in &CASE_FILES[..5] {
        let windows = path.replace('/', "\\");
        assert!(
            rows.iter()
                .any(|r| r["path"] == windows && r["sha256"] == *sha),
            "{path} kept"
        );
    }
}

#[test]
fn a_gzip_that_is_not_a_tar_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.raw.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &[0u8; 4096]).unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let out = run(&[path.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("disk.raw.gz: gzip-compressed file, not a tar: decompress it first"),
        "{}",
        stderr(&out)
    );
}

/// Every entry as our reader gives it: checked against the case image's hashes always,
/// and against `unzip -p` / `tar -xO` where those tools are installed.
#[test]
fn entries_read_as_unzip_and_tar_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let tar = plain_tar(dir.path());
    let cases = [
        (
            collection("velociraptor.zip"),
            ArchiveFormat::Zip,
            "uploads/auto/C%3A/",
        ),
        (collection("kape-zip64.zip"), ArchiveFormat::Zip, "C/"),
        (collection("aes.zip"), ArchiveFormat::Zip, "C/"),
        (collection("kape.tar.gz"), ArchiveFormat::TarGz, "C/"),
        (tar, ArchiveFormat::Tar, ""),
    ];
    let mut external = 0;
    for (path, format, prefix) in cases {
        let warnings = Warnings::new();
        let archive = ArchiveFs::open(&path, "t", format, Some("infected"), &warnings).unwrap();
        assert!(warnings.is_empty(), "{:?}", warnings.snapshot());
        let mut checked = 0;
        for (index, entry) in archive.entries().iter().enumerate() {
            let raw_path = archive.entry_path(index);
            let mut bytes = Vec::new();
            archive
                .open_entry(index)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            assert_eq!(bytes.len() as u64, entry.size, "{}", raw_path);
            if let Some((_, sha)) = CASE_FILES
                .iter()
                .find(|(p, _)| raw_path.ends_with(&format!("{prefix}{p}")))
            {
                assert_eq!(sha256(&bytes), *sha, "{}", raw_path);
                checked += 1;
            }
            let tool = match format {
                // Info-ZIP's unzip reads no AES.
                ArchiveFormat::Zip if !path.ends_with("aes.zip") => {
                    std::process::Command::new("unzip")
                        .arg("-p")
                        .arg(&path)
                        .arg(raw_path.replace('[', "\\["))
                        .output()
                }
                _ => std::process::Command::new("tar")
                    .arg("-xOf")
                    .arg(&path)
                    .arg(raw_path)
                    .output(),
            };
            match tool {
                Ok(out) if out.status.success() => {
                    assert_eq!(sha256(&out.stdout), sha256(&bytes), "{}", raw_path);
                    external += 1;
                }
                Ok(_) if path.ends_with("aes.zip") => {}
                Ok(out) => panic!("{}: {}", raw_path, String::from_utf8_lossy(&out.stderr)),
                Err(_) => eprintln!("skipped the comparison with unzip/tar: not installed"),
            }
        }
        assert_eq!(checked, CASE_FILES.len(), "{}", path.display());
    }
    eprintln!("{external} entries compared with unzip -p / tar -xO");
}

/// An unpacked Velociraptor collection: the device folder is a volume root and names are
/// shown decoded, as in the ZIP.
#[test]
fn unpacked_velociraptor_collection_is_read_like_its_zip() {
    let dir = tempfile::tempdir().unwrap();
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(collection("velociraptor.zip")).unwrap()).unwrap();
    archive.extract(dir.path()).unwrap();
    let (rows, _) = scan(dir.path(), &[]);
    let (zipped, _) = scan(&collection("velociraptor.zip"), &[]);
    assert_eq!(content(&rows), content(&zipped));
    let exe = rows
        .iter()
        .find(|r| r["path"] == "Users\\José Müller\\AppData\\Local\\Akamai\\netsession_win.exe")
        .unwrap();
    assert!(
        exe["source"].ends_with(" root=uploads/auto/C:"),
        "{}",
        exe["source"]
    );
}
