//! What the event logs say, per volume (a system's logs are the system's, whoever's
//! account an event names): the history of NetSession's firewall rules (added, changed,
//! deleted, by whom and through which program, and whether the registry still holds
//! the rule), the firewall prompt, services, process runs, connections with their peers,
//! and Windows Installer runs. Each item names its rows.

use std::collections::{BTreeMap, BTreeSet};

use super::rows::field;
use super::statement::{Part, Statement, c, list_statement, n_rows, t, time_part};
use crate::evidence::EvidenceRow;
use crate::time::Timestamp;

/// The event-log statement of one volume.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventHistory {
    pub rows: usize,
    pub firewall_rules: Vec<RuleHistory>,
    /// 2033: every rule deleted.
    pub firewall_resets: Span,
    /// 5031: the firewall blocked NetSession from listening (the prompt).
    pub prompts: Span,
    pub services_installed: Vec<ServiceInstall>,
    /// 7036/7040.
    pub service_changes: Span,
    /// 4688.
    pub processes: Span,
    pub connections_allowed: Connections,
    pub connections_blocked: Connections,
    /// MSI installs, removals and transactions, in time order.
    pub msi: Vec<Change>,
    /// Events of other rules (a user's catalog).
    pub other: Span,
}

/// How many rows, and the first and last time among them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Span {
    pub rows: usize,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

impl Span {
    fn add(&mut self, time: Option<Timestamp>) {
        self.rows += 1;
        if let Some(time) = time {
            self.first = Some(self.first.map_or(time, |f| f.min(time)));
            self.last = Some(self.last.map_or(time, |l| l.max(time)));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Connections {
    pub span: Span,
    /// Distinct remote addresses (the peer: source of an inbound, destination of an
    /// outbound connection).
    pub remotes: BTreeSet<String>,
}

/// One firewall rule of NetSession's, by its id, through time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleHistory {
    pub rule_id: String,
    pub name: String,
    pub program: String,
    /// In time order.
    pub changes: Vec<Change>,
    /// The registry rows hold a rule of this id (the rule as it is now): its action.
    pub in_registry: Option<String>,
}

/// One dated event: what, when, by whom, with what.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub time: Option<Timestamp>,
    /// `timestamp_desc` of the row: `Firewall Rule Added`, ...
    pub what: String,
    pub user: String,
    /// The event's particulars, in words.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInstall {
    pub time: Option<Timestamp>,
    pub name: String,
    pub program: String,
    pub user: String,
}

#[derive(Debug, Default)]
pub(super) struct EventsAcc {
    rows: usize,
    rules: BTreeMap<String, (String, String, Vec<Change>)>,
    /// Rule id (lower case) -> its action, of the registry's firewall rule rows.
    registry_rules: BTreeMap<String, String>,
    history: EventHistory,
}

impl EventsAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        if row.artifact == "registry.firewall_rule"
            && let Some(id) = field(&row.value, "Rule")
        {
            let action = field(&row.value, "Action").unwrap_or("?").to_string();
            self.registry_rules.insert(id.to_lowercase(), action);
        }
        // Event rows say where they are by record; what they are by their event name
        // (the catalog's `event`, which a user's rule for another program may reuse).
        if !row.locator.starts_with("record=") {
            return;
        }
        self.rows += 1;
        let time = row.datetime;
        let h = &mut self.history;
        let kind = row.timestamp_desc.as_str();
        match kind {
            "Firewall Rule Added" | "Firewall Rule Modified" | "Firewall Rule Deleted" => {
                let id = field(&row.value, "RuleId")
                    .unwrap_or("(no rule id)")
                    .to_string();
                let entry = self.rules.entry(id).or_default();
                // A deletion's name only stands in where no addition or change named it.
                let deletion = kind == "Firewall Rule Deleted";
                if let Some(name) = field(&row.value, "RuleName").filter(|n| !n.is_empty())
                    && (!deletion || entry.0.is_empty())
                {
                    entry.0 = name.to_string();
                }
                if let Some(app) = field(&row.value, "ApplicationPath").filter(|a| !a.is_empty()) {
                    entry.1 = app.to_string();
                }
                entry.2.push(change(row, firewall_detail(&row.value)));
            }
            "Firewall Rules All Deleted" => h.firewall_resets.add(time),
            "Incoming Connection Blocked (Prompt)" => h.prompts.add(time),
            "Service Installed" => {
                let name = field(&row.value, "ServiceName").unwrap_or("?").to_string();
                let program = field(&row.value, "ImagePath")
                    .or_else(|| field(&row.value, "ServiceFileName"))
                    .unwrap_or("?")
                    .to_string();
                h.services_installed.push(ServiceInstall {
                    time,
                    name,
                    program,
                    user: row.user.clone(),
                });
            }
            "Service State Changed" | "Service Start Type Changed" => h.service_changes.add(time),
            "Process Created" => h.processes.add(time),
            "Connection Allowed" | "Connection Blocked" => {
                let connections = if kind == "Connection Allowed" {
                    &mut h.connections_allowed
                } else {
                    &mut h.connections_blocked
                };
                connections.span.add(time);
                if let Some(remote) = remote_address(&row.value) {
                    connections.remotes.insert(remote.to_string());
                }
            }
            k if k.starts_with("MSI ") => {
                let product = field(&row.value, "Data[1]").unwrap_or("?");
                // 1033 and 1034 give the product's name, then its version.
                let named_version = ["event=1033 ", "event=1034 "]
                    .iter()
                    .any(|id| row.locator.contains(id));
                let detail = match field(&row.value, "Data[2]").filter(|v| !v.is_empty()) {
                    Some(version) if named_version => format!("{product} {version}"),
                    _ => product.to_string(),
                };
                h.msi.push(change(row, detail));
            }
            _ => h.other.add(time),
        }
    }

    pub fn finish(self) -> EventHistory {
        let mut history = self.history;
        history.rows = self.rows;
        history.firewall_rules = self
            .rules
            .into_iter()
            .map(|(rule_id, (name, program, mut changes))| {
                changes.sort();
                RuleHistory {
                    in_registry: self.registry_rules.get(&rule_id.to_lowercase()).cloned(),
                    rule_id,
                    name,
                    program,
                    changes,
                }
            })
            .collect();
        history.msi.sort();
        history
            .services_installed
            .sort_by(|a, b| (a.time, &a.name).cmp(&(b.time, &b.name)));
        history
    }
}

