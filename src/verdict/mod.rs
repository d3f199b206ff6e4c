//! The verdict: what the evidence rows say about NetSession, per volume and per user, in
//! a few sentences an examiner can check against the evidence file.
//!
//! It reads the rows only (never the evidence again), so it can claim no more than the
//! evidence file holds, and every statement names how many rows support it. Absence is
//! worded with care: "no trace found in what was scanned" is never "never installed"
//! (a wiped disk, a volume or hive not given, or a trace the catalog does not know all
//! leave no rows).
//!
//! Grouping: per volume (the row's `source`), then per user (the row's `user`; an empty
//! user is "machine-wide / user unknown"). Rows with an empty user whose path names a
//! profile stay machine-wide: guessing the owner from a path would be a second opinion
//! the evidence file does not carry. Everything is kept in BTreeMaps and every choice
//! between equal candidates follows the rows' timeline order, so the same rows give the
//! same verdict, byte for byte, in any order.

//!
//! Layout: one module per statement (or pair of statements read from the same rows),
//! each with its data, how it is computed and how it is worded — `install` (install
//! state and where), `builds`, `seen` (first and last seen), `autostart`, `execution`
//! (last execution), `firewall`, `upload` (peer upload), `removal`. `rows` reads fields,
//! counts and times from rows; `statement` is the vocabulary of the sentences; `render`
//! lays them out as text or Markdown. This module groups the rows and holds the types
//! they share.

mod autostart;
mod builds;
mod execution;
mod firewall;
mod install;
mod removal;
mod render;
mod rows;
mod seen;
mod statement;
#[cfg(test)]
mod test_support;
mod upload;

use std::collections::BTreeMap;

use crate::evidence::{EvidenceRow, RecordState};
use crate::time::Timestamp;

pub use autostart::AutostartEntry;
pub use builds::{Build, Builds};
pub use execution::{Execution, ExecutionEvidence, ExecutionKind};
pub use firewall::{Firewall, FirewallDecision, ProfileRules, XpException};
pub use install::{Folder, Install, InstallState};
pub use removal::{FileCoverage, Removal};
pub use seen::Seen;
pub use upload::Upload;

use autostart::autostart;
use builds::builds;
use execution::execution;
use firewall::firewall;
use install::install;
use removal::removal;
use seen::seen;
use upload::upload;

/// What the rows say, per volume and user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Rows the verdict was computed from.
    pub rows: usize,
    /// One per `source`, sorted by it.
    pub volumes: Vec<VolumeVerdict>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeVerdict {
    pub source: String,
    pub rows: usize,
    /// The strongest state of its users.
    pub state: InstallState,
    /// Every row is a registry fact: if hives were given alone, no file system was
    /// scanned, and "only remnants" may just mean "files not looked at" (see
    /// [`Removal::files`], which tells the two apart where the rows can).
    pub registry_only: bool,
    /// Machine-wide first (empty user), then users by name.
    pub scopes: Vec<ScopeVerdict>,
}

/// The verdict for one user of one volume (or the machine-wide rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeVerdict {
    /// Empty = machine-wide / user unknown.
    pub user: String,
    pub rows: usize,
    pub install: Install,
    pub builds: Builds,
    pub seen: Seen,
    pub autostart: Vec<AutostartEntry>,
    pub execution: Execution,
    pub firewall: Firewall,
    pub upload: Upload,
    pub removal: Removal,
}

/// A value and how many rows support it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub value: String,
    pub rows: usize,
}

/// A time and the row that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    pub time: Timestamp,
    pub artifact: String,
    pub timestamp_desc: String,
    pub path: String,
}

/// The verdict of these rows.
pub fn verdict(rows: &[EvidenceRow]) -> Verdict {
    let mut by_volume: BTreeMap<&str, BTreeMap<&str, Vec<&EvidenceRow>>> = BTreeMap::new();
    for row in rows {
        by_volume
            .entry(row.source.as_str())
            .or_default()
            .entry(row.user.as_str())
            .or_default()
            .push(row);
    }
    let volumes = by_volume
        .into_iter()
        .map(|(source, users)| volume_verdict(source, users))
        .collect();
    Verdict {
        rows: rows.len(),
        volumes,
    }
}

