//! Windows XP firewall exceptions
//! (`...\FirewallPolicy\{Standard,Domain}Profile\AuthorizedApplications\List`): value
//! name = program path, data = `<path>:<scope>:<Enabled|Disabled>:<name>`.

use super::super::hive::RegKey;
use super::super::{HiveScan, Rule};

/// (scope, enabled-or-disabled, name) from the data; the path itself holds a colon.
fn parse(data: &str) -> Option<(&str, &str, &str)> {
    let mut parts = data.rsplitn(4, ':');
    let name = parts.next()?;
    let state = parts.next()?;
    let scope = parts.next()?;
    parts.next()?;
    Some((scope, state, name))
}

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    let profile = if key.path.to_lowercase().contains("domainprofile") {
        "Domain"
    } else {
        "Standard"
    };
    for (value, data) in scan.netsession_values(key) {
        let message = match parse(&data) {
            Some((scope, state, name)) => format!(
                "XP firewall exception \"{name}\" for {}: {state}, scope {scope}, {profile} profile (key last written at this time)",
                value.name
            ),
            None => format!(
                "XP firewall exception for {} ({profile} profile)",
                value.name
            ),
        };
        let user = scan.context.user_in_path(&value.name);
        let shown = format!("{} = {data}", value.name);
        scan.report_key_written(&rule.info, key, Some(&value), message, shown, user);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_from_the_right() {
        assert_eq!(
            super::parse("C:\\x\\netsession_win.exe:*:Enabled:Akamai NetSession Interface"),
            Some(("*", "Enabled", "Akamai NetSession Interface"))
        );
        assert_eq!(super::parse("nonsense"), None);
    }
}
