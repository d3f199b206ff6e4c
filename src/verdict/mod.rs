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
//! state and where), `client` (what NetSession's own files say), `builds`, `seen` (first and last seen), `autostart`, `execution`
//! (last execution), `firewall`, `upload` (peer upload), `removal`. `rows` reads fields,
//! counts and times from rows; `statement` is the vocabulary of the sentences; `render`
//! lays them out as text or Markdown. This module groups the rows and holds the types
//! they share.

mod autostart;
mod builds;
mod client;
mod events;
mod execution;
mod firewall;
mod install;
pub mod json;
mod presence;
mod removal;
mod render;
pub mod report;
mod rows;
mod seen;
mod snapshots;
mod statement;
#[cfg(test)]
mod test_support;
mod upload;

use std::collections::BTreeMap;

use crate::evidence::{EvidenceRow, RecordState};
use crate::time::Timestamp;

pub use autostart::AutostartEntry;
pub use builds::{Build, Builds};
pub use client::{Client, Outcome, PublicIp, VersionSeen};
pub use events::{Change, Connections, EventHistory, RuleHistory, ServiceInstall, Span};
pub use execution::{Execution, ExecutionEvidence, ExecutionKind};
pub use firewall::{Firewall, FirewallDecision, ProfileRules, XpException};
pub use install::{Folder, Install, InstallState};
pub use presence::{Presence, Sighting};
pub use removal::{FileCoverage, Removal};
pub use seen::Seen;
pub use upload::{SrumTotals, Upload};

use autostart::AutostartAcc;
use builds::BuildsAcc;
use client::ClientAcc;
use events::EventsAcc;
use execution::ExecutionAcc;
use firewall::FirewallAcc;
use install::InstallAcc;
use removal::{RemovalAcc, is_from_hive_given_alone};
use seen::SeenAcc;
use upload::UploadAcc;

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
    /// What the event logs say (a system's logs are the system's, whoever's account an
    /// event names).
    pub events: EventHistory,
    /// For a shadow copy the scan read: how many of its rows were left out as equal to
    /// the live volume's (a snapshot may have no row of its own and still be here).
    pub repeated: Option<u64>,
    /// For a shadow copy the scan read: the warnings naming it while it was read. With
    /// any, rows may be missing from it, and missing rows say nothing.
    pub read_warnings: usize,
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
    /// What NetSession's own files say.
    pub client: Client,
    pub builds: Builds,
    pub seen: Seen,
    pub autostart: Vec<AutostartEntry>,
    pub execution: Execution,
    pub firewall: Firewall,
    pub upload: Upload,
    pub removal: Removal,
    /// Last known present, first known absent (live volumes; joined with their
    /// snapshots after every volume is built).
    pub presence: Presence,
}

/// A value and how many rows support it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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

/// The verdict of these rows (in any order).
pub fn verdict(rows: &[EvidenceRow]) -> Verdict {
    let mut builder = VerdictBuilder::new();
    rows.iter().for_each(|row| builder.add(row));
    builder.finish()
}

/// Builds the verdict one row at a time, so that it can follow rows streamed from disk:
/// memory grows with the distinct things the statements name (volumes, users, files,
/// builds, rules), not with the rows. Rows may come in any order.
#[derive(Debug, Default)]
pub struct VerdictBuilder {
    rows: usize,
    volumes: BTreeMap<String, VolumeAcc>,
}

#[derive(Debug)]
struct VolumeAcc {
    /// Every row so far is a registry fact.
    registry_only: bool,
    /// Every row so far came from a hive given alone on the command line.
    hives_given_alone: bool,
    events: EventsAcc,
    users: BTreeMap<String, ScopeAcc>,
    /// The hives and event logs given on their own that make up [`GIVEN_ALONE`].
    given: std::collections::BTreeSet<String>,
    /// A shadow copy the scan read: its rows left out as equal to the live volume's.
    repeated: Option<u64>,
    /// A shadow copy the scan read: the warnings naming it while it was read.
    read_warnings: usize,
}

impl Default for VolumeAcc {
    fn default() -> Self {
        VolumeAcc {
            registry_only: true,
            hives_given_alone: true,
            events: EventsAcc::default(),
            users: BTreeMap::new(),
            given: Default::default(),
            repeated: None,
            read_warnings: 0,
        }
    }
}

