//! netsession-scan: find the traces of the Akamai NetSession Client in evidence, offline.
//!
//! The library does the work and returns rows and warnings; the binary (`src/main.rs`)
//! is a thin CLI over [`scan`]. Data flows one way (see DESIGN.md): input → file system
//! view → catalog match → evidence rows → sort → writer.

pub mod analysis;
pub mod catalog;
pub mod content;
pub mod evidence;
pub mod fs;
pub mod guard;
pub mod image;
pub mod input;
pub mod manifest;
pub mod ntfs;
pub mod output;
pub mod progress;
pub mod registry;
pub mod time;
pub mod verdict;
pub mod warning;

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use analysis::AnalysisOptions;
pub use catalog::Catalog;
pub use evidence::EvidenceRow;
pub use warning::{Warning, Warnings};

use catalog::Matcher;
use fs::FileSystem;
use fs::directory::DirectoryFs;
use input::{Input, InputError, InputKind};

/// What a scan produced.
#[derive(Debug)]
pub struct Report {
    /// Evidence rows in timeline order.
    pub rows: Vec<EvidenceRow>,
    pub warnings: Vec<Warning>,
    pub stats: ScanStats,
}

#[derive(Debug, Default, Clone)]
pub struct ScanStats {
    pub inputs: usize,
    pub entries_seen: u64,
    pub candidates: usize,
    pub files_read: usize,
    pub hives: usize,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Input(#[from] InputError),
}

/// Detect every input before any work starts, so a typo in the last input does not
/// cost a long scan of the first.
pub fn detect_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, ScanError> {
    let mut inputs = Vec::with_capacity(paths.len());
    for path in paths {
        let input = input::detect(path)?;
        if !matches!(input.kind, InputKind::Directory | InputKind::RegistryHive) {
            // An image counts as opened when at least one volume in it can be read.
            let image = image::volumes::open(&input.path).map_err(|e| InputError::Image {
                input: input.label.clone(),
                reason: e.to_string(),
            })?;
            let probe = Warnings::new();
            if image::volumes::ntfs_views(image, &input.label, &probe).is_empty() {
                let why: Vec<String> = probe
                    .snapshot()
                    .into_iter()
                    .map(|w| format!("{}: {}", w.location, w.message))
                    .collect();
                return Err(InputError::Image {
                    input: input.label,
                    reason: format!("no readable NTFS volume ({})", why.join("; ")),
                }
                .into());
            }
        }
        inputs.push(input);
    }
    Ok(inputs)
}

/// Scan inputs already detected. Warnings go to `warnings` as they happen.
pub fn scan(
    inputs: &[Input],
    catalog: &Catalog,
    options: &AnalysisOptions,
    warnings: &Warnings,
) -> Report {
    scan_with_progress(inputs, catalog, options, warnings, &progress::Silent)
}

/// [`scan`], telling `progress` what it is doing.
pub fn scan_with_progress(
    inputs: &[Input],
    catalog: &Catalog,
    options: &AnalysisOptions,
    warnings: &Warnings,
    progress: &dyn progress::Progress,
) -> Report {
    let started = Instant::now();
    let matcher = Matcher::new(catalog);
    let mut stats = ScanStats {
        inputs: inputs.len(),
        ..ScanStats::default()
    };
    let mut rows = Vec::new();
    // Hives are analysed per system: those of one volume together (SOFTWARE's
    // ProfileList names the users of SYSTEM's BAM entries), and hives given directly on
    // the command line together.
    let mut hive_groups: BTreeMap<String, Vec<registry::hive::HiveInput>> = BTreeMap::new();
    for input in inputs {
        let views: Vec<Box<dyn FileSystem>> = match input.kind {
            InputKind::Directory => vec![Box::new(DirectoryFs::new(&input.path, &input.label))],
            InputKind::RegistryHive => {
                if let Some(hive) = registry::source::from_host_file(
                    &input.path,
                    &input.label,
                    options.hash,
                    warnings,
                ) {
                    hive_groups.entry(String::new()).or_default().push(hive);
                }
                continue;
            }
            _ => match image::volumes::open(&input.path) {
                Ok(image) => image::volumes::ntfs_views(image, &input.label, warnings),
                Err(e) => {
                    warnings.push(&input.label, "image", format!("cannot open: {e}"));
                    continue;
                }
            },
        };
        for view in views {
            progress.stage(&format!("walking {}", view.source()), None);
            let walk = view.walk(&matcher, warnings);
            rows.extend(analysis::journal_rows(
                view.as_ref(),
                &walk.journal,
                catalog,
            ));
            stats.entries_seen += walk.entries_seen;
            stats.candidates += walk.candidates.len();
            let (hive_files, others): (Vec<_>, Vec<_>) = walk
                .candidates
                .into_iter()
                .partition(|c| is_hive_candidate(catalog, c));
            stats.files_read += others
                .iter()
                .filter(|c| c.kind == fs::EntryKind::File)
                .count();
            let view = view.as_ref();
            progress.stage(
                &format!("reading what matched in {}", view.source()),
                Some(others.len() as u64),
            );
            let found: Vec<Vec<EvidenceRow>> = others
                .par_iter()
                .map(|c| {
                    let rows = analysis::analyze(view, c, catalog, options, warnings);
                    progress.advance(1);
                    rows
                })
                .collect();
            rows.extend(found.into_iter().flatten());
            for candidate in hive_files.iter().filter(|c| c.kind == fs::EntryKind::File) {
                if let Some(hive) =
                    registry::source::from_view(view, candidate, options.hash, warnings)
                {
                    hive_groups
                        .entry(view.candidate_source(candidate))
                        .or_default()
                        .push(hive);
                }
            }
        }
    }
    let groups: Vec<Vec<registry::hive::HiveInput>> = hive_groups.into_values().collect();
    stats.hives = groups.iter().map(Vec::len).sum();
    progress.stage("analysing registry hives", Some(stats.hives as u64));
    let found: Vec<Vec<EvidenceRow>> = groups
        .par_iter()
        .map(|group| {
            let rows = registry::analyze_hives(group, catalog, warnings);
            progress.advance(group.len() as u64);
            rows
        })
        .collect();
    rows.extend(found.into_iter().flatten());
    evidence::sort_rows(&mut rows);
    stats.elapsed = started.elapsed();
    Report {
        rows,
        warnings: warnings.snapshot(),
        stats,
    }
}

/// Hives matched by a catalog rule go to the registry analysis, not the file inventory.
fn is_hive_candidate(catalog: &Catalog, candidate: &fs::Candidate) -> bool {
    catalog.files[candidate.found.rule].content == Some(catalog::ContentKind::Hive)
}
