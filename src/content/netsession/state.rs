//! `euc_state.json` (and `.bak`): NetSession 1.9.x's persisted state. Not one JSON
//! document but several objects one after another, each an update
//! (`{"updates":{"globalData":{...}}}{"updates":...}`), possibly with whitespace between
//! them and possibly cut short at the end.
//!
//! Each object is parsed on its own (serde_json, whose nesting limit bounds the depth).
//! A damaged object is a problem naming its byte offset, and reading goes on at the next
//! `{"updates"`; an object cut short by the end of the text is read up to its last
//! complete member, so nothing before the cut is lost. From each object's `globalData`:
//!
//! | key | row |
//! |---|---|
//! | `installTimeStampSec` (epoch seconds, string or number) | `netsession.install_time` at that time |
//! | `guid` | `netsession.guid` (`guid=<32 hex>`) |
//! | `installerInfo` (URL -> `attempts`, epoch microseconds as floats) | `netsession.installer_attempt` per attempt, at its microsecond |
//! | `lifetimeDownloadBytes` | `netsession.lifetime_download` |
//! | anything else (`cachePath`, `installCpCode`, `recentGuids`...) | one `netsession.state` row |
//!
//! Keys not known are no problem: they go into the `netsession.state` row.

use serde_json::{Map, Value};

use super::common::{
    Fields, Problems, ceil_boundary, fact, from_epoch_micros, from_epoch_seconds, human_size,
    normalise_guid, quote,
};
use crate::content::FileContext;
use crate::evidence::RowSink;

/// Most objects read from one text.
pub const MAX_OBJECTS: usize = 100_000;
/// Most installer URLs, and attempts per URL, read from one object.
pub const MAX_ATTEMPTS: usize = 1000;

pub const INSTALL_TIME: &str = "netsession.install_time";
pub const GUID: &str = "netsession.guid";
pub const STATE: &str = "netsession.state";
pub const INSTALLER_ATTEMPT: &str = "netsession.installer_attempt";
pub const LIFETIME_DOWNLOAD: &str = "netsession.lifetime_download";

/// Rows of a state file's text, and the problems met.
pub fn rows(text: &str, ctx: &FileContext, out: &mut dyn RowSink) -> Vec<String> {
    let mut problems = Problems::new();
    read_objects(text, &Place::File, ctx, out, &mut problems);
    if text.trim().is_empty() {
        problems.push("the file is empty: no state object in it".into());
    }
    problems.into_vec()
}

/// Where the objects are: a state file, or the copy of the state in another file (a
/// diagnostic report) whose JSON starts at byte `base` on line `line` of that file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    File,
    Copy { line: usize, base: usize },
}

impl Place {
    /// Byte offset `at` of the text read, as an offset of the whole file.
    fn offset(&self, at: usize) -> usize {
        match self {
            Place::File => at,
            Place::Copy { base, .. } => base + at,
        }
    }

    fn locator(&self, object: usize, key: &str) -> String {
        match self {
            Place::File => format!("object={object}; key={key}"),
            Place::Copy { line, .. } => format!("line={line}; object={object}; key={key}"),
        }
    }

    /// `state object 3` or `state copy from line 40, object 3`: how messages name it.
    fn name(&self, object: usize) -> String {
        match self {
            Place::File => format!("state object {object}"),
            Place::Copy { line, .. } => format!("state copy from line {line}, object {object}"),
        }
    }

    fn problem(&self, text: String) -> String {
        match self {
            Place::File => text,
            Place::Copy { line, .. } => format!("state JSON copy starting on line {line}: {text}"),
        }
    }
}

