//! End-to-end: NetSession 1.9.x's own files (`fixtures/netsession19`, synthetic files in
//! the formats of real installs, README.md "NetSession's own files").
//!
//! Every line of every log in the NetSession format is counted here by the test's own
//! pattern (independent of the scanner's hand-written parser) and must be a row at its
//! exact UTC second with its line number; the facts the README plants must appear with
//! their times; certificate validity dates must give no row; the failed attempt must be
//! called one.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{Row, parse_csv, run_on, stderr};
use netsession_scan::verdict::verdict;
use netsession_scan::{AnalysisOptions, Catalog, EvidenceRow, Warnings};

/// Writes a small install in the 1.9.x formats (README.md, "NetSession's own files") under `root`: alice's
/// working install and bob's failed attempt. Lines end in CRLF as on Windows.
fn build_tree(root: &Path) {
    let alice = root.join("Users/alice/AppData/Local/Akamai");
    let bob = root.join("Users/bob/AppData/Local/Akamai");
    std::fs::create_dir_all(alice.join("Logs")).unwrap();
    std::fs::create_dir_all(&bob).unwrap();
    let crlf = |lines: &[&str]| lines.iter().map(|l| format!("{l}\r\n")).collect::<String>();
    let files: Vec<(PathBuf, String)> = vec![
        (alice.join("installer.txt"), crlf(&[
            "Vwin_installer_83a441e_1.9.5.5:171012_234001: [info] Installer.cpp:main(101): Starting Installation",
            "Vwin_installer_83a441e_1.9.5.5:171012_234002: [info] Installer.cpp:main(120): Installation by non-admin user.",
            "",
            "Vwin_installer_83a441e_1.9.5.5:171012_234008: [info] InstallerHelper.cpp:postInstallSteps(582): Successfully installed the client",
        ])),
        (alice.join("Logs/debug.log"), crlf(&[
            "Vwin_83a441e_1.9.5.5:171012_234031: [info] CLIOnlineManager.cpp:CLIOnlineManager::_onAUTH_STATUS(1929): GUID 2c6ee80462a9c427bb3e5bd6f7102693 connected to CN (CN IP: 96.6.40.23 Remote IP: 96.6.40.23 CN thinks my IP is: 203.0.113.7).",
            "Vwin_83a441e_1.9.5.5:180502_142137: [info] Upgrade.cpp:check(77): Completed client.ini download, new version is '75752ca'",
            "    continued text of a wrapped message",
            "Vwin_75752ca_1.9.5.6-RC1(83a441e_1.9.5.5):180930_123936: [warn] EscapeHatch.cpp:EscapeHatch::start(40): Starting up pid 4242",
            "Vwin_75752ca_1.9.5.6-RC1:181104_021555: [eror] InstanceManager.cpp:InstanceManager::destroy(88): Stopping pid 4242",
        ])),
        (alice.join("control_panel.txt"), crlf(&[
            "180630_075639: [info] CPAdvancedTab.cpp:CPAdvancedTab::DoDataExchange(79): Hiding uploads section",
        ])),
        (alice.join("euc_state.json"), r#"{"updates":{"globalData":{"guid":"2c6ee80462a9c427bb3e5bd6f7102693","installTimeStampSec":"1507851608","cachePath":"C:\\Users\\alice\\AppData\\Local\\Akamai\\Cache"}}}{"updates":{"globalData":{"lifetimeDownloadBytes":734003200}}}"#.to_string()),
        (alice.join("client.ini"), crlf(&[
            "[client config]",
            "ClientBinId=75752ca",
            "ComponentVersion=1.9.5.6",
            "VersionForUserDisplay=win_75752ca_1.9.5.6-RC1",
            "BuildTimeString=2018-04-17 18:59:15 (E+1523991555s) UTC",
            "[extra config]",
            "CNHostList=cn1.redswoosh.akadns.net:443",
        ])),
        (alice.join("guid.ini"), crlf(&["2c6ee80462a9c427bb3e5bd6f7102693:0123456789abcdef0123456789abcdef01234567:v0"])),
        (alice.join("user.dat"), crlf(&["UploadsPausedUntil=-1"])),
        (alice.join("root.pem"), crlf(&[
            "Certificate:",
            "    Validity",
            "        Not Before: Jun 29 17:06:20 2004 GMT",
            "        Not After : Jun 29 17:06:20 2034 GMT",
        ])),
        (bob.join("guid.ini"), crlf(&["5b5ba5ba57097d361028b7f7f83d298c:0123456789abcdef0123456789abcdef01234567:v0"])),
        (bob.join("installer.txt"), crlf(&[
            "V1001:210829_113301: [info] Installer.cpp:main(101): Starting Installation",
            "V1001:210829_113309: [eror] Installer.cpp:_ak_downloadAndWrite(2638): Error in downloading 'https://client.akamai.com/conf/install.html?file=installer&upload=false&silent=true'",
        ])),
    ];
    for (path, text) in files {
        std::fs::write(path, text).unwrap();
    }
}

/// The CSV and stderr of a quiet scan, which must exit 0.
fn scan_csv(root: &Path) -> (Vec<Row>, String) {
    let out = run_on(root, &["-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (parse_csv(&out.stdout), stderr(&out))
}

/// Scans with the library, for the verdict.
fn scan_rows(root: &Path) -> Vec<EvidenceRow> {
    let inputs = netsession_scan::detect_inputs(&[root.to_path_buf()]).unwrap();
    let catalog = Catalog::embedded().unwrap();
    let options = AnalysisOptions {
        hash: false,
        ..AnalysisOptions::default()
    };
    netsession_scan::scan(&inputs, &catalog, &options, &Warnings::new())
        .rows
        .to_vec()
        .unwrap()
}

/// Every file below `dir`, relative, with `\` separators as the scanner writes paths.
fn files_below(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy();
                found.push((path.clone(), rel.replace('/', "\\")));
            }
        }
    }
    found.sort();
    found
}

