//! One line of a NetSession 1.9.x log (`Logs\*.log*`, `installer.txt`,
//! `control_panel.txt`, the log part of `diagnostic_report.txt`):
//!
//! ```text
//! Vwin_installer_83a441e_1.9.5.5:171012_234008: [info] InstallerHelper.cpp:postInstallSteps(582): Successfully installed the client
//! Vwin_75752ca_1.9.5.6-RC1(83a441e_1.9.5.5):180930_123936: [info] CLIOnlineManager.cpp:CLIOnlineManager::_onAUTH_STATUS(1929): GUID ... connected to CN
//! V1001:210829_113309: [eror] Installer.cpp:_ak_downloadAndWrite(2638): Error in downloading '...'
//! 180630_075639: [info] CPAdvancedTab.cpp:CPAdvancedTab::DoDataExchange(79): Hiding uploads section
//! ```
//!
//! An optional prefix `V<component>_<ClientBinId>_<version>[(<running id>_<running
//! version>)]:` or `V<number>:`, then the time `YYMMDD_HHMMSS:` (UTC, whole seconds,
//! two-digit year), a level in brackets, the source location `File.cpp:Function(line):`
//! (absent on some lines) and the message. Parsing is by hand, byte by byte: logs hold
//! hundreds of thousands of lines.

use crate::time::{Precision, Timestamp};

/// The prefix before the time: who wrote the line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Writer<'a> {
    /// `win_installer`, `win` ... or the bootstrap installer's number (`1001`).
    pub component: &'a str,
    /// The 7-hex ClientBinId of the build that wrote the line.
    pub client_bin_id: &'a str,
    /// Its version (`1.9.5.6-RC1`).
    pub version: &'a str,
    /// The build that was running when this one wrote (an upgrade in progress).
    pub running_bin_id: &'a str,
    pub running_version: &'a str,
}

/// A parsed log line; every text borrows from the line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine<'a> {
    pub writer: Option<Writer<'a>>,
    /// The whole prefix as written, without `V` and the colon.
    pub prefix: &'a str,
    pub time: Timestamp,
    /// `info`, `warn`, `eror`, ...
    pub level: &'a str,
    /// `InstallerHelper.cpp:postInstallSteps(582)`, when the line has one.
    pub source: &'a str,
    pub message: &'a str,
}

/// Parse a line in the NetSession format; `None` for any other line.
pub fn parse_line(line: &str) -> Option<LogLine<'_>> {
    let b = line.as_bytes();
    // The time is `YYMMDD_HHMMSS:` either at the start or right after `V...:`.
    let (prefix, at) = if b.first() == Some(&b'V') {
        let colon = time_after_prefix(b)?;
        (&line[1..colon], colon + 1)
    } else {
        ("", 0)
    };
    let time = parse_time(b.get(at..at + 14)?)?;
    let rest = line.get(at + 14..)?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let rest = rest.strip_prefix('[')?;
    let close = rest.find(']')?;
    let level = &rest[..close];
    if level.is_empty() || level.len() > 8 || !level.bytes().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let after = rest[close + 1..].trim_start();
    let (source, message) = split_source(after);
    Some(LogLine {
        writer: (!prefix.is_empty()).then(|| parse_writer(prefix)),
        prefix,
        time,
        level,
        source,
        message,
    })
}

/// The index of the colon that ends a `V...` prefix followed by the time, if any: the
/// first `:` after which `YYMMDD_HHMMSS:` follows.
fn time_after_prefix(b: &[u8]) -> Option<usize> {
    // Prefixes are short; a colon far into the line is something else.
    let limit = b.len().min(160);
    (1..limit).find(|&i| b[i] == b':' && b.get(i + 1..i + 15).is_some_and(is_time_shape))
}

/// `YYMMDD_HHMMSS:`
fn is_time_shape(t: &[u8]) -> bool {
    t.len() == 14
        && t[..6].iter().all(u8::is_ascii_digit)
        && t[6] == b'_'
        && t[7..13].iter().all(u8::is_ascii_digit)
        && t[13] == b':'
}