fn change(row: &EvidenceRow, detail: String) -> Change {
    Change {
        time: row.datetime,
        what: row.timestamp_desc.clone(),
        user: row.user.clone(),
        detail,
    }
}

fn firewall_detail(value: &str) -> String {
    let mut parts = Vec::new();
    if let Some(action) = field(value, "Action") {
        parts.push(match action {
            "2" => "block".to_string(),
            "3" => "allow".to_string(),
            other => format!("action {other}"),
        });
    }
    if let Some(direction) = field(value, "Direction") {
        parts.push(match direction {
            "1" => "inbound".to_string(),
            "2" => "outbound".to_string(),
            other => format!("direction {other}"),
        });
    }
    if let Some(profiles) = field(value, "Profiles") {
        parts.push(format!(
            "profiles {}",
            crate::content::evtx::rows::profile_names(profiles)
        ));
    }
    if let Some(by) = field(value, "ModifyingApplication").filter(|v| !v.is_empty()) {
        parts.push(format!("through {by}"));
    }
    parts.join(", ")
}

/// The peer of a connection event: the source of an inbound one, else the destination.
fn remote_address(value: &str) -> Option<&str> {
    let inbound = matches!(field(value, "Direction"), Some("%%14592") | Some("1"));
    let address = if inbound {
        field(value, "SourceAddress")
    } else {
        field(value, "DestAddress")
    };
    address.filter(|a| !a.is_empty())
}

/// Does the registry's action agree with the last action the log set (its details start
/// with `allow` or `block`)? A deletion last means the registry is from another time.
fn agreement(changes: &[Change], registry_action: &str) -> &'static str {
    let Some(last) = changes.last() else {
        return "";
    };
    if last.what == "Firewall Rule Deleted" {
        return " (the log's last word is its deletion: the registry was saved at another time)";
    }
    let logged = last.detail.split(',').next().unwrap_or("").trim();
    if logged.is_empty() || logged.starts_with("action ") {
        ""
    } else if logged.eq_ignore_ascii_case(registry_action) {
        " (as the log's last change set it)"
    } else {
        " (the log's last change set it otherwise)"
    }
}

fn when(time: Option<Timestamp>) -> Part {
    match time {
        Some(time) => time_part(time),
        None => t("(no time)"),
    }
}

