//! End-to-end: disk images read directly (raw GPT and MBR disks, split raw, E01), built
//! by `fixtures/images/make_images.sh`. The raw images are stored gzip-compressed and
//! unpacked with `gzip -dc` (the tests skip, saying so, without gzip).

mod common;

use common::*;
use std::path::Path;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const EXE_SHA256: &str = "bba9a69eacac8f88c9924cd7c1fc8f88b3462df019941bfebbaf1e6042fc3a07";

/// Rows without `source`, for comparing the same evidence in two containers.
fn without_source(rows: &[Row]) -> Vec<Vec<(String, String)>> {
    rows.iter()
        .map(|r| {
            let mut v: Vec<(String, String)> = r
                .iter()
                .filter(|(k, _)| *k != "source")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            v.sort();
            v
        })
        .collect()
}

#[test]
fn gpt_disk_raw_and_e01_give_the_same_rows_and_the_image_is_never_written() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw) = gunzip("gpt.raw.gz", tmp.path()) else {
        return;
    };
    let before = sha256_file(&raw);
    let raw_rows = scan_ok(&raw);
    assert_eq!(sha256_file(&raw), before, "the image was modified");

    let client: Vec<_> = raw_rows
        .iter()
        .filter(|r| r["artifact"] == "install.client")
        .collect();
    assert!(!client.is_empty(), "{raw_rows:?}");
    for r in &client {
        assert_eq!(
            r["path"],
            "Users\\José Müller\\AppData\\Local\\Akamai\\netsession_win.exe"
        );
        assert_eq!(r["user"], "José Müller");
        assert_eq!(
            r["sha256"], EXE_SHA256,
            "hash of the data read through the MFT runs"
        );
        assert_eq!(r["size"], "20000");
        assert_eq!(r["state"], "allocated");
        assert_eq!(r["locator"], "mft=75 seq=1", "fls says 75-128-2");
        assert!(r["source"].ends_with(" p1@1048576"), "{}", r["source"]);
    }
    let descs: Vec<&str> = client
        .iter()
        .map(|r| r["timestamp_desc"].as_str())
        .collect();
    assert!(
        descs.iter().any(|d| d.ends_with("($SI)")) && descs.iter().any(|d| d.ends_with("($FN)")),
        "{descs:?}"
    );

    // The same disk as a three-segment E01 (given by its first segment, beside a raw
    // image of the same name that must not be taken for a segment).
    let e01_dir = tmp.path().join("e01");
    std::fs::create_dir(&e01_dir).unwrap();
    for seg in ["gpt.E01", "gpt.E02", "gpt.E03"] {
        std::fs::copy(fixture(seg), e01_dir.join(seg)).unwrap();
    }
    std::fs::copy(&raw, e01_dir.join("gpt.raw")).unwrap();
    let e01_rows = scan_ok(&e01_dir.join("gpt.E01"));
    assert_eq!(without_source(&e01_rows), without_source(&raw_rows));
    assert!(
        e01_rows
            .iter()
            .all(|r| r["source"].contains("gpt.E01 p1@1048576"))
    );

    // A missing middle segment is read around (tests/failure_injection.rs); a missing
    // first segment leaves nothing to place: a clear error naming it, exit 2.
    std::fs::remove_file(e01_dir.join("gpt.E01")).unwrap();
    let out = run_on(&e01_dir.join("gpt.E02"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("gpt.E01"), "{}", stderr(&out));
}

#[test]
fn mbr_disk_at_sector_63_and_its_split_raw_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw) = gunzip("mbr63.raw.gz", tmp.path()) else {
        return;
    };
    let rows = scan_ok(&raw);
    let client: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "install.client")
        .collect();
    assert!(!client.is_empty());
    assert!(
        client
            .iter()
            .all(|r| r["source"].ends_with(" p1@32256") && r["sha256"] == EXE_SHA256)
    );
    for part in ["mbr63.raw.001.gz", "mbr63.raw.002.gz", "mbr63.raw.003.gz"] {
        gunzip(part, tmp.path());
    }
    let split_rows = scan_ok(&tmp.path().join("mbr63.raw.001"));
    assert_eq!(without_source(&split_rows), without_source(&rows));
}

