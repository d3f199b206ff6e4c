//! `diagnostic_report.txt`: the report a user makes with NetSession's "Generate Report"
//! action. It starts with a header in **local** time,
//!
//! ```text
//! This file was created on 2018-06-30 12:57:01 AM when a user initiated the "Generate Report" action...
//! ```
//!
//! then a `CLIENT ATTRIBUTES` block of `Name: value` lines (`GUID:`, `Executable
//! Version:`, `Configuration Version: win_75752ca_1.9.5.6-RC1`, `Is Client Upload
//! Enabled: No`), NetSession log lines, and a copy of the persisted state JSON.
//!
//! Rows: `netsession.diagnostic_report` for the header, placed in UTC when the zone is
//! given or can be inferred from the report's own last log line (else without a time,
//! the local time in its value); `netsession.diagnostic_attribute` per attribute, and
//! for some also `netsession.guid`, `netsession.version`, `netsession.build` or
//! `netsession.upload_setting`; the state copy's rows as [`super::state`] makes them,
//! with locators naming the line where the JSON starts.
//!
//! The report's log lines are **not** made rows here: the generic text reader
//! ([`super::log_rows`]) already makes them from the same file. They are only read to
//! infer the zone of the header.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

use super::common::{Fields, Problems, fact, normalise_guid, quote, split_build};
use super::log::parse_line;
use super::state::{Place, read_objects};
use crate::content::FileContext;
use crate::evidence::RowSink;
use crate::time::zone::{SourceZone, offset_name};
use crate::time::{Precision, Timestamp};

pub const REPORT: &str = "netsession.diagnostic_report";
pub const ATTRIBUTE: &str = "netsession.diagnostic_attribute";
pub const GUID: &str = "netsession.guid";
pub const VERSION: &str = "netsession.version";
pub const BUILD: &str = "netsession.build";
pub const UPLOAD_SETTING: &str = "netsession.upload_setting";

/// The words before the header's local time.
const HEADER: &str = "This file was created on ";

/// Zones from UTC-12:00 to UTC+14:00, in minutes east of UTC.
const ZONE_RANGE: std::ops::RangeInclusive<i32> = -12 * 60..=14 * 60;
/// An inferred zone is rounded to this many minutes...
const ZONE_STEP_SECS: i64 = 15 * 60;
/// ...and accepted only if the header is at most this far from the rounded value.
const ZONE_SLACK_SECS: i64 = 10 * 60;

/// Most attributes made rows from one report.
const MAX_ATTRIBUTES: usize = 1000;

/// Rows of a diagnostic report's text, and the problems met. `zone` is the machine's
/// zone, if known.
pub fn rows(
    text: &str,
    ctx: &FileContext,
    zone: Option<&SourceZone>,
    out: &mut dyn RowSink,
) -> Vec<String> {
    let mut problems = Problems::new();
    let mut header: Option<Header> = None;
    let mut logs = LastLog::default();
    let mut block = Block::Outside;
    let mut attributes = 0;
    let mut json_until = 0;
    let mut offset = 0;
    for (i, with_end) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        let start = offset;
        offset += with_end.len();
        if start < json_until {
            continue;
        }
        let line = with_end.strip_suffix('\n').unwrap_or(with_end);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(l) = parse_line(line.trim_end()) {
            logs.add(l.time, n);
            block = Block::Outside;
            continue;
        }
        if header.is_none()
            && let Some(at) = line.find(HEADER)
        {
            let stated = line.get(at + HEADER.len()..).unwrap_or_default();
            match parse_local(stated) {
                Some((local, raw)) => {
                    header = Some(Header {
                        line: n,
                        local,
                        raw,
                    })
                }
                None => problems.push(format!(
                    "line {n}: the header's time {} cannot be read",
                    quote(stated)
                )),
            }
            continue;
        }
        if let Some(at) = json_start(line) {
            block = Block::Outside;
            let base = start + at;
            let place = Place::Copy { line: n, base };
            let json = text.get(base..).unwrap_or_default();
            json_until = base + read_objects(json, &place, ctx, out, &mut problems);
            continue;
        }
        if is_attributes_heading(line) {
            block = Block::Attributes { any: false };
            continue;
        }
        let Block::Attributes { any } = block else {
            continue;
        };
        if line.trim().is_empty() {
            if any {
                block = Block::Outside;
            }
            continue;
        }
        if is_heading(line) {
            block = Block::Outside;
            continue;
        }
        match split_attribute(line) {
            Some((name, value)) => {
                block = Block::Attributes { any: true };
                attributes += 1;
                if attributes > MAX_ATTRIBUTES {
                    problems.push(format!(
                        "line {n}: more than {MAX_ATTRIBUTES} attributes; the rest are not read"
                    ));
                    block = Block::Outside;
                    continue;
                }
                attribute_rows(name, value, n, ctx, out, &mut problems);
            }
            None => problems.push(format!(
                "line {n}: {} in CLIENT ATTRIBUTES is not a `Name: value` line",
                quote(line)
            )),
        }
    }
    match header {
        Some(h) => report_row(&h, zone, &logs, ctx, out, &mut problems),
        None => problems.push(format!(
            "no header line (\"{}...\") found",
            HEADER.trim_end()
        )),
    }
    problems.into_vec()
}

