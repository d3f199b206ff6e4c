//! Where evidence rows wait to be sorted, in bounded memory.
//!
//! Rows arrive from the scanners in any order and leave in timeline order. A log with a
//! million timestamped lines gives a million rows, so rows cannot all stay in memory:
//! once the rows held pass a budget, they are sorted and written to a temporary file (a
//! run), and reading them back merges the runs (an external merge sort). The budget is
//! two halves: while one half is sorted and written by the producer that filled it,
//! the others go on filling the other half (and wait only if it fills first). Memory is
//! the budget plus a batch per producer and one read buffer per run, whatever the
//! evidence holds. The
//! temporary folder is created only when a run is first written, in the system's
//! temporary folder or where `--temp-dir` says, and removed when the rows are dropped.
//!
//! If a run cannot be written (full disk, no temporary folder), the store says so in a
//! warning and keeps the rows in memory: losing findings would be worse than using
//! memory.

mod codec;
mod interned;
mod runs;
mod snapshots;

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};

use rayon::slice::ParallelSliceMut;

use crate::evidence::{EvidenceRow, RowCounts, RowSink};
use crate::warning::Warnings;
use runs::{Entry, Memory, Release, Run};
use snapshots::{Dedupe, LiveOf};

/// Above this many runs, the runs are merged into one: a merge keeps one open file and
/// one read buffer per run.
const MAX_RUNS: usize = 64;

/// Rows handed over by one [`Batch`] at a time: few lock round trips, little held back.
const BATCH_ROWS: usize = 1024;
/// Encoded bytes a [`Batch`] holds at most before handing them over.
const BATCH_BYTES: usize = 1024 * 1024;

/// How much memory rows may take before they go to disk, and where.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Bytes of encoded rows (and their index) held in memory before a sorted run is
    /// written.
    pub memory_budget: usize,
    /// Folder for the runs; `None` = the system's temporary folder.
    pub temp_dir: Option<PathBuf>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            memory_budget: 64 * 1024 * 1024,
            temp_dir: None,
        }
    }
}

/// Rows of a scan on their way to being sorted. Shared by the threads that produce them.
///
/// Rows are held encoded (see [`codec`]): one arena of bytes and an index entry per row,
/// not nine strings each. A producer encodes its rows in its [`Batch`] without the lock;
/// sorting moves index entries, not rows; a run is the arena's bytes in sorted order.
pub struct RowStore {
    options: StoreOptions,
    warnings: Warnings,
    state: Mutex<State>,
    /// Signalled when a run has been written (`State::spilling` is over).
    spilled: Condvar,
}

#[derive(Default)]
struct State {
    /// Encoded row bodies, one after another.
    arena: Vec<u8>,
    /// One entry per row of `arena`.
    entries: Vec<Entry>,
    /// The buffers of the last run written, emptied, for the next rows.
    spare: (Vec<u8>, Vec<Entry>),
    /// A producer is sorting and writing the other half of the budget's rows.
    spilling: bool,
    counts: RowCounts,
    dir: Option<tempfile::TempDir>,
    runs: Vec<Run>,
    next_run: u64,
    /// A run could not be written: rows stay in memory from then on.
    spilling_failed: bool,
    /// Sources that are snapshots of a live source: their rows equal to the live
    /// source's are not reported ([`snapshots`]).
    live_of: LiveOf,
    /// Warnings naming each snapshot while it was read.
    warned: HashMap<String, usize>,
}

impl State {
    fn held(&self) -> usize {
        self.arena.len() + self.entries.len() * std::mem::size_of::<Entry>()
    }

    /// Appends rows (`entries` point into `arena`).
    fn append(&mut self, arena: &[u8], entries: &[Entry]) {
        let base = self.arena.len();
        self.arena.extend_from_slice(arena);
        self.entries.extend(entries.iter().map(|e| Entry {
            at: e.at + base,
            ..*e
        }));
    }
}

/// Sorts `entries` (of `arena`); `on_pool` uses the thread pool. Unstable is in place,
/// and rows equal in every column are indistinguishable.
fn sort_entries(arena: &[u8], entries: &mut [Entry], on_pool: bool) {
    let order =
        |a: &Entry, b: &Entry| codec::compare((a.time, a.body(arena)), (b.time, b.body(arena)));
    if on_pool {
        entries.par_sort_unstable_by(order);
    } else {
        entries.sort_unstable_by(order);
    }
}

