//! Statement 1: whether NetSession was installed, and where (install folders and
//! the `InstallLocation` of uninstall entries).

use std::collections::{BTreeMap, BTreeSet};

use super::Counted;
use super::rows::{Tally, field};
use super::statement::{Part, Statement, c, counted_list, list_statement, n_rows, statement, t};
use crate::evidence::{EvidenceRow, RecordState};

/// Whether NetSession was installed, as far as the rows show. Ordered: a volume takes
/// the strongest state of its users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstallState {
    /// No row that speaks for an installation (there may be rows of other kinds, e.g. a
    /// downloaded installer).
    NoTrace,
    /// The client's own files show an install that did not complete (download errors,
    /// no install time, no program file).
    Attempted,
    /// Deleted files, journal records, registry or execution traces, but no install
    /// file present.
    Remnants,
    /// Allocated files of an install folder.
    Installed,
}

impl InstallState {
    pub fn describe(self) -> &'static str {
        match self {
            InstallState::Installed => "installed (files present)",
            InstallState::Remnants => "was installed (only remnants found)",
            InstallState::Attempted => "install attempted, failed (no program file present)",
            InstallState::NoTrace => "no trace found in what was scanned",
        }
    }
}

/// Statement 1: installed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    pub state: InstallState,
    /// Allocated install files (not folders, not the guessed download/start-menu rules).
    pub present_rows: usize,
    /// Rows that show a past install, by kind ("USN journal records", ...).
    pub remnants: Vec<Counted>,
    /// Rows that show neither, by artifact (e.g. a downloaded installer).
    pub other: Vec<Counted>,
    /// Install folders: path up to the first `Akamai` component.
    pub folders: Vec<Folder>,
    /// `InstallLocation=` of uninstall entries.
    pub registry_locations: Vec<Counted>,
    /// Other scopes of the same volume whose install files are present ("" =
    /// machine-wide), named when this scope has only remnants: the volume is installed,
    /// this scope only holds traces of it.
    pub installed_in: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub path: String,
    /// Some allocated install file lies under it.
    pub present: bool,
    pub rows: usize,
}

/// What one row says about an installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Support {
    Present,
    Remnant(&'static str),
    Neither,
}

/// Files of install folders. The guessed installer-download and start-menu rules are
/// left out: a downloaded installer or a shortcut folder does not show an install.
fn is_install_file_artifact(artifact: &str) -> bool {
    (artifact.starts_with("install.") || artifact.starts_with("cache."))
        && artifact != "install.installer_download"
        && artifact != "install.start_menu"
}

/// Folder rows: an install folder left empty is not "files present".
fn is_folder_artifact(artifact: &str) -> bool {
    matches!(
        artifact,
        "install.folder" | "install.machine_folder" | "install.macos_folder"
    )
}

fn support(row: &EvidenceRow) -> Support {
    let artifact = row.artifact.as_str();
    if is_install_file_artifact(artifact) {
        return match row.state {
            RecordState::Allocated if is_folder_artifact(artifact) => {
                Support::Remnant("install folders")
            }
            RecordState::Allocated => Support::Present,
            _ => Support::Remnant("deleted or orphaned files"),
        };
    }
    if artifact.starts_with("remnant.") {
        return Support::Remnant("program files whose folder is gone");
    }
    if artifact == "ntfs.usn_journal" {
        // The journal also remembers the installer in Downloads; only the program's own
        // files show that it was installed.
        return if names_program_file(&row.path) {
            Support::Remnant("USN journal records")
        } else {
            Support::Neither
        };
    }
    if artifact.starts_with("registry.") {
        return Support::Remnant("registry entries");
    }
    if artifact.starts_with("execution.") {
        return Support::Remnant("program-run traces");
    }
    if artifact.starts_with("autostart.") {
        return Support::Remnant("autostart items");
    }
    if artifact.starts_with("prefetch.") {
        return Support::Remnant("Prefetch records of loaded files");
    }
    if artifact.starts_with("srum.") {
        return Support::Remnant("SRUM records");
    }
    if artifact.starts_with("eventlog.") {
        // The embedded event rules keep only events naming NetSession (or tied to one).
        return Support::Remnant("event log records");
    }
    Support::Neither
}

