//! The zone of a source's local times: how a wall-clock time written without a zone (a
//! text line, a ZIP entry's DOS time, a report's local header) is placed in UTC.
//!
//! A zone comes from the evidence itself (Windows' `TimeZoneInformation` in a SYSTEM
//! hive: [`WindowsZone`]) or from the examiner (`--source-tz`: an IANA name read from the
//! tz database bundled in the build, or a fixed `±HH:MM`).
//!
//! Wall-clock times that a clock change makes ambiguous or skips are placed by one rule,
//! the same for every kind of zone (RFC 5545's, jiff's "compatible", Python's `fold=0`):
//! a time that occurs twice (the hour repeated when daylight saving time ends) is taken
//! at its first occurrence, still on daylight time; a time that never occurs (the hour
//! skipped when it begins) is taken with the offset in force before the change, so
//! `02:30` on a spring-forward night in Berlin becomes `01:30Z`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};

use super::Timestamp;

/// Why a `--source-tz` value is not a zone.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZoneError {
    #[error("{0:?} is not a time zone: give an IANA name (Europe/Berlin) or an offset (+01:00)")]
    Unknown(String),
    #[error("{0:?}: offsets go from -14:00 to +14:00 as ±HH:MM")]
    BadOffset(String),
}

/// One transition of a Windows zone: a `SYSTEMTIME` of `StandardStart` or
/// `DaylightStart`. With `year` 0 it recurs every year on the `day`-th `day_of_week`
/// of `month` (5 = the last); with a year it is that one date (`day` = day of month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransitionRule {
    pub year: u16,
    pub month: u16,
    pub day_of_week: u16,
    pub day: u16,
    pub hour: u16,
    pub minute: u16,
    pub second: u16,
    pub millis: u16,
}

impl TransitionRule {
    /// The 16 bytes of a `SYSTEMTIME` (eight little-endian u16). `None` when not 16 bytes.
    pub fn from_systemtime(bytes: &[u8]) -> Option<TransitionRule> {
        if bytes.len() != 16 {
            return None;
        }
        let w = |i: usize| u16::from_le_bytes([bytes[i * 2], bytes[i * 2 + 1]]);
        Some(TransitionRule {
            year: w(0),
            month: w(1),
            day_of_week: w(2),
            day: w(3),
            hour: w(4),
            minute: w(5),
            second: w(6),
            millis: w(7),
        })
    }

    /// Month 0: no transition (a zone without daylight saving time).
    pub fn is_set(&self) -> bool {
        self.month != 0
    }

    /// What is wrong with a set rule, if anything.
    pub fn problem(&self) -> Option<String> {
        if !self.is_set() {
            return None;
        }
        let day_ok = if self.year == 0 {
            (1..=5).contains(&self.day) && self.day_of_week <= 6
        } else {
            (1..=31).contains(&self.day)
        };
        let ok = self.month <= 12
            && day_ok
            && self.hour <= 23
            && self.minute <= 59
            && self.second <= 59
            && self.millis <= 999;
        (!ok).then(|| format!("not a valid transition rule ({self:?})"))
    }

    /// The wall-clock time of the transition in `year`, if it has one then.
    fn in_year(&self, year: i32) -> Option<NaiveDateTime> {
        let month = u32::from(self.month);
        let date = if self.year != 0 {
            if i32::from(self.year) != year {
                return None;
            }
            NaiveDate::from_ymd_opt(year, month, u32::from(self.day))?
        } else {
            let first = NaiveDate::from_ymd_opt(year, month, 1)?;
            let want = Weekday::try_from(((u32::from(self.day_of_week) + 6) % 7) as u8).ok()?;
            let first_match =
                1 + (7 + want.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
            let mut day = first_match + 7 * (u32::from(self.day) - 1);
            while NaiveDate::from_ymd_opt(year, month, day).is_none() {
                day -= 7;
            }
            NaiveDate::from_ymd_opt(year, month, day)?
        };
        let time = NaiveTime::from_hms_milli_opt(
            u32::from(self.hour),
            u32::from(self.minute),
            u32::from(self.second),
            u32::from(self.millis),
        )?;
        Some(date.and_time(time))
    }

    fn describe(&self) -> String {
        let clock = format!("{:02}:{:02}", self.hour, self.minute);
        if self.year != 0 {
            return format!("{:04}-{:02}-{:02} {clock}", self.year, self.month, self.day);
        }
        let nth = match self.day {
            1 => "1st",
            2 => "2nd",
            3 => "3rd",
            4 => "4th",
            _ => "last",
        };
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{nth} {} of {} {clock}",
            DAYS.get(usize::from(self.day_of_week)).unwrap_or(&"?"),
            MONTHS
                .get(usize::from(self.month).wrapping_sub(1))
                .unwrap_or(&"?")
        )
    }
}