#[test]
fn corpus_ntfs_images_scan_cleanly() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ntfs/dfir_ntfs");
    if !corpus.is_dir() {
        eprintln!("skipped: no corpus at {}", corpus.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for name in ["ntfs3.raw.gz", "ntfs_index.raw.gz", "ntfs3_attrlist.raw.gz"] {
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(corpus.join(name))
            .output();
        let Ok(out) = out else { return };
        let target = tmp.path().join(name.trim_end_matches(".gz"));
        std::fs::write(&target, out.stdout).unwrap();
        let result = run_on(&target, &["-q"]);
        let err = stderr(&result);
        assert_eq!(result.status.code(), Some(0), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(
            parse_csv(&result.stdout).is_empty(),
            "{name}: NetSession rows in a clean volume"
        );
    }
}

/// The case image (fixtures/images/case/make_case.sh; ground truth from fls/istat/icat in
/// its README): a compressed and a sparse file, a deleted DLL, a downloaded installer
/// and hives inside, as raw and as E01.
#[test]
fn case_image_compressed_sparse_deleted_and_hives_inside() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw) = gunzip("case/case.raw.gz", tmp.path()) else {
        return;
    };
    let rows = scan_ok(&raw);
    let file = |suffix: &str| -> Vec<&Row> {
        rows.iter()
            .filter(|r| r["path"].ends_with(suffix))
            .collect()
    };
    let expect_hash = [
        (
            "Akamai\\netsession_win.exe",
            "163caf390d81cefbebceca9a5ba2e7b2295eecf8c3c74e8ecbd79467df355ad0",
            "mft=76 seq=1",
        ),
        // Compressed: the hash is of the decompressed data, as icat gives it.
        (
            "cache\\blob.dat",
            "595f1b8ed256fa1b0132938cb89c96254f09daa4e6b50e101d5f3c5f3ecbf128",
            "mft=80 seq=1",
        ),
        // Sparse: holes and the part past the initialized size read as zeros.
        (
            "cache\\sparse.bin",
            "d5e0761532599927f08c415f750a83ac5dcdb9c59920c4e52438a8c33d2ab261",
            "mft=79 seq=1",
        ),
    ];
    for (suffix, sha, locator) in expect_hash {
        let found = file(suffix);
        assert!(!found.is_empty(), "{suffix} not reported");
        assert!(
            found
                .iter()
                .all(|r| r["sha256"] == sha && r["locator"] == locator),
            "{suffix}: {found:?}"
        );
        assert!(found.iter().all(|r| r["state"] == "allocated"));
    }
    let dll = file("netsession_win_a1b2c3d.dll");
    assert!(!dll.is_empty(), "deleted DLL not reported");
    for r in &dll {
        assert_eq!(r["state"], "deleted");
        assert_eq!(r["artifact"], "install.core_dll");
        assert_eq!(r["locator"], "mft=75 seq=2");
        assert_eq!(
            r["sha256"],
            "320b4c4c5242c591a7b61ce8b1f258aa29e56c7795ced58723447b0224943639"
        );
        assert!(r["message"].contains("may have been overwritten"));
    }
    assert!(
        dll.iter()
            .any(|r| r["datetime"] == "2012-02-14T09:30:02.0000000Z"
                && r["timestamp_desc"] == "Created, Modified, MFT Entry Changed ($SI)")
    );
    let log: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "content.log_entry")
        .collect();
    assert_eq!(log.len(), 3);
    assert!(!file("Downloads\\NetSessionSetup.exe").is_empty());
    // The installer's Zone.Identifier stream: its own rows, and the URL it names.
    let zone = file("NetSessionSetup.exe:Zone.Identifier");
    assert!(!zone.is_empty(), "Zone.Identifier not reported");
    assert!(
        zone.iter()
            .any(|r| r["artifact"] == "download.zone_identifier"
                && r["locator"] == "mft=81 seq=1 attr=128:Zone.Identifier"
                && r["sha256"]
                    == "49e3c15ec94cad27def8a90e73932a031568ce0d46744c1152c300c302499bac"
                && r["value"]
                    == "ZoneId=3; HostUrl=http://dl.netsession.example.com/NetSessionSetup.exe")
    );
    assert!(zone.iter().any(|r| r["artifact"] == "content.url"
        && r["value"] == "http://dl.netsession.example.com/NetSessionSetup.exe"));
    // Hives inside the image go through the registry analysis.
    let fw: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "registry.firewall_rule")
        .collect();
    assert_eq!(fw.len(), 3);
    assert!(
        fw.iter()
            .all(|r| r["locator"].starts_with("hive=Windows\\System32\\config\\SYSTEM offset=0x"))
    );
    assert!(
        fw.iter()
            .all(|r| r["source"].ends_with("case.raw p1@1048576"))
    );
    let run = rows
        .iter()
        .find(|r| r["artifact"] == "registry.run" && r["path"].starts_with("NTUSER\\"))
        .unwrap();
    assert_eq!(run["user"], "José Müller");

    let e01 = scan_ok(&fixture("case/case.E01"));
    assert_eq!(without_source(&e01), without_source(&rows));
}

