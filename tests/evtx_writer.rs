//! The test EVTX writer (tests/common/evtx_writer.rs) checked with independent readers:
//! the `evtx` crate always; `evtxexport` (Debian libevtx-utils) and python-evtx where they
//! are installed (through fixtures/evtx/make_expected.py --dump, which prints a file's
//! records in the form of the stored expectations).

mod common;

use std::path::Path;
use std::process::Command;

use common::evtx_writer::*;
use serde_json::Value as Json;

const FIREWALL: &str = "Microsoft-Windows-Windows Firewall With Advanced Security";
const FIREWALL_CHANNEL: &str = "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall";
const FIREWALL_GUID: &str = "{D1BC9AFF-2ABF-4D71-9146-ECB2A986EB85}";

fn named(name: &str, v: EvtxValue) -> (Option<String>, EvtxValue) {
    (Some(name.to_string()), v)
}

fn s(v: &str) -> EvtxValue {
    EvtxValue::Str(v.to_string())
}

fn firewall_2004(rule: &str, app: &str, time: &str) -> EvtxEvent {
    EvtxEvent {
        provider: FIREWALL.into(),
        provider_guid: Some(FIREWALL_GUID.into()),
        event_id: 2004,
        channel: FIREWALL_CHANNEL.into(),
        computer: "LAB-WIN10".into(),
        time: filetime(time),
        user_sid: Some("S-1-5-19".into()),
        data: vec![
            named("RuleId", s(rule)),
            named("RuleName", s("Akamai NetSession Interface")),
            named("Origin", EvtxValue::U32(1)),
            named("ApplicationPath", s(app)),
            named("ServiceName", s("")),
            named("Direction", EvtxValue::U32(1)),
            named("Protocol", EvtxValue::U32(6)),
            named("LocalPorts", s("*")),
            named("Action", EvtxValue::U32(3)),
            named("Profiles", EvtxValue::U32(4)),
            named("Active", EvtxValue::U32(1)),
            named(
                "ModifyingUser",
                EvtxValue::Sid("S-1-5-21-3623811015-3361044348-30300820-1013".into()),
            ),
            named(
                "ModifyingApplication",
                s("C:\\Windows\\System32\\dllhost.exe"),
            ),
        ],
    }
}

