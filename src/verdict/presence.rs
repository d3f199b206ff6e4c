//! Statement: presence — per user of a live volume, the last time NetSession is known
//! present and the first time after it that it is known absent, joining what each
//! reader dates: the client's own log lines and install times, executions, SRUM's
//! hours, deleted files' records, the change journal (changes, then deletions),
//! registry keys recovered from free cells (their last write) and deleted values (gone
//! by their live key's next write), and the volume's shadow copies (install files
//! present or absent when each was taken).
//!
//! A shadow copy's rows equal to the live volume's are not repeated, so a snapshot
//! without install files says "absent" only when the live volume has none either
//! (otherwise its files' rows may just be the live ones, left out).

use super::snapshots::snapshot_of;
use super::statement::{Part, Statement, c, n_rows, statement, t, time_part};
use super::{InstallState, Moment, ScopeVerdict, VolumeVerdict};
use crate::time::{Precision, Timestamp};

/// What the evidence dates about NetSession being there, for one user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presence {
    /// The latest time something shows NetSession present.
    pub last_present: Option<Sighting>,
    /// The earliest time at or after `last_present` something shows it absent (or, with
    /// no presence dated, the earliest absence).
    pub first_absent: Option<Sighting>,
    /// Absence dated before `last_present`: removed and present again later (reinstalled,
    /// upgraded, or restored), the earliest such.
    pub earlier_absence: Option<Sighting>,
    /// Install files on the live volume now: `Some(true)` present, `Some(false)` none
    /// although its files were scanned, `None` not known.
    pub present_now: Option<bool>,
}

/// A dated piece of presence or absence evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub time: Timestamp,
    /// What shows it, in words.
    pub basis: String,
    /// The row's artifact and time label (empty for a snapshot's own time).
    pub artifact: String,
    pub timestamp_desc: String,
    /// The path (file or key) it concerns; for a snapshot, its install folder.
    pub path: String,
    /// The volume or snapshot (`source`) it comes from.
    pub source: String,
    /// Rows behind it: the one row a time comes from; for a snapshot, its rows of
    /// install files (or all its rows, when none is an install file).
    pub rows: usize,
}

impl Presence {
    /// Nothing dated (what is present now, the install statement says).
    pub fn is_empty(&self) -> bool {
        self.last_present.is_none() && self.first_absent.is_none()
    }
}

/// Each live volume's users' presence, from their own rows and their volume's
/// snapshots'. Snapshots themselves get none (their statement is "shadow copy").
pub(super) fn join(volumes: &mut [VolumeVerdict]) {
    let computed: Vec<Vec<Presence>> = volumes
        .iter()
        .map(|volume| {
            if snapshot_of(&volume.source).is_some() {
                return vec![Presence::default(); volume.scopes.len()];
            }
            let snapshots: Vec<(&VolumeVerdict, Timestamp)> = volumes
                .iter()
                .filter_map(|v| {
                    let (live, tag) = snapshot_of(&v.source)?;
                    (live == volume.source).then_some((v, snapshot_time(tag)?))
                })
                .collect();
            volume
                .scopes
                .iter()
                .map(|scope| presence(volume, scope, &snapshots))
                .collect()
        })
        .collect();
    for (volume, presences) in volumes.iter_mut().zip(computed) {
        for (scope, p) in volume.scopes.iter_mut().zip(presences) {
            scope.presence = p;
        }
    }
}

/// `vss3@2014-01-10T12:00:00Z` → its creation time.
fn snapshot_time(tag: &str) -> Option<Timestamp> {
    let (_, when) = tag.split_once('@')?;
    let time = chrono::DateTime::parse_from_rfc3339(when).ok()?;
    Timestamp::from_unix(time.timestamp(), 0, Precision::Seconds)
}

