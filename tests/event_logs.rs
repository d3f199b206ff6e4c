//! Event logs through the whole scan: a real firewall log in a collection's
//! `winevt\Logs`, matched by a user's catalog naming a real program, gives one row per
//! event the independent reader's records say it should (deletions tied by rule id),
//! at the event's time, with its record id; damaged logs end with warnings.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::{parse_csv, run, stderr};

const FIREWALL_CHANNEL: &str = "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall";

fn evtx_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/evtx")
        .join(name)
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A collection holding `sample` as `C\Windows\System32\winevt\Logs\<as_name>`.
fn collection(dir: &Path, sample: &str, as_name: &str) -> PathBuf {
    let logs = dir.join("C/Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    let bytes = gunzip(&evtx_fixture(&format!("real/{sample}.evtx.gz")));
    std::fs::write(logs.join(as_name), bytes).unwrap();
    dir.to_path_buf()
}

/// The firewall rules of the embedded catalog, for another program.
fn firewall_catalog(dir: &Path, term: &str) -> PathBuf {
    let mut text = String::new();
    for (id, event, ids, join) in [
        ("case.fw_added", "Firewall Rule Added", "[2004, 2097]", ""),
        (
            "case.fw_modified",
            "Firewall Rule Modified",
            "[2005, 2099]",
            "",
        ),
        ("case.fw_deleted", "Firewall Rule Deleted", "[2006]", ""),
    ] {
        let _ = join;
        text.push_str(&format!(
            "[[event]]\nid = \"{id}\"\nevent = \"{event}\"\nproviders = [\"Microsoft-Windows-Windows Firewall With Advanced Security\"]\nchannels = [\"{FIREWALL_CHANNEL}\"]\nids = {ids}\nfields = [\"RuleId\", \"RuleName\", \"ApplicationPath\", \"ServiceName\"]\nterms = [\"{term}\"]\nuser_field = \"ModifyingUser\"\nsubject_field = \"ApplicationPath\"\njoin_field = \"RuleId\"\nwhat = \"firewall rule change\"\nproves = \"test\"\nconfidence = \"A\"\nsource = \"test\"\n\n"
        ));
    }
    let path = dir.join("case.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[derive(serde::Deserialize)]
struct Expected {
    event_record_id: u64,
    time: String,
    event_id: u16,
    data: Vec<(Option<String>, String)>,
    recovered: bool,
}

fn expected(name: &str) -> Vec<Expected> {
    let text = String::from_utf8(gunzip(&evtx_fixture(&format!(
        "expected/{name}.evtx.jsonl.gz"
    ))))
    .unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn field<'a>(r: &'a Expected, name: &str) -> &'a str {
    r.data
        .iter()
        .find(|(n, _)| n.as_deref() == Some(name))
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// What the rows should be, from evtxexport's records: (record id, time, event id).
fn expected_firewall_rows(records: &[Expected], term: &str) -> BTreeSet<(u64, String, u16)> {
    let names = |r: &Expected| {
        ["RuleId", "RuleName", "ApplicationPath", "ServiceName"]
            .iter()
            .any(|f| field(r, f).to_lowercase().contains(term))
    };
    let live = || records.iter().filter(|r| !r.recovered);
    let named: Vec<&Expected> = live()
        .filter(|r| [2004, 2097, 2005, 2099, 2006].contains(&r.event_id) && names(r))
        .collect();
    let ids: BTreeSet<String> = named
        .iter()
        .map(|r| field(r, "RuleId").to_lowercase())
        .collect();
    let joined = live().filter(|r| {
        r.event_id == 2006 && !names(r) && ids.contains(&field(r, "RuleId").to_lowercase())
    });
    named
        .into_iter()
        .chain(joined)
        .map(|r| (r.event_record_id, r.time.clone(), r.event_id))
        .collect()
}

fn record_of(locator: &str) -> (u64, u16) {
    let get = |key: &str| {
        locator
            .split(' ')
            .find_map(|p| p.strip_prefix(key))
            .unwrap()
            .to_string()
    };
    (
        get("record=").parse().unwrap(),
        get("event=").parse().unwrap(),
    )
}

#[test]
fn a_real_programs_firewall_history_comes_out_event_by_event() {
    let dir = tempfile::tempdir().unwrap();
    let sample = "win11_firewall_rule_history_2004_2005_2006_2033";
    let root = collection(
        &dir.path().join("case"),
        sample,
        "Microsoft-Windows-Windows Firewall With Advanced Security%4Firewall.evtx",
    );
    let catalog = firewall_catalog(dir.path(), "msedge");
    let out = run(&["--catalog".as_ref(), catalog.as_os_str(), root.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let got: BTreeSet<(u64, String, u16)> = rows
        .iter()
        .filter(|r| r["artifact"].starts_with("case.fw_"))
        .map(|r| {
            let (record, event) = record_of(&r["locator"]);
            (record, r["datetime"].clone(), event)
        })
        .collect();
    let want = expected_firewall_rows(&expected(sample), "msedge");
    assert!(want.len() >= 5, "the sample has Edge rules: {want:?}");
    assert!(
        want.iter().any(|(_, _, id)| *id == 2006),
        "and deletions of them"
    );
    assert_eq!(got, want);
    // The embedded catalog's rules claim none of them.
    let others: Vec<_> = rows
        .iter()
        .filter(|r| !r["artifact"].starts_with("case.fw_"))
        .collect();
    assert!(others.is_empty(), "{others:?}");
    // Deletions that name no term say which event tied them.
    let joined: Vec<_> = rows
        .iter()
        .filter(|r| r["message"].contains("NetSession's by its RuleId"))
        .collect();
    for row in &joined {
        assert_ne!(row["timestamp_desc"], "Firewall Rule Added", "{row:?}");
        assert!(
            row["message"].contains("named by event 200"),
            "{}",
            row["message"]
        );
    }
    for row in rows
        .iter()
        .filter(|r| r["artifact"].starts_with("case.fw_"))
    {
        assert!(row["path"].ends_with("winevt\\Logs\\Microsoft-Windows-Windows Firewall With Advanced Security%4Firewall.evtx") || row["path"].ends_with("winevt/Logs/Microsoft-Windows-Windows Firewall With Advanced Security%4Firewall.evtx"), "{}", row["path"]);
        assert_eq!(
            row["sha256"],
            "894a7955ccaf604ba6ae8f7dee0403ce57cdbdb9a825c7756e7f1db29d9928b6"
        );
        assert_eq!(row["state"], "live");
    }
    // The verdict tells the history per rule.
    let err = stderr(&out);
    assert!(err.contains("event logs:"), "{err}");
    assert!(err.contains("Firewall Rule Added"), "{err}");
}

#[test]
fn the_embedded_catalog_finds_nothing_in_logs_without_netsession() {
    let dir = tempfile::tempdir().unwrap();
    let root = collection(
        dir.path(),
        "server2022_system_scm_7036_7040_7045",
        "System.evtx",
    );
    let out = run(&[root.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(parse_csv(&out.stdout).is_empty());
    let err = stderr(&out);
    assert!(err.contains("1 event log(s) read"), "{err}");
}

#[test]
fn damaged_logs_end_with_warnings_naming_the_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for name in ["damaged_bad_chunk_magic", "damaged_bad_checksums"] {
        let path = dir.path().join(format!("{name}.evtx"));
        std::fs::write(
            &path,
            gunzip(&evtx_fixture(&format!("real/{name}.evtx.gz"))),
        )
        .unwrap();
        inputs.push(path);
    }
    let args: Vec<&std::ffi::OsStr> = inputs.iter().map(|p| p.as_os_str()).collect();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "damaged_bad_chunk_magic.evtx: chunk 6 at offset 0x61000: no ElfChnk signature"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "damaged_bad_checksums.evtx: chunk 0 at offset 0x1000: event records checksum mismatch"
        ),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("2 event log(s) read"), "{err}");
}
