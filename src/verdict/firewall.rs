//! Statement 6: firewall — per profile, allowed or blocked and whether by the user's
//! answer to the Windows Firewall prompt; XP's exception lists.

use std::collections::{BTreeMap, BTreeSet};

use super::rows::field;
use super::statement::{Part, Statement, c, n_rows, t, time_part};
use crate::evidence::EvidenceRow;
use crate::time::Timestamp;

/// Firewall profiles of Vista and later, in the order they are reported.
const PROFILES: [&str; 3] = ["Domain", "Private", "Public"];

/// Statement 6: firewall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firewall {
    /// `registry.firewall_rule` and `registry.firewall_xp` rows.
    pub rows: usize,
    /// Domain, Private, Public (and any other name a rule gives), when rules exist.
    pub profiles: Vec<ProfileRules>,
    pub xp: Vec<XpException>,
    /// Rule rows not in the parsed form (no `Action=`).
    pub unparsed_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRules {
    pub profile: String,
    /// Empty: no rule found for this profile.
    pub rules: Vec<FirewallDecision>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallDecision {
    /// `Allow` or `Block` as the rule says.
    pub action: String,
    pub direction: String,
    pub protocol: String,
    pub active: String,
    /// Written by Windows from the user's answer to the firewall prompt.
    pub user_answer: bool,
    pub rows: usize,
    pub latest: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XpException {
    /// "Standard" or "Domain".
    pub profile: String,
    /// "enabled", "disabled" or "state unknown".
    pub state: String,
    pub program: String,
    pub rows: usize,
    pub latest: Option<Timestamp>,
}

/// (action, direction, protocol, active, user's answer) of a parsed rule.
type RuleKey = (String, String, String, String, bool);

/// Builds [`Firewall`] row by row: v2.x rules per profile and decision, XP exceptions
/// per profile, state and program.
#[derive(Debug, Default)]
pub(super) struct FirewallAcc {
    rule_rows: usize,
    profiles: BTreeMap<String, BTreeMap<RuleKey, (usize, Option<Timestamp>)>>,
    unparsed_rows: usize,
    xp_rows: usize,
    xp: XpAcc,
}

impl FirewallAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        match row.artifact.as_str() {
            "registry.firewall_rule" => self.add_rule(row),
            "registry.firewall_xp" => {
                self.xp_rows += 1;
                self.xp.add(row);
            }
            _ => {}
        }
    }

    fn add_rule(&mut self, row: &EvidenceRow) {
        self.rule_rows += 1;
        let Some(key) = rule_key(row) else {
            self.unparsed_rows += 1;
            return;
        };
        for profile in rule_profiles(field(&row.value, "Profiles")) {
            let entry = self
                .profiles
                .entry(profile)
                .or_default()
                .entry(key.clone())
                .or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(row.datetime);
        }
    }

    pub fn finish(mut self) -> Firewall {
        // With any rule at all, every profile gets a line: "no rule found" says something.
        if self.rule_rows > 0 {
            for p in PROFILES {
                self.profiles.entry(p.to_string()).or_default();
            }
        }
        Firewall {
            rows: self.rule_rows + self.xp_rows,
            profiles: self
                .profiles
                .into_iter()
                .map(|(profile, rules)| ProfileRules {
                    profile,
                    rules: rules.into_iter().map(decision).collect(),
                })
                .collect(),
            xp: self.xp.finish(),
            unparsed_rows: self.unparsed_rows,
        }
    }
}

fn rule_key(row: &EvidenceRow) -> Option<RuleKey> {
    let action = field(&row.value, "Action")?.to_string();
    let direction = match field(&row.value, "Dir") {
        Some(d) if d.eq_ignore_ascii_case("in") => "inbound".to_string(),
        Some(d) if d.eq_ignore_ascii_case("out") => "outbound".to_string(),
        Some(d) => format!("direction {d}"),
        None => "direction unknown".to_string(),
    };
    let protocol = field(&row.value, "Protocol")
        .unwrap_or("any protocol")
        .to_string();
    let active = field(&row.value, "Active").unwrap_or("?").to_string();
    let user_answer = field(&row.value, "QueryUser").is_some_and(|q| q.eq_ignore_ascii_case("yes"))
        || row.message.contains("the user's answer");
    Some((action, direction, protocol, active, user_answer))
}

