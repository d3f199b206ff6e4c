//! The machine-readable verdict (`--verdict-json`): per volume and user, the answers a
//! fleet aggregates (installed / attempted / remnants, versions, install and removal
//! times, firewall decisions per profile, upload figures), each with the rows behind it.
//! The schema is named in `schema` and documented in README ("Machine-readable verdict");
//! fields are added, never renamed, within one schema name.

use serde::Serialize;

use super::report::ReportRun;
use super::{
    Counted, InstallState, Moment, Outcome, ScopeVerdict, Sighting, Verdict, VolumeVerdict,
};
use crate::time::Timestamp;

pub const SCHEMA: &str = "netsession-scan/verdict/1";

#[derive(Debug, Serialize)]
pub struct VerdictJson {
    pub schema: &'static str,
    pub tool: &'static str,
    pub version: &'static str,
    /// UTC, ISO 8601.
    pub started: String,
    pub finished: String,
    pub command_line: Vec<String>,
    /// The inputs as given.
    pub inputs: Vec<String>,
    pub rows: usize,
    pub warnings: usize,
    /// The strongest state over all volumes: `installed`, `remnants`, `attempted`,
    /// `no_trace`.
    pub state: &'static str,
    pub volumes: Vec<VolumeJson>,
}

#[derive(Debug, Serialize)]
pub struct VolumeJson {
    /// The rows' `source`: the input, and the volume in it.
    pub source: String,
    pub rows: usize,
    pub state: &'static str,
    /// Only registry rows: the files of this system may not have been scanned.
    pub registry_only: bool,
    /// Machine-wide first (`user` empty), then each user.
    pub users: Vec<UserJson>,
    pub events: EventsJson,
    /// A Volume Shadow Copy: which live volume it is a snapshot of, when it was taken,
    /// and that volume's state now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotJson>,
}

#[derive(Debug, Serialize)]
pub struct SnapshotJson {
    /// The live volume's `source`.
    pub of: String,
    /// `vss<N>`, the store number as in `source`.
    pub store: String,
    /// The snapshot's creation time (UTC).
    pub created: String,
    /// The live volume's state now (`no_trace` when it has no rows).
    pub live_state: &'static str,
    /// NetSession's files are present in the snapshot and not on the live volume.
    pub installed_only_here: bool,
    /// Rows of the snapshot left out as equal to the live volume's (absent when the
    /// verdict was not told: built from rows alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeated_rows: Option<u64>,
    /// Warnings naming the snapshot while it was read (rows may be missing from it).
    pub read_warnings: usize,
}

#[derive(Debug, Serialize)]
pub struct UserJson {
    /// Empty: machine-wide, or the user is unknown.
    pub user: String,
    pub rows: usize,
    pub state: &'static str,
    /// In words, as the text verdict says it.
    pub state_text: &'static str,
    /// With state `remnants`: the other scopes of the volume whose install files are
    /// present ("" = machine-wide); this scope only holds traces of that install.
    pub installed_in: Vec<String>,
    /// The client's own files: `installed`, `attempt_failed`, `unknown`.
    pub client_outcome: &'static str,
    /// Install folders (up to `Akamai`), present or not.
    pub folders: Vec<FolderJson>,
    /// Versions the client's files state, with their ClientBinIds and when they wrote.
    pub versions: Vec<VersionJson>,
    /// `DisplayVersion=` of uninstall entries.
    pub registry_versions: Vec<Counted>,
    /// Core DLL build ids (`netsession_win_<id>.dll`).
    pub builds: Vec<CountedId>,
    pub install_times: Vec<MomentJson>,
    pub first_seen: Option<MomentJson>,
    pub last_seen: Option<MomentJson>,
    pub last_execution: Option<MomentJson>,
    pub autostart: Vec<AutostartJson>,
    pub firewall: Vec<FirewallJson>,
    pub upload: UploadJson,
    pub removal: RemovalJson,
    /// Last known present and first known absent, joining every dated source and the
    /// volume's shadow copies (live volumes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceJson>,
    pub public_ips: Vec<PublicIpJson>,
    pub guids: Vec<Counted>,
}

