//! Statement 4: autostart — Run values, services (a service key and its Parameters key
//! are one), autostart files.

use std::collections::BTreeMap;

use super::rows::{field, is_access_only};
use super::statement::{Part, Statement, c, list_statement, n_rows, t, time_part};
use crate::evidence::EvidenceRow;
use crate::time::Timestamp;

/// Statement 4: one autostart entry (Run value, service, autostart file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutostartEntry {
    /// "Run key value", "service", or `autostart item (<artifact>)`.
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

/// Builds the autostart entries row by row: rows and latest time per kind, location and
/// command.
#[derive(Debug, Default)]
pub(super) struct AutostartAcc(BTreeMap<(String, String, String), (usize, Option<Timestamp>)>);

impl AutostartAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        // A Run value or service recovered from a free cell was deleted: it is removal
        // evidence (the removal statement), not an autostart in place.
        if super::removal::is_deleted_registry(row) {
            return;
        }
        let Some(key) = autostart_key(row) else {
            return;
        };
        let entry = self.0.entry(key).or_default();
        entry.0 += 1;
        if !is_access_only(&row.timestamp_desc) {
            entry.1 = entry.1.max(row.datetime);
        }
    }

    pub fn finish(self) -> Vec<AutostartEntry> {
        self.0
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
}

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

pub(super) fn autostart_statement(entries: &[AutostartEntry]) -> Statement {
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
    list_statement(
        "autostart",
        items,
        "none found in what was scanned (0 rows)",
    )
}

#[cfg(test)]
mod tests {
    use crate::verdict::test_support::*;

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
}