/// Every value type, unnamed data, XML specials, non-ASCII and CR LF in strings, a null,
/// classic providers without a GUID, several computers (several System templates).
fn varied_events() -> Vec<EvtxEvent> {
    let app = "C:\\Users\\lab\\AppData\\Local\\Akamai\\netsession_win.exe";
    let mut events = vec![
        firewall_2004(
            "{8B1B7D7E-8A0E-4D43-A33F-2F1B5C1C0C11}",
            app,
            "2019-03-04T05:06:07.1234567Z",
        ),
        EvtxEvent {
            provider: FIREWALL.into(),
            provider_guid: Some(FIREWALL_GUID.into()),
            event_id: 2006,
            channel: FIREWALL_CHANNEL.into(),
            computer: "LAB-WIN10".into(),
            time: filetime("2019-05-06T07:08:09.0000001Z"),
            user_sid: Some("S-1-5-19".into()),
            data: vec![
                named("RuleId", s("{8B1B7D7E-8A0E-4D43-A33F-2F1B5C1C0C11}")),
                named("RuleName", s("Akamai NetSession Interface")),
                named("ModifyingUser", EvtxValue::Sid("S-1-5-18".into())),
                named(
                    "ModifyingApplication",
                    s("C:\\Windows\\System32\\netsh.exe"),
                ),
            ],
        },
        EvtxEvent {
            provider: "Service Control Manager".into(),
            provider_guid: None,
            event_id: 7045,
            channel: "System".into(),
            computer: "LAB-WIN10".into(),
            time: filetime("2019-03-04T05:06:00Z"),
            user_sid: Some("S-1-5-21-3623811015-3361044348-30300820-1013".into()),
            data: vec![
                named("ServiceName", s("Akamai NetSession Interface")),
                named(
                    "ImagePath",
                    s("\"C:\\Program Files\\Akamai\\netsession_win.exe\" -service"),
                ),
                named("ServiceType", s("user mode service")),
                named("StartType", s("auto start")),
                named("AccountName", s("LocalSystem")),
            ],
        },
        EvtxEvent {
            provider: "MsiInstaller".into(),
            provider_guid: None,
            event_id: 1033,
            channel: "Application".into(),
            computer: "lab-win7.example.test".into(),
            time: filetime("2012-11-30T23:59:59.9999999Z"),
            user_sid: Some("S-1-5-21-1-2-3-1000".into()),
            data: vec![
                (None, s("Akamai NetSession Interface")),
                (None, s("1.3.2.3")),
                (None, s("1033")),
                (None, s("0")),
                (None, s("Akamai Technologies, Inc.")),
                (None, s("(NULL)")),
                (None, s("")),
            ],
        },
        EvtxEvent {
            provider: "Microsoft-Windows-Security-Auditing".into(),
            provider_guid: Some("{54849625-5478-4994-A5BA-3E3B0328C30D}".into()),
            event_id: 4688,
            channel: "Security".into(),
            computer: "LAB-WIN10".into(),
            time: filetime("2019-03-04T05:06:08.5Z"),
            user_sid: None,
            data: vec![
                named("SubjectUserSid", EvtxValue::Sid("S-1-5-18".into())),
                named("SubjectLogonId", EvtxValue::Hex64(0x3e7)),
                named("NewProcessId", EvtxValue::Hex64(0x1a2c)),
                named("NewProcessName", s(app)),
                named("TokenElevationType", s("%%1936")),
                named("ProcessId", EvtxValue::Hex64(0)),
                named("CommandLine", s("netsession_win.exe -x \"a&b\" <c> 'd'")),
                named("MandatoryLabel", EvtxValue::Sid("S-1-16-12288".into())),
            ],
        },
        EvtxEvent {
            provider: "Test-Provider-All-Types".into(),
            provider_guid: Some("{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}".into()),
            event_id: 65535,
            channel: "Test/Operational".into(),
            computer: "ÄÖÜ-Rechner".into(),
            time: filetime("1999-12-31T23:59:59.0000000Z"),
            user_sid: Some("S-1-5-21-4294967295-1-2-500".into()),
            data: vec![
                named("U8", EvtxValue::U8(255)),
                named("U16", EvtxValue::U16(65535)),
                named("U32", EvtxValue::U32(4_294_967_295)),
                named("U64", EvtxValue::U64(18_446_744_073_709_551_615)),
                named("Hex32", EvtxValue::Hex32(0x8007_0005)),
                named("Hex32Zero", EvtxValue::Hex32(0)),
                named("Hex64", EvtxValue::Hex64(0x0123_4567_89ab_cdef)),
                named("True", EvtxValue::Bool(true)),
                named("False", EvtxValue::Bool(false)),
                named(
                    "Guid",
                    EvtxValue::Guid("{f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f}".into()),
                ),
                named(
                    "When",
                    EvtxValue::FileTime(filetime("2038-01-19T03:14:08.0000009Z")),
                ),
                named("Sid", EvtxValue::Sid("S-1-0-0".into())),
                named("Lines", s("first\r\nsecond\ttab · ünïcödé 日本")),
                named("Nothing", EvtxValue::Null),
                named("After", s("value after the null")),
            ],
        },
    ];
    // The same shapes again (templates reused within a chunk and defined again in the next).
    for i in 0..6 {
        let t = format!("2019-03-04T06:{:02}:00.{:07}Z", i, i * 1_111_111);
        events.push(firewall_2004(
            &format!("{{00000000-0000-0000-0000-00000000000{i}}}"),
            app,
            &t,
        ));
    }
    events
}

