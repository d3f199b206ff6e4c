//! Local times (texts without a zone, ZIP DOS times) placed in UTC by the evidence's own
//! zone (its SYSTEM hive's TimeZoneInformation) or by `--source-tz`.

mod common;

use common::hive_writer::{Key, hive, system_hive, systemtime, w_europe};
use common::mounted_tree::VISTA_USER;
use common::{Row, build_fixture, parse_csv, run, stderr};
use std::path::{Path, PathBuf};

fn log_path() -> String {
    format!("Users\\{VISTA_USER}\\AppData\\Local\\Akamai\\logs\\netsession.log")
}

/// The log's `content.log_entry` rows in line order: (datetime, message, value).
fn log_entries(rows: &[Row]) -> Vec<(String, String, String)> {
    let mut entries: Vec<(usize, (String, String, String))> = rows
        .iter()
        .filter(|r| r["path"] == log_path() && r["artifact"] == "content.log_entry")
        .map(|r| {
            let line = r["locator"].trim_start_matches("line=").parse().unwrap();
            let row = (
                r["datetime"].clone(),
                r["message"].clone(),
                r["value"].clone(),
            );
            (line, row)
        })
        .collect();
    entries.sort_by_key(|(line, _)| *line);
    entries.into_iter().map(|(_, row)| row).collect()
}

/// The mounted fixture, its SYSTEM hive replaced by one holding `zone` (none: the
/// fixture's own, which has no TimeZoneInformation).
fn tree(zone: Option<Key>) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    if let Some(zone) = zone {
        std::fs::write(
            root.join("C/Windows/System32/config/SYSTEM"),
            system_hive(zone),
        )
        .unwrap();
    }
    (tmp, root)
}

fn scan(path: &Path, extra: &[&str]) -> (Vec<Row>, String) {
    let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(|s| s.as_ref()).collect();
    args.push(path.as_os_str());
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (parse_csv(&out.stdout), stderr(&out))
}

#[test]
fn the_volumes_system_hive_places_its_zoneless_log_lines_in_utc() {
    let (_tmp, root) = tree(Some(w_europe()));
    // An older copy in RegBack with another zone: the live hive's zone is the one used.
    let pacific = Key::new("TimeZoneInformation")
        .dword("Bias", 480)
        .dword("DaylightBias", (-60i32) as u32)
        .binary("DaylightStart", &systemtime(3, 0, 2, 2))
        .binary("StandardStart", &systemtime(11, 0, 1, 2))
        .sz("TimeZoneKeyName", "Pacific Standard Time");
    let regback = root.join("C/Windows/System32/config/RegBack");
    std::fs::create_dir_all(&regback).unwrap();
    std::fs::write(regback.join("SYSTEM"), system_hive(pacific)).unwrap();
    let (rows, err) = scan(&root, &[]);
    // The fixture's six hives and the RegBack copy.
    assert_eq!(common::hives_analysed(&err), 7, "{err}");
    let entries = log_entries(&rows);
    let times: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    // February: W. Europe is on standard time, UTC+01:00. Line 5 states its zone (`Z`)
    // and stays as it is.
    assert_eq!(
        times,
        [
            "2012-02-14T08:30:05.123Z",
            "2012-02-14T08:30:06.456Z",
            "2012-02-14T08:31:15.000Z",
            "2012-02-14T09:45:00Z",
            "2012-02-14T09:02:30.000Z"
        ],
        "{err}"
    );
    let (_, message, value) = &entries[0];
    assert!(value.starts_with("2012-02-14 09:30:05.123 "), "{value}");
    assert!(
        message.contains(
            "local time of the evidence, zone W. Europe Standard Time applied (UTC+01:00 at that time), from SYSTEM\\ControlSet001\\Control\\TimeZoneInformation in Windows\\System32\\config\\SYSTEM (Bias -60, daylight time (DaylightBias -60) from the last Sun of Mar 02:00 to the last Sun of Oct 03:00)"
        ),
        "{message}"
    );
    assert!(!entries[3].1.contains("zone"), "{}", entries[3].1);
}