/// Reads the objects of `text` and makes their rows. In a copy ([`Place::Copy`]) reading
/// stops quietly at the first text after an object that does not start another one (the
/// rest of the report); in a state file that text is damage. Gives the bytes read.
pub fn read_objects(
    text: &str,
    place: &Place,
    ctx: &FileContext,
    out: &mut dyn RowSink,
    problems: &mut Problems,
) -> usize {
    let copy = matches!(place, Place::Copy { .. });
    let mut pos = 0;
    let mut object = 0;
    while let Some(rest) = text.get(pos..) {
        let trimmed = rest.trim_start();
        pos += rest.len() - trimmed.len();
        if trimmed.is_empty() {
            break;
        }
        if !trimmed.starts_with('{') {
            if copy {
                break;
            }
            problems.push(place.problem(format!(
                "byte offset {}: {} is not the start of a JSON object",
                place.offset(pos),
                quote(trimmed)
            )));
            match resync(text, pos + 1) {
                Some(next) => {
                    problems.push(place.problem(skipped(place, pos, next)));
                    pos = next;
                    continue;
                }
                None => break,
            }
        }
        if object >= MAX_OBJECTS {
            problems.push(place.problem(format!(
                "more than {MAX_OBJECTS} objects: the rest from byte offset {} is not read",
                place.offset(pos)
            )));
            break;
        }
        object += 1;
        let mut stream = serde_json::Deserializer::from_str(trimmed).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                let end = pos + stream.byte_offset();
                Object::new(place, object, ctx, false).rows(value, out, problems);
                pos = end;
            }
            Some(Err(e)) if e.is_eof() => {
                let salvaged = salvage(trimmed);
                problems.push(place.problem(format!(
                    "object {object} at byte offset {} is cut short: the text ends at byte offset {} before it closes; {}",
                    place.offset(pos),
                    place.offset(text.len()),
                    if salvaged.is_some() {
                        "its members before the cut are read (their rows say so)"
                    } else {
                        "nothing of it could be read"
                    }
                )));
                if let Some(value) = salvaged {
                    Object::new(place, object, ctx, true).rows(value, out, problems);
                }
                pos = text.len();
                break;
            }
            Some(Err(e)) => {
                let at = pos + error_offset(trimmed, &e);
                problems.push(place.problem(format!(
                    "object {object} at byte offset {} is damaged near byte offset {} ({}); it is skipped",
                    place.offset(pos),
                    place.offset(at),
                    error_text(&e)
                )));
                match resync(text, at.max(pos + 1)) {
                    Some(next) => {
                        problems.push(place.problem(skipped(place, pos, next)));
                        pos = next;
                    }
                    None => {
                        if !copy {
                            problems.push(place.problem(format!(
                                "no object starts after byte offset {}: the rest of the text is not read",
                                place.offset(at)
                            )));
                        }
                        pos = text.len();
                        break;
                    }
                }
            }
            None => break,
        }
    }
    pos
}

fn skipped(place: &Place, from: usize, to: usize) -> String {
    format!(
        "bytes {} to {} skipped; reading goes on at the next object",
        place.offset(from),
        place.offset(to)
    )
}

/// The next `{"updates"` at or after byte `from` (whitespace allowed after the brace).
fn resync(text: &str, from: usize) -> Option<usize> {
    let from = ceil_boundary(text, from);
    let rest = text.get(from..)?;
    rest.match_indices('{').find_map(|(i, _)| {
        let after = rest.get(i + 1..)?.trim_start();
        after.starts_with("\"updates\"").then_some(from + i)
    })
}

/// Where in `slice` serde_json met its error (its line and column, made a byte offset).
fn error_offset(slice: &str, e: &serde_json::Error) -> usize {
    let mut start = 0;
    for _ in 1..e.line() {
        match slice.get(start..).and_then(|r| r.find('\n')) {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    (start + e.column().saturating_sub(1)).min(slice.len())
}

/// serde_json's message without its `at line L column C` (the problem gives the offset).
fn error_text(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full.get(..i).unwrap_or(&full).to_string(),
        None => full,
    }
}

/// An object cut short, closed after its last complete member: the text up to the last
/// `,` outside strings (or just after the last opening bracket, if later), then the
/// brackets still open there. `None` if even that does not parse.
fn salvage(text: &str) -> Option<Value> {
    let (_, safe, _) = scan_brackets(text);
    let mut repaired = text.get(..safe?)?.to_string();
    let (open, _, in_string) = scan_brackets(&repaired);
    if in_string || open.len() > 256 {
        return None;
    }
    for b in open.iter().rev() {
        repaired.push(if *b == b'{' { '}' } else { ']' });
    }
    serde_json::from_str(&repaired).ok()
}

/// The brackets still open at the end of `text`, the last place a cut leaves only
/// complete members (before a `,`, or after an opening bracket), and whether the text
/// ends inside a string.
fn scan_brackets(text: &str) -> (Vec<u8>, Option<usize>, bool) {
    let mut open: Vec<u8> = Vec::new();
    let mut safe = None;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                open.push(b);
                safe = Some(i + 1);
            }
            b'}' | b']' => {
                open.pop();
            }
            b',' => safe = Some(i),
            _ => {}
        }
    }
    (open, safe, in_string)
}

