//! Events of Windows event logs that are NetSession's (`[[event]]` in a catalog): matched
//! by provider and channel and id, never by id alone (Microsoft-Windows-Security-SPP also
//! writes 1033/1034 into Application), then by the catalog's terms in chosen fields.
//!
//! ```toml
//! [[event]]
//! id = "eventlog.firewall_rule_added"
//! event = "Firewall Rule Added"                  # the row's timestamp_desc
//! providers = ["Microsoft-Windows-Windows Firewall With Advanced Security"]
//! channels = ["Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"]
//! ids = [2004]
//! fields = ["RuleName", "ApplicationPath"]      # tested against the terms; absent: all
//! user_field = "ModifyingUser"                   # whose act it was; absent: System's UserID
//! join_field = "RuleId"                          # see below
//! what = "..."; proves = "..."; confidence = "S"; source = "..."
//! ```
//!
//! An event of a rule with `join_field` that names no term is still NetSession's when
//! its join field's value is that of an event (of any rule with the same join field)
//! that did: a firewall rule deleted (2006) names only its id, the rule added (2004)
//! names the program.

use serde::Deserialize;

use super::RuleInfo;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRuleDef {
    #[serde(flatten)]
    pub info: RuleInfo,
    /// What the event's time means, as `timestamp_desc`: `Firewall Rule Added`, ...
    pub event: String,
    /// Provider names (`System/Provider/@Name`), compared without case.
    pub providers: Vec<String>,
    /// Channels (`System/Channel`), compared without case.
    pub channels: Vec<String>,
    /// Event ids (`System/EventID`).
    pub ids: Vec<u16>,
    /// Event data fields whose values are tested against the terms; none: every field.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Terms of this rule, replacing the catalog's `[terms] events`.
    #[serde(default)]
    pub terms: Vec<String>,
    /// The field holding the SID of the account that acted; else `System/Security/@UserID`.
    #[serde(default)]
    pub user_field: Option<String>,
    /// The field naming the program concerned (shown first in the row's message).
    #[serde(default)]
    pub subject_field: Option<String>,
    /// The field that ties an event naming no term to one that did (see the module).
    #[serde(default)]
    pub join_field: Option<String>,
    /// Every event of this provider, channel and id is kept, naming a term or not (an
    /// event that concerns every program, such as all firewall rules deleted).
    #[serde(default)]
    pub every: bool,
}

/// One event rule, ready to match: names folded to lower case.
#[derive(Debug, Clone)]
pub struct EventRule {
    pub info: RuleInfo,
    pub event: String,
    /// Lower-cased provider names.
    pub providers: Vec<String>,
    /// Lower-cased channel names.
    pub channels: Vec<String>,
    pub ids: Vec<u16>,
    /// Lower-cased field names; empty: every field.
    pub fields: Vec<String>,
    /// Lower-cased terms (the rule's own, else the catalog's).
    pub terms: Vec<String>,
    pub user_field: Option<String>,
    pub subject_field: Option<String>,
    pub join_field: Option<String>,
    pub every: bool,
    /// Rules that tie events to each other: the catalog's own terms are one group
    /// (empty), each set of a rule's own terms another, so a user's rule for another
    /// program never makes the embedded rules claim its events.
    pub join_group: String,
}

impl EventRule {
    /// Is an event of this provider, channel and id one this rule looks at?
    pub fn covers(&self, lower_provider: &str, lower_channel: &str, id: u16) -> bool {
        self.ids.contains(&id)
            && self.providers.iter().any(|p| p == lower_provider)
            && self.channels.iter().any(|c| c == lower_channel)
    }

    /// Is this field one whose value is tested against the terms?
    pub fn tests_field(&self, name: Option<&str>) -> bool {
        self.fields.is_empty()
            || name.is_some_and(|n| self.fields.iter().any(|f| f.eq_ignore_ascii_case(n)))
    }

