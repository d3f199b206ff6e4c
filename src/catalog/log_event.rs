//! Events named in NetSession's own log lines: a table of patterns (`[[log_event]]` in a
//! catalog), so that a new phrase is a catalog entry, not code.
//!
//! ```toml
//! [[log_event]]
//! id = "netsession.public_ip"
//! event = "Public IP Seen by Akamai"          # the row's timestamp_desc
//! pattern = 'CN thinks my IP is: (?P<public_ip>[0-9A-Fa-f.:]+)'
//! what = "public IP address of the machine as Akamai's control node saw it"
//! proves = "..."
//! confidence = "A"
//! source = "..."
//! ```
//!
//! `pattern` is a regular expression tried on the line's message (the text after the
//! source location); its named groups go into the row's value. Rules are tried in
//! catalog order (a user's catalog after the embedded one) and the first that matches
//! names the line.

use regex::{Regex, RegexSet};
use serde::Deserialize;

use super::RuleInfo;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEventDef {
    #[serde(flatten)]
    pub info: RuleInfo,
    /// What the line's time means, as `timestamp_desc`: `Install Started`, ...
    pub event: String,
    pub pattern: String,
}

/// One event with its pattern compiled.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub info: RuleInfo,
    pub event: String,
    pub pattern: Regex,
}

/// Every event of the loaded catalogs, matched together.
#[derive(Debug, Clone)]
pub struct LogEvents {
    pub events: Vec<LogEvent>,
    set: RegexSet,
}

impl Default for LogEvents {
    fn default() -> Self {
        LogEvents::new(Vec::new()).unwrap_or_else(|_| unreachable_empty())
    }
}

/// An empty set always compiles; this keeps `Default` free of `expect`.
fn unreachable_empty() -> LogEvents {
    LogEvents {
        events: Vec::new(),
        set: RegexSet::empty(),
    }
}

impl LogEvents {
    pub fn new(events: Vec<LogEvent>) -> Result<LogEvents, regex::Error> {
        let set = RegexSet::new(events.iter().map(|e| e.pattern.as_str()))?;
        Ok(LogEvents { events, set })
    }

    /// The first event whose pattern matches `message`, with its named groups.
    pub fn find<'t>(&self, message: &'t str) -> Option<(&LogEvent, Vec<(String, &'t str)>)> {
        // Most lines name no event: a plain search says so faster than the overlapping
        // search that tells which patterns match.
        if !self.set.is_match(message) {
            return None;
        }
        let first = self.set.matches(message).into_iter().next()?;
        let event = self.events.get(first)?;
        let caps = event.pattern.captures(message)?;
        let fields = event
            .pattern
            .capture_names()
            .flatten()
            .filter_map(|name| caps.name(name).map(|m| (name.to_string(), m.as_str())))
            .collect();
        Some((event, fields))
    }
}

/// Compile a definition; the error names what is wrong with the pattern.
pub(super) fn compile(def: &LogEventDef) -> Result<LogEvent, String> {
    if def.event.trim().is_empty() {
        return Err("field `event` is empty".into());
    }
    let pattern = Regex::new(&def.pattern)
        .map_err(|e| format!("field `pattern`: {}", e.to_string().replace('\n', " ")))?;
    Ok(LogEvent {
        info: def.info.clone(),
        event: def.event.clone(),
        pattern,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Confidence;

    fn event(id: &str, pattern: &str) -> LogEvent {
        compile(&LogEventDef {
            info: RuleInfo {
                id: id.into(),
                what: "w".into(),
                proves: "p".into(),
                confidence: Confidence::A,
                source: "s".into(),
            },
            event: "E".into(),
            pattern: pattern.into(),
        })
        .unwrap()
    }

    #[test]
    fn first_matching_event_wins_and_groups_become_fields() {
        let events = LogEvents::new(vec![
            event("a.ip", r"CN thinks my IP is: (?P<public_ip>[0-9.]+)"),
            event("a.any", r"CN"),
        ])
        .unwrap();
        let (e, fields) = events
            .find("GUID x connected to CN (CN thinks my IP is: 203.0.113.7).")
            .unwrap();
        assert_eq!(e.info.id, "a.ip");
        assert_eq!(fields, vec![("public_ip".to_string(), "203.0.113.7")]);
        assert_eq!(events.find("CN down").unwrap().0.info.id, "a.any");
        assert!(events.find("nothing here").is_none());
        assert!(LogEvents::default().find("CN").is_none());
    }

    #[test]
    fn a_bad_pattern_is_an_error() {
        let def = LogEventDef {
            info: event("x", "y").info,
            event: "E".into(),
            pattern: "(unclosed".into(),
        };
        assert!(compile(&def).unwrap_err().contains("pattern"));
    }
}

#[cfg(test)]
mod embedded_events {
    use crate::catalog::Catalog;

    fn event_of(message: &str) -> Option<String> {
        let catalog = Catalog::embedded().unwrap();
        catalog
            .log_events
            .find(message)
            .map(|(e, _)| e.info.id.clone())
    }

    #[test]
    fn messages_of_real_installs_get_their_events() {
        let cases = [
            (
                "Successfully installed the client",
                Some("netsession.installed"),
            ),
            (
                "Error in downloading 'https://client.akamai.com/conf/install.html?file=installer&upload=false&silent=true'",
                Some("netsession.download_error"),
            ),
            ("Hiding uploads section", Some("netsession.upload_setting")),
            (
                "uploaded 3 pieces to peer 10.1.2.3",
                Some("netsession.peer_activity"),
            ),
            ("uploads enabled", Some("netsession.upload_setting")),
            // A URL parameter is not activity.
            ("fetching https://x.example/i?file=a&upload=false", None),
            ("Starting up pid 4242", Some("netsession.process_start")),
            ("Starting uninstall", Some("netsession.uninstall")),
            ("Uninstalling the client.", Some("netsession.uninstall")),
            ("Starting uninstall.", Some("netsession.uninstall")),
            ("Running uninstall.exe /S", Some("netsession.uninstall")),
            ("user chose to uninstall", Some("netsession.uninstall")),
            // Identifiers and file names are not an uninstall happening.
            ("Setting registry value UninstallString", None),
            ("calling DoUninstall_Check()", None),
            ("found C:\\Program Files\\Akamai\\uninstall.exe", None),
        ];
        for (message, want) in cases {
            assert_eq!(event_of(message).as_deref(), want, "{message}");
        }
    }
}