/// A path inside an `Akamai` folder, or a file named like NetSession's own programs.
fn names_program_file(path: &str) -> bool {
    let parts: Vec<&str> = path.split(['\\', '/']).collect();
    if parts.iter().any(|p| p.eq_ignore_ascii_case("akamai")) {
        return true;
    }
    let name = parts.last().map(|n| n.to_lowercase()).unwrap_or_default();
    name.starts_with("netsession_win") || name.starts_with("rswin_") || name == "admintool.exe"
}

/// Builds [`Install`] row by row.
#[derive(Debug, Default)]
pub(super) struct InstallAcc {
    present_rows: usize,
    remnants: BTreeMap<&'static str, usize>,
    other: Tally,
    /// By lower-cased folder path.
    folders: BTreeMap<String, Folder>,
    registry_locations: Tally,
}

impl InstallAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        let support = support(row);
        match support {
            Support::Present => self.present_rows += 1,
            Support::Remnant(kind) => *self.remnants.entry(kind).or_default() += 1,
            Support::Neither => self.other.add(&row.artifact),
        }
        if is_install_file_artifact(&row.artifact) || row.artifact == "ntfs.usn_journal" {
            self.add_to_folder(row, support);
        }
        if row.artifact == "registry.uninstall"
            && let Some(location) = field(&row.value, "InstallLocation").filter(|v| !v.is_empty())
        {
            self.registry_locations.add(location);
        }
    }

    fn add_to_folder(&mut self, row: &EvidenceRow, support: Support) {
        let Some(prefix) = akamai_prefix(&row.path) else {
            return;
        };
        let folder = self.folders.entry(prefix.to_lowercase()).or_insert(Folder {
            path: prefix,
            present: false,
            rows: 0,
        });
        folder.rows += 1;
        folder.present |= support == Support::Present;
    }

    pub fn finish(self) -> Install {
        let state = if self.present_rows > 0 {
            InstallState::Installed
        } else if !self.remnants.is_empty() {
            InstallState::Remnants
        } else {
            InstallState::NoTrace
        };
        Install {
            installed_in: Vec::new(),
            state,
            present_rows: self.present_rows,
            remnants: self
                .remnants
                .into_iter()
                .map(|(value, rows)| Counted {
                    value: value.to_string(),
                    rows,
                })
                .collect(),
            other: self.other.into_counted(),
            folders: self.folders.into_values().collect(),
            registry_locations: self.registry_locations.into_counted(),
        }
    }
}

/// The path up to its first `Akamai` component, with the path's own separator (`/` for
/// a Mac volume's paths).
fn akamai_prefix(path: &str) -> Option<String> {
    let separator = if path.contains('\\') || !path.contains('/') {
        "\\"
    } else {
        "/"
    };
    let parts: Vec<&str> = path.split(['\\', '/']).collect();
    let at = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("akamai"))?;
    Some(parts[..=at].join(separator))
}

pub(super) fn installed_statement(install: &Install) -> Statement {
    let remnant_rows: usize = install.remnants.iter().map(|r| r.rows).sum();
    let parts = match install.state {
        InstallState::Installed | InstallState::Attempted => vec![t(format!(
            "{} ({} of install files)",
            install.state.describe(),
            n_rows(install.present_rows)
        ))],
        InstallState::Remnants => {
            let mut parts = if install.installed_in.is_empty() {
                vec![t(format!(
                    "{} ({}: ",
                    install.state.describe(),
                    n_rows(remnant_rows)
                ))]
            } else {
                let scopes: Vec<String> = install
                    .installed_in
                    .iter()
                    .map(|u| {
                        if u.is_empty() {
                            "machine-wide".to_string()
                        } else {
                            format!("user {u}")
                        }
                    })
                    .collect();
                vec![t(format!(
                    "no install file in this scope; this volume's install files are in: {} ({} here: ",
                    scopes.join(", "),
                    n_rows(remnant_rows)
                ))]
            };
            for (i, r) in install.remnants.iter().enumerate() {
                if i > 0 {
                    parts.push(t(", "));
                }
                parts.push(t(format!("{} ({})", r.value, n_rows(r.rows))));
            }
            parts.push(t(")"));
            parts
        }
        InstallState::NoTrace => {
            let mut parts = vec![t(
                "no trace of an installation found in what was scanned (which is not proof it was never installed); the rows here show only: ",
            )];
            parts.extend(counted_list(&install.other));
            parts
        }
    };
    statement("install state", parts)
}

