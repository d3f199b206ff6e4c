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

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::sync::LazyLock;

use regex::Regex;

use crate::evidence::{EvidenceRow, RecordState};
use crate::time::Timestamp;

/// The whole verdict line when there are no rows at all.
const NO_ROWS: &str = "NetSession verdict: no trace found in what was scanned (which is not proof it was never installed)";

/// How the empty user is named.
const MACHINE_WIDE: &str = "machine-wide / user unknown";

/// Core DLL names carry the build (`netsession_win_dbc0250.dll`); it changes on update.
static CORE_DLL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)netsession_win_([0-9a-f]+)\.dll").expect("core DLL regex is valid")
});

/// Red Swoosh (NetSession's predecessor) service DLLs: `rswin_3212.dll`.
static RSWIN_DLL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)rswin_([0-9a-z]+)\.dll").expect("Red Swoosh DLL regex is valid")
});

static RUN_COUNT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)run count (\d+)").expect("run count regex is valid"));

/// Words of log lines about serving content to peers (the point of NetSession's cache).
const UPLOAD_WORDS: [&str; 6] = ["upload", "peer", "served", "seeding", "p2p", "bytes sent"];

/// Firewall profiles of Vista and later, in the order they are reported.
const PROFILES: [&str; 3] = ["Domain", "Private", "Public"];

// ---------------------------------------------------------------------------------------
// The verdict as data
// ---------------------------------------------------------------------------------------

/// What the rows say, per volume and user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Rows the verdict was computed from.
    pub rows: usize,
    /// One per `source`, sorted by it.
    pub volumes: Vec<VolumeVerdict>,
}

/// Whether NetSession was installed, as far as the rows show. Ordered: a volume takes
/// the strongest state of its users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstallState {
    /// No row that speaks for an installation (there may be rows of other kinds, e.g. a
    /// downloaded installer).
    NoTrace,
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
            InstallState::NoTrace => "no trace found in what was scanned",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeVerdict {
    pub source: String,
    pub rows: usize,
    /// The strongest state of its users.
    pub state: InstallState,
    /// Every row is a registry fact: if hives were given alone, no file system was
    /// scanned, and "only remnants" may just mean "files not looked at".
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub path: String,
    /// Some allocated install file lies under it.
    pub present: bool,
    pub rows: usize,
}

/// Statement 2: which builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builds {
    /// `netsession_win_<hex>.dll` suffixes, lower case.
    pub core_dlls: Vec<Build>,
    /// `rswin_<n>.dll` numbers.
    pub redswoosh_dlls: Vec<Build>,
    /// `content.copyright` values (the readme's years date the build).
    pub readme_copyrights: Vec<Counted>,
    /// `DisplayVersion=` of uninstall entries.
    pub versions: Vec<Counted>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub id: String,
    pub rows: usize,
    /// How the rows name it: "file present", "file deleted", "registry", "USN journal"...
    pub seen_as: Vec<String>,
}

/// Statement 3: first and last time seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub timed_rows: usize,
    /// Rows whose only time is an access time.
    pub access_only_rows: usize,
    pub first: Option<Moment>,
    pub last: Option<Moment>,
    /// `last` is an access time because no other time exists.
    pub last_is_access: bool,
}

/// Statement 4: one autostart entry (Run value, service, autostart file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutostartEntry {
    /// "Run key value", "service", or "autostart item (<artifact>)".
    pub kind: String,
    /// The Run key, the service key, or the file.
    pub location: String,
    /// `name = command` of a Run value, the service's DLL/image and start type; empty
    /// for files.
    pub command: String,
    pub rows: usize,
    /// Latest key write (registry) or latest non-access time (files).
    pub latest: Option<Timestamp>,
}

/// How close a kind of row comes to an execution time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExecutionEvidence {
    /// The time is a run (BAM, UserAssist, the Prefetch file's last write).
    Direct,
    /// A key written at or after a run (MUICache, Amcache).
    Indirect,
    /// Not a run at all (AppCompatCache holds the file's modification time).
    NotExecution,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionKind {
    pub artifact: String,
    pub name: String,
    pub evidence: ExecutionEvidence,
    /// What the time means.
    pub meaning: String,
    pub rows: usize,
    pub latest: Option<Moment>,
    /// Highest UserAssist run count.
    pub run_count: Option<u64>,
}

/// Statement 5: last execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub kinds: Vec<ExecutionKind>,
    /// Latest direct execution time, else latest indirect one; never AppCompatCache.
    pub last: Option<Moment>,
    pub last_evidence: Option<ExecutionEvidence>,
}

/// Statement 6: firewall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firewall {
    /// `registry.firewall_rule` and `registry.firewall_xp` rows.
    pub rows: usize,
    /// Domain, Private, Public (and any other name a rule gives), when rules exist.
    pub profiles: Vec<ProfileRules>,
    pub xp: Vec<XpException>,
    /// Rule rows not in the parsed form (no `Action=`).
    pub unparsed_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRules {
    pub profile: String,
    /// Empty: no rule found for this profile.
    pub rules: Vec<FirewallDecision>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallDecision {
    /// `Allow` or `Block` as the rule says.
    pub action: String,
    pub direction: String,
    pub protocol: String,
    pub active: String,
    /// Written by Windows from the user's answer to the firewall prompt.
    pub user_answer: bool,
    pub rows: usize,
    pub latest: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XpException {
    /// "Standard" or "Domain".
    pub profile: String,
    /// "enabled", "disabled" or "state unknown".
    pub state: String,
    pub program: String,
    pub rows: usize,
    pub latest: Option<Timestamp>,
}

/// Statement 7: peer upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Distinct `cache.*` paths.
    pub cache_files: usize,
    /// Sum of their sizes.
    pub cache_bytes: u64,
    pub cache_rows: usize,
    /// `content.log_entry` rows about uploads and peers.
    pub log_lines: usize,
    pub first_log: Option<Timestamp>,
    pub last_log: Option<Timestamp>,
}

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
    /// Registry rows by artifact, when no install file is present in the scope.
    pub left_behind: Vec<Counted>,
}

