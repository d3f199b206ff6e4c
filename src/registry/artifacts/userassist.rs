//! UserAssist (`NTUSER\Software\Microsoft\Windows\CurrentVersion\Explorer\UserAssist\
//! {GUID}\Count`): value names are ROT13-encoded program paths, often starting with a
//! known-folder GUID; the data counts GUI launches and keeps the last one's time.
//! Windows 7+ data is 72 bytes (run count at 4, focus count at 8, focus time in ms at
//! 12, last run FILETIME at 60); XP's is 16 bytes (run count at 4, counting from 5;
//! FILETIME at 8).

use std::sync::LazyLock;

use regex::Regex;

use super::super::hive::RegKey;
use super::super::{Fact, HiveScan, Rule, own_time_or_key_written};
use crate::bytes::{u32_le, u64_le};
use crate::time::Timestamp;

/// Known folders that UserAssist names by GUID.
const KNOWN_FOLDERS: &[(&str, &str)] = &[
    ("{F1B32785-6FBA-4FCF-9D55-7B8E7F157091}", "%LocalAppData%"),
    ("{3EB685DB-65F9-4CF6-A03A-E3EF65729F3D}", "%AppData%"),
    ("{905E63B6-C1BF-494E-B29C-65B732D3D21A}", "%ProgramFiles%"),
    (
        "{6D809377-6AF0-444B-8957-A3773F02200E}",
        "%ProgramFiles% (x64)",
    ),
    (
        "{7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E}",
        "%ProgramFiles(x86)%",
    ),
    (
        "{F7F1ED05-9F6D-47A2-AAAE-29D317C6F066}",
        "%CommonProgramFiles%",
    ),
    (
        "{DE974D24-D9C6-4D3E-BF91-F4455120B917}",
        "%CommonProgramFiles(x86)%",
    ),
    ("{F38BF404-1D43-42F2-9305-67DE0B28FC23}", "%WinDir%"),
    (
        "{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}",
        "%WinDir%\\System32",
    ),
    (
        "{D65231B0-B2F1-4857-A4CE-A8E7C6EA7D27}",
        "%WinDir%\\SysWOW64",
    ),
    (
        "{374DE290-123F-4565-9164-39C4925E467B}",
        "%UserProfile%\\Downloads",
    ),
    (
        "{B4BFCC3A-DB2C-424C-B029-7FE99A87C641}",
        "%UserProfile%\\Desktop",
    ),
    (
        "{FDD39AD0-238F-46AF-ADB4-6C85480369C7}",
        "%UserProfile%\\Documents",
    ),
    (
        "{A77F5D77-2E2B-44C3-A6A2-ABA601054A51}",
        "%AppData%\\Microsoft\\Windows\\Start Menu\\Programs",
    ),
    (
        "{0139D44E-6AFE-49F2-8690-3DAFCAE6FFB8}",
        "%ProgramData%\\Microsoft\\Windows\\Start Menu\\Programs",
    ),
    ("{62AB5D82-FDC1-4DC3-A9DD-070D1D495D97}", "%ProgramData%"),
    (
        "{9E3995AB-1F9C-4F13-B827-48B24B6C7174}",
        "%AppData%\\Microsoft\\Internet Explorer\\Quick Launch\\User Pinned",
    ),
];

pub fn rot13(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
            _ => c,
        })
        .collect()
}

/// Replace a leading known-folder GUID with the folder's name.
pub fn resolve_known_folder(path: &str) -> String {
    for (guid, folder) in KNOWN_FOLDERS {
        if path.len() >= guid.len() && path[..guid.len()].eq_ignore_ascii_case(guid) {
            return format!("{folder}{}", &path[guid.len()..]);
        }
    }
    path.to_string()
}

/// How a row's `value` gives the run count: written by [`analyze`], read back by the
/// verdict through [`parse_run_count`], so the two cannot drift apart.
const RUN_COUNT: &str = "run count";

/// `run count 5`; `run count ?` when the data holds no count.
pub fn run_count_phrase(runs: Option<u32>) -> String {
    match runs {
        Some(r) => format!("{RUN_COUNT} {r}"),
        None => format!("{RUN_COUNT} ?"),
    }
}

/// The run count a text gives with [`run_count_phrase`] (the first one with digits, in
/// any case).
pub fn parse_run_count(text: &str) -> Option<u64> {
    static RUN_COUNT_RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(r"(?i){} (\d+)", regex::escape(RUN_COUNT)))
            .expect("run count regex is valid")
    });
    RUN_COUNT_RE
        .captures(text)
        .and_then(|c| c.get(1)?.as_str().parse::<u64>().ok())
}

/// (run count, focus count, last run FILETIME) by data layout.
fn counts(data: &[u8]) -> (Option<u32>, Option<u32>, Option<u64>) {
    match data.len() {
        72 => (u32_le(data, 4), u32_le(data, 8), u64_le(data, 60)),
        16 => (
            u32_le(data, 4).map(|c| c.saturating_sub(5)),
            None,
            u64_le(data, 8),
        ),
        _ => (None, None, None),
    }
}

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    for value in key.values(&mut scan.problems) {
        let decoded = rot13(&value.name);
        if !scan.names_netsession(&decoded) {
            continue;
        }
        let program = resolve_known_folder(&decoded);
        let (runs, focus, last) = counts(&value.data);
        let (time, desc) = own_time_or_key_written(
            last.and_then(Timestamp::from_filetime),
            "Last Run (UserAssist)",
            key,
        );
        let mut message = format!("UserAssist: the user launched {program} from the shell");
        if let Some(r) = runs {
            message.push_str(&format!(", {r} time(s)"));
        }
        if let Some(f) = focus {
            message.push_str(&format!(", focus count {f}"));
        }
        let shown = format!(
            "{program} (decoded from {}); {}",
            value.name,
            run_count_phrase(runs)
        );
        scan.report(
            &rule.info,
            key,
            Fact {
                value: Some(&value),
                time,
                desc,
                message,
                shown,
                user: None,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rot13_and_known_folders() {
        let encoded = "{S1O32785-6SON-4SPS-9Q55-7O8R7S157091}\\Nxnznv\\argfrffvba_jva.rkr";
        let decoded = rot13(encoded);
        assert_eq!(
            decoded,
            "{F1B32785-6FBA-4FCF-9D55-7B8E7F157091}\\Akamai\\netsession_win.exe"
        );
        assert_eq!(
            resolve_known_folder(&decoded),
            "%LocalAppData%\\Akamai\\netsession_win.exe"
        );
        let mut data = vec![0u8; 72];
        data[4] = 5;
        data[8] = 2;
        data[60..68].copy_from_slice(&129_737_304_000_000_000u64.to_le_bytes());
        assert_eq!(
            counts(&data),
            (Some(5), Some(2), Some(129_737_304_000_000_000))
        );
        let mut xp = vec![0u8; 16];
        xp[4] = 8;
        assert_eq!(counts(&xp).0, Some(3));
        assert_eq!(counts(&[1, 2, 3]), (None, None, None));
    }

    #[test]
    fn run_count_phrase_reads_back() {
        assert_eq!(run_count_phrase(Some(12)), "run count 12");
        assert_eq!(run_count_phrase(None), "run count ?");
        let shown = format!("x.exe (decoded from k.rkr); {}", run_count_phrase(Some(12)));
        assert_eq!(parse_run_count(&shown), Some(12));
        assert_eq!(parse_run_count(&run_count_phrase(None)), None);
        assert_eq!(parse_run_count("Run Count 7"), Some(7));
    }
}