/// The test's own reading of a NetSession log line: the optional `V...:` prefix, then
/// `YYMMDD_HHMMSS: [level]`. Gives the ISO time.
fn expected_time(line: &str) -> Option<String> {
    let pattern =
        regex::Regex::new(r"^(?:V[^:\s]*:)?(\d\d)(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d): \[[a-z]+\] ")
            .unwrap();
    let c = pattern.captures(line)?;
    Some(format!(
        "20{}-{}-{}T{}:{}:{}Z",
        &c[1], &c[2], &c[3], &c[4], &c[5], &c[6]
    ))
}

/// Rows of NetSession-format log lines (`level=` first in the value) by (path, line).
fn log_rows(rows: &[Row]) -> BTreeMap<(String, usize), &Row> {
    rows.iter()
        .filter(|r| r["artifact"].starts_with("netsession.") && r["value"].starts_with("level="))
        .map(|r| {
            let line = r["locator"]
                .strip_prefix("line=")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("locator of {r:?}"));
            ((r["path"].clone(), line), r)
        })
        .collect()
}

/// Every line in the NetSession format below `root`, counted by the test's own pattern,
/// is a row at its exact second and line, and no other such row exists. Returns the
/// count and the files that hold such lines.
fn check_every_line(root: &Path) -> (usize, BTreeSet<String>) {
    let (rows, _) = scan_csv(root);
    let by_line = log_rows(&rows);
    let mut counted = 0;
    let mut files_with_lines = BTreeSet::new();
    for (path, rel) in files_below(root) {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let mut in_file = 0;
        for (i, line) in text.split('\n').enumerate() {
            let Some(time) = expected_time(line.trim_end_matches('\r')) else {
                continue;
            };
            let key = by_line
                .keys()
                .find(|(p, n)| *n == i + 1 && p.ends_with(&rel))
                .unwrap_or_else(|| panic!("no row for {rel} line {}: {line}", i + 1));
            assert_eq!(by_line[key]["datetime"], time, "{rel} line {}", i + 1);
            in_file += 1;
        }
        let rows_of_file = by_line.keys().filter(|(p, _)| p.ends_with(&rel)).count();
        assert_eq!(rows_of_file, in_file, "{rel}: rows vs lines in the format");
        if in_file > 0 {
            files_with_lines.insert(rel.clone());
        }
        counted += in_file;
    }
    assert_eq!(
        by_line.len(),
        counted,
        "every NetSession row is one of the lines counted"
    );
    (counted, files_with_lines)
}

#[test]
fn every_netsession_log_line_is_a_row_at_its_utc_second_and_line() {
    let dir = tempfile::tempdir().unwrap();
    build_tree(dir.path());
    let (counted, files) = check_every_line(dir.path());
    for log in ["Logs\\debug.log", "installer.txt", "control_panel.txt"] {
        assert!(files.iter().any(|f| f.ends_with(log)), "{log} in {files:?}");
    }
    assert_eq!(counted, 3 + 4 + 1 + 2);
}