#[test]
fn source_tz_places_the_lines_of_a_tree_without_a_zone_and_the_hive_wins_over_it() {
    let (_tmp, root) = tree(None);
    let (rows, _) = scan(&root, &["--source-tz", "America/Los_Angeles"]);
    let entries = log_entries(&rows);
    assert_eq!(entries[0].0, "2012-02-14T17:30:05.123Z");
    assert!(
        entries[0].1.contains(
            "zone America/Los_Angeles applied (UTC-08:00 at that time), from --source-tz"
        ),
        "{}",
        entries[0].1
    );
    // A fixed offset.
    let (rows, _) = scan(&root, &["--source-tz", "+05:30"]);
    assert_eq!(log_entries(&rows)[0].0, "2012-02-14T04:00:05.123Z");
    // Without either: as before, shown as if UTC.
    let (rows, _) = scan(&root, &[]);
    let entries = log_entries(&rows);
    assert_eq!(entries[0].0, "2012-02-14T09:30:05.123Z");
    assert!(
        entries[0]
            .1
            .contains("no time zone in the text; shown as if UTC")
    );

    let (_tmp, root) = tree(Some(w_europe()));
    let (rows, _) = scan(&root, &["--source-tz", "America/Los_Angeles"]);
    let entries = log_entries(&rows);
    assert_eq!(entries[0].0, "2012-02-14T08:30:05.123Z");
    assert!(
        entries[0].1.contains(
            "not --source-tz America/Los_Angeles: the volume's own SYSTEM hive states its zone"
        ),
        "{}",
        entries[0].1
    );
}

#[test]
fn a_bad_zone_value_is_a_warning_naming_hive_and_value_and_times_stay_as_if_utc() {
    let zone = Key::new("TimeZoneInformation")
        .dword("Bias", (-60i32) as u32)
        .binary("DaylightStart", &systemtime(13, 0, 5, 2))
        .binary("StandardStart", &systemtime(10, 0, 5, 3))
        .sz("TimeZoneKeyName", "W. Europe Standard Time");
    let (_tmp, root) = tree(Some(zone));
    let (rows, err) = scan(&root, &[]);
    assert!(
        err.contains("Windows\\System32\\config\\SYSTEM: SYSTEM\\ControlSet001\\Control\\TimeZoneInformation\\DaylightStart")
            && err.contains("not a valid transition rule"),
        "{err}"
    );
    let entries = log_entries(&rows);
    assert_eq!(entries[0].0, "2012-02-14T09:30:05.123Z");
    assert!(entries[0].1.contains("shown as if UTC"));

    // A Bias that is not a DWORD.
    let zone = Key::new("TimeZoneInformation").sz("Bias", "-60");
    let (_tmp, root) = tree(Some(zone));
    let (_, err) = scan(&root, &[]);
    assert!(
        err.contains("TimeZoneInformation\\Bias") && err.contains("not a REG_DWORD"),
        "{err}"
    );
}

#[test]
fn zip_dos_times_are_placed_by_source_tz() {
    let zip = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/kape-zip64.zip");
    let (rows, _) = scan(&zip, &["--source-tz", "Europe/Berlin"]);
    let exe = rows
        .iter()
        .find(|r| r["path"].ends_with("Akamai\\netsession_win.exe"))
        .unwrap();
    // 2024-05-01 12:00:00 in Berlin is summer time, UTC+02:00.
    assert_eq!(exe["datetime"], "2024-05-01T10:00:00Z");
    assert_eq!(
        exe["timestamp_desc"],
        "Modified (archive entry, DOS local time, zone Europe/Berlin)"
    );
    assert!(
        exe["message"].contains(
            "its DOS time is local: zone Europe/Berlin applied (UTC+02:00 at that time), from --source-tz"
        ),
        "{}",
        exe["message"]
    );
}

#[test]
fn an_unknown_source_tz_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["Mars/Olympus", "+25:00"] {
        let out = run(&["--source-tz".as_ref(), bad.as_ref(), tmp.path().as_os_str()]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains(bad), "{}", stderr(&out));
    }
}

/// A `REG_TZI_FORMAT`: Bias, StandardBias, DaylightBias, StandardDate, DaylightDate.
fn tzi(bias: i32, standard: [u8; 16], daylight: [u8; 16]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [bias, 0, -60] {
        out.extend(v.to_le_bytes());
    }
    out.extend(standard);
    out.extend(daylight);
    out
}

fn pacific() -> Key {
    pacific_with(0)
}

fn pacific_with(dynamic_daylight_time_disabled: u32) -> Key {
    // The recurring rules since 2007: second Sunday of March to first Sunday of November.
    Key::new("TimeZoneInformation")
        .dword("Bias", 480)
        .dword("DaylightBias", (-60i32) as u32)
        .binary("DaylightStart", &systemtime(3, 0, 2, 2))
        .binary("StandardStart", &systemtime(11, 0, 1, 2))
        .dword(
            "DynamicDaylightTimeDisabled",
            dynamic_daylight_time_disabled,
        )
        .sz("TimeZoneKeyName", "Pacific Standard Time")
}

