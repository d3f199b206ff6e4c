//! svchost groups (`SOFTWARE\Microsoft\Windows NT\CurrentVersion\SvcHost`): a group is
//! NetSession's when it lists a NetSession service found in SYSTEM or names NetSession
//! itself. A shared group (`netsvcs`) that a NetSession service's ImagePath names but
//! that does not list the service is not reported: svchost would not host it there.

use super::super::hive::RegKey;
use super::super::{HiveScan, Rule};

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    for value in key.values(&mut scan.problems) {
        let members = value.multi_text().unwrap_or_else(|| vec![value.display()]);
        let ours = members
            .iter()
            .any(|m| scan.context.netsession_services.contains(&m.to_lowercase()))
            || scan.names_netsession(&value.name)
            || members.iter().any(|m| scan.names_netsession(m));
        if !ours {
            continue;
        }
        let message = format!(
            "svchost group \"{}\" hosts {} (a NetSession service runs in it; key last written at this time)",
            value.name,
            members.join(", ")
        );
        let shown = format!("{} = {}", value.name, members.join("; "));
        scan.report_key_written(&rule.info, key, Some(&value), message, shown, None);
    }
}