/// The committed fixtures (fixtures/netsession19/README.md gives the counts).
#[test]
fn every_line_of_the_committed_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/netsession19");
    let (installed, files) = check_every_line(&root.join("installed"));
    assert_eq!(installed, 1312, "{files:?}");
    for log in [
        "Logs\\debug.log",
        "Logs\\debug.log.180502_142137.sent",
        "Logs\\debug.log.181104_021555.upload",
        "Logs\\daemon.debug.log",
        "installer.txt",
        "installer.txt.old",
        "control_panel.txt",
        "diagnostic_report.txt",
    ] {
        assert!(files.iter().any(|f| f.ends_with(log)), "{log} in {files:?}");
    }
    let (failed, _) = check_every_line(&root.join("failed"));
    assert_eq!(failed, 15);
    let (rows, _) = scan_csv(&root.join("installed"));
    let pem_dated = rows
        .iter()
        .filter(|r| r["path"].ends_with(".pem") && r["timestamp_desc"] == "Log Entry")
        .count();
    assert_eq!(pem_dated, 0);
    // Files read by a reader of their own give no generic "Log Entry" rows: client.ini's
    // BuildTimeString is the build row, the report's local header time is not UTC.
    let generic: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "content.log_entry")
        .filter(|r| {
            let path = r["path"].to_lowercase();
            [
                "client.ini",
                "diagnostic_report.txt",
                "euc_state.json",
                "guid.ini",
            ]
            .iter()
            .any(|name| path.ends_with(name))
        })
        .map(|r| (r["path"].clone(), r["locator"].clone()))
        .collect();
    assert!(generic.is_empty(), "{generic:?}");
    // The build row is still there, in UTC.
    assert!(
        rows.iter().any(|r| r["path"].ends_with("client.ini")
            && r["datetime"] == "2018-04-17T18:59:15Z"
            && r["artifact"] != "content.log_entry"),
        "client.ini build time"
    );
}

#[test]
fn certificate_validity_dates_are_not_events() {
    let dir = tempfile::tempdir().unwrap();
    build_tree(dir.path());
    let (rows, _) = scan_csv(dir.path());
    let dated: Vec<_> = rows
        .iter()
        .filter(|r| r["path"].to_lowercase().ends_with(".pem") && !r["datetime"].is_empty())
        .filter(|r| r["timestamp_desc"] == "Log Entry")
        .collect();
    assert!(dated.is_empty(), "{dated:?}");
}

#[test]
fn state_and_config_facts_with_their_times() {
    let dir = tempfile::tempdir().unwrap();
    build_tree(dir.path());
    let (rows, _) = scan_csv(dir.path());
    let find = |artifact: &str, path_end: &str| {
        rows.iter()
            .find(|r| r["artifact"] == artifact && r["path"].ends_with(path_end))
            .unwrap_or_else(|| panic!("{artifact} in {path_end}"))
    };
    let install = find("netsession.install_time", "euc_state.json");
    assert_eq!(install["datetime"], "2017-10-12T23:40:08Z");
    assert!(
        install["locator"].contains("installTimeStampSec"),
        "{install:?}"
    );
    assert_eq!(
        find("netsession.installed", "installer.txt")["datetime"],
        "2017-10-12T23:40:08Z"
    );
    let build = find("netsession.build", "client.ini");
    assert_eq!(build["datetime"], "2018-04-17T18:59:15Z");
    assert!(build["value"].contains("ClientBinId=75752ca"), "{build:?}");
    assert!(
        find("netsession.guid", "guid.ini")["value"]
            .contains("guid=2c6ee80462a9c427bb3e5bd6f7102693")
    );
    assert!(
        find("netsession.lifetime_download", "euc_state.json")["value"]
            .contains("lifetimeDownloadBytes=734003200")
    );
    assert!(
        find("netsession.upload_setting", "user.dat")["value"].contains("UploadsPausedUntil=-1")
    );
    assert_eq!(
        find("netsession.upload_setting", "control_panel.txt")["datetime"],
        "2018-06-30T07:56:39Z"
    );
    assert_eq!(
        find("netsession.public_ip", "debug.log")["datetime"],
        "2017-10-12T23:40:31Z"
    );
}

#[test]
fn the_verdict_tells_the_install_from_the_failed_attempt() {
    let dir = tempfile::tempdir().unwrap();
    build_tree(dir.path());
    let rows = scan_rows(dir.path());
    let text = verdict(&rows).to_text();
    assert!(text.contains("install attempted, failed"), "{text}");
    assert!(
        text.contains("client GUID 2c6ee80462a9c427bb3e5bd6f7102693"),
        "{text}"
    );
    assert!(text.contains("203.0.113.7"), "{text}");
    assert!(text.contains("build 83a441e"), "{text}");
    assert!(text.contains("build 75752ca"), "{text}");
    assert!(
        text.contains("lifetime download: 734003200 bytes"),
        "{text}"
    );
}