fn span_parts(label: &str, span: &Span) -> Vec<Part> {
    let mut parts = vec![t(format!("{label}: {} time(s)", span.rows))];
    if let (Some(first), Some(last)) = (span.first, span.last) {
        parts.extend([
            t(", first "),
            time_part(first),
            t(", last "),
            time_part(last),
        ]);
    }
    parts.push(t(format!(" ({})", n_rows(span.rows))));
    parts
}

pub(super) fn events_statement(h: &EventHistory) -> Statement {
    let mut items = Vec::new();
    for rule in &h.firewall_rules {
        let mut parts = vec![
            t("firewall rule "),
            c(&rule.name),
            t(" ("),
            c(&rule.rule_id),
            t(")"),
        ];
        if !rule.program.is_empty() {
            parts.extend([t(" for "), c(&rule.program)]);
        }
        parts.push(t(":"));
        for (i, change) in rule.changes.iter().enumerate() {
            parts.push(t(if i == 0 { " " } else { "; " }));
            parts.extend([c(&change.what), t(" "), when(change.time)]);
            if !change.user.is_empty() {
                parts.extend([t(" by "), c(&change.user)]);
            }
            if !change.detail.is_empty() {
                parts.extend([t(" ("), c(&change.detail), t(")")]);
            }
        }
        match &rule.in_registry {
            Some(action) => {
                parts.extend([
                    t("; the registry scanned still holds this rule, action "),
                    c(action),
                ]);
                parts.push(t(agreement(&rule.changes, action)));
            }
            None => parts.push(t("; no registry rule of this id in what was scanned")),
        }
        parts.push(t(format!(" ({})", n_rows(rule.changes.len()))));
        items.push(parts);
    }
    if h.firewall_resets.rows > 0 {
        items.push(span_parts(
            "all firewall rules deleted (2033)",
            &h.firewall_resets,
        ));
    }
    if h.prompts.rows > 0 {
        items.push(span_parts(
            "firewall blocked NetSession from accepting connections (5031, the prompt)",
            &h.prompts,
        ));
    }
    for service in &h.services_installed {
        let mut parts = vec![
            t("service "),
            c(&service.name),
            t(" installed "),
            when(service.time),
        ];
        parts.extend([t(", program "), c(&service.program)]);
        if !service.user.is_empty() {
            parts.extend([t(", account "), c(&service.user)]);
        }
        parts.push(t(" (1 row)"));
        items.push(parts);
    }
    if h.service_changes.rows > 0 {
        items.push(span_parts(
            "service state or start-type changes",
            &h.service_changes,
        ));
    }
    if h.processes.rows > 0 {
        items.push(span_parts("process runs (4688)", &h.processes));
    }
    for (label, conns) in [
        ("connections allowed (5156)", &h.connections_allowed),
        ("connections blocked (5157)", &h.connections_blocked),
    ] {
        if conns.span.rows == 0 {
            continue;
        }
        let mut parts = span_parts(label, &conns.span);
        parts.push(t(format!(
            "; {} distinct remote address(es)",
            conns.remotes.len()
        )));
        let shown: Vec<&String> = conns.remotes.iter().take(10).collect();
        for (i, remote) in shown.iter().enumerate() {
            parts.push(t(if i == 0 { ": " } else { ", " }));
            parts.push(c(remote));
        }
        if conns.remotes.len() > shown.len() {
            parts.push(t(", ..."));
        }
        items.push(parts);
    }
    for change in &h.msi {
        let mut parts = vec![
            c(&change.what),
            t(" "),
            when(change.time),
            t(": "),
            c(&change.detail),
        ];
        if !change.user.is_empty() {
            parts.extend([t(", account "), c(&change.user)]);
        }
        parts.push(t(" (1 row)"));
        items.push(parts);
    }
    if h.other.rows > 0 {
        items.push(span_parts("other events", &h.other));
    }
    list_statement(
        "event logs",
        items,
        "no NetSession event in the event logs scanned, if any were (0 rows)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    fn event(artifact: &str, desc: &str, offset: i64, user: &str, value: &str) -> EvidenceRow {
        let mut r = timed(row(artifact, user, "x.evtx", value), offset, desc);
        r.state = RecordState::Live;
        let id = match desc {
            "MSI Product Installed" => 1033,
            _ => 1,
        };
        r.locator = format!("record={offset} event={id} chunk=0 offset=0x1000");
        r
    }

    #[test]
    fn a_rule_deleted_by_its_id_joins_the_rule_added() {
        let app = r"C:\Users\zoe\AppData\Local\Akamai\netsession_win.exe";
        let rows = vec![
            event(
                "eventlog.firewall_rule_deleted",
                "Firewall Rule Deleted",
                900,
                "SYSTEM",
                "RuleId={R1}; RuleName=Akamai NetSession",
            ),
            event(
                "eventlog.firewall_rule_added",
                "Firewall Rule Added",
                10,
                "zoe",
                &format!(
                    "RuleId={{R1}}; RuleName=Akamai NetSession; ApplicationPath={app}; Direction=1; Action=3; Profiles=6; ModifyingApplication=C:\\Windows\\System32\\dllhost.exe"
                ),
            ),
            event(
                "eventlog.connection_allowed",
                "Connection Allowed",
                20,
                "",
                "Application=x; Direction=%%14592; SourceAddress=203.0.113.9; SourcePort=1; DestAddress=10.0.0.2; DestPort=2",
            ),
            event(
                "eventlog.connection_allowed",
                "Connection Allowed",
                30,
                "",
                "Application=x; Direction=%%14593; SourceAddress=10.0.0.2; SourcePort=1; DestAddress=198.51.100.7; DestPort=443",
            ),
            event(
                "eventlog.msi_removed",
                "MSI Product Removed",
                950,
                "zoe",
                "Data[1]=Akamai NetSession Interface; Data[2]=1.9.5.6",
            ),
            event(
                "eventlog.msi_installed",
                "MSI Product Installed",
                5,
                "zoe",
                "Data[1]=Akamai NetSession Interface; Data[2]=1.9.5.6",
            ),
        ];
        let mut acc = EventsAcc::default();
        rows.iter().for_each(|r| acc.add(r));
        let h = acc.finish();
        assert_eq!(h.rows, 6);
        assert_eq!(h.firewall_rules.len(), 1);
        let rule = &h.firewall_rules[0];
        assert_eq!(rule.program, app);
        let whats: Vec<&str> = rule.changes.iter().map(|c| c.what.as_str()).collect();
        assert_eq!(whats, ["Firewall Rule Added", "Firewall Rule Deleted"]);
        assert_eq!(
            rule.changes[0].detail,
            "allow, inbound, profiles Private+Public, through C:\\Windows\\System32\\dllhost.exe"
        );
        assert!(rule.in_registry.is_none());
        let remotes: Vec<&str> = h
            .connections_allowed
            .remotes
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(remotes, ["198.51.100.7", "203.0.113.9"]);
        let text = verdict(&rows).to_text();
        assert!(text.contains("event logs:"), "{text}");
        assert!(
            text.contains("Firewall Rule Deleted 2012-02-14T09:45:00Z by SYSTEM"),
            "{text}"
        );
        assert!(
            text.contains(
                "MSI Product Removed 2012-02-14T09:45:50Z: Akamai NetSession Interface, account zoe"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "MSI Product Installed 2012-02-14T09:30:05Z: Akamai NetSession Interface 1.9.5.6"
            ),
            "{text}"
        );
        assert!(
            text.contains("2 distinct remote address(es): 198.51.100.7, 203.0.113.9"),
            "{text}"
        );
    }

    #[test]
    fn the_registry_rule_of_the_same_id_is_named() {
        let mut acc = EventsAcc::default();
        acc.add(&event(
            "eventlog.firewall_rule_added",
            "Firewall Rule Added",
            0,
            "zoe",
            "RuleId=TCP Query User{AB}C:\\a\\netsession_win.exe; Action=2",
        ));
        acc.add(&row(
            "registry.firewall_rule",
            "",
            "SYSTEM\\x",
            "Action=Block; Dir=In; QueryUser=yes; Rule=TCP Query User{AB}C:\\a\\netsession_win.exe",
        ));
        let h = acc.finish();
        assert_eq!(h.firewall_rules[0].in_registry.as_deref(), Some("Block"));
        let text = events_statement(&h).items[0]
            .iter()
            .map(|p| match p {
                Part::Text(s) | Part::Code(s) => s.clone(),
            })
            .collect::<String>();
        assert!(
            text.contains("action Block (as the log's last change set it)"),
            "{text}"
        );
        assert_eq!(h.rows, 1);
    }
}