#[derive(Debug, Serialize)]
pub struct FolderJson {
    pub path: String,
    pub present: bool,
    pub rows: usize,
}

#[derive(Debug, Serialize)]
pub struct VersionJson {
    pub client_bin_id: String,
    pub versions: Vec<String>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub rows: usize,
}

#[derive(Debug, Serialize)]
pub struct CountedId {
    pub id: String,
    pub rows: usize,
}

#[derive(Debug, Serialize)]
pub struct MomentJson {
    pub time: String,
    pub artifact: String,
    pub timestamp_desc: String,
    pub path: String,
}

#[derive(Debug, Serialize)]
pub struct AutostartJson {
    pub kind: String,
    pub location: String,
    pub command: String,
    pub rows: usize,
    pub latest: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FirewallJson {
    /// `Domain`, `Private`, `Public`, `All`..., or an XP profile (`Standard`, `Domain`).
    pub profile: String,
    /// `Allow` / `Block` (Vista and later), `Enabled` / `Disabled` (XP exceptions).
    pub action: String,
    pub direction: String,
    pub protocol: String,
    pub active: String,
    /// The rule was made by the user's answer to the firewall's prompt.
    pub user_answer: bool,
    pub program: String,
    pub rows: usize,
    pub latest: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct UploadJson {
    /// What the client's files say of its upload setting, as written.
    pub settings: Vec<Counted>,
    pub cache_files: usize,
    pub cache_bytes: u64,
    pub upload_log_lines: usize,
    pub first_upload_log: Option<String>,
    pub last_upload_log: Option<String>,
    pub lifetime_download_bytes: Option<u64>,
    pub srum_rows: usize,
    pub srum_bytes_sent: u64,
    pub srum_bytes_received: u64,
    pub srum_first_hour: Option<String>,
    pub srum_last_hour: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RemovalJson {
    pub deleted_rows: usize,
    pub deleted_files: usize,
    pub usn_deletes: usize,
    pub first_usn_delete: Option<MomentJson>,
    pub last_usn_delete: Option<MomentJson>,
    /// Registry keys and values recovered from the hives' free cells.
    pub deleted_registry_entries: usize,
    pub deleted_registry_rows: usize,
    /// The last time a deleted key is known present (its last write).
    pub registry_last_present: Option<MomentJson>,
    /// A time a deleted value was gone by (its live key's last write after it).
    pub registry_gone_by: Option<MomentJson>,
    /// Registry rows left behind (with no install file present), by artifact.
    pub left_behind: Vec<Counted>,
}

#[derive(Debug, Serialize)]
pub struct PresenceJson {
    pub last_known_present: Option<SightingJson>,
    pub first_known_absent: Option<SightingJson>,
    /// A removal trace dated before the last presence (upgrade, reinstall, restore).
    pub earlier_removal_trace: Option<SightingJson>,
    /// Install files on the live volume now (`null`: its files were not scanned).
    pub present_now: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct SightingJson {
    pub time: String,
    /// What shows it, in words.
    pub basis: String,
    /// The row's artifact and time label (empty for a snapshot's own time).
    pub artifact: String,
    pub timestamp_desc: String,
    pub path: String,
    /// The volume or shadow copy (`source`) it comes from.
    pub source: String,
    pub rows: usize,
}

fn sighting(s: &Sighting) -> SightingJson {
    SightingJson {
        time: s.time.to_iso8601(),
        basis: s.basis.clone(),
        artifact: s.artifact.clone(),
        timestamp_desc: s.timestamp_desc.clone(),
        path: s.path.clone(),
        source: s.source.clone(),
        rows: s.rows,
    }
}

#[derive(Debug, Serialize)]
pub struct PublicIpJson {
    pub ip: String,
    pub first: Option<String>,
    pub last: Option<String>,
    pub rows: usize,
}

#[derive(Debug, Serialize)]
pub struct EventsJson {
    pub rows: usize,
    /// NetSession's firewall rules in the event logs, and what the registry holds now.
    pub firewall_rules: Vec<RuleJson>,
    /// MSI installs, removals and transactions, in time order.
    pub msi: Vec<ChangeJson>,
    pub services_installed: usize,
    pub processes: usize,
}

#[derive(Debug, Serialize)]
pub struct RuleJson {
    pub rule_id: String,
    pub name: String,
    pub program: String,
    pub changes: Vec<ChangeJson>,
    pub in_registry: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ChangeJson {
    pub time: Option<String>,
    pub what: String,
    pub user: String,
    pub detail: String,
}

pub fn state_name(state: InstallState) -> &'static str {
    match state {
        InstallState::Installed => "installed",
        InstallState::Remnants => "remnants",
        InstallState::Attempted => "attempted",
        InstallState::NoTrace => "no_trace",
    }
}

fn iso(time: Option<Timestamp>) -> Option<String> {
    time.map(|t| t.to_iso8601())
}

fn moment(m: &Moment) -> MomentJson {
    MomentJson {
        time: m.time.to_iso8601(),
        artifact: m.artifact.clone(),
        timestamp_desc: m.timestamp_desc.clone(),
        path: m.path.clone(),
    }
}

/// The machine-readable verdict of a run.
pub fn verdict_json(run: &ReportRun<'_>, verdict: &Verdict) -> VerdictJson {
    let state = verdict
        .volumes
        .iter()
        .map(|v| v.state)
        .max()
        .unwrap_or(InstallState::NoTrace);
    VerdictJson {
        schema: SCHEMA,
        tool: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        started: run.started.to_string(),
        finished: run.finished.to_string(),
        command_line: run.command_line.to_vec(),
        inputs: run.inputs.iter().map(|i| i.label.clone()).collect(),
        rows: verdict.rows,
        warnings: run.warnings.len(),
        state: state_name(state),
        volumes: verdict.volumes.iter().map(|v| volume(v, verdict)).collect(),
    }
}

fn snapshot(v: &VolumeVerdict, verdict: &Verdict) -> Option<SnapshotJson> {
    let (live, tag) = super::snapshots::snapshot_of(&v.source)?;
    let (store, created) = tag.split_once('@').unwrap_or((tag, ""));
    let live_state = verdict
        .volumes
        .iter()
        .find(|x| x.source == live)
        .map_or(InstallState::NoTrace, |x| x.state);
    Some(SnapshotJson {
        of: live.to_string(),
        store: store.to_string(),
        created: created.to_string(),
        live_state: state_name(live_state),
        installed_only_here: v.state == InstallState::Installed
            && live_state != InstallState::Installed,
        repeated_rows: v.repeated,
        read_warnings: v.read_warnings,
    })
}

fn volume(v: &VolumeVerdict, verdict: &Verdict) -> VolumeJson {
    let e = &v.events;
    let change = |c: &super::Change| ChangeJson {
        time: iso(c.time),
        what: c.what.clone(),
        user: c.user.clone(),
        detail: c.detail.clone(),
    };
    VolumeJson {
        source: v.source.clone(),
        rows: v.rows,
        state: state_name(v.state),
        registry_only: v.registry_only,
        users: v.scopes.iter().map(user).collect(),
        events: EventsJson {
            rows: e.rows,
            firewall_rules: e
                .firewall_rules
                .iter()
                .map(|r| RuleJson {
                    rule_id: r.rule_id.clone(),
                    name: r.name.clone(),
                    program: r.program.clone(),
                    changes: r.changes.iter().map(change).collect(),
                    in_registry: r.in_registry.clone(),
                })
                .collect(),
            msi: e.msi.iter().map(change).collect(),
            services_installed: e.services_installed.len(),
            processes: e.processes.rows,
        },
        snapshot: snapshot(v, verdict),
    }
}

fn user(s: &ScopeVerdict) -> UserJson {
    let c = &s.client;
    let mut firewall: Vec<FirewallJson> = s
        .firewall
        .profiles
        .iter()
        .flat_map(|p| {
            p.rules.iter().map(|r| FirewallJson {
                profile: p.profile.clone(),
                action: r.action.clone(),
                direction: r.direction.clone(),
                protocol: r.protocol.clone(),
                active: r.active.clone(),
                user_answer: r.user_answer,
                program: String::new(),
                rows: r.rows,
                latest: iso(r.latest),
            })
        })
        .collect();
    firewall.extend(s.firewall.xp.iter().map(|x| FirewallJson {
        profile: x.profile.clone(),
        action: x.state.clone(),
        direction: String::new(),
        protocol: String::new(),
        active: String::new(),
        user_answer: false,
        program: x.program.clone(),
        rows: x.rows,
        latest: iso(x.latest),
    }));
    let u = &s.upload;
    UserJson {
        user: s.user.clone(),
        rows: s.rows,
        state: state_name(s.install.state),
        state_text: s.install.state.describe(),
        installed_in: s.install.installed_in.clone(),
        client_outcome: match c.outcome {
            Outcome::Installed => "installed",
            Outcome::AttemptFailed => "attempt_failed",
            Outcome::Unknown => "unknown",
        },
        folders: s
            .install
            .folders
            .iter()
            .map(|f| FolderJson {
                path: f.path.clone(),
                present: f.present,
                rows: f.rows,
            })
            .collect(),
        versions: c
            .versions
            .iter()
            .map(|v| VersionJson {
                client_bin_id: v.client_bin_id.clone(),
                versions: v.versions.clone(),
                first: iso(v.first),
                last: iso(v.last),
                rows: v.rows,
            })
            .collect(),
        registry_versions: s.builds.versions.clone(),
        builds: s
            .builds
            .core_dlls
            .iter()
            .map(|b| CountedId {
                id: b.id.clone(),
                rows: b.rows,
            })
            .collect(),
        install_times: c.install_times.iter().map(moment).collect(),
        first_seen: s.seen.first.as_ref().map(moment),
        last_seen: s.seen.last.as_ref().map(moment),
        last_execution: s.execution.last.as_ref().map(moment),
        autostart: s
            .autostart
            .iter()
            .map(|a| AutostartJson {
                kind: a.kind.clone(),
                location: a.location.clone(),
                command: a.command.clone(),
                rows: a.rows,
                latest: iso(a.latest),
            })
            .collect(),
        firewall,
        upload: UploadJson {
            settings: c.upload_settings.clone(),
            cache_files: u.cache_files,
            cache_bytes: u.cache_bytes,
            upload_log_lines: u.log_lines,
            first_upload_log: iso(u.first_log),
            last_upload_log: iso(u.last_log),
            lifetime_download_bytes: c.lifetime_download.as_ref().map(|(bytes, _)| *bytes),
            srum_rows: u.srum.rows,
            srum_bytes_sent: u.srum.bytes_sent,
            srum_bytes_received: u.srum.bytes_received,
            srum_first_hour: iso(u.srum.first_hour),
            srum_last_hour: iso(u.srum.last_hour),
        },
        removal: RemovalJson {
            deleted_rows: s.removal.deleted_rows,
            deleted_files: s.removal.deleted_files.len(),
            usn_deletes: s.removal.usn_deletes,
            first_usn_delete: s.removal.first_usn_delete.as_ref().map(moment),
            last_usn_delete: s.removal.last_usn_delete.as_ref().map(moment),
            deleted_registry_entries: s.removal.deleted_registry.len(),
            deleted_registry_rows: s.removal.deleted_registry_rows,
            registry_last_present: s.removal.registry_last_present.as_ref().map(moment),
            registry_gone_by: s.removal.registry_gone_by.as_ref().map(moment),
            left_behind: s.removal.left_behind.clone(),
        },
        presence: (!s.presence.is_empty()).then(|| PresenceJson {
            last_known_present: s.presence.last_present.as_ref().map(sighting),
            first_known_absent: s.presence.first_absent.as_ref().map(sighting),
            earlier_removal_trace: s.presence.earlier_absence.as_ref().map(sighting),
            present_now: s.presence.present_now,
        }),
        public_ips: c
            .public_ips
            .iter()
            .map(|p| PublicIpJson {
                ip: p.ip.clone(),
                first: iso(p.first),
                last: iso(p.last),
                rows: p.rows,
            })
            .collect(),
        guids: c.guids.clone(),
    }
}
