//! `client.ini`: NetSession 1.9.x's configuration, an INI file with the sections
//! `[client config]`, `[base config]`, `[version config]` and `[extra config]`:
//!
//! ```text
//! [client config]
//! ClientBinId=75752ca
//! [version config]
//! ComponentVersion=1.9.5.6
//! VersionForUserDisplay=win_75752ca_1.9.5.6-RC1
//! BuildTimeString=2018-04-17 18:59:15 (E+1523991555s) UTC
//! [base config]
//! InstallerUrl=...
//! CNHostList=cn1.redswoosh.akadns.net:443
//! ```
//!
//! Two rows: `netsession.build` (the build's id, version and build time, at the build
//! time) and `netsession.config` (the hosts and URLs it talks to, no time). A line that
//! is neither a section, a `key=value` pair, a comment nor blank is a problem.

use chrono::NaiveDateTime;

use super::common::{Fields, IniLine, Problems, fact, from_epoch_seconds, ini_line, quote};
use crate::content::FileContext;
use crate::evidence::RowSink;
use crate::time::{Precision, Timestamp};

pub const BUILD: &str = "netsession.build";
pub const CONFIG: &str = "netsession.config";

/// The keys of the build row, in the order the value gives them.
const BUILD_KEYS: [&str; 4] = [
    "ClientBinId",
    "ComponentVersion",
    "VersionForUserDisplay",
    "BuildTimeString",
];

/// A `key=value` line and where it stands.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    section: Option<&'a str>,
    key: &'a str,
    value: &'a str,
    line: usize,
}

impl Entry<'_> {
    /// `section=[client config]; key=ClientBinId; line=3`
    fn locator(&self) -> String {
        let section = match self.section {
            Some(s) => format!("[{s}]"),
            None => "(none)".to_string(),
        };
        Fields::new()
            .add("section", &section)
            .add("key", self.key)
            .add("line", &self.line.to_string())
            .finish()
    }
}

/// Rows of a `client.ini`'s text, and the problems met.
pub fn rows(text: &str, ctx: &FileContext, out: &mut dyn RowSink) -> Vec<String> {
    let mut problems = Problems::new();
    let mut section = None;
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut sections = 0;
    for (n, line) in super::common::numbered_lines(text) {
        match ini_line(line) {
            IniLine::Blank | IniLine::Comment => {}
            IniLine::Section(name) => {
                section = Some(name);
                sections += 1;
            }
            IniLine::Pair(key, value) => entries.push(Entry {
                section,
                key,
                value,
                line: n,
            }),
            IniLine::Other => problems.push(format!(
                "line {n}: {} is neither a [section] nor a key=value line",
                quote(line)
            )),
        }
    }
    if entries.is_empty() {
        problems.push(if sections == 0 {
            "no section and no key=value line: nothing read".to_string()
        } else {
            "sections but no key=value line: nothing read".to_string()
        });
    }
    build_row(&entries, ctx, out, &mut problems);
    config_row(&entries, ctx, out);
    problems.into_vec()
}

/// The first entry of `key` (keys compare without case); a later one with another value
/// is a problem.
fn first<'e, 'a>(
    entries: &'e [Entry<'a>],
    key: &str,
    problems: &mut Problems,
) -> Option<&'e Entry<'a>> {
    let mut found = entries.iter().filter(|e| e.key.eq_ignore_ascii_case(key));
    let first = found.next()?;
    for other in found.filter(|e| e.value != first.value) {
        problems.push(format!(
            "line {}: {key}={} differs from line {} ({key}={}); line {} is used",
            other.line,
            quote(other.value),
            first.line,
            quote(first.value),
            first.line
        ));
    }
    Some(first)
}

