//! Background Activity Moderator (Windows 10 1709+):
//! `SYSTEM\<cs>\Services\bam\State\UserSettings\<SID>` (or `bam\UserSettings\<SID>`):
//! value name = `\Device\HarddiskVolumeN\...\program.exe`, data starts with the FILETIME
//! of the program's last execution by that user.

use super::super::hive::RegKey;
use super::super::{Fact, HiveScan, Rule, own_time_or_key_written};
use crate::bytes::u64_le;
use crate::time::Timestamp;

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    let sid = key.name.clone();
    let user = scan
        .context
        .user_of_sid(&sid)
        .map(String::from)
        .unwrap_or_else(|| sid.clone());
    for value in key.values(&mut scan.problems) {
        if !scan.names_netsession(&value.name) {
            continue;
        }
        let filetime = u64_le(&value.data, 0);
        let (time, desc) = own_time_or_key_written(
            filetime.and_then(Timestamp::from_filetime),
            "Last Executed",
            key,
        );
        let message = format!(
            "BAM: {user} last ran {} (Background Activity Moderator)",
            value.name
        );
        let shown = format!("{} (SID {sid})", value.name);
        scan.report(
            &rule.info,
            key,
            Fact {
                value: Some(&value),
                time,
                desc,
                message,
                shown,
                user: Some(user.clone()),
            },
        );
    }
}