// ---------------------------------------------------------------------------------------
// Computing it
// ---------------------------------------------------------------------------------------

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
    let scopes: Vec<ScopeVerdict> = users
        .into_iter()
        .map(|(user, mut rows)| {
            // Timeline order makes every later choice independent of the input order.
            rows.sort_by(|a, b| a.timeline_cmp(b));
            scope_verdict(user, &rows)
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

fn scope_verdict(user: &str, rows: &[&EvidenceRow]) -> ScopeVerdict {
    let install = install(rows);
    let removal = removal(rows, install.present_rows);
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

// --- 1. installed, where ---------------------------------------------------------------

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

fn install(rows: &[&EvidenceRow]) -> Install {
    let mut present_rows = 0;
    let mut remnants: BTreeMap<String, usize> = BTreeMap::new();
    let mut other: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows {
        match support(row) {
            Support::Present => present_rows += 1,
            Support::Remnant(kind) => *remnants.entry(kind.to_string()).or_default() += 1,
            Support::Neither => *other.entry(row.artifact.clone()).or_default() += 1,
        }
    }
    let state = if present_rows > 0 {
        InstallState::Installed
    } else if !remnants.is_empty() {
        InstallState::Remnants
    } else {
        InstallState::NoTrace
    };
    Install {
        state,
        present_rows,
        remnants: counted(remnants),
        other: counted(other),
        folders: folders(rows),
        registry_locations: count_values(
            rows.iter()
                .filter(|r| r.artifact == "registry.uninstall")
                .filter_map(|r| field(&r.value, "InstallLocation"))
                .filter(|v| !v.is_empty()),
        ),
    }
}

/// The path up to and including its first component named `Akamai`.
fn akamai_prefix(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split(['\\', '/']).collect();
    let at = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("akamai"))?;
    Some(parts[..=at].join("\\"))
}

fn folders(rows: &[&EvidenceRow]) -> Vec<Folder> {
    // Keyed case-insensitively: the MFT and the journal may spell a folder differently.
    let mut found: BTreeMap<String, Folder> = BTreeMap::new();
    for row in rows {
        if !(is_install_file_artifact(&row.artifact) || row.artifact == "ntfs.usn_journal") {
            continue;
        }
        let Some(prefix) = akamai_prefix(&row.path) else {
            continue;
        };
        let folder = found.entry(prefix.to_lowercase()).or_insert(Folder {
            path: prefix,
            present: false,
            rows: 0,
        });
        folder.rows += 1;
        folder.present |= support(row) == Support::Present;
    }
    found.into_values().collect()
}

// --- 2. builds ---------------------------------------------------------------------------

fn builds(rows: &[&EvidenceRow]) -> Builds {
    Builds {
        core_dlls: named_builds(rows, &CORE_DLL_RE),
        redswoosh_dlls: named_builds(rows, &RSWIN_DLL_RE),
        readme_copyrights: count_values(
            rows.iter()
                .filter(|r| r.artifact == "content.copyright")
                .map(|r| r.value.as_str()),
        ),
        versions: count_values(
            rows.iter()
                .filter(|r| r.artifact == "registry.uninstall")
                .filter_map(|r| field(&r.value, "DisplayVersion"))
                .filter(|v| !v.is_empty()),
        ),
    }
}

/// The build ids a pattern finds in a text, lower case.
fn build_ids(re: &Regex, text: &str) -> BTreeSet<String> {
    re.captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().to_lowercase())
        .collect()
}

fn named_builds(rows: &[&EvidenceRow], re: &Regex) -> Vec<Build> {
    let mut found: BTreeMap<String, (usize, BTreeSet<&'static str>)> = BTreeMap::new();
    for row in rows {
        let in_path = build_ids(re, &row.path);
        let in_value = build_ids(re, &row.value);
        // A row naming a build in both its path and its value still is one row.
        for id in in_path.union(&in_value) {
            let entry = found.entry(id.clone()).or_default();
            entry.0 += 1;
            entry.1.insert(build_source(row, in_path.contains(id)));
        }
    }
    found
        .into_iter()
        .map(|(id, (rows, seen_as))| Build {
            id,
            rows,
            seen_as: seen_as.into_iter().map(String::from).collect(),
        })
        .collect()
}

/// How a row names a build: as a file of its own, in the registry, in the journal, or
/// inside some file's text.
fn build_source(row: &EvidenceRow, in_path: bool) -> &'static str {
    if row.artifact == "ntfs.usn_journal" {
        return "USN journal";
    }
    match row.state {
        RecordState::Live | RecordState::FromLog => "registry",
        RecordState::Allocated if in_path => "file present",
        RecordState::Deleted if in_path => "file deleted",
        RecordState::Orphan if in_path => "file orphaned",
        _ => "named in a file's content",
    }
}

// --- 3. first and last seen ------------------------------------------------------------

/// True when the row's only time is an access time. Access times move whenever anyone
/// (an indexer, an antivirus, the copy to the triage disk) reads the file, so they say
/// little about NetSession itself. A row whose time is also a creation or modification
/// time ("Created, Modified, Accessed ($SI)") is a creation or modification time, and
/// keeps counting.
fn is_access_only(desc: &str) -> bool {
    let labels = desc.split('(').next().unwrap_or_default();
    let mut parts = labels.split(',').map(str::trim).filter(|p| !p.is_empty());
    let mut any = false;
    parts.all(|p| {
        any = true;
        p.eq_ignore_ascii_case("accessed") || p.eq_ignore_ascii_case("last accessed")
    }) && any
}

fn moment(row: &EvidenceRow) -> Option<Moment> {
    Some(Moment {
        time: row.datetime?,
        artifact: row.artifact.clone(),
        timestamp_desc: row.timestamp_desc.clone(),
        path: row.path.clone(),
    })
}

/// Earliest of timed rows, ties broken by timeline order.
fn earliest<'a>(rows: impl Iterator<Item = &'a EvidenceRow>) -> Option<&'a EvidenceRow> {
    rows.filter(|r| r.datetime.is_some())
        .min_by(|a, b| a.timeline_cmp(b))
}

/// Latest of timed rows, ties broken by timeline order.
fn latest<'a>(rows: impl Iterator<Item = &'a EvidenceRow>) -> Option<&'a EvidenceRow> {
    rows.filter(|r| r.datetime.is_some())
        .max_by(|a, b| a.timeline_cmp(b))
}

fn seen(rows: &[&EvidenceRow]) -> Seen {
    let timed_rows = rows.iter().filter(|r| r.datetime.is_some()).count();
    let access_only_rows = rows
        .iter()
        .filter(|r| r.datetime.is_some() && is_access_only(&r.timestamp_desc))
        .count();
    // First seen takes every time: an access never comes before the file existed.
    let first = earliest(rows.iter().copied()).and_then(moment);
    // Last seen skips access-only times unless nothing else is left.
    let last_other = latest(
        rows.iter()
            .copied()
            .filter(|r| !is_access_only(&r.timestamp_desc)),
    );
    let (last, last_is_access) = match last_other {
        Some(row) => (moment(row), false),
        None => {
            let any = latest(rows.iter().copied()).and_then(moment);
            let is_access = any.is_some();
            (any, is_access)
        }
    };
    Seen {
        timed_rows,
        access_only_rows,
        first,
        last,
        last_is_access,
    }
}

// --- 4. autostart --------------------------------------------------------------------------

fn autostart(rows: &[&EvidenceRow]) -> Vec<AutostartEntry> {
    let mut found: BTreeMap<(String, String, String), (usize, Option<Timestamp>)> = BTreeMap::new();
    for row in rows {
        let Some(key) = autostart_key(row) else {
            continue;
        };
        let entry = found.entry(key).or_default();
        entry.0 += 1;
        if !is_access_only(&row.timestamp_desc) {
            entry.1 = entry.1.max(row.datetime);
        }
    }
    found
        .into_iter()
        .map(
            |((kind, location, command), (rows, latest))| AutostartEntry {
                kind,
                location,
                command,
                rows,
                latest,
            },
        )
        .collect()
}

/// (kind, location, command) of an autostart row; `None` for other rows.
fn autostart_key(row: &EvidenceRow) -> Option<(String, String, String)> {
    match row.artifact.as_str() {
        "registry.run" => Some(("Run key value".into(), row.path.clone(), row.value.clone())),
        "registry.service" => {
            let key = service_key(&row.path);
            Some(("service".into(), key, service_command(&row.value)))
        }
        a if a.starts_with("autostart.") => Some((
            format!("autostart item ({a})"),
            row.path.clone(),
            String::new(),
        )),
        _ => None,
    }
}

/// `SYSTEM\ControlSet002\Services\Akamai\Parameters` → `...\Services\Akamai`: the
/// service key and its Parameters key are one service.
fn service_key(path: &str) -> String {
    let parts: Vec<&str> = path.split('\\').collect();
    match parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("services"))
    {
        Some(at) if at + 1 < parts.len() => parts[..=at + 1].join("\\"),
        _ => path.to_string(),
    }
}

/// The fields of a service row that say what starts and when.
fn service_command(value: &str) -> String {
    let shown: Vec<String> = ["ServiceDll", "ImagePath", "Start"]
        .iter()
        .filter_map(|name| field(value, name).map(|v| format!("{name}={v}")))
        .collect();
    if shown.is_empty() {
        value.to_string()
    } else {
        shown.join("; ")
    }
}

// --- 5. last execution --------------------------------------------------------------------

/// (artifact, short name, evidence, what its time means), in report order.
const EXECUTION_KINDS: [(&str, &str, ExecutionEvidence, &str); 6] = [
    (
        "execution.bam",
        "BAM",
        ExecutionEvidence::Direct,
        "last execution recorded by the Background Activity Moderator",
    ),
    (
        "execution.userassist",
        "UserAssist",
        ExecutionEvidence::Direct,
        "last run from the shell",
    ),
    (
        "execution.prefetch",
        "Prefetch",
        ExecutionEvidence::Direct,
        "the Prefetch file's last write, close to the last run",
    ),
    (
        "execution.muicache",
        "MUICache",
        ExecutionEvidence::Indirect,
        "key last written, at or after a run from the shell",
    ),
    (
        "execution.amcache",
        "Amcache",
        ExecutionEvidence::Indirect,
        "key last written or file times Amcache recorded, at or after a run",
    ),
    (
        "execution.appcompatcache",
        "AppCompatCache",
        ExecutionEvidence::NotExecution,
        "the file's modification time as cached, not an execution time",
    ),
];

fn execution(rows: &[&EvidenceRow]) -> Execution {
    let mut kinds: Vec<ExecutionKind> = EXECUTION_KINDS
        .iter()
        .filter_map(|&(artifact, name, evidence, meaning)| {
            execution_kind(rows, artifact, name, evidence, meaning)
        })
        .collect();
    // Execution artifacts a user catalog may add: shown, counted as indirect.
    let known: BTreeSet<&str> = EXECUTION_KINDS.iter().map(|k| k.0).collect();
    let others: BTreeSet<&str> = rows
        .iter()
        .map(|r| r.artifact.as_str())
        .filter(|a| a.starts_with("execution.") && !known.contains(a))
        .collect();
    kinds.extend(others.into_iter().filter_map(|a| {
        execution_kind(
            rows,
            a,
            a,
            ExecutionEvidence::Indirect,
            "time as the row gives it",
        )
    }));
    let (last, last_evidence) = last_execution(&kinds);
    Execution {
        kinds,
        last,
        last_evidence,
    }
}