fn build_row(
    entries: &[Entry<'_>],
    ctx: &FileContext,
    out: &mut dyn RowSink,
    problems: &mut Problems,
) {
    let found: Vec<(&str, Option<&Entry<'_>>)> = BUILD_KEYS
        .iter()
        .map(|k| (*k, first(entries, k, problems)))
        .collect();
    if found.iter().all(|(_, e)| e.is_none()) {
        return;
    }
    let get = |key: &str| found.iter().find(|(k, _)| *k == key).and_then(|(_, e)| *e);
    let mut value = Fields::new();
    for (key, entry) in &found {
        value.add_some(key, entry.map(|e| e.value));
    }
    if let Some(id) = get("ClientBinId")
        && !super::log::is_bin_id(id.value)
    {
        problems.push(format!(
            "line {}: ClientBinId {} is not 7 lower-case hex digits",
            id.line,
            quote(id.value)
        ));
    }
    let build_time = get("BuildTimeString").and_then(|e| {
        let (time, how) = build_time(e, problems)?;
        Some((time, how, e))
    });
    let mut row = fact(ctx, build_time.map(|b| b.0), "Build Time", BUILD);
    let id = get("ClientBinId").map_or("(no ClientBinId)", |e| e.value);
    let version = get("ComponentVersion")
        .or(get("VersionForUserDisplay"))
        .map_or("(no version)", |e| e.value);
    row.message = match &build_time {
        Some((time, how, _)) => format!(
            "NetSession build {id} version {version}, built {time} (BuildTimeString, {how}) in {}",
            ctx.name
        ),
        None => format!(
            "NetSession build {id} version {version} in {} (no build time read)",
            ctx.name
        ),
    };
    row.value = value.finish();
    // The locator names the line the time comes from, else the build's id.
    let at = build_time
        .map(|b| b.2)
        .or(get("ClientBinId"))
        .or_else(|| found.iter().find_map(|(_, e)| *e));
    row.locator = at.map(Entry::locator).unwrap_or_default();
    out.push(row);
}

/// `2018-04-17 18:59:15 (E+1523991555s) UTC`: the epoch seconds when there are (checked
/// against the text), else the text. Gives the time and how it was read.
fn build_time(entry: &Entry<'_>, problems: &mut Problems) -> Option<(Timestamp, &'static str)> {
    let s = entry.value;
    let text = s
        .get(..19)
        .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok())
        .and_then(|dt| Timestamp::from_naive_utc(dt, Precision::Seconds));
    let epoch = s.find("(E+").and_then(|at| {
        let digits = s.get(at + 3..)?.split('s').next()?;
        from_epoch_seconds(digits.parse().ok()?)
    });
    match (epoch, text) {
        (Some(e), Some(t)) => {
            if e != t {
                problems.push(format!(
                    "line {}: BuildTimeString {} says {t} in its text but {e} in its epoch seconds; the epoch seconds are used",
                    entry.line,
                    quote(s)
                ));
            }
            Some((e, "epoch seconds, UTC"))
        }
        (Some(e), None) => Some((e, "epoch seconds, UTC")),
        (None, Some(t)) => Some((t, "text, UTC")),
        (None, None) => {
            problems.push(format!(
                "line {}: BuildTimeString {} holds no time that can be read",
                entry.line,
                quote(s)
            ));
            None
        }
    }
}

/// Keys naming hosts or URLs: `InstallerUrl`, `CNHostList`, `LogfileUploadURL`...; or
/// any value that is a URL.
fn is_host_or_url(key: &str, value: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["url", "urls", "hostlist", "host", "hosts"]
        .iter()
        .any(|end| k.ends_with(end))
        || value.starts_with("http://")
        || value.starts_with("https://")
}

fn config_row(entries: &[Entry<'_>], ctx: &FileContext, out: &mut dyn RowSink) {
    let hosts: Vec<&Entry<'_>> = entries
        .iter()
        .filter(|e| is_host_or_url(e.key, e.value))
        .collect();
    if hosts.is_empty() {
        return;
    }
    let mut value = Fields::new();
    for e in &hosts {
        value.add(e.key, e.value);
    }
    let lines: Vec<String> = hosts.iter().map(|e| e.line.to_string()).collect();
    let mut row = fact(ctx, None, "", CONFIG);
    row.message = format!(
        "NetSession configuration: {} host or URL setting(s) in {}",
        hosts.len(),
        ctx.name
    );
    row.value = value.finish();
    row.locator = format!("lines={}", lines.join(","));
    out.push(row);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::netsession::common::testing::{check_rows, ctx, field, mutations, of};
    use crate::evidence::EvidenceRow;

    const SAMPLE: &str = "[client config]\r\nClientBinId=75752ca\r\n\r\n[base config]\r\nInstallerUrl=https://client.akamai.com/install/installer.exe\r\nCNHostList=cn1.redswoosh.akadns.net:443\r\nSTUNHostList=stun.client.akadns.net:3478\r\nLogfileUploadURL=http://log.client.akamai.com/logs/\r\n[version config]\r\nComponentVersion=1.9.5.6\r\nVersionForUserDisplay=win_75752ca_1.9.5.6-RC1\r\nBuildTimeString=2018-04-17 18:59:15 (E+1523991555s) UTC\r\n[extra config]\r\n; a comment\r\nUploadEnabled=0\r\n";

    fn read(text: &str) -> (Vec<EvidenceRow>, Vec<String>) {
        let mut rows = Vec::new();
        let problems = super::rows(text, &ctx("client.ini"), &mut rows);
        check_rows(&rows);
        (rows, problems)
    }

    #[test]
    fn build_and_config() {
        let (rows, problems) = read(SAMPLE);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 2);
        let build = of(&rows, BUILD)[0];
        assert_eq!(
            build.value,
            "ClientBinId=75752ca; ComponentVersion=1.9.5.6; VersionForUserDisplay=win_75752ca_1.9.5.6-RC1; BuildTimeString=2018-04-17 18:59:15 (E+1523991555s) UTC"
        );
        assert_eq!(build.datetime.unwrap().to_iso8601(), "2018-04-17T18:59:15Z");
        assert_eq!(build.timestamp_desc, "Build Time");
        assert_eq!(
            build.locator,
            "section=[version config]; key=BuildTimeString; line=12"
        );
        let config = of(&rows, CONFIG)[0];
        assert_eq!(
            field(&config.value, "CNHostList"),
            Some("cn1.redswoosh.akadns.net:443")
        );
        assert_eq!(
            field(&config.value, "LogfileUploadURL"),
            Some("http://log.client.akamai.com/logs/")
        );
        assert_eq!(field(&config.value, "UploadEnabled"), None);
        assert_eq!(config.locator, "lines=5,6,7,8");
        assert_eq!(config.datetime, None);
    }

    #[test]
    fn build_times_disagreeing_missing_or_only_text() {
        let text = SAMPLE.replace("E+1523991555s", "E+1523991556s");
        let (rows, problems) = read(&text);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("line 12: BuildTimeString"),
            "{problems:?}"
        );
        assert!(problems[0].contains("epoch seconds are used"));
        assert_eq!(
            of(&rows, BUILD)[0].datetime.unwrap().to_iso8601(),
            "2018-04-17T18:59:16Z"
        );
        let text = SAMPLE.replace(" (E+1523991555s)", "");
        let (rows, problems) = read(&text);
        assert!(problems.is_empty());
        assert!(of(&rows, BUILD)[0].message.contains("text, UTC"));
        let text = SAMPLE.replace("2018-04-17 18:59:15 (E+1523991555s) UTC", "sometime");
        let (rows, problems) = read(&text);
        assert_eq!(
            problems,
            ["line 12: BuildTimeString \"sometime\" holds no time that can be read"]
        );
        let build = of(&rows, BUILD)[0];
        assert_eq!(build.datetime, None);
        assert_eq!(
            build.locator,
            "section=[client config]; key=ClientBinId; line=2"
        );
        let text = SAMPLE.replace("E+1523991555s", "E+99999999999999999999999s");
        let (rows, _) = read(&text);
        assert!(of(&rows, BUILD)[0].datetime.is_some(), "the text time");
    }

    #[test]
    fn damaged_lines_are_problems_and_the_rest_is_read() {
        let text = SAMPLE
            .replace(
                "[base config]",
                "[base config]\r\n\u{fffd}\u{fffd}garbage\u{0}",
            )
            .replace(
                "ClientBinId=75752ca\r\n",
                "ClientBinId=75752ca\r\nClientBinId=83a441e\r\n",
            );
        let (rows, problems) = read(&text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("line 6: \"��garbage\\0\" is neither"),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("line 3: ClientBinId=\"83a441e\" differs from line 2"));
        assert_eq!(rows.len(), 2);
        assert_eq!(
            field(&of(&rows, BUILD)[0].value, "ClientBinId"),
            Some("75752ca")
        );
        // Cut in the middle: what came before stays.
        let (rows, problems) = read(&SAMPLE[..SAMPLE.find("Component").unwrap() + 4]);
        assert_eq!(
            problems,
            ["line 10: \"Comp\" is neither a [section] nor a key=value line"]
        );
        assert_eq!(of(&rows, BUILD)[0].value, "ClientBinId=75752ca");
        assert_eq!(of(&rows, CONFIG).len(), 1);
    }

    #[test]
    fn empty_and_binary() {
        let (rows, problems) = read("");
        assert!(rows.is_empty());
        assert_eq!(problems, ["no section and no key=value line: nothing read"]);
        let junk = String::from_utf8_lossy(&[0x4d, 0x5a, 0x90, 0, 3, 0xff, 0xfe, b'\n', 0x80])
            .into_owned();
        let (rows, problems) = read(&junk);
        assert!(rows.is_empty());
        assert!(problems[0].starts_with("line 1:"), "{problems:?}");
        assert!(problems[1].starts_with("line 2:"), "{problems:?}");
        let (_, problems) = read("[a]\n[b]\nClientBinId=xyz\n");
        assert_eq!(
            problems,
            ["line 3: ClientBinId \"xyz\" is not 7 lower-case hex digits"]
        );
    }

    #[test]
    fn mutations_never_panic() {
        for text in mutations(SAMPLE, 400) {
            read(&text);
        }
    }
}