/// What each reader should give for `event` as record `id`, in the stored form of
/// fixtures/evtx/expected (values as text; a null optional value leaves its element out).
fn expected_json(event: &EvtxEvent, id: u64) -> Json {
    let data: Vec<Json> = event
        .data
        .iter()
        .filter(|(_, v)| *v != EvtxValue::Null)
        .map(|(n, v)| serde_json::json!([n, text(v)]))
        .collect();
    serde_json::json!({
        "record_id": id,
        "event_record_id": id,
        "time": iso(event.time),
        "provider": event.provider,
        "channel": event.channel,
        "event_id": event.event_id,
        "user_sid": event.user_sid,
        "computer": event.computer,
        "data": data,
    })
}

fn text(v: &EvtxValue) -> String {
    match v {
        EvtxValue::Str(x) => x.clone(),
        EvtxValue::U8(x) => x.to_string(),
        EvtxValue::U16(x) => x.to_string(),
        EvtxValue::U32(x) => x.to_string(),
        EvtxValue::U64(x) => x.to_string(),
        EvtxValue::Hex32(x) => format!("0x{x:x}"),
        EvtxValue::Hex64(x) => format!("0x{x:x}"),
        EvtxValue::Bool(b) => b.to_string(),
        EvtxValue::Sid(x) => x.clone(),
        EvtxValue::Guid(x) => x.to_uppercase(),
        EvtxValue::FileTime(t) => iso(*t),
        EvtxValue::Null => String::new(),
    }
}

#[test]
fn filetime_and_iso_are_inverse_and_exact() {
    assert_eq!(filetime("1601-01-01T00:00:00Z"), 0);
    assert_eq!(filetime("1970-01-01T00:00:00Z"), 116_444_736_000_000_000);
    assert_eq!(
        filetime("2019-03-04T05:06:07.1234567Z"),
        131_961_495_671_234_567
    );
    assert_eq!(filetime("2000-02-29T12:00:00.5Z"), 125_962_992_005_000_000);
    for t in [
        "1601-01-01T00:00:00.0000000Z",
        "2019-03-04T05:06:07.1234567Z",
        "2100-12-31T23:59:59.9999999Z",
    ] {
        assert_eq!(iso(filetime(t)), t);
    }
}

#[test]
fn sid_and_guid_bytes_are_as_windows_stores_them() {
    assert_eq!(sid_bytes("S-1-5-18"), [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]);
    assert_eq!(
        guid_bytes("{00112233-4455-6677-8899-AABBCCDDEEFF}"),
        [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff
        ]
    );
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
}

#[test]
fn file_and_chunk_headers_are_consistent() {
    let events = varied_events();
    let file = write_evtx(
        &events,
        &EvtxOptions {
            first_record_id: 100,
            records_per_chunk: Some(4),
        },
    );
    let chunks = (file.len() - FILE_HEADER_SIZE) / CHUNK_SIZE;
    assert!((file.len() - FILE_HEADER_SIZE).is_multiple_of(CHUNK_SIZE));
    assert_eq!(chunks, events.len().div_ceil(4));
    assert_eq!(&file[..8], b"ElfFile\0");
    assert_eq!(u16::from_le_bytes([file[42], file[43]]) as usize, chunks);
    assert_eq!(
        u64::from_le_bytes(file[24..32].try_into().unwrap()),
        100 + events.len() as u64
    );
    assert_eq!(
        u32::from_le_bytes(file[124..128].try_into().unwrap()),
        crc32(&file[..120])
    );
    let records = record_positions(&file);
    assert_eq!(
        records.iter().map(|r| r.record_id).collect::<Vec<_>>(),
        (100..100 + events.len() as u64).collect::<Vec<_>>()
    );
    for r in &records {
        assert!(r.size.is_multiple_of(8));
        let copy = u32::from_le_bytes(
            file[r.offset + r.size - 4..r.offset + r.size]
                .try_into()
                .unwrap(),
        );
        assert_eq!(copy as usize, r.size, "size copy of record {}", r.record_id);
        assert_eq!(r.chunk, (r.record_id as usize - 100) / 4);
    }
    // Without a limit, records fill a chunk and go on in the next.
    let many: Vec<EvtxEvent> = (0..400)
        .map(|i| {
            firewall_2004(
                &format!("{{{i:08}-0000-0000-0000-000000000000}}"),
                "C:\\x.exe",
                "2020-01-01T00:00:00Z",
            )
        })
        .collect();
    let file = write_evtx(&many, &EvtxOptions::default());
    let chunks = (file.len() - FILE_HEADER_SIZE) / CHUNK_SIZE;
    assert!(chunks >= 2, "400 events in {chunks} chunk(s)");
    assert_eq!(record_positions(&file).len(), 400);
}

