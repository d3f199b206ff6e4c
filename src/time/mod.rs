//! Points in time as evidence gives them, kept at the precision of their source.
//!
//! Every time in the output is UTC, ISO 8601 with a `Z`. The number of fractional digits
//! says how precise the source is: a FILETIME has 7 (100 ns), a log line with whole
//! seconds has none. Padding a seconds-precise log time to 7 digits would claim a
//! precision the evidence does not have.

pub mod zone;

use std::cmp::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

/// 100-ns intervals between 1601-01-01 (FILETIME epoch) and 1970-01-01 (Unix epoch).
const FILETIME_UNIX_OFFSET: u64 = 116_444_736_000_000_000;

/// How many fractional second digits the source carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    Seconds,
    Millis,
    Micros,
    /// Windows FILETIME: 100 ns.
    FileTime,
    Nanos,
}

impl Precision {
    fn digits(self) -> usize {
        match self {
            Precision::Seconds => 0,
            Precision::Millis => 3,
            Precision::Micros => 6,
            Precision::FileTime => 7,
            Precision::Nanos => 9,
        }
    }
}

/// A UTC instant with the precision its source gave it.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
    precision: Precision,
}

impl Timestamp {
    /// Seconds and nanoseconds since the Unix epoch. Nanoseconds beyond the stated
    /// precision are dropped so that formatting never invents digits.
    pub fn from_unix(secs: i64, nanos: u32, precision: Precision) -> Option<Timestamp> {
        if nanos >= 1_000_000_000 {
            return None;
        }
        // chrono's range is far wider than any real evidence; refuse what it cannot show.
        chrono::DateTime::from_timestamp(secs, 0)?;
        let unit = 10u32.pow(9 - precision.digits() as u32);
        Some(Timestamp {
            secs,
            nanos: nanos / unit * unit,
            precision,
        })
    }

    /// A Windows FILETIME (100-ns intervals since 1601-01-01 UTC). Zero means "not set"
    /// in every Windows structure, so it gives `None`.
    pub fn from_filetime(filetime: u64) -> Option<Timestamp> {
        if filetime == 0 {
            return None;
        }
        let signed = filetime as i128 - FILETIME_UNIX_OFFSET as i128;
        let secs = signed.div_euclid(10_000_000) as i64;
        let nanos = (signed.rem_euclid(10_000_000) * 100) as u32;
        Timestamp::from_unix(secs, nanos, Precision::FileTime)
    }

    /// A host file system time (nanosecond precision on Linux).
    pub fn from_system_time(time: SystemTime) -> Option<Timestamp> {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => Timestamp::from_unix(
                i64::try_from(after.as_secs()).ok()?,
                after.subsec_nanos(),
                Precision::Nanos,
            ),
            Err(before) => {
                let d = before.duration();
                let mut secs = -i64::try_from(d.as_secs()).ok()?;
                let mut nanos = d.subsec_nanos();
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Timestamp::from_unix(secs, nanos, Precision::Nanos)
            }
        }
    }

    /// A civil date and time already in UTC.
    pub fn from_naive_utc(dt: chrono::NaiveDateTime, precision: Precision) -> Option<Timestamp> {
        let utc = dt.and_utc();
        Timestamp::from_unix(utc.timestamp(), utc.timestamp_subsec_nanos(), precision)
    }

    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Nanoseconds since the Unix epoch, for ordering and arithmetic.
    pub fn unix_nanos(&self) -> i128 {
        self.secs as i128 * 1_000_000_000 + self.nanos as i128
    }

    /// ISO 8601 in UTC with a `Z`, e.g. `2012-02-14T09:30:00.0000000Z`.
    pub fn to_iso8601(&self) -> String {
        use chrono::{Datelike, Timelike};
        let Some(d) = chrono::DateTime::from_timestamp(self.secs, 0) else {
            return String::new();
        };
        // Written digit by digit: this runs once per row of the evidence file.
        let mut out = String::with_capacity(30);
        let year = d.year();
        if (0..=9999).contains(&year) {
            push_digits(&mut out, year as u32, 4);
        } else {
            out.push_str(&format!("{year:+05}"));
        }
        for (sep, value) in [
            ('-', d.month()),
            ('-', d.day()),
            ('T', d.hour()),
            (':', d.minute()),
            (':', d.second()),
        ] {
            out.push(sep);
            push_digits(&mut out, value, 2);
        }
        let digits = self.precision.digits();
        if digits > 0 {
            out.push('.');
            push_digits(&mut out, self.nanos / 10u32.pow(9 - digits as u32), digits);
        }
        out.push('Z');
        out
    }
}

/// `value` in exactly `width` decimal digits, zero-padded (`value` has no more).
fn push_digits(out: &mut String, value: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut v = value;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend(buf[..width].iter().map(|&b| b as char));
}

/// Two timestamps are the same instant whatever precision they were written with.
impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.secs == other.secs && self.nanos == other.nanos
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.secs, self.nanos).cmp(&(other.secs, other.nanos))
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_keeps_100ns_precision() {
        // 2012-02-14T09:30:00Z plus 1234567 * 100 ns.
        let base = (1_329_211_800u64) * 10_000_000 + FILETIME_UNIX_OFFSET;
        let t = Timestamp::from_filetime(base + 1_234_567).unwrap();
        assert_eq!(t.to_iso8601(), "2012-02-14T09:30:00.1234567Z");
        assert_eq!(
            Timestamp::from_filetime(base).unwrap().to_iso8601(),
            "2012-02-14T09:30:00.0000000Z"
        );
    }

    #[test]
    fn filetime_zero_is_unset_and_pre_1970_works() {
        assert!(Timestamp::from_filetime(0).is_none());
        let t = Timestamp::from_filetime(1).unwrap();
        assert_eq!(t.to_iso8601(), "1601-01-01T00:00:00.0000001Z");
    }

    #[test]
    fn precision_never_invents_digits() {
        let t = Timestamp::from_unix(0, 123_456_789, Precision::Seconds).unwrap();
        assert_eq!(t.to_iso8601(), "1970-01-01T00:00:00Z");
        let t = Timestamp::from_unix(0, 123_456_789, Precision::Millis).unwrap();
        assert_eq!(t.to_iso8601(), "1970-01-01T00:00:00.123Z");
        let t = Timestamp::from_unix(0, 123_456_789, Precision::Nanos).unwrap();
        assert_eq!(t.to_iso8601(), "1970-01-01T00:00:00.123456789Z");
    }

    #[test]
    fn system_time_before_epoch() {
        let t = UNIX_EPOCH - std::time::Duration::new(1, 500_000_000);
        let ts = Timestamp::from_system_time(t).unwrap();
        assert_eq!(ts.to_iso8601(), "1969-12-31T23:59:58.500000000Z");
    }

    #[test]
    fn iso8601_digits_agree_with_chrono() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Seconds from about year -5000 to year +20000.
            let secs = (x % 786_000_000_000) as i64 - 220_000_000_000;
            let nanos = (x >> 33) as u32 % 1_000_000_000;
            let t = Timestamp::from_unix(secs, nanos, Precision::Nanos).unwrap();
            let chrono = chrono::DateTime::from_timestamp(secs, nanos)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.9fZ")
                .to_string();
            assert_eq!(t.to_iso8601(), chrono, "{secs}");
        }
    }
}