/// The key of the one system that the hives and event logs given on their own make up:
/// the scan analyses them together (SOFTWARE's ProfileList names SYSTEM's SIDs), so the
/// verdict speaks of them as one system, not one "volume" per file. No path is empty.
const GIVEN_ALONE: &str = "";

/// One user of one volume: each statement's builder.
#[derive(Debug, Default)]
struct ScopeAcc {
    rows: usize,
    install: InstallAcc,
    client: ClientAcc,
    builds: BuildsAcc,
    seen: SeenAcc,
    autostart: AutostartAcc,
    execution: ExecutionAcc,
    firewall: FirewallAcc,
    upload: UploadAcc,
    removal: RemovalAcc,
}

impl VerdictBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, row: &EvidenceRow) {
        self.rows += 1;
        let alone = is_from_hive_given_alone(row) || is_from_log_given_alone(row);
        let key = if alone {
            GIVEN_ALONE
        } else {
            row.source.as_str()
        };
        let volume = match self.volumes.get_mut(key) {
            Some(v) => v,
            None => self.volumes.entry(key.to_string()).or_default(),
        };
        if alone && !volume.given.contains(&row.source) {
            volume.given.insert(row.source.clone());
        }
        // A key or value recovered from a hive's free cells is a registry fact too.
        volume.registry_only &= is_registry_state(row.state) || removal::is_deleted_registry(row);
        volume.hives_given_alone &= is_from_hive_given_alone(row) || is_from_log_given_alone(row);
        volume.events.add(row);
        let key = user_key(&mut volume.users, &row.user);
        volume.users.entry(key).or_default().add(row);
    }

    /// A shadow copy the scan read (`source`), with how many of its rows were left out
    /// as equal to the live volume's and the warnings naming it while it was read: it is
    /// a volume of the verdict even with no row of its own, since having none says what
    /// it held (nothing more than the live volume; no install at all where the live
    /// volume has none either), when it was read without warnings.
    pub fn snapshot(&mut self, source: &str, repeated: u64, warnings: usize) {
        let volume = match self.volumes.get_mut(source) {
            Some(v) => v,
            None => self.volumes.entry(source.to_string()).or_default(),
        };
        volume.repeated = Some(repeated);
        volume.read_warnings = warnings;
    }

    pub fn finish(self) -> Verdict {
        let mut volumes: Vec<VolumeVerdict> = self
            .volumes
            .into_iter()
            .map(|(source, volume)| volume.finish(source))
            .collect();
        // A snapshot with no row of its own is said only of a volume the verdict speaks
        // of: a volume with no trace at all is not listed, nor are its snapshots.
        let sources: std::collections::BTreeSet<String> =
            volumes.iter().map(|v| v.source.clone()).collect();
        volumes.retain(|v| {
            v.rows > 0
                || snapshots::snapshot_of(&v.source).is_none_or(|(live, _)| sources.contains(live))
        });
        presence::join(&mut volumes);
        Verdict {
            rows: self.rows,
            volumes,
        }
    }
}

/// The scope a row's user belongs to. Windows profile names are case-insensitive and
/// some sources store them upper-cased (Prefetch paths: `\USERS\ZOE\`), so `ZOE` and
/// `Zoe` are one user, named as a source that kept the case names them.
fn user_key(users: &mut BTreeMap<String, ScopeAcc>, user: &str) -> String {
    if users.contains_key(user) {
        return user.to_string();
    }
    let lower = user.to_lowercase();
    let Some(existing) = users.keys().find(|k| k.to_lowercase() == lower).cloned() else {
        return user.to_string();
    };
    let upper_only = |s: &str| s.chars().all(|c| !c.is_lowercase());
    if upper_only(&existing) && !upper_only(user) {
        // a better-cased name: the scope takes it
        let scope = users.remove(&existing).unwrap_or_default();
        users.insert(user.to_string(), scope);
        return user.to_string();
    }
    existing
}