fn execution_kind(
    rows: &[&EvidenceRow],
    artifact: &str,
    name: &str,
    evidence: ExecutionEvidence,
    meaning: &str,
) -> Option<ExecutionKind> {
    let of_kind: Vec<&EvidenceRow> = rows
        .iter()
        .copied()
        .filter(|r| r.artifact == artifact)
        .collect();
    if of_kind.is_empty() {
        return None;
    }
    // A Prefetch file's access time is not a run; its last write is.
    let timed = of_kind
        .iter()
        .copied()
        .filter(|r| !is_access_only(&r.timestamp_desc));
    let run_count = of_kind
        .iter()
        .filter_map(|r| RUN_COUNT_RE.captures(&r.value))
        .filter_map(|c| c.get(1)?.as_str().parse::<u64>().ok())
        .max();
    Some(ExecutionKind {
        artifact: artifact.to_string(),
        name: name.to_string(),
        evidence,
        meaning: meaning.to_string(),
        rows: of_kind.len(),
        latest: latest(timed).and_then(moment),
        run_count,
    })
}

/// The latest direct execution time; without one, the latest indirect time. Never an
/// AppCompatCache time, which is a file modification time.
fn last_execution(kinds: &[ExecutionKind]) -> (Option<Moment>, Option<ExecutionEvidence>) {
    for evidence in [ExecutionEvidence::Direct, ExecutionEvidence::Indirect] {
        let best = kinds
            .iter()
            .filter(|k| k.evidence == evidence)
            .filter_map(|k| k.latest.as_ref())
            .max_by(|a, b| moment_cmp(a, b));
        if let Some(m) = best {
            return (Some(m.clone()), Some(evidence));
        }
    }
    (None, None)
}

fn moment_cmp(a: &Moment, b: &Moment) -> Ordering {
    a.time
        .cmp(&b.time)
        .then_with(|| a.artifact.cmp(&b.artifact))
        .then_with(|| a.path.cmp(&b.path))
        .then_with(|| a.timestamp_desc.cmp(&b.timestamp_desc))
}

// --- 6. firewall ----------------------------------------------------------------------------

/// (action, direction, protocol, active, user's answer) of a parsed rule.
type RuleKey = (String, String, String, String, bool);

fn firewall(rows: &[&EvidenceRow]) -> Firewall {
    let rules: Vec<&EvidenceRow> = rows
        .iter()
        .copied()
        .filter(|r| r.artifact == "registry.firewall_rule")
        .collect();
    let xp_rows: Vec<&EvidenceRow> = rows
        .iter()
        .copied()
        .filter(|r| r.artifact == "registry.firewall_xp")
        .collect();
    let mut profiles: BTreeMap<String, BTreeMap<RuleKey, (usize, Option<Timestamp>)>> =
        BTreeMap::new();
    if !rules.is_empty() {
        for p in PROFILES {
            profiles.entry(p.to_string()).or_default();
        }
    }
    let mut unparsed_rows = 0;
    for row in &rules {
        let Some(key) = rule_key(row) else {
            unparsed_rows += 1;
            continue;
        };
        for profile in rule_profiles(field(&row.value, "Profiles")) {
            let entry = profiles
                .entry(profile)
                .or_default()
                .entry(key.clone())
                .or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(row.datetime);
        }
    }
    Firewall {
        rows: rules.len() + xp_rows.len(),
        profiles: profiles
            .into_iter()
            .map(|(profile, rules)| ProfileRules {
                profile,
                rules: rules.into_iter().map(decision).collect(),
            })
            .collect(),
        xp: xp_exceptions(&xp_rows),
        unparsed_rows,
    }
}

fn rule_key(row: &EvidenceRow) -> Option<RuleKey> {
    let action = field(&row.value, "Action")?.to_string();
    let direction = match field(&row.value, "Dir") {
        Some(d) if d.eq_ignore_ascii_case("in") => "inbound".to_string(),
        Some(d) if d.eq_ignore_ascii_case("out") => "outbound".to_string(),
        Some(d) => format!("direction {d}"),
        None => "direction unknown".to_string(),
    };
    let protocol = field(&row.value, "Protocol")
        .unwrap_or("any protocol")
        .to_string();
    let active = field(&row.value, "Active").unwrap_or("?").to_string();
    let user_answer = field(&row.value, "QueryUser").is_some_and(|q| q.eq_ignore_ascii_case("yes"))
        || row.message.contains("the user's answer");
    Some((action, direction, protocol, active, user_answer))
}

/// The profiles a rule names; none, empty or "All" means every profile.
fn rule_profiles(listed: Option<&str>) -> Vec<String> {
    let names: Vec<&str> = listed
        .unwrap_or_default()
        .split([',', '|'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if names.is_empty()
        || names
            .iter()
            .any(|n| n.eq_ignore_ascii_case("all") || n.eq_ignore_ascii_case("any"))
    {
        return PROFILES.iter().map(|p| p.to_string()).collect();
    }
    let canonical = |n: &str| {
        PROFILES
            .iter()
            .find(|p| p.eq_ignore_ascii_case(n))
            .map(|p| p.to_string())
            .unwrap_or_else(|| n.to_string())
    };
    let unique: BTreeSet<String> = names.into_iter().map(canonical).collect();
    unique.into_iter().collect()
}

fn decision(
    ((action, direction, protocol, active, user_answer), (rows, latest)): (
        RuleKey,
        (usize, Option<Timestamp>),
    ),
) -> FirewallDecision {
    FirewallDecision {
        action,
        direction,
        protocol,
        active,
        user_answer,
        rows,
        latest,
    }
}

fn xp_exceptions(rows: &[&EvidenceRow]) -> Vec<XpException> {
    let mut found: BTreeMap<(String, String, String), (usize, Option<Timestamp>)> = BTreeMap::new();
    for row in rows {
        let path = row.path.to_lowercase();
        let profile = if path.contains("domainprofile") {
            "Domain"
        } else if path.contains("standardprofile") {
            "Standard"
        } else {
            "unknown"
        };
        let program = row
            .value
            .split_once(" = ")
            .map(|(name, _)| name)
            .unwrap_or(&row.value)
            .to_string();
        let entry = found
            .entry((profile.to_string(), xp_state(row).to_string(), program))
            .or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(row.datetime);
    }
    found
        .into_iter()
        .map(|((profile, state, program), (rows, latest))| XpException {
            profile,
            state,
            program,
            rows,
            latest,
        })
        .collect()
}

/// XP list data is `<path>:<scope>:<Enabled|Disabled>:<name>`; the message repeats it.
fn xp_state(row: &EvidenceRow) -> &'static str {
    let value = row.value.to_lowercase();
    let message = row.message.to_lowercase();
    // "disabled" contains "enabled": look for it first.
    if value.contains(":disabled:") || message.contains(": disabled,") {
        "disabled"
    } else if value.contains(":enabled:") || message.contains(": enabled,") {
        "enabled"
    } else {
        "state unknown"
    }
}

// --- 7. peer upload -----------------------------------------------------------------------

fn upload(rows: &[&EvidenceRow]) -> Upload {
    let cache: Vec<&EvidenceRow> = rows
        .iter()
        .copied()
        .filter(|r| r.artifact.starts_with("cache."))
        .collect();
    // One file has several rows (one per distinct time): count each path once.
    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for row in &cache {
        let size = sizes.entry(row.path.as_str()).or_default();
        *size = (*size).max(row.size.unwrap_or(0));
    }
    let lines: Vec<&EvidenceRow> = rows
        .iter()
        .copied()
        .filter(|r| r.artifact == "content.log_entry" && mentions_upload(&r.value))
        .collect();
    Upload {
        cache_files: sizes.len(),
        cache_bytes: sizes.values().sum(),
        cache_rows: cache.len(),
        log_lines: lines.len(),
        first_log: earliest(lines.iter().copied()).and_then(|r| r.datetime),
        last_log: latest(lines.iter().copied()).and_then(|r| r.datetime),
    }
}

fn mentions_upload(line: &str) -> bool {
    let lower = line.to_lowercase();
    UPLOAD_WORDS.iter().any(|w| lower.contains(w))
}

// --- 8. removal ---------------------------------------------------------------------------

fn removal(rows: &[&EvidenceRow], present_rows: usize) -> Removal {
    let deleted: Vec<&EvidenceRow> = rows
        .iter()
        .copied()
        .filter(|r| r.state == RecordState::Deleted)
        .collect();
    let deleted_files: BTreeSet<String> = deleted.iter().map(|r| r.path.clone()).collect();
    let usn_deletes: Vec<&EvidenceRow> =
        rows.iter().copied().filter(|r| is_usn_delete(r)).collect();
    // Registry entries outlive an uninstall; they only say "left behind" where no file
    // of the install is present any more.
    let left_behind = if present_rows == 0 {
        count_values(
            rows.iter()
                .filter(|r| r.artifact.starts_with("registry."))
                .map(|r| r.artifact.as_str()),
        )
    } else {
        Vec::new()
    };
    Removal {
        deleted_files: deleted_files.into_iter().collect(),
        deleted_rows: deleted.len(),
        usn_deletes: usn_deletes.len(),
        first_usn_delete: earliest(usn_deletes.iter().copied()).and_then(moment),
        last_usn_delete: latest(usn_deletes.iter().copied()).and_then(moment),
        left_behind,
    }
}

fn is_usn_delete(row: &EvidenceRow) -> bool {
    row.artifact == "ntfs.usn_journal"
        && row.value.starts_with("reasons=")
        && field(&row.value, "reasons")
            .is_some_and(|r| r.split('|').any(|flag| flag.trim() == "FILE_DELETE"))
}

// --- helpers --------------------------------------------------------------------------------

/// The `Name=value` field of a `; `-separated value, as the registry and journal rows
/// write them (`Action=Allow; Dir=In; ...`).
fn field<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    value.split("; ").find_map(|part| {
        let (key, v) = part.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn counted(map: BTreeMap<String, usize>) -> Vec<Counted> {
    map.into_iter()
        .map(|(value, rows)| Counted { value, rows })
        .collect()
}

fn count_values<'a>(values: impl Iterator<Item = &'a str>) -> Vec<Counted> {
    let mut map: BTreeMap<String, usize> = BTreeMap::new();
    for v in values {
        *map.entry(v.to_string()).or_default() += 1;
    }
    counted(map)
}

// ---------------------------------------------------------------------------------------
// Rendering: one list of statements, two renderers
// ---------------------------------------------------------------------------------------

/// A piece of a statement: our words, or something taken from the evidence (shown as
/// code in Markdown, cleaned of control characters everywhere).
#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Code(String),
}

fn t(s: impl Into<String>) -> Part {
    Part::Text(s.into())
}

fn c(s: &str) -> Part {
    Part::Code(clean(s))
}

fn time_part(time: Timestamp) -> Part {
    Part::Code(time.to_iso8601())
}

/// One labelled statement, with sub-items where it lists several things.
struct Statement {
    label: &'static str,
    parts: Vec<Part>,
    items: Vec<Vec<Part>>,
}

fn statement(label: &'static str, parts: Vec<Part>) -> Statement {
    Statement {
        label,
        parts,
        items: Vec::new(),
    }
}

/// Evidence text may hold control characters (a log line, a value name): never let them
/// reach a terminal or break a Markdown line.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_control() {
            let _ = write!(out, "\\x{:02x}", ch as u32);
        } else {
            out.push(ch);
        }
    }
    out
}

