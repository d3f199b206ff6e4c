//! Recovered keys and values to rows, through the catalog like live ones: a recovered
//! key whose path (complete, up to the root) matches a rule's key pattern goes to that
//! rule's family, which sees its recovered values and subkeys as it would a live key's.
//! What names NetSession but no rule placed (a key with a partial path, a key under no
//! rule's pattern, a value whose key is unknown) is reported by the `deleted_entry`
//! rule. Every such row has state `deleted`; `HiveScan::row` adds the cell offset to its
//! locator and `recovered-from-free-cell` to its value.

use super::Recovered;
use super::slack::LiveOwner;
use crate::catalog::{Catalog, RegistryFamily, RegistryRule, wildcard_match};
use crate::evidence::{EvidenceRow, RecordState};
use crate::registry::hive::{RegKey, RegValue};
use crate::registry::kind::HiveKind;
use crate::registry::{HiveScan, artifacts};

/// `timestamp_desc` of a recovered value whose key is unknown: a value keeps no time.
pub const NO_TIME: &str = "Recovered (no time)";

/// Does the rule read hives of this kind?
fn applies(rule: &RegistryRule, kind: HiveKind) -> bool {
    rule.hives
        .iter()
        .any(|h| HiveKind::from_rule_name(h) == Some(kind))
}

/// Does a key path match a rule's pattern, component by component (`*`, `?`
/// wildcards; `<controlset>` the current control set or any `ControlSetNNN`)?
pub fn path_matches(pattern: &str, path: &str, control_set: &str) -> bool {
    let want: Vec<&str> = pattern.split('\\').filter(|p| !p.is_empty()).collect();
    let have: Vec<&str> = path.split('\\').filter(|p| !p.is_empty()).collect();
    want.len() == have.len()
        && want.iter().zip(&have).all(|(w, h)| {
            if w.eq_ignore_ascii_case("<controlset>") {
                h.eq_ignore_ascii_case(control_set) || is_control_set(h)
            } else if w.contains(['*', '?']) {
                wildcard_match(&w.to_lowercase(), &h.to_lowercase())
            } else {
                w.to_lowercase() == h.to_lowercase()
            }
        })
}

fn is_control_set(name: &str) -> bool {
    name.len() == 13
        && name.is_char_boundary(10)
        && name[..10].eq_ignore_ascii_case("ControlSet")
        && name[10..].bytes().all(|b| b.is_ascii_digit())
}

/// Rows of what `found` holds, added to `scan`.
pub fn analyze(
    scan: &mut HiveScan<'_, '_>,
    catalog: &Catalog,
    found: &Recovered,
    bytes: &[u8],
    control_set: &str,
) {
    let mut placed = vec![false; found.keys.len()];
    for rule in &catalog.registry {
        if rule.family == RegistryFamily::DeletedEntry || !applies(rule, scan.kind) {
            continue;
        }
        for pattern in &rule.keys {
            for (i, k) in found.keys.iter().enumerate() {
                if !k.complete || !path_matches(pattern, &k.path, control_set) {
                    continue;
                }
                let Some(key) = RegKey::deleted(found, i, bytes) else {
                    continue;
                };
                let before = scan.rows.len();
                artifacts::dispatch(scan, rule, &key);
                placed[i] |= scan.rows.len() > before;
            }
        }
    }
    // Live keys with deleted values in their value-list slack, as the rules see them.
    let mut owner_placed = vec![false; found.owners.len()];
    for rule in &catalog.registry {
        if rule.family == RegistryFamily::DeletedEntry || !applies(rule, scan.kind) {
            continue;
        }
        for pattern in &rule.keys {
            for (i, o) in found.owners.iter().enumerate() {
                if !path_matches(pattern, &o.path, control_set) {
                    continue;
                }
                let Some(key) = RegKey::with_deleted_values(found, i, bytes) else {
                    continue;
                };
                let before = scan.rows.len();
                artifacts::dispatch(scan, rule, &key);
                owner_placed[i] |= scan.rows.len() > before;
            }
        }
    }
    for rule in &catalog.registry {
        if rule.family != RegistryFamily::DeletedEntry || !applies(rule, scan.kind) {
            continue;
        }
        for (i, _) in found.keys.iter().enumerate().filter(|(i, _)| !placed[*i]) {
            if let Some(key) = RegKey::deleted(found, i, bytes) {
                unplaced_key(scan, rule, &key);
            }
        }
        for &v in &found.orphans {
            if let Some(value) = found.values.get(v) {
                orphan_value(scan, rule, &RegValue::recovered(value), None);
            }
        }
        for (_, o) in found
            .owners
            .iter()
            .enumerate()
            .filter(|(i, _)| !owner_placed[*i])
        {
            for value in o.values.iter().filter_map(|&v| found.values.get(v)) {
                orphan_value(scan, rule, &RegValue::recovered(value), Some(o));
            }
        }
    }
}