/// One object's rows.
struct Object<'p> {
    place: &'p Place,
    n: usize,
    ctx: &'p FileContext,
    /// Read from the part before a cut.
    cut: bool,
}

impl<'p> Object<'p> {
    fn new(place: &'p Place, n: usize, ctx: &'p FileContext, cut: bool) -> Self {
        Object { place, n, ctx, cut }
    }

    /// ` (NetSession state object 3)` and what the message says of a cut object.
    fn whence(&self) -> String {
        let cut = if self.cut {
            ", from the part before the text was cut"
        } else {
            ""
        };
        format!(
            "(NetSession {} of {}{cut})",
            self.place.name(self.n),
            self.ctx.name
        )
    }

    fn problem(&self, problems: &mut Problems, text: String) {
        problems.push(self.place.problem(format!("object {}: {text}", self.n)));
    }

    fn rows(&self, value: Value, out: &mut dyn RowSink, problems: &mut Problems) {
        let Value::Object(map) = value else {
            self.problem(
                problems,
                format!("a JSON {}, not an object; skipped", kind(&value)),
            );
            return;
        };
        let prefix = "globalData";
        let global = map
            .get("updates")
            .and_then(|u| u.get(prefix))
            .or_else(|| map.get(prefix));
        let Some(global) = global else {
            // An update of something else: not known, not an error.
            return;
        };
        let Value::Object(g) = global else {
            self.problem(
                problems,
                format!("globalData is a JSON {}, not an object", kind(global)),
            );
            return;
        };
        let mut state = Fields::new();
        for (key, v) in g {
            let path = format!("{prefix}.{key}");
            match key.as_str() {
                "installTimeStampSec" => self.install_time(&path, v, out, problems),
                "guid" => self.guid(&path, v, &mut state, out, problems),
                "lifetimeDownloadBytes" => self.lifetime(&path, v, out, problems),
                "installerInfo" => self.installer_info(&path, v, out, problems),
                _ => {
                    state.add(key, &flat(v));
                }
            }
        }
        if !state.is_empty() {
            let mut row = fact(self.ctx, None, "", STATE);
            row.message = format!("NetSession state {}", self.whence());
            row.value = state.finish();
            row.locator = self.place.locator(self.n, prefix);
            out.push(row);
        }
    }

    fn install_time(&self, path: &str, v: &Value, out: &mut dyn RowSink, problems: &mut Problems) {
        let raw = scalar(v);
        let time = epoch_seconds(v).and_then(|s| {
            if s <= 0 {
                Err(format!("{s} is not a time after 1970"))
            } else {
                from_epoch_seconds(s).ok_or_else(|| format!("{s} seconds is out of range"))
            }
        });
        match time {
            Ok(t) => {
                let mut row = fact(self.ctx, Some(t), "Install Time", INSTALL_TIME);
                row.message = format!(
                    "NetSession install time (installTimeStampSec, epoch seconds, UTC) {}",
                    self.whence()
                );
                row.value = Fields::new().add("installTimeStampSec", &raw).finish();
                row.locator = self.place.locator(self.n, path);
                out.push(row);
            }
            Err(why) => self.problem(
                problems,
                format!("{path} {} is not a time: {why}", quote(&raw)),
            ),
        }
    }

    fn guid(
        &self,
        path: &str,
        v: &Value,
        state: &mut Fields,
        out: &mut dyn RowSink,
        problems: &mut Problems,
    ) {
        let raw = scalar(v);
        match v.as_str().and_then(normalise_guid) {
            Some(guid) => {
                let mut row = fact(self.ctx, None, "", GUID);
                row.message = format!("NetSession client GUID {}", self.whence());
                row.value = Fields::new().add("guid", &guid).finish();
                row.locator = self.place.locator(self.n, path);
                out.push(row);
            }
            None => {
                self.problem(
                    problems,
                    format!("{path} {} is not a 32-hex GUID", quote(&raw)),
                );
                state.add("guid", &raw);
            }
        }
    }