fn n_rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

fn n_volumes(n: usize) -> String {
    if n == 1 {
        "1 volume".into()
    } else {
        format!("{n} volumes")
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{bytes} bytes ({size:.1} {})", UNITS[unit])
}

fn scope_title(user: &str) -> Vec<Part> {
    if user.is_empty() {
        vec![t(MACHINE_WIDE)]
    } else {
        vec![t("user "), c(user)]
    }
}

impl Verdict {
    /// The one-line summary over all volumes.
    pub fn headline(&self) -> String {
        if self.volumes.is_empty() {
            return NO_ROWS.to_string();
        }
        let count = |state| self.volumes.iter().filter(|v| v.state == state).count();
        format!(
            "NetSession verdict: installed on {}, remnants on {}, no trace on {} ({})",
            n_volumes(count(InstallState::Installed)),
            n_volumes(count(InstallState::Remnants)),
            n_volumes(count(InstallState::NoTrace)),
            n_rows(self.rows)
        )
    }

    /// Several lines for stderr: the headline, then each volume and user.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.headline());
        for volume in &self.volumes {
            let _ = writeln!(out, "volume {}", plain(&volume_title(volume)));
            for scope in &volume.scopes {
                let mut title = scope_title(&scope.user);
                title.push(t(format!(" ({})", n_rows(scope.rows))));
                let _ = writeln!(out, "  {}", plain(&title));
                for s in scope_statements(scope) {
                    write_text_statement(&mut out, &s);
                }
            }
        }
        if !self.volumes.is_empty() {
            let _ = writeln!(out, "{}", HONESTY_NOTE);
        }
        out
    }

    /// A Markdown document: the headline, a section per volume and per user.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("# NetSession verdict\n\n");
        if self.volumes.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                md_text(
                    "No trace found in what was scanned (which is not proof it was never installed)."
                )
            );
            return out;
        }
        let headline = self.headline();
        let summary = headline
            .strip_prefix("NetSession verdict: ")
            .unwrap_or(&headline);
        let _ = writeln!(out, "**{}**\n", md_text(summary));
        let _ = writeln!(out, "{}\n", md_text(HONESTY_NOTE));
        for volume in &self.volumes {
            let _ = writeln!(out, "## Volume {}\n", markdown(&volume_title(volume)));
            for scope in &volume.scopes {
                let mut title = scope_title(&scope.user);
                title.push(t(format!(" ({})", n_rows(scope.rows))));
                let _ = writeln!(out, "### {}\n", markdown(&title));
                for s in scope_statements(scope) {
                    write_markdown_statement(&mut out, &s);
                }
                out.push('\n');
            }
        }
        out
    }
}

const HONESTY_NOTE: &str = "Computed from the evidence rows only; every statement names the rows that support it. \"No trace found\" means none in what was scanned, which is not proof it was never installed.";

fn volume_title(volume: &VolumeVerdict) -> Vec<Part> {
    let source = if volume.source.is_empty() {
        "(no source)"
    } else {
        volume.source.as_str()
    };
    let mut parts = vec![
        c(source),
        t(format!(
            ": {} ({})",
            volume.state.describe(),
            n_rows(volume.rows)
        )),
    ];
    if volume.registry_only {
        parts.push(t(
            "; only registry rows from this source: if hives were given alone, the files of this system were not scanned",
        ));
    }
    parts
}

fn scope_statements(scope: &ScopeVerdict) -> Vec<Statement> {
    vec![
        installed_statement(&scope.install),
        where_statement(&scope.install),
        builds_statement(&scope.builds),
        first_seen_statement(&scope.seen),
        last_seen_statement(&scope.seen),
        autostart_statement(&scope.autostart),
        execution_statement(&scope.execution),
        firewall_statement(&scope.firewall),
        upload_statement(&scope.upload),
        removal_statement(&scope.removal),
    ]
}

fn counted_list(items: &[Counted]) -> Vec<Part> {
    let mut parts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            parts.push(t(", "));
        }
        parts.push(c(&item.value));
        parts.push(t(format!(" ({})", n_rows(item.rows))));
    }
    parts
}