fn same_user(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn sighting(m: &Moment, basis: &str, source: &str) -> Sighting {
    Sighting {
        time: m.time,
        basis: basis.to_string(),
        artifact: m.artifact.clone(),
        timestamp_desc: m.timestamp_desc.clone(),
        path: m.path.clone(),
        source: source.to_string(),
        rows: 1,
    }
}

/// Presence evidence of one scope's own rows.
fn present_in(scope: &ScopeVerdict, source: &str, out: &mut Vec<Sighting>) {
    let mut add = |m: &Option<Moment>, basis: &str| {
        if let Some(m) = m {
            out.push(sighting(m, basis, source));
        }
    };
    add(&scope.client.last_log, "last NetSession log line");
    add(&scope.execution.last, "last execution");
    add(
        &scope.removal.registry_last_present,
        "last write of a deleted registry key",
    );
    add(
        &scope.removal.deleted_file_last,
        "latest time of a deleted file",
    );
    add(
        &scope.removal.usn_last_change,
        "last change journal record of a file",
    );
    if let Some(m) = scope.client.install_times.iter().max_by_key(|m| m.time) {
        out.push(sighting(m, "install time", source));
    }
    if let Some(hour) = scope.upload.srum.last_hour {
        out.push(Sighting {
            time: hour,
            basis: "last SRUM network usage hour".into(),
            artifact: "srum.network_usage".into(),
            timestamp_desc: String::new(),
            path: String::new(),
            source: source.to_string(),
            rows: 1,
        });
    }
}

/// Absence evidence of one scope's own rows: the removal of an install folder or of
/// the client program (the change journal), a deleted registry value gone by a time.
/// Other deletions (an old build's DLL at an upgrade, a downloaded installer) are not
/// absence.
fn absent_in(scope: &ScopeVerdict, source: &str, out: &mut Vec<Sighting>) {
    let r = &scope.removal;
    for m in &r.usn_removals {
        out.push(sighting(m, "change journal: deleted", source));
    }
    if let Some(m) = &r.registry_gone_by {
        out.push(sighting(
            m,
            "a deleted registry value was gone by its live key's next write",
            source,
        ));
    }
}

fn install_folder(scope: &ScopeVerdict) -> String {
    scope
        .install
        .folders
        .iter()
        .find(|f| f.present)
        .map(|f| f.path.clone())
        .unwrap_or_default()
}

fn presence(
    volume: &VolumeVerdict,
    scope: &ScopeVerdict,
    snapshots: &[(&VolumeVerdict, Timestamp)],
) -> Presence {
    let installed_now = scope.install.state == InstallState::Installed;
    let mut present = Vec::new();
    let mut absent = Vec::new();
    let mut not_in_snapshots = Vec::new();
    present_in(scope, &volume.source, &mut present);
    absent_in(scope, &volume.source, &mut absent);
    for (snapshot, created) in snapshots {
        let theirs = snapshot
            .scopes
            .iter()
            .find(|s| same_user(&s.user, &scope.user));
        if let Some(theirs) = theirs {
            present_in(theirs, &snapshot.source, &mut present);
            absent_in(theirs, &snapshot.source, &mut absent);
        }
        match theirs.filter(|s| s.install.state == InstallState::Installed) {
            Some(theirs) => present.push(Sighting {
                time: *created,
                basis: "install files present in the shadow copy taken then".into(),
                artifact: String::new(),
                timestamp_desc: String::new(),
                path: install_folder(theirs),
                source: snapshot.source.clone(),
                rows: theirs.install.present_rows,
            }),
            // Rows equal to the live volume's are left out of a snapshot: with install
            // files live, their absence from the snapshot says nothing; nor does it in a
            // snapshot read with warnings (damage may have cost its rows).
            None if !installed_now && snapshot.read_warnings == 0 => {
                not_in_snapshots.push(Sighting {
                    time: *created,
                    basis: "no install file in the shadow copy taken then".into(),
                    artifact: String::new(),
                    timestamp_desc: String::new(),
                    path: String::new(),
                    source: snapshot.source.clone(),
                    rows: snapshot.rows,
                })
            }
            None => {}
        }
    }
    let last_present = present.into_iter().max_by_key(|s| s.time);
    let before_last = |a: &Sighting| last_present.as_ref().is_some_and(|p| a.time < p.time);
    // A removal trace before the last presence: removed (or a file replaced), then
    // present again. A snapshot without the install before it: not installed yet.
    let (earlier, mut later): (Vec<Sighting>, Vec<Sighting>) =
        absent.into_iter().partition(before_last);
    // A snapshot without the install says "absent" only after something said "present".
    if last_present.is_some() {
        later.extend(not_in_snapshots.into_iter().filter(|a| !before_last(a)));
    }
    let earliest = |v: Vec<Sighting>| v.into_iter().min_by_key(|s| s.time);
    let files_scanned = !volume.registry_only;
    Presence {
        last_present,
        // Present now: what came before is an upgrade's or an earlier removal's.
        first_absent: if installed_now { None } else { earliest(later) },
        earlier_absence: earliest(earlier),
        present_now: if installed_now {
            Some(true)
        } else if files_scanned {
            Some(false)
        } else {
            None
        },
    }
}

fn sighting_parts(s: &Sighting) -> Vec<Part> {
    let mut parts = vec![time_part(s.time), t(format!(" ({}", s.basis))];
    if !s.artifact.is_empty() {
        parts.extend([t(" from "), c(&s.artifact)]);
    }
    if !s.timestamp_desc.is_empty() {
        parts.extend([t(" ("), c(&s.timestamp_desc), t(")")]);
    }
    if !s.path.is_empty() {
        parts.extend([t(": "), c(&s.path)]);
    }
    parts.extend([t(", in "), c(&s.source), t(")")]);
    parts
}

/// The statement, for a scope with a presence or an absence dated.
pub(super) fn presence_statement(p: &Presence) -> Option<Statement> {
    if p.is_empty() {
        return None;
    }
    let mut parts: Vec<Part> = Vec::new();
    match &p.last_present {
        Some(s) => {
            parts.push(t("last known present "));
            parts.extend(sighting_parts(s));
        }
        None => parts.push(t("no time of presence dated")),
    }
    if let Some(s) = &p.first_absent {
        parts.push(t("; first known absent "));
        parts.extend(sighting_parts(s));
    }
    match p.present_now {
        Some(true) => parts.push(t("; install files present on the live volume now")),
        Some(false) => parts.push(t("; no install file on the live volume now")),
        None => {}
    }
    if let Some(s) = &p.earlier_absence {
        parts.push(t(
            "; earlier, a removal trace, then present again (an upgrade, a reinstall or a restore): ",
        ));
        parts.extend(sighting_parts(s));
    }
    let rows: usize = [&p.last_present, &p.first_absent, &p.earlier_absence]
        .into_iter()
        .flatten()
        .map(|s| s.rows)
        .sum();
    parts.push(t(format!(" ({})", n_rows(rows))));
    Some(statement("presence", parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    /// `SRC vss1@<time of offset>`: a snapshot of the test volume.
    fn snapshot_source(offset: i64) -> String {
        let when = chrono::DateTime::from_timestamp(at(offset).unix_seconds(), 0)
            .unwrap_or_else(|| unreachable!())
            .format("%Y-%m-%dT%H:%M:%SZ");
        format!("{SRC} vss1@{when}")
    }

    fn usn_delete(path: &str, offset: i64) -> EvidenceRow {
        timed(
            row(
                "ntfs.usn_journal",
                "José Müller",
                path,
                "reasons=FILE_DELETE|CLOSE; usn=1; file=mft 5 seq 1",
            ),
            offset,
            "USN Journal Entry",
        )
    }

    fn log_line(offset: i64) -> EvidenceRow {
        timed(
            row(
                "netsession.log_line",
                "José Müller",
                &jose_file(r"Logs\debug.log"),
                "level=info; message=x",
            ),
            offset,
            "Log Entry",
        )
    }

    fn client_in(source: &str) -> EvidenceRow {
        let mut r = row(
            "install.client",
            "José Müller",
            &jose_file("netsession_win.exe"),
            "",
        );
        r.source = source.into();
        r
    }

    fn presence_of(rows: &[EvidenceRow]) -> Presence {
        let v = verdict(rows);
        let live = v.volumes.iter().find(|x| x.source == SRC).unwrap();
        live.scopes
            .iter()
            .find(|s| s.user == "José Müller")
            .unwrap()
            .presence
            .clone()
    }

    #[test]
    fn the_uninstall_is_dated_after_the_last_presence_whichever_source_gives_it() {
        let rows = [
            // removed once (the client deleted), then present again: a log line
            usn_delete(&jose_file("netsession_win.exe"), 50),
            log_line(100),
            // an old build's DLL deleted at an upgrade is no absence
            usn_delete(&jose_file("netsession_win_1a2b3c4.dll"), 400),
            // the snapshot at 300 still holds the install
            client_in(&snapshot_source(300)),
            // the uninstall deletes the folder at 500 and 501
            usn_delete(JOSE_DIR, 501),
            usn_delete(&jose_file("netsession_win.exe"), 500),
        ];
        let p = presence_of(&rows);
        let last = p.last_present.as_ref().unwrap();
        assert_eq!(last.time, at(300));
        assert_eq!(last.source, snapshot_source(300));
        assert_eq!(last.path, JOSE_DIR);
        let absent = p.first_absent.as_ref().unwrap();
        assert_eq!((absent.time, absent.source.as_str()), (at(500), SRC));
        assert_eq!(absent.path, jose_file("netsession_win.exe"));
        let earlier = p.earlier_absence.as_ref().unwrap();
        assert_eq!(earlier.time, at(50));
        assert_eq!(p.present_now, Some(false));
        let text = verdict(&rows).to_text();
        assert!(
            text.contains("presence: last known present 2012-02-14T09:35:00Z")
                && text.contains("first known absent 2012-02-14T09:38:20Z"),
            "{text}"
        );
    }

    #[test]
    fn with_the_install_present_now_nothing_is_called_absent() {
        // The snapshot holds no install-file row: the live one's equal rows are left out.
        let mut other = row("install.installer_download", "José Müller", "x", "");
        other.source = snapshot_source(900);
        let rows = [
            client_in(SRC),
            log_line(100),
            usn_delete(&jose_file("netsession_win.exe"), 50),
            other,
        ];
        let p = presence_of(&rows);
        assert_eq!(p.last_present.as_ref().map(|s| s.time), Some(at(100)));
        assert_eq!(p.first_absent, None);
        assert_eq!(p.present_now, Some(true));
        assert_eq!(p.earlier_absence.as_ref().map(|s| s.time), Some(at(50)));
    }

    #[test]
    fn a_snapshot_without_the_install_is_absence_only_after_a_presence() {
        let mut before = row("install.installer_download", "José Müller", "x", "");
        before.source = snapshot_source(10);
        let mut after = before.clone();
        after.source = snapshot_source(700);
        let rows = [before.clone(), log_line(100), after];
        let p = presence_of(&rows);
        let absent = p.first_absent.as_ref().unwrap();
        assert_eq!((absent.time, absent.rows), (at(700), 1));
        assert_eq!(p.earlier_absence, None, "not installed yet is no removal");
        // Nothing dated: no statement.
        let p = presence_of(&[before, row("registry.run", "José Müller", "k", "")]);
        assert!(p.is_empty() && presence_statement(&p).is_none());
    }

    /// José's presence on the live volume with a log line at 100 and a snapshot at 700
    /// read with no row of its own and `warnings` warnings.
    fn with_an_empty_snapshot(warnings: usize) -> Presence {
        let mut builder = crate::verdict::VerdictBuilder::new();
        builder.add(&log_line(100));
        builder.snapshot(&snapshot_source(700), 0, warnings);
        let v = builder.finish();
        let live = v.volumes.iter().find(|x| x.source == SRC).unwrap();
        let jose = live
            .scopes
            .iter()
            .find(|s| s.user == "José Müller")
            .unwrap();
        jose.presence.clone()
    }

    #[test]
    fn a_snapshot_read_with_no_row_of_its_own_is_an_absence_too() {
        // Nothing installed now. The snapshot at 700 was read and gave no row at all
        // (none of its own, none equal to the live volume's): the install was gone by
        // then.
        let p = with_an_empty_snapshot(0);
        assert_eq!(p.last_present.as_ref().map(|s| s.time), Some(at(100)));
        let absent = p.first_absent.as_ref().unwrap();
        assert_eq!(
            (absent.time, absent.source.as_str(), absent.rows),
            (at(700), snapshot_source(700).as_str(), 0)
        );
        // Read with a warning, the same snapshot dates nothing.
        assert_eq!(with_an_empty_snapshot(1).first_absent, None);
    }
}