/// The UTC instant of `YYMMDD_HHMMSS:`; two-digit years are 2000-2069 or 1970-1999.
fn parse_time(t: &[u8]) -> Option<Timestamp> {
    if !is_time_shape(t) {
        return None;
    }
    let n = |i: usize| u32::from((t[i] - b'0') * 10 + (t[i + 1] - b'0'));
    let yy = n(0) as i32;
    let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
    let date = chrono::NaiveDate::from_ymd_opt(year, n(2), n(4))?;
    let clock = chrono::NaiveTime::from_hms_opt(n(7), n(9), n(11))?;
    let secs = date.and_time(clock).and_utc().timestamp();
    Timestamp::from_unix(secs, 0, Precision::Seconds)
}

/// `File.cpp:Function(582): message` -> (`File.cpp:Function(582)`, `message`). A line
/// without a source location keeps its whole text as the message.
fn split_source(text: &str) -> (&str, &str) {
    // The location ends at the first `): ` whose `(` holds only digits, and starts with
    // a file name with a dot and no space before the first colon.
    let Some(colon) = text.find(':') else {
        return ("", text);
    };
    let file = &text[..colon];
    if file.is_empty() || file.contains(' ') || !file.contains('.') {
        return ("", text);
    }
    let mut from = colon;
    while let Some(rel) = text[from..].find("): ") {
        let end = from + rel;
        if let Some(open) = text[..end].rfind('(')
            && open > colon
            && end > open + 1
            && text[open + 1..end].bytes().all(|c| c.is_ascii_digit())
        {
            return (&text[..end + 1], &text[end + 3..]);
        }
        from = end + 3;
    }
    // `File.cpp:Function(582):` at the very end: a location with an empty message.
    if let Some(stripped) = text.strip_suffix("):")
        && let Some(open) = stripped.rfind('(')
        && open > colon
        && stripped[open + 1..].bytes().all(|c| c.is_ascii_digit())
        && stripped.len() > open + 1
    {
        return (&text[..text.len() - 1], "");
    }
    ("", text)
}

/// `win_installer_83a441e_1.9.5.5`, `win_75752ca_1.9.5.6-RC1(83a441e_1.9.5.5)` or
/// `1001`. Whatever does not fit is kept whole as the component.
fn parse_writer(prefix: &str) -> Writer<'_> {
    let (own, running) = match prefix.strip_suffix(')').and_then(|p| p.split_once('(')) {
        Some((own, running)) => (own, Some(running)),
        None => (prefix, None),
    };
    let mut writer = Writer {
        component: own,
        ..Writer::default()
    };
    if let Some((component, bin_id, version)) = split_build(own) {
        writer.component = component;
        writer.client_bin_id = bin_id;
        writer.version = version;
    }
    if let Some(running) = running {
        match running.split_once('_') {
            Some((id, version)) if is_bin_id(id) => {
                writer.running_bin_id = id;
                writer.running_version = version;
            }
            _ => writer.running_version = running,
        }
    }
    writer
}

/// `<component>_<7 hex>_<version>`: the last `_<7 hex>_` splits it.
fn split_build(text: &str) -> Option<(&str, &str, &str)> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(8)).rev().find_map(|i| {
        (b[i] == b'_' && b[i + 8] == b'_' && is_bin_id(&text[i + 1..i + 8]))
            .then(|| (&text[..i], &text[i + 1..i + 8], &text[i + 9..]))
    })
}