fn installed_statement(install: &Install) -> Statement {
    let remnant_rows: usize = install.remnants.iter().map(|r| r.rows).sum();
    let parts = match install.state {
        InstallState::Installed => vec![t(format!(
            "{} ({} of install files)",
            install.state.describe(),
            n_rows(install.present_rows)
        ))],
        InstallState::Remnants => {
            let mut parts = vec![t(format!(
                "{} ({}: ",
                install.state.describe(),
                n_rows(remnant_rows)
            ))];
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

fn where_statement(install: &Install) -> Statement {
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
    let parts = if items.is_empty() {
        vec![t("no install folder named in what was scanned (0 rows)")]
    } else {
        Vec::new()
    };
    Statement {
        label: "where",
        parts,
        items,
    }
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

fn build_item(what: &str, file_prefix: &str, build: &Build) -> Vec<Part> {
    vec![
        t(what),
        c(&format!("{file_prefix}{}.dll", build.id)),
        t(format!(
            " — {} ({})",
            build.seen_as.join(", "),
            n_rows(build.rows)
        )),
    ]
}

fn builds_statement(builds: &Builds) -> Statement {
    let mut items: Vec<Vec<Part>> = Vec::new();
    for b in &builds.core_dlls {
        items.push(build_item("core DLL ", "netsession_win_", b));
    }
    for b in &builds.redswoosh_dlls {
        items.push(build_item("Red Swoosh DLL ", "rswin_", b));
    }
    for v in &builds.versions {
        items.push(vec![
            t("version "),
            c(&v.value),
            t(format!(
                " — DisplayVersion of an uninstall entry ({})",
                n_rows(v.rows)
            )),
        ]);
    }
    for y in &builds.readme_copyrights {
        items.push(vec![
            t("readme "),
            c(&y.value),
            t(format!(
                " — the copyright years date the build's era ({})",
                n_rows(y.rows)
            )),
        ]);
    }
    let parts = if items.is_empty() {
        vec![t("no build named in what was scanned (0 rows)")]
    } else {
        Vec::new()
    };
    Statement {
        label: "builds",
        parts,
        items,
    }
}

fn moment_parts(m: &Moment) -> Vec<Part> {
    vec![
        time_part(m.time),
        t(" from "),
        c(&m.artifact),
        t(" ("),
        c(&m.timestamp_desc),
        t(") "),
        c(&m.path),
    ]
}

fn first_seen_statement(seen: &Seen) -> Statement {
    let parts = match &seen.first {
        Some(m) => {
            let mut parts = moment_parts(m);
            parts.push(t(format!(
                " (earliest of {} with a time",
                n_rows(seen.timed_rows)
            )));
            if m.artifact == "execution.appcompatcache" {
                parts.push(t(
                    "; a file modification time as cached, which may predate the file's arrival on this system",
                ));
            }
            parts.push(t(")"));
            parts
        }
        None => vec![t("no row with a time (0 rows)")],
    };
    statement("first seen", parts)
}

fn last_seen_statement(seen: &Seen) -> Statement {
    let parts = match &seen.last {
        Some(m) if seen.last_is_access => {
            let mut parts = moment_parts(m);
            parts.push(t(format!(
                " (latest of {}; only access times exist here, and access times are noisy)",
                n_rows(seen.timed_rows)
            )));
            parts
        }
        Some(m) => {
            let mut parts = moment_parts(m);
            let counted = seen.timed_rows - seen.access_only_rows;
            let mut note = format!("latest of {} with a time", n_rows(counted));
            if seen.access_only_rows > 0 {
                let _ = write!(
                    note,
                    "; {} whose only time is an access time left out, access times being noisy",
                    n_rows(seen.access_only_rows)
                );
            }
            parts.push(t(format!(" ({note})")));
            parts
        }
        None => vec![t("no row with a time (0 rows)")],
    };
    statement("last seen", parts)
}

fn autostart_statement(entries: &[AutostartEntry]) -> Statement {
    let items: Vec<Vec<Part>> = entries
        .iter()
        .map(|e| {
            let mut parts = vec![t(format!("{} ", e.kind))];
            if !e.command.is_empty() {
                parts.push(c(&e.command));
                parts.push(t(" in "));
            }
            parts.push(c(&e.location));
            match e.latest {
                Some(time) => {
                    let what = if e.kind.starts_with("autostart item") {
                        ", latest time "
                    } else {
                        ", key last written "
                    };
                    parts.push(t(what));
                    parts.push(time_part(time));
                }
                None => parts.push(t(", no time")),
            }
            parts.push(t(format!(" ({})", n_rows(e.rows))));
            parts
        })
        .collect();
    let parts = if items.is_empty() {
        vec![t("none found in what was scanned (0 rows)")]
    } else {
        Vec::new()
    };
    Statement {
        label: "autostart",
        parts,
        items,
    }
}

fn execution_statement(execution: &Execution) -> Statement {
    let rows: usize = execution.kinds.iter().map(|k| k.rows).sum();
    let parts = match (&execution.last, execution.last_evidence) {
        (Some(m), Some(ExecutionEvidence::Direct)) => {
            let mut parts = moment_parts(m);
            parts.push(t(format!(" (latest execution time of {})", n_rows(rows))));
            parts
        }
        (Some(m), _) => {
            let mut parts = moment_parts(m);
            parts.push(t(format!(
                " (of {}; no direct execution time — BAM, UserAssist, Prefetch — was found: this is a key written at or after a run)",
                n_rows(rows)
            )));
            parts
        }
        (None, _) if rows > 0 => vec![t(format!(
            "no execution time found ({} that are not execution times, below)",
            n_rows(rows)
        ))],
        (None, _) => vec![t("no execution trace found in what was scanned (0 rows)")],
    };
    let items = execution
        .kinds
        .iter()
        .map(|k| {
            let mut parts = vec![t(format!("{}: ", k.name))];
            match &k.latest {
                Some(m) => {
                    parts.push(time_part(m.time));
                    parts.push(t(format!(", {}", k.meaning)));
                }
                None => parts.push(t(format!("no time ({})", k.meaning))),
            }
            if let Some(n) = k.run_count {
                parts.push(t(format!("; run count {n}")));
            }
            parts.push(t(format!(" ({})", n_rows(k.rows))));
            parts
        })
        .collect();
    Statement {
        label: "last execution",
        parts,
        items,
    }
}

fn profile_item(p: &ProfileRules) -> Vec<Part> {
    if p.rules.is_empty() {
        return vec![t(format!("{}: no rule found", p.profile))];
    }
    let allows = p
        .rules
        .iter()
        .any(|r| r.action.eq_ignore_ascii_case("allow"));
    let blocks = p
        .rules
        .iter()
        .any(|r| r.action.eq_ignore_ascii_case("block"));
    let overall = match (allows, blocks) {
        (true, false) => "allowed",
        (false, true) => "blocked",
        (true, true) => "allowed and blocked by different rules",
        (false, false) => "action unknown",
    };
    let mut parts = vec![t(format!("{}: {overall} — ", p.profile))];
    for (i, r) in p.rules.iter().enumerate() {
        if i > 0 {
            parts.push(t("; "));
        }
        let origin = if r.user_answer {
            "the user's answer to the Windows Firewall prompt"
        } else {
            "a rule not from the prompt (installer or policy)"
        };
        parts.push(c(&r.action));
        parts.push(t(format!(" {} ", r.direction)));
        parts.push(c(&r.protocol));
        parts.push(t(format!(", {origin}, active=")));
        parts.push(c(&r.active));
        if let Some(time) = r.latest {
            parts.push(t(", key last written "));
            parts.push(time_part(time));
        }
        parts.push(t(format!(" ({})", n_rows(r.rows))));
    }
    parts
}

fn firewall_statement(firewall: &Firewall) -> Statement {
    let mut items: Vec<Vec<Part>> = firewall.profiles.iter().map(profile_item).collect();
    for x in &firewall.xp {
        let mut parts = vec![
            t(format!(
                "XP {} profile: exception {} for ",
                x.profile, x.state
            )),
            c(&x.program),
        ];
        if let Some(time) = x.latest {
            parts.push(t(", key last written "));
            parts.push(time_part(time));
        }
        parts.push(t(format!(" ({})", n_rows(x.rows))));
        items.push(parts);
    }
    if firewall.unparsed_rows > 0 {
        items.push(vec![t(format!(
            "rules not in the v2 format, see the evidence file ({})",
            n_rows(firewall.unparsed_rows)
        ))]);
    }
    let parts = if firewall.rows == 0 {
        vec![t(
            "no NetSession firewall rule found in what was scanned (0 rows)",
        )]
    } else {
        vec![t(format!("{}:", n_rows(firewall.rows)))]
    };
    Statement {
        label: "firewall",
        parts,
        items,
    }
}

fn upload_statement(upload: &Upload) -> Statement {
    let cache = if upload.cache_rows == 0 {
        vec![t("no peer-upload cache file found (0 rows)")]
    } else {
        vec![t(format!(
            "cache: {} distinct file(s), {} in all ({})",
            upload.cache_files,
            human_size(upload.cache_bytes),
            n_rows(upload.cache_rows)
        ))]
    };
    let mut log = vec![t(format!(
        "log lines about uploads or peers: {}",
        upload.log_lines
    ))];
    if let (Some(first), Some(last)) = (upload.first_log, upload.last_log) {
        log.push(t(", first "));
        log.push(time_part(first));
        log.push(t(", last "));
        log.push(time_part(last));
    }
    log.push(t(format!(" ({})", n_rows(upload.log_lines))));
    Statement {
        label: "peer upload",
        parts: Vec::new(),
        items: vec![cache, log],
    }
}

/// At most this many deleted paths are named; the evidence file has them all.
const DELETED_SHOWN: usize = 10;

fn removal_statement(removal: &Removal) -> Statement {
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
    if !removal.left_behind.is_empty() {
        let rows: usize = removal.left_behind.iter().map(|r| r.rows).sum();
        let mut parts = vec![t(format!(
            "registry/firewall traces left behind, with no install file present here ({}): ",
            n_rows(rows)
        ))];
        parts.extend(counted_list(&removal.left_behind));
        items.push(parts);
    }
    let parts = if items.is_empty() {
        vec![t("no removal trace found in what was scanned (0 rows)")]
    } else {
        Vec::new()
    };
    Statement {
        label: "removal",
        parts,
        items,
    }
}

// --- the two renderers ------------------------------------------------------------------

fn plain(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(s) => clean(s),
            Part::Code(s) => s.clone(),
        })
        .collect()
}

fn write_text_statement(out: &mut String, s: &Statement) {
    if s.parts.is_empty() {
        let _ = writeln!(out, "    {}:", s.label);
    } else {
        let _ = writeln!(out, "    {}: {}", s.label, plain(&s.parts));
    }
    for item in &s.items {
        let _ = writeln!(out, "      - {}", plain(item));
    }
}

fn markdown(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(s) => md_text(&clean(s)),
            Part::Code(s) => code_span(s),
        })
        .collect()
}