impl RowStore {
    /// Warnings about the temporary files go to `warnings`.
    pub fn new(options: StoreOptions, warnings: &Warnings) -> Self {
        RowStore {
            options,
            warnings: warnings.clone(),
            state: Mutex::new(State::default()),
            spilled: Condvar::new(),
        }
    }

    /// A batch that hands its rows over every [`BATCH_ROWS`] rows and when dropped.
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            store: self,
            arena: Vec::new(),
            entries: Vec::new(),
            counts: RowCounts::default(),
        }
    }

    /// Takes rows in any order.
    pub fn push_all(&self, rows: Vec<EvidenceRow>) {
        let mut batch = self.batch();
        for row in rows {
            batch.push(row);
        }
    }

    /// Takes a batch's encoded rows.
    fn take(&self, batch: &mut Batch<'_>) {
        if batch.entries.is_empty() {
            return;
        }
        let half = self.options.memory_budget / 2;
        let mut state = self.lock();
        // Back-pressure: the other half is being written and this one is full.
        while state.spilling && state.held() > half {
            state = self.spilled.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.append(&batch.arena, &batch.entries);
        state.counts.merge(std::mem::take(&mut batch.counts));
        batch.arena.clear();
        batch.entries.clear();
        if state.held() > half && !state.spilling && !state.spilling_failed {
            self.spill(state);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sorts the rows held in memory and writes them as a run, without the lock: the
    /// other producers fill the spare buffers meanwhile.
    fn spill(&self, mut state: MutexGuard<'_, State>) {
        let spare = std::mem::take(&mut state.spare);
        let arena = std::mem::replace(&mut state.arena, spare.0);
        let mut entries = std::mem::replace(&mut state.entries, spare.1);
        state.spilling = true;
        let path = self.next_run_path(&mut state);
        drop(state);
        // Not on the thread pool: waiting for the sort's tasks, this pool worker may
        // run another producer's task, which may wait for this very run.
        let written = path.and_then(|path| {
            sort_entries(&arena, &mut entries, false);
            runs::write_run(
                &path,
                Memory {
                    arena: &arena,
                    entries: &entries,
                },
            )
        });
        let mut state = self.lock();
        state.spilling = false;
        self.spilled.notify_all();
        match written {
            Ok(run) => {
                state.runs.push(run);
                // The buffers are kept: the next rows fill them again.
                let (mut arena, mut entries) = (arena, entries);
                arena.clear();
                entries.clear();
                state.spare = (arena, entries);
            }
            Err(e) => {
                // Keeping every row: they go back with the others.
                state.append(&arena, &entries);
                state.spilling_failed = true;
                self.warnings.push(
                    "evidence rows",
                    self.temp_root().display().to_string(),
                    format!(
                        "cannot write sorted rows to a temporary file ({e}); keeping every row in memory instead"
                    ),
                );
                return;
            }
        }
        if state.runs.len() >= MAX_RUNS
            && let Err(e) = self.compact(&mut state)
        {
            // The runs are intact; only the merge costs more open files.
            self.warnings.push(
                "evidence rows",
                self.temp_root().display().to_string(),
                format!("cannot merge the temporary runs ({e}); keeping them as they are"),
            );
        }
    }

    fn temp_root(&self) -> PathBuf {
        self.options
            .temp_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
    }

    /// A new run's file name; the temporary folder is made with the first.
    fn next_run_path(&self, state: &mut State) -> io::Result<PathBuf> {
        let dir = match &state.dir {
            Some(dir) => dir.path().to_path_buf(),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("netsession-scan-rows-")
                    .tempdir_in(self.temp_root())?;
                // Removed by an interruption's handler too (rows of evidence).
                crate::cleanup::register(dir.path());
                state.dir.insert(dir).path().to_path_buf()
            }
        };
        state.next_run += 1;
        Ok(dir.join(format!("run-{:06}.rows", state.next_run)))
    }

    /// Merges every run into one.
    fn compact(&self, state: &mut State) -> io::Result<()> {
        let path = self.next_run_path(state)?;
        let mut writer = runs::RunWriter::create(&path)?;
        let none = Memory {
            arena: &[],
            entries: &[],
        };
        runs::merge(none, &state.runs, Release::AsRead, &mut |body| {
            writer.push(body)
        })?;
        let merged = writer.finish()?;
        for old in std::mem::replace(&mut state.runs, vec![merged]) {
            // A leftover file goes with the temporary folder at the end anyway.
            let _ = std::fs::remove_file(&old.path);
        }
        Ok(())
    }

    /// Rows with source `snapshot` (a shadow copy of the volume named `live`) that
    /// equal a row of `live` in every other column are not reported.
    /// `snapshot` is a shadow copy of `live`, read with `warned` warnings naming it.
    pub fn register_snapshot(&self, snapshot: &str, live: &str, warned: usize) {
        let mut state = self.lock();
        state.live_of.insert(snapshot.to_string(), live.to_string());
        state.warned.insert(snapshot.to_string(), warned);
    }

    /// Every row, ready to be read in timeline order.
    pub fn finish(self) -> SortedRows {
        let mut state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        sort_entries(&state.arena, &mut state.entries, true);
        let mut rows = SortedRows {
            arena: state.arena,
            entries: state.entries,
            runs: state.runs,
            released: false,
            counts: state.counts,
            live_of: state.live_of,
            warned: state.warned,
            repeated: Default::default(),
            _dir: state.dir,
        };
        if !rows.live_of.is_empty() {
            // The counts are of the rows reported: one pass to count them again (a
            // damaged run fails here and again, with its error, when read).
            let mut counts = RowCounts::default();
            if let Ok(repeated) = rows.merge(Release::Keep, |row| {
                counts.add(row);
                Ok(())
            }) {
                rows.counts = counts;
                rows.repeated = repeated;
            }
        }
        rows
    }
}

/// Collects rows for a [`RowStore`] from one producer, encoded as they come.
pub struct Batch<'s> {
    store: &'s RowStore,
    arena: Vec<u8>,
    entries: Vec<Entry>,
    counts: RowCounts,
}

