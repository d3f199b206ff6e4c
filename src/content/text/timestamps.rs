//! Timestamps in a line of text: [`find_line_time`] and its [`LineTime`].

use std::sync::LazyLock;

use chrono::{NaiveDate, TimeDelta};
use regex::{Captures, Regex};

use super::is_word_byte;
use crate::time::{Precision, Timestamp};

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
}
