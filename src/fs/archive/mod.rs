//! An archive as a file system view: a ZIP, a tar or a tar.gz read in place, never
//! unpacked. Its entries are listed once (a ZIP's central directory, a tar's headers),
//! laid out as a tree (folders a member implies exist even when the archive does not list
//! them), and walked like a directory: the catalog's `Matcher` sees every name, volume
//! roots are found as for directories ([`layout`] adds Velociraptor's device folders).
//! Rows name the archive in `source` and the entry as stored in `locator`
//! (`entry=uploads/auto/C%3A/Users/...`).
//!
//! Entry data is opened through a [`Backend`] as a fresh sequential stream each time,
//! so a candidate can be handed on as a re-openable stream (a collected `$MFT` later).

mod central;
pub mod collected;
pub mod hive_search;
pub mod layout;
mod positional;
mod tar;
mod tree;
mod zip;
mod zip_entry;

pub use zip::DOS_ATTRIBUTE;

use rustc_hash::FxHashSet;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::directory::VOLUME_MARKERS;
use super::{Candidate, EntryHandle, EntryKind, FileSystem, FileTime, FsError, JournalSink, Walk};
use crate::catalog::{DirState, Matcher, fold_case};
use crate::evidence::RecordState;
use crate::time::Timestamp;
use crate::warning::Warnings;
use layout::MetadataTimes;
use tree::Tree;

/// Which archive format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    Zip,
    Tar,
    TarGz,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{input}: cannot open: {source}")]
    Open {
        input: String,
        source: std::io::Error,
    },
    #[error("{input}: {reason}")]
    Format { input: String, reason: String },
    #[error(
        "{input}: ZIP archive whose {count} file entries are all encrypted: give the password with --password"
    )]
    Encrypted { input: String, count: usize },
    #[error(
        "{input}: ZIP archive with {count} encrypted entries: the password given does not open them ({reason})"
    )]
    WrongPassword {
        input: String,
        count: usize,
        reason: String,
    },
}

/// What times an archive's own entry carries are labelled with (UTC: tar headers, ZIP
/// extended timestamp and NTFS extra fields).
pub const ARCHIVE_ATTRIBUTE: &str = "archive entry, UTC";

fn archive_time(label: &'static str, time: Timestamp) -> FileTime {
    FileTime {
        label,
        attribute: ARCHIVE_ATTRIBUTE,
        time,
    }
}

/// One entry as the archive lists it (its path as stored is
/// [`ArchiveFs::entry_path`]).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Where the path is in the listing's text.
    path: (usize, usize),
    pub kind: EntryKind,
    pub size: u64,
    pub times: Vec<FileTime>,
    /// A ZIP entry that needs a password.
    pub encrypted: bool,
    /// `times` are the original file times from collection metadata.
    pub original_times: bool,
}

impl Entry {
    fn new(path: (usize, usize), kind: EntryKind, size: u64, times: Vec<FileTime>) -> Entry {
        Entry {
            path,
            kind,
            size,
            times,
            encrypted: false,
            original_times: false,
        }
    }
}

/// The entries in listing order, their paths (as stored: `/` separated, escaped as the
/// collector wrote them) in one text.
#[derive(Debug, Default)]
struct Listing {
    text: String,
    entries: Vec<Entry>,
}

impl Listing {
    /// Most bytes of paths a listing holds (the tree's indexes are 32-bit, and decoded
    /// names are added to the text).
    const MAX_TEXT: usize = (u32::MAX / 2) as usize;

    /// Add an entry; `None` when the listing is full.
    fn push(
        &mut self,
        path: &str,
        kind: EntryKind,
        size: u64,
        times: Vec<FileTime>,
    ) -> Option<&mut Entry> {
        if self.text.len() + path.len() > Self::MAX_TEXT || self.entries.len() >= u32::MAX as usize
        {
            return None;
        }
        let start = self.text.len();
        self.text.push_str(path);
        self.entries
            .push(Entry::new((start, self.text.len()), kind, size, times));
        self.entries.last_mut()
    }

