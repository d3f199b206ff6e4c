//! Text content: timestamps and indicators in lines of text files, and the decoding of
//! those files' bytes to text.
//!
//! A timestamp recognised here becomes a timeline row, so the recogniser is strict: a
//! line time needs a calendar date *and* a time of day, both valid, and it must not be
//! part of a longer run of digits or dots (version numbers, serials). Numeric dates whose
//! day/month order cannot be decided are refused rather than guessed.
//!
//! Indicators (URLs, IP addresses, GUIDs, copyright notices) are best effort: each kind
//! is found independently, so an IP address inside a URL is reported as well as the URL
//! (the host of a URL is useful evidence in its own right). The one exception is an
//! IPv4 address embedded in an IPv6 address (`::ffff:192.0.2.1`), which is reported
//! only as the IPv6 address.

use std::net::Ipv6Addr;
use std::sync::LazyLock;

use chrono::{NaiveDate, TimeDelta};
use regex::{Captures, Regex};

use crate::time::{Precision, Timestamp};

// ---------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------

/// A timestamp recognised in one line of text.
#[derive(Debug, Clone, PartialEq)]
pub struct LineTime {
    /// The instant in UTC. When the text gave an offset (`Z`, `+01:00`, `+0100`, ` UTC`, ` GMT`) it is converted; otherwise the wall-clock time is taken as if UTC.
    pub time: Timestamp,
    /// True when the text stated the zone or offset explicitly.
    pub zone_stated: bool,
    /// Byte range of the timestamp text within the line.
    pub span: std::ops::Range<usize>,
}

/// English month names and abbreviations, any case.
const MONTH: &str = r"(?i-u:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

/// English weekday names and abbreviations, any case. Only ever optional: it is part of
/// the span but not checked against the date (a sloppy writer should not cost us the
/// time).
const WEEKDAY: &str = r"(?i-u:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)";

/// The layouts of the date part. Every layout has a time of day with seconds (the
/// "clock", `H:MM:SS[.fff]`); the date is written before the clock, except that ctime puts
/// the year after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `2012-02-14 09:30:00`, `2012-02-14T09:30:00`, `2012/02/14 …`, `2012.02.14 …`.
    YearMonthDay,
    /// `14/02/2012 09:30:00`, `02-14-2012 …`, `14.02.2012 …`: only when unambiguous.
    Numeric,
    /// `14 Feb 2012 09:30:00`, `14-Feb-2012 …`, `14/Feb/2012:09:30:00` (CLF), `Tue, 14 Feb 2012 …`.
    DayMonthYear,
    /// `Feb 14 2012 09:30:00`, `February 14, 2012 9:30:00 PM`.
    MonthDayYear,
    /// `Tue Feb 14 09:30:00 2012`, `Feb 14 09:30:00 UTC 2012` (ctime / `date`).
    Ctime,
}

/// The date text that precedes a clock, one regex per layout, each anchored at the end
/// of the window it is run on (the window ends where the clock begins).
struct DateFormat {
    layout: Layout,
    re: Regex,
}

/// How far before a clock its date may begin. The longest date text accepted,
/// `Wednesday, September 14th, 2012, `, is 34 bytes.
const DATE_WINDOW: usize = 64;

static DATE_FORMATS: LazyLock<Vec<DateFormat>> = LazyLock::new(|| {
    let weekday = format!(r"(?P<wd>{WEEKDAY},?[ \t]+)?");
    let specs = [
        (
            Layout::YearMonthDay,
            r"(?P<y>[0-9]{4})(?P<s1>[-/.])(?P<mo>[0-9]{1,2})(?P<s2>[-/.])(?P<d>[0-9]{1,2})(?:T|[ \t]+)$"
                .to_string(),
        ),
        (
            Layout::Numeric,
            r"(?P<a>[0-9]{1,2})(?P<s1>[-/.])(?P<b>[0-9]{1,2})(?P<s2>[-/.])(?P<y>[0-9]{4})(?:T|,?[ \t]+)$"
                .to_string(),
        ),
        (
            Layout::DayMonthYear,
            format!(
                r"{weekday}(?P<d>[0-9]{{1,2}})(?P<s1>[-/ ])(?P<mon>{MONTH})\.?(?P<s2>[-/ ])(?P<y>[0-9]{{4}})(?::|,?[ \t]+)$"
            ),
        ),
        (
            Layout::MonthDayYear,
            format!(
                r"{weekday}(?P<mon>{MONTH})\.?[ \t]+(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(?P<y>[0-9]{{4}}),?[ \t]+$"
            ),
        ),
        (
            Layout::Ctime,
            format!(r"{weekday}(?P<mon>{MONTH})[ \t]+(?P<d>[0-9]{{1,2}})[ \t]+$"),
        ),
    ];
    specs
        .into_iter()
        .map(|(layout, pattern)| DateFormat {
            layout,
            re: Regex::new(&pattern).expect("date regex is valid"),
        })
        .collect()
});

/// What follows the clock in ctime: an optional zone name, then the year.
static CTIME_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[ \t]+(?P<tz>UTC|GMT))?[ \t]+(?P<y>[0-9]{4})").expect("ctime regex is valid")
});

/// The first recognisable timestamp in a line, if any (leftmost match wins).
pub fn find_line_time(line: &str) -> Option<LineTime> {
    // Every layout has a clock. Timestamps do not overlap, so the leftmost timestamp is
    // the one of the leftmost clock that has a valid date around it.
    let bytes = line.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c == b':')
        .filter_map(|(i, _)| clock_at(bytes, i))
        .find_map(|clock| time_at_clock(line, &clock))
}

/// A time of day as written: `H:MM:SS` or `HH:MM:SS`, optionally with a fraction after
/// `.` or `,` (log4j, Python logging). Values are not validated yet.
struct Clock {
    /// Byte range of the clock text, fraction included.
    span: std::ops::Range<usize>,
    hour: u32,
    minute: u32,
    second: u32,
    /// The fraction's digits, all of them (more than nine are refused later).
    fraction: Option<std::ops::Range<usize>>,
}

/// The clock whose first `:` is at `colon`, if the bytes there have the shape of one and
/// it is not part of a longer digit run (`123:45:67`, `09:30:001`).
fn clock_at(b: &[u8], colon: usize) -> Option<Clock> {
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    if colon == 0
        || !digit(colon - 1)
        || !digit(colon + 1)
        || !digit(colon + 2)
        || b.get(colon + 3) != Some(&b':')
        || !digit(colon + 4)
        || !digit(colon + 5)
    {
        return None;
    }
    let start = if colon >= 2 && digit(colon - 2) {
        colon - 2
    } else {
        colon - 1
    };
    if (start > 0 && digit(start - 1)) || digit(colon + 6) {
        return None;
    }
    let hour = if start + 2 == colon {
        two(start)
    } else {
        u32::from(b[start] - b'0')
    };
    let mut end = colon + 6;
    let mut fraction = None;
    if matches!(b.get(end), Some(b'.' | b',')) && digit(end + 1) {
        let from = end + 1;
        end = from;
        while digit(end) {
            end += 1;
        }
        fraction = Some(from..end);
    }
    Some(Clock {
        span: start..end,
        hour,
        minute: two(colon + 1),
        second: two(colon + 4),
        fraction,
    })
}

