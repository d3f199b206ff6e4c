//! From a matched event to its evidence row: the event's own time (100 ns), what it
//! was, the account behind it, its fields (firewall codes spelled out in the message,
//! kept as written in `value`), and where it is in the log.

use super::EventHit;
use super::matcher::Why;
use crate::catalog::{Confidence, EventRule};
use crate::evidence::EvidenceRow;

/// Provenance of one log's rows, and what the scan knows of its users.
#[derive(Debug, Clone, Default)]
pub struct LogContext {
    /// The log's path on the evidence.
    pub path: String,
    /// The input (and volume) it was read from.
    pub source: String,
    /// SHA-256 of the whole log file.
    pub sha256: String,
    /// (SID, user name) from the system's ProfileList, where known.
    pub users: Vec<(String, String)>,
}

impl LogContext {
    /// The name of a SID: a well-known account, a profile's user, else the SID itself.
    pub fn user_of(&self, sid: &str) -> String {
        crate::content::accounts::account_name(sid, &self.users)
    }
}

/// The row of one matched event. `joined` names the event that tied a term-less event
/// (a deleted firewall rule) to NetSession.
pub fn event_row(
    rule: &EventRule,
    hit: &EventHit,
    ctx: &LogContext,
    joined: Option<&str>,
) -> EvidenceRow {
    let event = &hit.event;
    let sid = rule
        .user_field
        .as_deref()
        .and_then(|f| event.field(f))
        .filter(|v| v.starts_with("S-1-"))
        .unwrap_or(&event.user_sid);
    let user = if sid.is_empty() {
        String::new()
    } else {
        ctx.user_of(sid)
    };
    let mut message = format!(
        "{} (event {} of {})",
        rule.info.what, event.event_id, event.provider
    );
    let subject = rule
        .subject_field
        .as_deref()
        .and_then(|f| event.field(f))
        .filter(|v| !v.is_empty());
    if let Some(subject) = subject {
        message.push_str(&format!(": {subject}"));
    }
    let decoded = decoded_fields(hit);
    if !decoded.is_empty() {
        message.push_str(&format!("; {}", decoded.join(", ")));
    }
    if !user.is_empty() {
        message.push_str(&format!("; account {user}"));
        if user != sid {
            message.push_str(&format!(" ({sid})"));
        }
    }
    match (&hit.why, joined) {
        (Why::Term { field, term }, _) => {
            let field = field.as_deref().unwrap_or("data");
            message.push_str(&format!("; {field} names {term:?}"));
        }
        (Why::Every, _) => {
            message.push_str("; concerns every program, NetSession's rules included")
        }
        (Why::Join { field, value }, Some(by)) => message.push_str(&format!(
            "; NetSession's by its {field} {value}, named by {by}"
        )),
        (Why::Join { .. }, None) => {}
    }
    if hit.recovered {
        message.push_str("; RECOVERED from the log's unused space");
    }
    if rule.info.confidence == Confidence::G {
        message.push_str(&format!(" [{}]", Confidence::G.describe()));
    }
    EvidenceRow {
        datetime: event.time().or(hit.header_time),
        timestamp_desc: rule.event.clone(),
        message,
        artifact: rule.info.id.clone(),
        user,
        path: ctx.path.clone(),
        value: field_list(hit),
        size: None,
        sha256: ctx.sha256.clone(),
        state: if hit.recovered {
            crate::evidence::RecordState::Recovered
        } else {
            crate::evidence::RecordState::Live
        },
        source: ctx.source.clone(),
        locator: format!(
            "record={} event={} chunk={} offset={:#x}",
            event.record_id, event.event_id, hit.chunk, hit.offset
        ),
    }
}

/// Every field as written: `Name=value; ...`, unnamed data as `Data[n]`.
fn field_list(hit: &EventHit) -> String {
    let mut unnamed = 0;
    let parts: Vec<String> = hit
        .event
        .data
        .iter()
        .map(|(name, value)| match name {
            Some(n) => format!("{n}={value}"),
            None => {
                unnamed += 1;
                format!("Data[{unnamed}]={value}")
            }
        })
        .collect();
    parts.join("; ")
}

/// The codes of firewall and connection events in words (manifest values).
fn decoded_fields(hit: &EventHit) -> Vec<String> {
    let event = &hit.event;
    let mut out = Vec::new();
    let firewall = event.provider.contains("Firewall");
    if let Some(action) = event.field("Action").filter(|_| firewall) {
        out.push(match action.trim() {
            "2" => "action block".to_string(),
            "3" => "action allow".to_string(),
            other => format!("action {other}"),
        });
    }
    if let Some(direction) = event.field("Direction") {
        out.push(direction_name(direction));
    }
    if let Some(protocol) = event.field("Protocol") {
        out.push(protocol_name(protocol));
    }
    if let Some(profiles) = event.field("Profiles").filter(|_| firewall) {
        out.push(format!("profiles {}", profile_names(profiles)));
    }
    if let Some(active) = event.field("Active").filter(|_| firewall) {
        out.push(match active.trim() {
            "1" | "true" => "active".to_string(),
            "0" | "false" => "inactive".to_string(),
            other => format!("active {other}"),
        });
    }
    for (from, to) in [("SourceAddress", "SourcePort"), ("DestAddress", "DestPort")] {
        if let Some(address) = event.field(from) {
            let port = event.field(to).unwrap_or("");
            let side = if from.starts_with("Source") {
                "from"
            } else {
                "to"
            };
            out.push(format!("{side} {address}:{port}"));
        }
    }
    if let Some(by) = event
        .field("ModifyingApplication")
        .filter(|v| !v.is_empty())
    {
        out.push(format!("through {by}"));
    }
    out
}