#[test]
fn damaged_images_give_clear_errors_or_warnings_never_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(raw) = gunzip("gpt.raw.gz", tmp.path()) else {
        return;
    };
    let good = std::fs::read(&raw).unwrap();

    // Corrupt NTFS boot sector: nothing can be read, exit 2 naming the input and why.
    let mut no_boot = good.clone();
    no_boot[1_048_576..1_048_576 + 512].fill(0xAB);
    let path = tmp.path().join("noboot.raw");
    std::fs::write(&path, &no_boot).unwrap();
    let out = run_on(&path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("noboot.raw") && err.contains("NTFS"), "{err}");

    // Damage inside $MFT (a torn record) and a truncated image: warnings, exit 0, the
    // rest still found; flips at random places never panic.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for round in 0..12 {
        let mut bytes = good.clone();
        if round % 4 == 3 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes.truncate(1_048_576 + (x as usize) % (bytes.len() - 1_048_576));
        } else {
            for _ in 0..64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // The first MiB of the volume holds $MFT on this small disk.
                let at = 1_048_576 + (x as usize) % (1 << 20);
                bytes[at] ^= 0x5A;
            }
        }
        let path = tmp.path().join(format!("damaged{round}.raw"));
        std::fs::write(&path, &bytes).unwrap();
        let out = run_on(&path, &["-q"]);
        let err = stderr(&out);
        assert!(
            matches!(out.status.code(), Some(0) | Some(2)),
            "round {round}: {err}"
        );
        assert!(!err.contains("panicked"), "round {round}: {err}");
    }
}

/// Paths, deletion states and content hashes of the corpus volumes agree with The Sleuth
/// Kit (`fls -r -p`, `icat`), using a catalog that matches every file. Skipped when the
/// corpus or sleuthkit is missing.
#[test]
fn corpus_volumes_agree_with_fls_and_icat() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ntfs/dfir_ntfs");
    if !corpus.is_dir()
        || std::process::Command::new("fls")
            .arg("-V")
            .output()
            .is_err()
    {
        eprintln!("skipped: corpus or sleuthkit (fls) missing");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let catalog = catalog_matching_everything(tmp.path());
    // testfs1 (from the ntfs crate's tests) has MFT record 255 straddling two data runs
    // of $MFT, which ntfs 0.4.0 cannot read.
    for (name, sector) in [
        ("ntfs3.raw.gz", 0u64),
        ("ntfs_index.raw.gz", 128),
        // One file with 100 hard links, its names spread over extension records.
        ("ntfs3_attrlist.raw.gz", 0),
        ("../ntfs-crate/testfs1", 0),
        // A 5 GiB sparse GPT disk made by Windows, with a volume shadow copy.
        ("vss_1_vol.tar.gz", 67_584),
    ] {
        let image = if let Some(stem) = name.strip_suffix(".tar.gz") {
            let unpacked = std::process::Command::new("tar")
                .arg("-xzf")
                .arg(corpus.join(name))
                .arg("-C")
                .arg(tmp.path())
                .status();
            if !unpacked.is_ok_and(|s| s.success()) {
                eprintln!("skipped {name}: tar could not unpack it");
                continue;
            }
            tmp.path().join(format!("{stem}.raw"))
        } else if let Some(stem) = name.strip_suffix(".gz") {
            let out = std::process::Command::new("gzip")
                .arg("-dc")
                .arg(corpus.join(name))
                .output()
                .unwrap();
            let image = tmp.path().join(stem);
            std::fs::write(&image, out.stdout).unwrap();
            image
        } else {
            corpus.join(name)
        };
        let compared = agree_with_fls(name, &image, sector, &catalog);
        eprintln!("{name}: {compared} entries agree with fls/icat");
        assert!(compared >= 4, "{name}: only {compared} entries compared");
    }
}