/// The timestamp whose clock is `clock`, if a date of some layout goes with it.
fn time_at_clock(line: &str, clock: &Clock) -> Option<LineTime> {
    let mut window_start = clock.span.start.saturating_sub(DATE_WINDOW);
    while !line.is_char_boundary(window_start) {
        window_start += 1;
    }
    let window = &line[window_start..clock.span.start];
    // The date text must end right where the clock begins.
    if !matches!(window.as_bytes().last(), Some(b' ' | b'\t' | b'T' | b':')) {
        return None;
    }
    let mut candidates: Vec<(usize, Layout, Captures<'_>)> = DATE_FORMATS
        .iter()
        .filter_map(|f| {
            let caps = f.re.captures(window)?;
            Some((caps.get(0)?.start(), f.layout, caps))
        })
        .collect();
    // Leftmost (longest) date first; several layouts rarely match the same window.
    candidates.sort_by_key(|(start, _, _)| *start);
    candidates
        .iter()
        .find_map(|(_, layout, caps)| build_line_time(line, window_start, *layout, caps, clock))
}

fn num(caps: &Captures<'_>, name: &str) -> Option<u32> {
    caps.name(name)?.as_str().parse().ok()
}

/// Month number from an English name or abbreviation (the regex guarantees the shape).
fn month_number(name: &str) -> Option<u32> {
    let prefix = name.get(..3)?.to_ascii_lowercase();
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    months
        .iter()
        .position(|m| *m == prefix)
        .map(|i| i as u32 + 1)
}

/// Precision of a fraction with `digits` digits: never more than the text carries.
fn fraction_precision(digits: usize) -> Precision {
    match digits {
        0..=2 => Precision::Seconds,
        3..=5 => Precision::Millis,
        6 => Precision::Micros,
        7 | 8 => Precision::FileTime,
        _ => Precision::Nanos,
    }
}

fn same_separators(caps: &Captures<'_>) -> bool {
    caps.name("s1").map(|m| m.as_str()) == caps.name("s2").map(|m| m.as_str())
}

/// Validate and convert one candidate: `caps` is the date text matched in the window
/// that starts at `window_start` in `line`.
fn build_line_time(
    line: &str,
    window_start: usize,
    layout: Layout,
    caps: &Captures<'_>,
    clock: &Clock,
) -> Option<LineTime> {
    let bytes = line.as_bytes();
    let mut start = window_start + caps.get(0)?.start();

    // Left edge. Numeric dates must not be the tail of a longer number (`12012-02-14`)
    // or of a dotted version (`10.2012.02.14`); dates with names must start a word. When
    // a glued weekday spoils that (`xTue Feb 14 …`), the date after it still counts.
    if start > 0 {
        let prev = bytes[start - 1];
        match layout {
            Layout::YearMonthDay | Layout::Numeric => {
                if prev.is_ascii_digit()
                    || (prev == b'.' && start > 1 && bytes[start - 2].is_ascii_digit())
                {
                    return None;
                }
            }
            _ => {
                if prev.is_ascii_alphanumeric() {
                    start = window_start + caps.name("wd")?.end();
                }
            }
        }
    }

    let (month, day) = match layout {
        Layout::YearMonthDay => {
            if !same_separators(caps) {
                return None;
            }
            (num(caps, "mo")?, num(caps, "d")?)
        }
        Layout::Numeric => {
            if !same_separators(caps) {
                return None;
            }
            // Day/month order of `a/b/YYYY`: US writers put the month first, most of the
            // world the day, and a log file seldom says which. A wrong guess puts a row on
            // the timeline on the wrong day, so the date is accepted only when its values
            // decide it: a > 12 can only be a day (DD/MM/YYYY), b > 12 only a day
            // (MM/DD/YYYY), and a == b is the same date either way. Anything else
            // (`02/03/2012`) is refused.
            let (a, b) = (num(caps, "a")?, num(caps, "b")?);
            if a > 12 && b <= 12 {
                (b, a)
            } else if (b > 12 && a <= 12) || a == b {
                (a, b)
            } else {
                return None;
            }
        }
        Layout::DayMonthYear => {
            if !same_separators(caps) {
                return None;
            }
            (month_number(caps.name("mon")?.as_str())?, num(caps, "d")?)
        }
        Layout::MonthDayYear | Layout::Ctime => {
            (month_number(caps.name("mon")?.as_str())?, num(caps, "d")?)
        }
    };

    // What follows the clock: AM/PM and the zone; in ctime the zone name and the year.
    let (year, tail) = if layout == Layout::Ctime {
        let after = CTIME_YEAR.captures(&line[clock.span.end..])?;
        // A syslog time followed by a date (`Feb 14 09:30:00 2012-02-15 …`) is no ctime.
        let year_end = clock.span.end + after.get(0)?.end();
        if matches!(bytes.get(year_end), Some(b'-' | b'/' | b'.'))
            && bytes.get(year_end + 1).is_some_and(u8::is_ascii_digit)
        {
            return None;
        }
        let tail = Tail {
            end: clock.span.end + after.get(0)?.end(),
            meridiem: None,
            offset_secs: after.name("tz").map(|_| 0),
        };
        (num(&after, "y")?, tail)
    } else {
        (num(caps, "y")?, parse_tail(bytes, clock.span.end))
    };
    let end = tail.end;

    // Not followed by more digits or a further dotted part (`… 09:30:00.123.4`).
    match bytes.get(end) {
        Some(c) if c.is_ascii_digit() => return None,
        Some(b'.') if bytes.get(end + 1).is_some_and(u8::is_ascii_digit) => return None,
        _ => {}
    }

    let year = i32::try_from(year).ok()?;
    if !(1980..=2100).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;

    let mut hour = clock.hour;
    if let Some(pm) = tail.meridiem {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = match (pm, hour) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    // A leap second (60) is refused outright, not clamped.
    if hour > 23 || clock.minute > 59 || clock.second > 59 {
        return None;
    }

    let (nanos, precision) = match &clock.fraction {
        None => (0, Precision::Seconds),
        Some(range) => {
            let digits = &line[range.clone()];
            if digits.len() > 9 {
                return None;
            }
            let padded = format!("{digits:0<9}");
            (
                padded.parse::<u32>().ok()?,
                fraction_precision(digits.len()),
            )
        }
    };

    let local = date.and_hms_nano_opt(hour, clock.minute, clock.second, nanos)?;
    let utc = match tail.offset_secs {
        Some(off) => local.checked_sub_signed(TimeDelta::try_seconds(i64::from(off))?)?,
        None => local,
    };
    Some(LineTime {
        time: Timestamp::from_naive_utc(utc, precision)?,
        zone_stated: tail.offset_secs.is_some(),
        span: start..end,
    })
}

/// What follows the clock.
struct Tail {
    /// End of the timestamp text.
    end: usize,
    /// `Some(true)` for PM, `Some(false)` for AM.
    meridiem: Option<bool>,
    /// Stated offset from UTC, east positive.
    offset_secs: Option<i32>,
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn parse_tail(b: &[u8], start: usize) -> Tail {
    let mut pos = start;
    let mut meridiem = None;

    let p = if b.get(pos) == Some(&b' ') {
        pos + 1
    } else {
        pos
    };
    for (text, pm) in [("a.m.", false), ("p.m.", true), ("am", false), ("pm", true)] {
        if let Some(found) = b.get(p..p + text.len())
            && found.eq_ignore_ascii_case(text.as_bytes())
            && (text.ends_with('.') || !b.get(p + text.len()).copied().is_some_and(is_word_byte))
        {
            meridiem = Some(pm);
            pos = p + text.len();
            break;
        }
    }

    let mut offset_secs = None;
    if b.get(pos) == Some(&b'Z') && !b.get(pos + 1).copied().is_some_and(is_word_byte) {
        offset_secs = Some(0);
        pos += 1;
    } else {
        let spaced = b.get(pos) == Some(&b' ');
        let p = if spaced { pos + 1 } else { pos };
        if let Some((off, len)) = numeric_offset(b, p, !spaced, false) {
            offset_secs = Some(off);
            pos = p + len;
        } else if let Some(name) = b.get(p..p + 3)
            && (name == b"UTC" || name == b"GMT")
        {
            let q = p + 3;
            if let Some((off, len)) = numeric_offset(b, q, true, true) {
                offset_secs = Some(off);
                pos = q + len;
            } else if !b.get(q).copied().is_some_and(is_word_byte) {
                offset_secs = Some(0);
                pos = q;
            }
        }
    }
    Tail {
        end: pos,
        meridiem,
        offset_secs,
    }
}

/// `+hh:mm`, `+hhmm`, and when `short` also `+hh`; when `one_digit` also `+h` / `+h:mm`
/// (after `UTC`/`GMT`). Returns the offset in seconds and the length of its text.
fn numeric_offset(b: &[u8], p: usize, short: bool, one_digit: bool) -> Option<(i32, usize)> {
    let sign = match b.get(p)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digit_run = |from: usize| {
        b.get(from..)
            .map_or(0, |s| s.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    let value = |from: usize, len: usize| -> i32 {
        b[from..from + len]
            .iter()
            .fold(0, |acc, c| acc * 10 + i32::from(c - b'0'))
    };
    let run = digit_run(p + 1);
    let (hours, minutes, len) = match run {
        4 => (value(p + 1, 2), value(p + 3, 2), 5),
        1 | 2 if run == 2 || one_digit => {
            let h = value(p + 1, run);
            let colon = p + 1 + run;
            if b.get(colon) == Some(&b':') && digit_run(colon + 1) == 2 {
                (h, value(colon + 1, 2), run + 4)
            } else if short {
                (h, 0, run + 1)
            } else {
                return None;
            }
        }
        _ => return None,
    };
    // `09:30:00-10:30:00` is a range of times, not an offset.
    if hours > 14 || minutes > 59 || b.get(p + len) == Some(&b':') {
        return None;
    }
    Some((sign * (hours * 3600 + minutes * 60), len))
}

// ---------------------------------------------------------------------------------------
// Indicators
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorKind {
    Url,
    Ipv4,
    Ipv6,
    Guid,
    Copyright,
}

impl IndicatorKind {
    /// Stable catalog id used as the evidence row's artifact: "content.url", "content.ip" (both v4 and v6), "content.guid", "content.copyright".
    pub fn artifact_id(self) -> &'static str {
        match self {
            IndicatorKind::Url => "content.url",
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => "content.ip",
            IndicatorKind::Guid => "content.guid",
            IndicatorKind::Copyright => "content.copyright",
        }
    }

    /// Human noun: "URL", "IPv4 address", "IPv6 address", "GUID", "copyright notice".
    pub fn noun(self) -> &'static str {
        match self {
            IndicatorKind::Url => "URL",
            IndicatorKind::Ipv4 => "IPv4 address",
            IndicatorKind::Ipv6 => "IPv6 address",
            IndicatorKind::Guid => "GUID",
            IndicatorKind::Copyright => "copyright notice",
        }
    }
}

/// `scheme://rest` up to white space, quotes, angle brackets or a control character.
static URL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)[a-z][a-z0-9+.\-]*://[^\s<>"'`\x00-\x1F\x7F]+"#).expect("URL regex is valid")
});

