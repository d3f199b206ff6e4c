//! Real event logs (`fixtures/evtx/real/`, sources and licences in its SOURCES.md) read
//! by our reader give the records an independent reader gives (`evtxexport`, stored in
//! `fixtures/evtx/expected/` by `fixtures/evtx/make_expected.py`): every live record,
//! field by field. Damaged samples end with warnings, never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use netsession_scan::Catalog;
use netsession_scan::internals::catalog::EMBEDDED_CATALOG;
use netsession_scan::internals::content::evtx::matcher::EventMatcher;
use netsession_scan::internals::content::evtx::record::{Event, parse_system_time};
use netsession_scan::internals::content::evtx::{EventHit, LogSummary, read_log};

fn evtx_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/evtx")
}

fn gunzip_file(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut out)
            .unwrap();
    } else {
        std::io::BufReader::new(file).read_to_end(&mut out).unwrap();
    }
    out
}

/// Every sample: (name without `.gz`, path).
fn samples() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(evtx_dir().join("real"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains(".evtx"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            (name.trim_end_matches(".gz").to_string(), p)
        })
        .collect();
    out.sort();
    out
}

#[derive(Debug, serde::Deserialize)]
struct Expected {
    event_record_id: u64,
    time: String,
    provider: String,
    channel: String,
    event_id: u16,
    user_sid: Option<String>,
    computer: String,
    data: Vec<(Option<String>, String)>,
    binary: Option<String>,
    recovered: bool,
}

fn expected(name: &str) -> Vec<Expected> {
    let dir = evtx_dir().join("expected");
    let plain = dir.join(format!("{name}.jsonl"));
    let path = if plain.exists() {
        plain
    } else {
        dir.join(format!("{name}.jsonl.gz"))
    };
    let text = String::from_utf8(gunzip_file(&path)).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A catalog keeping every event of these (provider, channel, id)s.
fn every_catalog(records: &[Expected]) -> Catalog {
    let mut text = String::new();
    let kinds: BTreeSet<(&str, &str, u16)> = records
        .iter()
        .map(|r| (r.provider.as_str(), r.channel.as_str(), r.event_id))
        .collect();
    for (i, (provider, channel, id)) in kinds.iter().enumerate() {
        text.push_str(&format!(
            "[[event]]\nid = \"test.every{i}\"\nevent = \"Any\"\nproviders = [{provider:?}]\nchannels = [{channel:?}]\nids = [{id}]\nevery = true\nwhat = \"any\"\nproves = \"x\"\nconfidence = \"A\"\nsource = \"test\"\n\n"
        ));
    }
    Catalog::build(&[
        ("embedded".into(), EMBEDDED_CATALOG.into()),
        ("every".into(), text),
    ])
    .unwrap()
}

fn read(bytes: &[u8], catalog: &Catalog) -> (Option<LogSummary>, Vec<EventHit>, Vec<String>) {
    let matcher = EventMatcher::new(&catalog.events);
    let mut hits = Vec::new();
    let mut problems = Vec::new();
    let summary = read_log(
        bytes,
        &matcher,
        true,
        &mut |at, what| problems.push(format!("{at}: {what}")),
        &mut |hit| hits.push(hit),
    )
    .ok();
    (summary, hits, problems)
}

/// Our text of a value against evtxexport's (normalised as make_expected.py says):
/// GUIDs compare without case, hex integers by value, times by instant.
fn same_value(ours: &str, theirs: &str) -> bool {
    if ours == theirs {
        return true;
    }
    let guid = |s: &str| s.len() == 38 && s.starts_with('{') && s.ends_with('}');
    if guid(ours) && guid(theirs) {
        return ours.eq_ignore_ascii_case(theirs);
    }
    let hex = |s: &str| {
        s.strip_prefix("0x")
            .and_then(|h| u64::from_str_radix(h, 16).ok())
    };
    if let (Some(a), Some(b)) = (hex(ours), hex(theirs)) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (parse_system_time(ours), parse_system_time(theirs)) {
        return a.unix_nanos() == b.unix_nanos();
    }
    false
}

fn differences(ours: &Event, theirs: &Expected) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |what: &str, a: &str, b: &str| {
        if a != b {
            out.push(format!("{what}: ours {a:?}, evtxexport {b:?}"));
        }
    };
    check("provider", &ours.provider, &theirs.provider);
    check("channel", &ours.channel, &theirs.channel);
    check(
        "event id",
        &ours.event_id.to_string(),
        &theirs.event_id.to_string(),
    );
    check("computer", &ours.computer, &theirs.computer);
    check(
        "user",
        &ours.user_sid,
        theirs.user_sid.as_deref().unwrap_or(""),
    );
    let time = ours.time().map(|t| t.to_iso8601()).unwrap_or_default();
    check("time", &time, &theirs.time);
    let binary = ours
        .data
        .iter()
        .find(|(n, _)| n.as_deref() == Some("Binary"))
        .map(|(_, v)| v.clone());
    let data: Vec<&(Option<String>, String)> = ours
        .data
        .iter()
        .filter(|(n, _)| n.as_deref() != Some("Binary"))
        .collect();
    if data.len() != theirs.data.len() {
        out.push(format!(
            "data: ours {} fields {:?}, evtxexport {} fields {:?}",
            data.len(),
            data,
            theirs.data.len(),
            theirs.data
        ));
    } else {
        for ((name, value), (their_name, their_value)) in data.iter().zip(&theirs.data) {
            if name != their_name || !same_value(value, their_value) {
                out.push(format!(
                    "data {their_name:?}: ours {name:?}={value:?}, evtxexport {their_value:?}"
                ));
            }
        }
    }
    if let Some(theirs_binary) = &theirs.binary
        && binary.as_deref() != Some(theirs_binary.as_str())
    {
        out.push(format!(
            "binary: ours {binary:?}, evtxexport {theirs_binary:?}"
        ));
    }
    out
}