/// The header line: its number, the local time it states, and that time as written.
#[derive(Debug)]
struct Header {
    line: usize,
    local: NaiveDateTime,
    raw: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Outside,
    /// Inside `CLIENT ATTRIBUTES`; `any` once an attribute was read (a blank line then
    /// ends the block).
    Attributes {
        any: bool,
    },
}

/// The latest NetSession log line of the report, and whether it is also the last one.
#[derive(Debug, Default)]
struct LastLog {
    latest: Option<(Timestamp, usize)>,
    last_line: usize,
}

impl LastLog {
    fn add(&mut self, time: Timestamp, line: usize) {
        self.last_line = line;
        if self.latest.is_none_or(|(t, _)| time >= t) {
            self.latest = Some((time, line));
        }
    }
}

/// `2018-06-30 12:57:01 AM when ...` (or a 24-hour time without AM/PM): the local time
/// and its text as written.
fn parse_local(stated: &str) -> Option<(NaiveDateTime, String)> {
    let mut words = stated.split_whitespace();
    let date = NaiveDate::parse_from_str(words.next()?, "%Y-%m-%d").ok()?;
    let clock_text = words.next()?;
    let clock = NaiveTime::parse_from_str(clock_text, "%H:%M:%S").ok()?;
    let half = words
        .next()
        .map(str::to_ascii_uppercase)
        .filter(|w| w == "AM" || w == "PM");
    let clock = match half.as_deref() {
        Some(half) => {
            use chrono::Timelike;
            let h = clock.hour();
            if !(1..=12).contains(&h) {
                return None;
            }
            let h24 = match (half, h) {
                ("AM", 12) => 0,
                ("AM", h) => h,
                ("PM", 12) => 12,
                (_, h) => h + 12,
            };
            clock.with_hour(h24)?
        }
        None => clock,
    };
    let raw = match &half {
        Some(h) => format!("{} {clock_text} {h}", date.format("%Y-%m-%d")),
        None => format!("{} {clock_text}", date.format("%Y-%m-%d")),
    };
    Some((date.and_time(clock), raw))
}