static GUID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?")
        .expect("GUID regex is valid")
});

/// From `Copyright`, `(c)`, `©` or `&copy;` to the end of the year, year range or year
/// list (`2008-2012`, `2008, 2010`).
static COPYRIGHT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:(?-u:\b)copyright(?:[ \t]*(?:\(c\)|©|&copy;))?|\(c\)|©|&copy;)[ \t:]*(?P<y>[0-9]{4})(?-u:\b)(?:[ \t]*(?:-|–|—|,)[ \t]*[0-9]{4}(?-u:\b))*",
    )
    .expect("copyright regex is valid")
});

/// Every indicator in the line, in order of appearance, as (kind, matched text). Text is a slice of `line`.
pub fn find_indicators(line: &str) -> Vec<(IndicatorKind, &str)> {
    let mut found: Vec<(std::ops::Range<usize>, IndicatorKind)> = Vec::new();
    let bytes = line.as_bytes();

    if line.contains("://") {
        find_urls(line, &mut found);
    }
    find_ipv4(line, &mut found);
    if bytes.iter().filter(|&&c| c == b':').nth(1).is_some() {
        find_ipv6(line, &mut found);
    }
    // The dashes of a GUID are 5, 5 and 5 bytes apart.
    if bytes
        .windows(16)
        .any(|w| w[0] == b'-' && w[5] == b'-' && w[10] == b'-' && w[15] == b'-')
    {
        find_guids(line, &mut found);
    }
    if copyright_hint(line) {
        find_copyrights(line, &mut found);
    }

    // An IPv4 address that is the tail of an IPv6 address is not reported on its own.
    let v6: Vec<std::ops::Range<usize>> = found
        .iter()
        .filter(|(_, k)| *k == IndicatorKind::Ipv6)
        .map(|(r, _)| r.clone())
        .collect();
    if !v6.is_empty() {
        found.retain(|(r, k)| {
            *k != IndicatorKind::Ipv4 || !v6.iter().any(|o| o.start <= r.start && r.end <= o.end)
        });
    }

    found.sort_by(|(a, ka), (b, kb)| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(ka.cmp(kb))
    });
    found.into_iter().map(|(r, k)| (k, &line[r])).collect()
}

fn find_urls(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    for m in URL_RE.find_iter(line) {
        let mut url = m.as_str();
        // Trailing punctuation belongs to the sentence, not the URL. A closing bracket is
        // kept when the URL itself opened it (`.../Foo_(bar)`).
        while let Some(last) = url.chars().last() {
            let strip = match last {
                '.' | ',' | ';' | ':' | '\'' | '"' | '>' => true,
                ')' | ']' | '}' => {
                    let open = match last {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    url.matches(open).count() < url.matches(last).count()
                }
                _ => false,
            };
            if !strip {
                break;
            }
            url = &url[..url.len() - last.len_utf8()];
        }
        let scheme_end = url.find("://").unwrap_or(url.len());
        if url.len() > scheme_end + 3 {
            out.push((m.start()..m.start() + url.len(), IndicatorKind::Url));
        }
    }
}

/// Dotted quads. `1.9.2.3` is syntactically an address and is reported unless the text
/// marks it as a version (best effort): octets with a leading zero, a `v` glued to it, or
/// a preceding word ending in `version`, `ver` or `build` (`Version: `, `version="`,
/// `FileVersion `). Longer dotted runs (`1.2.3.4.5`) are never addresses.
fn find_ipv4(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    let b = line.as_bytes();
    for (start, end) in dotted_runs(b) {
        let parts: Vec<&str> = line[start..end].split('.').collect();
        if parts.len() != 4 {
            continue;
        }
        let octets_ok = parts.iter().all(|p| {
            p.len() <= 3 && !(p.len() > 1 && p.starts_with('0')) && p.parse::<u8>().is_ok()
        });
        if !octets_ok {
            continue;
        }
        if start > 0 && (is_word_byte(b[start - 1]) || b[start - 1] == b'.') {
            continue;
        }
        match b.get(end) {
            Some(&c) if is_word_byte(c) => continue,
            Some(b'.') if b.get(end + 1).copied().is_some_and(is_word_byte) => continue,
            _ => {}
        }
        if preceded_by_version_word(&line[..start]) {
            continue;
        }
        out.push((start..end, IndicatorKind::Ipv4));
    }
}

/// Maximal runs of decimal numbers joined by single dots (`1.2.3.4`), with at least
/// three dots, as byte ranges.
fn dotted_runs(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if !b[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            let mut dots = 0;
            while i < b.len() {
                if b[i].is_ascii_digit() {
                    i += 1;
                } else if b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    dots += 1;
                    i += 1;
                } else {
                    break;
                }
            }
            if dots >= 3 {
                return Some((start, i));
            }
        }
        None
    })
}

fn preceded_by_version_word(before: &str) -> bool {
    let trimmed = before.trim_end_matches([' ', '\t', ':', '=', '"', '\'', '#', '.']);
    let word_start = trimmed
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = trimmed[word_start..].to_ascii_lowercase();
    word.ends_with("version") || word == "ver" || word == "v" || word == "build"
}

