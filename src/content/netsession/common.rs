//! What the readers of NetSession's state and configuration files share: building a
//! row and its `Name=value; Name=value` value, splitting `key=value` lines, GUIDs and
//! times as the files write them, and the list of problems met.
//!
//! Problems are sentences naming where in the file (line N, byte offset N, object N);
//! the caller turns them into warnings. Byte offsets count in the decoded text (UTF-8,
//! after any byte order mark), which is the file's own offset for a UTF-8 file.

use crate::content::FileContext;
use crate::evidence::EvidenceRow;
use crate::time::{Precision, Timestamp};

/// The `timestamp_desc` of a fact the file states without a time.
pub const NO_TIME: &str = "Found In File (no time)";

/// Most problems listed for one file; the rest are counted in a last one.
pub const MAX_PROBLEMS: usize = 100;

/// Longest piece of evidence text quoted in a problem.
const QUOTE_CHARS: usize = 80;

/// A row of the file at `time` with its description and artifact; a fact without a time
/// gets [`NO_TIME`] whatever `desc` says.
pub fn fact(ctx: &FileContext, time: Option<Timestamp>, desc: &str, artifact: &str) -> EvidenceRow {
    let mut row = ctx.row_at(time);
    row.timestamp_desc = if time.is_some() { desc } else { NO_TIME }.to_string();
    row.artifact = artifact.to_string();
    row
}

/// A value `Name=value; Name=value`. Nothing is escaped (the writers do that), but a
/// field's text never holds the separator `; ` (it becomes `, `), so every field reads
/// back whole.
#[derive(Debug, Default, Clone)]
pub struct Fields {
    text: String,
}

impl Fields {
    pub fn new() -> Self {
        Fields::default()
    }

    /// Adds `name=value`, even when the value is empty.
    pub fn add(&mut self, name: &str, value: &str) -> &mut Self {
        if !self.text.is_empty() {
            self.text.push_str("; ");
        }
        self.text.push_str(name);
        self.text.push('=');
        self.text.push_str(&field_text(value));
        self
    }

    /// Adds `name=value` when there is a value.
    pub fn add_some(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.add(name, v);
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The value, cut (and saying so) if it is very long.
    pub fn finish(&self) -> String {
        crate::content::cut_line(&self.text)
    }
}

/// A field's text with `; ` (the field separator) written `, `.
pub fn field_text(value: &str) -> String {
    if value.contains("; ") {
        value.replace("; ", ", ")
    } else {
        value.to_string()
    }
}

/// Evidence text quoted in a problem: cut at [`QUOTE_CHARS`] characters, control
/// characters and quotes escaped.
pub fn quote(text: &str) -> String {
    let mut cut: String = text.chars().take(QUOTE_CHARS).collect();
    let more = text.chars().nth(QUOTE_CHARS).is_some();
    cut = format!("{cut:?}");
    if more {
        cut.push_str("...");
    }
    cut
}

/// Problems met in one file, at most [`MAX_PROBLEMS`] listed.
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<String>,
    more: usize,
}

impl Problems {
    pub fn new() -> Self {
        Problems::default()
    }

    pub fn push(&mut self, problem: String) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(problem);
        } else {
            self.more += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn into_vec(mut self) -> Vec<String> {
        if self.more > 0 {
            self.list.push(format!(
                "{} more problem(s) in this file not listed",
                self.more
            ));
        }
        self.list
    }
}

/// The lines of a text with their 1-based numbers, as `str::lines` splits them (the same
/// numbers as the text reader's rows).
pub fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l))
}

/// The 1-based line holding byte `offset` of `text`.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text
        .as_bytes()
        .iter()
        .take(end)
        .filter(|&&b| b == b'\n')
        .count()
}

/// The first character boundary of `text` at or after `at`.
pub fn ceil_boundary(text: &str, at: usize) -> usize {
    (at..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len())
}

/// One line of an INI-like file (`client.ini`, `user.dat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IniLine<'a> {
    Blank,
    /// `; ...` or `# ...`
    Comment,
    /// `[client config]`: the name inside the brackets.
    Section(&'a str),
    /// `Key=Value`, both trimmed.
    Pair(&'a str, &'a str),
    /// Anything else.
    Other,
}

/// What kind of INI line `line` is.
pub fn ini_line(line: &str) -> IniLine<'_> {
    let t = line.trim();
    if t.is_empty() {
        return IniLine::Blank;
    }
    if t.starts_with(';') || t.starts_with('#') {
        return IniLine::Comment;
    }
    if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return IniLine::Section(name.trim());
    }
    match split_pair(t) {
        Some((k, v)) => IniLine::Pair(k, v),
        None => IniLine::Other,
    }
}

