//! The zone of a system, from its SYSTEM hive:
//! `SYSTEM\<current control set>\Control\TimeZoneInformation` (`TimeZoneKeyName`,
//! `Bias`, `StandardBias`, `DaylightBias`, `StandardStart`, `DaylightStart`). Read before
//! the files of the same volume, so that their local times can be placed in UTC.
//!
//! The per-year rules Windows keeps under `SOFTWARE\Microsoft\Windows NT\CurrentVersion\
//! Time Zones\<TimeZoneKeyName>\Dynamic DST` (`FirstEntry`, `LastEntry`, one
//! `REG_TZI_FORMAT` per year) are read from the SOFTWARE hive of the same volume when it
//! is there and `DynamicDaylightTimeDisabled` is not 1: a time of 2006 in a US zone is
//! then placed by the 2006 rules, not those of 2007. Without them the recurring rules of
//! `TimeZoneInformation` apply to every year (the message says which).

use super::hive::{HiveInput, OpenedHive, RegValue, value_named};
use super::kind::{self, HiveKind};
use super::{file_name, where_in, with_root};
use crate::time::zone::{DynamicDst, SourceZone, TransitionRule, WindowsZone};
use crate::warning::Warnings;

const KEY: &str = "Control\\TimeZoneInformation";

/// The zone stated by the SYSTEM hive among `inputs`: only files named `SYSTEM` are
/// opened (the catalog names SYSTEM hives so), a `RegBack` copy only when the live hive
/// states none. A value that cannot be a zone's is a warning naming the hive and the
/// value, and no zone is taken from that hive. A SYSTEM hive without the key gives none,
/// silently. Damage to the hive is left for the analysis to report, once.
pub fn zone_of(inputs: &[HiveInput], warnings: &Warnings) -> Option<SourceZone> {
    let quiet = Warnings::new();
    let mut systems: Vec<&HiveInput> = inputs
        .iter()
        .filter(|i| file_name(&i.evidence_path).eq_ignore_ascii_case("SYSTEM"))
        .collect();
    systems.sort_by_key(|i| i.evidence_path.to_ascii_lowercase().contains("regback"));
    for input in systems {
        let Ok(hive) = OpenedHive::open(input) else {
            continue;
        };
        let read = with_root(input, &hive, &quiet, |root, problems| {
            let kind = kind::detect(
                root,
                &hive.base.file_name,
                file_name(&input.evidence_path),
                problems,
            );
            if kind != HiveKind::System {
                return None;
            }
            let current = root
                .path_to("Select", problems)
                .and_then(|select| select.value("Current", problems))
                .and_then(|v| v.dword())
                .filter(|n| (1..=999).contains(n))
                .unwrap_or(1);
            let control_set = format!("ControlSet{current:03}");
            let key_path = format!("{control_set}\\{KEY}");
            let key = root.path_to(&key_path, problems)?;
            Some((key_path, key.values(problems)))
        });
        let Some(Some((key_path, values))) = read else {
            continue;
        };
        match windows_zone(&values) {
            Ok(mut zone) => {
                let mut from = format!("SYSTEM\\{key_path} in {}", input.evidence_path);
                let disabled = value_named(&values, "DynamicDaylightTimeDisabled")
                    .and_then(RegValue::dword)
                    == Some(1);
                let named = value_named(&values, "TimeZoneKeyName").is_some();
                if named
                    && !disabled
                    && let Some((dynamic, at)) = dynamic_dst(inputs, &zone.key_name, warnings)
                {
                    zone.dynamic = Some(dynamic);
                    from.push_str(&format!(", per-year rules from {at}"));
                }
                return Some(SourceZone::windows(zone, from));
            }
            Err((value, why)) => warnings.push(
                &input.source,
                where_in(input, &format!("SYSTEM\\{key_path}\\{value}")),
                format!("{why}: not a usable time zone; local times of this system are not converted with it"),
            ),
        }
    }
    None
}