/// Events as the `evtx` crate reads them, in the stored form.
fn crate_rows(file: &[u8]) -> Vec<Json> {
    let mut out = Vec::new();
    let mut xml_parser = evtx::EvtxParser::from_buffer(file.to_vec()).expect("evtx opens the file");
    let xml: Vec<_> = xml_parser
        .records()
        .map(|r| r.expect("record reads"))
        .collect();
    let mut json_parser =
        evtx::EvtxParser::from_buffer(file.to_vec()).expect("evtx opens the file");
    let json: Vec<_> = json_parser
        .records_json_value()
        .map(|r| r.expect("record reads"))
        .collect();
    assert_eq!(xml.len(), json.len());
    for (x, j) in xml.iter().zip(&json) {
        assert_eq!(x.event_record_id, j.event_record_id);
        let sys = &j.data["Event"]["System"];
        let event_id = sys["EventID"]
            .as_u64()
            .or_else(|| sys["EventID"]["#text"].as_u64());
        out.push(serde_json::json!({
            "record_id": x.event_record_id,
            "event_record_id": sys["EventRecordID"],
            "time": sys["TimeCreated"]["#attributes"]["SystemTime"],
            "provider": sys["Provider"]["#attributes"]["Name"],
            "channel": sys["Channel"],
            "event_id": event_id,
            "user_sid": sys["Security"]["#attributes"]["UserID"],
            "computer": sys["Computer"],
            "data": event_data(&x.data),
        }));
    }
    out
}

/// `<EventData>`'s `<Data>` elements from the crate's XML: [name or null, text].
fn event_data(xml: &str) -> Vec<Json> {
    let Some(start) = xml.find("<EventData>") else {
        return Vec::new();
    };
    let end = xml.find("</EventData>").expect("EventData closed");
    let mut rest = &xml[start..end];
    let mut out = Vec::new();
    while let Some(at) = rest.find("<Data") {
        rest = &rest[at + 5..];
        let close = rest.find('>').unwrap();
        let head = &rest[..close];
        let name = head
            .split_once("Name=\"")
            .map(|(_, n)| unescape(&n[..n.find('"').unwrap()]));
        let value = if head.ends_with('/') {
            String::new()
        } else {
            let stop = rest.find("</Data>").unwrap();
            let v = unescape(&rest[close + 1..stop]);
            rest = &rest[stop..];
            v
        };
        out.push(serde_json::json!([name, value]));
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#13;", "\r")
        .replace("&amp;", "&")
}

#[test]
fn the_evtx_crate_reads_what_the_writer_wrote() {
    let events = varied_events();
    let file = write_evtx(
        &events,
        &EvtxOptions {
            first_record_id: 41,
            records_per_chunk: Some(5),
        },
    );
    let rows = crate_rows(&file);
    assert_eq!(rows.len(), events.len());
    for (i, (row, event)) in rows.iter().zip(&events).enumerate() {
        let mut want = expected_json(event, 41 + i as u64);
        // The crate keeps an element whose optional value is null, empty; it prints GUIDs
        // in lower case.
        want["data"] = event
            .data
            .iter()
            .map(|(n, v)| serde_json::json!([n, text(v)]))
            .collect();
        let mut got = row.clone();
        for pair in got["data"].as_array_mut().unwrap() {
            let v = pair[1].as_str().unwrap().to_string();
            if v.len() == 38 && v.starts_with('{') {
                pair[1] = Json::from(v.to_uppercase());
            }
        }
        assert_eq!(got, want, "record {} (event {i})", 41 + i);
    }
    // The crate checks both checksums of every chunk: all good.
    let mut p = checking(file);
    for chunk in p.chunks() {
        let chunk = chunk.expect("chunk header and checksums valid");
        assert!(chunk.validate_checksum());
    }
}

/// A parser that checks every chunk's checksums.
fn checking(file: Vec<u8>) -> evtx::EvtxParser<std::io::Cursor<Vec<u8>>> {
    evtx::EvtxParser::from_buffer(file)
        .unwrap()
        .with_configuration(evtx::ParserSettings::new().validate_checksums(true))
}

fn tool(name: &str, args: &[&str]) -> bool {
    Command::new(name)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty())
}

