//! Statement 2b: what NetSession's own 1.9.x files say (its logs, state, configuration
//! and diagnostic report): install attempts and their outcome, install times, the
//! versions it ran, its GUIDs, the upload setting, lifetime download bytes, the public
//! IP addresses Akamai saw, its last logged activity and its cache path.

use std::collections::BTreeMap;

use super::rows::{Tally, field, moment};
use super::statement::{Part, Statement, c, list_statement, moment_parts, n_rows, t, time_part};
use super::{Counted, Moment};
use crate::evidence::{EvidenceRow, RecordState};
use crate::time::Timestamp;

/// Whether the client's own files show an installation that completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing of the installer's own account.
    Unknown,
    /// An install time in its state, an "installed" line in its logs, or its programs.
    Installed,
    /// Install lines or download errors, and neither an install nor a program file.
    AttemptFailed,
}

/// A build of the client and when its lines were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSeen {
    pub client_bin_id: String,
    /// Versions written with this id (`1.9.5.6-RC1`).
    pub versions: Vec<String>,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub rows: usize,
}

/// A public address as Akamai's control node saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicIp {
    pub ip: String,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub rows: usize,
}

/// Statement 2b.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub outcome: Outcome,
    /// `Install Started` lines.
    pub started: Vec<Moment>,
    /// Download errors and failed installs, with the line's message.
    pub failures: Vec<(Moment, String)>,
    /// Install times: state's `installTimeStampSec` and the logs' "installed" lines.
    pub install_times: Vec<Moment>,
    pub versions: Vec<VersionSeen>,
    pub guids: Vec<Counted>,
    /// `what the file says` (from which file), per distinct statement.
    pub upload_settings: Vec<Counted>,
    /// The largest `lifetimeDownloadBytes` and the file that states it.
    pub lifetime_download: Option<(u64, String)>,
    pub public_ips: Vec<PublicIp>,
    /// The latest NetSession log line.
    pub last_log: Option<Moment>,
    pub log_rows: usize,
    pub cache_paths: Vec<Counted>,
}

/// Builds [`Client`] row by row.
#[derive(Debug, Default)]
pub(super) struct ClientAcc {
    started: Vec<Moment>,
    failures: Vec<(Moment, String)>,
    install_times: Vec<Moment>,
    versions: BTreeMap<String, VersionAcc>,
    guids: Tally,
    upload_settings: Tally,
    lifetime_download: Option<(u64, String)>,
    public_ips: BTreeMap<String, PublicIp>,
    last_log: Option<Moment>,
    log_rows: usize,
    cache_paths: Tally,
    /// Present program files (executables and DLLs of an install folder).
    programs: usize,
}

#[derive(Debug, Default)]
struct VersionAcc {
    versions: Tally,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    rows: usize,
}

/// Rows of a NetSession-format log line carry `level=` first in their value.
fn is_log_row(row: &EvidenceRow) -> bool {
    row.artifact.starts_with("netsession.") && row.value.starts_with("level=")
}

/// Executables and DLLs of an install folder: their presence is an installation.
fn is_program(artifact: &str) -> bool {
    matches!(
        artifact,
        "install.client"
            | "install.core_dll"
            | "install.redswoosh_dll"
            | "install.admintool"
            | "install.uninstaller"
            | "install.control_panel"
            | "install.ui"
            | "install.executable"
            | "install.dll"
            | "install.language_dll"
    )
}