/// A Windows zone as `TimeZoneInformation` states it: biases in minutes west of UTC
/// (UTC = local + `bias` + `standard_bias` on standard time, + `daylight_bias` on
/// daylight time). `daylight_start` is a wall-clock time on standard time,
/// `standard_start` one on daylight time, as Windows defines them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsZone {
    pub key_name: String,
    pub bias: i32,
    pub standard_bias: i32,
    pub daylight_bias: i32,
    pub standard_start: TransitionRule,
    pub daylight_start: TransitionRule,
    /// The zone's per-year rules (`Time Zones\<key>\Dynamic DST` in SOFTWARE), when
    /// read: they replace the recurring rules above for the years they cover.
    pub dynamic: Option<DynamicDst>,
}

/// Windows' per-year rules of a zone: one `REG_TZI_FORMAT` per year from `first` to
/// `last`. Years before `first` take `first`'s rules, years after `last` take `last`'s,
/// as Windows applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicDst {
    pub first: i32,
    pub last: i32,
    /// Year -> that year's rules (`dynamic` of each is `None`).
    pub years: std::collections::BTreeMap<i32, WindowsZone>,
}

impl DynamicDst {
    /// The rules of `year`: its own, else those of the nearest year before it that has
    /// some (a year missing inside the range), else the first.
    fn rules_for(&self, year: i32) -> Option<&WindowsZone> {
        let year = year.clamp(self.first, self.last);
        self.years
            .range(..=year)
            .next_back()
            .or_else(|| self.years.iter().next())
            .map(|(_, zone)| zone)
    }
}

/// Biases beyond this many minutes are not a zone's.
const MAX_BIAS_MINUTES: i32 = 24 * 60;