pub(super) fn where_statement(install: &Install) -> Statement {
    let mut items: Vec<Vec<Part>> = Vec::new();
    let mut matched: BTreeSet<&str> = BTreeSet::new();
    for f in &install.folders {
        let state = if f.present {
            "files present"
        } else {
            "no file present (only deleted files, journal records or empty folders)"
        };
        let mut parts = vec![c(&f.path), t(format!(" — {state} ({})", n_rows(f.rows)))];
        // The uninstall entry names the same folder with a drive letter: say so on the
        // folder's line instead of listing it twice.
        for loc in install
            .registry_locations
            .iter()
            .filter(|l| same_folder(&l.value, &f.path))
        {
            matched.insert(loc.value.as_str());
            parts.push(t("; also the InstallLocation "));
            parts.push(c(&loc.value));
            parts.push(t(format!(" of an uninstall entry ({})", n_rows(loc.rows))));
        }
        items.push(parts);
    }
    for loc in &install.registry_locations {
        if matched.contains(loc.value.as_str()) {
            continue;
        }
        items.push(vec![
            c(&loc.value),
            t(format!(
                " — InstallLocation of an uninstall entry; no file of it found here ({})",
                n_rows(loc.rows)
            )),
        ]);
    }
    list_statement(
        "where",
        items,
        "no install folder named in what was scanned (0 rows)",
    )
}

