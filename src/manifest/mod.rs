//! The scan manifest: a JSON record for the chain of custody. What ran (tool, version,
//! command line), when (UTC), on what (each input and the files it consists of: E01 and
//! split-raw segments, a hive's transaction logs, with sizes and, when asked, SHA-256),
//! with which rules (the catalog's hash), what came out (each output file with its
//! hash, row counts per artifact) and every warning. With `--hash-inputs`, a directory
//! input lists each file that produced a row, hashed ([`row_files`]), and an E01's
//! stored media hashes are compared with the data read ([`media`]).

mod media;
mod row_files;

pub use media::MediaHashRecord;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::input::{Input, InputKind};
use crate::scan::Report;

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub command_line: Vec<String>,
    /// UTC, ISO 8601 with `Z`.
    pub started: String,
    pub finished: String,
    pub inputs: Vec<InputRecord>,
    pub catalog: CatalogRecord,
    pub outputs: Vec<FileRecord>,
    pub rows: u64,
    /// Rows per artifact id.
    pub artifacts: BTreeMap<String, u64>,
    pub stats: StatsRecord,
    pub warnings: Vec<WarningRecord>,
}

#[derive(Debug, Serialize)]
pub struct InputRecord {
    /// As given on the command line.
    pub path: String,
    /// The same, made absolute against the working folder (links not resolved).
    pub absolute_path: String,
    pub kind: String,
    /// The files read for it (a directory lists itself, with no size).
    pub files: Vec<FileRecord>,
    /// A directory with `--hash-inputs`: every file that produced a row, with the rows it
    /// produced, its size and SHA-256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_files: Option<Vec<FileRecord>>,
    /// A directory with `--hash-inputs`: rows about a folder (nothing to hash), and rows
    /// naming nothing on the host (an entry of a deleted record in a collected `$MFT`, a
    /// file gone since it was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_of_folders: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_without_a_host_file: Option<u64>,
    /// An E01 with `--hash-inputs`: the stored MD5/SHA-1 against the media data read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_hashes: Option<MediaHashRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileRecord {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Rows this file produced (`row_files` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Why size or hash is missing (unreadable, a directory), or that the file's hash
    /// now differs from the one its rows state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CatalogRecord {
    /// SHA-256 of the catalog built into this binary.
    pub embedded_sha256: String,
    /// Extra catalogs given with `--catalog`.
    pub extra: Vec<FileRecord>,
}

#[derive(Debug, Serialize)]
pub struct StatsRecord {
    pub entries_seen: u64,
    pub candidates: usize,
    pub files_read: usize,
    pub hives: usize,
    /// Event logs read; their chunks, those parsed (the others named nothing an event
    /// rule looks for) and the records read in them.
    pub event_logs: usize,
    pub event_chunks: u64,
    pub event_chunks_parsed: u64,
    pub event_records: u64,
    /// Sorted runs of rows written to the temporary folder (0 = all rows fit in memory).
    pub row_runs_on_disk: usize,
    pub elapsed_seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct WarningRecord {
    pub input: String,
    pub location: String,
    pub message: String,
}

/// The files an input consists of: the image's segments, a hive and its logs, a file;
/// a directory stands for itself.
pub fn input_files(input: &Input) -> Vec<PathBuf> {
    match input.kind {
        InputKind::Directory
        | InputKind::EventLog
        | InputKind::EseDatabase
        | InputKind::Prefetch => {
            vec![input.path.clone()]
        }
        InputKind::RegistryHive => {
            let mut files = vec![input.path.clone()];
            files.extend(
                crate::scan::hives::logs_beside(&input.path)
                    .into_iter()
                    .map(|(_, p)| p),
            );
            files
        }
        // A collected $MFT and the $J read beside it.
        InputKind::CollectedMft => std::iter::once(input.path.clone())
            .chain(crate::scan::collected::journal_beside(&input.path))
            .collect(),
        _ => match crate::image::source::open_image(&input.path) {
            Ok(image) if !image.files().is_empty() => image.files(),
            _ => vec![input.path.clone()],
        },
    }
}

/// The record of an output written to standard output: it cannot be hashed.
pub fn stdout_record(format: &str) -> FileRecord {
    FileRecord {
        path: "(standard output)".into(),
        format: Some(format.into()),
        size: None,
        sha256: None,
        rows: None,
        note: Some(
            "written to standard output: not hashed here; give -o FILE for a hashed output".into(),
        ),
    }
}

/// Size and (with `hash`) SHA-256 of a file, read in a streaming way.
pub fn describe_file(path: &Path, hash: bool) -> FileRecord {
    describe_file_with(path, hash, &crate::progress::Silent)
}

/// [`describe_file`], telling `progress` how many bytes were hashed.
pub fn describe_file_with(
    path: &Path,
    hash: bool,
    progress: &dyn crate::progress::Progress,
) -> FileRecord {
    let mut record = FileRecord {
        path: crate::host::display_name(path.as_os_str()),
        format: None,
        size: None,
        sha256: None,
        rows: None,
        note: None,
    };
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            record.note = Some("directory".into());
            return record;
        }
        Ok(meta) => record.size = Some(meta.len()),
        Err(e) => {
            record.note = Some(format!("cannot stat: {e}"));
            return record;
        }
    }
    if hash {
        match sha256_file_with(path, progress) {
            Ok(digest) => record.sha256 = Some(digest),
            Err(e) => record.note = Some(format!("cannot hash: {e}")),
        }
    }
    record
}