#[test]
fn every_live_record_of_every_real_log_is_what_evtxexport_reads() {
    let mut report = Vec::new();
    let mut compared = 0;
    for (name, path) in samples() {
        let records = expected(&name);
        let catalog = every_catalog(&records);
        let (summary, hits, problems) = read(&gunzip_file(&path), &catalog);
        assert!(summary.is_some(), "{name}: not read: {problems:?}");
        let ours: BTreeMap<(u64, String), &EventHit> = hits
            .iter()
            .filter(|h| !h.recovered)
            .map(|h| {
                let time = h.event.time().map(|t| t.to_iso8601()).unwrap_or_default();
                ((h.event.record_id, time), h)
            })
            .collect();
        let live: Vec<&Expected> = records.iter().filter(|r| !r.recovered).collect();
        let mut missing = 0;
        for theirs in &live {
            match ours.get(&(theirs.event_record_id, theirs.time.clone())) {
                Some(hit) => {
                    compared += 1;
                    let diff = differences(&hit.event, theirs);
                    if !diff.is_empty() {
                        report.push(format!(
                            "{name} record {}: {}",
                            theirs.event_record_id,
                            diff.join("; ")
                        ));
                    }
                }
                None => missing += 1,
            }
        }
        // Records in a chunk whose checksum fails (we warn, and read them as live):
        // evtxexport lists them among its recovered records. Each must be one of those,
        // field for field.
        let recovered: BTreeMap<(u64, String), &Expected> = records
            .iter()
            .filter(|r| r.recovered)
            .map(|r| ((r.event_record_id, r.time.clone()), r))
            .collect();
        let theirs_live: BTreeSet<(u64, String)> = live
            .iter()
            .map(|r| (r.event_record_id, r.time.clone()))
            .collect();
        let mut extra = 0usize;
        for (key, hit) in &ours {
            if theirs_live.contains(key) {
                continue;
            }
            let damaged = format!("chunk {} at offset", hit.chunk);
            let chunk_warned = problems
                .iter()
                .any(|p| p.starts_with(&damaged) && p.contains("checksum mismatch"));
            match recovered.get(key) {
                Some(theirs) if chunk_warned => {
                    compared += 1;
                    let diff = differences(&hit.event, theirs);
                    if !diff.is_empty() {
                        report.push(format!("{name} record {}: {}", key.0, diff.join("; ")));
                    }
                }
                // A record cut short in a chunk we warned of, which evtxexport skips.
                None if chunk_warned => {
                    eprintln!(
                        "{name}: record {key:?} of damaged chunk {} read by us only",
                        hit.chunk
                    )
                }
                _ => {
                    extra += 1;
                    report.push(format!("{name}: extra record {key:?}: {:?}", hit.event));
                }
            }
        }
        if missing > 0 || extra > 0 {
            report.push(format!(
                "{name}: {} live records by evtxexport, {} by us: {missing} of theirs missing, {extra} extra; problems: {problems:?}",
                live.len(),
                ours.len()
            ));
        }
        eprintln!(
            "{name}: {} live records compared, {} warning(s)",
            live.len() - missing,
            problems.len()
        );
    }
    assert!(compared > 3000, "only {compared} records compared");
    assert!(
        report.is_empty(),
        "{} differences:\n{}",
        report.len(),
        report.join("\n")
    );
}
