//! Registry analysis: hive bytes plus provenance in, evidence rows out.
//!
//! The same code serves exported hives given on the command line, hives found in a
//! mounted directory and (later) hives inside disk images: it never opens files by path.
//! What to look at is data (the catalog's `[[registry]]` rules: hives, key patterns and
//! the parser family); how to read each family is code, one module each.

pub mod artifacts;
pub mod base_block;
pub mod deleted;
pub mod hive;
pub mod kind;
pub mod replay;
pub mod time_zone;

use crate::catalog::{Catalog, RegistryRule, RuleInfo, wildcard_match};
use crate::evidence::{EvidenceRow, RecordState};
use crate::time::Timestamp;
use crate::warning::Warnings;
use base_block::BaseBlock;
use hive::{HiveInput, OpenedHive, Problem, RegKey, RegValue};
use kind::HiveKind;

/// Facts one hive lends to the analysis of the others of the same system.
#[derive(Debug, Default, Clone)]
pub struct SystemContext {
    /// From SOFTWARE's ProfileList: (SID, user name, profile path).
    pub profiles: Vec<(String, String, String)>,
    /// Services found to be NetSession's (lower-cased names).
    pub netsession_services: Vec<String>,
}

impl SystemContext {
    /// The user name of a SID, where ProfileList knows it.
    pub fn user_of_sid(&self, sid: &str) -> Option<&str> {
        self.profiles
            .iter()
            .find(|(s, _, _)| s.eq_ignore_ascii_case(sid))
            .map(|(_, user, _)| user.as_str())
    }

    /// The profile folder named in a path (`...\Users\<u>\...`), spelled as ProfileList
    /// spells it when it knows the profile.
    pub fn user_in_path(&self, path: &str) -> Option<String> {
        let lower = path.to_lowercase().replace('/', "\\");
        for marker in ["\\users\\", "\\documents and settings\\"] {
            if let Some(at) = lower.find(marker) {
                let rest = &path[at + marker.len()..];
                let name = rest.split(['\\', '/']).next().unwrap_or("");
                if name.is_empty() {
                    continue;
                }
                let known = self
                    .profiles
                    .iter()
                    .find(|(_, user, _)| user.to_lowercase() == name.to_lowercase());
                return Some(known.map(|(_, u, _)| u.clone()).unwrap_or(name.to_string()));
            }
        }
        None
    }
}

/// `timestamp_desc` of a row dated by its key's last-write time, the only time most keys
/// keep.
pub const KEY_LAST_WRITTEN: &str = "Key Last Written";

/// `timestamp_desc` of a row about a deleted value recovered from the value-list slack of
/// a live key, dated by that key's last-write time: the value was gone by then.
pub const KEY_WRITTEN_AFTER_DELETION: &str = "Key Last Written (value deleted by then)";

/// `(time, desc)` of a row: the entry's own time where it has one, else its key's
/// last-write time.
pub fn own_time_or_key_written(
    own: Option<Timestamp>,
    desc: &'static str,
    key: &RegKey<'_>,
) -> (Option<Timestamp>, &'static str) {
    match own {
        Some(t) => (Some(t), desc),
        None => (key.last_written(), KEY_LAST_WRITTEN),
    }
}

/// One fact a family found, before it becomes a row.
pub struct Fact<'v> {
    /// The value the fact is about (its offset and state), if any.
    pub value: Option<&'v RegValue>,
    pub time: Option<Timestamp>,
    pub desc: &'static str,
    pub message: String,
    /// The `value` column.
    pub shown: String,
    /// The user, when the fact says whose it is; else the hive's user.
    pub user: Option<String>,
}

/// One hive under analysis: everything a family parser needs to make rows.
pub struct HiveScan<'a, 'h> {
    pub input: &'a HiveInput,
    pub opened: &'a OpenedHive<'a>,
    pub kind: HiveKind,
    pub root: RegKey<'h>,
    pub context: &'a mut SystemContext,
    /// The hive's user (NTUSER, UsrClass), where known.
    pub user: Option<String>,
    /// Catalog terms, lower-cased.
    terms: Vec<String>,
    pub problems: Vec<Problem>,
    pub rows: Vec<EvidenceRow>,
}

