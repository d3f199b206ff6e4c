//! Gathering a hive and its transaction logs from wherever they are: a file system view
//! (a directory or a volume inside an image) or a file given directly. Bytes are read
//! whole (hives are usually well under 200 MB), up to a cap, and handed to the registry
//! analysis with their provenance: the registry code never opens a file.

use std::io::Read;

use crate::fs::{Candidate, FileSystem};
use crate::registry::hive::HiveInput;
use crate::warning::Warnings;

/// Largest hive or log read; a larger one is skipped with a warning.
pub const MAX_HIVE_BYTES: u64 = 1 << 30;

/// Is `candidate_name` a transaction log of the hive file `hive_name`? Windows names
/// them `<hive>.LOG`, `.LOG1`, `.LOG2`; collectors change the case
/// (`transactions_ntuser.dat.log1` beside `transactions_NTUSER.DAT`).
pub fn is_log_of(hive_name: &str, candidate_name: &str) -> bool {
    let hive = hive_name.to_lowercase();
    let other = candidate_name.to_lowercase();
    [".log", ".log1", ".log2"]
        .iter()
        .any(|ext| other == format!("{hive}{ext}"))
}

/// The whole of a hive or log, unless it is larger than [`MAX_HIVE_BYTES`]. `size`, when
/// the file system states it, sizes the buffer at once (a hive read by doubling a buffer
/// costs a copy and fresh pages at each step).
pub(super) fn read_capped(
    mut reader: impl Read,
    size: Option<u64>,
) -> std::io::Result<Option<Vec<u8>>> {
    let capacity = size.map_or(0, |s| s.min(MAX_HIVE_BYTES) as usize + 1);
    let mut bytes = Vec::with_capacity(capacity);
    (&mut reader)
        .take(MAX_HIVE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_HIVE_BYTES).then_some(bytes))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    crate::bytes::hex(&Sha256::digest(bytes))
}

/// A hive the file system view matched, with its logs.
pub fn from_view(
    fs: &dyn FileSystem,
    candidate: &Candidate,
    hash: bool,
    warnings: &Warnings,
) -> Option<HiveInput> {
    let source = fs.candidate_source(candidate);
    let evidence_path = candidate.evidence_path();
    let read = |reader: Result<Box<dyn Read + Send + '_>, crate::fs::FsError>,
                size: Option<u64>,
                what: &str| {
        // A collected $MFT names the hive, its content is elsewhere (read there, if the
        // collection holds it): nothing to warn about.
        if let Err(crate::fs::FsError::NotCollected { .. }) = reader {
            return None;
        }
        match reader
            .map_err(|e| e.to_string())
            .and_then(|r| read_capped(r, size).map_err(|e| e.to_string()))
        {
            Ok(Some(bytes)) => Some(bytes),
            Ok(None) => {
                warnings.push(
                    &source,
                    format!("{evidence_path}{what}"),
                    format!("larger than {MAX_HIVE_BYTES} bytes; not read"),
                );
                None
            }
            Err(e) => {
                warnings.push(
                    &source,
                    format!("{evidence_path}{what}"),
                    format!("cannot read: {e}"),
                );
                None
            }
        }
    };
    let bytes = read(fs.open(candidate), candidate.size, "")?;
    let mut logs = Vec::new();
    let mut siblings = fs.siblings(candidate);
    siblings.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, handle) in siblings {
        if is_log_of(candidate.name(), &name)
            && let Some(log) = read(fs.open_handle(&handle), None, &format!(" (log {name})"))
        {
            logs.push((name, log));
        }
    }
    let user_hint = candidate.found.user.as_deref().map(String::from);
    Some(hive_input(
        bytes,
        logs,
        hash,
        evidence_path,
        source,
        user_hint,
    ))
}

/// The hive's bytes and logs with their provenance, hashed when asked.
pub(super) fn hive_input(
    bytes: Vec<u8>,
    logs: Vec<(String, Vec<u8>)>,
    hash: bool,
    evidence_path: String,
    source: String,
    user_hint: Option<String>,
) -> HiveInput {
    HiveInput {
        sha256: if hash {
            sha256_hex(&bytes)
        } else {
            String::new()
        },
        bytes,
        logs,
        evidence_path,
        source,
        user_hint,
    }
}

/// The transaction logs beside a hive file on the host (any case, collector prefixes),
/// sorted by name.
pub fn logs_beside(path: &std::path::Path) -> Vec<(String, std::path::PathBuf)> {
    let name = path
        .file_name()
        .map(crate::host::display_name)
        .unwrap_or_default();
    let mut found: Vec<_> = crate::host::files_beside(path)
        .into_iter()
        .filter(|(n, _)| is_log_of(&name, n))
        .collect();
    found.sort();
    found
}

/// A hive file given on the command line, with the logs beside it on the host.
pub fn from_host_file(
    path: &std::path::Path,
    label: &str,
    hash: bool,
    warnings: &Warnings,
) -> Option<HiveInput> {
    from_host_file_in(path, label, label, hash, warnings)
}

/// A hive file on the host, with the logs beside it; its rows say `source`, and name it
/// `evidence_path` (where it lies in the input), as warnings do.
pub fn from_host_file_in(
    path: &std::path::Path,
    source: &str,
    evidence_path: &str,
    hash: bool,
    warnings: &Warnings,
) -> Option<HiveInput> {
    let (label, at) = (source, evidence_path);
    let open = |p: &std::path::Path| crate::host::open_evidence_file(p);
    let size = |p: &std::path::Path| std::fs::metadata(p).ok().map(|m| m.len());
    let bytes = match open(path).and_then(|f| read_capped(f, size(path))) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            warnings.push(
                label,
                at,
                format!("larger than {MAX_HIVE_BYTES} bytes; not read"),
            );
            return None;
        }
        Err(e) => {
            warnings.push(label, at, format!("cannot read: {e}"));
            return None;
        }
    };
    // A transaction log starts with `regf` too; given on its own it is no hive.
    if crate::registry::base_block::BaseBlock::parse_header(&bytes).is_ok_and(|b| b.file_type != 0)
    {
        let location = if at == label {
            "base block".to_string()
        } else {
            format!("{at}: base block")
        };
        warnings.push(
            label,
            location,
            "a registry transaction log, not a hive: it is used beside its primary hive",
        );
        return None;
    }
    let mut logs = Vec::new();
    for (log_name, log_path) in logs_beside(path) {
        match open(&log_path).and_then(|f| read_capped(f, size(&log_path))) {
            Ok(Some(log)) => logs.push((log_name, log)),
            Ok(None) => warnings.push(label, &log_name, "log larger than the cap; not read"),
            Err(e) => warnings.push(label, &log_name, format!("cannot read log: {e}")),
        }
    }
    Some(hive_input(
        bytes,
        logs,
        hash,
        at.to_string(),
        label.to_string(),
        None,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_names_in_any_case() {
        use super::is_log_of;
        assert!(is_log_of("NTUSER.DAT", "ntuser.dat.LOG1"));
        assert!(is_log_of(
            "transactions_NTUSER.DAT",
            "transactions_ntuser.dat.log2"
        ));
        assert!(is_log_of("SYSTEM", "SYSTEM.LOG"));
        assert!(!is_log_of("SYSTEM", "SYSTEM.sav"));
        assert!(!is_log_of("SYSTEM", "SOFTWARE.LOG1"));
    }
}