impl Batch<'_> {
    pub fn flush(&mut self) {
        self.store.take(self);
    }
}

impl RowSink for Batch<'_> {
    fn push(&mut self, row: EvidenceRow) {
        self.counts.add(&row);
        let at = self.arena.len();
        codec::encode_body(&row, &mut self.arena);
        self.entries.push(Entry {
            time: codec::time_key(row.datetime),
            at,
            len: (self.arena.len() - at) as u32,
        });
        if self.entries.len() >= BATCH_ROWS || self.arena.len() >= BATCH_BYTES {
            self.flush();
        }
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The rows of a scan in timeline order: in memory, or merged from runs on disk as they
/// are read. May be read any number of times, until [`SortedRows::visit_last`].
/// A shadow copy the scan read ([`SortedRows::snapshots`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRead {
    /// Its `source` (`<volume> vss<N>@<time>`).
    pub source: String,
    /// The live volume's `source`.
    pub live: String,
    /// Its rows left out as equal to the live volume's.
    pub repeated: u64,
    /// Warnings naming it while it was read (damage: rows may be missing).
    pub warnings: usize,
}

#[derive(Debug)]
pub struct SortedRows {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    runs: Vec<Run>,
    /// `visit_last` gave the runs' space back: they cannot be read again.
    released: bool,
    counts: RowCounts,
    live_of: LiveOf,
    warned: HashMap<String, usize>,
    /// Rows of each snapshot left out as equal to the live volume's (counted when the
    /// rows are finished).
    repeated: snapshots::Repeated,
    /// Removes the runs when the rows are dropped.
    _dir: Option<tempfile::TempDir>,
}

impl SortedRows {
    pub fn len(&self) -> u64 {
        self.counts.total
    }

    pub fn is_empty(&self) -> bool {
        self.counts.total == 0
    }

    pub fn counts(&self) -> &RowCounts {
        &self.counts
    }

    /// How many sorted runs were written to disk (0 = every row stayed in memory).
    pub fn runs_on_disk(&self) -> usize {
        self.runs.len()
    }

    /// Hands every row to `visit` in timeline order; stops at the first error (of
    /// `visit`, or reading a run back). The row handed over is reused for the next.
    /// Rows of a snapshot that repeat its live volume's are left out.
    pub fn visit(&self, visit: impl FnMut(&EvidenceRow) -> io::Result<()>) -> io::Result<()> {
        self.merge(Release::Keep, visit).map(drop)
    }

    /// Every shadow copy scanned, with how many of its rows are left out as equal to
    /// the live volume's and the warnings met reading it: a snapshot with no row of its
    /// own was still read, and says what it holds by having none (when read whole).
    pub fn snapshots(&self) -> Vec<SnapshotRead> {
        let mut out: Vec<SnapshotRead> = self
            .live_of
            .iter()
            .map(|(snapshot, live)| SnapshotRead {
                source: snapshot.clone(),
                live: live.clone(),
                repeated: self.repeated.get(snapshot).copied().unwrap_or(0),
                warnings: self.warned.get(snapshot).copied().unwrap_or(0),
            })
            .collect();
        out.sort_by(|a, b| a.source.cmp(&b.source));
        out
    }