fn volume_verdict(source: &str, users: BTreeMap<&str, Vec<&EvidenceRow>>) -> VolumeVerdict {
    let registry_only = users.values().flatten().all(|r| is_registry_state(r.state));
    let files = if registry_only {
        FileCoverage::of_registry_rows(users.values().flatten().copied())
    } else {
        FileCoverage::Scanned
    };
    let scopes: Vec<ScopeVerdict> = users
        .into_iter()
        .map(|(user, mut rows)| {
            // Timeline order makes every later choice independent of the input order.
            rows.sort_by(|a, b| a.timeline_cmp(b));
            scope_verdict(user, &rows, files)
        })
        .collect();
    VolumeVerdict {
        source: source.to_string(),
        rows: scopes.iter().map(|s| s.rows).sum(),
        state: scopes
            .iter()
            .map(|s| s.install.state)
            .max()
            .unwrap_or(InstallState::NoTrace),
        registry_only,
        scopes,
    }
}

fn scope_verdict(user: &str, rows: &[&EvidenceRow], files: FileCoverage) -> ScopeVerdict {
    let install = install(rows);
    let removal = removal(rows, install.present_rows, files);
    ScopeVerdict {
        user: user.to_string(),
        rows: rows.len(),
        builds: builds(rows),
        seen: seen(rows),
        autostart: autostart(rows),
        execution: execution(rows),
        firewall: firewall(rows),
        upload: upload(rows),
        install,
        removal,
    }
}

fn is_registry_state(state: RecordState) -> bool {
    matches!(state, RecordState::Live | RecordState::FromLog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    #[test]
    fn volumes_and_users_are_grouped_and_sorted() {
        let mut a = row(
            "install.client",
            "Zoe",
            r"Users\Zoe\AppData\Local\Akamai\netsession_win.exe",
            "",
        );
        a.source = "b-disk".into();
        let mut b = row("registry.run", "", r"SOFTWARE\Run", "x = y");
        b.source = "a-disk".into();
        let c = row(
            "install.client",
            "Adam",
            r"Users\Adam\AppData\Local\Akamai\netsession_win.exe",
            "",
        );
        let mut d = c.clone();
        d.user = String::new();
        d.source = "b-disk".into();
        let v = verdict(&[a, b, c, d]);
        let sources: Vec<&str> = v.volumes.iter().map(|v| v.source.as_str()).collect();
        assert_eq!(sources, ["a-disk", "b-disk", SRC]);
        let users: Vec<&str> = v.volumes[1]
            .scopes
            .iter()
            .map(|s| s.user.as_str())
            .collect();
        assert_eq!(users, ["", "Zoe"], "machine-wide first");
        assert_eq!(v.volumes[0].state, InstallState::Remnants);
        assert!(v.volumes[0].registry_only);
        assert!(!v.volumes[1].registry_only);
        let text = v.to_text();
        assert!(
            text.contains("  machine-wide / user unknown (1 row)\n"),
            "{text}"
        );
        assert!(text.contains("  user Zoe (1 row)\n"), "{text}");
        assert!(
            text.contains("the files of this system were not scanned"),
            "{text}"
        );
    }

    #[test]
    fn same_rows_in_any_order_give_the_same_verdict() {
        let rows = mixed_rows();
        let forward = verdict(&rows);
        let mut reversed = rows.clone();
        reversed.reverse();
        let mut rotated = rows.clone();
        rotated.rotate_left(3);
        for other in [verdict(&reversed), verdict(&rotated)] {
            assert_eq!(other, forward);
            assert_eq!(other.to_text(), forward.to_text());
            assert_eq!(other.to_markdown(), forward.to_markdown());
        }
    }
}
