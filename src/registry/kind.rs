//! Which hive a file is, decided from its content (the keys under its root), with the
//! file name only as a tie-breaker: collectors rename hives (`SYSTEM.hiv`,
//! `transactions_NTUSER.DAT`, `reg_SOFTWARE`), but the keys do not lie.

use super::hive::{Problem, RegKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HiveKind {
    System,
    Software,
    NtUser,
    UsrClass,
    Amcache,
    /// A hive of another kind (SAM, SECURITY, BCD, ...): nothing we look for lives there.
    Other,
}

impl HiveKind {
    /// The name used in catalog rules and as the first component of registry paths.
    pub fn name(self) -> &'static str {
        match self {
            HiveKind::System => "SYSTEM",
            HiveKind::Software => "SOFTWARE",
            HiveKind::NtUser => "NTUSER",
            HiveKind::UsrClass => "UsrClass",
            HiveKind::Amcache => "Amcache",
            HiveKind::Other => "other",
        }
    }

    pub fn from_rule_name(name: &str) -> Option<HiveKind> {
        [
            HiveKind::System,
            HiveKind::Software,
            HiveKind::NtUser,
            HiveKind::UsrClass,
            HiveKind::Amcache,
        ]
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(name))
    }
}

/// Decide from the root's subkeys, then from the file name.
pub fn detect(root: &RegKey<'_>, file_name: &str, problems: &mut Vec<Problem>) -> HiveKind {
    let children: Vec<String> = root
        .subkeys(problems)
        .iter()
        .map(|k| k.name.to_ascii_lowercase())
        .collect();
    let has = |name: &str| children.iter().any(|c| c == name);
    let has_prefix = |prefix: &str| children.iter().any(|c| c.starts_with(prefix));
    if has("select") && has_prefix("controlset") {
        return HiveKind::System;
    }
    if has("root")
        && root
            .subkey("Root", problems)
            .map(|r| {
                let subs: Vec<String> = r
                    .subkeys(problems)
                    .iter()
                    .map(|k| k.name.to_ascii_lowercase())
                    .collect();
                subs.iter().any(|s| {
                    matches!(
                        s.as_str(),
                        "inventoryapplicationfile" | "file" | "programs" | "inventoryapplication"
                    )
                })
            })
            .unwrap_or(false)
    {
        return HiveKind::Amcache;
    }
    if has("software")
        && (has("control panel")
            || has("environment")
            || has("appevents")
            || has("console")
            || children.len() <= 3)
    {
        return HiveKind::NtUser;
    }
    if has("local settings") || has("clsid") || has("*") {
        return HiveKind::UsrClass;
    }
    if has("microsoft") && !has("software") && !has("sam") && !has("policy") {
        return HiveKind::Software;
    }
    let lower = file_name.to_ascii_lowercase();
    let by_name = [
        ("amcache", HiveKind::Amcache),
        ("usrclass", HiveKind::UsrClass),
        ("ntuser", HiveKind::NtUser),
        ("software", HiveKind::Software),
        ("system", HiveKind::System),
    ];
    by_name
        .into_iter()
        .find(|(needle, _)| lower.contains(needle))
        .map(|(_, kind)| kind)
        .unwrap_or(HiveKind::Other)
}