    /// As [`SortedRows::visit`], for the last reading: the temporary runs give their
    /// space back as they are read (the page cache that held them serves the outputs
    /// being written), so any later `visit` fails, saying so.
    pub fn visit_last(
        &mut self,
        visit: impl FnMut(&EvidenceRow) -> io::Result<()>,
    ) -> io::Result<()> {
        let merged = self.merge(Release::AsRead, visit);
        self.released = !self.runs.is_empty();
        merged.map(drop)
    }

    fn merge(
        &self,
        release: Release,
        mut visit: impl FnMut(&EvidenceRow) -> io::Result<()>,
    ) -> io::Result<snapshots::Repeated> {
        if self.released {
            return Err(io::Error::other(
                "the sorted rows were read for the last time already (their temporary runs are gone)",
            ));
        }
        let mut row = codec::empty_row();
        let memory = Memory {
            arena: &self.arena,
            entries: &self.entries,
        };
        let mut dedupe = Dedupe::new(&self.live_of);
        runs::merge(memory, &self.runs, release, &mut |body| {
            codec::decode_into(body, &mut row)?;
            if dedupe.keep(&row) {
                visit(&row)
            } else {
                Ok(())
            }
        })?;
        Ok(dedupe.repeated)
    }

    /// Every row in a vector: for callers that know the rows are few (tests).
    pub fn to_vec(&self) -> io::Result<Vec<EvidenceRow>> {
        let mut rows = Vec::with_capacity(usize::try_from(self.len()).unwrap_or(0));
        self.visit(|row| {
            rows.push(row.clone());
            Ok(())
        })?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::RecordState;
    use crate::time::{Precision, Timestamp};

    fn row(i: u64) -> EvidenceRow {
        // A scrambled order with ties and untimed rows.
        let secs = (i * 7919) % 1000;
        EvidenceRow {
            datetime: (!i.is_multiple_of(11))
                .then(|| Timestamp::from_unix(1_000_000_000 + secs as i64, 0, Precision::Seconds))
                .flatten(),
            timestamp_desc: "Log Entry".into(),
            message: format!("Line {i}"),
            artifact: if i.is_multiple_of(5) { "a" } else { "b" }.into(),
            user: String::new(),
            path: format!("p{}", i % 3),
            value: "x".repeat((i % 50) as usize),
            size: None,
            sha256: String::new(),
            state: RecordState::Allocated,
            source: format!("s{}", i % 2),
            locator: format!("line={i}"),
        }
    }

    fn sorted(n: u64) -> Vec<EvidenceRow> {
        let mut rows: Vec<EvidenceRow> = (0..n).map(row).collect();
        rows.sort_by(EvidenceRow::timeline_cmp);
        rows
    }

    fn store_with(n: u64, budget: usize, dir: &std::path::Path) -> (SortedRows, Warnings) {
        let warnings = Warnings::new();
        let store = RowStore::new(
            StoreOptions {
                memory_budget: budget,
                temp_dir: Some(dir.to_path_buf()),
            },
            &warnings,
        );
        // Two producers at once, as in a scan: one through a batch, one in small pushes
        // (with a small budget, a run each).
        std::thread::scope(|scope| {
            let store = &store;
            scope.spawn(move || {
                let mut batch = store.batch();
                for i in (0..n).filter(|i| i % 2 == 0) {
                    batch.push(row(i));
                }
            });
            scope.spawn(move || {
                let odd: Vec<u64> = (0..n).filter(|i| i % 2 == 1).collect();
                for part in odd.chunks(50) {
                    store.push_all(part.iter().map(|&i| row(i)).collect());
                }
            });
        });
        (store.finish(), warnings)
    }

    #[test]
    fn encoded_rows_compare_as_the_rows_do() {
        // Pairs with every kind of tie: same time, same path, same everything but one
        // column, untimed rows.
        let rows: Vec<EvidenceRow> = (0..300).map(|i| row(i % 150 + (i / 150) * 11)).collect();
        let bodies: Vec<Vec<u8>> = rows
            .iter()
            .map(|r| {
                let mut body = Vec::new();
                codec::encode_body(r, &mut body);
                body
            })
            .collect();
        let mut ties = 0;
        for (a, ra) in rows.iter().enumerate() {
            for (b, rb) in rows.iter().enumerate().step_by(7) {
                let encoded = codec::compare(
                    (codec::time_key(ra.datetime), &bodies[a]),
                    (codec::time_key(rb.datetime), &bodies[b]),
                );
                assert_eq!(encoded, ra.timeline_cmp(rb), "rows {a} and {b}");
                ties += usize::from(ra.datetime == rb.datetime && ra.path == rb.path);
            }
        }
        assert!(ties > 100, "ties exercised: {ties}");
    }

    #[test]
    fn rows_in_memory_come_out_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let (rows, warnings) = store_with(5000, usize::MAX, dir.path());
        assert_eq!(rows.runs_on_disk(), 0);
        assert_eq!(rows.to_vec().unwrap(), sorted(5000));
        assert!(warnings.is_empty());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file");
    }

