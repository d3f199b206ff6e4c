//! Statement 8: removal — deleted files, the change journal's deletions, registry keys
//! and values recovered from hives' free cells (deleted: the last time a recovered key
//! was written is the last time it is known present), and registry traces with no
//! install file present. What those traces show depends on whether the
//! volume's files were scanned at all: registry rows of hives given alone say nothing
//! about the program's files being gone.

use std::collections::BTreeSet;

use super::rows::{Earliest, Latest, Tally, field, is_access_only, moment};
use super::statement::{Part, Statement, c, counted_list, list_statement, n_rows, t, time_part};
use super::{Counted, Moment};
use crate::evidence::{EvidenceRow, RecordState};

/// Statement 8: removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// Distinct paths of rows in state `deleted`.
    pub deleted_files: Vec<String>,
    pub deleted_rows: usize,
    /// USN journal records with `FILE_DELETE`.
    pub usn_deletes: usize,
    pub first_usn_delete: Option<Moment>,
    pub last_usn_delete: Option<Moment>,
    /// The latest time of a deleted file's record other than an access time: the file
    /// existed then.
    pub deleted_file_last: Option<Moment>,
    /// The latest USN journal record of a change that is no deletion: the file existed
    /// then.
    pub usn_last_change: Option<Moment>,
    /// USN journal deletions of an install folder itself or of the client program
    /// (what an uninstall deletes and an upgrade does not), in time order; the latest
    /// [`REMOVALS_KEPT`].
    pub usn_removals: Vec<Moment>,
    /// Distinct paths of registry rows recovered from free cells (state `deleted`).
    pub deleted_registry: Vec<String>,
    pub deleted_registry_rows: usize,
    /// The latest last-write time of a deleted key: the last time it is known present
    /// (values recovered without their key have no time).
    pub registry_last_present: Option<Moment>,
    /// The earliest last-write time of a live key whose deleted value was recovered
    /// from its value-list slack: the value was gone by then.
    pub registry_gone_by: Option<Moment>,
    /// Registry rows by artifact, when no install file is present in the scope. They are
    /// traces a removal left behind only where the volume's files were scanned: see
    /// `files`.
    pub left_behind: Vec<Counted>,
    /// What the volume's rows show about its files having been scanned.
    pub files: FileCoverage,
}

/// What a volume's rows show about its files having been scanned. Registry entries
/// outlive an uninstall, so with no install file present they read as "left behind";
/// but that needs the files to have been looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileCoverage {
    /// Some row is of a file, a folder or the change journal: the volume's file system
    /// was scanned.
    Scanned,
    /// Registry rows only, each from a hive given on its own (its locator names the
    /// row's own source as the hive): no file of that system was scanned.
    HivesAlone,
    /// Registry rows only, from hives found in a scanned volume or folder: either no file
    /// of the program is there, or only the hives were collected; the rows do not say
    /// which.
    RegistryOnly,
}

impl FileCoverage {
    /// The coverage of a volume whose rows are all registry rows.
    /// For a volume whose rows are all registry facts: whether every one of them came
    /// from a hive given alone on the command line.
    pub(super) fn of_registry_rows(all_from_hives_given_alone: bool) -> Self {
        if all_from_hives_given_alone {
            FileCoverage::HivesAlone
        } else {
            FileCoverage::RegistryOnly
        }
    }
}

