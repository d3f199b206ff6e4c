//! Files a directory walk sets aside to be looked at for a registry hive's signature:
//! in a collection, any regular file holding a `regf` base block is a hive, whatever its
//! name or folder (`SYSTEM.hiv`, `zoe_NTUSER.DAT`, `hives/1.bin`). Looking costs an open
//! and a 4 KiB read, so only files of a plausible hive size are set aside, and at most
//! [`MAX_SUSPECTS`] of them per walk; the rest are counted so the scan can say so.
//!
//! A primary hive file is a 4 KiB base block followed by hive bins, each a multiple of
//! 4 KiB: its size is a multiple of 4096 and at least 8192 (a base block and one bin).

use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::{Scope, ScopedJoinHandle};

/// The smallest hive that can hold a key: the base block and one hive bin.
pub const MIN_HIVE_BYTES: u64 = 8192;
/// Hive files grow by whole 4 KiB pages.
pub const HIVE_ALIGN: u64 = 4096;
/// Most files of one walk opened to look for a hive signature.
pub const MAX_SUSPECTS: usize = 20_000;

/// Inside a Windows volume root, the folder where hives are looked for by content too
/// (with its sub-folders: `RegBack`, copies such as `SYSTEM.bak`); elsewhere in a volume
/// hives are found by their standard names.
const HIVE_FOLDER: [&str; 3] = ["windows", "system32", "config"];

/// Are these the three folder names below a volume root (in order, any case) that lead
/// to [`HIVE_FOLDER`]?
pub fn is_hive_folder<S: AsRef<str>>(below_root: &[S]) -> bool {
    below_root.len() == HIVE_FOLDER.len()
        && below_root
            .iter()
            .zip(HIVE_FOLDER)
            .all(|(name, want)| crate::catalog::fold_case(name.as_ref()) == want)
}

/// Could a file of `len` bytes be a primary hive file?
pub fn plausible_hive_size(len: u64) -> bool {
    len >= MIN_HIVE_BYTES && len.is_multiple_of(HIVE_ALIGN)
}

/// The files of one directory walk that no catalog rule matched and that could be hives.
#[derive(Debug, Default)]
pub struct HiveSuspects {
    /// The walk's root (canonical), that the paths lie under.
    pub root: PathBuf,
    /// Paths as the walk met them (links never followed).
    pub paths: Vec<PathBuf>,
    /// Files of a plausible size past [`MAX_SUSPECTS`], not set aside.
    pub over_cap: u64,
}

/// Sets files aside as a walk meets them. The stat that gives a file's size is most of
/// the cost (a walk alone reads only folders), so it runs on other threads while the walk
/// goes on: the walk hands over batches of paths through a bounded channel (a walk that
/// outruns the stats waits). Which files are kept past the cap does not depend on the
/// threads: the first [`MAX_SUSPECTS`] in walk order.
pub struct Collector<'scope> {
    sender: Option<SyncSender<(u64, Vec<PathBuf>)>>,
    workers: Vec<ScopedJoinHandle<'scope, Kept>>,
    batch: Vec<PathBuf>,
    batches: u64,
    /// Where the stats run when no thread could be started.
    inline: Kept,
}

/// Files of a plausible size, keyed by their place in the walk (batch, index); at most
/// [`MAX_SUSPECTS`] of the first, the others counted.
#[derive(Default)]
struct Kept {
    heap: BinaryHeap<((u64, usize), PathBuf)>,
    dropped: u64,
}

impl Kept {
    fn stat_all(&mut self, batch: u64, paths: Vec<PathBuf>) {
        for (index, path) in paths.into_iter().enumerate() {
            // Links are not followed: a link is no file of the evidence.
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if !meta.is_file() || !plausible_hive_size(meta.len()) {
                continue;
            }
            self.heap.push(((batch, index), path));
            if self.heap.len() > MAX_SUSPECTS {
                self.heap.pop();
                self.dropped += 1;
            }
        }
    }
}

const BATCH: usize = 512;

impl<'scope> Collector<'scope> {
    /// Start the stat threads in `scope`.
    pub fn start<'env>(scope: &'scope Scope<'scope, 'env>) -> Collector<'scope> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let (sender, receiver) = sync_channel::<(u64, Vec<PathBuf>)>(2 * threads);
        let receiver = Arc::new(Mutex::new(receiver));
        let mut workers = Vec::with_capacity(threads);
        for n in 0..threads {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("hive-sniff-{n}"))
                .spawn_scoped(scope, move || {
                    let mut kept = Kept::default();
                    loop {
                        let next = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((batch, paths)) = next else { break };
                        kept.stat_all(batch, paths);
                    }
                    kept
                });
            if let Ok(handle) = spawned {
                workers.push(handle);
            }
        }
        Collector {
            sender: (!workers.is_empty()).then_some(sender),
            workers,
            batch: Vec::with_capacity(BATCH),
            batches: 0,
            inline: Kept::default(),
        }
    }

    /// A regular file the catalog did not match: set it aside if its size fits.
    pub fn consider(&mut self, entry: &crate::host::walk::WalkEntry) {
        if !entry.file_type().is_file() {
            return;
        }
        self.batch.push(entry.path().to_path_buf());
        if self.batch.len() == BATCH {
            self.send();
        }
    }

    fn send(&mut self) {
        let paths = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let batch = self.batches;
        self.batches += 1;
        let unsent = match &self.sender {
            Some(sender) => sender.send((batch, paths)).err().map(|e| e.0.1),
            None => Some(paths),
        };
        if let Some(paths) = unsent {
            self.inline.stat_all(batch, paths);
        }
    }

    /// Wait for the stats; the files set aside, in walk order.
    pub fn finish(mut self, root: PathBuf) -> HiveSuspects {
        if !self.batch.is_empty() {
            self.send();
        }
        drop(self.sender.take());
        let mut all = std::mem::take(&mut self.inline);
        for worker in self.workers {
            if let Ok(kept) = worker.join() {
                all.dropped += kept.dropped;
                all.heap.extend(kept.heap);
            }
        }
        let mut found = all.heap.into_sorted_vec();
        let over = found.len().saturating_sub(MAX_SUSPECTS);
        found.truncate(MAX_SUSPECTS);
        HiveSuspects {
            root,
            paths: found.into_iter().map(|(_, p)| p).collect(),
            over_cap: all.dropped + over as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert!(!plausible_hive_size(0));
        assert!(!plausible_hive_size(4096));
        assert!(plausible_hive_size(8192));
        assert!(!plausible_hive_size(8193));
        assert!(plausible_hive_size(256 * 1024 * 1024));
    }

    #[test]
    fn files_of_a_plausible_size_in_walk_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut expected = Vec::new();
        for i in 0..1500u64 {
            let path = dir.path().join(format!("f{i:04}"));
            let len = if i % 3 == 0 { 8192 } else { 8192 + i };
            std::fs::File::create(&path).unwrap().set_len(len).unwrap();
        }
        let entries: Vec<_> = crate::host::walk::HostWalk::new(dir.path())
            .skip(1)
            .map(Result::unwrap)
            .collect();
        for e in &entries {
            let len = e.metadata().unwrap().len();
            if plausible_hive_size(len) {
                expected.push(e.path().to_path_buf());
            }
        }
        let found = std::thread::scope(|scope| {
            let mut collector = Collector::start(scope);
            for e in &entries {
                collector.consider(e);
            }
            collector.finish(dir.path().to_path_buf())
        });
        assert_eq!(found.paths.len(), 500);
        assert_eq!(found.paths, expected);
        assert_eq!(found.over_cap, 0);
    }
}