fn write_markdown_statement(out: &mut String, s: &Statement) {
    let mut label = s.label.to_string();
    if let Some(first) = label.get(..1) {
        label = first.to_uppercase() + label.get(1..).unwrap_or_default();
    }
    if s.parts.is_empty() {
        let _ = writeln!(out, "- **{label}:**");
    } else {
        let _ = writeln!(out, "- **{label}:** {}", markdown(&s.parts));
    }
    for item in &s.items {
        let _ = writeln!(out, "  - {}", markdown(item));
    }
}

/// Our own words, with Markdown's inline syntax characters escaped.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(
            ch,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A code span that survives backticks in the evidence text.
fn code_span(s: &str) -> String {
    if s.is_empty() {
        return "(empty)".into();
    }
    let mut longest = 0;
    let mut run = 0;
    for ch in s.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // CommonMark strips one space on each side when both are present: pad when the text
    // touches a backtick or begins and ends with a space.
    let pad = s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' '));
    if pad {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Precision;

    const SRC: &str = "disk.E01 p2@1048576";
    const JOSE_DIR: &str = r"Users\José Müller\AppData\Local\Akamai";

    /// 2012-02-14T09:30:00Z plus `offset` seconds.
    fn at(offset: i64) -> Timestamp {
        Timestamp::from_unix(1_329_211_800 + offset, 0, Precision::Seconds)
            .unwrap_or_else(|| unreachable!("a valid time"))
    }

    fn row(artifact: &str, user: &str, path: &str, value: &str) -> EvidenceRow {
        EvidenceRow {
            datetime: None,
            timestamp_desc: "Found In File (no time)".into(),
            message: String::new(),
            artifact: artifact.into(),
            user: user.into(),
            path: path.into(),
            value: value.into(),
            size: None,
            sha256: String::new(),
            state: if artifact.starts_with("registry.") || artifact.starts_with("execution.") {
                RecordState::Live
            } else {
                RecordState::Allocated
            },
            source: SRC.into(),
            locator: String::new(),
        }
    }

    fn timed(mut r: EvidenceRow, offset: i64, desc: &str) -> EvidenceRow {
        r.datetime = Some(at(offset));
        r.timestamp_desc = desc.into();
        r
    }

    fn state(mut r: EvidenceRow, state: RecordState) -> EvidenceRow {
        r.state = state;
        r
    }

    fn jose_file(name: &str) -> String {
        format!(r"{JOSE_DIR}\{name}")
    }

    fn only_scope(v: &Verdict) -> &ScopeVerdict {
        assert_eq!(v.volumes.len(), 1);
        assert_eq!(v.volumes[0].scopes.len(), 1);
        &v.volumes[0].scopes[0]
    }

    #[test]
    fn no_rows_says_no_trace_not_never_installed() {
        let v = verdict(&[]);
        assert_eq!(v.to_text(), format!("{NO_ROWS}\n"));
        assert!(
            v.to_text()
                .contains("which is not proof it was never installed")
        );
        let md = v.to_markdown();
        assert!(md.starts_with("# NetSession verdict\n"));
        assert!(md.contains("not proof it was never installed"));
        assert!(!md.contains("never installed."));
    }

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
            Some(r"Users\a\Applications\Akamai")
        );
        assert_eq!(akamai_prefix(r"Users\a\AkamaiX\y"), None);
        assert!(same_folder(r"C:\Users\a\Akamai\", r"Users\a\akamai"));
        assert!(!same_folder(r"C:\Users\a\Akamai2", r"Users\a\Akamai"));
    }

    #[test]
    fn builds_from_paths_values_copyright_and_red_swoosh() {
        let rows = [
            state(
                row(
                    "install.core_dll",
                    "u",
                    &jose_file("netsession_win_A1B2C3D.dll"),
                    "class=DLL",
                ),
                RecordState::Deleted,
            ),
            row(
                "registry.service",
                "u",
                r"SYSTEM\ControlSet001\Services\Akamai",
                r"ServiceDll=C:\x\Akamai\netsession_win_dbc0250.dll; Start=2 (automatic)",
            ),
            row(
                "install.core_dll",
                "u",
                &jose_file("netsession_win_dbc0250.dll"),
                "netsession_win_dbc0250.dll",
            ),
            row(
                "ntfs.usn_journal",
                "u",
                &jose_file("netsession_win_3a1f9e2.dll"),
                "reasons=FILE_CREATE",
            ),
            row(
                "content.log_entry",
                "u",
                &jose_file("logs\\a.log"),
                "loaded netsession_win_9f8e7d6.dll",
            ),
            row(
                "registry.service",
                "",
                r"SYSTEM\Services\RSwoosh",
                r"ServiceDll=C:\x\rswin_3212.dll",
            ),
            row(
                "content.copyright",
                "u",
                &jose_file("readme.txt"),
                "Copyright (c) 2008-2012",
            ),
        ];
        let v = verdict(&rows);
        let s = &v.volumes[0].scopes[1];
        let dlls: Vec<(&str, usize, Vec<&str>)> = s
            .builds
            .core_dlls
            .iter()
            .map(|b| {
                (
                    b.id.as_str(),
                    b.rows,
                    b.seen_as.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            dlls,
            [
                ("3a1f9e2", 1, vec!["USN journal"]),
                ("9f8e7d6", 1, vec!["named in a file's content"]),
                ("a1b2c3d", 1, vec!["file deleted"]),
                ("dbc0250", 2, vec!["file present", "registry"]),
            ]
        );
        assert_eq!(
            s.builds.readme_copyrights[0].value,
            "Copyright (c) 2008-2012"
        );
        let machine = &v.volumes[0].scopes[0];
        assert_eq!(machine.builds.redswoosh_dlls[0].id, "3212");
        let text = v.to_text();
        assert!(
            text.contains("core DLL netsession_win_a1b2c3d.dll — file deleted (1 row)"),
            "{text}"
        );
        assert!(
            text.contains("Red Swoosh DLL rswin_3212.dll — registry (1 row)"),
            "{text}"
        );
        assert!(text.contains(
            "readme Copyright (c) 2008-2012 — the copyright years date the build's era (1 row)"
        ));
    }

    #[test]
    fn access_times_are_not_last_seen_unless_nothing_else() {
        assert!(is_access_only("Accessed (filesystem)"));
        assert!(is_access_only("Accessed ($SI)"));
        assert!(!is_access_only("Created, Accessed ($SI)"));
        assert!(!is_access_only("Modified, Accessed (filesystem)"));
        assert!(!is_access_only("Log Entry"));
        assert!(!is_access_only(""));

        let exe = jose_file("netsession_win.exe");
        let rows = [
            timed(row("install.client", "u", &exe, ""), 0, "Created ($SI)"),
            timed(row("install.client", "u", &exe, ""), 900, "Accessed ($SI)"),
            timed(
                row("content.log_entry", "u", &jose_file("a.log"), "x"),
                600,
                "Log Entry",
            ),
            row(
                "content.copyright",
                "u",
                &jose_file("readme.txt"),
                "Copyright (c) 2008-2012",
            ),
        ];
        let v = verdict(&rows);
        let seen = &only_scope(&v).seen;
        assert_eq!(seen.timed_rows, 3);
        assert_eq!(seen.access_only_rows, 1);
        assert_eq!(seen.first.as_ref().map(|m| m.time), Some(at(0)));
        let last = seen.last.as_ref().unwrap_or_else(|| unreachable!());
        assert_eq!(last.time, at(600));
        assert_eq!(last.artifact, "content.log_entry");
        assert!(!seen.last_is_access);
        let text = v.to_text();
        assert!(
            text.contains("last seen: 2012-02-14T09:40:00Z from content.log_entry (Log Entry)"),
            "{text}"
        );
        assert!(
            text.contains("1 row whose only time is an access time left out"),
            "{text}"
        );

        // Only an access time: used, and said to be one.
        let v = verdict(&[timed(
            row("install.client", "u", &exe, ""),
            900,
            "Accessed ($SI)",
        )]);
        let seen = &only_scope(&v).seen;
        assert!(seen.last_is_access);
        assert_eq!(seen.last.as_ref().map(|m| m.time), Some(at(900)));
        assert!(v.to_text().contains("only access times exist here"));
    }

    #[test]
    fn autostart_entries_with_latest_key_write() {
        let rows = [
            timed(
                row(
                    "registry.run",
                    "u",
                    r"NTUSER\Software\Microsoft\Windows\CurrentVersion\Run",
                    r#"Akamai NetSession Interface = "C:\a\netsession_win.exe""#,
                ),
                5,
                "Key Last Written",
            ),
            timed(
                row(
                    "registry.service",
                    "u",
                    r"SYSTEM\ControlSet002\Services\Akamai",
                    "ServiceDll=C:\\a\\netsession_win_dbc0250.dll; Start=2 (automatic)",
                ),
                0,
                "Key Last Written",
            ),
            timed(
                row(
                    "registry.service",
                    "u",
                    r"SYSTEM\ControlSet002\Services\Akamai\Parameters",
                    "ServiceDll=C:\\a\\netsession_win_dbc0250.dll; Start=2 (automatic)",
                ),
                1,
                "Key Last Written",
            ),
            timed(
                row(
                    "autostart.startup_folder",
                    "u",
                    r"Users\u\Start Menu\Programs\Startup\netsession.lnk",
                    "",
                ),
                7,
                "Created ($SI)",
            ),
            timed(
                row(
                    "autostart.startup_folder",
                    "u",
                    r"Users\u\Start Menu\Programs\Startup\netsession.lnk",
                    "",
                ),
                99,
                "Accessed ($SI)",
            ),
        ];
        let v = verdict(&rows);
        let a = &only_scope(&v).autostart;
        assert_eq!(a.len(), 3);
        let service = a
            .iter()
            .find(|e| e.kind == "service")
            .unwrap_or_else(|| unreachable!());
        assert_eq!(service.location, r"SYSTEM\ControlSet002\Services\Akamai");
        assert_eq!(service.rows, 2);
        assert_eq!(service.latest, Some(at(1)));
        assert_eq!(
            service.command,
            r"ServiceDll=C:\a\netsession_win_dbc0250.dll; Start=2 (automatic)"
        );
        let file = a
            .iter()
            .find(|e| e.kind.starts_with("autostart item"))
            .unwrap_or_else(|| unreachable!());
        assert_eq!(
            file.latest,
            Some(at(7)),
            "the access time is not the item's time"
        );
        let text = v.to_text();
        assert!(text.contains(
            r#"Run key value Akamai NetSession Interface = "C:\a\netsession_win.exe" in NTUSER\Software\Microsoft\Windows\CurrentVersion\Run, key last written 2012-02-14T09:30:05Z (1 row)"#
        ), "{text}");

        let none = verdict(&[row(
            "install.client",
            "u",
            &jose_file("netsession_win.exe"),
            "",
        )]);
        assert!(
            none.to_text()
                .contains("autostart: none found in what was scanned (0 rows)")
        );
    }

    #[test]
    fn last_execution_prefers_direct_times_and_never_appcompatcache() {
        let rows = [
            timed(
                row("execution.bam", "u", r"SYSTEM\bam", "x.exe"),
                100,
                "Last Executed",
            ),
            timed(
                row(
                    "execution.userassist",
                    "u",
                    r"NTUSER\UserAssist",
                    "x.exe; run count 5",
                ),
                50,
                "Last Run (UserAssist)",
            ),
            timed(
                row(
                    "execution.userassist",
                    "u",
                    r"NTUSER\UserAssist",
                    "y.exe; run count 12",
                ),
                40,
                "Last Run (UserAssist)",
            ),
            // Later, but a key write...
            timed(
                row("execution.muicache", "u", r"NTUSER\MUICache", "x.exe = A"),
                500,
                "Key Last Written",
            ),
            // ... and later still, but a file modification time.
            timed(
                row(
                    "execution.appcompatcache",
                    "u",
                    r"SYSTEM\AppCompatCache",
                    "x.exe",
                ),
                900,
                "File Modified (AppCompatCache)",
            ),
        ];
        let v = verdict(&rows);
        let e = &only_scope(&v).execution;
        let last = e.last.as_ref().unwrap_or_else(|| unreachable!());
        assert_eq!(
            (last.time, last.artifact.as_str()),
            (at(100), "execution.bam")
        );
        assert_eq!(e.last_evidence, Some(ExecutionEvidence::Direct));
        let names: Vec<&str> = e.kinds.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["BAM", "UserAssist", "MUICache", "AppCompatCache"]);
        assert_eq!(e.kinds[1].run_count, Some(12));
        assert_eq!(e.kinds[1].rows, 2);
        let text = v.to_text();
        assert!(text.contains("AppCompatCache: 2012-02-14T09:45:00Z, the file's modification time as cached, not an execution time (1 row)"), "{text}");

        // Without a direct time the indirect one is used, and said to be indirect.
        let v = verdict(&rows[3..]);
        let e = &only_scope(&v).execution;
        assert_eq!(e.last.as_ref().map(|m| m.time), Some(at(500)));
        assert_eq!(e.last_evidence, Some(ExecutionEvidence::Indirect));
        assert!(v.to_text().contains("no direct execution time"));

        // AppCompatCache alone: no execution time at all.
        let v = verdict(&rows[4..]);
        assert_eq!(only_scope(&v).execution.last, None);
        assert!(v.to_text().contains(
            "last execution: no execution time found (1 row that are not execution times"
        ));
    }

    #[test]
    fn prefetch_access_time_is_not_a_run() {
        let pf = r"Windows\Prefetch\NETSESSION_WIN.EXE-1A2B3C4D.pf";
        let rows = [
            timed(row("execution.prefetch", "", pf, ""), 10, "Modified ($SI)"),
            timed(row("execution.prefetch", "", pf, ""), 999, "Accessed ($SI)"),
        ];
        let v = verdict(&rows);
        assert_eq!(
            only_scope(&v).execution.last.as_ref().map(|m| m.time),
            Some(at(10))
        );
    }

    fn fw(value: &str, message: &str) -> EvidenceRow {
        let mut r = timed(
            row(
                "registry.firewall_rule",
                "u",
                r"SYSTEM\ControlSet001\Services\SharedAccess\Parameters\FirewallPolicy\FirewallRules",
                value,
            ),
            60,
            "Key Last Written",
        );
        r.message = message.into();
        r
    }

    fn profile<'a>(f: &'a Firewall, name: &str) -> &'a ProfileRules {
        f.profiles
            .iter()
            .find(|p| p.profile == name)
            .unwrap_or_else(|| panic!("no profile {name}"))
    }

    #[test]
    fn firewall_per_profile_with_the_users_answer() {
        let rows = [
            fw(
                "Action=Allow; Dir=In; Protocol=TCP (6); Profiles=Private; Active=TRUE; App=c:\\a\\netsession_win.exe; QueryUser=yes; Rule=TCP Query User{X}",
                "",
            ),
            fw(
                "Action=Block; Dir=In; Protocol=UDP (17); Profiles=Public; Active=TRUE; App=c:\\a\\netsession_win.exe; QueryUser=no; Rule=x",
                "Firewall rule: the user's answer to the Windows Firewall prompt: Block",
            ),
        ];
        let v = verdict(&rows);
        let f = &only_scope(&v).firewall;
        assert_eq!(f.rows, 2);
        let private = profile(f, "Private");
        assert_eq!(private.rules.len(), 1);
        assert_eq!(private.rules[0].action, "Allow");
        assert!(private.rules[0].user_answer);
        assert_eq!(private.rules[0].direction, "inbound");
        let public = profile(f, "Public");
        assert!(public.rules[0].user_answer, "said by the message");
        assert!(profile(f, "Domain").rules.is_empty());
        let text = v.to_text();
        assert!(text.contains("Domain: no rule found"), "{text}");
        assert!(text.contains("Private: allowed — Allow inbound TCP (6), the user's answer to the Windows Firewall prompt, active=TRUE, key last written 2012-02-14T09:31:00Z (1 row)"), "{text}");
        assert!(
            text.contains("Public: blocked — Block inbound UDP (17), the user's answer"),
            "{text}"
        );
    }

    #[test]
    fn firewall_profiles_listed_all_or_empty() {
        let rows = [
            fw(
                "Action=Allow; Dir=In; Protocol=TCP (6); Profiles=Domain, Private, Public; Active=TRUE; QueryUser=no",
                "",
            ),
            fw(
                "Action=Block; Dir=Out; Protocol=UDP (17); Profiles=All; Active=FALSE; QueryUser=no",
                "",
            ),
            fw(
                "Action=Allow; Dir=In; Protocol=any protocol; Profiles=; Active=TRUE; QueryUser=no",
                "",
            ),
            fw("netsession_win.exe = garbage", "Firewall rule (unparsed)"),
        ];
        let v = verdict(&rows);
        let f = &only_scope(&v).firewall;
        assert_eq!(f.unparsed_rows, 1);
        for name in PROFILES {
            let p = profile(f, name);
            assert_eq!(p.rules.len(), 3, "{name}: {p:?}");
        }
        assert_eq!(rule_profiles(Some("private|public")), ["Private", "Public"]);
        assert_eq!(rule_profiles(None), PROFILES);
        assert_eq!(rule_profiles(Some("Private, Lab")), ["Lab", "Private"]);
        let text = v.to_text();
        assert!(
            text.contains("Domain: allowed and blocked by different rules — "),
            "{text}"
        );
        assert!(text.contains("Block outbound UDP (17)"), "{text}");
        assert!(
            text.contains("rules not in the v2 format, see the evidence file (1 row)"),
            "{text}"
        );
    }

    #[test]
    fn firewall_xp_exceptions_and_none() {
        let mut std_row = row(
            "registry.firewall_xp",
            "Bob",
            r"SYSTEM\ControlSet001\Services\SharedAccess\Parameters\FirewallPolicy\StandardProfile\AuthorizedApplications\List",
            r"C:\b\netsession_win.exe = C:\b\netsession_win.exe:*:Enabled:Akamai NetSession Interface",
        );
        std_row.datetime = Some(at(3));
        let dom_row = row(
            "registry.firewall_xp",
            "Bob",
            r"SYSTEM\ControlSet001\Services\SharedAccess\Parameters\FirewallPolicy\DomainProfile\AuthorizedApplications\List",
            r"C:\b\netsession_win.exe = C:\b\netsession_win.exe:*:Disabled:Akamai NetSession Interface",
        );
        let v = verdict(&[std_row, dom_row]);
        let f = &only_scope(&v).firewall;
        let xp: Vec<(&str, &str, &str)> =
            f.xp.iter()
                .map(|x| (x.profile.as_str(), x.state.as_str(), x.program.as_str()))
                .collect();
        assert_eq!(
            xp,
            [
                ("Domain", "disabled", r"C:\b\netsession_win.exe"),
                ("Standard", "enabled", r"C:\b\netsession_win.exe"),
            ]
        );
        assert!(f.profiles.is_empty(), "no Vista rule, no Vista profiles");
        let text = v.to_text();
        assert!(text.contains(r"XP Standard profile: exception enabled for C:\b\netsession_win.exe, key last written 2012-02-14T09:30:03Z (1 row)"), "{text}");

        let none = verdict(&[row(
            "install.client",
            "u",
            &jose_file("netsession_win.exe"),
            "",
        )]);
        assert!(
            none.to_text().contains(
                "firewall: no NetSession firewall rule found in what was scanned (0 rows)"
            )
        );
    }

    #[test]
    fn peer_upload_counts_distinct_cache_files_and_upload_lines() {
        let mut a1 = row(
            "cache.file",
            "u",
            &jose_file(r"Cache\a.dat"),
            "class=cache blob",
        );
        a1.size = Some(300_000);
        let a2 = timed(a1.clone(), 9, "Modified ($SI)");
        let mut b = row(
            "cache.file",
            "u",
            &jose_file(r"Cache\b.dat"),
            "class=cache blob",
        );
        b.size = Some(1_000);
        let log = |offset, line: &str| {
            timed(
                row("content.log_entry", "u", &jose_file(r"logs\n.log"), line),
                offset,
                "Log Entry",
            )
        };
        let rows = [
            a1,
            a2,
            b,
            log(10, "peer 1.2.3.4 connected, UPLOADING piece 17"),
            log(20, "control channel opened"),
            log(30, "total Bytes Sent: 5"),
            log(5, "P2P enabled"),
            row(
                "content.url",
                "u",
                &jose_file(r"logs\n.log"),
                "http://peer.example/upload",
            ),
        ];
        let v = verdict(&rows);
        let u = &only_scope(&v).upload;
        assert_eq!(
            (u.cache_files, u.cache_bytes, u.cache_rows),
            (2, 301_000, 3)
        );
        assert_eq!(u.log_lines, 3);
        assert_eq!((u.first_log, u.last_log), (Some(at(5)), Some(at(30))));
        let text = v.to_text();
        assert!(
            text.contains("cache: 2 distinct file(s), 301000 bytes (293.9 KiB) in all (3 rows)"),
            "{text}"
        );
        assert!(text.contains("log lines about uploads or peers: 3, first 2012-02-14T09:30:05Z, last 2012-02-14T09:30:30Z (3 rows)"), "{text}");
    }

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

    fn mixed_rows() -> Vec<EvidenceRow> {
        let mut rows = vec![
            timed(
                row(
                    "install.client",
                    "José Müller",
                    &jose_file("netsession_win.exe"),
                    "",
                ),
                0,
                "Created ($SI)",
            ),
            timed(
                row(
                    "install.client",
                    "José Müller",
                    &jose_file("netsession_win.exe"),
                    "",
                ),
                0,
                "Created ($FN)",
            ),
            timed(
                row("execution.bam", "José Müller", r"SYSTEM\bam", "a"),
                50,
                "Last Executed",
            ),
            timed(
                row("execution.bam", "José Müller", r"SYSTEM\bam2", "a"),
                50,
                "Last Executed",
            ),
            fw(
                "Action=Allow; Dir=In; Protocol=TCP (6); Profiles=Private; Active=TRUE; QueryUser=yes",
                "",
            ),
            row(
                "content.copyright",
                "José Müller",
                &jose_file("readme.txt"),
                "Copyright (c) 2008-2012",
            ),
            state(
                row(
                    "install.core_dll",
                    "",
                    r"$Orphan\netsession_win_5c7d0e4.dll",
                    "",
                ),
                RecordState::Deleted,
            ),
        ];
        let mut other = rows[0].clone();
        other.source = "other.E01 p1@1048576".into();
        rows.push(other);
        rows
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

    #[test]
    fn every_statement_names_its_rows() {
        let text = verdict(&mixed_rows()).to_text();
        let counts = Regex::new(r"\b\d+ rows?\b").unwrap_or_else(|_| unreachable!());
        for line in text
            .lines()
            .filter(|l| l.starts_with("    ") && !l.ends_with(':'))
        {
            assert!(
                counts.is_match(line) || line.contains("no rule found"),
                "statement without a row count: {line}"
            );
        }
    }

    #[test]
    fn markdown_document_structure_and_escaping() {
        let mut rows = mixed_rows();
        rows.push(row(
            "content.log_entry",
            "José Müller",
            &jose_file("a`b.log"),
            "upload `x` \x1b[31m*done*",
        ));
        let md = verdict(&rows).to_markdown();
        assert!(md.starts_with("# NetSession verdict\n\n**installed on 2 volumes, remnants on 0 volumes, no trace on 0 volumes (9 rows)**\n"), "{md}");
        assert!(
            md.contains(&format!(
                "## Volume `{SRC}`: installed (files present) (8 rows)\n"
            )),
            "{md}"
        );
        assert!(
            md.contains("### machine-wide / user unknown (1 row)"),
            "{md}"
        );
        assert!(md.contains("### user `José Müller` (6 rows)"), "{md}");
        assert!(
            md.contains("  - core DLL `netsession_win_5c7d0e4.dll` — file deleted (1 row)"),
            "{md}"
        );
        assert!(
            md.contains("- **Install state:** installed (files present)"),
            "{md}"
        );
        assert!(
            md.contains("  - Private: allowed — `Allow` inbound `TCP (6)`, the user's answer"),
            "{md}"
        );
        assert!(
            !md.contains('\x1b'),
            "control characters never reach the document"
        );
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(code_span(""), "(empty)");
        assert_eq!(md_text("a_b*c [d] <e> | #f"), r"a\_b\*c \[d\] \<e\> \| \#f");
        assert_eq!(clean("a\u{1b}b\nc"), r"a\x1bb\x0ac");
    }

    #[test]
    fn field_reads_semicolon_separated_values() {
        let v = "Action=Allow; Dir=In; Protocol=TCP (6); Profiles=Domain, Private; App=c:\\a=b\\x.exe; QueryUser=yes";
        assert_eq!(field(v, "action"), Some("Allow"));
        assert_eq!(field(v, "Profiles"), Some("Domain, Private"));
        assert_eq!(field(v, "App"), Some("c:\\a=b\\x.exe"));
        assert_eq!(field(v, "QueryUser"), Some("yes"));
        assert_eq!(field(v, "Missing"), None);
        assert_eq!(human_size(10), "10 bytes");
        assert_eq!(human_size(1_253_376), "1253376 bytes (1.2 MiB)");
    }
}