/// The profiles a rule names; none, empty or "All" means every profile.
fn rule_profiles(listed: Option<&str>) -> Vec<String> {
    let names: Vec<&str> = listed
        .unwrap_or_default()
        .split([',', '|'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if names.is_empty()
        || names
            .iter()
            .any(|n| n.eq_ignore_ascii_case("all") || n.eq_ignore_ascii_case("any"))
    {
        return PROFILES.iter().map(|p| p.to_string()).collect();
    }
    let canonical = |n: &str| {
        PROFILES
            .iter()
            .find(|p| p.eq_ignore_ascii_case(n))
            .map(|p| p.to_string())
            .unwrap_or_else(|| n.to_string())
    };
    let unique: BTreeSet<String> = names.into_iter().map(canonical).collect();
    unique.into_iter().collect()
}

fn decision(
    ((action, direction, protocol, active, user_answer), (rows, latest)): (
        RuleKey,
        (usize, Option<Timestamp>),
    ),
) -> FirewallDecision {
    FirewallDecision {
        action,
        direction,
        protocol,
        active,
        user_answer,
        rows,
        latest,
    }
}

#[derive(Debug, Default)]
struct XpAcc(BTreeMap<(String, String, String), (usize, Option<Timestamp>)>);

impl XpAcc {
    fn add(&mut self, row: &EvidenceRow) {
        let path = row.path.to_lowercase();
        let profile = if path.contains("domainprofile") {
            "Domain"
        } else if path.contains("standardprofile") {
            "Standard"
        } else {
            "unknown"
        };
        let program = row
            .value
            .split_once(" = ")
            .map(|(name, _)| name)
            .unwrap_or(&row.value)
            .to_string();
        let entry = self
            .0
            .entry((profile.to_string(), xp_state(row).to_string(), program))
            .or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(row.datetime);
    }

    fn finish(self) -> Vec<XpException> {
        self.0
            .into_iter()
            .map(|((profile, state, program), (rows, latest))| XpException {
                profile,
                state,
                program,
                rows,
                latest,
            })
            .collect()
    }
}

fn xp_state(row: &EvidenceRow) -> &'static str {
    let value = row.value.to_lowercase();
    let message = row.message.to_lowercase();
    // "disabled" contains "enabled": look for it first.
    if value.contains(":disabled:") || message.contains(": disabled,") {
        "disabled"
    } else if value.contains(":enabled:") || message.contains(": enabled,") {
        "enabled"
    } else {
        "state unknown"
    }
}

fn profile_item(p: &ProfileRules) -> Vec<Part> {
    if p.rules.is_empty() {
        return vec![t(format!("{}: no rule found", p.profile))];
    }
    let allows = p
        .rules
        .iter()
        .any(|r| r.action.eq_ignore_ascii_case("allow"));
    let blocks = p
        .rules
        .iter()
        .any(|r| r.action.eq_ignore_ascii_case("block"));
    let overall = match (allows, blocks) {
        (true, false) => "allowed",
        (false, true) => "blocked",
        (true, true) => "allowed and blocked by different rules",
        (false, false) => "action unknown",
    };
    let mut parts = vec![t(format!("{}: {overall} — ", p.profile))];
    for (i, r) in p.rules.iter().enumerate() {
        if i > 0 {
            parts.push(t("; "));
        }
        let origin = if r.user_answer {
            "the user's answer to the Windows Firewall prompt"
        } else {
            "a rule not from the prompt (installer or policy)"
        };
        parts.push(c(&r.action));
        parts.push(t(format!(" {} ", r.direction)));
        parts.push(c(&r.protocol));
        parts.push(t(format!(", {origin}, active=")));
        parts.push(c(&r.active));
        if let Some(time) = r.latest {
            parts.push(t(", key last written "));
            parts.push(time_part(time));
        }
        parts.push(t(format!(" ({})", n_rows(r.rows))));
    }
    parts
}

pub(super) fn firewall_statement(firewall: &Firewall) -> Statement {
    let mut items: Vec<Vec<Part>> = firewall.profiles.iter().map(profile_item).collect();
    for x in &firewall.xp {
        let mut parts = vec![
            t(format!(
                "XP {} profile: exception {} for ",
                x.profile, x.state
            )),
            c(&x.program),
        ];
        if let Some(time) = x.latest {
            parts.push(t(", key last written "));
            parts.push(time_part(time));
        }
        parts.push(t(format!(" ({})", n_rows(x.rows))));
        items.push(parts);
    }
    if firewall.unparsed_rows > 0 {
        items.push(vec![t(format!(
            "rules not in the v2 format, see the evidence file ({})",
            n_rows(firewall.unparsed_rows)
        ))]);
    }
    let parts = if firewall.rows == 0 {
        vec![t(
            "no NetSession firewall rule found in what was scanned (0 rows)",
        )]
    } else {
        vec![t(format!("{}:", n_rows(firewall.rows)))]
    };
    Statement {
        label: "firewall",
        parts,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    fn profile<'a>(f: &'a Firewall, name: &str) -> &'a ProfileRules {
        f.profiles
            .iter()
            .find(|p| p.profile == name)
            .unwrap_or_else(|| panic!("no profile {name}"))
    }

    #[test]
    fn firewall_per_profile_with_the_users_answer() {
        let rows = [
            fw(
                "Action=Allow; Dir=In; Protocol=TCP (6); Profiles=Private; Active=TRUE; App=c:\\a\\netsession_win.exe; QueryUser=yes; Rule=TCP Query User{X}",
                "",
            ),
            fw(
                "Action=Block; Dir=In; Protocol=UDP (17); Profiles=Public; Active=TRUE; App=c:\\a\\netsession_win.exe; QueryUser=no; Rule=x",
                "Firewall rule: the user's answer to the Windows Firewall prompt: Block",
            ),
        ];
        let v = verdict(&rows);
        let f = &only_scope(&v).firewall;
        assert_eq!(f.rows, 2);
        let private = profile(f, "Private");
        assert_eq!(private.rules.len(), 1);
        assert_eq!(private.rules[0].action, "Allow");
        assert!(private.rules[0].user_answer);
        assert_eq!(private.rules[0].direction, "inbound");
        let public = profile(f, "Public");
        assert!(public.rules[0].user_answer, "said by the message");
        assert!(profile(f, "Domain").rules.is_empty());
        let text = v.to_text();
        assert!(text.contains("Domain: no rule found"), "{text}");
        assert!(text.contains("Private: allowed — Allow inbound TCP (6), the user's answer to the Windows Firewall prompt, active=TRUE, key last written 2012-02-14T09:31:00Z (1 row)"), "{text}");
        assert!(
            text.contains("Public: blocked — Block inbound UDP (17), the user's answer"),
            "{text}"
        );
    }

    #[test]
    fn firewall_profiles_listed_all_or_empty() {
        let rows = [
            fw(
                "Action=Allow; Dir=In; Protocol=TCP (6); Profiles=Domain, Private, Public; Active=TRUE; QueryUser=no",
                "",
            ),
            fw(
                "Action=Block; Dir=Out; Protocol=UDP (17); Profiles=All; Active=FALSE; QueryUser=no",
                "",
            ),
            fw(
                "Action=Allow; Dir=In; Protocol=any protocol; Profiles=; Active=TRUE; QueryUser=no",
                "",
            ),
            fw("netsession_win.exe = garbage", "Firewall rule (unparsed)"),
        ];
        let v = verdict(&rows);
        let f = &only_scope(&v).firewall;
        assert_eq!(f.unparsed_rows, 1);
        for name in PROFILES {
            let p = profile(f, name);
            assert_eq!(p.rules.len(), 3, "{name}: {p:?}");
        }
        assert_eq!(rule_profiles(Some("private|public")), ["Private", "Public"]);
        assert_eq!(rule_profiles(None), PROFILES);
        assert_eq!(rule_profiles(Some("Private, Lab")), ["Lab", "Private"]);
        let text = v.to_text();
        assert!(
            text.contains("Domain: allowed and blocked by different rules — "),
            "{text}"
        );
        assert!(text.contains("Block outbound UDP (17)"), "{text}");
        assert!(
            text.contains("rules not in the v2 format, see the evidence file (1 row)"),
            "{text}"
        );
    }

    #[test]
    fn firewall_xp_exceptions_and_none() {
        let mut std_row = row(
            "registry.firewall_xp",
            "Bob",
            r"SYSTEM\ControlSet001\Services\SharedAccess\Parameters\FirewallPolicy\StandardProfile\AuthorizedApplications\List",
            r"C:\b\netsession_win.exe = C:\b\netsession_win.exe:*:Enabled:Akamai NetSession Interface",
        );
        std_row.datetime = Some(at(3));
        let dom_row = row(
            "registry.firewall_xp",
            "Bob",
            r"SYSTEM\ControlSet001\Services\SharedAccess\Parameters\FirewallPolicy\DomainProfile\AuthorizedApplications\List",
            r"C:\b\netsession_win.exe = C:\b\netsession_win.exe:*:Disabled:Akamai NetSession Interface",
        );
        let v = verdict(&[std_row, dom_row]);
        let f = &only_scope(&v).firewall;
        let xp: Vec<(&str, &str, &str)> =
            f.xp.iter()
                .map(|x| (x.profile.as_str(), x.state.as_str(), x.program.as_str()))
                .collect();
        assert_eq!(
            xp,
            [
                ("Domain", "disabled", r"C:\b\netsession_win.exe"),
                ("Standard", "enabled", r"C:\b\netsession_win.exe"),
            ]
        );
        assert!(f.profiles.is_empty(), "no Vista rule, no Vista profiles");
        let text = v.to_text();
        assert!(text.contains(r"XP Standard profile: exception enabled for C:\b\netsession_win.exe, key last written 2012-02-14T09:30:03Z (1 row)"), "{text}");

        let none = verdict(&[row(
            "install.client",
            "u",
            &jose_file("netsession_win.exe"),
            "",
        )]);
        assert!(
            none.to_text().contains(
                "firewall: no NetSession firewall rule found in what was scanned (0 rows)"
            )
        );
    }
}
