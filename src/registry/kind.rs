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

/// Decide from the root's subkeys, then from the name the base block records (the tail
/// of the path Windows loaded the hive from: `emRoot\System32\Config\SOFTWARE`,
/// `C:\Users\zoe\ntuser.dat`), then from the file name.
pub fn detect(
    root: &RegKey<'_>,
    base_block_name: &str,
    file_name: &str,
    problems: &mut Vec<Problem>,
) -> HiveKind {
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
    by_names(base_block_name, file_name)
}

/// The kind the base block's recorded name says (its last component), else the file's.
fn by_names(base_block_name: &str, file_name: &str) -> HiveKind {
    let recorded = base_block_name
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(base_block_name);
    by_name(recorded)
        .or_else(|| by_name(file_name))
        .unwrap_or(HiveKind::Other)
}

/// The kind a hive's name says (`SYSTEM.hiv`, `zoe_NTUSER.DAT`, `reg_SOFTWARE`).
fn by_name(name: &str) -> Option<HiveKind> {
    let lower = name.to_ascii_lowercase();
    let names = [
        ("amcache", HiveKind::Amcache),
        ("usrclass", HiveKind::UsrClass),
        ("ntuser", HiveKind::NtUser),
        ("software", HiveKind::Software),
        ("system", HiveKind::System),
    ];
    names
        .into_iter()
        .find(|(needle, _)| lower.contains(needle))
        .map(|(_, kind)| kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_name_before_the_file_name() {
        assert_eq!(
            by_names("??\\C:\\Users\\zoe\\ntuser.dat", "1.bin"),
            HiveKind::NtUser
        );
        assert_eq!(
            by_names("emRoot\\System32\\Config\\SOFTWARE", "system.bak"),
            HiveKind::Software
        );
        // A folder named like a hive in the recorded path says nothing.
        assert_eq!(
            by_names("\\Windows\\System32\\config\\SAM", "1.bin"),
            HiveKind::Other
        );
        assert_eq!(by_names("", "zoe_NTUSER.DAT"), HiveKind::NtUser);
        assert_eq!(by_names("", "SYSTEM.hiv"), HiveKind::System);
        assert_eq!(by_names("", "1.bin"), HiveKind::Other);
    }
}
