//! NetSession's events, planted with the test writer (its output is checked against the
//! evtx crate, evtxexport and python-evtx in `tests/evtx_writer.rs`) into the four logs
//! of a collection beside a SOFTWARE hive: every matched event comes out once, at its
//! exact time, with its account named from ProfileList, its record id, and the verdict
//! tells the firewall history, the prompt, services, processes, peers and MSI runs.
//! Look-alikes (another provider writing the same id, a term in an untested field, an
//! unrelated rule deleted) give nothing.

mod common;

use std::path::Path;

use common::evtx_writer::{EvtxEvent, EvtxOptions, EvtxValue, filetime, write_evtx};
use common::{parse_csv, place, run, stderr};

const JOSE: &str = "S-1-5-21-1111111111-2222222222-3333333333-1001";
const APP: &str = r"C:\Users\José Müller\AppData\Local\Akamai\netsession_win.exe";
const DEVICE_APP: &str =
    r"\device\harddiskvolume2\users\josé müller\appdata\local\akamai\netsession_win.exe";
const FW: &str = "Microsoft-Windows-Windows Firewall With Advanced Security";
const FW_CHANNEL: &str = "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall";
const AUDIT: &str = "Microsoft-Windows-Security-Auditing";
const RULE_ID: &str = "{7A1F3C22-0B4E-4D5A-9C61-2E8F0D4B7A10}";

fn s(v: &str) -> EvtxValue {
    EvtxValue::Str(v.to_string())
}

fn event(
    provider: &str,
    channel: &str,
    id: u16,
    time: &str,
    user: Option<&str>,
    data: Vec<(&str, EvtxValue)>,
) -> EvtxEvent {
    EvtxEvent {
        provider: provider.into(),
        provider_guid: None,
        event_id: id,
        channel: channel.into(),
        computer: "DESKTOP-CASE".into(),
        time: filetime(time),
        user_sid: user.map(str::to_string),
        data: data
            .into_iter()
            .map(|(n, v)| (Some(n.to_string()), v))
            .collect(),
    }
}

fn firewall_rule(
    id: u16,
    time: &str,
    rule_id: &str,
    name: &str,
    app: &str,
    action: u32,
) -> EvtxEvent {
    event(
        FW,
        FW_CHANNEL,
        id,
        time,
        Some("S-1-5-19"),
        vec![
            ("RuleId", s(rule_id)),
            ("RuleName", s(name)),
            ("Origin", EvtxValue::U32(1)),
            ("ApplicationPath", s(app)),
            ("ServiceName", s("")),
            ("Direction", EvtxValue::U32(1)),
            ("Protocol", EvtxValue::U32(6)),
            ("Action", EvtxValue::U32(action)),
            ("Profiles", EvtxValue::U32(6)),
            ("Active", EvtxValue::U32(1)),
            ("ModifyingUser", EvtxValue::Sid(JOSE.into())),
            (
                "ModifyingApplication",
                s(r"C:\Windows\System32\dllhost.exe"),
            ),
        ],
    )
}

fn firewall_log() -> Vec<u8> {
    let events = vec![
        // An unrelated rule, added and deleted: never reported.
        firewall_rule(
            2004,
            "2019-03-04T05:00:00.0000001Z",
            "{11111111-0000-0000-0000-000000000000}",
            "Other",
            r"C:\Other\other.exe",
            3,
        ),
        firewall_rule(
            2004,
            "2019-03-04T05:06:07.1234567Z",
            RULE_ID,
            "netsession_win.exe",
            APP,
            3,
        ),
        firewall_rule(
            2005,
            "2019-03-05T10:00:00.5000000Z",
            RULE_ID,
            "netsession_win.exe",
            APP,
            2,
        ),
        event(
            FW,
            FW_CHANNEL,
            2006,
            "2019-04-01T08:00:00.2500000Z",
            Some("S-1-5-19"),
            vec![
                ("RuleId", s(RULE_ID)),
                ("RuleName", s("{C0FFEE00-1111-2222-3333-444444444444}")),
                ("ModifyingUser", EvtxValue::Sid(JOSE.into())),
                (
                    "ModifyingApplication",
                    s(r"C:\Users\José Müller\AppData\Local\Akamai\uninstall.exe"),
                ),
            ],
        ),
        event(
            FW,
            FW_CHANNEL,
            2006,
            "2019-04-01T08:00:01Z",
            Some("S-1-5-19"),
            vec![
                ("RuleId", s("{11111111-0000-0000-0000-000000000000}")),
                ("RuleName", s("Other")),
                ("ModifyingUser", EvtxValue::Sid(JOSE.into())),
                (
                    "ModifyingApplication",
                    s(r"C:\Windows\System32\svchost.exe"),
                ),
            ],
        ),
        event(
            FW,
            FW_CHANNEL,
            2033,
            "2019-05-01T00:00:00Z",
            Some("S-1-5-19"),
            vec![
                ("Store Type", EvtxValue::U32(12)),
                ("ModifyingUser", EvtxValue::Sid("S-1-5-18".into())),
                (
                    "ModifyingApplication",
                    s(r"C:\Windows\System32\svchost.exe"),
                ),
            ],
        ),
    ];
    write_evtx(&events, &EvtxOptions::default())
}