impl HiveScan<'_, '_> {
    /// Does the text name NetSession (catalog terms, case-insensitive)?
    pub fn names_netsession(&self, text: &str) -> bool {
        let lower = text.to_lowercase();
        self.terms.iter().any(|t| lower.contains(t.as_str()))
    }

    /// Registry path for rows: `SYSTEM\ControlSet001\Services\Akamai`.
    pub fn reg_path(&self, key: &RegKey<'_>) -> String {
        if key.is_partial() {
            // A recovered key whose parent was lost: the path from the first known key.
            format!("{}\\(parent lost)\\{}", self.kind.name(), key.path)
        } else if key.path.is_empty() {
            self.kind.name().to_string()
        } else {
            format!("{}\\{}", self.kind.name(), key.path)
        }
    }

    /// A row about `key` (and one of its values, when given), with provenance filled in.
    pub fn row(
        &self,
        rule: &RuleInfo,
        key: &RegKey<'_>,
        value: Option<&RegValue>,
        (time, desc): (Option<Timestamp>, &str),
        message: String,
        shown: String,
    ) -> EvidenceRow {
        let offset = value.and_then(|v| v.offset).or_else(|| key.offset());
        let mut locator = format!("hive={}", self.input.evidence_path);
        if let Some(o) = offset {
            locator.push_str(&format!(" offset={o:#x}"));
        }
        let mut message = message;
        let mut shown = shown;
        let deleted_value = value.and_then(|v| v.deleted.as_ref());
        if let Some(cell) = deleted_value.map(|d| d.cell).or_else(|| key.deleted_cell()) {
            locator.push_str(&format!(" cell={cell:#x} recovered-from-free-cell"));
            message.push_str(if key.is_deleted() {
                " [deleted key, recovered from a free cell of the hive]"
            } else {
                " [deleted value, recovered from a free cell of the hive]"
            });
            if !shown.is_empty() {
                shown.push_str("; ");
            }
            shown.push_str("recovered-from-free-cell");
        }
        if let Some(why) = deleted_value.and_then(|d| d.lost.as_ref()) {
            message.push_str(&format!(" [its data was overwritten: {why}]"));
        }
        if let Some(first) = key.lost_values().first() {
            let n = key.lost_values().len();
            message.push_str(&format!(
                " [{n} of its values could not be recovered: {first}{}]",
                if n > 1 { "; ..." } else { "" }
            ));
        }
        if rule.confidence == crate::catalog::Confidence::G {
            message.push_str(" [reasoned guess, not documented]");
        }
        // A live key's last write dates the deletion of a value it held, not the value.
        let desc = if !key.is_deleted() && deleted_value.is_some() && desc == KEY_LAST_WRITTEN {
            KEY_WRITTEN_AFTER_DELETION
        } else {
            desc
        };
        EvidenceRow {
            datetime: time,
            timestamp_desc: desc.to_string(),
            message,
            artifact: rule.id.clone(),
            user: self.user.clone().unwrap_or_default(),
            path: self.reg_path(key),
            value: shown,
            size: None,
            sha256: self.input.sha256.clone(),
            state: self.state_of(key, value),
            source: self.input.source.clone(),
            locator,
        }
    }

    /// Make the row for a fact and add it. The row's user is the fact's, else the hive's.
    pub fn report(&mut self, rule: &RuleInfo, key: &RegKey<'_>, fact: Fact<'_>) {
        let mut row = self.row(
            rule,
            key,
            fact.value,
            (fact.time, fact.desc),
            fact.message,
            fact.shown,
        );
        if let Some(user) = fact.user {
            row.user = user;
        }
        self.rows.push(row);
    }

    /// Make the row for a fact dated by `key`'s last-write time and add it.
    pub fn report_key_written(
        &mut self,
        rule: &RuleInfo,
        key: &RegKey<'_>,
        value: Option<&RegValue>,
        message: String,
        shown: String,
        user: Option<String>,
    ) {
        let fact = Fact {
            value,
            time: key.last_written(),
            desc: KEY_LAST_WRITTEN,
            message,
            shown,
            user,
        };
        self.report(rule, key, fact);
    }

