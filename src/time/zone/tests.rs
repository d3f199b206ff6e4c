use super::*;

/// Expected UTC for local wall-clock times, computed with Python's `zoneinfo` (the
/// system tz database, `fold=0`) by
/// `datetime.strptime(t, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(z), fold=0).astimezone(timezone.utc)`.
/// Stored so that the check runs without Python.
const ZONEINFO: &[(&str, &str, &str)] = &[
    (
        "Europe/Berlin",
        "2021-03-28 01:59:59",
        "2021-03-28T00:59:59Z",
    ),
    (
        "Europe/Berlin",
        "2021-03-28 02:00:00",
        "2021-03-28T01:00:00Z",
    ),
    (
        "Europe/Berlin",
        "2021-03-28 02:30:00",
        "2021-03-28T01:30:00Z",
    ),
    (
        "Europe/Berlin",
        "2021-03-28 03:00:00",
        "2021-03-28T01:00:00Z",
    ),
    (
        "Europe/Berlin",
        "2021-10-31 01:59:59",
        "2021-10-30T23:59:59Z",
    ),
    (
        "Europe/Berlin",
        "2021-10-31 02:00:00",
        "2021-10-31T00:00:00Z",
    ),
    (
        "Europe/Berlin",
        "2021-10-31 02:30:00",
        "2021-10-31T00:30:00Z",
    ),
    (
        "Europe/Berlin",
        "2021-10-31 03:00:00",
        "2021-10-31T02:00:00Z",
    ),
    (
        "Europe/Berlin",
        "2012-02-14 09:30:00",
        "2012-02-14T08:30:00Z",
    ),
    (
        "Europe/Berlin",
        "2012-07-01 12:00:00",
        "2012-07-01T10:00:00Z",
    ),
    (
        "Europe/Berlin",
        "1996-10-27 02:30:00",
        "1996-10-27T00:30:00Z",
    ),
    (
        "Europe/Berlin",
        "1980-06-01 12:00:00",
        "1980-06-01T10:00:00Z",
    ),
    (
        "America/Los_Angeles",
        "2019-03-10 01:59:59",
        "2019-03-10T09:59:59Z",
    ),
    (
        "America/Los_Angeles",
        "2019-03-10 02:30:00",
        "2019-03-10T10:30:00Z",
    ),
    (
        "America/Los_Angeles",
        "2019-03-10 03:00:00",
        "2019-03-10T10:00:00Z",
    ),
    (
        "America/Los_Angeles",
        "2019-11-03 00:59:59",
        "2019-11-03T07:59:59Z",
    ),
    (
        "America/Los_Angeles",
        "2019-11-03 01:30:00",
        "2019-11-03T08:30:00Z",
    ),
    (
        "America/Los_Angeles",
        "2019-11-03 02:00:00",
        "2019-11-03T10:00:00Z",
    ),
    (
        "America/Los_Angeles",
        "2006-04-02 02:30:00",
        "2006-04-02T10:30:00Z",
    ),
    (
        "America/Los_Angeles",
        "2006-10-29 01:30:00",
        "2006-10-29T08:30:00Z",
    ),
    (
        "America/Los_Angeles",
        "2012-02-14 09:30:00",
        "2012-02-14T17:30:00Z",
    ),
    (
        "Australia/Sydney",
        "2020-04-05 01:59:59",
        "2020-04-04T14:59:59Z",
    ),
    (
        "Australia/Sydney",
        "2020-04-05 02:30:00",
        "2020-04-04T15:30:00Z",
    ),
    (
        "Australia/Sydney",
        "2020-04-05 03:00:00",
        "2020-04-04T17:00:00Z",
    ),
    (
        "Australia/Sydney",
        "2020-10-04 01:59:59",
        "2020-10-03T15:59:59Z",
    ),
    (
        "Australia/Sydney",
        "2020-10-04 02:30:00",
        "2020-10-03T16:30:00Z",
    ),
    (
        "Australia/Sydney",
        "2020-10-04 03:00:00",
        "2020-10-03T16:00:00Z",
    ),
    (
        "Australia/Sydney",
        "2020-01-15 12:00:00",
        "2020-01-15T01:00:00Z",
    ),
    (
        "Australia/Sydney",
        "2020-07-15 12:00:00",
        "2020-07-15T02:00:00Z",
    ),
    (
        "Asia/Kolkata",
        "2012-02-14 09:30:00",
        "2012-02-14T04:00:00Z",
    ),
    ("UTC", "2012-02-14 09:30:00", "2012-02-14T09:30:00Z"),
];