/// A registry path (`C:\Users\x\AppData\Local\Akamai\`) and a volume path
/// (`Users\x\AppData\Local\Akamai`) name the same folder.
fn same_folder(registry_path: &str, volume_path: &str) -> bool {
    let strip = |p: &str| -> String {
        let p = p.trim().trim_matches('"');
        let p = match p.as_bytes() {
            [drive, b':', ..] if drive.is_ascii_alphabetic() => &p[2..],
            _ => p,
        };
        p.trim_matches(['\\', '/'])
            .replace('/', "\\")
            .to_lowercase()
    };
    strip(registry_path) == strip(volume_path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    #[test]
    fn allocated_install_file_is_installed_and_folder_named() {
        let rows = [
            timed(
                row(
                    "install.client",
                    "José Müller",
                    &jose_file("netsession_win.exe"),
                    "class=executable",
                ),
                0,
                "Created ($SI)",
            ),
            timed(
                row("install.folder", "José Müller", JOSE_DIR, ""),
                0,
                "Created ($SI)",
            ),
            timed(
                row(
                    "cache.file",
                    "José Müller",
                    &jose_file(r"Cache\0a\x.dat"),
                    "class=cache blob",
                ),
                5,
                "Created ($SI)",
            ),
        ];
        let v = verdict(&rows);
        let s = only_scope(&v);
        assert_eq!(s.install.state, InstallState::Installed);
        assert_eq!(
            s.install.present_rows, 2,
            "the client and the cache file, not the folder"
        );
        assert_eq!(
            s.install.folders,
            [Folder {
                path: JOSE_DIR.into(),
                present: true,
                rows: 3
            }]
        );
        let text = v.to_text();
        assert!(text.starts_with(
            "NetSession verdict: installed on 1 volume, remnants on 0 volumes, no trace on 0 volumes (3 rows)\n"
        ), "{text}");
        assert!(
            text.contains("install state: installed (files present) (2 rows of install files)"),
            "{text}"
        );
        assert!(
            text.contains(&format!("{JOSE_DIR} — files present (3 rows)")),
            "{text}"
        );
    }

    #[test]
    fn empty_install_folder_is_only_a_remnant() {
        let v = verdict(&[row("install.folder", "", JOSE_DIR, "")]);
        let s = only_scope(&v);
        assert_eq!(s.install.state, InstallState::Remnants);
        assert!(!s.install.folders[0].present);
        assert!(
            v.to_text()
                .contains("was installed (only remnants found) (1 row: install folders (1 row))")
        );
    }

    #[test]
    fn deleted_files_journal_and_registry_are_remnants() {
        for r in [
            state(
                row(
                    "install.core_dll",
                    "u",
                    &jose_file("netsession_win_a1b2c3d.dll"),
                    "",
                ),
                RecordState::Deleted,
            ),
            state(
                row("install.client", "u", &jose_file("netsession_win.exe"), ""),
                RecordState::Orphan,
            ),
            row(
                "ntfs.usn_journal",
                "u",
                &jose_file("readme.txt"),
                "reasons=FILE_CREATE; usn=1",
            ),
            row(
                "remnant.orphaned_file",
                "u",
                r"$Orphan\netsession_win.exe",
                "",
            ),
            row(
                "registry.uninstall",
                "u",
                r"SOFTWARE\x\Uninstall\Akamai",
                "DisplayName=Akamai",
            ),
            row("execution.bam", "u", r"SYSTEM\bam", "x"),
        ] {
            let v = verdict(std::slice::from_ref(&r));
            assert_eq!(
                only_scope(&v).install.state,
                InstallState::Remnants,
                "{r:?}"
            );
            assert_eq!(v.volumes[0].state, InstallState::Remnants);
        }
    }

    #[test]
    fn installer_download_alone_is_no_trace_worded_honestly() {
        let rows = [
            row(
                "install.installer_download",
                "u",
                r"Users\u\Downloads\NetSessionSetup.exe",
                "",
            ),
            // The journal remembering the installer does not show an install either.
            row(
                "ntfs.usn_journal",
                "u",
                r"Users\u\Downloads\NetSessionSetup.exe",
                "reasons=FILE_CREATE; usn=5",
            ),
        ];
        let v = verdict(&rows);
        let s = only_scope(&v);
        assert_eq!(s.install.state, InstallState::NoTrace);
        assert_eq!(s.install.other.len(), 2);
        let text = v.to_text();
        assert!(text.starts_with(
            "NetSession verdict: installed on 0 volumes, remnants on 0 volumes, no trace on 1 volume (2 rows)"
        ), "{text}");
        assert!(text.contains(
            "no trace of an installation found in what was scanned (which is not proof it was never installed)"
        ), "{text}");
        assert!(
            text.contains("no trace found in what was scanned (2 rows)"),
            "{text}"
        );
        assert!(
            !text.contains("never installed\n"),
            "never a claim of absence: {text}"
        );
        assert!(
            !text.contains("was never installed)")
                || text.contains("not proof it was never installed")
        );
    }

    #[test]
    fn where_merges_install_location_with_the_folder() {
        let rows = [
            row(
                "install.client",
                "José Müller",
                &jose_file("netsession_win.exe"),
                "",
            ),
            row(
                "registry.uninstall",
                "José Müller",
                r"NTUSER\Software\Microsoft\Windows\CurrentVersion\Uninstall\Akamai NetSession Interface",
                r#"DisplayName=Akamai NetSession Interface; DisplayVersion=1.9.2.3; InstallLocation=C:\Users\José Müller\AppData\Local\Akamai; UninstallString="C:\x\uninstall.exe""#,
            ),
            row(
                "registry.uninstall",
                "José Müller",
                r"SOFTWARE\Uninstall\{A}",
                r"DisplayVersion=1.7.0; InstallLocation=C:\Program Files (x86)\Common Files\Akamai",
            ),
        ];
        let v = verdict(&rows);
        let s = only_scope(&v);
        let locations: Vec<&str> = s
            .install
            .registry_locations
            .iter()
            .map(|l| l.value.as_str())
            .collect();
        assert_eq!(
            locations,
            [
                r"C:\Program Files (x86)\Common Files\Akamai",
                r"C:\Users\José Müller\AppData\Local\Akamai"
            ]
        );
        let text = v.to_text();
        assert!(text.contains(&format!(
            r"{JOSE_DIR} — files present (1 row); also the InstallLocation C:\Users\José Müller\AppData\Local\Akamai of an uninstall entry (1 row)"
        )), "{text}");
        assert!(text.contains(
            r"C:\Program Files (x86)\Common Files\Akamai — InstallLocation of an uninstall entry; no file of it found here (1 row)"
        ), "{text}");
        let versions: Vec<&str> = s.builds.versions.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(versions, ["1.7.0", "1.9.2.3"]);
    }

    #[test]
    fn akamai_prefix_takes_the_first_akamai_component() {
        assert_eq!(
            akamai_prefix(r"Program Files\Common Files\AKAMAI\Akamai\x.dll").as_deref(),
            Some(r"Program Files\Common Files\AKAMAI")
        );
        assert_eq!(
            akamai_prefix("Users/a/Applications/Akamai/admintool").as_deref(),
            Some("Users/a/Applications/Akamai")
        );
        assert_eq!(akamai_prefix(r"Users\a\AkamaiX\y"), None);
        assert!(same_folder(r"C:\Users\a\Akamai\", r"Users\a\akamai"));
        assert!(!same_folder(r"C:\Users\a\Akamai2", r"Users\a\Akamai"));
    }
}