/// IPv6 in full, compressed and IPv4-embedded forms, with an optional `%zone`. The
/// candidate must parse as an address, stand apart from neighbouring words (so
/// `std::string` or `Foo::Bar` give nothing) and contain a decimal digit: real addresses
/// practically always do, while `Add::Cb`-like symbol names do not.
fn find_ipv6(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    let b = line.as_bytes();
    for (run_start, run_end) in hex_colon_runs(b) {
        let (mut start, mut end) = (run_start, run_end);
        // Punctuation around the address: `addr:fe80::1`, `fe80::1.`, `fe80::1: up`.
        while start < end && b[start] == b'.' {
            start += 1;
        }
        if b.get(start) == Some(&b':') && b.get(start + 1) != Some(&b':') {
            start += 1;
        }
        while (end > start && b[end - 1] == b'.')
            || (end > start + 1 && b[end - 1] == b':' && b[end - 2] != b':')
        {
            end -= 1;
        }
        if start >= end {
            continue;
        }
        if start > 0 && is_word_byte(b[start - 1]) {
            continue;
        }
        if b.get(end).copied().is_some_and(is_word_byte) {
            continue;
        }
        let text = &line[start..end];
        if !text.bytes().any(|c| c.is_ascii_digit()) || text.parse::<Ipv6Addr>().is_err() {
            continue;
        }
        // Zone index: `fe80::1%12`, `fe80::1%eth0`.
        if b.get(end) == Some(&b'%') {
            let zone = b[end + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if zone > 0 {
                end += 1 + zone;
            }
        }
        out.push((start..end, IndicatorKind::Ipv6));
    }
}

/// Maximal runs of hex digits, colons and dots with at least two colons, as byte ranges.
fn hex_colon_runs(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let in_run = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if !in_run(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            let mut colons = 0;
            while i < b.len() && in_run(b[i]) {
                colons += usize::from(b[i] == b':');
                i += 1;
            }
            if colons >= 2 {
                return Some((start, i));
            }
        }
        None
    })
}

/// GUIDs with or without braces; the braces are part of the text only as a pair.
fn find_guids(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    let b = line.as_bytes();
    let glued = |c: u8| is_word_byte(c) || c == b'-';
    for m in GUID_RE.find_iter(line) {
        let (mut start, mut end) = (m.start(), m.end());
        let open = b[start] == b'{';
        let close = b[end - 1] == b'}';
        if !(open && close) {
            if open {
                start += 1;
            }
            if close {
                end -= 1;
            }
            if start > 0 && glued(b[start - 1]) {
                continue;
            }
            if b.get(end).copied().is_some_and(glued) {
                continue;
            }
        }
        out.push((start..end, IndicatorKind::Guid));
    }
}

fn copyright_hint(line: &str) -> bool {
    line.contains("(c)")
        || line.contains("(C)")
        || line.contains('©')
        || line.contains("&copy;")
        || line
            .as_bytes()
            .windows(9)
            .any(|w| w.eq_ignore_ascii_case(b"copyright"))
}

/// Copyright notices with a plausible first year (1970..=2100).
fn find_copyrights(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    for caps in COPYRIGHT_RE.captures_iter(line) {
        let (Some(whole), Some(year)) = (caps.get(0), caps.name("y")) else {
            continue;
        };
        if year
            .as_str()
            .parse::<u32>()
            .is_ok_and(|y| (1970..=2100).contains(&y))
        {
            out.push((whole.range(), IndicatorKind::Copyright));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/// How many leading bytes (after a BOM) the text/binary judgement looks at. A later NUL
/// or control character does not turn a text file into binary: logs may end in NUL
/// padding or carry the odd stray byte, and `is_text` on a prefix must agree with
/// `decode_text` on the whole.
const SAMPLE_LEN: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// Decode a file's leading bytes/whole buffer to text: UTF-8 (with or without BOM), UTF-16LE/BE with BOM, and UTF-16LE without BOM when the byte pattern clearly shows it (many NULs at odd offsets). Invalid sequences become U+FFFD. Returns None when the bytes are not text (binary: NULs in UTF-8-looking data, many control characters). `is_text` uses the same judgement on a prefix (it must tolerate a prefix cut in the middle of a multi-byte sequence).
///
/// The BOM is not part of the result, nor is trailing NUL padding (pre-allocated logs).
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    let (encoding, bom) = sniff(bytes)?;
    let body = &bytes[bom..];
    let mut text = match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(body).into_owned(),
        Encoding::Utf16Le => decode_utf16(body, u16::from_le_bytes),
        Encoding::Utf16Be => decode_utf16(body, u16::from_be_bytes),
    };
    let kept = text.trim_end_matches('\0').len();
    text.truncate(kept);
    Some(text)
}

/// Whether `prefix` (a file's leading bytes) is text, by the judgement of [`decode_text`]:
/// a multi-byte sequence or surrogate pair cut by the end of the prefix is not held
/// against it.
pub fn is_text(prefix: &[u8]) -> bool {
    sniff(prefix).is_some()
}

fn decode_utf16(body: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = body.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if body.len() % 2 == 1 {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    text
}

/// The encoding and BOM length, or None for binary.
fn sniff(bytes: &[u8]) -> Option<(Encoding, usize)> {
    let (encoding, bom) = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        (Encoding::Utf8, 3)
    } else if bytes.starts_with(&[0xFF, 0xFE]) {
        (Encoding::Utf16Le, 2)
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        (Encoding::Utf16Be, 2)
    } else if looks_utf16le(&bytes[..bytes.len().min(SAMPLE_LEN)]) {
        (Encoding::Utf16Le, 0)
    } else {
        (Encoding::Utf8, 0)
    };
    let body = &bytes[bom..];
    let sample = &body[..body.len().min(SAMPLE_LEN)];
    let text = match encoding {
        Encoding::Utf8 => judge_utf8(sample),
        Encoding::Utf16Le => judge_utf16(sample, u16::from_le_bytes),
        Encoding::Utf16Be => judge_utf16(sample, u16::from_be_bytes),
    };
    text.then_some((encoding, bom))
}

fn trim_trailing_nuls(b: &[u8]) -> &[u8] {
    let kept = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    &b[..kept]
}

/// UTF-16LE without BOM: ASCII-range text puts a NUL in (nearly) every odd byte and
/// (almost) never in an even one. Trailing NUL padding is left out of the count.
fn looks_utf16le(sample: &[u8]) -> bool {
    let s = trim_trailing_nuls(sample);
    if s.len() < 2 {
        return false;
    }
    let units = s.len().div_ceil(2);
    let odd_nuls = s.iter().skip(1).step_by(2).filter(|&&c| c == 0).count();
    let even_nuls = s.iter().step_by(2).filter(|&&c| c == 0).count();
    odd_nuls * 10 >= units * 4 && even_nuls * 20 <= units
}

/// Character counts behind the text/binary judgement.
#[derive(Default)]
struct Census {
    chars: usize,
    controls: usize,
    invalid: usize,
    nuls: usize,
}

impl Census {
    fn add(&mut self, c: char) {
        self.chars += 1;
        match c {
            '\0' => self.nuls += 1,
            // Tab, LF, FF, CR, Ctrl-Z (DOS end of file) and ESC (ANSI colours) are text.
            '\t' | '\n' | '\x0C' | '\r' | '\x1A' | '\x1B' => {}
            '\x01'..='\x1F' | '\x7F'..='\u{9F}' => self.controls += 1,
            char::REPLACEMENT_CHARACTER => self.invalid += 1,
            _ => {}
        }
    }

    fn add_invalid(&mut self) {
        self.chars += 1;
        self.invalid += 1;
    }

    /// Binary when there is any NUL, more than 10 % control characters, or more than
    /// 30 % undecodable sequences. A few invalid sequences are tolerated: they are what
    /// a legacy 8-bit code page (Windows-1252 `©`, accented letters) looks like in UTF-8.
    fn is_text(&self) -> bool {
        self.nuls == 0 && self.controls * 10 <= self.chars && self.invalid * 10 <= self.chars * 3
    }
}

fn judge_utf8(sample: &[u8]) -> bool {
    let s = trim_trailing_nuls(sample);
    if s.is_empty() {
        // Empty is (trivially) text; all NUL is not.
        return sample.is_empty();
    }
    let mut census = Census::default();
    let mut rest = s;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                valid.chars().for_each(|c| census.add(c));
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                std::str::from_utf8(valid)
                    .unwrap_or_default()
                    .chars()
                    .for_each(|c| census.add(c));
                match e.error_len() {
                    // A multi-byte sequence cut by the end of the sample: not an error.
                    None => break,
                    Some(n) => {
                        census.add_invalid();
                        rest = &after[n..];
                    }
                }
            }
        }
    }
    census.is_text()
}