fn as_if_utc(local: &str) -> Timestamp {
    let dt = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S").unwrap();
    Timestamp::from_naive_utc(dt, crate::time::Precision::Seconds).unwrap()
}

fn rule(month: u16, day_of_week: u16, day: u16, hour: u16) -> TransitionRule {
    TransitionRule {
        month,
        day_of_week,
        day,
        hour,
        ..TransitionRule::default()
    }
}

/// The Windows zones of the IANA zones above, with the (non-dynamic) rules Windows 10
/// writes for them.
fn windows_of(iana: &str) -> Option<WindowsZone> {
    let (key_name, bias, daylight_start, standard_start) = match iana {
        "Europe/Berlin" => (
            "W. Europe Standard Time",
            -60,
            rule(3, 0, 5, 2),
            rule(10, 0, 5, 3),
        ),
        "America/Los_Angeles" => (
            "Pacific Standard Time",
            480,
            rule(3, 0, 2, 2),
            rule(11, 0, 1, 2),
        ),
        "Australia/Sydney" => (
            "AUS Eastern Standard Time",
            -600,
            rule(10, 0, 1, 2),
            rule(4, 0, 1, 3),
        ),
        "Asia/Kolkata" => (
            "India Standard Time",
            -330,
            TransitionRule::default(),
            TransitionRule::default(),
        ),
        _ => return None,
    };
    let daylight_bias = if daylight_start.is_set() { -60 } else { 0 };
    Some(WindowsZone {
        key_name: key_name.into(),
        bias,
        standard_bias: 0,
        daylight_bias,
        standard_start,
        daylight_start,
        dynamic: None,
    })
}

#[test]
fn iana_zones_agree_with_python_zoneinfo() {
    for (zone, local, want) in ZONEINFO {
        let tz = SourceZone::parse(zone).unwrap();
        let (utc, _) = tz.to_utc(as_if_utc(local)).unwrap();
        assert_eq!(&utc.to_iso8601(), want, "{zone} {local}");
    }
}

#[test]
fn windows_rules_agree_with_python_zoneinfo_where_the_rules_held() {
    let mut checked = 0;
    for (zone, local, want) in ZONEINFO {
        // The US rules of today hold from 2007 on; before, the per-year (dynamic) rules
        // would be needed, which are not read.
        if *zone == "America/Los_Angeles" && local.starts_with("2006") {
            continue;
        }
        let Some(windows) = windows_of(zone) else {
            continue;
        };
        assert_eq!(windows.problem(), None);
        let tz = SourceZone::windows(windows, "test".into());
        let (utc, _) = tz.to_utc(as_if_utc(local)).unwrap();
        assert_eq!(&utc.to_iso8601(), want, "{zone} as Windows zone, {local}");
        checked += 1;
    }
    assert_eq!(checked, 28);
}

#[test]
fn fixed_rules_of_today_misplace_2006_in_the_us_as_readme_says() {
    let tz = SourceZone::windows(windows_of("America/Los_Angeles").unwrap(), "test".into());
    let (utc, offset) = tz.to_utc(as_if_utc("2006-03-20 12:00:00")).unwrap();
    // zoneinfo: still standard time (-08:00) in 2006, DST began on April 2nd.
    assert_eq!(offset, -7 * 3600);
    assert_eq!(utc.to_iso8601(), "2006-03-20T19:00:00Z");
}