    #[test]
    fn spilled_rows_merge_back_in_order_and_the_files_go_away() {
        let dir = tempfile::tempdir().unwrap();
        // A budget of ~40 rows: hundreds of runs, merged into one every 64.
        let (rows, warnings) = store_with(20_000, 40 * 400, dir.path());
        assert!(rows.runs_on_disk() >= 1, "spilled");
        assert!(rows.runs_on_disk() <= MAX_RUNS);
        let highest = rows
            .runs
            .iter()
            .filter_map(|r| {
                r.path
                    .file_stem()?
                    .to_str()?
                    .strip_prefix("run-")?
                    .parse()
                    .ok()
            })
            .max()
            .unwrap_or(0usize);
        assert!(highest > MAX_RUNS, "runs were merged (run {highest})");
        assert!(warnings.is_empty(), "{:?}", warnings.snapshot());
        let expected = sorted(20_000);
        assert_eq!(rows.to_vec().unwrap(), expected);
        // A second read gives the same rows.
        let mut again = 0u64;
        rows.visit(|_| {
            again += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(again, 20_000);
        assert_eq!(rows.len(), 20_000);
        assert_eq!(rows.counts().per_artifact["a"], 4000);
        assert_eq!(rows.counts().sources.len(), 2);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        drop(rows);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the temporary folder goes with the rows"
        );
    }

    #[test]
    fn the_last_reading_gives_the_runs_space_back() {
        let dir = tempfile::tempdir().unwrap();
        // Runs of several megabytes each (a budget of about 30,000 rows).
        let (mut rows, _) = store_with(120_000, 30_000 * 60, dir.path());
        assert!(rows.runs_on_disk() >= 2, "spilled");
        let blocks = |rows: &SortedRows| -> u64 {
            use std::os::unix::fs::MetadataExt;
            rows.runs
                .iter()
                .map(|r| std::fs::metadata(&r.path).unwrap().blocks() * 512)
                .sum()
        };
        let before = blocks(&rows);
        let mut seen = Vec::new();
        rows.visit_last(|row| {
            seen.push(row.clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, sorted(120_000));
        let after = blocks(&rows);
        // ext4, xfs, btrfs and tmpfs punch holes; elsewhere the runs stay whole.
        println!("runs: {before} bytes on disk before the last reading, {after} after");
        if cfg!(target_os = "linux") && before > 2 * runs::RELEASE_EVERY {
            assert!(after < before / 2, "{after} of {before} bytes still held");
        }
        let err = rows.visit(|_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("read for the last time"), "{err}");
    }

    #[test]
    fn an_unwritable_temp_dir_keeps_rows_in_memory_with_a_warning() {
        let missing = std::path::Path::new("/nonexistent/netsession-scan-test");
        let (rows, warnings) = store_with(3000, 1000, missing);
        assert_eq!(rows.to_vec().unwrap(), sorted(3000));
        let list = warnings.snapshot();
        assert_eq!(list.len(), 1, "one warning, not one per batch: {list:?}");
        assert!(list[0].message.contains("keeping every row in memory"));
        assert!(list[0].location.contains("/nonexistent"));
    }

    #[test]
    fn a_damaged_run_is_an_error_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let (rows, _) = store_with(2000, 100 * 400, dir.path());
        let run = &rows.runs[0];
        let bytes = std::fs::read(&run.path).unwrap();
        std::fs::write(&run.path, &bytes[..bytes.len() / 2]).unwrap();
        let err = rows.visit(|_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("run-"), "{err}");
    }
}
