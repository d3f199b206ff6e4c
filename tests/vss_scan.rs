//! Shadow copies in a scan (`fixtures/vss/planted`, built by its `make_planted.sh`): the
//! live volume lost NetSession's install folder (its executable's MFT record is left
//! deleted), the one snapshot (2014-01-10) still holds it. The snapshot's rows name it
//! in `source`; rows it shares with the live volume (the installer in Downloads) are
//! reported once; `--no-vss` leaves the snapshot out.

mod common;

use std::path::Path;

use common::*;

const LIVE: &str = "planted.ntfs";
const SNAPSHOT: &str = "planted.ntfs vss1@2014-01-10T12:00:00Z";

fn planted(dir: &Path) -> std::path::PathBuf {
    gunzip("../vss/planted/planted.ntfs.gz", dir).expect("gzip")
}

#[test]
fn the_snapshot_gives_the_install_the_live_volume_lost_and_shared_rows_once() {
    let dir = tempfile::tempdir().unwrap();
    let image = planted(dir.path());
    let rows = scan_ok(&image);
    let exe = b"MZ"
        .iter()
        .copied()
        .chain((0..19998u32).map(|i| ((i * 7 + 13) % 251) as u8))
        .collect::<Vec<u8>>();
    let exe_sha = {
        use sha2::Digest;
        hex(&sha2::Sha256::digest(&exe))
    };
    // The client executable, allocated in the install folder, only in the snapshot.
    let client: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "install.client")
        .collect();
    assert!(!client.is_empty());
    for row in &client {
        assert!(
            row["source"].ends_with(&format!("/{SNAPSHOT}")),
            "{}",
            row["source"]
        );
        assert_eq!(row["state"], "allocated");
        assert_eq!(
            row["path"],
            r"Users\Ana\AppData\Local\Akamai\netsession_win.exe"
        );
        assert_eq!(row["sha256"], exe_sha);
    }
    let folder: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "install.folder")
        .collect();
    assert!(
        !folder.is_empty()
            && folder
                .iter()
                .all(|r| r["source"].ends_with(&format!("/{SNAPSHOT}")))
    );
    // The live volume has only the deleted record, with no folder.
    let orphan: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "remnant.orphaned_file")
        .collect();
    assert!(!orphan.is_empty());
    assert!(
        orphan
            .iter()
            .all(|r| r["source"].ends_with(&format!("/{LIVE}")) && r["state"] == "deleted")
    );
    // The installer is in both, unchanged: its rows once, from the live volume.
    let installer: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "install.installer_download")
        .collect();
    assert_eq!(installer.len(), 3, "{installer:?}");
    assert!(
        installer
            .iter()
            .all(|r| r["source"].ends_with(&format!("/{LIVE}")))
    );
}

#[test]
fn no_vss_leaves_the_snapshot_out() {
    let dir = tempfile::tempdir().unwrap();
    let image = planted(dir.path());
    let out = run_on(&image, &["-q", "--no-vss"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["source"].ends_with(&format!("/{LIVE}")))
    );
    assert!(!rows.iter().any(|r| r["artifact"] == "install.client"));
}

/// The snapshot's own rows for the installer exist (scanned with the live volume's
/// rows left out by reading the snapshot as a volume of its own): what the scan above
/// does not repeat.
#[test]
fn the_snapshot_alone_has_the_installer_rows_the_scan_does_not_repeat() {
    use std::sync::Arc;

    use netsession_scan::internals::image::raw::RawImage;
    use netsession_scan::internals::image::source::ImageSource;
    use netsession_scan::internals::vss::Shadows;

    let dir = tempfile::tempdir().unwrap();
    let image = planted(dir.path());
    let source: Arc<dyn ImageSource> = Arc::new(RawImage::open(&image).unwrap());
    let shadows = Shadows::open(source, LIVE).unwrap().unwrap();
    let view = shadows.snapshot(1).unwrap();
    let size = usize::try_from(view.size()).unwrap();
    let mut bytes = vec![0u8; size];
    assert_eq!(view.read_at(0, &mut bytes).unwrap(), size);
    let copy = dir.path().join("snapshot.ntfs");
    std::fs::write(&copy, &bytes).unwrap();
    let rows = scan_ok(&copy);
    let installer = rows
        .iter()
        .filter(|r| r["artifact"] == "install.installer_download")
        .count();
    assert_eq!(installer, 3);
}