fn security_log() -> Vec<u8> {
    let connection = |id: u16, time: &str, dir: &str, src: &str, dst: &str| {
        event(
            AUDIT,
            "Security",
            id,
            time,
            None,
            vec![
                ("ProcessID", EvtxValue::U64(4242)),
                ("Application", s(DEVICE_APP)),
                ("Direction", s(dir)),
                ("SourceAddress", s(src)),
                ("SourcePort", s("2869")),
                ("DestAddress", s(dst)),
                ("DestPort", s("443")),
                ("Protocol", EvtxValue::U32(6)),
            ],
        )
    };
    let events = vec![
        event(
            AUDIT,
            "Security",
            5031,
            "2019-03-04T05:06:00.0000000Z",
            None,
            vec![("Profiles", s("Private")), ("Application", s(DEVICE_APP))],
        ),
        connection(
            5156,
            "2019-03-06T12:00:00.1000000Z",
            "%%14592",
            "203.0.113.9",
            "192.168.1.20",
        ),
        connection(
            5156,
            "2019-03-06T12:30:00.2000000Z",
            "%%14593",
            "192.168.1.20",
            "198.51.100.7",
        ),
        connection(
            5157,
            "2019-03-07T09:00:00.3000000Z",
            "%%14592",
            "203.0.113.10",
            "192.168.1.20",
        ),
        event(
            AUDIT,
            "Security",
            4688,
            "2019-03-04T05:05:00.7654321Z",
            None,
            vec![
                ("SubjectUserSid", EvtxValue::Sid(JOSE.into())),
                ("NewProcessName", s(APP)),
                ("CommandLine", s(&format!("\"{APP}\" -autostart"))),
            ],
        ),
        // Another program's process: not reported, although the command line names
        // NetSession's folder in a field the rule tests... it does (CommandLine), so the
        // look-alike here names it nowhere.
        event(
            AUDIT,
            "Security",
            4688,
            "2019-03-04T05:05:30Z",
            None,
            vec![
                ("SubjectUserSid", EvtxValue::Sid(JOSE.into())),
                ("NewProcessName", s(r"C:\Windows\notepad.exe")),
                ("CommandLine", s("notepad.exe readme.txt")),
            ],
        ),
        event(
            AUDIT,
            "Security",
            4697,
            "2019-03-04T05:04:00Z",
            None,
            vec![
                ("SubjectUserSid", EvtxValue::Sid(JOSE.into())),
                ("ServiceName", s("Akamai NetSession Interface Service")),
                (
                    "ServiceFileName",
                    s(r"C:\Program Files (x86)\Common Files\Akamai\netsession_win.exe"),
                ),
            ],
        ),
    ];
    write_evtx(
        &events,
        &EvtxOptions {
            first_record_id: 100,
            records_per_chunk: Some(3),
        },
    )
}

fn system_log() -> Vec<u8> {
    let scm = "Service Control Manager";
    let events = vec![
        event(
            scm,
            "System",
            7045,
            "2019-03-04T05:04:00.5000000Z",
            Some(JOSE),
            vec![
                ("ServiceName", s("Akamai NetSession Interface Service")),
                (
                    "ImagePath",
                    s(r"C:\Program Files (x86)\Common Files\Akamai\netsession_win.exe"),
                ),
                ("ServiceType", s("user mode service")),
                ("StartType", s("auto start")),
                ("AccountName", s("LocalSystem")),
            ],
        ),
        event(
            scm,
            "System",
            7036,
            "2019-03-04T05:04:01Z",
            Some("S-1-5-18"),
            vec![
                ("param1", s("Akamai NetSession Interface Service")),
                ("param2", s("running")),
            ],
        ),
        event(
            scm,
            "System",
            7036,
            "2019-03-04T05:04:02Z",
            Some("S-1-5-18"),
            vec![("param1", s("Print Spooler")), ("param2", s("running"))],
        ),
    ];
    write_evtx(&events, &EvtxOptions::default())
}