impl WindowsZone {
    /// What is wrong with the zone, if anything: the value's name and why.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        for (name, v) in [
            ("Bias", self.bias),
            ("StandardBias", self.standard_bias),
            ("DaylightBias", self.daylight_bias),
        ] {
            if v.abs() > MAX_BIAS_MINUTES {
                return Some((name, format!("{v} is not a zone's bias in minutes")));
            }
        }
        for (name, r) in [
            ("StandardStart", &self.standard_start),
            ("DaylightStart", &self.daylight_start),
        ] {
            if let Some(p) = r.problem() {
                return Some((name, p));
            }
        }
        None
    }

    /// Has daylight saving time rules (both transitions set).
    pub fn has_daylight(&self) -> bool {
        self.standard_start.is_set() && self.daylight_start.is_set()
    }

    /// A zone from a `REG_TZI_FORMAT` (44 bytes: Bias, StandardBias, DaylightBias,
    /// StandardDate, DaylightDate), the form of each year under `Dynamic DST`. `None`
    /// when not 44 bytes.
    pub fn from_tzi(key_name: &str, bytes: &[u8]) -> Option<WindowsZone> {
        if bytes.len() != 44 {
            return None;
        }
        let i = |at: usize| {
            i32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        Some(WindowsZone {
            key_name: key_name.to_string(),
            bias: i(0),
            standard_bias: i(4),
            daylight_bias: i(8),
            standard_start: TransitionRule::from_systemtime(&bytes[12..28])?,
            daylight_start: TransitionRule::from_systemtime(&bytes[28..44])?,
            dynamic: None,
        })
    }

    /// Minutes west of UTC in force at the wall-clock time `local`: by the year's own
    /// rules where the zone has per-year rules, else by the recurring ones.
    pub fn bias_at(&self, local: NaiveDateTime) -> i32 {
        if let Some(rules) = self
            .dynamic
            .as_ref()
            .and_then(|d| d.rules_for(local.year()))
        {
            return rules.recurring_bias_at(local);
        }
        self.recurring_bias_at(local)
    }

    fn recurring_bias_at(&self, local: NaiveDateTime) -> i32 {
        let standard = self.bias + self.standard_bias;
        let daylight = self.bias + self.daylight_bias;
        if !self.has_daylight() {
            return standard;
        }
        let year = local.year();
        let (Some(ds), Some(ss)) = (
            self.daylight_start.in_year(year),
            self.standard_start.in_year(year),
        ) else {
            return standard;
        };
        // How far the clock moves forward when daylight time starts.
        let shift = TimeDelta::minutes(i64::from(self.standard_bias - self.daylight_bias));
        let zero = TimeDelta::zero();
        // Skipped wall times take the offset before the change, repeated ones their
        // first occurrence: daylight from `ds + shift` (forward) up to `ss` (back).
        let daylight_from = ds + shift.max(zero);
        let daylight_until = ss + (-shift).max(zero);
        let on_daylight = match ds.cmp(&ss) {
            std::cmp::Ordering::Less => daylight_from <= local && local < daylight_until,
            std::cmp::Ordering::Greater => local < daylight_until || daylight_from <= local,
            std::cmp::Ordering::Equal => false,
        };
        if on_daylight { daylight } else { standard }
    }

    /// The zone's rules in a few words: `Bias -60, daylight (DaylightBias -60) from the
    /// last Sun of Mar 02:00 to the last Sun of Oct 03:00`.
    pub fn describe_rules(&self) -> String {
        let mut out = format!("Bias {}", self.bias);
        if self.standard_bias != 0 {
            out.push_str(&format!(", StandardBias {}", self.standard_bias));
        }
        if self.has_daylight() {
            out.push_str(&format!(
                ", daylight time (DaylightBias {}) from the {} to the {}",
                self.daylight_bias,
                self.daylight_start.describe(),
                self.standard_start.describe()
            ));
        } else {
            out.push_str(", no daylight time");
        }
        if let Some(d) = &self.dynamic {
            out.push_str(&format!(
                "; per-year rules (Dynamic DST) for {}-{}, the first before and the last after",
                d.first, d.last
            ));
        }
        out
    }
}

#[derive(Debug, Clone)]
enum Rule {
    Windows(WindowsZone),
    Iana(jiff::tz::TimeZone),
    /// Seconds east of UTC.
    Fixed(i32),
}

/// The zone applied to one source's local times, and where it came from.
#[derive(Debug, Clone)]
pub struct SourceZone {
    rule: Rule,
    /// `W. Europe Standard Time`, `Europe/Berlin`, `+01:00`.
    name: String,
    /// Where the zone came from, for messages.
    from: String,
}

impl SourceZone {
    /// A zone read from a SYSTEM hive; `from` names the key and hive.
    pub fn windows(zone: WindowsZone, from: String) -> SourceZone {
        let name = if zone.key_name.is_empty() {
            "(unnamed)".to_string()
        } else {
            zone.key_name.clone()
        };
        let from = format!("{from} ({})", zone.describe_rules());
        SourceZone {
            rule: Rule::Windows(zone),
            name,
            from,
        }
    }