    /// The values of `key` whose name or data names NetSession, with the data as text.
    pub fn netsession_values(&mut self, key: &RegKey<'_>) -> Vec<(RegValue, String)> {
        key.values(&mut self.problems)
            .into_iter()
            .map(|v| {
                let data = v.display();
                (v, data)
            })
            .filter(|(v, data)| self.names_netsession(&v.name) || self.names_netsession(data))
            .collect()
    }

    fn state_of(&self, key: &RegKey<'_>, value: Option<&RegValue>) -> RecordState {
        if key.is_deleted() || value.is_some_and(|v| v.deleted.is_some()) {
            return RecordState::Deleted;
        }
        let key_state = self.opened.state_at(key.offset());
        let value_state = self.opened.state_at(value.and_then(|v| v.offset));
        if key_state == RecordState::FromLog || value_state == RecordState::FromLog {
            RecordState::FromLog
        } else {
            RecordState::Live
        }
    }

    /// The current control set (`Select\Current`), `ControlSet001` when it cannot be read.
    pub fn control_set(&mut self) -> String {
        let current = self
            .root
            .path_to("Select", &mut self.problems)
            .and_then(|select| select.value("Current", &mut self.problems))
            .and_then(|v| v.dword());
        match current {
            Some(n) if (1..=999).contains(&n) => format!("ControlSet{n:03}"),
            _ => {
                self.problems.push((
                    "Select\\Current".into(),
                    "cannot read the current control set; using ControlSet001".into(),
                ));
                "ControlSet001".into()
            }
        }
    }
}