    fn path(&self, index: usize) -> &str {
        self.entries
            .get(index)
            .map_or("?", |e| &self.text[e.path.0..e.path.1])
    }
}

/// Where entry data comes from.
trait Backend: Send + Sync {
    /// A fresh stream of the entry's content.
    fn open(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, String>;
    /// The entry's times where more is known than the listing gave (a ZIP's extra
    /// fields, read for matched entries only).
    fn entry_times(&self, _index: usize) -> Option<Vec<FileTime>> {
        None
    }
    /// The walk matched these entries and will open them (a tar.gz keeps them).
    fn prepare(&self, _wanted: &[usize], _label: &str, _warnings: &Warnings) {}
    /// Up to `limit` bytes from the start of each entry of `wanted` (in listing order; a
    /// tar.gz reads them all in one pass).
    fn heads(&self, wanted: &[usize], limit: u64) -> Vec<(usize, Result<Vec<u8>, String>)> {
        wanted
            .iter()
            .map(|&index| {
                let head = self.open(index).and_then(|reader| {
                    let mut head = Vec::new();
                    reader
                        .take(limit)
                        .read_to_end(&mut head)
                        .map_err(|e| e.to_string())?;
                    Ok(head)
                });
                (index, head)
            })
            .collect()
    }
}

pub struct ArchiveFs {
    label: String,
    format: ArchiveFormat,
    /// The entries and the tree of their names.
    tree: Tree,
    backend: Arc<dyn Backend>,
    /// Entries the last walk matched (and their logs): read as matched files.
    matched: Mutex<FxHashSet<usize>>,
}

impl ArchiveFs {
    /// List an archive's entries. `label` is the input as the examiner gave it. Damage
    /// met while listing is a warning; what was listed is kept.
    pub fn open(
        path: &Path,
        label: &str,
        format: ArchiveFormat,
        password: Option<&str>,
        warnings: &Warnings,
    ) -> Result<ArchiveFs, ArchiveError> {
        let file = crate::host::open_evidence_file(path).map_err(|source| ArchiveError::Open {
            input: label.to_string(),
            source,
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let reader = positional::PosReader::new(Arc::new(file), len);
        let mut meta = MetadataTimes::default();
        let (listing, backend): (Listing, Arc<dyn Backend>) = match format {
            ArchiveFormat::Zip => {
                let pw = password.map(str::as_bytes);
                let (listing, backend) = zip::index(reader, pw, &mut meta, label, warnings)?;
                if let Some(reason) = zip::check_password(&backend, &listing) {
                    let entries = &listing.entries;
                    let count = entries.iter().filter(|e| e.encrypted).count();
                    let files = entries.iter().filter(|e| e.kind == EntryKind::File).count();
                    if password.is_some() {
                        return Err(ArchiveError::WrongPassword {
                            input: label.to_string(),
                            count,
                            reason,
                        });
                    }
                    if count == files {
                        return Err(ArchiveError::Encrypted {
                            input: label.to_string(),
                            count,
                        });
                    }
                    warnings.push(
                        label,
                        "ZIP",
                        format!(
                            "{count} of {files} entries are encrypted and will not be read: give the password with --password"
                        ),
                    );
                }
                (listing, Arc::new(backend))
            }
            ArchiveFormat::Tar | ArchiveFormat::TarGz => {
                let gzip = format == ArchiveFormat::TarGz;
                let (listing, backend) = tar::index(reader, gzip, &mut meta, label, warnings);
                (listing, Arc::new(backend))
            }
        };
        if meta.skipped > 0 || meta.truncated {
            warnings.push(
                label,
                "collection metadata",
                format!(
                    "{} lines were no file row{}",
                    meta.skipped,
                    if meta.truncated {
                        format!("; only the first {} rows kept", layout::MAX_METADATA_ROWS)
                    } else {
                        String::new()
                    }
                ),
            );
        }
        Ok(ArchiveFs {
            label: label.to_string(),
            format,
            tree: Tree::build(listing, format == ArchiveFormat::Zip, &meta),
            backend,
            matched: Mutex::default(),
        })
    }

    /// Can the archive be read with this password? Refuses a ZIP whose every entry is
    /// encrypted when no password is given, and a wrong password; reads only the ZIP's
    /// central directory (a damaged one is left to the scan, which salvages what it can).
    pub fn probe_zip(path: &Path, label: &str, password: Option<&str>) -> Result<(), ArchiveError> {
        let file = crate::host::open_evidence_file(path).map_err(|source| ArchiveError::Open {
            input: label.to_string(),
            source,
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let reader = positional::PosReader::new(Arc::new(file), len);
        zip::probe(reader, password.map(str::as_bytes), label)
    }

    pub fn format(&self) -> ArchiveFormat {
        self.format
    }

    pub fn entries(&self) -> &[Entry] {
        self.tree.entries()
    }

    /// Entry `index`'s path as stored (`/` separated; escaped as the collector wrote it).
    pub fn entry_path(&self, index: usize) -> &str {
        self.tree.path(index)
    }

    /// A fresh stream of entry `index`'s content.
    pub fn open_entry(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, FsError> {
        self.backend
            .open(index)
            .map_err(|reason| FsError::Unreadable {
                path: format!("{} entry {}", self.label, self.entry_path(index)),
                reason,
            })
    }

    fn is_dir(&self, node: usize) -> bool {
        self.tree.is_dir(node)
    }

    /// Does any folder of the archive look like a volume root?
    pub fn holds_volume(&self) -> bool {
        (0..self.tree.node_count()).any(|n| self.is_volume_root(n))
    }

    /// A folder that is a volume root: a Velociraptor device, or one holding at least two
    /// names that mark a volume root (as for directories).
    fn is_volume_root(&self, node: usize) -> bool {
        self.tree.is_device(node)
            || self
                .tree
                .children(node)
                .filter(|&c| VOLUME_MARKERS.contains(&fold_case(self.tree.name(c)).as_ref()))
                .count()
                >= 2
    }

    /// The nodes from the root (excluded) down to `node`.
    fn chain(&self, node: usize) -> Vec<usize> {
        self.tree.chain(node)
    }

    /// The outermost volume-root folder at or above the pattern's start, else the start.
    fn volume_depth(&self, chain: &[usize], start: usize) -> usize {
        // The folder holding component k is the root (k = 0) or chain[k - 1].
        (0..=start.min(chain.len().saturating_sub(1)))
            .find(|&k| self.is_volume_root(if k == 0 { 0 } else { chain[k - 1] }))
            .unwrap_or(start)
    }

    fn candidates_of(
        &self,
        node: usize,
        found: &crate::catalog::EntryMatch,
        out: &mut Vec<Candidate>,
    ) {
        let chain = self.chain(node);
        let components: Vec<String> = chain
            .iter()
            .map(|&n| self.tree.name(n).to_string())
            .collect();
        let volume_depth = self.volume_depth(&chain, found.start_depth);
        let make = |kind: EntryKind, size, times, locator, handle| Candidate {
            components: components.clone(),
            input_depth: 0,
            volume_depth,
            kind,
            size,
            times,
            state: RecordState::Allocated,
            locator,
            handle,
            found: found.clone(),
        };
        if !self.tree.has_entries(node) {
            // A folder the archive does not list: its members imply it.
            let path = self.implied_path(node);
            out.push(make(
                EntryKind::Dir,
                None,
                Vec::new(),
                format!("entry={path}/ (implied by its members)"),
                EntryHandle::Archive { entry: usize::MAX },
            ));
            return;
        }
        for index in self.tree.entries_at(node) {
            let e = &self.tree.entries()[index];
            let kind = if e.kind == EntryKind::File && self.is_dir(node) {
                EntryKind::Dir
            } else {
                e.kind.clone()
            };
            let times = match e.original_times {
                true => e.times.clone(),
                false => self
                    .backend
                    .entry_times(index)
                    .unwrap_or_else(|| e.times.clone()),
            };
            out.push(make(
                kind.clone(),
                (kind != EntryKind::Dir).then_some(e.size),
                times,
                format!("entry={}", self.entry_path(index)),
                EntryHandle::Archive { entry: index },
            ));
        }
    }

    /// The stored path of a folder that has no entry: a member's path, cut.
    fn implied_path(&self, node: usize) -> String {
        let depth = self.chain(node).len();
        let mut n = node;
        while !self.tree.has_entries(n) {
            match self.tree.children(n).next() {
                Some(c) => n = c,
                None => break,
            }
        }
        let Some(e) = self.tree.entries_at(n).next() else {
            return String::new();
        };
        let zip = self.format == ArchiveFormat::Zip;
        self.entry_path(e)
            .split(|c| c == '/' || (zip && c == '\\'))
            .filter(|c| !c.is_empty() && *c != ".")
            .take(depth)
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl FileSystem for ArchiveFs {
    fn source(&self) -> &str {
        &self.label
    }

    /// An archive has no change journal: `_journal` is never called.
    fn walk(&self, matcher: &Matcher, warnings: &Warnings, _journal: JournalSink<'_>) -> Walk {
        let mut walk = Walk::default();
        // Depth-first, children in name order: (node, its depth, its parent's state).
        let root = Arc::new(matcher.root());
        let mut stack: Vec<(usize, usize, Arc<DirState>)> = self
            .tree
            .children(0)
            .rev()
            .map(|c| (c, 0, Arc::clone(&root)))
            .collect();
        while let Some((node, depth, parent)) = stack.pop() {
            walk.entries_seen += 1;
            let is_dir = self.is_dir(node);
            if !is_dir && !matcher.file_may_match(&parent, self.tree.name(node).as_bytes()) {
                continue;
            }
            let (found, child) = matcher.step(&parent, depth, self.tree.name(node), is_dir);
            if let Some(found) = found {
                self.candidates_of(node, &found, &mut walk.candidates);
            }
            if is_dir {
                let child = Arc::new(child);
                for c in self.tree.children(node).rev() {
                    stack.push((c, depth + 1, Arc::clone(&child)));
                }
            }
        }
        // What will be opened: the files matched, and files named after them beside them
        // (a hive's transaction logs).
        let mut wanted = Vec::new();
        for c in &walk.candidates {
            if let (EntryHandle::Archive { entry }, EntryKind::File) = (&c.handle, &c.kind) {
                wanted.push(*entry);
                let prefix = format!("{}.", fold_case(c.name()));
                for (name, handle) in self.siblings(c) {
                    if fold_case(&name).starts_with(&prefix)
                        && let EntryHandle::Archive { entry } = handle
                    {
                        wanted.push(entry);
                    }
                }
            }
        }
        self.backend.prepare(&wanted, &self.label, warnings);
        *self.matched.lock().unwrap_or_else(|e| e.into_inner()) = wanted.into_iter().collect();
        walk
    }

    fn siblings(&self, candidate: &Candidate) -> Vec<(String, EntryHandle)> {
        let EntryHandle::Archive { entry } = candidate.handle else {
            return Vec::new();
        };
        let Some(node) = self.tree.node_of(entry) else {
            return Vec::new();
        };
        let folder = self.tree.parent(node);
        self.tree
            .children(folder)
            .flat_map(|c| {
                self.tree
                    .entries_at(c)
                    .filter(|&e| self.tree.entries()[e].kind == EntryKind::File)
                    .map(move |e| {
                        (
                            self.tree.name(c).to_string(),
                            EntryHandle::Archive { entry: e },
                        )
                    })
            })
            .collect()
    }

    fn open_handle(&self, handle: &EntryHandle) -> Result<Box<dyn Read + Send + '_>, FsError> {
        match handle {
            EntryHandle::Archive { entry } => self.open_entry(*entry),
            other => Err(FsError::NotAFile {
                path: format!("{other:?}"),
            }),
        }
    }
}