/// The verdict says what the snapshot adds: the install there, gone from the live
/// volume now.
#[test]
fn the_verdict_says_the_install_is_in_the_snapshot_and_gone_now() {
    let dir = tempfile::tempdir().unwrap();
    let image = planted(dir.path());
    let csv = dir.path().join("rows.csv");
    let out = run_on(&image, &["-o", csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains(
            r"shadow copy: install present in the snapshot of 2014-01-10T12:00:00Z (Users\Ana\AppData\Local\Akamai), gone from the live volume"
        ) && said.contains("now (was installed (only remnants found))"),
        "{said}"
    );
}

/// The live file system damaged (its boot sector's bytes per sector zeroed) while the
/// snapshot keeps its own copy of that block: the live volume is a warning, the
/// snapshot is still scanned.
#[test]
fn a_snapshot_is_read_when_the_live_file_system_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let image = planted(dir.path());
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[11] = 0;
    bytes[12] = 0;
    std::fs::write(&image, &bytes).unwrap();
    let csv = dir.path().join("rows.csv");
    let out = run_on(&image, &["-q", "-o", csv.to_str().unwrap()]);
    let said = stderr(&out);
    assert!(said.contains("NTFS volume unreadable"), "{said}");
    let rows = parse_csv(&std::fs::read(&csv).unwrap());
    assert!(
        rows.iter()
            .any(|r| r["artifact"] == "install.client"
                && r["source"].ends_with(&format!("/{SNAPSHOT}"))),
        "{said}"
    );
}

/// The snapshot's copies of the `$MFT` blocks damaged (the store keeps them; the live
/// volume is untouched): the snapshot is read with warnings, and the verdict takes no
/// conclusion from the rows it may have lost: no "holds no trace", no absence dated.
#[test]
fn a_snapshot_read_with_warnings_concludes_nothing_from_missing_rows() {
    use std::sync::Arc;

    use netsession_scan::internals::image::raw::RawImage;
    use netsession_scan::internals::image::source::ImageSource;
    use netsession_scan::internals::ntfs::volume::NtfsVolume;
    use netsession_scan::internals::vss::Shadows;

    let dir = tempfile::tempdir().unwrap();
    let image = planted(dir.path());
    let (mft_start, record_size, copies) = {
        let source: Arc<dyn ImageSource> = Arc::new(RawImage::open(&image).unwrap());
        let ntfs = NtfsVolume::open(source.clone()).unwrap();
        let mft_start = ntfs.boot.mft_lcn * ntfs.boot.cluster_size;
        let shadows = Shadows::open(source, LIVE).unwrap().unwrap();
        let copies: Vec<(u64, u64)> = shadows
            .store(1)
            .unwrap()
            .descriptors()
            .iter()
            .map(|d| (d.original, d.data))
            .collect();
        (mft_start, u64::from(ntfs.boot.record_size), copies)
    };
    // The copies of blocks in the first 1 MiB of $MFT: every record's signature spoilt.
    let mut bytes = std::fs::read(&image).unwrap();
    let mut spoilt = 0;
    for (original, data) in copies {
        if (mft_start..mft_start + (1 << 20)).contains(&original) {
            for r in (0..0x4000).step_by(record_size as usize) {
                let at = (data + r) as usize;
                bytes[at..at + 4].copy_from_slice(b"JUNK");
            }
            spoilt += 1;
        }
    }
    assert!(spoilt > 0, "no copy of an $MFT block in the store");
    std::fs::write(&image, &bytes).unwrap();
    let json = dir.path().join("verdict.json");
    let csv = dir.path().join("rows.csv");
    let report = dir.path().join("report.md");
    let out = run_on(
        &image,
        &[
            "-q",
            "-o",
            csv.to_str().unwrap(),
            "--verdict-json",
            json.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let said = stderr(&out);
    assert!(
        said.contains(SNAPSHOT),
        "the snapshot is named in warnings: {said}"
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let volumes = v["volumes"].as_array().unwrap();
    let snap = volumes
        .iter()
        .find(|x| x["source"].as_str().unwrap().ends_with(SNAPSHOT))
        .expect("the snapshot is a volume of the verdict");
    assert!(
        snap["snapshot"]["read_warnings"].as_u64().unwrap() > 0,
        "{snap}"
    );
    assert_eq!(
        snap["rows"], 0,
        "its install records are the ones spoilt: {snap}"
    );
    let report = std::fs::read_to_string(&report).unwrap();
    assert!(
        report.contains("gave no NetSession row, but was read with")
            && !report.contains("holds no NetSession trace at all"),
        "{report}"
    );
    for volume in volumes {
        for user in volume["users"].as_array().unwrap() {
            let absent = &user["presence"]["first_known_absent"];
            assert!(
                absent.is_null() || !absent["source"].as_str().unwrap().ends_with(SNAPSHOT),
                "{user}"
            );
        }
    }
}