fn python_evtx_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import Evtx.Evtx"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The records of `path` as `reader` (make_expected.py's --dump) reads them, minus the
/// fields this test does not plant.
fn dump(path: &Path, reader: Option<&str>) -> Vec<Json> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/evtx/make_expected.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg("--dump").arg(path);
    if let Some(r) = reader {
        cmd.args(["--reader", r]);
    }
    let out = cmd.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "reader complained: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut j: Json = serde_json::from_str(l).unwrap();
            let o = j.as_object_mut().unwrap();
            assert_eq!(
                o.remove("recovered"),
                Some(Json::Bool(false)),
                "a written record came out as recovered"
            );
            o.remove("binary");
            j
        })
        .collect()
}

fn compare_with(reader: Option<&str>, label: &str) {
    let events = varied_events();
    let dir = std::env::temp_dir().join(format!("evtx_writer_{label}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("written.evtx");
    std::fs::write(
        &path,
        write_evtx(
            &events,
            &EvtxOptions {
                first_record_id: 7,
                records_per_chunk: Some(4),
            },
        ),
    )
    .unwrap();
    let rows = dump(&path, reader);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(rows.len(), events.len(), "{label}: record count");
    for (i, (row, event)) in rows.iter().zip(&events).enumerate() {
        let want = expected_json(event, 7 + i as u64);
        assert_eq!(row, &want, "{label}: record {} (event {i})", 7 + i);
    }
}

#[test]
fn evtxexport_reads_what_the_writer_wrote() {
    if !tool("evtxexport", &["-V"]) || !tool("python3", &["--version"]) {
        eprintln!("SKIPPED: evtxexport (Debian libevtx-utils) or python3 is not installed");
        return;
    }
    compare_with(None, "evtxexport");
}

#[test]
fn python_evtx_reads_what_the_writer_wrote() {
    if !python_evtx_installed() {
        eprintln!("SKIPPED: python-evtx is not installed (pip install python-evtx)");
        return;
    }
    compare_with(Some("python-evtx"), "python-evtx");
}

#[test]
fn damage_helpers_break_what_they_say() {
    let events = varied_events();
    let clean = write_evtx(
        &events,
        &EvtxOptions {
            first_record_id: 1,
            records_per_chunk: Some(4),
        },
    );
    let records = record_positions(&clean);

    // A flipped byte in record 6 (chunk 1): that chunk's records checksum fails; the
    // other chunks still read.
    let mut file = clean.clone();
    let at = damage_record(&mut file, 6);
    let r6 = records.iter().find(|r| r.record_id == 6).unwrap();
    assert!(at >= r6.offset + 24 && at < r6.offset + r6.size - 4);
    assert_ne!(file[at], clean[at]);
    let mut p = checking(file);
    let results: Vec<bool> = p.chunks().map(|c| c.is_ok()).collect();
    assert_eq!(results, [true, false, true]);

    // A chunk header byte: its header checksum fails.
    let mut file = clean.clone();
    let at = damage_chunk_header(&mut file, 2);
    assert_eq!(at, FILE_HEADER_SIZE + 2 * CHUNK_SIZE + 32);
    let mut p = checking(file);
    let results: Vec<bool> = p.chunks().map(|c| c.is_ok()).collect();
    assert_eq!(results, [true, true, false]);

    // Unreadable BinXML with checksums made good again: the checksums pass, the record
    // does not parse, its neighbours do.
    let mut file = clean.clone();
    let at = break_record_binxml(&mut file, 2);
    assert_eq!(at, records[1].offset + 24);
    fix_chunk_checksums(&mut file, 0);
    let mut p = evtx::EvtxParser::from_buffer(file).unwrap();
    let ids: Vec<Result<u64, ()>> = p
        .records()
        .map(|r| r.map(|r| r.event_record_id).map_err(|_| ()))
        .collect();
    assert!(ids.contains(&Err(())), "the broken record is reported");
    for id in [1, 3, 4, 5, 11, 12] {
        assert!(ids.contains(&Ok(id)), "record {id} still read");
    }

    // A broken chunk signature.
    let mut file = clean;
    let at = damage_chunk_magic(&mut file, 1);
    assert_eq!(&file[at..at + 8], b"XlfChnk\0");
}

// ---------------------------------------------------------------------------------------
// The stored expectations of the real samples (fixtures/evtx/expected)

fn real_samples() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/evtx/real");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".evtx.gz"))
        .collect();
    v.sort();
    v
}

fn gunzip(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn expected_rows(sample: &Path) -> Vec<Json> {
    let name = sample
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_end_matches(".gz")
        .to_string();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/evtx/expected");
    let plain = dir.join(format!("{name}.jsonl"));
    let text = if plain.exists() {
        std::fs::read_to_string(plain).unwrap()
    } else {
        String::from_utf8(gunzip(&dir.join(format!("{name}.jsonl.gz")))).unwrap()
    };
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every real sample has its expectations, and the `evtx` crate finds the same live
/// records in it: same record ids, event ids, providers and times.
#[test]
fn real_samples_have_expectations_the_evtx_crate_agrees_with() {
    let samples = real_samples();
    assert_eq!(
        samples.len(),
        14,
        "samples listed in fixtures/evtx/real/SOURCES.md"
    );
    for sample in samples {
        let rows = expected_rows(&sample);
        assert!(!rows.is_empty(), "{}", sample.display());
        let live: std::collections::BTreeMap<u64, &Json> = rows
            .iter()
            .filter(|r| r["recovered"] == Json::Bool(false))
            .map(|r| (r["record_id"].as_u64().unwrap(), r))
            .collect();
        let mut parser = evtx::EvtxParser::from_buffer(gunzip(&sample)).unwrap();
        let mut matched = 0;
        for record in parser.records_json_value().flatten() {
            let Some(want) = live.get(&record.event_record_id) else {
                continue;
            };
            let sys = &record.data["Event"]["System"];
            let event_id = sys["EventID"]
                .as_u64()
                .or_else(|| sys["EventID"]["#text"].as_u64());
            let what = format!("{} record {}", sample.display(), record.event_record_id);
            assert_eq!(event_id, want["event_id"].as_u64(), "{what}");
            assert_eq!(
                sys["Provider"]["#attributes"]["Name"], want["provider"],
                "{what}"
            );
            assert_eq!(
                sys["TimeCreated"]["#attributes"]["SystemTime"], want["time"],
                "{what}"
            );
            matched += 1;
        }
        assert!(
            matched * 10 >= live.len() * 9,
            "{}: only {matched} of {} live records matched",
            sample.display(),
            live.len()
        );
    }
}

/// Where evtxexport and python-evtx are installed, the stored expectations are what
/// make_expected.py makes from the samples now.
#[test]
fn stored_expectations_are_reproducible() {
    if !tool("evtxexport", &["-V"]) || !python_evtx_installed() {
        eprintln!("SKIPPED: evtxexport (libevtx-utils) or python-evtx is not installed");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/evtx/make_expected.py");
    let out = Command::new("python3")
        .arg(script)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