    fn lifetime(&self, path: &str, v: &Value, out: &mut dyn RowSink, problems: &mut Problems) {
        let raw = scalar(v);
        let bytes = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match bytes {
            Some(bytes) => {
                let mut row = fact(self.ctx, None, "", LIFETIME_DOWNLOAD);
                row.message = format!(
                    "NetSession lifetime download: {} {}",
                    human_size(bytes),
                    self.whence()
                );
                row.value = Fields::new()
                    .add("lifetimeDownloadBytes", &bytes.to_string())
                    .finish();
                row.locator = self.place.locator(self.n, path);
                out.push(row);
            }
            None => self.problem(
                problems,
                format!("{path} {} is not a whole number of bytes", quote(&raw)),
            ),
        }
    }

    fn installer_info(
        &self,
        path: &str,
        v: &Value,
        out: &mut dyn RowSink,
        problems: &mut Problems,
    ) {
        let Value::Object(urls) = v else {
            self.problem(
                problems,
                format!("{path} is a JSON {}, not an object", kind(v)),
            );
            return;
        };
        if urls.len() > MAX_ATTEMPTS {
            self.problem(
                problems,
                format!(
                    "{path} names {} URLs: only {MAX_ATTEMPTS} are read",
                    urls.len()
                ),
            );
        }
        for (url, info) in urls.iter().take(MAX_ATTEMPTS) {
            let at = format!("{path}[{url}]");
            match info {
                Value::Object(entry) => match entry.get("attempts") {
                    Some(Value::Array(attempts)) => {
                        self.attempts(&at, url, entry, attempts, out, problems);
                    }
                    Some(other) => self.problem(
                        problems,
                        format!("{at}.attempts is a JSON {}, not a list", kind(other)),
                    ),
                    // A URL with no attempts listed: nothing happened at a time.
                    None => {}
                },
                // The attempts straight under the URL.
                Value::Array(attempts) => {
                    self.attempts(&at, url, &Map::new(), attempts, out, problems);
                }
                other => self.problem(
                    problems,
                    format!("{at} is a JSON {}, not an object", kind(other)),
                ),
            }
        }
    }

    fn attempts(
        &self,
        at: &str,
        url: &str,
        entry: &Map<String, Value>,
        attempts: &[Value],
        out: &mut dyn RowSink,
        problems: &mut Problems,
    ) {
        if attempts.len() > MAX_ATTEMPTS {
            self.problem(
                problems,
                format!(
                    "{at}.attempts lists {} attempts: only {MAX_ATTEMPTS} are read",
                    attempts.len()
                ),
            );
        }
        let others = other_members(entry);
        for (k, a) in attempts.iter().take(MAX_ATTEMPTS).enumerate() {
            let micros = match a {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            let Some(time) = micros.filter(|m| *m > 0.0).and_then(from_epoch_micros) else {
                self.problem(
                    problems,
                    format!(
                        "{at}.attempts[{k}] {} is not a time in epoch microseconds",
                        quote(&scalar(a))
                    ),
                );
                continue;
            };
            let mut row = fact(self.ctx, Some(time), "Installer Attempt", INSTALLER_ATTEMPT);
            row.message = format!(
                "NetSession installer download attempt {} of {} for {url} (epoch microseconds, UTC) {}",
                k + 1,
                attempts.len(),
                self.whence()
            );
            let mut value = Fields::new();
            value
                .add("url", url)
                .add("attempt", &(k + 1).to_string())
                .add("attempts", &attempts.len().to_string())
                .add("microseconds", &scalar(a));
            for (name, text) in &others {
                value.add(name, text);
            }
            row.value = value.finish();
            row.locator = self.place.locator(self.n, &format!("{at}.attempts[{k}]"));
            out.push(row);
        }
    }
}

/// The members of an installer URL's entry other than `attempts`, flattened.
fn other_members(map: &Map<String, Value>) -> Vec<(String, String)> {
    map.iter()
        .filter(|(k, _)| k.as_str() != "attempts")
        .map(|(k, v)| (k.clone(), flat(v)))
        .collect()
}

/// Epoch seconds from a number or a string of digits.
fn epoch_seconds(v: &Value) -> Result<i64, String> {
    let parsed = match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => return Err(format!("a JSON {}, not a number", kind(v))),
    };
    parsed.ok_or_else(|| "not a whole number of seconds in range".to_string())
}