fn application_log() -> Vec<u8> {
    let msi = |id: u16, time: &str, data: Vec<&str>| EvtxEvent {
        provider: "MsiInstaller".into(),
        provider_guid: None,
        event_id: id,
        channel: "Application".into(),
        computer: "DESKTOP-CASE".into(),
        time: filetime(time),
        user_sid: Some(JOSE.into()),
        data: data.into_iter().map(|d| (None, s(d))).collect(),
    };
    let mut spp = msi(
        1033,
        "2019-03-04T05:03:00Z",
        vec!["Akamai NetSession Interface"],
    );
    spp.provider = "Microsoft-Windows-Security-SPP".into();
    let events = vec![
        msi(
            1033,
            "2019-03-04T05:03:30.1000000Z",
            vec![
                "Akamai NetSession Interface",
                "1.9.5.6",
                "1033",
                "0",
                "Akamai Technologies, Inc.",
                "(NULL)",
                "",
            ],
        ),
        msi(
            11724,
            "2019-04-01T08:00:05.9000000Z",
            vec![
                "Product: Akamai NetSession Interface -- Removal completed successfully.",
                "(NULL)",
                "",
            ],
        ),
        spp,
    ];
    write_evtx(&events, &EvtxOptions::default())
}

fn collection(root: &Path) {
    let logs = root.join("C/Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("Microsoft-Windows-Windows Firewall With Advanced Security%4Firewall.evtx"),
        firewall_log(),
    )
    .unwrap();
    std::fs::write(logs.join("Security.evtx"), security_log()).unwrap();
    std::fs::write(logs.join("System.evtx"), system_log()).unwrap();
    std::fs::write(logs.join("Application.evtx"), application_log()).unwrap();
    place(root, "SOFTWARE", "C/Windows/System32/config/SOFTWARE");
}

