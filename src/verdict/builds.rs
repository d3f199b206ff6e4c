//! Statement 2: which builds — core DLL and Red Swoosh DLL names, `DisplayVersion`, the
//! readme's copyright years.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use super::Counted;
use super::rows::{Tally, field};
use super::statement::{Part, Statement, c, list_statement, n_rows, t};
use crate::evidence::{EvidenceRow, RecordState};

/// Core DLL names carry the build (`netsession_win_dbc0250.dll`); it changes on update.
static CORE_DLL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)netsession_win_([0-9a-f]+)\.dll").expect("core DLL regex is valid")
});

/// Red Swoosh (NetSession's predecessor) service DLLs: `rswin_3212.dll`.
static RSWIN_DLL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)rswin_([0-9a-z]+)\.dll").expect("Red Swoosh DLL regex is valid")
});

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

/// Builds [`Builds`] row by row.
#[derive(Debug, Default)]
pub(super) struct BuildsAcc {
    core_dlls: NamedBuilds,
    redswoosh_dlls: NamedBuilds,
    readme_copyrights: Tally,
    versions: Tally,
}

impl BuildsAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        self.core_dlls.add(row, &CORE_DLL_RE);
        self.redswoosh_dlls.add(row, &RSWIN_DLL_RE);
        if row.artifact == "content.copyright" {
            self.readme_copyrights.add(&row.value);
        }
        if row.artifact == "registry.uninstall"
            && let Some(version) = field(&row.value, "DisplayVersion").filter(|v| !v.is_empty())
        {
            self.versions.add(version);
        }
    }

    pub fn finish(self) -> Builds {
        Builds {
            core_dlls: self.core_dlls.finish(),
            redswoosh_dlls: self.redswoosh_dlls.finish(),
            readme_copyrights: self.readme_copyrights.into_counted(),
            versions: self.versions.into_counted(),
        }
    }
}

fn build_ids(re: &Regex, text: &str) -> BTreeSet<String> {
    re.captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().to_lowercase())
        .collect()
}

/// Build ids a pattern finds in rows' paths and values: rows and how each was seen.
#[derive(Debug, Default)]
struct NamedBuilds(BTreeMap<String, (usize, BTreeSet<&'static str>)>);

impl NamedBuilds {
    fn add(&mut self, row: &EvidenceRow, re: &Regex) {
        let in_path = build_ids(re, &row.path);
        let in_value = build_ids(re, &row.value);
        for id in in_path.union(&in_value) {
            let entry = self.0.entry(id.clone()).or_default();
            entry.0 += 1;
            entry.1.insert(build_source(row, in_path.contains(id)));
        }
    }

    fn finish(self) -> Vec<Build> {
        self.0
            .into_iter()
            .map(|(id, (rows, seen_as))| Build {
                id,
                rows,
                seen_as: seen_as.into_iter().map(String::from).collect(),
            })
            .collect()
    }
}

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

pub(super) fn builds_statement(builds: &Builds) -> Statement {
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
    list_statement(
        "builds",
        items,
        "no build named in what was scanned (0 rows)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

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
}
