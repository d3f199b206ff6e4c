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
mod zip;

use rustc_hash::{FxHashMap, FxHashSet};
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

/// One entry as the archive lists it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The path as stored (`/` separated; escaped as the collector wrote it).
    pub raw_path: String,
    pub kind: EntryKind,
    pub size: u64,
    pub times: Vec<FileTime>,
    /// A ZIP entry that needs a password.
    pub encrypted: bool,
    /// `times` are the original file times from collection metadata.
    pub original_times: bool,
}

impl Entry {
    fn new(raw_path: String, kind: EntryKind, size: u64, times: Vec<FileTime>) -> Entry {
        Entry {
            raw_path,
            kind,
            size,
            times,
            encrypted: false,
            original_times: false,
        }
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

/// A folder or file in the tree made of the entries' paths.
#[derive(Debug, Default)]
struct Node {
    /// Name as shown (decoded in a Velociraptor collection).
    name: String,
    parent: usize,
    children: Vec<usize>,
    /// Entries at this path (an archive may hold the same path twice).
    entries: Vec<usize>,
    /// A Velociraptor device folder.
    device: bool,
}

pub struct ArchiveFs {
    label: String,
    format: ArchiveFormat,
    entries: Vec<Entry>,
    /// Tree node of each entry.
    entry_node: Vec<usize>,
    nodes: Vec<Node>,
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
        let (entries, backend): (Vec<Entry>, Arc<dyn Backend>) = match format {
            ArchiveFormat::Zip => {
                let pw = password.map(str::as_bytes);
                let (entries, backend) = zip::index(reader, pw, &mut meta, label, warnings)?;
                if let Some(reason) = zip::check_password(&backend, &entries) {
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
                (entries, Arc::new(backend))
            }
            ArchiveFormat::Tar | ArchiveFormat::TarGz => {
                let gzip = format == ArchiveFormat::TarGz;
                let (entries, backend) = tar::index(reader, gzip, &mut meta, label, warnings);
                (entries, Arc::new(backend))
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
        let mut fs = ArchiveFs {
            label: label.to_string(),
            format,
            entries,
            entry_node: Vec::new(),
            nodes: vec![Node::default()],
            backend,
            matched: Mutex::default(),
        };
        fs.build_tree(&meta);
        Ok(fs)
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
        &self.entries
    }

    /// A fresh stream of entry `index`'s content.
    pub fn open_entry(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, FsError> {
        self.backend
            .open(index)
            .map_err(|reason| FsError::Unreadable {
                path: format!(
                    "{} entry {}",
                    self.label,
                    self.entries.get(index).map_or("?", |e| e.raw_path.as_str())
                ),
                reason,
            })
    }

    /// Lay the entries out as a tree; decode Velociraptor names and take the original
    /// file times from the collection's metadata where it has them.
    fn build_tree(&mut self, meta: &MetadataTimes) {
        let mut child_of: FxHashMap<(usize, String), usize> = FxHashMap::default();
        let zip = self.format == ArchiveFormat::Zip;
        // The previous entry's folders (name, node): archives list a folder's members
        // together, so most lookups end here.
        let mut previous: Vec<(String, usize)> = Vec::new();
        for index in 0..self.entries.len() {
            let raw_path = self.entries[index].raw_path.clone();
            // ZIP names use `/`; a `\` there was written by a Windows tool as a separator.
            let raw: Vec<&str> = raw_path
                .split(|c| c == '/' || (zip && c == '\\'))
                .filter(|c| !c.is_empty() && *c != ".")
                .collect();
            let device = layout::velociraptor_device_at(&raw);
            let names: Vec<String> = match device {
                Some(_) => raw.iter().map(|c| layout::decode_component(c)).collect(),
                None => raw.iter().map(|c| c.to_string()).collect(),
            };
            if let Some(d) = device
                && let Some(times) = meta
                    .times
                    .get(&layout::metadata_key(&names[d], &names[d + 1..]))
                && !times.is_empty()
            {
                self.entries[index].times = times.clone();
                self.entries[index].original_times = true;
            }
            let mut node = 0;
            let mut same = true;
            for (depth, name) in names.iter().enumerate() {
                if same
                    && let Some((prev_name, prev_node)) = previous.get(depth)
                    && prev_name == name
                {
                    node = *prev_node;
                    continue;
                }
                if same {
                    same = false;
                    previous.truncate(depth);
                }
                let key = (node, name.clone());
                node = match child_of.get(&key) {
                    Some(&n) => n,
                    None => {
                        let n = self.nodes.len();
                        self.nodes.push(Node {
                            name: name.clone(),
                            parent: node,
                            device: device == Some(depth),
                            ..Node::default()
                        });
                        self.nodes[node].children.push(n);
                        child_of.insert(key, n);
                        n
                    }
                };
                previous.push((name.clone(), node));
            }
            if node != 0 {
                self.nodes[node].entries.push(index);
            }
            self.entry_node.push(node);
        }
        // Children in name order, as a listing would show them.
        let names: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        for node in &mut self.nodes {
            node.children.sort_by(|a, b| names[*a].cmp(&names[*b]));
        }
    }

    fn is_dir(&self, node: usize) -> bool {
        let n = &self.nodes[node];
        !n.children.is_empty()
            || n.entries
                .iter()
                .any(|&e| self.entries[e].kind == EntryKind::Dir)
    }

    /// Does any folder of the archive look like a volume root?
    pub fn holds_volume(&self) -> bool {
        (0..self.nodes.len()).any(|n| self.is_volume_root(n))
    }

    /// A folder that is a volume root: a Velociraptor device, or one holding at least two
    /// names that mark a volume root (as for directories).
    fn is_volume_root(&self, node: usize) -> bool {
        let n = &self.nodes[node];
        n.device
            || n.children
                .iter()
                .filter(|&&c| VOLUME_MARKERS.contains(&fold_case(&self.nodes[c].name).as_ref()))
                .count()
                >= 2
    }

    /// The nodes from the root (excluded) down to `node`.
    fn chain(&self, mut node: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        while node != 0 {
            chain.push(node);
            node = self.nodes[node].parent;
        }
        chain.reverse();
        chain
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
        let components: Vec<String> = chain.iter().map(|&n| self.nodes[n].name.clone()).collect();
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
        let entries = &self.nodes[node].entries;
        if entries.is_empty() {
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
        for &index in entries {
            let e = &self.entries[index];
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
                format!("entry={}", e.raw_path),
                EntryHandle::Archive { entry: index },
            ));
        }
    }

    /// The stored path of a folder that has no entry: a member's path, cut.
    fn implied_path(&self, node: usize) -> String {
        let depth = self.chain(node).len();
        let mut n = node;
        while self.nodes[n].entries.is_empty() {
            match self.nodes[n].children.first() {
                Some(&c) => n = c,
                None => break,
            }
        }
        let Some(&e) = self.nodes[n].entries.first() else {
            return String::new();
        };
        let zip = self.format == ArchiveFormat::Zip;
        self.entries[e]
            .raw_path
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
        let mut stack: Vec<(usize, usize, Arc<DirState>)> = self.nodes[0]
            .children
            .iter()
            .rev()
            .map(|&c| (c, 0, Arc::new(matcher.root())))
            .collect();
        while let Some((node, depth, parent)) = stack.pop() {
            walk.entries_seen += 1;
            let is_dir = self.is_dir(node);
            if !is_dir && !matcher.file_may_match(&parent, self.nodes[node].name.as_bytes()) {
                continue;
            }
            let (found, child) = matcher.step(&parent, depth, &self.nodes[node].name, is_dir);
            if let Some(found) = found {
                self.candidates_of(node, &found, &mut walk.candidates);
            }
            if is_dir {
                let child = Arc::new(child);
                for &c in self.nodes[node].children.iter().rev() {
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
        let Some(&node) = self.entry_node.get(entry) else {
            return Vec::new();
        };
        let folder = self.nodes[node].parent;
        self.nodes[folder]
            .children
            .iter()
            .flat_map(|&c| {
                self.nodes[c]
                    .entries
                    .iter()
                    .filter(|&&e| self.entries[e].kind == EntryKind::File)
                    .map(move |&e| {
                        (
                            self.nodes[c].name.clone(),
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
