//! Amcache (`Windows\AppCompat\Programs\Amcache.hve`): files Windows inventoried, with
//! their SHA-1. Windows 10: `Root\InventoryApplicationFile\<name>|<hash>` with named
//! values; Windows 8/early 10: `Root\File\<volume GUID>\<file id>` with numbered values
//! (15 = path, 101 = SHA-1, 17 = last modified, 12 = created, 0 = product, 1 = company).

use super::super::hive::{RegKey, text_named, value_named};
use super::super::{Fact, HiveScan, Rule};
use crate::bytes::u64_le;
use crate::time::Timestamp;

/// Amcache writes SHA-1s with four leading zeros.
fn sha1_of(file_id: &str) -> String {
    let trimmed = file_id.trim();
    if trimmed.len() == 44 && trimmed.starts_with("0000") {
        trimmed[4..].to_string()
    } else {
        trimmed.to_string()
    }
}

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    let values = key.values(&mut scan.problems);
    let text = |name: &str| text_named(&values, name);
    let new_format = key.path.to_lowercase().contains("inventoryapplicationfile");
    let (path, sha1, fields) = if new_format {
        let path = text("LowerCaseLongPath").or_else(|| text("Name"));
        let sha1 = text("FileId").map(|f| sha1_of(&f));
        let mut fields = Vec::new();
        for name in [
            "Name",
            "Publisher",
            "Version",
            "ProductName",
            "LinkDate",
            "Size",
            "ProgramId",
        ] {
            if let Some(v) = text(name) {
                fields.push(format!("{name}={v}"));
            }
        }
        (path, sha1, fields)
    } else {
        let path = text("15");
        let sha1 = text("101").map(|f| sha1_of(&f));
        let mut fields = Vec::new();
        for (name, label) in [("0", "ProductName"), ("1", "Company"), ("6", "FileSize")] {
            if let Some(v) = text(name) {
                fields.push(format!("{label}={v}"));
            }
        }
        (path, sha1, fields)
    };
    let names_it = path.as_deref().is_some_and(|p| scan.names_netsession(p))
        || scan.names_netsession(&key.name)
        || fields.iter().any(|f| scan.names_netsession(f));
    if !names_it {
        return;
    }
    let path = path.unwrap_or_else(|| key.name.clone());
    let mut shown = format!("Path={path}");
    if let Some(s) = &sha1 {
        shown.push_str(&format!("; SHA-1={s}"));
    }
    for f in &fields {
        shown.push_str(&format!("; {f}"));
    }
    let user = scan.context.user_in_path(&path);
    let sha_note = sha1
        .as_deref()
        .map(|s| format!(", SHA-1 {s}"))
        .unwrap_or_default();
    let message = format!(
        "Amcache inventoried {path}{sha_note} (key last written at this time: the program was present or ran)"
    );
    scan.report_key_written(&rule.info, key, None, message, shown.clone(), user.clone());

    if !new_format {
        for (name, desc) in [("17", "Modified (Amcache)"), ("12", "Created (Amcache)")] {
            let Some(value) = value_named(&values, name) else {
                continue;
            };
            let filetime = value.qword().or_else(|| u64_le(&value.data, 0));
            if let Some(time) = filetime.and_then(Timestamp::from_filetime) {
                let message = format!("Amcache: {path} file time as recorded ({desc})");
                scan.report(
                    &rule.info,
                    key,
                    Fact {
                        value: Some(value),
                        time: Some(time),
                        desc,
                        message,
                        shown: shown.clone(),
                        user: user.clone(),
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha1_drops_amcache_padding() {
        assert_eq!(
            super::sha1_of("00009f2b2c3d4e5f60718293a4b5c6d7e8f901234567"),
            "9f2b2c3d4e5f60718293a4b5c6d7e8f901234567"
        );
        assert_eq!(super::sha1_of("abc"), "abc");
    }
}