#[test]
fn fixed_offsets_and_bad_values() {
    let tz = SourceZone::parse("+05:30").unwrap();
    assert_eq!(tz.name(), "+05:30");
    let (utc, offset) = tz.to_utc(as_if_utc("2012-02-14 09:30:00")).unwrap();
    assert_eq!(
        (utc.to_iso8601().as_str(), offset),
        ("2012-02-14T04:00:00Z", 19800)
    );
    let tz = SourceZone::parse("-08").unwrap();
    let (utc, _) = tz.to_utc(as_if_utc("2012-02-14 09:30:00")).unwrap();
    assert_eq!(utc.to_iso8601(), "2012-02-14T17:30:00Z");
    for bad in ["+15:00", "+01:60", "+1:2:3", "-", "+ab"] {
        assert!(
            matches!(SourceZone::parse(bad), Err(ZoneError::BadOffset(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        SourceZone::parse("Mars/Olympus"),
        Err(ZoneError::Unknown(_))
    ));
}

#[test]
fn precision_is_kept() {
    let tz = SourceZone::parse("Europe/Berlin").unwrap();
    let t =
        Timestamp::from_unix(1_329_211_800, 123_000_000, crate::time::Precision::Millis).unwrap();
    let (utc, _) = tz.to_utc(t).unwrap();
    assert_eq!(utc.to_iso8601(), "2012-02-14T08:30:00.123Z");
}

#[test]
fn systemtime_rules() {
    let mut bytes = [0u8; 16];
    for (i, w) in [0u16, 3, 0, 5, 2, 0, 0, 0].iter().enumerate() {
        bytes[i * 2..i * 2 + 2].copy_from_slice(&w.to_le_bytes());
    }
    let r = TransitionRule::from_systemtime(&bytes).unwrap();
    assert_eq!(r, rule(3, 0, 5, 2));
    assert_eq!(r.describe(), "last Sun of Mar 02:00");
    // The last Sunday of March 2021 is the 28th; of 2020 the 29th.
    assert_eq!(r.in_year(2021).unwrap().to_string(), "2021-03-28 02:00:00");
    assert_eq!(r.in_year(2020).unwrap().to_string(), "2020-03-29 02:00:00");
    assert_eq!(
        rule(11, 0, 1, 2).in_year(2019).unwrap().to_string(),
        "2019-11-03 02:00:00"
    );
    assert!(TransitionRule::from_systemtime(&bytes[..15]).is_none());
    assert!(rule(13, 0, 1, 2).problem().is_some());
    assert!(rule(3, 7, 1, 2).problem().is_some());
    assert!(rule(3, 0, 6, 2).problem().is_some());
    let bad = WindowsZone {
        bias: 100_000,
        ..windows_of("Europe/Berlin").unwrap()
    };
    let (name, why) = bad.problem().unwrap();
    assert_eq!(name, "Bias");
    assert!(why.contains("100000"), "{why}");
}

/// US Pacific as Windows keeps it: the 2007 rules (second Sunday of March to the first
/// Sunday of November) as the recurring ones, 2006 (first Sunday of April to the last
/// Sunday of October) as Dynamic DST.
#[test]
fn per_year_rules_replace_the_recurring_ones_for_their_years() {
    let tzi = |ds: TransitionRule, dd: TransitionRule| {
        let mut b = Vec::new();
        for v in [480i32, 0, -60] {
            b.extend(v.to_le_bytes());
        }
        for r in [ds, dd] {
            for w in [
                r.year,
                r.month,
                r.day_of_week,
                r.day,
                r.hour,
                r.minute,
                r.second,
                r.millis,
            ] {
                b.extend(w.to_le_bytes());
            }
        }
        b
    };
    let y2006 = WindowsZone::from_tzi(
        "Pacific Standard Time",
        &tzi(rule(10, 0, 5, 2), rule(4, 0, 1, 2)),
    )
    .unwrap();
    let y2007 = WindowsZone::from_tzi(
        "Pacific Standard Time",
        &tzi(rule(11, 0, 1, 2), rule(3, 0, 2, 2)),
    )
    .unwrap();
    assert!(WindowsZone::from_tzi("x", &[0; 43]).is_none());
    let mut zone = y2007.clone();
    let local = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    };
    // 2006-03-20: daylight time by the 2007 rules, standard time by 2006's own.
    assert_eq!(zone.bias_at(local(2006, 3, 20)), 420);
    zone.dynamic = Some(DynamicDst {
        first: 2006,
        last: 2007,
        years: [(2006, y2006), (2007, y2007)].into_iter().collect(),
    });
    assert_eq!(zone.bias_at(local(2006, 3, 20)), 480);
    // Before the first year: the first year's rules (2005-03-20 standard, 2005-04-10 daylight).
    assert_eq!(zone.bias_at(local(2005, 3, 20)), 480);
    assert_eq!(zone.bias_at(local(2005, 4, 10)), 420);
    // After the last: the last year's.
    assert_eq!(zone.bias_at(local(2012, 3, 20)), 420);
    assert_eq!(zone.bias_at(local(2012, 11, 20)), 480);
    assert!(zone.describe_rules().contains("Dynamic DST) for 2006-2007"));
    // Against the tz database (jiff's America/Los_Angeles), every day at noon 2000-2020.
    let tz = jiff::tz::TimeZone::get("America/Los_Angeles").unwrap();
    let mut day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    while day.year() <= 2020 {
        let noon = day.and_hms_opt(12, 0, 0).unwrap();
        let civil = jiff::civil::date(day.year() as i16, day.month() as i8, day.day() as i8)
            .at(12, 0, 0, 0);
        let offset = tz.to_ambiguous_zoned(civil).compatible().unwrap().offset();
        assert_eq!(-zone.bias_at(noon) * 60, offset.seconds(), "{noon}");
        day = day.succ_opt().unwrap();
    }
}