/// A hive given on the command line is its own source: its rows' locators begin
/// `hive=<source>`. A hive found in a volume has the volume as its source and its path
/// inside the volume in the locator.
pub(super) fn is_from_hive_given_alone(row: &EvidenceRow) -> bool {
    row.locator
        .strip_prefix("hive=")
        .and_then(|rest| rest.strip_prefix(row.source.as_str()))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

/// Builds [`Removal`] row by row.
#[derive(Debug, Default)]
pub(super) struct RemovalAcc {
    deleted_files: BTreeSet<String>,
    deleted_rows: usize,
    usn_deletes: usize,
    first_usn_delete: Earliest,
    last_usn_delete: Latest,
    deleted_file_last: Latest,
    usn_last_change: Latest,
    usn_removals: Vec<Moment>,
    deleted_registry: BTreeSet<String>,
    deleted_registry_rows: usize,
    registry_last_present: Latest,
    registry_gone_by: Earliest,
    registry: Tally,
}

/// A registry row recovered from a hive's free cells (a deleted key or value).
pub(super) fn is_deleted_registry(row: &EvidenceRow) -> bool {
    row.state == RecordState::Deleted && row.locator.contains(" recovered-from-free-cell")
}

impl RemovalAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        if is_deleted_registry(row) {
            // Removal evidence of its own: not a deleted file, not a trace left behind.
            self.deleted_registry_rows += 1;
            if !self.deleted_registry.contains(&row.path) {
                self.deleted_registry.insert(row.path.clone());
            }
            if row.timestamp_desc == crate::registry::KEY_WRITTEN_AFTER_DELETION {
                self.registry_gone_by.add(row);
            } else {
                self.registry_last_present.add(row);
            }
            return;
        }
        // Journal deletions are counted on their own (below), not as deleted files.
        if row.state == RecordState::Deleted && row.artifact != "ntfs.usn_journal" {
            self.deleted_rows += 1;
            if !self.deleted_files.contains(&row.path) {
                self.deleted_files.insert(row.path.clone());
            }
            if !is_access_only(&row.timestamp_desc) {
                self.deleted_file_last.add(row);
            }
        }
        if is_usn_delete(row) {
            self.usn_deletes += 1;
            self.first_usn_delete.add(row);
            self.last_usn_delete.add(row);
            if is_removal_path(&row.path)
                && let Some(m) = moment(row)
            {
                keep_latest(&mut self.usn_removals, m);
            }
        } else if row.artifact == "ntfs.usn_journal" {
            self.usn_last_change.add(row);
        }
        if row.artifact.starts_with("registry.") {
            self.registry.add(&row.artifact);
        }
    }

    /// `present_rows`: rows of install files present (registry traces are "left behind"
    /// only when there are none).
    pub fn finish(self, present_rows: usize, files: FileCoverage) -> Removal {
        Removal {
            deleted_files: self.deleted_files.into_iter().collect(),
            deleted_rows: self.deleted_rows,
            usn_deletes: self.usn_deletes,
            first_usn_delete: self.first_usn_delete.moment(),
            last_usn_delete: self.last_usn_delete.moment(),
            deleted_file_last: self.deleted_file_last.moment(),
            usn_last_change: self.usn_last_change.moment(),
            usn_removals: self.usn_removals,
            deleted_registry: self.deleted_registry.into_iter().collect(),
            deleted_registry_rows: self.deleted_registry_rows,
            registry_last_present: self.registry_last_present.moment(),
            registry_gone_by: self.registry_gone_by.moment(),
            left_behind: if present_rows == 0 {
                self.registry.into_counted()
            } else {
                Vec::new()
            },
            files,
        }
    }
}

/// USN removals kept per scope: an uninstall deletes one folder and one program per
/// install; more are repeated installs and removals, of which the latest matter.
pub const REMOVALS_KEPT: usize = 64;

/// Inserts `m` in time order, dropping the earliest past [`REMOVALS_KEPT`].
fn keep_latest(kept: &mut Vec<Moment>, m: Moment) {
    let at = kept.partition_point(|k| (k.time, &k.path) <= (m.time, &m.path));
    kept.insert(at, m);
    if kept.len() > REMOVALS_KEPT {
        kept.remove(0);
    }
}

/// An install folder itself (its last component `Akamai`) or the client program
/// (`netsession_win.exe`, wherever its record says it was).
fn is_removal_path(path: &str) -> bool {
    let name = path.rsplit(['\\', '/']).next().unwrap_or(path);
    name.eq_ignore_ascii_case("akamai") || name.eq_ignore_ascii_case("netsession_win.exe")
}

fn is_usn_delete(row: &EvidenceRow) -> bool {
    row.artifact == "ntfs.usn_journal"
        && row.value.starts_with("reasons=")
        && field(&row.value, "reasons")
            .is_some_and(|r| r.split('|').any(|flag| flag.trim() == "FILE_DELETE"))
}

/// At most this many deleted paths are named; the evidence file has them all.
const DELETED_SHOWN: usize = 10;