/// A SOFTWARE hive whose `Time Zones\Pacific Standard Time\Dynamic DST` holds `years`.
fn software_with_dynamic_dst(years: Key) -> Vec<u8> {
    let root = Key::new("CMI-CreateHive{199DAFC2-6F16-4946-BF90-5A3FC3A60902}").sub(
        Key::new("Microsoft").sub(
            Key::new("Windows NT").sub(
                Key::new("CurrentVersion")
                    .sub(Key::new("Time Zones").sub(Key::new("Pacific Standard Time").sub(years))),
            ),
        ),
    );
    hive(&root, "\\SystemRoot\\System32\\Config\\SOFTWARE")
}

/// Lines of 2006, when US daylight time still began on the first Sunday of April: by the
/// zone's recurring (2007) rules 2006-03-20 would be on daylight time, by its 2006 rules
/// (Dynamic DST in SOFTWARE) it is not.
#[test]
fn the_years_own_rules_from_dynamic_dst_place_old_times() {
    let (_tmp, root) = tree(Some(pacific()));
    let log = root.join("C").join(log_path().replace('\\', "/"));
    std::fs::write(
        &log,
        "2006-03-20 12:00:00.000 [INFO] NetSession Interface starting\n\
         2006-04-10 12:00:00.000 [INFO] NetSession Interface starting\n",
    )
    .unwrap();
    // Without per-year rules: 2006-03-20 placed on daylight time (UTC-07:00).
    let (rows, _) = scan(&root, &[]);
    let times: Vec<String> = log_entries(&rows).into_iter().map(|e| e.0).collect();
    assert_eq!(
        times,
        ["2006-03-20T19:00:00.000Z", "2006-04-10T19:00:00.000Z"]
    );

    let years = Key::new("Dynamic DST")
        .dword("FirstEntry", 2006)
        .dword("LastEntry", 2007)
        .binary(
            "2006",
            &tzi(480, systemtime(10, 0, 5, 2), systemtime(4, 0, 1, 2)),
        )
        .binary(
            "2007",
            &tzi(480, systemtime(11, 0, 1, 2), systemtime(3, 0, 2, 2)),
        );
    let software = root.join("C/Windows/System32/config/SOFTWARE");
    std::fs::write(&software, software_with_dynamic_dst(years)).unwrap();
    let (rows, _) = scan(&root, &[]);
    let entries = log_entries(&rows);
    let times: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        times,
        ["2006-03-20T20:00:00.000Z", "2006-04-10T19:00:00.000Z"]
    );
    assert!(
        entries[0].1.contains(
            "per-year rules from SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Time Zones\\Pacific Standard Time\\Dynamic DST in Windows\\System32\\config\\SOFTWARE"
        ) && entries[0].1.contains("Dynamic DST) for 2006-2007"),
        "{}",
        entries[0].1
    );

    // A damaged year: a warning naming it, and the recurring rules for every year.
    let years = Key::new("Dynamic DST")
        .dword("FirstEntry", 2006)
        .dword("LastEntry", 2007)
        .binary("2006", &[0u8; 40])
        .binary(
            "2007",
            &tzi(480, systemtime(11, 0, 1, 2), systemtime(3, 0, 2, 2)),
        );
    std::fs::write(&software, software_with_dynamic_dst(years)).unwrap();
    let (rows, err) = scan(&root, &[]);
    assert!(
        err.contains("Dynamic DST\\2006") && err.contains("not a 44-byte REG_TZI_FORMAT"),
        "{err}"
    );
    assert_eq!(log_entries(&rows)[0].0, "2006-03-20T19:00:00.000Z");

    // DynamicDaylightTimeDisabled = 1: the per-year rules are not used.
    let years = Key::new("Dynamic DST")
        .dword("FirstEntry", 2006)
        .dword("LastEntry", 2007)
        .binary(
            "2006",
            &tzi(480, systemtime(10, 0, 5, 2), systemtime(4, 0, 1, 2)),
        )
        .binary(
            "2007",
            &tzi(480, systemtime(11, 0, 1, 2), systemtime(3, 0, 2, 2)),
        );
    std::fs::write(&software, software_with_dynamic_dst(years)).unwrap();
    std::fs::write(
        root.join("C/Windows/System32/config/SYSTEM"),
        system_hive(pacific_with(1)),
    )
    .unwrap();
    let (rows, _) = scan(&root, &[]);
    assert_eq!(log_entries(&rows)[0].0, "2006-03-20T19:00:00.000Z");
}