fn judge_utf16(sample: &[u8], unit: fn([u8; 2]) -> u16) -> bool {
    let mut units: Vec<u16> = sample.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
    let had_any = !units.is_empty();
    while units.last() == Some(&0) {
        units.pop();
    }
    if units.is_empty() {
        return !had_any;
    }
    // A surrogate pair cut by the end of the sample: not an error.
    if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
        units.pop();
    }
    let mut census = Census::default();
    for r in char::decode_utf16(units.iter().copied()) {
        match r {
            Ok(c) => census.add(c),
            Err(_) => census.add_invalid(),
        }
    }
    census.is_text()
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(line: &str) -> Option<String> {
        find_line_time(line).map(|t| t.time.to_iso8601())
    }

    fn lt(line: &str) -> LineTime {
        find_line_time(line).unwrap_or_else(|| panic!("no time in {line:?}"))
    }

    fn span_text(line: &str) -> &str {
        let t = lt(line);
        &line[t.span]
    }

    // --- ISO-like ---------------------------------------------------------------------

    #[test]
    fn iso_space_and_t() {
        let line = "INFO 2012-02-14 09:30:00 started";
        let t = lt(line);
        assert_eq!(t.time.to_iso8601(), "2012-02-14T09:30:00Z");
        assert!(!t.zone_stated);
        assert_eq!(t.span, 5..24);
        assert_eq!(t.time.precision(), Precision::Seconds);
        assert_eq!(
            iso("2012-02-14T09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        assert_eq!(
            iso("at 2012-02-14T23:59:59.").as_deref(),
            Some("2012-02-14T23:59:59Z")
        );
    }

    #[test]
    fn iso_fractions_dot_and_comma() {
        assert_eq!(
            iso("2012-02-14 09:30:00.123 x").as_deref(),
            Some("2012-02-14T09:30:00.123Z")
        );
        // log4j / Python logging use a comma.
        let line = "2012-02-14 09:30:00,456 DEBUG [main] x";
        assert_eq!(iso(line).as_deref(), Some("2012-02-14T09:30:00.456Z"));
        assert_eq!(span_text(line), "2012-02-14 09:30:00,456");
    }

    #[test]
    fn iso_offsets_are_converted() {
        let t = lt("2012-02-14T09:30:00.123+01:00");
        assert_eq!(t.time.to_iso8601(), "2012-02-14T08:30:00.123Z");
        assert!(t.zone_stated);
        assert_eq!(t.span, 0..29);

        assert_eq!(
            iso("2012-02-14T09:30:00+0100").as_deref(),
            Some("2012-02-14T08:30:00Z")
        );
        assert_eq!(
            iso("2012-02-14 09:30:00-05:00").as_deref(),
            Some("2012-02-14T14:30:00Z")
        );
        assert_eq!(
            iso("2012-02-14 09:30:00 -0500 x").as_deref(),
            Some("2012-02-14T14:30:00Z")
        );
        assert_eq!(
            iso("2012-02-14T09:30:00-05").as_deref(),
            Some("2012-02-14T14:30:00Z")
        );
        assert_eq!(
            iso("2012-02-14T23:30:00-05:30").as_deref(),
            Some("2012-02-15T05:00:00Z")
        );

        let z = lt("2012-02-14T09:30:00Z;");
        assert_eq!(z.time.to_iso8601(), "2012-02-14T09:30:00Z");
        assert!(z.zone_stated);
        assert_eq!(z.span, 0..20);

        for line in [
            "2012-02-14 09:30:00 UTC",
            "2012-02-14 09:30:00 GMT",
            "2012-02-14 09:30:00UTC",
        ] {
            let t = lt(line);
            assert!(t.zone_stated, "{line}");
            assert_eq!(t.span, 0..line.len(), "{line}");
            assert_eq!(t.time.to_iso8601(), "2012-02-14T09:30:00Z");
        }
        assert_eq!(
            iso("2012-02-14 09:30:00 GMT+01:00").as_deref(),
            Some("2012-02-14T08:30:00Z")
        );
        assert_eq!(
            iso("2012-02-14 09:30:00 UTC+2").as_deref(),
            Some("2012-02-14T07:30:00Z")
        );
    }

    #[test]
    fn implausible_or_spaced_short_offset_is_not_part_of_the_time() {
        // `-12` after a space is a number, not an offset; `+9999` is no offset.
        let line = "2012-02-14 09:30:00 -12 items";
        let t = lt(line);
        assert!(!t.zone_stated);
        assert_eq!(&line[t.span], "2012-02-14 09:30:00");
        let t = lt("2012-02-14 09:30:00 +9999");
        assert!(!t.zone_stated);
        assert_eq!(t.time.to_iso8601(), "2012-02-14T09:30:00Z");
        // No zone is more than 14 hours off.
        let t = lt("2012-02-14T09:30:00+15:00");
        assert!(!t.zone_stated);
        assert_eq!(t.span, 0..19);
        // `UTCfoo` is not a zone.
        let t = lt("2012-02-14 09:30:00 UTCfoo");
        assert!(!t.zone_stated);
    }

    #[test]
    fn slash_and_dot_year_first() {
        assert_eq!(
            iso("2012/02/14 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        assert_eq!(
            iso("2012/02/14 09:30:00.250").as_deref(),
            Some("2012-02-14T09:30:00.250Z")
        );
        assert_eq!(
            iso("2012.02.14 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        assert_eq!(
            iso("2012/2/4 9:30:00").as_deref(),
            Some("2012-02-04T09:30:00Z")
        );
        // Mixed separators are not a date.
        assert_eq!(iso("2012-02/14 09:30:00"), None);
    }

    // --- precision --------------------------------------------------------------------

    #[test]
    fn precision_follows_the_digits_and_never_invents_any() {
        let cases = [
            (
                "2012-02-14 09:30:00.1",
                "2012-02-14T09:30:00Z",
                Precision::Seconds,
            ),
            (
                "2012-02-14 09:30:00.12",
                "2012-02-14T09:30:00Z",
                Precision::Seconds,
            ),
            (
                "2012-02-14 09:30:00.123",
                "2012-02-14T09:30:00.123Z",
                Precision::Millis,
            ),
            (
                "2012-02-14 09:30:00.1234",
                "2012-02-14T09:30:00.123Z",
                Precision::Millis,
            ),
            (
                "2012-02-14 09:30:00.12345",
                "2012-02-14T09:30:00.123Z",
                Precision::Millis,
            ),
            (
                "2012-02-14 09:30:00.123456",
                "2012-02-14T09:30:00.123456Z",
                Precision::Micros,
            ),
            (
                "2012-02-14 09:30:00.1234567",
                "2012-02-14T09:30:00.1234567Z",
                Precision::FileTime,
            ),
            (
                "2012-02-14 09:30:00.12345678",
                "2012-02-14T09:30:00.1234567Z",
                Precision::FileTime,
            ),
            (
                "2012-02-14 09:30:00.123456789",
                "2012-02-14T09:30:00.123456789Z",
                Precision::Nanos,
            ),
        ];
        for (line, want, precision) in cases {
            let t = lt(line);
            assert_eq!(t.time.to_iso8601(), want, "{line}");
            assert_eq!(t.time.precision(), precision, "{line}");
            // The span covers every digit written, even those below the precision.
            assert_eq!(t.span, 0..line.len(), "{line}");
        }
        // Ten fractional digits: not a timestamp we can read faithfully.
        assert_eq!(iso("2012-02-14 09:30:00.1234567891"), None);
        assert_eq!(iso("2012-02-14 09:30:59.1234567891"), None);
        // Whole seconds value is exact.
        assert_eq!(
            lt("2012-02-14 09:30:00.999").time.subsec_nanos(),
            999_000_000
        );
    }

    // --- CLF --------------------------------------------------------------------------

    #[test]
    fn clf_bracketed_and_bare() {
        let line = r#"127.0.0.1 - - [14/Feb/2012:09:30:00 +0100] "GET / HTTP/1.1" 200"#;
        let t = lt(line);
        assert_eq!(t.time.to_iso8601(), "2012-02-14T08:30:00Z");
        assert!(t.zone_stated);
        assert_eq!(&line[t.span.clone()], "14/Feb/2012:09:30:00 +0100");
        assert_eq!(&line[t.span.start - 1..t.span.start], "[");

        let t = lt("14/Feb/2012:09:30:00 -0800");
        assert_eq!(t.time.to_iso8601(), "2012-02-14T17:30:00Z");
        assert_eq!(t.span, 0..26);
    }

    // --- month names ------------------------------------------------------------------

    #[test]
    fn ctime_with_and_without_weekday() {
        let line = "Tue Feb 14 09:30:00 2012: boot";
        let t = lt(line);
        assert_eq!(t.time.to_iso8601(), "2012-02-14T09:30:00Z");
        assert!(!t.zone_stated);
        assert_eq!(&line[t.span], "Tue Feb 14 09:30:00 2012");

        assert_eq!(
            span_text("x Feb 14 09:30:00 2012 y"),
            "Feb 14 09:30:00 2012"
        );
        assert_eq!(
            iso("Feb  4 09:30:00 2012").as_deref(),
            Some("2012-02-04T09:30:00Z")
        );
        assert_eq!(
            iso("tuesday FEBRUARY 14 09:30:00 2012").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );

        let t = lt("Tue Feb 14 09:30:00 UTC 2012");
        assert!(t.zone_stated);
        assert_eq!(t.span, 0..28);
    }

    #[test]
    fn syslog_without_year_is_refused() {
        assert_eq!(iso("Feb 14 09:30:00 host sshd[12]: accepted"), None);
    }

    #[test]
    fn month_day_year() {
        assert_eq!(
            iso("Feb 14 2012 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        assert_eq!(
            iso("February 14, 2012 9:30:00 PM").as_deref(),
            Some("2012-02-14T21:30:00Z")
        );
        assert_eq!(
            span_text("on Sept 3rd, 2012 10:00:00 it"),
            "Sept 3rd, 2012 10:00:00"
        );
        assert_eq!(
            iso("Tuesday, February 14, 2012 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
    }

    #[test]
    fn day_month_year() {
        assert_eq!(
            iso("14 Feb 2012 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        assert_eq!(
            iso("14-Feb-2012 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        assert_eq!(
            iso("14-FEB-2012 09:30:00.5").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        assert_eq!(
            iso("1 december 2012 09:30:00").as_deref(),
            Some("2012-12-01T09:30:00Z")
        );
        let t = lt("Date: Tue, 14 Feb 2012 09:30:00 +0000");
        assert_eq!(t.time.to_iso8601(), "2012-02-14T09:30:00Z");
        assert!(t.zone_stated);
        assert_eq!(t.span, 6..37);
        // Separators must agree.
        assert_eq!(iso("14-Feb 2012 09:30:00"), None);
    }

    #[test]
    fn month_name_must_be_a_word() {
        assert_eq!(iso("Mayday 14 2012 09:30:00"), None);
        assert_eq!(iso("xFeb 14 2012 09:30:00"), None);
    }

    // --- numeric day/month ------------------------------------------------------------

    #[test]
    fn numeric_only_when_unambiguous() {
        // First > 12: DD/MM.
        assert_eq!(
            iso("14/02/2012 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        assert_eq!(
            iso("14.02.2012 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        // Second > 12: MM/DD.
        assert_eq!(
            iso("02/14/2012 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        assert_eq!(
            iso("2-14-2012 09:30:00").as_deref(),
            Some("2012-02-14T09:30:00Z")
        );
        // Equal: the same date either way.
        assert_eq!(
            iso("05/05/2012 09:30:00").as_deref(),
            Some("2012-05-05T09:30:00Z")
        );
        // Ambiguous or impossible.
        assert_eq!(iso("02/03/2012 09:30:00"), None);
        assert_eq!(iso("12/11/2012 09:30:00"), None);
        assert_eq!(iso("13/14/2012 09:30:00"), None);
        // Still validated as a calendar date.
        assert_eq!(iso("31/02/2012 09:30:00"), None);
    }

    #[test]
    fn am_pm() {
        assert_eq!(
            iso("2/14/2012 12:05:00 AM").as_deref(),
            Some("2012-02-14T00:05:00Z")
        );
        assert_eq!(
            iso("2/14/2012 12:05:00 PM").as_deref(),
            Some("2012-02-14T12:05:00Z")
        );
        assert_eq!(
            iso("2/14/2012 1:05:00pm").as_deref(),
            Some("2012-02-14T13:05:00Z")
        );
        assert_eq!(
            iso("2012-02-14 1:05:00 a.m.").as_deref(),
            Some("2012-02-14T01:05:00Z")
        );
        assert_eq!(span_text("2/14/2012 9:30:00 PM x"), "2/14/2012 9:30:00 PM");
        assert_eq!(iso("2/14/2012 13:05:00 PM"), None);
        assert_eq!(iso("2/14/2012 0:05:00 AM"), None);
        assert_eq!(
            span_text("2012-02-14 1:05:00 a.m. x"),
            "2012-02-14 1:05:00 a.m."
        );
        assert_eq!(
            iso("2012-02-14 1:05:00 p.m.").as_deref(),
            Some("2012-02-14T13:05:00Z")
        );
        // `amber` is not AM.
        assert_eq!(
            iso("2012-02-14 01:05:00 amber").as_deref(),
            Some("2012-02-14T01:05:00Z")
        );
    }

    // --- rejections -------------------------------------------------------------------

    #[test]
    fn invalid_dates_and_times_are_refused() {
        for line in [
            "2012-02-30 09:30:00",
            "2011-02-29 09:30:00",
            "2012-13-01 09:30:00",
            "2012-00-10 09:30:00",
            "2012-02-00 09:30:00",
            "2012-02-14 24:00:00",
            "2012-02-14 09:60:00",
            "2012-02-14 09:30:60",
            "1979-12-31 23:59:59",
            "2101-01-01 00:00:00",
            "30 Feb 2012 09:30:00",
        ] {
            assert_eq!(iso(line), None, "{line}");
        }
        assert_eq!(
            iso("2012-02-29 09:30:00").as_deref(),
            Some("2012-02-29T09:30:00Z")
        );
        assert_eq!(
            iso("1980-01-01 00:00:00").as_deref(),
            Some("1980-01-01T00:00:00Z")
        );
        assert_eq!(
            iso("2100-12-31 23:59:59").as_deref(),
            Some("2100-12-31T23:59:59Z")
        );
    }

    #[test]
    fn date_alone_or_time_alone_is_refused() {
        assert_eq!(iso("2012-02-14"), None);
        assert_eq!(iso("released 2012-02-14 by x"), None);
        assert_eq!(iso("09:30:00"), None);
        assert_eq!(iso("elapsed 09:30:00.123"), None);
        assert_eq!(iso("14 Feb 2012"), None);
    }

    #[test]
    fn digit_runs_and_versions_are_refused() {
        assert_eq!(iso("12012-02-14 09:30:00"), None);
        assert_eq!(iso("2012-02-14 09:30:001"), None);
        assert_eq!(iso("2012-02-14 09:30:00.123.4"), None);
        assert_eq!(iso("10.2012.02.14 09:30:00"), None);
        assert_eq!(iso("id 114/02/2012 09:30:00"), None);
        assert_eq!(iso("1.9.2.3"), None);
        assert_eq!(iso("version 1.9.2.3 build 12:30:45"), None);
    }

    #[test]
    fn leftmost_wins_and_rejected_candidates_do_not_stop_the_search() {
        let line = "Feb 14 2012 10:00:00 then 2012-02-14 09:30:00";
        assert_eq!(iso(line).as_deref(), Some("2012-02-14T10:00:00Z"));
        let line = "2012-02-14 09:30:00 then Feb 14 2012 10:00:00";
        assert_eq!(iso(line).as_deref(), Some("2012-02-14T09:30:00Z"));
        let line = "bad 2012-02-30 09:30:00 good 2012-02-14 10:00:00";
        let t = lt(line);
        assert_eq!(t.time.to_iso8601(), "2012-02-14T10:00:00Z");
        assert_eq!(&line[t.span], "2012-02-14 10:00:00");
    }

    #[test]
    fn time_range_is_not_an_offset() {
        let line = "2012-02-14 09:30:00-10:30:00 maintenance";
        let t = lt(line);
        assert!(!t.zone_stated);
        assert_eq!(&line[t.span], "2012-02-14 09:30:00");
        assert_eq!(t.time.to_iso8601(), "2012-02-14T09:30:00Z");
    }

    #[test]
    fn syslog_time_followed_by_a_date_is_not_ctime() {
        let line = "Feb 14 09:30:00 2012-02-15 10:00:00 x";
        let t = lt(line);
        assert_eq!(t.time.to_iso8601(), "2012-02-15T10:00:00Z");
        assert_eq!(&line[t.span], "2012-02-15 10:00:00");
    }

    #[test]
    fn glued_weekday_is_dropped_but_the_date_counts() {
        assert_eq!(
            span_text("xTue Feb 14 2012 09:30:00"),
            "Feb 14 2012 09:30:00"
        );
        assert_eq!(iso("x14 Feb 2012 09:30:00"), None);
    }

    #[test]
    fn long_multibyte_prefix() {
        let line = format!("{} 2012-02-14 09:30:00", "é€".repeat(40));
        let t = lt(&line);
        assert_eq!(t.span.start, "é€".len() * 40 + 1);
        assert_eq!(t.time.to_iso8601(), "2012-02-14T09:30:00Z");
        let line = format!("{}Tue, 14 Feb 2012 09:30:00", "€".repeat(30));
        assert_eq!(span_text(&line), "Tue, 14 Feb 2012 09:30:00");
    }

    #[test]
    fn spans_are_byte_offsets_after_multibyte_text() {
        let line = "é€ 2012-02-14 09:30:00";
        let t = lt(line);
        assert_eq!(t.span.start, "é€ ".len());
        assert_eq!(&line[t.span], "2012-02-14 09:30:00");
    }

    #[test]
    fn clock_shapes() {
        let c = clock_at(b"a 1:23:45", 3).expect("clock");
        assert_eq!((c.span, c.hour, c.minute, c.second), (2..9, 1, 23, 45));
        let c = clock_at(b"12:34:56,789x", 2).expect("clock");
        assert_eq!((c.span, c.fraction), (0..12, Some(9..12)));
        assert!(clock_at(b"1:23:4", 1).is_none());
        assert!(clock_at(b"123:45:67", 3).is_none());
        assert!(clock_at(b"12:45:678", 2).is_none());
        assert!(clock_at(b":23:45", 0).is_none());
    }

    // --- indicators -------------------------------------------------------------------

    fn kinds(line: &str) -> Vec<(IndicatorKind, &str)> {
        find_indicators(line)
    }

    use IndicatorKind::*;

    #[test]
    fn urls_with_trailing_punctuation_stripped() {
        assert_eq!(
            kinds("see (http://example.com/a)."),
            vec![(Url, "http://example.com/a")]
        );
        assert_eq!(
            kinds("go to https://dl.akamai.com/x?a=1&b=2, then"),
            vec![(Url, "https://dl.akamai.com/x?a=1&b=2")]
        );
        assert_eq!(
            kinds(r#"href="ftp://ftp.example.org/pub/";"#),
            vec![(Url, "ftp://ftp.example.org/pub/")]
        );
        assert_eq!(
            kinds("<http://a.example/>"),
            vec![(Url, "http://a.example/")]
        );
        assert_eq!(
            kinds("[http://a.example/x]:"),
            vec![(Url, "http://a.example/x")]
        );
        // A bracket the URL itself opened is kept.
        assert_eq!(
            kinds("http://en.wikipedia.org/wiki/Foo_(bar)"),
            vec![(Url, "http://en.wikipedia.org/wiki/Foo_(bar)")]
        );
        assert_eq!(
            kinds("svn+ssh://host/repo"),
            vec![(Url, "svn+ssh://host/repo")]
        );
        assert_eq!(
            kinds("URL=HTTPS://X.EXAMPLE"),
            vec![(Url, "HTTPS://X.EXAMPLE")]
        );
        assert_eq!(
            kinds("file:///C:/Program%20Files/"),
            vec![(Url, "file:///C:/Program%20Files/")]
        );
        // Nothing after the scheme.
        assert_eq!(kinds("http:// nothing"), vec![]);
        assert_eq!(kinds("http://."), vec![]);
    }

    #[test]
    fn ip_inside_url_is_reported_too() {
        assert_eq!(
            kinds("GET http://192.168.1.10:8080/x"),
            vec![(Url, "http://192.168.1.10:8080/x"), (Ipv4, "192.168.1.10")]
        );
    }

    #[test]
    fn ipv4() {
        assert_eq!(
            kinds("connect 192.168.1.10:443 ok"),
            vec![(Ipv4, "192.168.1.10")]
        );
        assert_eq!(kinds("peer=10.0.0.1."), vec![(Ipv4, "10.0.0.1")]);
        assert_eq!(
            kinds("0.0.0.0 and 255.255.255.255"),
            vec![(Ipv4, "0.0.0.0"), (Ipv4, "255.255.255.255")]
        );
        for line in [
            "1.2.3.4.5",
            "x 256.1.1.1",
            "01.2.3.4",
            "1.2.03.4",
            "1.2.3",
            "version 1.9.2.3",
            "Version: 1.9.2.3",
            r#"<client version="1.9.2.3"/>"#,
            "FileVersion 1.9.2.3",
            "v1.9.2.3",
            "ver. 1.9.2.3",
            "ip1.2.3.4",
            "1.2.3.4x",
            "1.2.3.4.dll",
            "1234.1.2.3",
        ] {
            assert_eq!(kinds(line), vec![], "{line}");
        }
        // The tail of a dotted name is not an address.
        assert_eq!(kinds("lib.1.2.3.4"), vec![]);
        // A word with non-ASCII letters before the address.
        assert_eq!(kinds("café 1.2.3.4"), vec![(Ipv4, "1.2.3.4")]);
        assert_eq!(kinds("€1.2.3.4"), vec![(Ipv4, "1.2.3.4")]);
        // A bare dotted quad that is really a version cannot be told apart: reported.
        assert_eq!(kinds("NetSession 1.9.2.3"), vec![(Ipv4, "1.9.2.3")]);
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(kinds("addr 2001:db8::1 up"), vec![(Ipv6, "2001:db8::1")]);
        assert_eq!(kinds("fe80::1%12"), vec![(Ipv6, "fe80::1%12")]);
        assert_eq!(kinds("fe80::1%eth0 x"), vec![(Ipv6, "fe80::1%eth0")]);
        assert_eq!(kinds("localhost ::1"), vec![(Ipv6, "::1")]);
        assert_eq!(kinds("[::1]:8080"), vec![(Ipv6, "::1")]);
        assert_eq!(kinds("addr:fe80::1."), vec![(Ipv6, "fe80::1")]);
        assert_eq!(
            kinds("2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
            vec![(Ipv6, "2001:0db8:85a3:0000:0000:8a2e:0370:7334")]
        );
        // The embedded IPv4 is not reported separately.
        assert_eq!(kinds("::ffff:192.0.2.1"), vec![(Ipv6, "::ffff:192.0.2.1")]);
    }

    #[test]
    fn ipv6_is_not_a_time_or_a_symbol() {
        assert_eq!(kinds("09:30:00"), vec![]);
        assert_eq!(kinds("2012-02-14T09:30:00.123Z"), vec![]);
        assert_eq!(kinds("12:30:45:99"), vec![]);
        assert_eq!(kinds("std::string Foo::Bar Vec::new"), vec![]);
        assert_eq!(kinds("dead::beef"), vec![]);
        // Glued to a word on the left.
        assert_eq!(kinds("obj1::2"), vec![]);
        assert_eq!(kinds("x 1::2"), vec![(Ipv6, "1::2")]);
        assert_eq!(kinds("a :: b"), vec![]);
        assert_eq!(kinds("1:2"), vec![]);
        assert_eq!(kinds("1:2:3:4:5:6:7:8:9"), vec![]);
    }

    #[test]
    fn guids() {
        assert_eq!(
            kinds("CLSID {4A2B8C3D-1E2F-4a5b-9C8D-0E1F2A3B4C5D} registered"),
            vec![(Guid, "{4A2B8C3D-1E2F-4a5b-9C8D-0E1F2A3B4C5D}")]
        );
        assert_eq!(
            kinds("guid=4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d;"),
            vec![(Guid, "4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d")]
        );
        // A lone brace is not part of it.
        assert_eq!(
            kinds("{4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d"),
            vec![(Guid, "4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d")]
        );
        // Part of a longer hex run.
        assert_eq!(kinds("94a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d"), vec![]);
        assert_eq!(kinds("4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d0"), vec![]);
        assert_eq!(kinds("4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d-7"), vec![]);
        assert_eq!(kinds("4a2b8c3g-1e2f-4a5b-9c8d-0e1f2a3b4c5d"), vec![]);
    }

    #[test]
    fn copyright_notices() {
        assert_eq!(
            kinds("Copyright (c) 2008-2012 Akamai Technologies"),
            vec![(Copyright, "Copyright (c) 2008-2012")]
        );
        assert_eq!(kinds("(C) 2009 Akamai"), vec![(Copyright, "(C) 2009")]);
        assert_eq!(
            kinds("© 2009-2012 Akamai"),
            vec![(Copyright, "© 2009-2012")]
        );
        assert_eq!(
            kinds("COPYRIGHT 2012."),
            vec![(Copyright, "COPYRIGHT 2012")]
        );
        assert_eq!(
            kinds("Copyright © 2008, 2010 - 2012 Akamai"),
            vec![(Copyright, "Copyright © 2008, 2010 - 2012")]
        );
        assert_eq!(
            kinds("Copyright: 2011 x"),
            vec![(Copyright, "Copyright: 2011")]
        );
        assert_eq!(kinds("(c)2010"), vec![(Copyright, "(c)2010")]);
        assert_eq!(kinds("(c) 1234 items"), vec![]);
        assert_eq!(kinds("(c) 20123"), vec![]);
        assert_eq!(kinds("Copyright Akamai"), vec![]);
    }

    #[test]
    fn mixed_line_in_order_of_appearance() {
        let line = "2012-02-14 09:30:00 {4A2B8C3D-1E2F-4A5B-9C8D-0E1F2A3B4C5D} from 10.1.2.3 \
                    via http://[2001:db8::7]/get (c) 2012";
        assert_eq!(
            kinds(line),
            vec![
                (Guid, "{4A2B8C3D-1E2F-4A5B-9C8D-0E1F2A3B4C5D}"),
                (Ipv4, "10.1.2.3"),
                (Url, "http://[2001:db8::7]/get"),
                (Ipv6, "2001:db8::7"),
                (Copyright, "(c) 2012"),
            ]
        );
    }

    #[test]
    fn kind_ids_and_nouns() {
        assert_eq!(Url.artifact_id(), "content.url");
        assert_eq!(Ipv4.artifact_id(), "content.ip");
        assert_eq!(Ipv6.artifact_id(), "content.ip");
        assert_eq!(Guid.artifact_id(), "content.guid");
        assert_eq!(Copyright.artifact_id(), "content.copyright");
        assert_eq!(Url.noun(), "URL");
        assert_eq!(Ipv4.noun(), "IPv4 address");
        assert_eq!(Ipv6.noun(), "IPv6 address");
        assert_eq!(Guid.noun(), "GUID");
        assert_eq!(Copyright.noun(), "copyright notice");
    }

    // --- decoding ---------------------------------------------------------------------

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(
            decode_text(b"hello\r\nworld\n").as_deref(),
            Some("hello\r\nworld\n")
        );
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("© Akamai".as_bytes());
        assert_eq!(decode_text(&bom).as_deref(), Some("© Akamai"));
        assert!(is_text(&bom));
        assert_eq!(decode_text(b"").as_deref(), Some(""));
    }

    #[test]
    fn invalid_utf8_becomes_replacement() {
        // Windows-1252 `©` and `é` in otherwise ASCII text.
        let bytes = b"Copyright \xA9 2012 Akamai caf\xE9 config file";
        assert_eq!(
            decode_text(bytes).as_deref(),
            Some("Copyright \u{FFFD} 2012 Akamai caf\u{FFFD} config file")
        );
    }

    #[test]
    fn utf16_with_bom() {
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16le("[Settings]\r\nName=NetSession €\r\n"));
        assert_eq!(
            decode_text(&le).as_deref(),
            Some("[Settings]\r\nName=NetSession €\r\n")
        );
        assert!(is_text(&le));

        let mut be = vec![0xFE, 0xFF];
        be.extend(utf16be("Hello 𝄞 world"));
        assert_eq!(decode_text(&be).as_deref(), Some("Hello 𝄞 world"));
    }

    #[test]
    fn utf16le_without_bom() {
        let le = utf16le("2012-02-14 09:30:00 started\r\n");
        assert!(looks_utf16le(&le));
        assert_eq!(
            decode_text(&le).as_deref(),
            Some("2012-02-14 09:30:00 started\r\n")
        );
        assert!(is_text(&le));
        // A prefix cut in the middle of a code unit.
        assert!(is_text(&le[..7]));
    }

    #[test]
    fn binary_is_refused() {
        let pe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00\xB8\x00";
        assert_eq!(decode_text(pe), None);
        assert!(!is_text(pe));
        // A NUL in UTF-8-looking data.
        assert_eq!(decode_text(b"text\x00more text"), None);
        // Control characters.
        let controls: Vec<u8> = (0..200u8)
            .map(|i| if i % 4 == 0 { 0x01 } else { b'a' })
            .collect();
        assert_eq!(decode_text(&controls), None);
        // Few control characters are fine (ESC colour codes, form feed).
        assert!(is_text(b"\x1b[31mred\x1b[0m\x0cpage"));
        // Mostly undecodable.
        assert_eq!(decode_text(&[0xFF; 64]), None);
        // All NUL.
        assert_eq!(decode_text(&[0u8; 64]), None);
        // UTF-16 of nothing but control characters.
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16le("\u{1}\u{2}\u{3}\u{4}"));
        assert_eq!(decode_text(&le), None);
    }

    #[test]
    fn trailing_nul_padding_is_tolerated_and_dropped() {
        let mut bytes = b"log line\n".to_vec();
        bytes.extend([0u8; 100]);
        assert_eq!(decode_text(&bytes).as_deref(), Some("log line\n"));
        let mut le = utf16le("log line\n");
        le.extend([0u8; 100]);
        assert_eq!(decode_text(&le).as_deref(), Some("log line\n"));
    }

    #[test]
    fn prefix_cut_mid_utf8_is_still_text() {
        let s = "Name=€€€".as_bytes();
        // Cut inside the last `€` (3 bytes).
        assert!(is_text(&s[..s.len() - 1]));
        assert!(is_text(&s[..s.len() - 2]));
        assert!(is_text(&"é".as_bytes()[..1]));
        // But a prefix of genuinely invalid bytes is not.
        assert!(!is_text(&[0xC3, 0x28, 0xFF, 0xFE, 0xFD][1..]));
        // decode_text of a whole buffer shows a cut sequence as U+FFFD.
        assert_eq!(
            decode_text(&s[..s.len() - 1]).as_deref(),
            Some("Name=€€\u{FFFD}")
        );
    }

    #[test]
    fn prefix_cut_mid_utf16_surrogate_pair_is_still_text() {
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16le("a𝄞"));
        // BOM, `a`, high surrogate: the low surrogate was cut off.
        assert!(is_text(&le[..6]));
        // An unpaired surrogate that is not at the end is invalid.
        let mut bad = vec![0xFF, 0xFE];
        bad.extend([0x34, 0xD8, b'a', 0x00]);
        assert_eq!(decode_text(&bad), None);
    }

    #[test]
    fn nul_after_the_sample_does_not_make_binary() {
        let mut bytes = vec![b'a'; SAMPLE_LEN];
        bytes.push(0);
        bytes.extend_from_slice(b"tail");
        let text = decode_text(&bytes).expect("text");
        assert!(text.ends_with("\0tail"));
    }
}