/// SHA-256 of a file, streamed (evidence files are opened read-only, without touching
/// their access time where the system allows).
pub fn sha256_file(path: &Path) -> io::Result<String> {
    sha256_file_with(path, &crate::progress::Silent)
}

fn sha256_file_with(path: &Path, progress: &dyn crate::progress::Progress) -> io::Result<String> {
    let mut file = crate::host::open_evidence_file(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        progress.advance(n as u64);
    }
    Ok(crate::bytes::hex(&hasher.finalize()))
}

/// Each file behind a directory's rows, sized and hashed, with its row count; a hash
/// that differs from the one its rows state is said (the file changed after it was read).
fn describe_row_files(
    found: &row_files::RowFiles,
    progress: &dyn crate::progress::Progress,
) -> Vec<FileRecord> {
    found
        .files
        .iter()
        .map(|(path, (rows, stated))| {
            let mut record = describe_file_with(path, true, progress);
            record.path = std::path::absolute(path)
                .map(|p| crate::host::display_name(p.as_os_str()))
                .unwrap_or(record.path);
            record.rows = Some(*rows);
            if let (Some(now), Some(stated)) = (&record.sha256, stated)
                && now != stated
            {
                record.note = Some(format!(
                    "SHA-256 differs from the {stated} its rows state: the file changed after it was read"
                ));
            }
            record
        })
        .collect()
}

pub fn sha256_text(text: &str) -> String {
    crate::bytes::hex(&Sha256::digest(text.as_bytes()))
}

/// Everything the manifest says about inputs, catalog and results, given what the
/// binary knows (command line, times, outputs).
pub struct ManifestParts<'a> {
    pub command_line: Vec<String>,
    pub started: String,
    pub finished: String,
    pub inputs: &'a [Input],
    pub hash_inputs: bool,
    pub extra_catalogs: &'a [PathBuf],
    pub outputs: Vec<FileRecord>,
    pub report: &'a Report,
    /// Shown while inputs are hashed (`hash_inputs`): it can take long on a big image.
    pub progress: &'a dyn crate::progress::Progress,
}