#[test]
fn planted_netsession_events_come_out_with_exact_times_accounts_and_records() {
    let dir = tempfile::tempdir().unwrap();
    collection(dir.path());
    let manifest = tempfile::tempdir().unwrap();
    let manifest = manifest.path().join("manifest.json");
    let out = run(&[
        dir.path().as_os_str(),
        "--manifest".as_ref(),
        manifest.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(stats["stats"]["event_logs"], 4);
    assert!(stats["stats"]["event_records"].as_u64().unwrap() >= 14);
    let rows = parse_csv(&out.stdout);
    let mut events: Vec<(String, String, String, String, String, String)> = rows
        .iter()
        .filter(|r| r["artifact"].starts_with("eventlog."))
        .map(|r| {
            let log = r["path"].rsplit(['\\', '/']).next().unwrap().to_string();
            let record = r["locator"].split(' ').next().unwrap().to_string();
            (
                r["datetime"].clone(),
                r["artifact"].clone(),
                r["user"].clone(),
                log,
                record,
                r["state"].clone(),
            )
        })
        .collect();
    events.sort();
    let fw = "Microsoft-Windows-Windows Firewall With Advanced Security%4Firewall.evtx";
    let jose = "José Müller";
    let want: Vec<(&str, &str, &str, &str, &str)> = vec![
        (
            "2019-03-04T05:03:30.1000000Z",
            "eventlog.msi_installed",
            jose,
            "Application.evtx",
            "record=1",
        ),
        (
            "2019-03-04T05:04:00.0000000Z",
            "eventlog.service_installed_security",
            jose,
            "Security.evtx",
            "record=106",
        ),
        (
            "2019-03-04T05:04:00.5000000Z",
            "eventlog.service_installed",
            jose,
            "System.evtx",
            "record=1",
        ),
        (
            "2019-03-04T05:04:01.0000000Z",
            "eventlog.service_state_changed",
            "SYSTEM",
            "System.evtx",
            "record=2",
        ),
        (
            "2019-03-04T05:05:00.7654321Z",
            "eventlog.process_created",
            jose,
            "Security.evtx",
            "record=104",
        ),
        (
            "2019-03-04T05:06:00.0000000Z",
            "eventlog.firewall_prompt",
            "",
            "Security.evtx",
            "record=100",
        ),
        (
            "2019-03-04T05:06:07.1234567Z",
            "eventlog.firewall_rule_added",
            jose,
            fw,
            "record=2",
        ),
        (
            "2019-03-05T10:00:00.5000000Z",
            "eventlog.firewall_rule_modified",
            jose,
            fw,
            "record=3",
        ),
        (
            "2019-03-06T12:00:00.1000000Z",
            "eventlog.connection_allowed",
            "",
            "Security.evtx",
            "record=101",
        ),
        (
            "2019-03-06T12:30:00.2000000Z",
            "eventlog.connection_allowed",
            "",
            "Security.evtx",
            "record=102",
        ),
        (
            "2019-03-07T09:00:00.3000000Z",
            "eventlog.connection_blocked",
            "",
            "Security.evtx",
            "record=103",
        ),
        (
            "2019-04-01T08:00:00.2500000Z",
            "eventlog.firewall_rule_deleted",
            jose,
            fw,
            "record=4",
        ),
        (
            "2019-04-01T08:00:05.9000000Z",
            "eventlog.msi_removed",
            jose,
            "Application.evtx",
            "record=2",
        ),
        (
            "2019-05-01T00:00:00.0000000Z",
            "eventlog.firewall_rules_all_deleted",
            "SYSTEM",
            fw,
            "record=6",
        ),
    ];
    let got: Vec<(&str, &str, &str, &str, &str)> = events
        .iter()
        .map(|(a, b, c, d, e, _)| (a.as_str(), b.as_str(), c.as_str(), d.as_str(), e.as_str()))
        .collect();
    assert_eq!(got, want);
    assert!(events.iter().all(|e| e.5 == "live"));

    let deleted = rows
        .iter()
        .find(|r| r["artifact"] == "eventlog.firewall_rule_deleted")
        .unwrap();
    assert!(
        deleted["message"].contains(&format!(
            "NetSession's by its RuleId {RULE_ID}, named by event 2004 record 2"
        )),
        "{}",
        deleted["message"]
    );
    let added = rows
        .iter()
        .find(|r| r["artifact"] == "eventlog.firewall_rule_added")
        .unwrap();
    for part in [
        APP,
        "action allow",
        "inbound",
        "TCP",
        "profiles Private+Public",
        "through C:\\Windows\\System32\\dllhost.exe",
    ] {
        assert!(
            added["message"].contains(part),
            "{part}: {}",
            added["message"]
        );
    }
    assert!(
        added["locator"].starts_with("record=2 event=2004 chunk=0 offset=0x"),
        "{}",
        added["locator"]
    );

    let err = stderr(&out);
    if std::env::var_os("SHOW_VERDICT").is_some() {
        eprintln!("{err}");
    }
    for needle in [
        "event logs:",
        &format!(
            "({RULE_ID}) for {APP}: Firewall Rule Added 2019-03-04T05:06:07.1234567Z by {jose}"
        ),
        "Firewall Rule Deleted 2019-04-01T08:00:00.2500000Z",
        "firewall blocked NetSession from accepting connections (5031, the prompt): 1 time(s)",
        "service Akamai NetSession Interface Service installed 2019-03-04T05:04:00.0000000Z",
        "process runs (4688): 1 time(s)",
        "connections allowed (5156): 2 time(s)",
        "2 distinct remote address(es): 198.51.100.7, 203.0.113.9",
        "connections blocked (5157): 1 time(s)",
        "MSI Product Installed 2019-03-04T05:03:30.1000000Z: Akamai NetSession Interface 1.9.5.6",
        "MSI Product Removed 2019-04-01T08:00:05.9000000Z: Product: Akamai NetSession Interface -- Removal completed successfully., account",
        &format!(
            "user {jose} (8 rows)\n    install state: was installed (only remnants found) (8 rows: event log records (8 rows))"
        ),
        "all firewall rules deleted (2033): 1 time(s)",
        "4 event log(s) read",
    ] {
        assert!(err.contains(needle), "{needle:?} not in:\n{err}");
    }
}

#[test]
fn a_damaged_record_is_a_warning_and_the_others_are_read() {
    use common::evtx_writer::{break_record_binxml, fix_chunk_checksums, record_positions};
    let dir = tempfile::tempdir().unwrap();
    collection(dir.path());
    let path = dir
        .path()
        .join("C/Windows/System32/winevt/Logs/Security.evtx");
    let mut bytes = std::fs::read(&path).unwrap();
    break_record_binxml(&mut bytes, 101);
    let chunk = record_positions(&bytes)
        .into_iter()
        .find(|r| r.record_id == 101)
        .unwrap()
        .chunk;
    // Checksums made good again: only the record's content is bad.
    fix_chunk_checksums(&mut bytes, chunk);
    std::fs::write(&path, bytes).unwrap();
    let out = run(&[dir.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let allowed: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "eventlog.connection_allowed")
        .collect();
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    assert!(
        rows.iter()
            .any(|r| r["artifact"] == "eventlog.firewall_prompt")
    );
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l.contains("Security.evtx: chunk 0 at offset 0x1000")
                && l.contains("record")
                && l.contains("unreadable")),
        "{err}"
    );
    assert!(!err.contains("checksum"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_deletion_is_tied_to_the_registry_rule_of_its_id() {
    // SYSTEM holds NetSession's rule {5E6F7A8B-...} (fixtures/registry/make_hives.py,
    // FW_NAMED); the log only says that id was deleted, under a name without any term.
    let registry_rule = "{5E6F7A8B-9C0D-1E2F-3A4B-5C6D7E8F9A0B}";
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("C/Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    let deletion = |rule: &str, time: &str| {
        event(
            FW,
            FW_CHANNEL,
            2006,
            time,
            Some("S-1-5-19"),
            vec![
                ("RuleId", s(rule)),
                ("RuleName", s("Inbound rule 7")),
                ("ModifyingUser", EvtxValue::Sid(JOSE.into())),
                ("ModifyingApplication", s(r"C:\Windows\System32\netsh.exe")),
            ],
        )
    };
    let log = write_evtx(
        &[
            deletion(registry_rule, "2020-01-02T03:04:05.6000000Z"),
            deletion(
                "{99999999-9999-9999-9999-999999999999}",
                "2020-01-02T03:04:06Z",
            ),
        ],
        &EvtxOptions::default(),
    );
    std::fs::write(
        logs.join("Microsoft-Windows-Windows Firewall With Advanced Security%4Firewall.evtx"),
        log,
    )
    .unwrap();
    place(dir.path(), "SYSTEM", "C/Windows/System32/config/SYSTEM");
    let out = run(&[dir.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let deleted: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "eventlog.firewall_rule_deleted")
        .collect();
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["datetime"], "2020-01-02T03:04:05.6000000Z");
    assert!(
        deleted[0]["message"].contains(&format!(
            "NetSession's by its RuleId {registry_rule}, named by the registry firewall rule at SYSTEM\\"
        )),
        "{}",
        deleted[0]["message"]
    );
    let err = stderr(&out);
    assert!(
        err.contains("the registry scanned still holds this rule"),
        "{err}"
    );
}

#[test]
fn the_same_logs_in_a_zip_give_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("case");
    collection(&folder);
    let zip_path = dir.path().join("case.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for name in [
        "C/Windows/System32/winevt/Logs/Microsoft-Windows-Windows Firewall With Advanced Security%4Firewall.evtx",
        "C/Windows/System32/winevt/Logs/Security.evtx",
        "C/Windows/System32/winevt/Logs/System.evtx",
        "C/Windows/System32/winevt/Logs/Application.evtx",
        "C/Windows/System32/config/SOFTWARE",
    ] {
        zip.start_file(name, options).unwrap();
        std::io::Write::write_all(&mut zip, &std::fs::read(folder.join(name)).unwrap()).unwrap();
    }
    zip.finish().unwrap();
    let facts = |input: &Path| {
        let out = run(&[input.as_os_str()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let mut rows: Vec<(String, String, String, String, String)> = parse_csv(&out.stdout)
            .iter()
            .filter(|r| r["artifact"].starts_with("eventlog."))
            .map(|r| {
                (
                    r["datetime"].clone(),
                    r["artifact"].clone(),
                    r["user"].clone(),
                    r["sha256"].clone(),
                    r["locator"].clone(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let from_folder = facts(&folder);
    assert_eq!(from_folder.len(), 14);
    assert_eq!(facts(&zip_path), from_folder);
}

#[test]
fn logs_anywhere_in_a_folder_are_read_and_a_false_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("exported/from-helpdesk");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("sec-2019.EVTX"), security_log()).unwrap();
    std::fs::write(logs.join("notes.evtx"), "not a log\n").unwrap();
    let out = run(&[dir.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let prompt: Vec<_> = rows
        .iter()
        .filter(|r| r["artifact"] == "eventlog.firewall_prompt")
        .collect();
    assert_eq!(prompt.len(), 1, "{rows:?}");
    assert!(
        prompt[0]["path"].ends_with("sec-2019.EVTX"),
        "{}",
        prompt[0]["path"]
    );
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l.contains("notes.evtx") && l.contains("not read as an event log")),
        "{err}"
    );
}