/// A file whose $DATA sits in an extension record (attribute list; the corpus volume
/// ntfs3_attrlist, a file with 100 hard links) is read through the ntfs crate: its hash
/// equals `icat`'s (181210f8..., taken with icat 4.12).
#[test]
fn data_in_extension_records_is_read_through_the_attribute_list() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ntfs/dfir_ntfs");
    if !corpus.is_dir() {
        eprintln!("skipped: no corpus");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Ok(out) = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(corpus.join("ntfs3_attrlist.raw.gz"))
        .output()
    else {
        return;
    };
    let image = tmp.path().join("attrlist.raw");
    std::fs::write(&image, out.stdout).unwrap();
    let catalog = tmp.path().join("txt.toml");
    std::fs::write(
        &catalog,
        "[[file]]\nid = \"test.txt\"\npaths = [\"*.txt\"]\nwhat = \"x\"\nproves = \"x\"\nconfidence = \"S\"\nsource = \"test\"\n",
    )
    .unwrap();
    let scan = run_on(&image, &["-q", "--catalog", catalog.to_str().unwrap()]);
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    assert!(
        !stderr(&scan).contains("extension records"),
        "{}",
        stderr(&scan)
    );
    let rows = parse_csv(&scan.stdout);
    let listed: Vec<_> = rows
        .iter()
        .filter(|r| r["locator"] == "mft=27 seq=1")
        .collect();
    assert!(!listed.is_empty(), "record 27 not reported");
    assert!(
        listed
            .iter()
            .all(|r| r["sha256"]
                == "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b")
    );
}

/// Scans `image` with `catalog` (which must match everything) and checks every name
/// `fls -r -p` lists (metadata files and streams aside) against our rows: same MFT entry,
/// same deletion state, and for allocated non-empty files the hash of `icat`'s output.
/// Returns how many names were compared.
fn agree_with_fls(name: &str, image: &Path, sector: u64, catalog: &Path) -> usize {
    let scan = run_on(image, &["-q", "--catalog", catalog.to_str().unwrap()]);
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    let rows = parse_csv(&scan.stdout);
    // Path -> (state, hash, locator) of each record with that path (a deleted record
    // may share its path with an allocated one). File rows only: content rows of text
    // files carry `line=` locators.
    let mut ours: std::collections::BTreeMap<String, Vec<(String, String, String)>> =
        Default::default();
    for r in rows.iter().filter(|r| r["locator"].starts_with("mft=")) {
        let entry = (
            r["state"].clone(),
            r["sha256"].clone(),
            r["locator"].clone(),
        );
        let records = ours.entry(r["path"].replace('\\', "/")).or_default();
        if !records.contains(&entry) {
            records.push(entry);
        }
    }
    let fls = std::process::Command::new("fls")
        .args(["-r", "-p", "-o", &sector.to_string()])
        .arg(image)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&fls.stdout);
    let mut compared = 0;
    let mut empty_seen = 0;
    for line in listing.lines() {
        let Some((meta, path)) = line.split_once('\t') else {
            continue;
        };
        // NTFS metadata files and named streams are not listed by our catalog.
        if path.starts_with('$') || path.contains(':') {
            continue;
        }
        let inode = meta
            .split_whitespace()
            .last()
            .unwrap()
            .trim_end_matches(':');
        // A name fls recovers from directory-index slack with no MFT record behind it
        // (`r/- * 0:`): the MFT walk does not read $I30 slack (yet).
        if inode == "0" {
            continue;
        }
        let record = inode.split('-').next().unwrap();
        let (state, sha, _) = ours
            .get(path)
            .into_iter()
            .flatten()
            .find(|(_, _, locator)| locator.starts_with(&format!("mft={record} ")))
            .unwrap_or_else(|| {
                panic!(
                    "{name}: {path} (MFT {inode}) listed by fls, not by us: {:?}",
                    ours.get(path)
                )
            });
        assert_eq!(state == "deleted", meta.contains('*'), "{name}: {path}");
        // Empty files: a sample is enough (the fragmented fixture has thousands).
        let empty = sha == EMPTY_SHA256;
        if empty {
            empty_seen += 1;
        }
        if meta.starts_with("r/r")
            && !meta.contains('*')
            && !sha.is_empty()
            && (!empty || empty_seen <= 50)
        {
            let icat = std::process::Command::new("icat")
                .args(["-o", &sector.to_string()])
                .arg(image)
                .arg(inode)
                .output()
                .unwrap();
            use sha2::Digest;
            let expect: String = sha2::Sha256::digest(&icat.stdout)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(sha, &expect, "{name}: {path}: hash differs from icat's");
        }
        compared += 1;
    }
    compared
}