/// `1` in, `2` out (firewall events); `%%14592` / `%%14593` (connection events).
fn direction_name(value: &str) -> String {
    match value.trim() {
        "1" | "%%14592" => "inbound".into(),
        "2" | "%%14593" => "outbound".into(),
        other => format!("direction {other}"),
    }
}

fn protocol_name(value: &str) -> String {
    match value.trim() {
        "6" => "TCP".into(),
        "17" => "UDP".into(),
        "1" => "ICMPv4".into(),
        "58" => "ICMPv6".into(),
        "256" => "any protocol".into(),
        other => format!("protocol {other}"),
    }
}

/// The profile bitmask: 1 Domain, 2 Private, 4 Public (hex or decimal as written).
pub fn profile_names(value: &str) -> String {
    let v = value.trim();
    let bits = match v.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    };
    let Some(bits) = bits else {
        return v.to_string();
    };
    if bits & 0x7FFF_FFFF == 0x7FFF_FFFF || bits == 7 {
        return "all".into();
    }
    let names: Vec<&str> = [(1, "Domain"), (2, "Private"), (4, "Public")]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        format!("none ({v})")
    } else {
        names.join("+")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::content::evtx::record::Event;

    #[test]
    fn a_firewall_rule_added_row_says_what_who_and_where() {
        let catalog = Catalog::embedded().unwrap();
        let rule = catalog
            .events
            .iter()
            .find(|r| r.info.id == "eventlog.firewall_rule_added")
            .unwrap();
        let app = "C:\\Users\\zoe\\AppData\\Local\\Akamai\\netsession_win.exe";
        let data = [
            ("RuleId", "{AB}"),
            ("RuleName", "Akamai NetSession Interface"),
            ("ApplicationPath", app),
            ("Direction", "1"),
            ("Protocol", "6"),
            ("Action", "3"),
            ("Profiles", "6"),
            ("Active", "1"),
            ("ModifyingUser", "S-1-5-21-1-2-3-1001"),
            ("ModifyingApplication", "C:\\Windows\\System32\\dllhost.exe"),
        ];
        let hit = EventHit {
            rule: 0,
            why: Why::Term {
                field: Some("ApplicationPath".into()),
                term: "netsession".into(),
            },
            event: Event {
                provider: "Microsoft-Windows-Windows Firewall With Advanced Security".into(),
                event_id: 2004,
                time_created: "2019-03-04T05:06:07.1234567Z".into(),
                record_id: 9,
                user_sid: "S-1-5-19".into(),
                data: data
                    .iter()
                    .map(|(n, v)| (Some(n.to_string()), v.to_string()))
                    .collect(),
                ..Event::default()
            },
            chunk: 2,
            offset: 0x21000,
            recovered: false,
            header_time: None,
        };
        let ctx = LogContext {
            path: "Windows\\System32\\winevt\\Logs\\x.evtx".into(),
            source: "case.E01 p2@1048576".into(),
            sha256: "ab".repeat(32),
            users: vec![("S-1-5-21-1-2-3-1001".into(), "zoe".into())],
        };
        let row = event_row(rule, &hit, &ctx, None);
        assert_eq!(
            row.datetime.unwrap().to_iso8601(),
            "2019-03-04T05:06:07.1234567Z"
        );
        assert_eq!(row.timestamp_desc, "Firewall Rule Added");
        assert_eq!(row.user, "zoe");
        assert_eq!(row.locator, "record=9 event=2004 chunk=2 offset=0x21000");
        for part in [
            app,
            "action allow",
            "inbound",
            "TCP",
            "profiles Private+Public",
            "active",
            "account zoe (S-1-5-21-1-2-3-1001)",
            "through C:\\Windows\\System32\\dllhost.exe",
        ] {
            assert!(row.message.contains(part), "{part} in {}", row.message);
        }
        assert!(
            row.value
                .starts_with("RuleId={AB}; RuleName=Akamai NetSession Interface;")
        );
        assert_eq!(row.state, crate::evidence::RecordState::Live);
    }

    #[test]
    fn profile_masks_and_well_known_accounts() {
        assert_eq!(profile_names("1"), "Domain");
        assert_eq!(profile_names("0x5"), "Domain+Public");
        assert_eq!(profile_names("2147483647"), "all");
        assert_eq!(profile_names("x"), "x");
        let ctx = LogContext::default();
        assert_eq!(ctx.user_of("S-1-5-18"), "SYSTEM");
        assert_eq!(ctx.user_of("S-1-5-21-9"), "S-1-5-21-9");
    }
}
