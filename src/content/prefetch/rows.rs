//! From a parsed Prefetch file to rows: one `Last Run (Prefetch)` row per recorded run
//! time when the program is NetSession's, and one `Loaded at Last Run (Prefetch)` row per
//! loaded file whose path names NetSession (these tie the run to a user profile).
//!
//! Whose program it is: the executable name of the header names a term, or the program's
//! own image (a loaded file whose name is the executable's) lies on a path a term names.
//! A program that only loaded a NetSession file (Explorer browsing the install folder)
//! gives the loaded-file rows, never run rows.

use super::Prefetch;
use crate::content::FileContext;
use crate::evidence::EvidenceRow;
use crate::time::Timestamp;

/// The catalog artifact of the run rows (the verdict's execution statement reads it).
pub const RUN_ARTIFACT: &str = "execution.prefetch";
/// Loaded files of a program that is not NetSession's own.
pub const LOADED_ARTIFACT: &str = "prefetch.loaded_file";

/// Why a Prefetch file is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The program is NetSession's own: its runs are NetSession's runs.
    Program,
    /// Only files it loaded name NetSession.
    LoadedOnly,
}

/// Whether `pf` is NetSession's by the lower-cased `terms`: its program, or only files
/// it loaded; `None` when nothing names a term.
pub fn matches(pf: &Prefetch, terms: &[String]) -> Option<Match> {
    let named = |s: &str| {
        let lower = s.to_lowercase();
        terms.iter().any(|t| lower.contains(t.as_str()))
    };
    if named(&pf.executable) || own_images(pf).any(named) {
        Some(Match::Program)
    } else if pf.loaded_files.iter().any(|f| named(f)) {
        Some(Match::LoadedOnly)
    } else {
        None
    }
}

/// Loaded files whose file name is the program's (its own image; the header keeps at
/// most 29 characters of the name, so a longer file name counts when it starts so).
fn own_images(pf: &Prefetch) -> impl Iterator<Item = &str> {
    let exe = pf.executable.to_uppercase();
    pf.loaded_files.iter().map(String::as_str).filter(move |f| {
        let name = f.rsplit('\\').next().unwrap_or(f).to_uppercase();
        !exe.is_empty() && (name == exe || (exe.chars().count() >= 29 && name.starts_with(&exe)))
    })
}

/// The profile name of a path under `\USERS\<name>\` or `\DOCUMENTS AND SETTINGS\<name>\`
/// (as the file stores it: upper case).
pub fn profile_of(path: &str) -> Option<&str> {
    let upper = path.to_uppercase();
    for marker in ["\\USERS\\", "\\DOCUMENTS AND SETTINGS\\"] {
        if let Some(at) = upper.find(marker) {
            let rest = &path[at + marker.len()..];
            let name = rest.split('\\').next().unwrap_or("");
            // `\USERS\zoe` alone is the profile folder, not a file in it.
            if !name.is_empty() && rest.len() > name.len() {
                return Some(name);
            }
        }
    }
    None
}

/// `version 30 (MAM compressed)`.
fn format_phrase(pf: &Prefetch) -> String {
    if pf.compressed {
        format!("version {} (MAM compressed)", pf.version)
    } else {
        format!("version {}", pf.version)
    }
}

