//! AppCompatCache (ShimCache) in SYSTEM: each entry names a file Windows checked for
//! compatibility shims, with the file's last-modified time as it was then. The time is
//! the file's, not an execution time; on Windows 8+ an entry says the file existed, not
//! that it ran.

use super::super::hive::RegKey;
use super::super::{HiveScan, Rule, own_time_or_key_written};
use super::appcompatcache;
use crate::time::Timestamp;

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    let Some(value) = key.value("AppCompatCache", &mut scan.problems) else {
        return;
    };
    let parsed = match appcompatcache::parse(&value.data) {
        Ok(parsed) => parsed,
        Err(err) => {
            scan.problems.push((
                format!("{} value AppCompatCache", key.location()),
                err.to_string(),
            ));
            return;
        }
    };
    for problem in &parsed.problems {
        scan.problems.push((
            format!("{} value AppCompatCache", key.location()),
            problem.clone(),
        ));
    }
    let ours: Vec<_> = parsed
        .entries
        .iter()
        .filter(|e| scan.names_netsession(&e.path))
        .collect();
    for entry in ours {
        let (time, desc) = own_time_or_key_written(
            entry.last_modified.and_then(Timestamp::from_filetime),
            "File Modified (AppCompatCache)",
            key,
        );
        let executed = match entry.executed {
            Some(true) => ", marked executed",
            Some(false) => ", not marked executed",
            None => "",
        };
        let message = format!(
            "AppCompatCache entry {} ({:?} format): {} existed{executed}; the time is the file's last modification as cached, not an execution time",
            entry.position, parsed.format, entry.path
        );
        let shown = format!("{} (position {})", entry.path, entry.position);
        let user = scan.context.user_in_path(&entry.path);
        let mut row = scan.row(&rule.info, key, Some(&value), (time, desc), message, shown);
        row.user = user.unwrap_or_default();
        if let Some(vk) = value.offset {
            row.locator = format!(
                "hive={} offset={vk:#x} entry={} data_offset={:#x}",
                scan.input.evidence_path, entry.position, entry.offset
            );
        }
        scan.rows.push(row);
    }
}
