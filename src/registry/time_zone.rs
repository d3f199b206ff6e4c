//! The zone of a system, from its SYSTEM hive:
//! `SYSTEM\<current control set>\Control\TimeZoneInformation` (`TimeZoneKeyName`,
//! `Bias`, `StandardBias`, `DaylightBias`, `StandardStart`, `DaylightStart`). Read before
//! the files of the same volume, so that their local times can be placed in UTC.
//!
//! The per-year rules Windows keeps under `SOFTWARE\Microsoft\Windows NT\CurrentVersion\
//! Time Zones\<key>\Dynamic DST` are not read: the recurring rules of
//! `TimeZoneInformation` are applied to every year.

use super::hive::{HiveInput, OpenedHive, RegValue, value_named};
use super::kind::{self, HiveKind};
use super::{file_name, where_in, with_root};
use crate::time::zone::{SourceZone, TransitionRule, WindowsZone};
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
            Ok(zone) => {
                let from = format!("SYSTEM\\{key_path} in {}", input.evidence_path);
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
    };
    match zone.problem() {
        Some((name, why)) => Err((name.into(), why)),
        None => Ok(zone),
    }
}