fn volumes_phrase(pf: &Prefetch) -> String {
    pf.volumes
        .iter()
        .map(|v| {
            let created = Timestamp::from_filetime(v.created)
                .map(|t| t.to_iso8601())
                .unwrap_or_else(|| format!("FILETIME {:#x}", v.created));
            format!(
                "{} serial {:08X} created {created}",
                v.device_path, v.serial
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of a Prefetch file that [`matches`] said is kept.
pub fn rows(pf: &Prefetch, kept: Match, terms: &[String], ctx: &FileContext) -> Vec<EvidenceRow> {
    let named = |s: &str| {
        let lower = s.to_lowercase();
        terms.iter().any(|t| lower.contains(t.as_str()))
    };
    let netsession_files: Vec<(usize, &String)> = pf
        .loaded_files
        .iter()
        .enumerate()
        .filter(|(_, f)| named(f))
        .collect();
    // The user: the profile of the program's own image, else of a NetSession file it
    // loaded; else the file's own (from its path).
    let profile = own_images(pf)
        .filter(|f| named(f))
        .chain(netsession_files.iter().map(|(_, f)| f.as_str()))
        .find_map(profile_of)
        .map(str::to_string);
    let user = profile.clone().unwrap_or_else(|| ctx.user.clone());
    let slots = pf.last_runs.len();
    let newest = pf.last_runs.first().copied();
    let mut out = Vec::new();
    if kept == Match::Program {
        let image = own_images(pf).next().map(str::to_string);
        for (i, &run) in pf.last_runs.iter().enumerate() {
            let mut row = ctx.row_at(Timestamp::from_filetime(run));
            row.user = user.clone();
            row.artifact = RUN_ARTIFACT.into();
            row.timestamp_desc = "Last Run (Prefetch)".into();
            row.message = format!(
                "{} ran (run time {} of the {} the Prefetch file keeps, newest first; run count {})",
                pf.executable,
                i + 1,
                slots,
                pf.run_count
            );
            let mut value = format!(
                "executable={}; hash={:08X}; run count {}; {}",
                pf.executable,
                pf.hash,
                pf.run_count,
                format_phrase(pf)
            );
            if let Some(image) = &image {
                value.push_str(&format!("; image={image}"));
            }
            if let Some(p) = &profile {
                value.push_str(&format!("; profile={p} (upper case as the file stores it)"));
            }
            if i == 0 && !pf.volumes.is_empty() {
                value.push_str(&format!("; volumes: {}", volumes_phrase(pf)));
            }
            row.value = value;
            row.locator = format!("{}; last run time {}", format_phrase(pf), i + 1);
            out.push(row);
        }
        if pf.last_runs.is_empty() {
            let mut row = ctx.row_at(None);
            row.user = user.clone();
            row.artifact = RUN_ARTIFACT.into();
            row.timestamp_desc = "No Time (Prefetch holds no run time)".into();
            row.message = format!(
                "{} ran (run count {}); the Prefetch file holds no run time",
                pf.executable, pf.run_count
            );
            row.value = format!(
                "executable={}; hash={:08X}; run count {}; {}",
                pf.executable,
                pf.hash,
                pf.run_count,
                format_phrase(pf)
            );
            row.locator = format_phrase(pf);
            out.push(row);
        }
    }
    let total = pf.loaded_files.len();
    for (i, file) in netsession_files {
        let mut row = ctx.row_at(newest.and_then(Timestamp::from_filetime));
        row.user = profile_of(file)
            .map(str::to_string)
            .unwrap_or_else(|| user.clone());
        row.artifact = match kept {
            Match::Program => RUN_ARTIFACT.into(),
            Match::LoadedOnly => LOADED_ARTIFACT.into(),
        };
        row.timestamp_desc = if newest.is_some() {
            "Loaded at Last Run (Prefetch)".into()
        } else {
            "No Time (Prefetch holds no run time)".into()
        };
        row.message = format!(
            "{} loaded a file on a NetSession path in its first seconds (file name {} of {} in the Prefetch file; the time is its newest run)",
            pf.executable,
            i + 1,
            total
        );
        row.value = file.clone();
        row.locator = format!("{}; file name {} of {}", format_phrase(pf), i + 1, total);
        out.push(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::prefetch::Volume;
    use crate::evidence::RecordState;

    fn pf(exe: &str, files: &[&str]) -> Prefetch {
        Prefetch {
            version: 30,
            compressed: true,
            executable: exe.into(),
            hash: 0x1A2B3C4D,
            stated_size: 0,
            run_count: 7,
            last_runs: vec![132_000_000_000_000_000, 131_000_000_000_000_000],
            loaded_files: files.iter().map(|s| s.to_string()).collect(),
            volumes: vec![Volume {
                device_path: r"\VOLUME{01D2-ABCD}".into(),
                created: 131_000_000_000_000_000,
                serial: 0xABCD1234,
                directories: vec![],
            }],
            problems: vec![],
        }
    }

    fn ctx() -> FileContext {
        FileContext {
            path: r"Windows\Prefetch\X.pf".into(),
            name: "X.pf".into(),
            user: String::new(),
            source: "img".into(),
            state: RecordState::Allocated,
            sha256: "ab".into(),
            zone: None,
        }
    }

    fn terms() -> Vec<String> {
        vec!["netsession".into(), "\\akamai\\".into()]
    }

    const IMAGE: &str = r"\VOLUME{01D2-ABCD}\USERS\ZOE\APPDATA\LOCAL\AKAMAI\NETSESSION_WIN.EXE";

    #[test]
    fn netsession_program_gives_its_runs_and_profile() {
        let p = pf(
            "NETSESSION_WIN.EXE",
            &[r"\VOLUME{01D2-ABCD}\WINDOWS\SYSTEM32\NTDLL.DLL", IMAGE],
        );
        assert_eq!(matches(&p, &terms()), Some(Match::Program));
        let rows = rows(&p, Match::Program, &terms(), &ctx());
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].timestamp_desc, "Last Run (Prefetch)");
        assert_eq!(rows[0].user, "ZOE");
        assert!(rows[0].value.contains("run count 7"), "{}", rows[0].value);
        assert!(
            rows[0].value.contains("serial ABCD1234"),
            "{}",
            rows[0].value
        );
        assert_eq!(
            rows[1].locator,
            "version 30 (MAM compressed); last run time 2"
        );
        assert_eq!(rows[2].timestamp_desc, "Loaded at Last Run (Prefetch)");
        assert_eq!(rows[2].datetime, rows[0].datetime);
        assert_eq!(rows[2].value, IMAGE);
        assert_eq!(
            rows[2].locator,
            "version 30 (MAM compressed); file name 2 of 2"
        );
    }

    #[test]
    fn a_program_whose_image_lies_in_the_install_folder_is_netsession() {
        let image = r"\VOLUME{X}\PROGRAM FILES\AKAMAI\ADMINTOOL.EXE";
        let p = pf("ADMINTOOL.EXE", &[image]);
        assert_eq!(matches(&p, &terms()), Some(Match::Program));
    }

    #[test]
    fn a_program_that_only_loaded_a_netsession_file_gives_no_runs() {
        let p = pf("EXPLORER.EXE", &[r"\VOLUME{X}\WINDOWS\EXPLORER.EXE", IMAGE]);
        assert_eq!(matches(&p, &terms()), Some(Match::LoadedOnly));
        let rows = rows(&p, Match::LoadedOnly, &terms(), &ctx());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].artifact, LOADED_ARTIFACT);
        assert_eq!(rows[0].user, "ZOE");
    }

    #[test]
    fn other_programs_are_not_kept() {
        let p = pf("NOTEPAD.EXE", &[r"\VOLUME{X}\WINDOWS\NOTEPAD.EXE"]);
        assert_eq!(matches(&p, &terms()), None);
    }

    #[test]
    fn profiles_are_read_from_both_layouts() {
        assert_eq!(profile_of(IMAGE), Some("ZOE"));
        assert_eq!(
            profile_of(r"\DEVICE\HARDDISKVOLUME1\DOCUMENTS AND SETTINGS\BOB\X.DLL"),
            Some("BOB")
        );
        assert_eq!(profile_of(r"\VOLUME{X}\USERS\ZOE"), None);
        assert_eq!(profile_of(r"\VOLUME{X}\WINDOWS\X.DLL"), None);
    }

    #[test]
    fn a_file_without_run_times_still_says_it_ran() {
        let mut p = pf("NETSESSION_WIN.EXE", &[IMAGE]);
        p.last_runs.clear();
        let rows = rows(&p, Match::Program, &terms(), &ctx());
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.datetime.is_none()));
    }
}
