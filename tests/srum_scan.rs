//! SRUM through the whole scan: a real (dirty) Windows 10 SRUDB.dat in a collection's
//! `Windows\System32\sru`, with a user's catalog naming a real program (Thunderbird) in
//! `[terms] srum`, gives one row per hourly network record of it, whose bytes add up to
//! what esedbexport's stored tables give (fixtures/ese/expected), a warning that the
//! database is dirty, and the verdict's totals.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::{parse_csv, run, stderr};

fn ese_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ese")
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn tsv(stem: &str, table: &str) -> Vec<Vec<String>> {
    let text = String::from_utf8(gunzip(
        &ese_dir().join(format!("expected/{stem}.{table}.tsv.gz")),
    ))
    .unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// (records, bytes sent, bytes received) of the application whose path ends with
/// `suffix`, from esedbexport's text of the id map and the network table.
fn expected_totals(stem: &str, suffix: &str) -> (usize, u64, u64) {
    let ids = app_ids(stem, suffix);
    let records: Vec<Vec<String>> = tsv(stem, "{973F5D5C-1D90-4944-BE8E-24B94231A174}")
        .into_iter()
        .filter(|r| ids.contains(&r[2]))
        .collect();
    let sum = |i: usize| records.iter().map(|r| r[i].parse::<u64>().unwrap()).sum();
    (records.len(), sum(7), sum(8))
}

/// The ids esedbexport's text of the id map gives the applications whose path ends
/// with `suffix`.
fn app_ids(stem: &str, suffix: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for r in tsv(stem, "SruDbIdMapTable") {
        if r[0] == "3" {
            continue;
        }
        let blob: Vec<u8> = (0..r[2].len() / 2)
            .map(|i| u8::from_str_radix(&r[2][2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let units: Vec<u16> = blob
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let name = String::from_utf16_lossy(&units);
        if name.trim_end_matches('\0').to_lowercase().ends_with(suffix) {
            ids.push(r[1].clone());
        }
    }
    ids
}

#[test]
fn a_real_programs_network_use_from_a_real_dirty_database() {
    let stem = "srudb_win10_dirty_rev14";
    let dir = tempfile::tempdir().unwrap();
    let sru = dir.path().join("case/C/Windows/System32/sru");
    std::fs::create_dir_all(&sru).unwrap();
    std::fs::write(
        sru.join("SRUDB.dat"),
        gunzip(&ese_dir().join(format!("{stem}.dat.gz"))),
    )
    .unwrap();
    let catalog = dir.path().join("case.toml");
    std::fs::write(&catalog, "[terms]\nsrum = [\"\\\\thunderbird.exe\"]\n").unwrap();
    let out = run(&[
        "--catalog".as_ref(),
        catalog.as_os_str(),
        dir.path().join("case").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let srum: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "srum.network_usage")
        .collect();
    let (records, sent, received) = expected_totals(stem, "\\thunderbird.exe");
    assert_eq!(records, 20);
    assert_eq!(srum.len(), records);
    let field = |r: &std::collections::HashMap<String, String>, name: &str| -> u64 {
        r["value"]
            .split("; ")
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        srum.iter().map(|r| field(r, "BytesSent")).sum::<u64>(),
        sent
    );
    assert_eq!(
        srum.iter().map(|r| field(r, "BytesRecvd")).sum::<u64>(),
        received
    );
    for r in &srum {
        assert_eq!(r["timestamp_desc"], "SRUM Network Usage (hourly flush)");
        assert!(r["datetime"].ends_with('Z'));
        assert!(r["locator"].starts_with("table={973F5D5C-1D90-4944-BE8E-24B94231A174} page="));
        assert!(r["path"].ends_with("SRUDB.dat"));
        assert_eq!(r["sha256"].len(), 64);
    }
    // The application resource usage table: the same records and counters as
    // esedbexport's text of it.
    let ids = app_ids(stem, "\\thunderbird.exe");
    let table = "{D10CA2FE-6FCF-4F6D-848E-B2E99266FA89}";
    let expected: Vec<Vec<String>> = tsv(stem, table)
        .into_iter()
        .filter(|r| ids.contains(&r[2]))
        .collect();
    let apps: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "execution.srum_app_usage")
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(apps.len(), expected.len());
    let header = [
        ("ForegroundCycleTime", 4),
        ("BackgroundCycleTime", 5),
        ("FaceTime", 6),
        ("ForegroundBytesWritten", 10),
        ("BackgroundBytesRead", 14),
        ("BackgroundBytesWritten", 15),
    ];
    for (name, column) in header {
        let want: u64 = expected
            .iter()
            .map(|r| r[column].parse::<u64>().unwrap())
            .sum();
        assert_eq!(
            apps.iter().map(|r| field(r, name)).sum::<u64>(),
            want,
            "{name}"
        );
    }
    let mut got_ids: Vec<u64> = apps.iter().map(|r| field(r, "AutoIncId")).collect();
    let mut want_ids: Vec<u64> = expected.iter().map(|r| r[0].parse().unwrap()).collect();
    got_ids.sort_unstable();
    want_ids.sort_unstable();
    assert_eq!(got_ids, want_ids);
    for r in &apps {
        assert_eq!(
            r["timestamp_desc"],
            "SRUM Application Resource Usage (hourly flush)"
        );
        assert!(r["locator"].starts_with(&format!("table={table} page=")));
    }
    let err = stderr(&out);
    assert!(err.contains("not shut down cleanly"), "{err}");
    assert!(err.contains("SRUM: "), "{err}");
    assert!(
        err.contains(&format!(
            "SRUM network usage of NetSession's programs: sent {sent} bytes"
        )),
        "{err}"
    );
    assert!(err.contains("busiest day"), "{err}");
}

#[test]
fn the_embedded_catalog_finds_no_netsession_in_a_database_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let sru = dir.path().join("C/Windows/System32/sru");
    std::fs::create_dir_all(&sru).unwrap();
    std::fs::write(
        sru.join("SRUDB.dat"),
        gunzip(&ese_dir().join("srudb_win11_clean_revc8.dat.gz")),
    )
    .unwrap();
    let out = run(&[dir.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(parse_csv(&out.stdout).is_empty());
    assert!(!stderr(&out).contains("not read"), "{}", stderr(&out));
}

#[test]
fn a_database_given_on_its_own_is_read() {
    let stem = "srudb_win10_dirty_rev14";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("SRUDB.dat");
    std::fs::write(&db, gunzip(&ese_dir().join(format!("{stem}.dat.gz")))).unwrap();
    let catalog = dir.path().join("case.toml");
    std::fs::write(&catalog, "[terms]\nsrum = [\"\\\\thunderbird.exe\"]\n").unwrap();
    let out = run(&["--catalog".as_ref(), catalog.as_os_str(), db.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    assert_eq!(
        rows.iter()
            .filter(|r| r["artifact"] == "srum.network_usage")
            .count(),
        20
    );
    let err = stderr(&out);
    assert!(
        err.contains("SRUDB.dat: database: database not shut down cleanly"),
        "{err}"
    );
}

#[test]
fn netsession_in_a_real_database_gives_its_bytes_in_the_verdict() {
    // fixtures/ese/make_netsession_srum.py: the real database with application 285
    // (Edge's updater) renamed to a NetSession path of the same length, checksums fixed.
    let dir = tempfile::tempdir().unwrap();
    let sru = dir.path().join("C/Windows/System32/sru");
    std::fs::create_dir_all(&sru).unwrap();
    std::fs::write(
        sru.join("SRUDB.dat"),
        gunzip(&ese_dir().join("srudb_win10_netsession_planted.dat.gz")),
    )
    .unwrap();
    let out = run(&[dir.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let srum: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "srum.network_usage")
        .collect();
    // esedbexport's text of the original database, application 285.
    let records: Vec<Vec<String>> = tsv(
        "srudb_win10_apt_clean_rev6e",
        "{973F5D5C-1D90-4944-BE8E-24B94231A174}",
    )
    .into_iter()
    .filter(|r| r[2] == "285")
    .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(srum.len(), 3, "{rows:?}");
    for r in &srum {
        assert!(
            r["value"].contains(r"App=\device\harddiskvolume3\users\zoe-w10-labaccount\appdata\local\akamai\netsession_win.exe;"),
            "{}",
            r["value"]
        );
        assert!(!r["user"].is_empty());
    }
    // The verdict sums per account: the records' UserIds, grouped.
    let mut per_user: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for r in &records {
        let e = per_user.entry(r[3].as_str()).or_default();
        e.0 += r[7].parse::<u64>().unwrap();
        e.1 += r[8].parse::<u64>().unwrap();
    }
    let err = stderr(&out);
    assert!(
        !err.contains("checksum"),
        "the rewritten page's checksums hold: {err}"
    );
    for (user, (sent, received)) in per_user {
        assert!(
            err.contains(&format!(
                "SRUM network usage of NetSession's programs: sent {sent} bytes"
            )) && err.contains(&format!("received {received} bytes")),
            "user id {user}: {err}"
        );
    }
}
