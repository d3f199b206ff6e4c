//! Collection layouts: where the volume roots of a collection are, and what its
//! metadata says of the original files.
//!
//! - Velociraptor collections keep each collected file under
//!   `uploads/<accessor>/<device>/<path>`, with the device and every name escaped
//!   (`C%3A`, `%5C%5C.%5CC%3A` for `\\.\C:`; a colon in a name as `%3A`). Each device is a
//!   volume root; names are shown decoded. Bulk file collections (`Windows.KapeFiles.Targets`,
//!   `Windows.Triage.Targets`) also write the original file times, as JSON lines, to
//!   `results/<artifact>%2FAll File Metadata.json` (0.74 and before) or
//!   `results/<artifact>%2FAll Matches Metadata.json` (0.75 on), one row per file:
//!   `SourceFile` (the path on the endpoint, `C:\...` or `\\.\C:\...`), `Created`,
//!   `Modified`, `LastAccessed`, `Changed` (RFC 3339). The archive's own entry times are
//!   only the time of the modification (ZIP) as the collector wrote it.
//! - KAPE targets (`C\Users\...`, `<drive letter>\...`) and any other folder of volume
//!   roots: a folder holding at least two names that mark a volume root, as for
//!   directories.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use crate::catalog::fold_case;
use crate::fs::FileTime;
use crate::time::{Precision, Timestamp};

/// The accessors whose uploads keep a device's files below `uploads/<accessor>/`.
const ACCESSORS: &[&str] = &["auto", "ntfs", "mft", "lazy_ntfs", "ntfs_vss", "file"];

/// Most rows of collection metadata kept (each is a path and four times).
pub(super) const MAX_METADATA_ROWS: usize = 4_000_000;
/// Longest line of collection metadata read; a longer one is skipped.
const MAX_METADATA_LINE: usize = 64 * 1024;