/// A recovered key no rule placed: a row when its path, name or values name NetSession.
fn unplaced_key(scan: &mut HiveScan<'_, '_>, rule: &RegistryRule, key: &RegKey<'_>) {
    let values = key.values(&mut scan.problems);
    let shown: Vec<String> = values
        .iter()
        .map(|v| format!("{} = {}", v.display_name(), v.display()))
        .collect();
    let shown = shown.join("; ");
    if !scan.names_netsession(&key.path) && !scan.names_netsession(&shown) {
        return;
    }
    let place = if key.is_partial() {
        "its parent key was lost, so its path is partial"
    } else {
        "no rule reads keys at this path"
    };
    let message = format!(
        "Deleted key {} naming NetSession, with {} recovered value(s) ({place}); key last written at this time: the last time it is known present",
        key.name,
        values.len()
    );
    let user = scan
        .user
        .clone()
        .or_else(|| scan.context.user_in_path(&shown));
    scan.report_key_written(&rule.info, key, None, message, shown, user);
}

/// A recovered value no recovered key lists: a row when it names NetSession. Its key is
/// unknown and it keeps no time of its own.
fn orphan_value(
    scan: &mut HiveScan<'_, '_>,
    rule: &RegistryRule,
    value: &RegValue,
    owner: Option<&LiveOwner>,
) {
    let data = value.display();
    if !scan.names_netsession(&value.name) && !scan.names_netsession(&data) {
        return;
    }
    let Some(note) = &value.deleted else { return };
    let mut locator = format!("hive={}", scan.input.evidence_path);
    if let Some(o) = value.offset {
        locator.push_str(&format!(" offset={o:#x}"));
    }
    locator.push_str(&format!(" cell={:#x} recovered-from-free-cell", note.cell));
    let mut message = match owner {
        None => format!(
            "Deleted value \"{}\" = {data} naming NetSession, recovered from a free cell; the key it was in is unknown (no value list that names it survives) and a value keeps no time of its own",
            value.display_name()
        ),
        Some(o) => format!(
            "Deleted value \"{}\" = {data} naming NetSession, recovered from a free cell; the value list of the live key {} still names it past its count; key last written at this time (at or after the deletion)",
            value.display_name(),
            o.path
        ),
    };
    if let Some(why) = &note.lost {
        message.push_str(&format!(" [its data was overwritten: {why}]"));
    }
    let user = scan
        .user
        .clone()
        .or_else(|| scan.context.user_in_path(&format!("{} {data}", value.name)));
    let (datetime, desc, path) = match owner {
        None => (
            None,
            NO_TIME,
            format!("{}\\(key unknown)", scan.kind.name()),
        ),
        Some(o) => (
            o.last_written,
            crate::registry::KEY_WRITTEN_AFTER_DELETION,
            format!("{}\\{}", scan.kind.name(), o.path),
        ),
    };
    scan.rows.push(EvidenceRow {
        datetime,
        timestamp_desc: desc.to_string(),
        message,
        artifact: rule.info.id.clone(),
        user: user.unwrap_or_default(),
        path,
        value: format!(
            "{} = {data}; recovered-from-free-cell",
            value.display_name()
        ),
        size: None,
        sha256: scan.input.sha256.clone(),
        state: RecordState::Deleted,
        source: scan.input.source.clone(),
        locator,
    });
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn patterns_match_recovered_paths_by_component() {
        let p = r"Software\Microsoft\Windows\CurrentVersion\Uninstall\*";
        assert!(path_matches(
            p,
            r"Software\Microsoft\Windows\CurrentVersion\Uninstall\Akamai NetSession Interface",
            ""
        ));
        assert!(!path_matches(
            p,
            r"Software\Microsoft\Windows\CurrentVersion\Uninstall",
            ""
        ));
        assert!(path_matches(
            r"<controlset>\Services\*",
            r"ControlSet002\Services\Akamai",
            "ControlSet001"
        ));
        assert!(!path_matches(
            r"<controlset>\Services\*",
            r"Setup\Services\Akamai",
            "ControlSet001"
        ));
        assert!(path_matches(r"a\RUN", r"A\run", ""));
    }
}
