//! Uninstall entries (`...\CurrentVersion\Uninstall\<subkey>`), per user (NTUSER) or
//! machine-wide (SOFTWARE, WOW6432Node): what Programs and Features listed.

use super::super::hive::{RegKey, text_named};
use super::super::{HiveScan, Rule};

const FIELDS: [&str; 7] = [
    "DisplayName",
    "DisplayVersion",
    "Publisher",
    "InstallDate",
    "InstallLocation",
    "UninstallString",
    "DisplayIcon",
];

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    let values = key.values(&mut scan.problems);
    let present: Vec<(&str, String)> = FIELDS
        .iter()
        .filter_map(|&f| text_named(&values, f).map(|v| (f, v)))
        .collect();
    let names_it =
        scan.names_netsession(&key.name) || present.iter().any(|(_, v)| scan.names_netsession(v));
    if !names_it {
        return;
    }
    let get = |name: &str| {
        present
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, v)| v.as_str())
    };
    let mut message = format!(
        "Uninstall entry \"{}\"",
        get("DisplayName").unwrap_or(&key.name)
    );
    if let Some(v) = get("DisplayVersion") {
        message.push_str(&format!(" version {v}"));
    }
    if let Some(p) = get("Publisher") {
        message.push_str(&format!(" by {p}"));
    }
    if let Some(d) = get("InstallDate") {
        message.push_str(&format!(", InstallDate {d}"));
    }
    message.push_str(": registered as installed software (key last written at this time)");
    let shown = present
        .iter()
        .map(|(f, v)| format!("{f}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let user = scan.user.clone().or_else(|| {
        get("InstallLocation")
            .or(get("UninstallString"))
            .and_then(|p| scan.context.user_in_path(p))
    });
    scan.report_key_written(&rule.info, key, None, message, shown, user);
}