impl VolumeAcc {
    fn finish(self, key: String) -> VolumeVerdict {
        let source = if key == GIVEN_ALONE && !self.given.is_empty() {
            let files: Vec<&str> = self.given.iter().map(String::as_str).collect();
            format!(
                "{} (given on their own, read as one system)",
                files.join(", ")
            )
        } else {
            key
        };
        let files = if self.registry_only {
            FileCoverage::of_registry_rows(self.hives_given_alone)
        } else {
            FileCoverage::Scanned
        };
        let mut scopes: Vec<ScopeVerdict> = self
            .users
            .into_iter()
            .map(|(user, scope)| scope.finish(user, files))
            .collect();
        // One statement per volume: a scope of remnants names where the install is.
        let installed: Vec<String> = scopes
            .iter()
            .filter(|s| s.install.state == InstallState::Installed)
            .map(|s| s.user.clone())
            .collect();
        for scope in &mut scopes {
            if scope.install.state == InstallState::Remnants {
                scope.install.installed_in = installed.clone();
            }
        }
        VolumeVerdict {
            source,
            rows: scopes.iter().map(|s| s.rows).sum(),
            state: scopes
                .iter()
                .map(|s| s.install.state)
                .max()
                .unwrap_or(InstallState::NoTrace),
            // No row at all (a snapshot with none of its own) is no registry-only source.
            registry_only: self.registry_only && !scopes.is_empty(),
            events: self.events.finish(),
            repeated: self.repeated,
            read_warnings: self.read_warnings,
            scopes,
        }
    }
}

impl ScopeAcc {
    fn add(&mut self, row: &EvidenceRow) {
        self.rows += 1;
        self.install.add(row);
        self.client.add(row);
        self.builds.add(row);
        self.seen.add(row);
        self.autostart.add(row);
        self.execution.add(row);
        self.firewall.add(row);
        self.upload.add(row);
        self.removal.add(row);
    }

    fn finish(self, user: String, files: FileCoverage) -> ScopeVerdict {
        let mut install = self.install.finish();
        let client = self.client.finish();
        // Files present that are only what a failed attempt leaves (a GUID file, the
        // installer's log) are no installation.
        if client.outcome == Outcome::AttemptFailed && install.state == InstallState::Installed {
            install.state = InstallState::Attempted;
        }
        let removal = self.removal.finish(install.present_rows, files);
        ScopeVerdict {
            user,
            rows: self.rows,
            builds: self.builds.finish(),
            seen: self.seen.finish(),
            autostart: self.autostart.finish(),
            execution: self.execution.finish(),
            firewall: self.firewall.finish(),
            upload: self.upload.finish(),
            install,
            client,
            removal,
            presence: Presence::default(),
        }
    }
}

/// Rows of registry facts and event records: neither says the files were scanned.
fn is_registry_state(state: RecordState) -> bool {
    matches!(
        state,
        RecordState::Live | RecordState::FromLog | RecordState::Recovered
    )
}

/// An event log given on the command line names itself as path and source.
fn is_from_log_given_alone(row: &EvidenceRow) -> bool {
    row.artifact.starts_with("eventlog.") && row.path == row.source
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    #[test]
    fn hives_given_on_their_own_are_one_system() {
        let from = |artifact: &str, hive: &str| {
            let mut r = row(artifact, "", r"SOFTWARE\x", "");
            r.source = hive.into();
            r.locator = format!("hive={hive} key=x");
            r
        };
        let image = row("install.client", "Zoe", r"Users\Zoe\x", "");
        let v = verdict(&[
            from("registry.run", "/e/SYSTEM"),
            from("registry.uninstall", "/e/SOFTWARE"),
            from("registry.run", "/e/NTUSER.DAT"),
            image,
        ]);
        let sources: Vec<&str> = v.volumes.iter().map(|v| v.source.as_str()).collect();
        assert_eq!(
            sources,
            [
                "/e/NTUSER.DAT, /e/SOFTWARE, /e/SYSTEM (given on their own, read as one system)",
                SRC
            ]
        );
        assert_eq!(v.volumes[0].rows, 3);
        assert!(v.volumes[0].registry_only);
    }

    #[test]
    fn a_user_upper_cased_by_its_source_is_the_same_user() {
        let pf = row(
            "execution.prefetch",
            "JOSÉ MÜLLER",
            r"Windows\Prefetch\NETSESSION_WIN.EXE-1A2B3C4D.pf",
            "",
        );
        let file = row(
            "install.client",
            "José Müller",
            r"Users\José Müller\AppData\Local\Akamai\netsession_win.exe",
            "",
        );
        let other = row("install.client", "Josef", r"Users\Josef\x", "");
        for rows in [
            [pf.clone(), file.clone(), pf.clone(), other.clone()],
            [file.clone(), pf.clone(), other.clone(), pf.clone()],
        ] {
            let v = verdict(&rows);
            let users: Vec<&str> = v.volumes[0]
                .scopes
                .iter()
                .map(|s| s.user.as_str())
                .collect();
            assert_eq!(users, ["Josef", "José Müller"]);
        }
    }

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
