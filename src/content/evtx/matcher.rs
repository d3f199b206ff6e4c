//! Which records the `[[event]]` rules want, decided twice: first on a chunk's raw bytes
//! (a chunk whose UTF-16 text names none of a rule's providers, or none of its terms, is
//! not parsed at all), then on each parsed event.
//!
//! Providers and terms are looked for as UTF-16LE, ASCII letters folded to lower case
//! (event strings are UTF-16; a template holds its provider name in the chunk that uses
//! it). The chunk test may let through a chunk no rule wants in the end (the provider
//! and term may sit in different records); it never drops one a rule wants, except for
//! values stored as ANSI strings, which Windows' own providers do not write.

use memchr::memmem::Finder;

use super::record::Event;
use crate::catalog::EventRule;

/// Why an event is one of a rule's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A field the rule tests names this term.
    Term { field: Option<String>, term: String },
    /// The rule keeps every such event.
    Every,
    /// No term, but its join field has this value: NetSession's if another event with
    /// the same field and value was (decided when every log has been read).
    Join { field: String, value: String },
}

/// Rules compiled for raw chunk tests.
pub struct EventMatcher<'c> {
    pub rules: &'c [EventRule],
    /// Per rule: its providers as folded UTF-16LE needles.
    providers: Vec<Vec<Finder<'static>>>,
    /// Per rule: its terms as folded UTF-16LE needles (empty for `every` and join rules,
    /// which any chunk of their provider may hold).
    terms: Vec<Vec<Finder<'static>>>,
}

impl<'c> EventMatcher<'c> {
    pub fn new(rules: &'c [EventRule]) -> EventMatcher<'c> {
        let needles = |texts: &[String]| -> Vec<Finder<'static>> {
            texts
                .iter()
                .map(|t| Finder::new(&utf16_folded(t)).into_owned())
                .collect()
        };
        EventMatcher {
            rules,
            providers: rules.iter().map(|r| needles(&r.providers)).collect(),
            terms: rules
                .iter()
                .map(|r| {
                    if r.every || r.join_field.is_some() {
                        Vec::new()
                    } else {
                        needles(&r.terms)
                    }
                })
                .collect(),
        }
    }

    /// Is there no rule at all (nothing to read)?
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Could any record of this chunk be one a rule wants? `folded` is the chunk with
    /// ASCII letters folded to lower case.
    pub fn chunk_may_match(&self, folded: &[u8]) -> bool {
        (0..self.rules.len()).any(|i| {
            self.providers[i].iter().any(|p| p.find(folded).is_some())
                && (self.terms[i].is_empty()
                    || self.terms[i].iter().any(|t| t.find(folded).is_some()))
        })
    }

    /// Every rule that wants `event`, with why.
    pub fn matches(&self, event: &Event) -> Vec<(usize, Why)> {
        let provider = event.provider.to_lowercase();
        let channel = event.channel.to_lowercase();
        let mut out = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.covers(&provider, &channel, event.event_id) {
                continue;
            }
            let term = event
                .data
                .iter()
                .filter(|(name, _)| rule.tests_field(name.as_deref()))
                .find_map(|(name, value)| {
                    rule.term_in(value).map(|t| Why::Term {
                        field: name.clone(),
                        term: t.to_string(),
                    })
                });
            if let Some(why) = term {
                out.push((i, why));
            } else if rule.every {
                out.push((i, Why::Every));
            } else if let Some(field) = &rule.join_field
                && let Some(value) = event.field(field)
                && !value.is_empty()
            {
                out.push((
                    i,
                    Why::Join {
                        field: field.clone(),
                        value: value.to_string(),
                    },
                ));
            }
        }
        out
    }
}

/// `text` as UTF-16LE with ASCII letters folded to lower case.
fn utf16_folded(text: &str) -> Vec<u8> {
    text.encode_utf16()
        .flat_map(|u| {
            let u = if u < 0x80 {
                u16::from((u as u8).to_ascii_lowercase())
            } else {
                u
            };
            u.to_le_bytes()
        })
        .collect()
}

