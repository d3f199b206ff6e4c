//! `sccainfo` (libscca-utils), the independent Prefetch reader: its text output read back
//! into a summary, and the same summary made from our reader's result, so that tests
//! compare the two field by field.
#![allow(dead_code)] // each test file uses a different subset

use std::path::Path;
use std::process::Command;

use netsession_scan::internals::content::prefetch::Prefetch;

/// What sccainfo prints about a Prefetch file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SccaSummary {
    pub version: u32,
    pub hash: u32,
    pub executable: String,
    pub run_count: u32,
    /// The set last run times in slot order, as sccainfo prints them.
    pub last_runs: Vec<String>,
    pub filenames: Vec<String>,
    pub volumes: Vec<SccaVolume>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SccaVolume {
    pub device_path: String,
    pub created: String,
    pub serial: u32,
}

/// A FILETIME as sccainfo prints it: `Mar 10, 2013 10:11:49.281250000 UTC`.
pub fn filetime_text(ft: u64) -> String {
    if ft == 0 {
        return "Not set (0)".into();
    }
    let secs = (ft / 10_000_000) as i64 - 11_644_473_600;
    let nanos = (ft % 10_000_000) as u32 * 100;
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => format!("{}.{nanos:09} UTC", t.format("%b %d, %Y %H:%M:%S")),
        None => format!("(out of range: {ft:#x})"),
    }
}

fn hex_u32(s: &str) -> Result<u32, String> {
    let h = s.trim().trim_start_matches("0x");
    u32::from_str_radix(h, 16).map_err(|e| format!("bad hex {s:?}: {e}"))
}

fn dec_u32(s: &str) -> Result<u32, String> {
    s.trim()
        .parse()
        .map_err(|e| format!("bad number {s:?}: {e}"))
}

/// Reads sccainfo's text (from its first line on).
pub fn parse_sccainfo(text: &str) -> Result<SccaSummary, String> {
    let mut s = SccaSummary::default();
    let mut seen_version = false;
    let mut volume: Option<usize> = None;
    for line in text.lines() {
        if line.starts_with("Volume: ") {
            s.volumes.push(SccaVolume {
                device_path: String::new(),
                created: String::new(),
                serial: 0,
            });
            volume = Some(s.volumes.len() - 1);
            continue;
        }
        let Some((key, value)) = line.trim_start_matches('\t').split_once("\t: ") else {
            continue;
        };
        let key = key.trim_end_matches('\t');
        match key {
            "Format version" => {
                s.version = dec_u32(value)?;
                seen_version = true;
            }
            "Prefetch hash" => s.hash = hex_u32(value)?,
            "Executable filename" => s.executable = value.to_string(),
            "Run count" => s.run_count = dec_u32(value)?,
            k if k.starts_with("Last run time:") && !value.starts_with("Not set") => {
                s.last_runs.push(value.to_string());
            }
            k if k.starts_with("Last run time:") => {}
            k if k.starts_with("Filename: ") => s.filenames.push(value.to_string()),
            "Device path" => {
                let v = volume.ok_or("device path before a volume")?;
                s.volumes[v].device_path = value.to_string();
            }
            "Creation time" => {
                let v = volume.ok_or("creation time before a volume")?;
                s.volumes[v].created = value.to_string();
            }
            "Serial number" => {
                let v = volume.ok_or("serial before a volume")?;
                s.volumes[v].serial = hex_u32(value)?;
            }
            _ => {}
        }
    }
    if !seen_version {
        return Err("no format version in sccainfo's output".into());
    }
    Ok(s)
}

/// The summary of our reader's result.
pub fn summary_of(p: &Prefetch) -> SccaSummary {
    SccaSummary {
        version: p.version,
        hash: p.hash,
        executable: p.executable.clone(),
        run_count: p.run_count,
        last_runs: p.last_runs.iter().map(|&t| filetime_text(t)).collect(),
        filenames: p.loaded_files.clone(),
        volumes: p
            .volumes
            .iter()
            .map(|v| SccaVolume {
                device_path: v.device_path.clone(),
                created: filetime_text(v.created),
                serial: v.serial,
            })
            .collect(),
    }
}

/// The first difference between two summaries, in words; `None` when equal.
pub fn difference(ours: &SccaSummary, theirs: &SccaSummary) -> Option<String> {
    macro_rules! field {
        ($name:ident) => {
            if ours.$name != theirs.$name {
                return Some(format!(
                    "{}: ours {:?}, sccainfo {:?}",
                    stringify!($name),
                    ours.$name,
                    theirs.$name
                ));
            }
        };
    }
    field!(version);
    field!(hash);
    field!(executable);
    field!(run_count);
    field!(last_runs);
    if ours.filenames.len() != theirs.filenames.len() {
        return Some(format!(
            "filename count: ours {}, sccainfo {}",
            ours.filenames.len(),
            theirs.filenames.len()
        ));
    }
    for (i, (a, b)) in ours.filenames.iter().zip(&theirs.filenames).enumerate() {
        if a != b {
            return Some(format!("filename {}: ours {a:?}, sccainfo {b:?}", i + 1));
        }
    }
    field!(volumes);
    None
}

/// Is sccainfo installed?
pub fn sccainfo_installed() -> bool {
    Command::new("sccainfo").arg("-V").output().is_ok()
}

/// sccainfo's output for `path`: `Ok(text)`, `Err` when it ran and refused the file;
/// `None` when it is not installed.
pub fn run_sccainfo(path: &Path) -> Option<Result<String, String>> {
    let out = Command::new("sccainfo").arg(path).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Some(Ok(text))
    } else {
        Some(Err(format!(
            "sccainfo exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// `fixtures/prefetch/sccainfo_py.py`'s output for `path` (newer libscca through its
/// Python bindings, in sccainfo's layout): `None` when python3 or pyscca is missing.
pub fn run_pyscca(path: &Path) -> Option<Result<String, String>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/prefetch/sccainfo_py.py");
    let probe = Command::new("python3")
        .args(["-c", "import pyscca"])
        .output()
        .ok()?;
    if !probe.status.success() {
        return None;
    }
    let out = Command::new("python3")
        .arg(script)
        .arg(path)
        .output()
        .ok()?;
    if out.status.success() {
        Some(Ok(String::from_utf8_lossy(&out.stdout).into_owned()))
    } else {
        Some(Err(format!(
            "pyscca: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The independent reading of `path`: sccainfo's, or, for a file it refuses (format
/// version 31 in Debian's sccainfo 20200717), newer libscca's through pyscca when
/// installed. `None` when sccainfo is not installed.
pub fn run_reference(path: &Path) -> Option<Result<String, String>> {
    match run_sccainfo(path)? {
        Ok(text) => Some(Ok(text)),
        Err(e) => match run_pyscca(path) {
            Some(Ok(text)) => Some(Ok(text)),
            Some(Err(p)) => Some(Err(format!("{e}; {p}"))),
            None => Some(Err(e)),
        },
    }
}