/// `Key=Value` split at the first `=`, both trimmed; the key must not be empty.
pub fn split_pair(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[')).then_some((key, value.trim()))
}

/// True when `text` is exactly `len` ASCII hex digits.
pub fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A GUID as 32 lower-case hex digits, from `2C6EE804...` (32 hex) or the registry form
/// `{2c6ee804-62a9-c427-bb3e-5bd6f7102693}` (braces optional).
pub fn normalise_guid(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(t);
    if is_hex(t, 32) {
        return Some(t.to_ascii_lowercase());
    }
    let parts: Vec<&str> = t.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    if parts.len() == lens.len() && parts.iter().zip(lens).all(|(p, n)| is_hex(p, n)) {
        return Some(parts.concat().to_ascii_lowercase());
    }
    None
}

/// `<component>_<7 hex ClientBinId>_<version>` (`win_75752ca_1.9.5.6-RC1`) split at
/// its last `_<7 hex>_`.
pub fn split_build(text: &str) -> Option<(&str, &str, &str)> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(8)).rev().find_map(|i| {
        if b.get(i) != Some(&b'_') || b.get(i + 8) != Some(&b'_') {
            return None;
        }
        let id = text.get(i + 1..i + 8)?;
        super::log::is_bin_id(id).then_some((text.get(..i)?, id, text.get(i + 9..)?))
    })
}

/// A time from whole seconds since 1970 (UTC).
pub fn from_epoch_seconds(secs: i64) -> Option<Timestamp> {
    Timestamp::from_unix(secs, 0, Precision::Seconds)
}

/// A time from microseconds since 1970 (UTC), as a float: kept to the microsecond.
pub fn from_epoch_micros(micros: f64) -> Option<Timestamp> {
    // Beyond 2^53 a float no longer holds every microsecond; such values are no times
    // NetSession wrote (2^53 us is the year 2255).
    if !micros.is_finite() || micros.abs() > 9_007_199_254_740_992.0 {
        return None;
    }
    let whole = micros.round() as i64;
    let secs = whole.div_euclid(1_000_000);
    let nanos = u32::try_from(whole.rem_euclid(1_000_000) * 1000).ok()?;
    Timestamp::from_unix(secs, nanos, Precision::Micros)
}

/// A byte count for people: `700.0 MiB (734003200 bytes)`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {} ({bytes} bytes)", UNITS[unit])
}

#[cfg(test)]
pub(crate) mod testing {
    //! Test helpers shared by the readers' tests.

    use crate::content::FileContext;
    use crate::evidence::{EvidenceRow, RecordState};

    pub fn ctx(name: &str) -> FileContext {
        FileContext {
            path: format!("Users\\u\\AppData\\Local\\Akamai\\{name}"),
            name: name.into(),
            user: "u".into(),
            source: "in".into(),
            state: RecordState::Allocated,
            sha256: "00".into(),
            zone: None,
        }
    }