pub(super) fn removal_statement(removal: &Removal) -> Statement {
    let mut items: Vec<Vec<Part>> = Vec::new();
    if !removal.deleted_files.is_empty() {
        let mut parts = vec![t(format!(
            "deleted files: {} distinct: ",
            removal.deleted_files.len()
        ))];
        for (i, path) in removal.deleted_files.iter().take(DELETED_SHOWN).enumerate() {
            if i > 0 {
                parts.push(t(", "));
            }
            parts.push(c(path));
        }
        if removal.deleted_files.len() > DELETED_SHOWN {
            parts.push(t(format!(
                " and {} more",
                removal.deleted_files.len() - DELETED_SHOWN
            )));
        }
        parts.push(t(format!(" ({})", n_rows(removal.deleted_rows))));
        items.push(parts);
    }
    if let (Some(first), Some(last)) = (&removal.first_usn_delete, &removal.last_usn_delete) {
        let mut parts = vec![t(format!(
            "USN journal deletions: {}, ",
            removal.usn_deletes
        ))];
        if removal.usn_deletes > 1 {
            parts.extend([t("first "), time_part(first.time), t(" "), c(&first.path)]);
            parts.push(t(", "));
        }
        parts.extend([
            t("last deletion "),
            time_part(last.time),
            t(" "),
            c(&last.path),
            t(format!(" ({})", n_rows(removal.usn_deletes))),
        ]);
        items.push(parts);
    }
    if !removal.deleted_registry.is_empty() {
        let mut parts = vec![t(format!(
            "deleted registry entries recovered from hive free cells: {} distinct: ",
            removal.deleted_registry.len()
        ))];
        for (i, path) in removal
            .deleted_registry
            .iter()
            .take(DELETED_SHOWN)
            .enumerate()
        {
            if i > 0 {
                parts.push(t(", "));
            }
            parts.push(c(path));
        }
        if removal.deleted_registry.len() > DELETED_SHOWN {
            parts.push(t(format!(
                " and {} more",
                removal.deleted_registry.len() - DELETED_SHOWN
            )));
        }
        if let Some(last) = &removal.registry_last_present {
            parts.extend([
                t("; last known present "),
                time_part(last.time),
                t(" (a deleted key's last write) "),
                c(&last.path),
            ]);
        }
        if let Some(gone) = &removal.registry_gone_by {
            parts.extend([
                t("; a deleted value gone by "),
                time_part(gone.time),
                t(" (last write of its live key) "),
                c(&gone.path),
            ]);
        }
        if removal.registry_last_present.is_none() && removal.registry_gone_by.is_none() {
            parts.push(t("; no time recovered (a value keeps none)"));
        }
        parts.push(t(format!(" ({})", n_rows(removal.deleted_registry_rows))));
        items.push(parts);
    }
    if !removal.left_behind.is_empty() {
        let rows = n_rows(removal.left_behind.iter().map(|r| r.rows).sum());
        let mut parts = vec![t(match removal.files {
            FileCoverage::Scanned => format!(
                "registry/firewall traces left behind, with no install file present here ({rows}): "
            ),
            FileCoverage::HivesAlone => format!(
                "registry traces found; the system's files were not scanned (its hives were given alone), so whether the program's files remain is unknown ({rows}): "
            ),
            FileCoverage::RegistryOnly => format!(
                "registry traces found, and no file of this source among the rows: if its files were scanned, no install file is present; if only its hives were collected, whether the program's files remain is unknown ({rows}): "
            ),
        })];
        parts.extend(counted_list(&removal.left_behind));
        items.push(parts);
    }
    list_statement(
        "removal",
        items,
        "no removal trace found in what was scanned (0 rows)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    #[test]
    fn removal_deleted_files_journal_deletes_and_left_behind() {
        let dll = jose_file("netsession_win_a1b2c3d.dll");
        let usn = |offset, path: &str, reasons: &str| {
            timed(
                row(
                    "ntfs.usn_journal",
                    "u",
                    path,
                    &format!("reasons={reasons}; usn=1; file=mft 5 seq 1"),
                ),
                offset,
                "USN Journal Entry",
            )
        };
        let rows = [
            state(
                timed(row("install.core_dll", "u", &dll, ""), 0, "Created ($SI)"),
                RecordState::Deleted,
            ),
            state(
                timed(row("install.core_dll", "u", &dll, ""), 1, "Accessed ($SI)"),
                RecordState::Deleted,
            ),
            usn(100, &jose_file("netsession_win.exe"), "FILE_DELETE|CLOSE"),
            usn(300, JOSE_DIR, "FILE_DELETE|CLOSE"),
            usn(200, &jose_file("readme.txt"), "RENAME_OLD_NAME"),
            usn(400, &jose_file("x.txt"), "FILE_DELETED_NOT_REALLY"),
            row(
                "registry.firewall_rule",
                "u",
                r"SYSTEM\FirewallRules",
                "Action=Allow; Profiles=Private",
            ),
            row("registry.run", "u", r"NTUSER\Run", "a = b"),
        ];
        let v = verdict(&rows);
        let r = &only_scope(&v).removal;
        assert_eq!(r.deleted_files, std::slice::from_ref(&dll));
        assert_eq!(r.deleted_rows, 2);
        assert_eq!(r.usn_deletes, 2);
        assert_eq!(r.first_usn_delete.as_ref().map(|m| m.time), Some(at(100)));
        let last = r.last_usn_delete.as_ref().unwrap_or_else(|| unreachable!());
        assert_eq!((last.time, last.path.as_str()), (at(300), JOSE_DIR));
        let left: Vec<(&str, usize)> = r
            .left_behind
            .iter()
            .map(|c| (c.value.as_str(), c.rows))
            .collect();
        assert_eq!(left, [("registry.firewall_rule", 1), ("registry.run", 1)]);
        assert_eq!(r.files, FileCoverage::Scanned);
        let text = v.to_text();
        assert!(
            text.contains(&format!("deleted files: 1 distinct: {dll} (2 rows)")),
            "{text}"
        );
        assert!(text.contains(&format!(
            r"USN journal deletions: 2, first 2012-02-14T09:31:40Z {JOSE_DIR}\netsession_win.exe, last deletion 2012-02-14T09:35:00Z {JOSE_DIR} (2 rows)"
        )), "{text}");
        assert!(text.contains("registry/firewall traces left behind, with no install file present here (2 rows): registry.firewall_rule (1 row), registry.run (1 row)"), "{text}");

        // With install files present, registry entries are not "left behind".
        let mut with_files = rows.to_vec();
        with_files.push(row(
            "install.client",
            "u",
            &jose_file("netsession_win.exe"),
            "",
        ));
        let v = verdict(&with_files);
        assert!(only_scope(&v).removal.left_behind.is_empty());

        let none = verdict(&[row(
            "install.client",
            "u",
            &jose_file("netsession_win.exe"),
            "",
        )]);
        assert!(
            none.to_text()
                .contains("removal: no removal trace found in what was scanned (0 rows)")
        );
    }

    #[test]
    fn registry_entries_recovered_from_free_cells_are_removal_evidence() {
        let recovered = |r: EvidenceRow, cell: u32| {
            let mut r = state(r, RecordState::Deleted);
            r.locator =
                format!("hive=NTUSER.DAT offset=0x2000 cell={cell:#x} recovered-from-free-cell");
            r
        };
        let uninstall = r"NTUSER\Software\Microsoft\Windows\CurrentVersion\Uninstall\Akamai";
        let run = r"NTUSER\Software\Microsoft\Windows\CurrentVersion\Run";
        let rows = [
            recovered(
                timed(
                    row(
                        "registry.uninstall",
                        "u",
                        uninstall,
                        "DisplayVersion=1.9.2.3",
                    ),
                    100,
                    "Key Last Written",
                ),
                0x1248,
            ),
            recovered(
                timed(
                    row("registry.run", "u", run, "Akamai = x"),
                    900,
                    crate::registry::KEY_WRITTEN_AFTER_DELETION,
                ),
                0x16c8,
            ),
            recovered(
                row(
                    "registry.deleted_entry",
                    "u",
                    r"NTUSER\(key unknown)",
                    "a = b",
                ),
                0x1838,
            ),
            // A deleted file row stays a deleted file.
            state(
                row("install.client", "u", &jose_file("netsession_win.exe"), ""),
                RecordState::Deleted,
            ),
        ];
        let v = verdict(&rows);
        let r = &only_scope(&v).removal;
        assert_eq!(r.deleted_registry.len(), 3);
        assert_eq!(r.deleted_registry_rows, 3);
        assert_eq!(r.deleted_files, [jose_file("netsession_win.exe")]);
        assert_eq!(
            r.registry_last_present.as_ref().map(|m| m.time),
            Some(at(100))
        );
        assert_eq!(r.registry_gone_by.as_ref().map(|m| m.time), Some(at(900)));
        assert!(r.left_behind.is_empty(), "{:?}", r.left_behind);
        let text = v.to_text();
        assert!(text.contains(&format!(
            "deleted registry entries recovered from hive free cells: 3 distinct: {}, {run}, {uninstall}; last known present 2012-02-14T09:31:40Z (a deleted key's last write) {uninstall}; a deleted value gone by 2012-02-14T09:45:00Z (last write of its live key) {run} (3 rows)",
            r"NTUSER\(key unknown)"
        )), "{text}");
        // The deleted Run value is not an autostart in place, nor a sighting.
        assert!(only_scope(&v).autostart.is_empty());
        assert_eq!(
            only_scope(&v).seen.last.as_ref().map(|m| m.time),
            Some(at(100))
        );
    }

    /// Registry rows of one hive: `hive_path` is the locator's hive, `source` the row's.
    fn hive_rows(source: &str, hive_path: &str) -> Vec<EvidenceRow> {
        let mut rows = vec![
            row(
                "registry.run",
                "u",
                r"NTUSER\Software\Microsoft\Windows\CurrentVersion\Run",
                "Akamai NetSession Interface = netsession_win.exe",
            ),
            row(
                "registry.uninstall",
                "u",
                r"NTUSER\Software\Microsoft\Windows\CurrentVersion\Uninstall\Akamai",
                "DisplayVersion=1.9.2.3",
            ),
            row(
                "registry.firewall_rule",
                "u",
                r"SYSTEM\FirewallRules",
                "Action=Allow",
            ),
        ];
        for (i, r) in rows.iter_mut().enumerate() {
            r.source = source.into();
            r.locator = format!("hive={hive_path} offset={:#x}", 0x20 + i);
        }
        rows.push(state(rows[0].clone(), RecordState::FromLog));
        rows
    }

    #[test]
    fn hives_given_alone_say_nothing_about_files_being_gone() {
        let hive = "/cases/42/NTUSER.DAT";
        let v = verdict(&hive_rows(hive, hive));
        assert!(v.volumes[0].registry_only);
        let r = &only_scope(&v).removal;
        assert_eq!(r.files, FileCoverage::HivesAlone);
        assert_eq!(r.left_behind.iter().map(|c| c.rows).sum::<usize>(), 4);
        let text = v.to_text();
        assert!(text.contains("removal:\n      - registry traces found; the system's files were not scanned (its hives were given alone), so whether the program's files remain is unknown (4 rows): registry.firewall_rule (1 row), registry.run (2 rows), registry.uninstall (1 row)\n"), "{text}");
        assert!(!text.contains("left behind"), "{text}");
        assert!(!text.contains("no install file present"), "{text}");
        let md = v.to_markdown();
        assert!(
            md.contains("  - registry traces found; the system's files were not scanned"),
            "{md}"
        );
        assert!(!md.contains("left behind"), "{md}");
    }

    #[test]
    fn registry_rows_of_a_scanned_volume_alone_are_worded_with_both_readings() {
        let v = verdict(&hive_rows(SRC, r"Users\u\NTUSER.DAT"));
        let r = &only_scope(&v).removal;
        assert_eq!(r.files, FileCoverage::RegistryOnly);
        let text = v.to_text();
        assert!(text.contains("registry traces found, and no file of this source among the rows: if its files were scanned, no install file is present; if only its hives were collected, whether the program's files remain is unknown (4 rows): "), "{text}");
        assert!(!text.contains("left behind"), "{text}");

        // One file row from the volume: its files were scanned.
        let mut rows = hive_rows(SRC, r"Users\u\NTUSER.DAT");
        rows.push(row(
            "install.installer_download",
            "u",
            r"Users\u\Downloads\NetSessionSetup.exe",
            "",
        ));
        let v = verdict(&rows);
        assert!(!v.volumes[0].registry_only);
        assert_eq!(only_scope(&v).removal.files, FileCoverage::Scanned);
        assert!(v.to_text().contains(
            "registry/firewall traces left behind, with no install file present here (4 rows): "
        ));
    }

    #[test]
    fn a_hive_given_alone_is_its_own_source() {
        let given = |source: &str, locator: &str| {
            let mut r = row("registry.run", "", "SOFTWARE\\Run", "");
            r.source = source.into();
            r.locator = locator.into();
            is_from_hive_given_alone(&r)
        };
        assert!(given("hives/SYSTEM", "hive=hives/SYSTEM offset=0x20"));
        assert!(given("hives/SYSTEM", "hive=hives/SYSTEM"));
        assert!(given(
            "/cases/my hives/SYSTEM",
            "hive=/cases/my hives/SYSTEM offset=0x20 entry=3 data_offset=0x10"
        ));
        assert!(!given("hives/SYSTEM", "hive=hives/SYSTEM_win7 offset=0x20"));
        assert!(!given(
            "disk.E01 p2@1048576",
            r"hive=Windows\System32\config\SYSTEM offset=0x20"
        ));
        assert!(!given("hives/SYSTEM", "inode=5"));
        assert!(!given("hives/SYSTEM", ""));
    }
}