pub fn build(parts: ManifestParts<'_>) -> Manifest {
    let report = parts.report;
    let files: Vec<Vec<PathBuf>> = parts.inputs.iter().map(input_files).collect();
    // A directory's files behind its rows: found before hashing, to size the progress.
    let row_files: Vec<Option<io::Result<row_files::RowFiles>>> = parts
        .inputs
        .iter()
        .map(|input| {
            (parts.hash_inputs && input.kind == InputKind::Directory)
                .then(|| row_files::of_directory(input, &report.rows))
        })
        .collect();
    if parts.hash_inputs {
        let size = |f: &Path| {
            std::fs::metadata(f)
                .ok()
                .filter(|m| m.is_file())
                .map_or(0, |m| m.len())
        };
        let segments: u64 = files.iter().flatten().map(|f| size(f)).sum();
        let behind_rows: u64 = row_files
            .iter()
            .flatten()
            .flatten()
            .flat_map(|r| r.files.keys())
            .map(|f| size(f))
            .sum();
        let media: u64 = parts
            .inputs
            .iter()
            .filter(|i| i.kind == InputKind::Ewf)
            .filter_map(|i| crate::image::e01::EwfImage::open(&i.path).ok())
            .map(|e| crate::image::source::ImageSource::size(&e))
            .sum();
        parts
            .progress
            .stage_bytes("hashing the inputs", Some(segments + behind_rows + media));
    }
    let inputs = parts
        .inputs
        .iter()
        .zip(&files)
        .zip(row_files)
        .map(|((input, files), behind)| {
            let (row_files, rows_of_folders, rows_without_a_host_file) = match behind {
                Some(Ok(found)) => (
                    Some(describe_row_files(&found, parts.progress)),
                    Some(found.rows_of_folders),
                    Some(found.rows_without_a_host_file),
                ),
                Some(Err(e)) => (
                    Some(vec![FileRecord {
                        path: input.label.clone(),
                        format: None,
                        size: None,
                        sha256: None,
                        rows: None,
                        note: Some(format!("cannot read the rows back: {e}")),
                    }]),
                    None,
                    None,
                ),
                None => (None, None, None),
            };
            InputRecord {
                path: input.label.clone(),
                absolute_path: std::path::absolute(&input.path)
                    .map(|p| crate::host::display_name(p.as_os_str()))
                    .unwrap_or_else(|_| input.label.clone()),
                kind: input.kind.describe().to_string(),
                files: files
                    .iter()
                    .map(|f| describe_file_with(f, parts.hash_inputs, parts.progress))
                    .collect(),
                row_files,
                rows_of_folders,
                rows_without_a_host_file,
                media_hashes: (parts.hash_inputs && input.kind == InputKind::Ewf)
                    .then(|| media::verify_e01(&input.path, &|n| parts.progress.advance(n))),
            }
        })
        .collect();
    Manifest {
        tool: env!("CARGO_PKG_NAME").into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command_line: parts.command_line,
        started: parts.started,
        finished: parts.finished,
        inputs,
        catalog: CatalogRecord {
            embedded_sha256: sha256_text(crate::catalog::EMBEDDED_CATALOG),
            extra: parts
                .extra_catalogs
                .iter()
                .map(|p| describe_file(p, true))
                .collect(),
        },
        outputs: parts.outputs,
        rows: report.rows.len(),
        artifacts: report.rows.counts().per_artifact.clone(),
        stats: StatsRecord {
            entries_seen: report.stats.entries_seen,
            candidates: report.stats.candidates,
            files_read: report.stats.files_read,
            hives: report.stats.hives,
            event_logs: report.stats.event_logs,
            event_chunks: report.stats.event_chunks,
            event_chunks_parsed: report.stats.event_chunks_parsed,
            event_records: report.stats.event_records,
            row_runs_on_disk: report.rows.runs_on_disk(),
            elapsed_seconds: report.stats.elapsed.as_secs_f64(),
        },
        warnings: report
            .warnings
            .iter()
            .map(|w| WarningRecord {
                input: w.input.clone(),
                location: w.location.clone(),
                message: w.message.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_sized_and_hashed_directories_noted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.bin");
        std::fs::write(&file, b"abc").unwrap();
        let record = describe_file(&file, true);
        assert_eq!(record.size, Some(3));
        assert_eq!(
            record.sha256.as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        let unhashed = describe_file(&file, false);
        assert_eq!(unhashed.sha256, None);
        let folder = describe_file(dir.path(), true);
        assert_eq!(folder.note.as_deref(), Some("directory"));
        let missing = describe_file(&dir.path().join("nope"), true);
        assert!(missing.note.unwrap().starts_with("cannot stat"));
    }

    #[test]
    fn a_file_changed_since_its_rows_were_made_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let (same, changed) = (dir.path().join("same"), dir.path().join("changed"));
        std::fs::write(&same, b"abc").unwrap();
        std::fs::write(&changed, b"abd").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let mut found = row_files::RowFiles::default();
        found.files.insert(same, (2, Some(abc.into())));
        found.files.insert(changed, (1, Some(abc.into())));
        let records = describe_row_files(&found, &crate::progress::Silent);
        assert_eq!(records.len(), 2);
        let changed = records
            .iter()
            .find(|r| r.path.ends_with("changed"))
            .unwrap();
        assert!(changed.note.as_ref().unwrap().contains("changed after"));
        assert_eq!(changed.rows, Some(1));
        let same = records.iter().find(|r| r.path.ends_with("same")).unwrap();
        assert_eq!((same.note.as_ref(), same.rows), (None, Some(2)));
    }
}