    /// The first term found in `value`, compared without case.
    pub fn term_in(&self, value: &str) -> Option<&str> {
        let lower = value.to_lowercase();
        self.terms
            .iter()
            .find(|t| lower.contains(t.as_str()))
            .map(String::as_str)
    }
}

/// Check a rule and fold its names; `catalog_terms` are the `[terms] events` of every
/// catalog loaded.
pub fn compile(def: &EventRuleDef, catalog_terms: &[String]) -> Result<EventRule, String> {
    if def.event.trim().is_empty() {
        return Err("field `event` is empty".into());
    }
    for (field, list) in [("providers", &def.providers), ("channels", &def.channels)] {
        if list.is_empty() || list.iter().any(|v| v.trim().is_empty()) {
            return Err(format!("field `{field}` needs at least one non-empty name"));
        }
    }
    if def.ids.is_empty() {
        return Err("field `ids` needs at least one event id".into());
    }
    let own: Vec<String> = def.terms.iter().map(|t| t.to_lowercase()).collect();
    if own.iter().any(|t| t.trim().is_empty()) {
        return Err("field `terms` holds an empty term".into());
    }
    let join_group = own.join("\u{1}");
    let terms = if own.is_empty() {
        catalog_terms.iter().map(|t| t.to_lowercase()).collect()
    } else {
        own
    };
    if terms.is_empty() {
        return Err("no terms: give `terms` or a catalog `[terms] events`".into());
    }
    let lower = |v: &Vec<String>| v.iter().map(|s| s.trim().to_lowercase()).collect();
    Ok(EventRule {
        info: def.info.clone(),
        event: def.event.clone(),
        providers: lower(&def.providers),
        channels: lower(&def.channels),
        ids: def.ids.clone(),
        fields: lower(&def.fields),
        terms,
        user_field: def.user_field.clone(),
        subject_field: def.subject_field.clone(),
        join_field: def.join_field.clone(),
        every: def.every,
        join_group,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(toml_text: &str) -> EventRuleDef {
        toml::from_str(toml_text).unwrap()
    }

    const BASE: &str = "id = \"x\"\nwhat = \"w\"\nproves = \"p\"\nconfidence = \"S\"\nsource = \"s\"\nevent = \"Service Installed\"\nproviders = [\"Service Control Manager\"]\nchannels = [\"System\"]\nids = [7045]\n";

    #[test]
    fn rules_match_provider_channel_and_id_together() {
        let rule = compile(&def(BASE), &["NetSession".into()]).unwrap();
        assert!(rule.covers("service control manager", "system", 7045));
        assert!(!rule.covers("service control manager", "application", 7045));
        assert!(!rule.covers("msiinstaller", "system", 7045));
        assert!(!rule.covers("service control manager", "system", 7036));
        assert_eq!(
            rule.term_in("C:\\x\\NETSESSION_win.exe"),
            Some("netsession")
        );
        assert!(rule.tests_field(None) && rule.tests_field(Some("ImagePath")));
    }

    #[test]
    fn own_terms_and_fields_replace_the_catalogs() {
        let text = format!("{BASE}terms = [\"svchost\"]\nfields = [\"ImagePath\"]\n");
        let rule = compile(&def(&text), &["netsession".into()]).unwrap();
        assert_eq!(rule.terms, vec!["svchost".to_string()]);
        assert!(rule.tests_field(Some("imagepath")) && !rule.tests_field(Some("ServiceName")));
        assert!(!rule.tests_field(None));
    }

    #[test]
    fn incomplete_rules_are_refused_with_the_field() {
        let no_ids = BASE.replace("ids = [7045]\n", "ids = []\n");
        assert!(
            compile(&def(&no_ids), &["a".into()])
                .unwrap_err()
                .contains("ids")
        );
        let no_channel = BASE.replace("[\"System\"]", "[]");
        let err = compile(&def(&no_channel), &["a".into()]).unwrap_err();
        assert!(err.contains("channels"), "{err}");
        assert!(compile(&def(BASE), &[]).unwrap_err().contains("terms"));
    }
}