    /// The rows with this artifact.
    pub fn of<'r>(rows: &'r [EvidenceRow], artifact: &str) -> Vec<&'r EvidenceRow> {
        rows.iter().filter(|r| r.artifact == artifact).collect()
    }

    /// The `name` field of a value, as the verdict reads it.
    pub fn field<'a>(value: &'a str, name: &str) -> Option<&'a str> {
        value.split("; ").find_map(|part| {
            let (key, v) = part.split_once('=')?;
            key.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    /// `count` damaged copies of `sample`: bytes flipped, cut, repeated, removed or
    /// inserted (xorshift, fixed seed), decoded as lossy UTF-8 as the text decoder does.
    pub fn mutations(sample: &str, count: usize) -> Vec<String> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ sample.len() as u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        const SPECIAL: &[u8] = b"{}[]\":,=;#<>/\\\n\r 0123456789-eE.\x00\xff\xc3";
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let mut b = sample.as_bytes().to_vec();
            let edits = 1 + next() % 4;
            for _ in 0..edits {
                let len = b.len().max(1);
                let at = (next() as usize) % len;
                match next() % 7 {
                    0 => {
                        if let Some(c) = b.get_mut(at) {
                            *c ^= 1 << (next() % 8);
                        }
                    }
                    1 => b.truncate(at),
                    2 => {
                        let end = (at + (next() as usize) % 64).min(b.len());
                        b.drain(at.min(end)..end);
                    }
                    3 => {
                        let end = (at + (next() as usize) % 64).min(b.len());
                        let piece = b[at.min(end)..end].to_vec();
                        let times = 1 + next() as usize % 50;
                        for _ in 0..times {
                            b.splice(at.min(b.len())..at.min(b.len()), piece.iter().copied());
                        }
                    }
                    4 => {
                        let c = SPECIAL[(next() as usize) % SPECIAL.len()];
                        b.insert(at.min(b.len()), c);
                    }
                    5 => {
                        let digits = "9".repeat(1 + next() as usize % 40);
                        let at = at.min(b.len());
                        b.splice(at..at, digits.bytes());
                    }
                    _ => {
                        let c = (next() % 256) as u8;
                        if let Some(slot) = b.get_mut(at) {
                            *slot = c;
                        }
                    }
                }
            }
            out.push(String::from_utf8_lossy(&b).into_owned());
        }
        out
    }

    /// Rows every reader must make well: an artifact, a locator, and a time exactly when
    /// the description is not "no time".
    pub fn check_rows(rows: &[EvidenceRow]) {
        for r in rows {
            assert!(!r.artifact.is_empty(), "{r:?}");
            assert!(!r.locator.is_empty(), "{r:?}");
            assert_eq!(
                r.datetime.is_none(),
                r.timestamp_desc == super::NO_TIME,
                "{r:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_never_hold_the_separator() {
        let mut f = Fields::new();
        f.add("a", "x; y")
            .add("b", "")
            .add_some("c", None)
            .add_some("d", Some("z"));
        assert_eq!(f.finish(), "a=x, y; b=; d=z");
        assert_eq!(testing::field(&f.finish(), "d"), Some("z"));
    }

    #[test]
    fn guids_in_both_forms() {
        let want = "2c6ee80462a9c427bb3e5bd6f7102693";
        assert_eq!(
            normalise_guid("2C6EE80462A9C427BB3E5BD6F7102693").as_deref(),
            Some(want)
        );
        assert_eq!(
            normalise_guid("{2c6ee804-62a9-c427-bb3e-5bd6f7102693}").as_deref(),
            Some(want)
        );
        assert_eq!(normalise_guid("2c6ee80462a9c427bb3e5bd6f710269"), None);
        assert_eq!(
            normalise_guid("{2c6ee804-62a9-c427-bb3e5bd6f7102693}"),
            None
        );
        assert_eq!(normalise_guid("ééééééééééééééééééééééééééééééé"), None);
    }

    #[test]
    fn ini_lines() {
        assert_eq!(ini_line("  "), IniLine::Blank);
        assert_eq!(ini_line("; note"), IniLine::Comment);
        assert_eq!(
            ini_line("[client config]"),
            IniLine::Section("client config")
        );
        assert_eq!(ini_line("A = b=c "), IniLine::Pair("A", "b=c"));
        assert_eq!(ini_line("=x"), IniLine::Other);
        assert_eq!(ini_line("no equals"), IniLine::Other);
    }

    #[test]
    fn builds_times_and_sizes() {
        assert_eq!(
            split_build("win_75752ca_1.9.5.6-RC1"),
            Some(("win", "75752ca", "1.9.5.6-RC1"))
        );
        assert_eq!(
            split_build("win_installer_83a441e_1.9.5.5").map(|b| b.1),
            Some("83a441e")
        );
        assert_eq!(split_build("1.9.5.5"), None);
        assert_eq!(split_build("é_75752ca_é"), Some(("é", "75752ca", "é")));
        let t = from_epoch_micros(1_507_851_590_123_456.0).unwrap();
        assert_eq!(t.to_iso8601(), "2017-10-12T23:39:50.123456Z");
        assert!(from_epoch_micros(f64::NAN).is_none());
        assert!(from_epoch_micros(1e300).is_none());
        assert_eq!(
            from_epoch_seconds(1_507_851_608).unwrap().to_iso8601(),
            "2017-10-12T23:40:08Z"
        );
        assert_eq!(human_size(734_003_200), "700.0 MiB (734003200 bytes)");
        assert_eq!(human_size(5), "5 bytes");
        assert!(human_size(u64::MAX).contains("EiB"));
    }

    #[test]
    fn offsets_and_quotes() {
        assert_eq!(line_of_offset("a\nb\nc", 2), 2);
        assert_eq!(line_of_offset("a\nb\nc", 99), 3);
        assert_eq!(ceil_boundary("aé", 2), 3);
        assert_eq!(quote("a\"b\n"), "\"a\\\"b\\n\"");
        assert!(quote(&"x".repeat(200)).ends_with("..."));
        let mut p = Problems::new();
        for i in 0..MAX_PROBLEMS + 3 {
            p.push(format!("p{i}"));
        }
        let v = p.into_vec();
        assert_eq!(v.len(), MAX_PROBLEMS + 1);
        assert!(v[MAX_PROBLEMS].starts_with("3 more"));
    }
}