/// A user catalog whose rules match every file and folder.
fn catalog_matching_everything(dir: &Path) -> std::path::PathBuf {
    let catalog = dir.join("all.toml");
    let rule = |id: &str, scope: &str| {
        format!(
            "[[file]]\nid = \"{id}\"\n{scope}paths = [\"*\"]\nwhat = \"x\"\nproves = \"x\"\n\
             confidence = \"S\"\nsource = \"test\"\n\n"
        )
    };
    let text = rule("test.tree", "scope = \"tree\"\n") + &rule("test.file", "");
    std::fs::write(&catalog, text).unwrap();
    catalog
}

#[test]
fn mft_whose_run_list_continues_in_extension_records() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(vol) = gunzip("fragmented/fragmented.ntfs.gz", tmp.path()) else {
        return;
    };
    // Ground truth from the fixture's README: `| entry | `path` | `sha256` |`.
    let readme = std::fs::read_to_string(fixture("fragmented/README.md")).unwrap();
    let truth: Vec<(String, String, String)> = readme
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("Akamai"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (
                cells[0].to_string(),
                cells[1].trim_matches('`').replace('/', "\\"),
                cells[2].trim_matches('`').to_string(),
            )
        })
        .collect();
    assert_eq!(truth.len(), 3, "README table");
    let out = run_on(&vol, &["-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "no warnings expected");
    let rows = parse_csv(&out.stdout);
    for (entry, path, sha) in &truth {
        let row = rows.iter().find(|r| &r["path"] == path).unwrap_or_else(|| {
            panic!("{path} (MFT {entry}, mapped by an extension record) not found")
        });
        assert_eq!(&row["sha256"], sha, "{path}");
        assert!(
            row["locator"].starts_with(&format!("mft={entry} ")),
            "{row:?}"
        );
        assert_eq!(row["state"], "allocated");
    }
    // The cache folder's name is in an extension record: its entries have their path.
    let cache: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|r| r["path"].contains("\\Akamai\\cache\\c") && r["locator"].starts_with("mft="))
        .map(|r| r["path"].as_str())
        .collect();
    let listed: usize = readme
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_suffix(" empty entries; its $FILE_NAME lives in extension record")
        })
        .map(|n| n.trim().parse().unwrap())
        .expect("README cache count");
    assert_eq!(cache.len(), listed);
    if std::process::Command::new("fls")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("skipped the fls comparison: sleuthkit not installed");
        return;
    }
    let catalog = catalog_matching_everything(tmp.path());
    let compared = agree_with_fls("fragmented.ntfs", &vol, 0, &catalog);
    assert!(compared > 7000, "{compared}");
}
