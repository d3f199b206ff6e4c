//! The scan: from the inputs to sorted rows. Each input becomes file-system views
//! (a directory, or every NTFS volume of an image); a view's walk yields candidates;
//! each candidate is routed by what it is to a reader (file facts and text, hives with
//! their logs, change-journal records); rows go to the row store, which sorts them.
//! Readers get bytes or a stream plus provenance; only this module and the views open
//! anything.

mod archive_hives;
mod candidate;
pub mod collected;
mod event_logs;
pub mod hives;
mod inputs;
mod journal;
mod loose_hives;
mod metered;
mod prefetch;
mod read;
mod route;
mod srum;

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::catalog::{Catalog, Matcher};
use crate::fs::{self, FileSystem, directory::DirectoryFs};
use crate::input::{Input, InputError, InputKind};
use crate::store::{self, SortedRows, StoreOptions};
use crate::time::zone::SourceZone;
use crate::warning::{Warning, Warnings};
use crate::{image, progress, registry};

/// What a scan produced.
#[derive(Debug)]
pub struct Report {
    /// Evidence rows in timeline order (in memory, or merged from disk as they are
    /// read: see [`store`]).
    pub rows: SortedRows,
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
    /// Event logs read, their chunks, the chunks parsed (the others named nothing an
    /// event rule looks for) and the records read in those.
    pub event_logs: usize,
    pub event_chunks: u64,
    pub event_chunks_parsed: u64,
    pub event_records: u64,
    /// SRUM databases read.
    pub srum_databases: usize,
    pub elapsed: Duration,
    /// Inputs in which nothing could be scanned (a warning says why for each).
    pub nothing_scanned: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Input(#[from] InputError),
}

/// Detect every input before any work starts, so a typo in the last input does not
/// cost a long scan of the first.
pub fn detect_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, ScanError> {
    detect_inputs_with_password(paths, None)
}

/// [`detect_inputs`], with a password for encrypted archive entries: a ZIP whose every
/// entry is encrypted is refused without one, and with a wrong one.
pub fn detect_inputs_with_password(
    paths: &[PathBuf],
    password: Option<&str>,
) -> Result<Vec<Input>, ScanError> {
    let mut inputs = Vec::with_capacity(paths.len());
    for path in paths {
        let mut input = crate::input::detect(path)?;
        if archive_format(input.kind).is_some() {
            input.password = password.map(|p| crate::input::Password(p.to_string()));
            if input.kind == InputKind::Zip {
                // The central directory is read at once: refuse what cannot be read.
                fs::archive::ArchiveFs::probe_zip(&input.path, &input.label, password)
                    .map_err(|e| InputError::Archive(e.to_string()))?;
            }
        } else if input.kind == InputKind::CollectedMft {
            collected::check_mft(&input.path).map_err(|e| InputError::Image {
                input: input.label.clone(),
                reason: e.reason(),
            })?;
        } else if !matches!(
            input.kind,
            InputKind::Directory
                | InputKind::RegistryHive
                | InputKind::EventLog
                | InputKind::EseDatabase
                | InputKind::Prefetch
        ) {
            // An image counts as opened when at least one volume in it can be read (a
            // shadow copy counts: a live file system may be damaged where a snapshot's
            // copy of the same blocks is not).
            let image = fs::volumes::open(&input.path).map_err(|e| InputError::Image {
                input: input.label.clone(),
                reason: e.to_string(),
            })?;
            let probe = Warnings::new();
            if fs::volumes::ntfs_views(image.clone(), &input.label, &probe, false).is_empty()
                && fs::volumes::ntfs_views(image, &input.label, &Warnings::new(), true).is_empty()
            {
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

/// Scan inputs already detected. Warnings go to `warnings` as they happen. Rows are
/// kept within [`StoreOptions::default`]'s memory budget.
pub fn scan(
    inputs: &[Input],
    catalog: &Catalog,
    options: &AnalysisOptions,
    warnings: &Warnings,
) -> Report {
    scan_with_progress(
        inputs,
        catalog,
        options,
        &StoreOptions::default(),
        warnings,
        &progress::Silent,
    )
}

/// [`scan`], with rows stored as `store` says, telling `progress` what it is doing.
pub fn scan_with_progress(
    inputs: &[Input],
    catalog: &Catalog,
    options: &AnalysisOptions,
    store: &StoreOptions,
    warnings: &Warnings,
    progress: &dyn progress::Progress,
) -> Report {
    let mut scanner = Scanner::new(catalog, options, store, warnings, progress);
    let inputs = inputs::distinct(inputs, warnings);
    scanner.stats.inputs = inputs.len();
    // With several images, each is opened first and its volumes that keep shadow-copy
    // stores noted: a volume of one may keep its stores on a disk of another.
    let mut opened: Vec<Option<fs::volumes::Shared>> = vec![None; inputs.len()];
    if options.shadow_copies && inputs.iter().filter(|i| i.kind.is_image()).count() > 1 {
        for (slot, input) in opened.iter_mut().zip(&inputs) {
            if !input.kind.is_image() {
                continue;
            }
            // One that does not open is said so when its turn comes.
            if let Ok(image) = fs::volumes::open(&input.path) {
                scanner
                    .store_volumes
                    .extend(fs::volumes::store_volumes(&image));
                *slot = Some(image);
            }
        }
    }
    for (&input, image) in inputs.iter().zip(opened) {
        match input.kind {
            InputKind::Directory => {
                let view = DirectoryFs::new(&input.path, &input.label);
                let before = scanner.stats.clone();
                scanner.scan_view(&view);
                // Each `$MFT` the walk met is the metadata of a collected volume.
                for mft in view.collected_mfts() {
                    scanner.scan_collected(&mft, true);
                }
                let entries = scanner.stats.entries_seen - before.entries_seen;
                let found = (scanner.stats.candidates - before.candidates)
                    + (scanner.stats.hives - before.hives);
                if inputs::check_not_empty(input, &view, entries, found, warnings) {
                    scanner.stats.nothing_scanned.push(input.label.clone());
                }
            }
            InputKind::CollectedMft => scanner.scan_collected(&input.path, false),
            // Read once every input is in: hives given beside it name its accounts.
            InputKind::EventLog | InputKind::EseDatabase => {}
            InputKind::Prefetch => {
                let rows = prefetch::read_host_file(input, catalog, options.hash, warnings);
                scanner.stats.files_read += 1;
                scanner.rows.push_all(rows);
            }
            InputKind::RegistryHive => {
                if let Some(hive) =
                    hives::from_host_file(&input.path, &input.label, options.hash, warnings)
                {
                    scanner
                        .hive_groups
                        .entry(String::new())
                        .or_default()
                        .push(hive);
                }
            }
            kind if archive_format(kind).is_some() => {
                let format = archive_format(kind).unwrap_or(fs::archive::ArchiveFormat::Zip);
                let password = input.password.as_ref().map(|p| p.0.as_str());
                match fs::archive::ArchiveFs::open(
                    &input.path,
                    &input.label,
                    format,
                    password,
                    warnings,
                ) {
                    Ok(archive) => {
                        let before = scanner.stats.clone();
                        scanner.scan_view(&archive);
                        scanner.scan_archive_hives(&archive);
                        scanner.scan_archive_collected(&archive);
                        let found = (scanner.stats.candidates - before.candidates)
                            + (scanner.stats.hives - before.hives);
                        if inputs::check_archive_not_empty(
                            input,
                            archive.entries().len(),
                            archive.holds_volume(),
                            found,
                            warnings,
                        ) {
                            scanner.stats.nothing_scanned.push(input.label.clone());
                        }
                    }
                    Err(e) => warnings.push(&input.label, "archive", e.to_string()),
                }
            }
            _ => match image.map_or_else(|| fs::volumes::open(&input.path), Ok) {
                Ok(image) => scanner.scan_image(image, &input.label),
                Err(e) => warnings.push(&input.label, "image", format!("cannot open: {e}")),
            },
        }
    }
    let logs: Vec<&Input> = inputs
        .iter()
        .filter(|i| i.kind == InputKind::EventLog)
        .copied()
        .collect();
    // Event logs and databases given on their own: hives given beside them name their
    // accounts.
    let users = scanner
        .hive_groups
        .get("")
        .map(|group| registry::profiles_of(group))
        .unwrap_or_default();
    for input in inputs.iter().filter(|i| i.kind == InputKind::EseDatabase) {
        let rows = srum::read_host_database(input, catalog, &users, warnings);
        scanner.stats.srum_databases += 1;
        scanner.rows.push_all(rows);
    }
    if !logs.is_empty() {
        event_logs::read_host_logs(
            &logs,
            catalog,
            &users,
            options.hash,
            warnings,
            &scanner.rows,
            &scanner.events,
        );
    }
    scanner.finish()
}

/// The archive format of an input kind, if it is an archive.
fn archive_format(kind: InputKind) -> Option<fs::archive::ArchiveFormat> {
    use fs::archive::ArchiveFormat;
    match kind {
        InputKind::Zip => Some(ArchiveFormat::Zip),
        InputKind::Tar => Some(ArchiveFormat::Tar),
        InputKind::TarGz => Some(ArchiveFormat::TarGz),
        _ => None,
    }
}

/// Scan an image from any source (a disk image already open, an image in memory, a
/// reader that fails on chosen ranges in tests): every NTFS volume in it, hives inside
/// analysed, as [`scan`] does for an image file. `label` names it in `source` columns.
pub fn scan_image_source(
    source: Box<dyn image::source::ImageSource>,
    label: &str,
    catalog: &Catalog,
    options: &AnalysisOptions,
    warnings: &Warnings,
) -> Report {
    let store = StoreOptions::default();
    let mut scanner = Scanner::new(catalog, options, &store, warnings, &progress::Silent);
    scanner.stats.inputs = 1;
    let image = std::sync::Arc::new(image::cache::BlockCache::new(source));
    scanner.scan_image(image, label);
    scanner.finish()
}

/// One scan's state: rows so far, and hives waiting to be analysed per system (those of
/// one volume together: SOFTWARE's ProfileList names the users of SYSTEM's BAM
/// entries; hives given directly on the command line together).
struct Scanner<'a> {
    catalog: &'a Catalog,
    options: &'a AnalysisOptions,
    warnings: &'a Warnings,
    progress: &'a dyn progress::Progress,
    matcher: Matcher,
    started: Instant,
    stats: ScanStats,
    rows: store::RowStore,
    hive_groups: BTreeMap<String, Vec<registry::hive::HiveInput>>,
    /// The zone of each source (volume) whose SYSTEM hive states one.
    zones: BTreeMap<String, Arc<SourceZone>>,
    /// Event log totals, and events waiting for the end of the scan.
    events: std::sync::Mutex<event_logs::EventJoin>,
    /// Volumes of the images given that keep shadow-copy stores (found before the scan
    /// when more than one image is given).
    store_volumes: Vec<fs::volumes::StoreVolume>,
}

impl<'a> Scanner<'a> {
    fn new(
        catalog: &'a Catalog,
        options: &'a AnalysisOptions,
        store: &StoreOptions,
        warnings: &'a Warnings,
        progress: &'a dyn progress::Progress,
    ) -> Self {
        Scanner {
            catalog,
            options,
            warnings,
            progress,
            matcher: Matcher::new(catalog),
            started: Instant::now(),
            stats: ScanStats::default(),
            rows: store::RowStore::new(store.clone(), warnings),
            hive_groups: BTreeMap::new(),
            zones: BTreeMap::new(),
            events: Default::default(),
            store_volumes: Vec::new(),
        }
    }

    fn scan_image(&mut self, image: fs::volumes::Shared, label: &str) {
        let views = fs::volumes::ntfs_views_with(
            image,
            label,
            self.warnings,
            self.options.shadow_copies,
            &self.store_volumes,
        );
        for view in views {
            self.scan_view(view.as_ref());
        }
    }

    /// Walk one file-system view, read what matched, keep its hives for later.
    fn scan_view(&mut self, view: &dyn FileSystem) {
        let (catalog, options, warnings, progress) =
            (self.catalog, self.options, self.warnings, self.progress);
        progress.stage(&format!("walking {}", view.source()), None);
        // A snapshot read with warnings may lack rows for that reason: the verdict must
        // not take their absence for NetSession's.
        let warned_before = view
            .snapshot_of()
            .map(|_| warnings.count_for(view.source()));
        let store = &self.rows;
        let mut walk = view.walk(&self.matcher, warnings, &mut |hits| {
            store.push_all(journal::journal_rows(view, &hits, catalog));
        });
        self.stats.entries_seen += walk.entries_seen;
        self.stats.candidates += walk.candidates.len();
        if !walk.hive_suspects.paths.is_empty() || walk.hive_suspects.over_cap > 0 {
            progress.stage(&format!("looking for hives in {}", view.source()), None);
            let suspects = std::mem::take(&mut walk.hive_suspects);
            self.stats.hives += loose_hives::analyse(
                suspects,
                view.source(),
                catalog,
                options.hash,
                warnings,
                &self.rows,
            );
        }
        let (hive_files, others): (Vec<_>, Vec<_>) = walk
            .candidates
            .into_iter()
            .partition(|c| route::route(catalog, c) == route::Route::Hive);
        let (log_files, others): (Vec<_>, Vec<_>) = others
            .into_iter()
            .partition(|c| route::route(catalog, c) == route::Route::EventLog);
        let (databases, others): (Vec<_>, Vec<_>) = others
            .into_iter()
            .partition(|c| route::route(catalog, c) == route::Route::Srum);
        let databases: Vec<_> = databases
            .into_iter()
            .filter(|c| c.kind == fs::EntryKind::File)
            .collect();
        let log_files: Vec<_> = log_files
            .into_iter()
            .filter(|c| c.kind == fs::EntryKind::File)
            .collect();
        self.stats.files_read += others
            .iter()
            .filter(|c| c.kind == fs::EntryKind::File && c.handle != fs::EntryHandle::NameOnly)
            .count();
        // Hives first: a volume's SYSTEM hive states the zone of its local times.
        let mut sources = std::collections::BTreeSet::new();
        for candidate in hive_files.iter().filter(|c| c.kind == fs::EntryKind::File) {
            if let Some(hive) = hives::from_view(view, candidate, options.hash, warnings) {
                let source = view.candidate_source(candidate);
                sources.insert(source.clone());
                self.hive_groups.entry(source).or_default().push(hive);
            }
        }
        for source in sources {
            let zone =
                registry::time_zone::zone_of(&self.hive_groups[&source], warnings).map(|zone| {
                    match &options.source_tz {
                        Some(given) => zone.with_note(&format!(
                            "not --source-tz {}: the volume's own SYSTEM hive states its zone",
                            given.name()
                        )),
                        None => zone,
                    }
                });
            if let Some(zone) = zone {
                self.zones.insert(source, Arc::new(zone));
            }
        }
        // Counted in bytes: one big file would hold a count of files still for long.
        let size = |c: &fs::Candidate| match c.kind {
            fs::EntryKind::File => c.size.unwrap_or(0),
            _ => 0,
        };
        progress.stage_bytes(
            &format!("reading what matched in {}", view.source()),
            Some(others.iter().map(size).sum()),
        );
        let store = &self.rows;
        let zones = &self.zones;
        let given = options.source_tz.clone().map(Arc::new);
        // Largest first, each taken by whichever core is free (not split in halves up
        // front): the last file to finish is then a small one, and both cores stay busy.
        let mut largest_first: Vec<&fs::Candidate> = others.iter().collect();
        largest_first.sort_by_key(|c| std::cmp::Reverse(size(c)));
        largest_first.into_iter().par_bridge().for_each(|c| {
            let mut batch = store.batch();
            let zone = zones.get(&view.candidate_source(c)).or(given.as_ref());
            let meter = metered::FileMeter::new(progress, size(c));
            let metered_view = metered::Metered {
                view,
                meter: &meter,
            };
            candidate::analyze(
                &metered_view,
                c,
                catalog,
                options,
                zone,
                warnings,
                &mut batch,
            );
            meter.finish();
        });
        if !databases.is_empty() {
            progress.stage(&format!("reading SRUM in {}", view.source()), None);
            let users = self.users_of(view, &databases);
            let rows = srum::read_databases(view, &databases, catalog, &users, warnings);
            self.stats.srum_databases += databases.len();
            self.rows.push_all(rows);
        }
        if !log_files.is_empty() {
            progress.stage(
                &format!("reading event logs in {}", view.source()),
                Some(log_files.len() as u64),
            );
            let users = self.users_of(view, &log_files);
            event_logs::read_logs(
                view,
                &log_files,
                catalog,
                &users,
                options.hash,
                warnings,
                &self.rows,
                &self.events,
            );
        }
        if let (Some(live), Some(before)) = (view.snapshot_of(), warned_before) {
            let warned = warnings.count_for(view.source()).saturating_sub(before);
            self.rows.register_snapshot(view.source(), live, warned);
        }
    }

    /// The accounts of the system `candidates` belong to: ProfileList of the SOFTWARE hive
    /// of the same volume, where it was gathered.
    fn users_of(
        &self,
        view: &dyn FileSystem,
        candidates: &[fs::Candidate],
    ) -> Vec<(String, String)> {
        candidates
            .first()
            .and_then(|c| self.hive_groups.get(&view.candidate_source(c)))
            .map(|group| registry::profiles_of(group))
            .unwrap_or_default()
    }

    /// Analyse the hives, sort the rows.
    fn finish(mut self) -> Report {
        let groups: Vec<Vec<registry::hive::HiveInput>> = std::mem::take(&mut self.hive_groups)
            .into_values()
            .collect();
        let named: usize = groups.iter().map(Vec::len).sum();
        self.stats.hives += named;
        self.progress
            .stage("analysing registry hives", Some(named as u64));
        let (catalog, warnings, progress) = (self.catalog, self.warnings, self.progress);
        let store = &self.rows;
        let events = &self.events;
        groups.par_iter().for_each(|group| {
            let rows = registry::analyze_hives(group, catalog, warnings);
            events
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .learn_from_registry(catalog, &rows);
            store.push_all(rows);
            progress.advance(group.len() as u64);
        });
        let events = std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()));
        let totals = events.totals();
        self.stats.event_logs = totals.logs;
        self.stats.event_chunks = totals.chunks;
        self.stats.event_chunks_parsed = totals.chunks_parsed;
        self.stats.event_records = totals.records;
        self.rows.push_all(events.resolve(catalog, warnings));
        let rows = self.rows.finish();
        self.stats.elapsed = self.started.elapsed();
        Report {
            rows,
            warnings: warnings.snapshot(),
            stats: self.stats,
        }
    }
}

/// Options that change what analysis reads.
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    pub hash: bool,
    /// Most bytes of one file read for its text content.
    pub text_cap: usize,
    /// The zone of local times (texts without a zone, DOS times in archives, local
    /// report headers) in sources whose own SYSTEM hive states none (`--source-tz`).
    pub source_tz: Option<SourceZone>,
    /// Scan the Volume Shadow Copies of NTFS volumes too (`--no-vss` turns it off).
    pub shadow_copies: bool,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            hash: true,
            text_cap: 64 * 1024 * 1024,
            source_tz: None,
            shadow_copies: true,
        }
    }
}