/// `UTC-07:00`
pub fn zone_name(minutes_east: i32) -> String {
    let sign = if minutes_east < 0 { '-' } else { '+' };
    let m = minutes_east.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// The zone of `local` if the report was written right after `last_utc`: their
/// difference rounded to 15 minutes, when close enough to that and within UTC-12..+14.
pub fn infer_zone(local: NaiveDateTime, last_utc: Timestamp) -> Option<i32> {
    let diff = local.and_utc().timestamp() - last_utc.unix_seconds();
    let rounded = (diff + ZONE_STEP_SECS / 2).div_euclid(ZONE_STEP_SECS) * ZONE_STEP_SECS;
    let minutes = i32::try_from(rounded / 60).ok()?;
    ((diff - rounded).abs() <= ZONE_SLACK_SECS && ZONE_RANGE.contains(&minutes)).then_some(minutes)
}

fn report_row(
    header: &Header,
    zone: Option<&SourceZone>,
    logs: &LastLog,
    ctx: &FileContext,
    out: &mut dyn RowSink,
    problems: &mut Problems,
) {
    let (n, local, raw) = (header.line, header.local, header.raw.as_str());
    let local_text = local.format("%Y-%m-%d %H:%M:%S").to_string();
    let zone = zone.and_then(|z| {
        let minutes = z.offset_at(local)? / 60;
        let from = if offset_name(minutes * 60) == z.name() {
            z.from().to_string()
        } else {
            format!("{} ({})", z.from(), z.name())
        };
        Some((minutes, from))
    });
    let given = zone.and_then(|(minutes, from)| {
        if ZONE_RANGE.contains(&minutes) {
            Some((minutes, format!("from {from}")))
        } else {
            problems.push(format!(
                "the zone given for the header ({minutes} minutes east of UTC, from {from}) is out of range; not used"
            ));
            None
        }
    });
    let inferred = || {
        let (last, line) = logs.latest?;
        let minutes = infer_zone(local, last)?;
        let which = if line == logs.last_line {
            "last"
        } else {
            "latest"
        };
        Some((
            minutes,
            format!("inferred from the report's {which} log line at {last} (line {line})"),
        ))
    };
    let found = given.or_else(inferred);
    let time = found.as_ref().and_then(|(minutes, _)| {
        let utc = local.checked_sub_signed(TimeDelta::try_minutes(i64::from(*minutes))?)?;
        Timestamp::from_naive_utc(utc, Precision::Seconds)
    });
    let mut value = Fields::new();
    value.add("local_time", &local_text).add("header", raw);
    let mut row = fact(ctx, time, "Report Generated", REPORT);
    match (&found, time) {
        (Some((minutes, how)), Some(_)) => {
            let zone = zone_name(*minutes);
            value.add("zone", &zone).add("zone_source", how);
            row.message = format!(
                "NetSession diagnostic report generated (\"Generate Report\"): header on line {n} says {raw}, local time, zone {zone} {how}"
            );
        }
        _ => {
            let why = if logs.latest.is_none() {
                "no zone given and no log line in the report to infer it from"
            } else {
                "no zone given, and the report's log lines fit no zone"
            };
            value.add("zone", "unknown").add("zone_source", why);
            row.message = format!(
                "NetSession diagnostic report generated (\"Generate Report\"): header on line {n} says {raw}, local time; the zone is unknown ({why}), so the time is not placed in UTC"
            );
        }
    }
    row.value = value.finish();
    row.locator = format!("line={n}");
    out.push(row);
}

/// Where the state JSON starts on a line: a line starting with `{`, or `{"updates"`
/// after a label.
fn json_start(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{') {
        return Some(line.len() - trimmed.len());
    }
    line.find("{\"updates\"")
}

/// `CLIENT ATTRIBUTES` (any case, decorations and a colon allowed).
fn is_attributes_heading(line: &str) -> bool {
    undecorated(line).eq_ignore_ascii_case("CLIENT ATTRIBUTES")
}

fn undecorated(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || "=-*#_:[]".contains(c))
}

/// A heading: at least three letters, none lower case, no colon (`GUID:` with an empty
/// value stays an attribute).
fn is_heading(line: &str) -> bool {
    let t = undecorated(line);
    t.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && !t.chars().any(char::is_lowercase)
        && !line.contains(':')
}

/// `Name: value`: a short name of letters, digits, spaces and `_-./()`.
fn split_attribute(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-./()".contains(c));
    ok.then_some((name, value.trim()))
}