/// A ClientBinId: seven lower-case hex digits.
pub fn is_bin_id(text: &str) -> bool {
    text.len() == 7
        && text
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(line: &LogLine<'_>) -> String {
        line.time.to_iso8601()
    }

    #[test]
    fn installer_prefix() {
        let l = parse_line("Vwin_installer_83a441e_1.9.5.5:171012_234008: [info] InstallerHelper.cpp:postInstallSteps(582): Successfully installed the client").unwrap();
        assert_eq!(time(&l), "2017-10-12T23:40:08Z");
        assert_eq!(l.level, "info");
        assert_eq!(l.source, "InstallerHelper.cpp:postInstallSteps(582)");
        assert_eq!(l.message, "Successfully installed the client");
        let w = l.writer.unwrap();
        assert_eq!(w.component, "win_installer");
        assert_eq!(w.client_bin_id, "83a441e");
        assert_eq!(w.version, "1.9.5.5");
        assert_eq!(w.running_bin_id, "");
    }

    #[test]
    fn upgrade_prefix_and_class_function() {
        let l = parse_line("Vwin_75752ca_1.9.5.6-RC1(83a441e_1.9.5.5):180930_123936: [info] CLIOnlineManager.cpp:CLIOnlineManager::_onAUTH_STATUS(1929): GUID 3242bd connected to CN (CN IP: 96.6.40.23 Remote IP: 96.6.40.23 CN thinks my IP is: 203.0.113.7).").unwrap();
        assert_eq!(time(&l), "2018-09-30T12:39:36Z");
        assert_eq!(
            l.source,
            "CLIOnlineManager.cpp:CLIOnlineManager::_onAUTH_STATUS(1929)"
        );
        assert!(l.message.starts_with("GUID 3242bd connected"));
        let w = l.writer.unwrap();
        assert_eq!(
            (w.component, w.client_bin_id, w.version),
            ("win", "75752ca", "1.9.5.6-RC1")
        );
        assert_eq!(
            (w.running_bin_id, w.running_version),
            ("83a441e", "1.9.5.5")
        );
    }

    #[test]
    fn bootstrap_and_bare_lines() {
        let l = parse_line("V1001:210829_113309: [eror] Installer.cpp:_ak_downloadAndWrite(2638): Error in downloading 'https://client.akamai.com/conf/install.html?file=installer&upload=false&silent=true'").unwrap();
        assert_eq!(time(&l), "2021-08-29T11:33:09Z");
        assert_eq!(l.level, "eror");
        assert_eq!(l.writer.as_ref().unwrap().component, "1001");
        assert!(l.message.starts_with("Error in downloading 'https://"));
        let l = parse_line("180630_075639: [info] CPAdvancedTab.cpp:CPAdvancedTab::DoDataExchange(79): Hiding uploads section").unwrap();
        assert_eq!(time(&l), "2018-06-30T07:56:39Z");
        assert_eq!(l.writer, None);
        assert_eq!(l.message, "Hiding uploads section");
    }

    #[test]
    fn lines_without_a_location_or_message() {
        let l = parse_line("180630_075639: [warn] something odd: (3): here").unwrap();
        assert_eq!(l.source, "");
        assert_eq!(l.message, "something odd: (3): here");
        let l = parse_line("180630_075639: [info] A.cpp:f(12):").unwrap();
        assert_eq!((l.source, l.message), ("A.cpp:f(12)", ""));
        let l = parse_line("180630_075639: [info] A.cpp:f(x): y").unwrap();
        assert_eq!(l.source, "");
    }

    #[test]
    fn other_lines_are_not_netsession_lines() {
        for line in [
            "",
            "    at stack frame 3",
            "2018-06-30 07:56:39 [info] a line of another program",
            "180631_075639: [info] no 31 June",
            "180630_256639: [info] no hour 25",
            "180630_075639 [info] no colon",
            "180630_075639: info without brackets",
            "180630_075639: [in fo] space in level",
            "Vabc 180630_075639: [info] no colon after the prefix",
            "V:",
            "V180630_075639",
        ] {
            assert_eq!(parse_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn odd_prefixes_are_kept_whole() {
        let l = parse_line("Vsomething-else:180630_075639: [info] x").unwrap();
        let w = l.writer.unwrap();
        assert_eq!(w.component, "something-else");
        assert_eq!(w.client_bin_id, "");
        assert_eq!(l.prefix, "something-else");
    }

    #[test]
    fn never_panics_on_cut_lines() {
        let line = "Vwin_75752ca_1.9.5.6-RC1(83a441e_1.9.5.5):180930_123936: [info] CLIOnlineManager.cpp:X::y(1929): é message";
        for end in 0..=line.len() {
            if let Some(cut) = line.get(..end) {
                let _ = parse_line(cut);
            }
        }
    }
}