/// Fold the ASCII capitals of a chunk to lower case, into `out` (reused). A high byte
/// of a UTF-16 unit may be folded too: that can only let a chunk through, never drop one.
pub fn fold_chunk(chunk: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(chunk.iter().map(u8::to_ascii_lowercase));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn utf16(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn event(provider: &str, channel: &str, id: u16, data: &[(&str, &str)]) -> Event {
        Event {
            provider: provider.into(),
            channel: channel.into(),
            event_id: id,
            data: data
                .iter()
                .map(|(n, v)| (Some(n.to_string()), v.to_string()))
                .collect(),
            ..Event::default()
        }
    }

    const FW: &str = "Microsoft-Windows-Windows Firewall With Advanced Security";
    const FW_CHANNEL: &str = "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall";

    #[test]
    fn chunks_need_a_provider_and_a_term_unless_the_rule_joins() {
        let catalog = Catalog::embedded().unwrap();
        let m = EventMatcher::new(&catalog.events);
        let mut folded = Vec::new();
        let scm = [
            utf16("Service Control Manager"),
            utf16("C:\\X\\NetSession_Win.exe"),
        ]
        .concat();
        fold_chunk(&scm, &mut folded);
        assert!(m.chunk_may_match(&folded));
        fold_chunk(&utf16("Service Control Manager spooler"), &mut folded);
        assert!(!m.chunk_may_match(&folded));
        // The firewall log is read whole: a deletion names only its rule id.
        fold_chunk(&utf16(FW), &mut folded);
        assert!(m.chunk_may_match(&folded));
        fold_chunk(&utf16("netsession"), &mut folded);
        assert!(!m.chunk_may_match(&folded), "a term without a provider");
    }

    #[test]
    fn events_match_by_provider_channel_id_then_terms_or_join() {
        let catalog = Catalog::embedded().unwrap();
        let m = EventMatcher::new(&catalog.events);
        let rule_of = |i: usize| catalog.events[i].info.id.as_str();
        let added = event(
            FW,
            FW_CHANNEL,
            2004,
            &[
                ("RuleId", "{1}"),
                (
                    "ApplicationPath",
                    "C:\\Users\\z\\AppData\\Local\\Akamai\\netsession_win.exe",
                ),
            ],
        );
        let hits = m.matches(&added);
        assert_eq!(hits.len(), 1);
        assert_eq!(rule_of(hits[0].0), "eventlog.firewall_rule_added");
        assert!(matches!(&hits[0].1, Why::Term { term, .. } if term == "netsession"));
        let deleted = event(
            FW,
            FW_CHANNEL,
            2006,
            &[("RuleId", "{1}"), ("RuleName", "x")],
        );
        let hits = m.matches(&deleted);
        assert_eq!(
            hits[0].1,
            Why::Join {
                field: "RuleId".into(),
                value: "{1}".into()
            }
        );
        // The same id and a term, in another provider's or channel's event: not ours.
        let spp = event(
            "Microsoft-Windows-Security-SPP",
            "Application",
            1033,
            &[("x", "netsession")],
        );
        assert!(m.matches(&spp).is_empty());
        let wrong_channel = event("MsiInstaller", "System", 1033, &[("x", "netsession")]);
        assert!(m.matches(&wrong_channel).is_empty());
        let msi = Event {
            provider: "MsiInstaller".into(),
            channel: "Application".into(),
            event_id: 11707,
            data: vec![(None, "Product: Akamai NetSession Interface -- ok".into())],
            ..Event::default()
        };
        assert_eq!(rule_of(m.matches(&msi)[0].0), "eventlog.msi_installed");
        let reset = event(FW, FW_CHANNEL, 2033, &[]);
        assert_eq!(m.matches(&reset)[0].1, Why::Every);
    }
}
