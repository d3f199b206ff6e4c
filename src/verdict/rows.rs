//! Reading rows: the fields of a value, counting values, and the times rows give.

use std::collections::BTreeMap;

use super::{Counted, Moment};
use crate::evidence::EvidenceRow;

/// The `Name=value` field of a `; `-separated value, as the registry and journal rows
/// write them (`Action=Allow; Dir=In; ...`).
pub(super) fn field<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    value.split("; ").find_map(|part| {
        let (key, v) = part.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// How many rows give each distinct value.
#[derive(Debug, Default)]
pub(super) struct Tally(BTreeMap<String, usize>);

impl Tally {
    pub fn add(&mut self, value: &str) {
        // Most values repeat: look up before allocating a key.
        match self.0.get_mut(value) {
            Some(n) => *n += 1,
            None => {
                self.0.insert(value.to_string(), 1);
            }
        }
    }

    /// Sorted by value.
    pub fn into_counted(self) -> Vec<Counted> {
        self.0
            .into_iter()
            .map(|(value, rows)| Counted { value, rows })
            .collect()
    }
}

/// True when the row's only time is an access time. Access times move whenever anyone
/// (an indexer, an antivirus, the copy to the triage disk) reads the file, so they say
/// little about NetSession itself. A row whose time is also a creation or modification
/// time ("Created, Modified, Accessed ($SI)") is a creation or modification time, and
/// keeps counting.
pub(super) fn is_access_only(desc: &str) -> bool {
    let labels = desc.split('(').next().unwrap_or_default();
    let mut parts = labels.split(',').map(str::trim).filter(|p| !p.is_empty());
    let mut any = false;
    parts.all(|p| {
        any = true;
        p.eq_ignore_ascii_case("accessed") || p.eq_ignore_ascii_case("last accessed")
    }) && any
}

pub(super) fn moment(row: &EvidenceRow) -> Option<Moment> {
    Some(Moment {
        time: row.datetime?,
        artifact: row.artifact.clone(),
        timestamp_desc: row.timestamp_desc.clone(),
        path: row.path.clone(),
    })
}

/// The earliest (`LATEST` false) or latest timed row seen, by timeline order, whatever
/// order the rows come in.
#[derive(Debug, Default)]
pub(super) struct Extreme<const LATEST: bool>(Option<EvidenceRow>);

pub(super) type Earliest = Extreme<false>;
pub(super) type Latest = Extreme<true>;

impl<const LATEST: bool> Extreme<LATEST> {
    pub fn add(&mut self, row: &EvidenceRow) {
        if row.datetime.is_none() {
            return;
        }
        let wanted = if LATEST {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Less
        };
        match &mut self.0 {
            Some(best) if row.timeline_cmp(best) == wanted => best.clone_from(row),
            Some(_) => {}
            None => self.0 = Some(row.clone()),
        }
    }

    pub fn row(&self) -> Option<&EvidenceRow> {
        self.0.as_ref()
    }

    pub fn moment(&self) -> Option<Moment> {
        self.row().and_then(moment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_reads_semicolon_separated_values() {
        let v = "Action=Allow; Dir=In; Protocol=TCP (6); Profiles=Domain, Private; App=c:\\a=b\\x.exe; QueryUser=yes";
        assert_eq!(field(v, "action"), Some("Allow"));
        assert_eq!(field(v, "Profiles"), Some("Domain, Private"));
        assert_eq!(field(v, "App"), Some("c:\\a=b\\x.exe"));
        assert_eq!(field(v, "QueryUser"), Some("yes"));
        assert_eq!(field(v, "Missing"), None);
    }
}