fn earlier(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b < a { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b > a { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Keep the moments in time order (then by path) so any row order gives one result.
fn insert_sorted(list: &mut Vec<Moment>, m: Moment) {
    let at = list
        .iter()
        .position(|x| (x.time, &x.path) > (m.time, &m.path))
        .unwrap_or(list.len());
    list.insert(at, m);
}

/// Lists that could grow with the rows keep their first few entries only.
const MAX_LISTED: usize = 20;

impl ClientAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        let artifact = row.artifact.as_str();
        if is_program(artifact) && row.state == RecordState::Allocated {
            self.programs += 1;
        }
        if is_log_row(row) {
            self.add_log_row(row);
        }
        match artifact {
            "netsession.install_started" => {
                if let Some(m) = moment(row)
                    && self.started.len() < MAX_LISTED
                {
                    insert_sorted(&mut self.started, m);
                }
            }
            "netsession.download_error" | "netsession.install_failed" => {
                if let Some(m) = moment(row) {
                    let message = field(&row.value, "message").unwrap_or_default().to_string();
                    let at = self
                        .failures
                        .iter()
                        .position(|(x, _)| (x.time, &x.path) > (m.time, &m.path))
                        .unwrap_or(self.failures.len());
                    self.failures.insert(at, (m, message));
                    self.failures.truncate(MAX_LISTED);
                }
            }
            "netsession.install_time" | "netsession.installed" => {
                if let Some(m) = moment(row)
                    && !self
                        .install_times
                        .iter()
                        .any(|x| x.time == m.time && x.path == m.path)
                    && self.install_times.len() < MAX_LISTED
                {
                    insert_sorted(&mut self.install_times, m);
                }
            }
            "netsession.guid" => {
                if let Some(guid) = field(&row.value, "guid") {
                    self.guids.add(&guid.to_lowercase());
                }
            }
            "netsession.upload_setting" => {
                let what = field(&row.value, "message")
                    .map(String::from)
                    .unwrap_or_else(|| row.value.clone());
                self.upload_settings
                    .add(&format!("{what} (in {})", file_name(&row.path)));
            }
            "netsession.lifetime_download" => {
                if let Some(bytes) = field(&row.value, "lifetimeDownloadBytes")
                    .and_then(|b| b.trim().parse::<u64>().ok())
                    && self
                        .lifetime_download
                        .as_ref()
                        .is_none_or(|(b, _)| bytes > *b)
                {
                    self.lifetime_download = Some((bytes, row.path.clone()));
                }
            }
            "netsession.state" => {
                if let Some(path) = field(&row.value, "cachePath").filter(|p| !p.is_empty()) {
                    self.cache_paths.add(path);
                }
            }
            "netsession.build" => {
                if let Some(id) = field(&row.value, "ClientBinId") {
                    let version = field(&row.value, "ComponentVersion").unwrap_or_default();
                    self.add_version(id, version, row.datetime);
                }
            }
            _ => {}
        }
    }

    fn add_log_row(&mut self, row: &EvidenceRow) {
        self.log_rows += 1;
        if let Some(m) = moment(row)
            && self
                .last_log
                .as_ref()
                .is_none_or(|l| (m.time, &m.path) > (l.time, &l.path))
        {
            self.last_log = Some(m);
        }
        if let Some(id) = field(&row.value, "client_bin_id") {
            let version = field(&row.value, "version").unwrap_or_default();
            self.add_version(id, version, row.datetime);
        }
        if let Some(ip) = field(&row.value, "public_ip") {
            let entry = self
                .public_ips
                .entry(ip.to_string())
                .or_insert_with(|| PublicIp {
                    ip: ip.to_string(),
                    first: None,
                    last: None,
                    rows: 0,
                });
            entry.rows += 1;
            entry.first = earlier(entry.first, row.datetime);
            entry.last = later(entry.last, row.datetime);
        }
    }

    fn add_version(&mut self, id: &str, version: &str, time: Option<Timestamp>) {
        let entry = match self.versions.get_mut(id) {
            Some(e) => e,
            None => self.versions.entry(id.to_string()).or_default(),
        };
        entry.rows += 1;
        if !version.is_empty() {
            entry.versions.add(version);
        }
        entry.first = earlier(entry.first, time);
        entry.last = later(entry.last, time);
    }

    pub fn finish(self) -> Client {
        let installed = !self.install_times.is_empty() || self.programs > 0;
        let attempted = !self.started.is_empty() || !self.failures.is_empty();
        let outcome = if installed {
            Outcome::Installed
        } else if attempted {
            Outcome::AttemptFailed
        } else {
            Outcome::Unknown
        };
        Client {
            outcome,
            started: self.started,
            failures: self.failures,
            install_times: self.install_times,
            versions: self
                .versions
                .into_iter()
                .map(|(id, v)| VersionSeen {
                    client_bin_id: id,
                    versions: v
                        .versions
                        .into_counted()
                        .into_iter()
                        .map(|c| c.value)
                        .collect(),
                    first: v.first,
                    last: v.last,
                    rows: v.rows,
                })
                .collect(),
            guids: self.guids.into_counted(),
            upload_settings: self.upload_settings.into_counted(),
            lifetime_download: self.lifetime_download,
            public_ips: self.public_ips.into_values().collect(),
            last_log: self.last_log,
            log_rows: self.log_rows,
            cache_paths: self.cache_paths.into_counted(),
        }
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

fn span(first: Option<Timestamp>, last: Option<Timestamp>) -> Vec<Part> {
    let mut parts = Vec::new();
    if let Some(first) = first {
        parts.push(t(", first "));
        parts.push(time_part(first));
    }
    if let Some(last) = last.filter(|l| Some(*l) != first) {
        parts.push(t(", last "));
        parts.push(time_part(last));
    }
    parts
}

pub(super) fn client_statement(client: &Client) -> Statement {
    let mut items: Vec<Vec<Part>> = Vec::new();
    if client.outcome == Outcome::AttemptFailed {
        let mut parts = vec![t("install attempted, failed")];
        if let Some((m, message)) = client.failures.last() {
            parts.push(t(": last error "));
            parts.push(c(message));
            parts.push(t(" at "));
            parts.extend(moment_parts(m));
        } else if let Some(m) = client.started.last() {
            parts.push(t(": started at "));
            parts.extend(moment_parts(m));
            parts.push(t(" and never reported installed"));
        }
        parts.push(t(format!(
            "; no install time, no \"installed\" line and no program file found ({})",
            n_rows(client.failures.len() + client.started.len())
        )));
        items.push(parts);
    }
    for m in &client.install_times {
        let mut parts = vec![t("installed at ")];
        parts.extend(moment_parts(m));
        items.push(parts);
    }
    for v in &client.versions {
        let mut parts = vec![t("build "), c(&v.client_bin_id)];
        if !v.versions.is_empty() {
            parts.push(t(" version "));
            parts.push(c(&v.versions.join(", ")));
        }
        parts.extend(span(v.first, v.last));
        parts.push(t(format!(" ({})", n_rows(v.rows))));
        items.push(parts);
    }
    for g in &client.guids {
        items.push(vec![
            t("client GUID "),
            c(&g.value),
            t(format!(" ({})", n_rows(g.rows))),
        ]);
    }
    for u in &client.upload_settings {
        items.push(vec![
            t("upload setting: "),
            c(&u.value),
            t(format!(" ({})", n_rows(u.rows))),
        ]);
    }
    if let Some((bytes, path)) = &client.lifetime_download {
        items.push(vec![
            t(format!("lifetime download: {bytes} bytes, as stated by ")),
            c(path),
        ]);
    }
    for ip in &client.public_ips {
        let mut parts = vec![t("public IP address as Akamai saw it: "), c(&ip.ip)];
        parts.extend(span(ip.first, ip.last));
        parts.push(t(format!(" ({})", n_rows(ip.rows))));
        items.push(parts);
    }
    if let Some(m) = &client.last_log {
        let mut parts = vec![t(format!(
            "last activity in its logs ({} NetSession log lines in all): ",
            client.log_rows
        ))];
        parts.extend(moment_parts(m));
        items.push(parts);
    }
    for p in &client.cache_paths {
        items.push(vec![
            t("cache path in its state: "),
            c(&p.value),
            t(format!(" ({})", n_rows(p.rows))),
        ]);
    }
    list_statement(
        "its own files",
        items,
        "no NetSession log line, state or configuration read (0 rows)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    fn log_row(artifact: &str, value: &str, offset: i64) -> EvidenceRow {
        timed(
            row(artifact, "u", &jose_file(r"Logs\debug.log"), value),
            offset,
            "Log Entry",
        )
    }

    #[test]
    fn versions_ips_and_install_time_from_the_client_files() {
        let rows = vec![
            timed(
                row(
                    "netsession.install_time",
                    "u",
                    &jose_file("euc_state.json"),
                    "installTimeStampSec=1507851608",
                ),
                1,
                "Install Time (NetSession state)",
            ),
            log_row(
                "netsession.log_line",
                "level=info; component=win; client_bin_id=83a441e; version=1.9.5.5; message=x",
                2,
            ),
            log_row(
                "netsession.public_ip",
                "level=info; component=win; client_bin_id=75752ca; version=1.9.5.6-RC1; public_ip=203.0.113.7; message=y",
                5,
            ),
            log_row(
                "netsession.public_ip",
                "level=info; public_ip=203.0.113.7; message=y",
                9,
            ),
            row(
                "netsession.guid",
                "u",
                &jose_file("guid.ini"),
                "guid=0123456789ABCDEF0123456789abcdef",
            ),
            row(
                "netsession.lifetime_download",
                "u",
                &jose_file("euc_state.json"),
                "lifetimeDownloadBytes=734003200",
            ),
            row("install.client", "u", &jose_file("netsession_win.exe"), ""),
        ];
        let v = verdict(&rows);
        let client = &only_scope(&v).client;
        assert_eq!(client.outcome, Outcome::Installed);
        assert_eq!(client.install_times.len(), 1);
        let ids: Vec<&str> = client
            .versions
            .iter()
            .map(|v| v.client_bin_id.as_str())
            .collect();
        assert_eq!(ids, ["75752ca", "83a441e"]);
        assert_eq!(client.public_ips.len(), 1);
        assert_eq!(client.public_ips[0].rows, 2);
        assert_eq!(client.public_ips[0].first, Some(at(5)));
        assert_eq!(client.public_ips[0].last, Some(at(9)));
        assert_eq!(client.guids[0].value, "0123456789abcdef0123456789abcdef");
        assert_eq!(
            client.lifetime_download.as_ref().map(|l| l.0),
            Some(734_003_200)
        );
        assert_eq!(client.log_rows, 3);
        let text = v.to_text();
        assert!(
            text.contains("public IP address as Akamai saw it: 203.0.113.7"),
            "{text}"
        );
        assert!(text.contains("build 83a441e version 1.9.5.5"), "{text}");
    }

    #[test]
    fn a_failed_attempt_is_not_an_installation() {
        let rows = vec![
            row("install.guid_file", "u", &jose_file("guid.ini"), ""),
            row(
                "install.installer_log",
                "u",
                &jose_file("installer.txt"),
                "",
            ),
            log_row(
                "netsession.download_error",
                "level=eror; component=1001; url=https://x/install; message=Error in downloading 'https://x/install'",
                7,
            ),
        ];
        let v = verdict(&rows);
        let scope = only_scope(&v);
        assert_eq!(scope.client.outcome, Outcome::AttemptFailed);
        assert_eq!(scope.install.state, crate::verdict::InstallState::Attempted);
        let text = v.to_text();
        assert!(
            text.contains("install attempted, failed: last error"),
            "{text}"
        );
        assert!(
            text.contains("install attempted (failed) on 1 volume"),
            "{text}"
        );
    }
}