fn attribute_rows(
    name: &str,
    value: &str,
    n: usize,
    ctx: &FileContext,
    out: &mut dyn RowSink,
    problems: &mut Problems,
) {
    let mut push = |artifact: &str, message: String, fields: &Fields| {
        let mut row = fact(ctx, None, "", artifact);
        row.message = message;
        row.value = fields.finish();
        row.locator = format!("line={n}");
        out.push(row);
    };
    let whence = format!("(CLIENT ATTRIBUTES of {} line {n})", ctx.name);
    push(
        ATTRIBUTE,
        format!("NetSession diagnostic report attribute {name} {whence}"),
        Fields::new().add("name", name).add("value", value),
    );
    let lower = name.to_ascii_lowercase();
    if lower == "guid" || lower.ends_with(" guid") {
        match normalise_guid(value) {
            Some(guid) => push(
                GUID,
                format!("NetSession client GUID {whence}"),
                Fields::new().add("guid", &guid),
            ),
            None => problems.push(format!(
                "line {n}: {name} {} is not a 32-hex GUID",
                quote(value)
            )),
        }
    } else if lower == "configuration version" {
        match split_build(value) {
            Some((_, id, version)) => {
                // `1.9.5.6-RC1`: the component version is its numbered part.
                let component = version.split('-').next().unwrap_or(version);
                push(
                    BUILD,
                    format!("NetSession build {id} version {version} {whence}"),
                    Fields::new()
                        .add("ClientBinId", id)
                        .add("ComponentVersion", component)
                        .add("VersionForUserDisplay", value),
                );
            }
            None => problems.push(format!(
                "line {n}: Configuration Version {} is not <component>_<7 hex>_<version>",
                quote(value)
            )),
        }
    } else if lower.ends_with("version") {
        push(
            VERSION,
            format!("NetSession {name} {value} {whence}"),
            Fields::new().add("version", value).add("name", name),
        );
    } else if lower.contains("upload") && (lower.contains("enabled") || lower.contains("paused")) {
        push(
            UPLOAD_SETTING,
            format!("NetSession upload setting {whence}: {name}: {value}"),
            Fields::new().add("message", &format!("{name}: {value}")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::netsession::common::testing::{check_rows, ctx, field, mutations, of};
    use crate::evidence::EvidenceRow;

    const SAMPLE: &str = "This file was created on 2018-06-30 12:57:01 AM when a user initiated the \"Generate Report\" action from the Control Panel.\r
\r
CLIENT ATTRIBUTES\r
GUID: 2C6EE80462A9C427BB3E5BD6F7102693\r
Executable Version: 1.9.5.5\r
Configuration Version: win_75752ca_1.9.5.6-RC1\r
Is Client Upload Enabled: No\r
\r
LOGS\r
180630_075639: [info] CPAdvancedTab.cpp:CPAdvancedTab::DoDataExchange(79): Hiding uploads section\r
Vwin_75752ca_1.9.5.6-RC1:180630_075652: [info] DiagReport.cpp:generate(12): Writing report\r
\r
PERSISTED STATE\r
{\"updates\":{\"globalData\":{\"guid\":\"2c6ee80462a9c427bb3e5bd6f7102693\",\"installTimeStampSec\":\"1507851608\",\r
  \"lifetimeDownloadBytes\":\"734003200\"}}}\r
END OF REPORT\r
";

    fn read(text: &str, zone: Option<(i32, &str)>) -> (Vec<EvidenceRow>, Vec<String>) {
        let mut rows = Vec::new();
        let zone = zone.map(|(minutes, from)| SourceZone::fixed(minutes, from));
        let problems = super::rows(
            text,
            &ctx("diagnostic_report.txt"),
            zone.as_ref(),
            &mut rows,
        );
        check_rows(&rows);
        (rows, problems)
    }

    #[test]
    fn header_zone_inferred_from_the_last_log_line() {
        let (rows, problems) = read(SAMPLE, None);
        assert!(problems.is_empty(), "{problems:?}");
        let report = of(&rows, REPORT);
        assert_eq!(report.len(), 1);
        let r = report[0];
        assert_eq!(r.datetime.unwrap().to_iso8601(), "2018-06-30T07:57:01Z");
        assert_eq!(r.timestamp_desc, "Report Generated");
        assert_eq!(r.locator, "line=1");
        assert!(
            r.message.contains(
                "local time, zone UTC-07:00 inferred from the report's last log line at 2018-06-30T07:56:52Z (line 11)"
            ),
            "{}",
            r.message
        );
        assert_eq!(field(&r.value, "local_time"), Some("2018-06-30 00:57:01"));
        assert_eq!(field(&r.value, "header"), Some("2018-06-30 12:57:01 AM"));
        assert_eq!(field(&r.value, "zone"), Some("UTC-07:00"));
    }

    #[test]
    fn attributes_and_the_state_copy() {
        let (rows, _) = read(SAMPLE, None);
        let attributes = of(&rows, ATTRIBUTE);
        assert_eq!(attributes.len(), 4);
        assert_eq!(
            attributes[1].value,
            "name=Executable Version; value=1.9.5.5"
        );
        assert_eq!(attributes[1].locator, "line=5");
        let guids = of(&rows, GUID);
        assert_eq!(guids.len(), 2, "attribute and state copy");
        assert!(
            guids
                .iter()
                .all(|g| g.value == "guid=2c6ee80462a9c427bb3e5bd6f7102693")
        );
        assert_eq!(guids[0].locator, "line=4");
        assert_eq!(guids[1].locator, "line=14; object=1; key=globalData.guid");
        assert_eq!(
            of(&rows, VERSION)[0].value,
            "version=1.9.5.5; name=Executable Version"
        );
        assert_eq!(
            of(&rows, BUILD)[0].value,
            "ClientBinId=75752ca; ComponentVersion=1.9.5.6; VersionForUserDisplay=win_75752ca_1.9.5.6-RC1"
        );
        assert_eq!(
            of(&rows, UPLOAD_SETTING)[0].value,
            "message=Is Client Upload Enabled: No"
        );
        let install = of(&rows, super::super::state::INSTALL_TIME);
        assert_eq!(
            install[0].datetime.unwrap().to_iso8601(),
            "2017-10-12T23:40:08Z"
        );
        assert_eq!(
            install[0].locator,
            "line=14; object=1; key=globalData.installTimeStampSec"
        );
        assert_eq!(
            of(&rows, super::super::state::LIFETIME_DOWNLOAD)[0].value,
            "lifetimeDownloadBytes=734003200"
        );
        // No log line is a row here.
        assert!(rows.iter().all(|r| !r.value.starts_with("level=")));
        assert_eq!(rows.len(), 12, "{rows:#?}");
    }

    #[test]
    fn a_given_zone_wins_and_an_unknown_zone_gives_no_time() {
        let (rows, _) = read(SAMPLE, Some((120, "SYSTEM TimeZoneInformation")));
        let r = of(&rows, REPORT)[0];
        assert_eq!(r.datetime.unwrap().to_iso8601(), "2018-06-29T22:57:01Z");
        assert!(
            r.message
                .contains("local time, zone UTC+02:00 from SYSTEM TimeZoneInformation")
        );
        // No log lines: no zone.
        let no_logs: String = SAMPLE
            .lines()
            .filter(|l| parse_line(l).is_none())
            .map(|l| format!("{l}\n"))
            .collect();
        let (rows, problems) = read(&no_logs, None);
        assert!(problems.is_empty(), "{problems:?}");
        let r = of(&rows, REPORT)[0];
        assert_eq!(r.datetime, None);
        assert_eq!(
            r.timestamp_desc,
            crate::content::netsession::common::NO_TIME
        );
        assert_eq!(field(&r.value, "zone"), Some("unknown"));
        assert_eq!(field(&r.value, "local_time"), Some("2018-06-30 00:57:01"));
        assert!(r.message.contains("the zone is unknown"));
        // A log line a day away fits no zone.
        let far = SAMPLE.replace("180630_075652", "180702_075652");
        let (rows, _) = read(&far, None);
        assert_eq!(of(&rows, REPORT)[0].datetime, None);
        let (rows, problems) = read(SAMPLE, Some((-24 * 60, "nowhere")));
        assert!(problems[0].contains("out of range"), "{problems:?}");
        assert_eq!(
            of(&rows, REPORT)[0].datetime.unwrap().to_iso8601(),
            "2018-06-30T07:57:01Z"
        );
    }

    #[test]
    fn zones_and_clock_reading() {
        assert_eq!(zone_name(-420), "UTC-07:00");
        assert_eq!(zone_name(330), "UTC+05:30");
        assert_eq!(zone_name(0), "UTC+00:00");
        let local = |s: &str| parse_local(s).map(|(t, _)| t.to_string());
        assert_eq!(
            local("2018-06-30 12:57:01 AM when").as_deref(),
            Some("2018-06-30 00:57:01")
        );
        assert_eq!(
            local("2018-06-30 12:57:01 PM").as_deref(),
            Some("2018-06-30 12:57:01")
        );
        assert_eq!(
            local("2018-06-30 1:05:00 pm").as_deref(),
            Some("2018-06-30 13:05:00")
        );
        assert_eq!(
            local("2018-06-30 23:05:00").as_deref(),
            Some("2018-06-30 23:05:00")
        );
        assert_eq!(local("2018-06-30 13:05:00 PM"), None);
        assert_eq!(local("2018-02-30 01:05:00"), None);
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let utc = |secs| Timestamp::from_unix(secs, 0, Precision::Seconds).unwrap();
        let last = utc(t("2018-06-30 07:56:52").and_utc().timestamp());
        assert_eq!(infer_zone(t("2018-06-30 00:57:01"), last), Some(-420));
        assert_eq!(infer_zone(t("2018-06-30 13:30:00"), last), Some(330));
        assert_eq!(infer_zone(t("2018-07-01 07:56:52"), last), None, "+24h");
        assert_eq!(infer_zone(t("2018-06-29 17:00:00"), last), None, "-15h");
    }

    #[test]
    fn damage_is_named_and_the_rest_stays() {
        let damaged = SAMPLE
            .replace("Executable Version: 1.9.5.5", "\u{fffd}\u{0}garbage")
            .replace("GUID: 2C6E", "GUID: ZZ6E")
            .replace("win_75752ca_", "win_75752c_")
            .replace("\"734003200\"}}}", "\"734003200\"");
        let (rows, problems) = read(&damaged, None);
        let all = problems.join("\n");
        for want in [
            "line 4: GUID \"ZZ6EE80462A9C427BB3E5BD6F7102693\" is not a 32-hex GUID",
            "line 5: \"\u{fffd}\\0garbage\" in CLIENT ATTRIBUTES is not a `Name: value` line",
            "line 6: Configuration Version \"win_75752c_1.9.5.6-RC1\" is not",
            "state JSON copy starting on line 14: object 1 at byte offset",
        ] {
            assert!(all.contains(want), "{want}\n{all}");
        }
        assert_eq!(of(&rows, REPORT).len(), 1);
        assert_eq!(of(&rows, UPLOAD_SETTING).len(), 1);
        assert_eq!(of(&rows, ATTRIBUTE).len(), 3);
        // An empty all-capitals attribute does not end the block.
        let empty = SAMPLE.replace("GUID: 2C6EE80462A9C427BB3E5BD6F7102693", "GUID:");
        let (rows, problems) = read(&empty, None);
        assert_eq!(problems, ["line 4: GUID \"\" is not a 32-hex GUID"]);
        assert_eq!(of(&rows, ATTRIBUTE).len(), 4);
        let (rows, problems) = read("", None);
        assert!(rows.is_empty());
        assert_eq!(
            problems,
            ["no header line (\"This file was created on...\") found"]
        );
        let (rows, problems) = read("This file was created on 2018-13-30 12:57:01 AM\n", None);
        assert!(rows.is_empty());
        assert_eq!(
            problems[0],
            "line 1: the header's time \"2018-13-30 12:57:01 AM\" cannot be read"
        );
        let junk = String::from_utf8_lossy(&[0xff, 0xfe, b'{', 0x80, b'\n', 0, 0xc3]).into_owned();
        let (rows, problems) = read(&junk, None);
        assert!(rows.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (rows, problems) = read("  {\"updates\":{\"globalData\":{\"guid\":\u{0}", None);
        assert!(rows.is_empty());
        assert!(
            problems[0]
                .starts_with("state JSON copy starting on line 1: object 1 at byte offset 2"),
            "{problems:?}"
        );
    }

    #[test]
    fn mutations_never_panic() {
        for text in mutations(SAMPLE, 400) {
            read(&text, None);
        }
    }
}
