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

pub(super) fn counted(map: BTreeMap<String, usize>) -> Vec<Counted> {
    map.into_iter()
        .map(|(value, rows)| Counted { value, rows })
        .collect()
}

pub(super) fn count_values<'a>(values: impl Iterator<Item = &'a str>) -> Vec<Counted> {
    let mut map: BTreeMap<String, usize> = BTreeMap::new();
    for v in values {
        *map.entry(v.to_string()).or_default() += 1;
    }
    counted(map)
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

/// Earliest of timed rows, ties broken by timeline order.
pub(super) fn earliest<'a>(rows: impl Iterator<Item = &'a EvidenceRow>) -> Option<&'a EvidenceRow> {
    rows.filter(|r| r.datetime.is_some())
        .min_by(|a, b| a.timeline_cmp(b))
}

/// Latest of timed rows, ties broken by timeline order.
pub(super) fn latest<'a>(rows: impl Iterator<Item = &'a EvidenceRow>) -> Option<&'a EvidenceRow> {
    rows.filter(|r| r.datetime.is_some())
        .max_by(|a, b| a.timeline_cmp(b))
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