    /// A `--source-tz` value: an IANA name or a fixed `±HH:MM` (`±HH`).
    pub fn parse(text: &str) -> Result<SourceZone, ZoneError> {
        let text = text.trim();
        let from = "--source-tz".to_string();
        if let Some(sign) = text.chars().next().filter(|c| *c == '+' || *c == '-') {
            let bad = || ZoneError::BadOffset(text.to_string());
            let rest = &text[1..];
            let (h, m) = rest.split_once(':').unwrap_or((rest, "00"));
            let all_digits =
                |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
            if !all_digits(h) || !all_digits(m) {
                return Err(bad());
            }
            let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            let minutes = h * 60 + m;
            if m > 59 || minutes > 14 * 60 {
                return Err(bad());
            }
            let minutes = if sign == '-' { -minutes } else { minutes };
            return Ok(SourceZone {
                rule: Rule::Fixed(minutes * 60),
                name: offset_name(minutes * 60),
                from,
            });
        }
        match jiff::tz::TimeZone::get(text) {
            Ok(tz) => Ok(SourceZone {
                name: tz.iana_name().unwrap_or(text).to_string(),
                rule: Rule::Iana(tz),
                from,
            }),
            Err(_) => Err(ZoneError::Unknown(text.to_string())),
        }
    }

    /// A fixed offset in minutes east of UTC, from `from`.
    pub fn fixed(minutes_east: i32, from: &str) -> SourceZone {
        SourceZone {
            rule: Rule::Fixed(minutes_east * 60),
            name: offset_name(minutes_east * 60),
            from: from.to_string(),
        }
    }

    /// Adds a note to where the zone came from.
    pub fn with_note(mut self, note: &str) -> SourceZone {
        self.from.push_str("; ");
        self.from.push_str(note);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the zone came from (`--source-tz`, a SYSTEM hive's key).
    pub fn from(&self) -> &str {
        &self.from
    }

    /// Seconds east of UTC in force at the wall-clock time `local`.
    pub fn offset_at(&self, local: NaiveDateTime) -> Option<i32> {
        match &self.rule {
            Rule::Fixed(secs) => Some(*secs),
            Rule::Windows(zone) => Some(-zone.bias_at(local) * 60),
            Rule::Iana(tz) => {
                let dt = jiff::civil::DateTime::new(
                    i16::try_from(local.year()).ok()?,
                    i8::try_from(local.month()).ok()?,
                    i8::try_from(local.day()).ok()?,
                    i8::try_from(chrono::Timelike::hour(&local)).ok()?,
                    i8::try_from(chrono::Timelike::minute(&local)).ok()?,
                    i8::try_from(chrono::Timelike::second(&local)).ok()?,
                    0,
                )
                .ok()?;
                let ts = tz.to_ambiguous_timestamp(dt).compatible().ok()?;
                let as_if_utc = local.and_utc().timestamp();
                i32::try_from(as_if_utc - ts.as_second()).ok()
            }
        }
    }

    /// A wall-clock time that was read as if UTC, placed in UTC by this zone, with the
    /// offset applied (seconds east). Precision is kept.
    pub fn to_utc(&self, as_if_utc: Timestamp) -> Option<(Timestamp, i32)> {
        let local = chrono::DateTime::from_timestamp(as_if_utc.unix_seconds(), 0)?.naive_utc();
        let offset = self.offset_at(local)?;
        let secs = as_if_utc.unix_seconds().checked_sub(i64::from(offset))?;
        let utc = Timestamp::from_unix(secs, as_if_utc.subsec_nanos(), as_if_utc.precision())?;
        Some((utc, offset))
    }

    /// For a row's message: `zone Europe/Berlin applied (UTC+02:00 at that time), from
    /// --source-tz`.
    pub fn applied(&self, offset_secs: i32) -> String {
        format!(
            "zone {} applied (UTC{} at that time), from {}",
            self.name,
            offset_name(offset_secs),
            self.from
        )
    }
}

/// `+01:00`, `-05:30` (`+00:00:30` when seconds remain).
pub fn offset_name(secs_east: i32) -> String {
    let sign = if secs_east < 0 { '-' } else { '+' };
    let s = secs_east.unsigned_abs();
    if s.is_multiple_of(60) {
        format!("{sign}{:02}:{:02}", s / 3600, s / 60 % 60)
    } else {
        format!("{sign}{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

#[cfg(test)]
mod tests;
