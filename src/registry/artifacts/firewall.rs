//! Windows Firewall rules (Vista+, `...\FirewallPolicy\FirewallRules`): REG_SZ values
//! `v2.x|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Profile=Private|App=...|Name=...|`.
//! Rules named `TCP Query User{GUID}<path>` / `UDP Query User{GUID}<path>` are written
//! when the user answers the firewall prompt: their Action per profile is the user's
//! decision. Rules usually survive uninstallation.

use super::super::hive::RegKey;
use super::super::{HiveScan, Rule};

/// The fields of one rule, in the order they were written (a field may repeat, e.g.
/// `Profile=Private|Profile=Public`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallRule {
    pub version: String,
    pub fields: Vec<(String, String)>,
}

impl FirewallRule {
    pub fn parse(data: &str) -> Option<FirewallRule> {
        let mut parts = data.trim_end_matches('\0').split('|');
        let version = parts.next()?.trim();
        if !version.to_ascii_lowercase().starts_with('v') {
            return None;
        }
        let fields = parts
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Some(FirewallRule {
            version: version.to_string(),
            fields,
        })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every profile the rule applies to; no `Profile` field means all of them.
    pub fn profiles(&self) -> Vec<&str> {
        let listed: Vec<&str> = self
            .fields
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("Profile"))
            .map(|(_, v)| v.as_str())
            .collect();
        if listed.is_empty() {
            vec!["Domain", "Private", "Public"]
        } else {
            listed
        }
    }
}

pub fn protocol_name(number: &str) -> String {
    let name = match number {
        "6" => "TCP",
        "17" => "UDP",
        "1" => "ICMPv4",
        "58" => "ICMPv6",
        "256" | "" => return "any protocol".into(),
        _ => return format!("protocol {number}"),
    };
    format!("{name} ({number})")
}

/// True for rules Windows wrote from the user's answer to the firewall prompt.
pub fn is_query_user(value_name: &str) -> bool {
    let lower = value_name.to_ascii_lowercase();
    lower.starts_with("tcp query user{") || lower.starts_with("udp query user{")
}

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    for (value, data) in scan.netsession_values(key) {
        let Some(parsed) = FirewallRule::parse(&data) else {
            scan.problems.push((
                format!("{} value {:?}", key.location(), value.name),
                "firewall rule names NetSession but is not in the v2.x format; reported raw".into(),
            ));
            let message = format!(
                "Firewall rule \"{}\" naming NetSession (unparsed)",
                value.name
            );
            let shown = format!("{} = {data}", value.name);
            scan.report_key_written(&rule.info, key, Some(&value), message, shown, None);
            continue;
        };
        let action = parsed.get("Action").unwrap_or("?");
        let direction = match parsed.get("Dir") {
            Some(d) if d.eq_ignore_ascii_case("in") => "inbound",
            Some(d) if d.eq_ignore_ascii_case("out") => "outbound",
            _ => "?",
        };
        let protocol = protocol_name(parsed.get("Protocol").unwrap_or(""));
        let profiles = parsed.profiles().join(", ");
        let active = parsed.get("Active").unwrap_or("?");
        let app = parsed.get("App").unwrap_or("(any program)");
        let query_user = is_query_user(&value.name);
        let decision = if query_user {
            format!("the user's answer to the Windows Firewall prompt: {action}")
        } else {
            format!("rule action {action}")
        };
        let message = format!(
            "Firewall rule \"{}\": {decision} {direction} {protocol} for {app} on profile(s) {profiles}, active={active}",
            parsed.get("Name").unwrap_or(&value.name)
        );
        let mut shown = format!(
            "Action={action}; Dir={}; Protocol={protocol}; Profiles={profiles}; Active={active}; App={app}; QueryUser={}; Rule={}",
            parsed.get("Dir").unwrap_or("?"),
            if query_user { "yes" } else { "no" },
            value.name
        );
        if let Some(name) = parsed.get("Name") {
            shown.push_str(&format!("; Name={name}"));
        }
        let user = scan.context.user_in_path(app);
        scan.report_key_written(&rule.info, key, Some(&value), message, shown, user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_profiles_and_query_user() {
        let r = FirewallRule::parse("v2.10|Action=Block|Active=TRUE|Dir=In|Protocol=17|Profile=Public|Profile=Private|App=C:\\a\\netsession_win.exe|Name=x|").unwrap();
        assert_eq!(r.version, "v2.10");
        assert_eq!(r.get("action"), Some("Block"));
        assert_eq!(r.profiles(), ["Public", "Private"]);
        let all = FirewallRule::parse("v2.10|Action=Allow|Dir=In|").unwrap();
        assert_eq!(all.profiles(), ["Domain", "Private", "Public"]);
        assert!(FirewallRule::parse("garbage").is_none());
        assert!(is_query_user("UDP Query User{0B1C}C:\\x.exe"));
        assert!(!is_query_user("{5E6F7A8B}"));
        assert_eq!(protocol_name("6"), "TCP (6)");
        assert_eq!(protocol_name("41"), "protocol 41");
    }
}