/// `%XX` decoded (Velociraptor's escaping); invalid escapes are kept as they are, and
/// a device name in quotes (`"\\.\C:"`) loses its quotes.
pub fn decode_component(name: &str) -> String {
    let name = name
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(name);
    if !name.contains('%') {
        return name.to_string();
    }
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(text) = std::str::from_utf8(hex)
            && let Ok(value) = u8::from_str_radix(text, 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Does a decoded name look like a device Velociraptor collected from: `C:`,
/// `\\.\C:`, `\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy1`, `\\.\PhysicalDrive0`?
fn is_device(decoded: &str) -> bool {
    let b = decoded.as_bytes();
    (b.len() == 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
        || decoded.starts_with("\\\\.\\")
        || decoded.starts_with("\\\\?\\")
}

/// Where a Velociraptor collection's device folder is among raw (escaped) path
/// components: the index of the device component, when `uploads/<accessor>/<device>`
/// leads there.
pub fn velociraptor_device_at(raw: &[&str]) -> Option<usize> {
    raw.windows(3)
        .position(|w| {
            fold_case(w[0]) == "uploads"
                && ACCESSORS.contains(&fold_case(w[1]).as_ref())
                && is_device(&decode_component(w[2]))
        })
        .map(|k| k + 2)
}

/// The key a path has in collection metadata: devices as `c:`, `\` separators, case
/// folded (`\\.\C:\Users\x` and `C:\Users\X` are the same file).
pub fn metadata_key(device: &str, rest: &[String]) -> String {
    let mut key = normalise_device(device);
    for name in rest {
        key.push('\\');
        key.push_str(name);
    }
    fold_case(&key).into_owned()
}

fn normalise_device(device: &str) -> String {
    let d = device
        .strip_prefix("\\\\.\\")
        .or_else(|| device.strip_prefix("\\\\?\\"))
        .unwrap_or(device);
    d.trim_end_matches('\\').to_string()
}

/// Is this archive path one of the known Velociraptor metadata files (escaped or
/// decoded)?
pub fn is_metadata_file(raw_path: &str) -> bool {
    const END: &str = "metadata.json";
    let n = raw_path.len();
    if n < END.len() || !raw_path.is_char_boundary(n - END.len()) {
        return false;
    }
    if !raw_path[n - END.len()..].eq_ignore_ascii_case(END) {
        return false;
    }
    let decoded = decode_component(raw_path.rsplit('/').next().unwrap_or(""));
    let parent = raw_path.rsplit('/').nth(1).unwrap_or("");
    let artifact_ok = |a: &str| {
        a.eq_ignore_ascii_case("Windows.KapeFiles.Targets")
            || a.eq_ignore_ascii_case("Windows.Triage.Targets")
    };
    let source_ok = |s: &str| {
        s.eq_ignore_ascii_case("All File Metadata.json")
            || s.eq_ignore_ascii_case("All Matches Metadata.json")
    };
    // `results/Windows.KapeFiles.Targets%2FAll File Metadata.json`
    if let Some((artifact, source)) = decoded.split_once('/')
        && fold_case(parent) == "results"
    {
        return artifact_ok(artifact) && source_ok(source);
    }
    // Unpacked with the `%2F` turned into a folder.
    let grand = raw_path.rsplit('/').nth(2).unwrap_or("");
    fold_case(grand) == "results" && artifact_ok(parent) && source_ok(&decoded)
}

/// Original file times from collection metadata, by [`metadata_key`].
#[derive(Debug, Default)]
pub struct MetadataTimes {
    pub times: HashMap<String, Vec<FileTime>>,
    /// Lines that were no metadata row (not JSON, no `SourceFile`, too long).
    pub skipped: u64,
    /// True when [`MAX_METADATA_ROWS`] was reached.
    pub truncated: bool,
}

/// What collection metadata times are labelled with in rows.
pub const METADATA_ATTRIBUTE: &str = "collection metadata";

#[derive(serde::Deserialize)]
struct Row {
    #[serde(rename = "SourceFile")]
    source_file: Option<String>,
    #[serde(rename = "Created")]
    created: Option<serde_json::Value>,
    #[serde(rename = "Modified")]
    modified: Option<serde_json::Value>,
    #[serde(rename = "LastAccessed")]
    accessed: Option<serde_json::Value>,
    #[serde(rename = "Changed")]
    changed: Option<serde_json::Value>,
}

fn parse_time(value: &Option<serde_json::Value>) -> Option<Timestamp> {
    let text = value.as_ref()?.as_str()?;
    let dt = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    let utc = dt.with_timezone(&chrono::Utc);
    let precision = if utc.timestamp_subsec_nanos() == 0 && !text.contains('.') {
        Precision::Seconds
    } else {
        Precision::Nanos
    };
    Timestamp::from_unix(utc.timestamp(), utc.timestamp_subsec_nanos(), precision)
}

impl MetadataTimes {
    /// Read one metadata file (JSON lines) into the map; a bad line is skipped and
    /// counted, the rest is read.
    pub fn read_from(&mut self, reader: impl Read) -> std::io::Result<()> {
        let mut reader = BufReader::new(reader);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = (&mut reader)
                .take(MAX_METADATA_LINE as u64 + 1)
                .read_until(b'\n', &mut line)?;
            if n == 0 {
                return Ok(());
            }
            if line.len() > MAX_METADATA_LINE && !line.ends_with(b"\n") {
                // Skip the rest of an overlong line.
                self.skipped += 1;
                let mut rest = Vec::new();
                reader.read_until(b'\n', &mut rest)?;
                continue;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(row) = serde_json::from_slice::<Row>(&line) else {
                self.skipped += 1;
                continue;
            };
            let Some(source) = row.source_file.filter(|s| !s.is_empty()) else {
                self.skipped += 1;
                continue;
            };
            if self.times.len() >= MAX_METADATA_ROWS {
                self.truncated = true;
                return Ok(());
            }
            let mut times = Vec::with_capacity(4);
            for (label, value) in [
                ("Created", &row.created),
                ("Modified", &row.modified),
                ("Accessed", &row.accessed),
                ("Metadata Changed", &row.changed),
            ] {
                if let Some(time) = parse_time(value) {
                    times.push(FileTime {
                        label,
                        attribute: METADATA_ATTRIBUTE,
                        time,
                    });
                }
            }
            let (device, rest) = source.split_once('\\').map_or((source.as_str(), ""), |x| x);
            let (device, rest) = if device.is_empty() {
                // `\\.\C:\path`: the device is `\\.\C:`.
                let parts: Vec<&str> = source.splitn(5, '\\').collect();
                if parts.len() >= 4 {
                    let dev_len = parts[..4].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
                    (&source[..dev_len], source.get(dev_len + 1..).unwrap_or(""))
                } else {
                    (source.as_str(), "")
                }
            } else {
                (device, rest)
            };
            let rest: Vec<String> = rest
                .split('\\')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect();
            self.times.insert(metadata_key(device, &rest), times);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_velociraptor_names() {
        assert_eq!(decode_component("C%3A"), "C:");
        assert_eq!(decode_component("%5C%5C.%5CC%3A"), "\\\\.\\C:");
        assert_eq!(decode_component("\"\\\\.\\C:\""), "\\\\.\\C:");
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("a%zzb"), "a%zzb");
        assert_eq!(decode_component("Jos%C3%A9"), "José");
    }

    #[test]
    fn finds_device_folders() {
        assert_eq!(
            velociraptor_device_at(&["uploads", "auto", "C%3A", "x"]),
            Some(2)
        );
        assert_eq!(
            velociraptor_device_at(&["c", "uploads", "ntfs", "%5C%5C.%5CC%3A"]),
            Some(3)
        );
        assert_eq!(velociraptor_device_at(&["uploads", "auto", "Users"]), None);
        assert_eq!(velociraptor_device_at(&["uploads", "other", "C%3A"]), None);
    }

    #[test]
    fn metadata_rows_by_path() {
        let text = concat!(
            "{\"SourceFile\":\"C:\\\\Users\\\\Zoë\\\\a.txt\",\"Created\":\"2012-02-14T09:30:00Z\",",
            "\"Modified\":\"2012-02-14T09:30:01.5Z\",\"LastAccessed\":null,\"Changed\":\"bad\"}\n",
            "not json\n\n",
            "{\"SourceFile\":\"\\\\\\\\.\\\\C:\\\\$MFT\",\"Modified\":\"2012-02-14T10:30:00+01:00\"}\n"
        );
        let mut m = MetadataTimes::default();
        m.read_from(text.as_bytes()).unwrap();
        assert_eq!(m.skipped, 1);
        let a = &m.times[&metadata_key("C:", &["Users".into(), "ZOË".into(), "A.TXT".into()])];
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].time.to_iso8601(), "2012-02-14T09:30:01.500000000Z");
        let mft = &m.times[&metadata_key("\\\\.\\C:", &["$MFT".into()])];
        assert_eq!(mft[0].time.to_iso8601(), "2012-02-14T09:30:00Z");
        assert!(is_metadata_file(
            "results/Windows.KapeFiles.Targets%2FAll File Metadata.json"
        ));
        assert!(is_metadata_file(
            "results/Windows.Triage.Targets/All Matches Metadata.json"
        ));
        assert!(!is_metadata_file("results/Other%2FAll File Metadata.json"));
    }
}