/// A scalar as written (strings without their quotes), anything else as compact JSON.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A member for the state row: scalars as written, a list of scalars joined with `,`
/// (`recentGuids=a,b`), anything else as compact JSON.
fn flat(v: &Value) -> String {
    match v {
        Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => {
            items.iter().map(scalar).collect::<Vec<_>>().join(",")
        }
        other => scalar(other),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::netsession::common::testing::{check_rows, ctx, field, mutations, of};
    use crate::evidence::EvidenceRow;

    const SAMPLE: &str = concat!(
        r#"{"updates":{"globalData":{"guid":"2C6EE80462A9C427BB3E5BD6F7102693","installTimeStampSec":"1507851608","#,
        r#""cachePath":"C:\\Users\\u\\AppData\\Local\\Akamai\\Cache","installCpCode":"12345","#,
        r#""recentGuids":["0123456789abcdef0123456789abcdef","fedcba9876543210fedcba9876543210"],"#,
        r#""installerInfo":{"https://client.akamai.com/install/installer.exe":{"attempts":[1507851590123456.0,1507851600654321]}}}}}"#,
        r#"{"updates":{"globalData":{"lifetimeDownloadBytes":734003200}}}"#,
        "\n\n  ",
        r#"{"updates":{"globalData":{"installTimeStampSec":1507851608,"futureKey":{"x":[1,2]}}},"other":true}"#,
        "\n"
    );

    fn read(text: &str) -> (Vec<EvidenceRow>, Vec<String>) {
        let mut rows = Vec::new();
        let problems = rows_of(text, &mut rows);
        check_rows(&rows);
        (rows, problems)
    }

    fn rows_of(text: &str, rows: &mut Vec<EvidenceRow>) -> Vec<String> {
        super::rows(text, &ctx("euc_state.json"), rows)
    }

    #[test]
    fn concatenated_objects_give_their_rows() {
        let (rows, problems) = read(SAMPLE);
        assert!(problems.is_empty(), "{problems:?}");
        let installs = of(&rows, INSTALL_TIME);
        assert_eq!(installs.len(), 2);
        for r in &installs {
            assert_eq!(r.datetime.unwrap().to_iso8601(), "2017-10-12T23:40:08Z");
            assert_eq!(r.value, "installTimeStampSec=1507851608");
            assert_eq!(r.timestamp_desc, "Install Time");
        }
        assert_eq!(
            installs[0].locator,
            "object=1; key=globalData.installTimeStampSec"
        );
        assert_eq!(
            installs[1].locator,
            "object=3; key=globalData.installTimeStampSec"
        );
        let guid = of(&rows, GUID);
        assert_eq!(guid.len(), 1);
        assert_eq!(guid[0].value, "guid=2c6ee80462a9c427bb3e5bd6f7102693");
        assert_eq!(guid[0].datetime, None);
        let state = of(&rows, STATE);
        assert_eq!(state.len(), 2, "{state:?}");
        assert_eq!(
            field(&state[0].value, "cachePath"),
            Some(r"C:\Users\u\AppData\Local\Akamai\Cache")
        );
        assert_eq!(field(&state[0].value, "installCpCode"), Some("12345"));
        assert_eq!(
            field(&state[0].value, "recentGuids"),
            Some("0123456789abcdef0123456789abcdef,fedcba9876543210fedcba9876543210")
        );
        assert_eq!(field(&state[1].value, "futureKey"), Some(r#"{"x":[1,2]}"#));
        let life = of(&rows, LIFETIME_DOWNLOAD);
        assert_eq!(life.len(), 1);
        assert_eq!(life[0].value, "lifetimeDownloadBytes=734003200");
        assert!(life[0].message.contains("700.0 MiB"), "{}", life[0].message);
        assert_eq!(
            life[0].locator,
            "object=2; key=globalData.lifetimeDownloadBytes"
        );
        let attempts = of(&rows, INSTALLER_ATTEMPT);
        assert_eq!(attempts.len(), 2);
        assert_eq!(
            attempts[0].datetime.unwrap().to_iso8601(),
            "2017-10-12T23:39:50.123456Z"
        );
        assert_eq!(
            attempts[1].datetime.unwrap().to_iso8601(),
            "2017-10-12T23:40:00.654321Z"
        );
        assert_eq!(
            field(&attempts[1].value, "url"),
            Some("https://client.akamai.com/install/installer.exe")
        );
        assert_eq!(field(&attempts[1].value, "attempt"), Some("2"));
        assert_eq!(
            attempts[0].locator,
            "object=1; key=globalData.installerInfo[https://client.akamai.com/install/installer.exe].attempts[0]"
        );
    }

    #[test]
    fn a_truncated_last_object_keeps_what_came_before() {
        let cut = SAMPLE.rfind(r#","futureKey"#).unwrap() + 5;
        let (rows, problems) = read(&SAMPLE[..cut]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let start = SAMPLE.rfind(r#"{"updates""#).unwrap();
        assert!(
            problems[0].contains(&format!("object 3 at byte offset {start} is cut short")),
            "{problems:?}"
        );
        assert!(problems[0].contains(&format!("ends at byte offset {cut}")));
        // Objects 1 and 2 whole, and object 3's install time from before the cut.
        assert_eq!(of(&rows, INSTALL_TIME).len(), 2);
        assert!(
            of(&rows, INSTALL_TIME)[1]
                .message
                .contains("before the text was cut")
        );
        assert_eq!(of(&rows, LIFETIME_DOWNLOAD).len(), 1);
        assert_eq!(of(&rows, GUID).len(), 1);
        // Cut inside the first object's string: nothing of it, nothing invented.
        let (rows, problems) = read(&SAMPLE[..40]);
        assert!(rows.is_empty(), "{rows:?}");
        assert!(problems[0].contains("object 1 at byte offset 0 is cut short"));
    }

    #[test]
    fn damage_in_the_middle_skips_to_the_next_object() {
        let second = SAMPLE
            .find(r#"{"updates":{"globalData":{"lifetime"#)
            .unwrap();
        let damaged = format!(
            "{}{{\"updates\":{{\"globalData\":{{\"guid\":@@@}}}}}}GARBAGE{}",
            &SAMPLE[..second],
            &SAMPLE[second..]
        );
        let (rows, problems) = read(&damaged);
        assert!(
            problems[0].contains(&format!(
                "object 2 at byte offset {second} is damaged near byte offset"
            )),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("skipped; reading goes on"),
            "{problems:?}"
        );
        assert_eq!(of(&rows, INSTALL_TIME).len(), 2);
        assert_eq!(of(&rows, LIFETIME_DOWNLOAD).len(), 1);
        // Text before any object, and text after the last.
        let (rows, problems) = read(&format!("junk {SAMPLE} trailing"));
        assert!(
            problems[0].starts_with("byte offset 0: \"junk"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"trailing\" is not the start")),
            "{problems:?}"
        );
        assert_eq!(of(&rows, INSTALL_TIME).len(), 2);
    }

    #[test]
    fn odd_values_are_problems_not_rows() {
        let text = concat!(
            r#"{"updates":{"globalData":{"installTimeStampSec":"soon","guid":"xyz","lifetimeDownloadBytes":-5,"#,
            r#""installerInfo":{"u1":{"attempts":["x",1e300,-3,1507851590123456]},"u2":{"attempts":7},"u3":5}}}}"#,
            r#"{"updates":{"globalData":{"installTimeStampSec":99999999999999999999999}}}"#,
            r#"{"updates":{"globalData":{"installTimeStampSec":1e400}}}"#,
            r#"{"updates":{"globalData":{"installTimeStampSec":0}}}"#,
            "[1,2]",
            r#"{"updates":{"globalData":{"lifetimeDownloadBytes":"734003200"}}}"#
        );
        let (rows, problems) = read(text);
        let all = problems.join("\n");
        for want in [
            "object 1: globalData.installTimeStampSec \"soon\" is not a time",
            "object 1: globalData.guid \"xyz\" is not a 32-hex GUID",
            "object 1: globalData.lifetimeDownloadBytes \"-5\" is not a whole number",
            "globalData.installerInfo[u1].attempts[0] \"x\" is not a time",
            "globalData.installerInfo[u1].attempts[1] \"1e+300\" is not a time",
            "globalData.installerInfo[u1].attempts[2] \"-3\"",
            "globalData.installerInfo[u2].attempts is a JSON number, not a list",
            "globalData.installerInfo[u3] is a JSON number",
            "object 2: globalData.installTimeStampSec",
            "object 3 at byte offset",
            "number out of range",
            "object 4: globalData.installTimeStampSec \"0\" is not a time",
            "\"[1,2]{\\\"updates",
            "is not the start of a JSON object",
        ] {
            assert!(all.contains(want), "{want}\n{all}");
        }
        assert!(of(&rows, INSTALL_TIME).is_empty());
        assert_eq!(of(&rows, INSTALLER_ATTEMPT).len(), 1);
        assert_eq!(
            of(&rows, LIFETIME_DOWNLOAD).len(),
            1,
            "object 6 after all that"
        );
        assert_eq!(field(&of(&rows, STATE)[0].value, "guid"), Some("xyz"));
    }

    #[test]
    fn empty_binary_and_deep_texts() {
        let (rows, problems) = read("");
        assert!(rows.is_empty());
        assert_eq!(problems, ["the file is empty: no state object in it"]);
        let junk =
            String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x7b, 0x80, 0x22, 0x7d]).into_owned();
        let (rows, problems) = read(&junk);
        assert!(rows.is_empty());
        assert!(problems[0].starts_with("byte offset 0:"), "{problems:?}");
        let deep = format!("{}{}", "{\"updates\":".repeat(5000), "1");
        let (rows, problems) = read(&deep);
        assert!(rows.is_empty());
        assert!(
            !problems.is_empty()
                && problems.len() <= crate::content::netsession::common::MAX_PROBLEMS + 1
        );
        let deep = "[".repeat(100_000);
        let (_, problems) = read(&deep);
        assert!(problems[0].contains("byte offset 0"), "{problems:?}");
    }

    #[test]
    fn a_copy_stops_quietly_at_the_text_after_it() {
        let report = format!("intro\n{SAMPLE}Logs follow\n180630_075639: [info] x\n");
        let start = report.find('{').unwrap();
        let mut rows = Vec::new();
        let mut problems = Problems::new();
        let place = Place::Copy {
            line: 2,
            base: start,
        };
        let read = read_objects(
            &report[start..],
            &place,
            &ctx("diagnostic_report.txt"),
            &mut rows,
            &mut problems,
        );
        assert!(problems.is_empty(), "{:?}", problems.into_vec());
        assert_eq!(&report[start + read..start + read + 4], "Logs");
        assert_eq!(
            of(&rows, INSTALL_TIME)[0].locator,
            "line=2; object=1; key=globalData.installTimeStampSec"
        );
        assert!(
            of(&rows, GUID)[0]
                .message
                .contains("state copy from line 2, object 1")
        );
        // Damage inside a copy names the report's offsets and line.
        let damaged = report.replacen("\"guid\":\"", "\"guid\":", 1);
        let mut rows = Vec::new();
        let mut problems = Problems::new();
        read_objects(
            &damaged[start..],
            &place,
            &ctx("diagnostic_report.txt"),
            &mut rows,
            &mut problems,
        );
        let p = problems.into_vec();
        assert!(
            p[0].starts_with(
                "state JSON copy starting on line 2: object 1 at byte offset 6 is damaged"
            ),
            "{p:?}"
        );
        assert_eq!(of(&rows, LIFETIME_DOWNLOAD).len(), 1);
    }

    #[test]
    fn mutations_never_panic() {
        for text in mutations(SAMPLE, 400) {
            let (rows, _) = read(&text);
            for r in &rows {
                assert!(r.artifact.starts_with("netsession."));
            }
        }
    }
}