/// The zone the values state, or the value that is wrong and why.
fn windows_zone(values: &[RegValue]) -> Result<WindowsZone, (String, String)> {
    let bias = |name: &str, needed: bool| -> Result<i32, (String, String)> {
        match value_named(values, name) {
            None if !needed => Ok(0),
            None => Err((name.into(), "missing".into())),
            // A DWORD holding a signed number of minutes.
            Some(v) => v
                .dword()
                .map(|d| d as i32)
                .ok_or_else(|| (name.into(), format!("not a REG_DWORD ({})", v.display()))),
        }
    };
    let rule = |name: &str| -> Result<TransitionRule, (String, String)> {
        match value_named(values, name) {
            None => Ok(TransitionRule::default()),
            Some(v) => TransitionRule::from_systemtime(&v.data).ok_or_else(|| {
                (
                    name.into(),
                    format!("not a 16-byte SYSTEMTIME ({})", v.display()),
                )
            }),
        }
    };
    let key_name = value_named(values, "TimeZoneKeyName")
        .or_else(|| value_named(values, "StandardName"))
        .and_then(RegValue::text)
        .unwrap_or_default();
    let zone = WindowsZone {
        key_name,
        bias: bias("Bias", true)?,
        standard_bias: bias("StandardBias", false)?,
        daylight_bias: bias("DaylightBias", false)?,
        standard_start: rule("StandardStart")?,
        daylight_start: rule("DaylightStart")?,
        dynamic: None,
    };
    match zone.problem() {
        Some((name, why)) => Err((name.into(), why)),
        None => Ok(zone),
    }
}

const ZONES: &str = "Microsoft\\Windows NT\\CurrentVersion\\Time Zones";

/// The per-year rules of zone `key_name` from a SOFTWARE hive among `inputs`, and where
/// they were read. A year whose value is not a zone's is a warning naming it, and no
/// per-year rules are taken from that hive (a partial set would shift some years).
fn dynamic_dst(
    inputs: &[HiveInput],
    key_name: &str,
    warnings: &Warnings,
) -> Option<(DynamicDst, String)> {
    let quiet = Warnings::new();
    let mut softwares: Vec<&HiveInput> = inputs
        .iter()
        .filter(|i| file_name(&i.evidence_path).eq_ignore_ascii_case("SOFTWARE"))
        .collect();
    softwares.sort_by_key(|i| i.evidence_path.to_ascii_lowercase().contains("regback"));
    for input in softwares {
        let Ok(hive) = OpenedHive::open(input) else {
            continue;
        };
        let key_path = format!("{ZONES}\\{key_name}\\Dynamic DST");
        let values = with_root(input, &hive, &quiet, |root, problems| {
            root.path_to(&key_path, problems)
                .map(|k| k.values(problems))
        })
        .flatten();
        let Some(values) = values else {
            continue;
        };
        let at = format!("SOFTWARE\\{key_path} in {}", input.evidence_path);
        match per_year(&values, key_name) {
            Ok(dynamic) => return Some((dynamic, at)),
            Err((value, why)) => warnings.push(
                &input.source,
                where_in(input, &format!("SOFTWARE\\{key_path}\\{value}")),
                format!("{why}: the per-year rules of this zone are not used; its recurring rules apply to every year"),
            ),
        }
    }
    None
}

/// Years are written as far as 9999 by no one; Windows ships 2000s to 2030s.
const YEARS: std::ops::RangeInclusive<u32> = 1601..=9999;

fn per_year(values: &[RegValue], key_name: &str) -> Result<DynamicDst, (String, String)> {
    let year = |name: &str| -> Result<i32, (String, String)> {
        value_named(values, name)
            .and_then(RegValue::dword)
            .filter(|y| YEARS.contains(y))
            .map(|y| y as i32)
            .ok_or_else(|| (name.into(), "missing or not a year".into()))
    };
    let (first, last) = (year("FirstEntry")?, year("LastEntry")?);
    if first > last {
        return Err((
            "LastEntry".into(),
            format!("{last} is before FirstEntry {first}"),
        ));
    }
    let mut years = std::collections::BTreeMap::new();
    for value in values {
        let Ok(y) = value.name.parse::<i32>() else {
            continue;
        };
        if !(first..=last).contains(&y) {
            continue;
        }
        let zone = WindowsZone::from_tzi(key_name, &value.data).ok_or_else(|| {
            (
                value.name.clone(),
                format!("not a 44-byte REG_TZI_FORMAT ({})", value.display()),
            )
        })?;
        if let Some((field, why)) = zone.problem() {
            return Err((value.name.clone(), format!("{field}: {why}")));
        }
        years.insert(y, zone);
    }
    if years.is_empty() {
        return Err((
            first.to_string(),
            "no year between FirstEntry and LastEntry".into(),
        ));
    }
    Ok(DynamicDst { first, last, years })
}