/// Resolve a key pattern from `root`.
fn resolve_keys<'h>(
    root: &RegKey<'h>,
    pattern: &str,
    control_set: &str,
    problems: &mut Vec<Problem>,
) -> Vec<RegKey<'h>> {
    let mut current = vec![root.clone()];
    for part in pattern.split('\\').filter(|p| !p.is_empty()) {
        let part = if part.eq_ignore_ascii_case("<controlset>") {
            control_set
        } else {
            part
        };
        let mut next = Vec::new();
        for key in &current {
            if part.contains(['*', '?']) {
                let glob = part.to_lowercase();
                next.extend(
                    key.subkeys(problems)
                        .into_iter()
                        .filter(|k| wildcard_match(&glob, &k.name.to_lowercase())),
                );
            } else if let Some(k) = key.subkey(part, problems) {
                next.push(k);
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current
}

/// The order hives are analysed in: SYSTEM lends service names to SOFTWARE's svchost
/// groups; everything else is independent.
fn analysis_order(kind: HiveKind) -> u8 {
    match kind {
        HiveKind::System => 0,
        HiveKind::Software => 1,
        _ => 2,
    }
}

/// Analyse the hives of one system (one volume, or the hives given together on the
/// command line). Problems become warnings naming the hive file and the location.
pub fn analyze_hives(
    inputs: &[HiveInput],
    catalog: &Catalog,
    warnings: &Warnings,
) -> Vec<EvidenceRow> {
    let mut opened = Vec::new();
    for input in inputs {
        match OpenedHive::open(input) {
            Ok(hive) => {
                for (location, message) in &hive.problems {
                    warnings.push(&input.source, where_in(input, location), message.clone());
                }
                opened.push((input, hive));
            }
            Err(err) => warnings.push(
                &input.source,
                where_in(input, "base block"),
                format!("not a usable registry hive: {err}"),
            ),
        }
    }
    let mut context = SystemContext::default();
    // Kinds first (cheap), ProfileList second: BAM and user names need it.
    let mut kinds = Vec::new();
    for (input, hive) in &opened {
        let kind = with_root(input, hive, warnings, |root, problems| {
            let kind = kind::detect(
                root,
                &hive.base.file_name,
                file_name(&input.evidence_path),
                problems,
            );
            if kind == HiveKind::Software {
                context
                    .profiles
                    .extend(artifacts::profiles::read(root, problems));
            }
            kind
        });
        kinds.push(kind.unwrap_or(HiveKind::Other));
    }
    let mut order: Vec<usize> = (0..opened.len()).collect();
    order.sort_by_key(|&i| (analysis_order(kinds[i]), i));

    let mut rows = Vec::new();
    for i in order {
        let (input, hive) = &opened[i];
        let kind = kinds[i];
        if kind == HiveKind::Other {
            continue;
        }
        let recovered = recover_deleted(input, hive, warnings);
        let found = with_root(input, hive, warnings, |root, problems| {
            let mut scan = HiveScan {
                input,
                opened: hive,
                kind,
                root: root.clone(),
                context: &mut context,
                user: None,
                terms: catalog
                    .registry_terms
                    .iter()
                    .map(|t| t.to_lowercase())
                    .collect(),
                problems: std::mem::take(problems),
                rows: Vec::new(),
            };
            scan.user = match kind {
                HiveKind::NtUser | HiveKind::UsrClass => input
                    .user_hint
                    .clone()
                    .or_else(|| artifacts::profiles::user_of_user_hive(&mut scan)),
                _ => None,
            };
            let control_set = if kind == HiveKind::System {
                scan.control_set()
            } else {
                String::new()
            };
            for rule in &catalog.registry {
                if !rule
                    .hives
                    .iter()
                    .any(|h| HiveKind::from_rule_name(h) == Some(kind))
                {
                    continue;
                }
                for pattern in &rule.keys {
                    let keys = resolve_keys(
                        &scan.root.clone(),
                        pattern,
                        &control_set,
                        &mut scan.problems,
                    );
                    for key in keys {
                        artifacts::dispatch(&mut scan, rule, &key);
                    }
                }
            }
            if let Some(found) = &recovered.replayed {
                deleted::matching::analyze(&mut scan, catalog, found, &hive.bytes, &control_set);
            }
            if let Some(found) = &recovered.primary {
                let before = scan.rows.len();
                deleted::matching::analyze(&mut scan, catalog, found, &input.bytes, &control_set);
                for row in &mut scan.rows[before..] {
                    row.locator.push_str(" before-log-replay");
                    row.message.push_str(
                        " [in the primary file as it was before log replay: the logs rewrote this place]",
                    );
                }
            }
            *problems = std::mem::take(&mut scan.problems);
            scan.rows
        });
        rows.extend(found.unwrap_or_default());
    }
    rows
}

/// What the free cells of one hive gave back.
struct DeletedFound {
    /// From the hive after log replay (the bytes the live keys are read from).
    replayed: Option<deleted::Recovered>,
    /// From a dirty hive's primary file, only what lies where replay wrote other bytes.
    primary: Option<deleted::Recovered>,
}

/// Deleted keys and values from the free cells of the hive after log replay and, when
/// replay rewrote some of it, of the primary file as it was. Damage to the free space
/// becomes warnings naming the hive and the offset (the primary's only where the
/// replayed hive does not have the same).
fn recover_deleted(input: &HiveInput, hive: &OpenedHive, warnings: &Warnings) -> DeletedFound {
    let search = |bytes: &[u8], base: &BaseBlock, what: &str| {
        let found = crate::guard::call(|| {
            deleted::recover(bytes, base.root_cell_offset, base.hive_bins_data_size)
        });
        match found {
            Ok(found) => Some(found),
            Err(panic) => {
                warnings.push(
                    &input.source,
                    where_in(input, &format!("free cells{what}")),
                    format!("deleted-entry search stopped on damaged data: {panic}"),
                );
                None
            }
        }
    };
    let replayed = search(&hive.bytes, &hive.base, "");
    let reported: Vec<deleted::cells::CellError> =
        replayed.iter().flat_map(|f| f.errors.clone()).collect();
    warn_damage(input, warnings, "", &reported);
    let primary = if hive.recovered.is_empty() {
        None
    } else {
        let before = " of the primary file before log replay";
        BaseBlock::parse_header(&input.bytes)
            .ok()
            .and_then(|base| search(&input.bytes, &base, before))
            .map(|found| {
                let own: Vec<_> = found
                    .errors
                    .iter()
                    .filter(|e| !reported.contains(e))
                    .cloned()
                    .collect();
                warn_damage(input, warnings, before, &own);
                found.rewritten_by_replay(&input.bytes, &hive.bytes)
            })
    };
    DeletedFound { replayed, primary }
}

/// Most damage warnings of one free-cell search; the rest are summed up in one more.
const DAMAGE_WARNINGS: usize = 10;

/// Warnings for the damage a free-cell search met, each naming its offset; past
/// [`DAMAGE_WARNINGS`] one warning names how many more and where the first of them is.
fn warn_damage(
    input: &HiveInput,
    warnings: &Warnings,
    what: &str,
    errors: &[deleted::cells::CellError],
) {
    for err in errors.iter().take(DAMAGE_WARNINGS) {
        let at = format!("free cells{what}, hive-bins offset {:#x}", err.offset());
        warnings.push(
            &input.source,
            where_in(input, &at),
            format!("deleted-entry search: {err}"),
        );
    }
    if let Some(next) = errors.get(DAMAGE_WARNINGS) {
        let at = format!("free cells{what}, hive-bins offset {:#x}", next.offset());
        warnings.push(
            &input.source,
            where_in(input, &at),
            format!(
                "deleted-entry search: {} more damaged places from here on, not listed one by one",
                errors.len() - DAMAGE_WARNINGS
            ),
        );
    }
}

/// Run `f` on the hive's root key; problems it reports become warnings.
/// (SID, user name) of every profile in the SOFTWARE hives among `inputs` (ProfileList),
/// for readers that name accounts by SID (event logs). Damage is left for
/// [`analyze_hives`] to report, once.
pub fn profiles_of(inputs: &[HiveInput]) -> Vec<(String, String)> {
    let quiet = Warnings::new();
    let mut out = Vec::new();
    for input in inputs {
        let Ok(hive) = OpenedHive::open(input) else {
            continue;
        };
        with_root(input, &hive, &quiet, |root, problems| {
            let kind = kind::detect(
                root,
                &hive.base.file_name,
                file_name(&input.evidence_path),
                problems,
            );
            if kind == HiveKind::Software {
                out.extend(
                    artifacts::profiles::read(root, problems)
                        .into_iter()
                        .map(|(sid, user, _)| (sid, user)),
                );
            }
        });
    }
    out
}

fn with_root<T>(
    input: &HiveInput,
    hive: &OpenedHive,
    warnings: &Warnings,
    f: impl FnOnce(&RegKey<'_>, &mut Vec<Problem>) -> T,
) -> Option<T> {
    let nt = match hive.nt_hive() {
        Ok(nt) => nt,
        Err(e) => {
            warnings.push(
                &input.source,
                where_in(input, "hive"),
                format!("cannot read hive: {e}"),
            );
            return None;
        }
    };
    let root = match RegKey::root(&nt, &hive.bytes) {
        Ok(root) => root,
        Err(e) => {
            warnings.push(
                &input.source,
                where_in(input, "root key"),
                format!("cannot read root key: {e}"),
            );
            return None;
        }
    };
    let mut problems = Vec::new();
    let result = crate::guard::call(|| f(&root, &mut problems));
    // Several rules may walk the same damaged list: say it once.
    let mut seen = std::collections::HashSet::new();
    for (location, message) in problems {
        if seen.insert((location.clone(), message.clone())) {
            warnings.push(&input.source, where_in(input, &location), message);
        }
    }
    match result {
        Ok(v) => Some(v),
        Err(panic) => {
            warnings.push(
                &input.source,
                where_in(input, "hive"),
                format!("hive analysis stopped on damaged data: {panic}"),
            );
            None
        }
    }
}

/// A location inside a hive, for warnings: the hive's path when it is not the input
/// itself, then the place.
fn where_in(input: &HiveInput, location: &str) -> String {
    if input.evidence_path == input.source {
        location.to_string()
    } else {
        format!("{}: {location}", input.evidence_path)
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// The rule type the families receive.
pub type Rule = RegistryRule;
