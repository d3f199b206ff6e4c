//! A directory as a file system view: a mounted image or a triage collection.
//!
//! One pass over the tree ([`crate::host::walk::HostWalk`]: walkdir lists folders with
//! `std::fs::read_dir`, which cannot keep their access times), never following links (a junction such as
//! `Documents and Settings` -> `Users` on a mounted Vista volume would otherwise make
//! every profile appear twice, and a link could lead out of the evidence). Only matched
//! entries are stat'ed; everything else costs a directory read, as for `find`.

use std::collections::HashMap;
use std::fs::Metadata;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::hive_suspects::Collector;
use super::{Candidate, EntryHandle, EntryKind, FileSystem, FileTime, FsError, JournalSink, Walk};
use crate::catalog::{DirState, Matcher, fold_case};
use crate::evidence::RecordState;
use crate::host::walk::{HostWalk, WalkEntry, keeps_atime, list_dir};
use crate::host::{display_name, open_evidence_file};
use crate::time::Timestamp;
use crate::warning::Warnings;

/// Names that mark a folder as the root of a Windows or macOS volume. A folder holding
/// at least two of them is taken as a volume root (one alone is too weak: a backup
/// folder may hold a `Users` copy).
pub(super) const VOLUME_MARKERS: &[&str] = &[
    "windows",
    "users",
    "documents and settings",
    "program files",
    "program files (x86)",
    "programdata",
    "$mft",
    "$recycle.bin",
    "recycler",
    "system volume information",
    "pagefile.sys",
    "hiberfil.sys",
    "applications",
    "library",
    "system",
    "private",
];

/// Where a folder lies for the search of hives by content (see [`DirectoryFs::walk`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HiveSearch {
    /// Outside any volume root, or in `Windows\System32\config`: every file.
    Everywhere,
    /// Inside the volume root at this walk depth: files by name only.
    Volume { root_depth: usize },
}

impl HiveSearch {
    fn skips_files(self) -> bool {
        matches!(self, HiveSearch::Volume { .. })
    }
}

pub struct DirectoryFs {
    root: PathBuf,
    label: String,
    /// Folder -> is it a volume root; filled for the ancestors of matches only.
    volume_roots: Mutex<HashMap<PathBuf, bool>>,
    /// Files named `$MFT` the walk met: collected NTFS metadata, scanned on their own.
    mfts: Mutex<Vec<PathBuf>>,
    /// Matched entries whose access time was left out: the scan could not read them
    /// without changing it (see [`keeps_atime`]).
    atimes_left_out: AtomicUsize,
    /// The drive or share of the input's real path (`C:`; empty on Unix), written before
    /// `root=/...` when the volume root lies above the input.
    prefix: String,
}

impl DirectoryFs {
    /// `label` is the input as the examiner gave it.
    pub fn new(root: impl Into<PathBuf>, label: impl Into<String>) -> DirectoryFs {
        let root = root.into();
        let prefix = std::fs::canonicalize(&root)
            .map(|real| crate::host::path_prefix(&real))
            .unwrap_or_default();
        DirectoryFs {
            prefix,
            root,
            label: label.into(),
            volume_roots: Mutex::new(HashMap::new()),
            mfts: Mutex::new(Vec::new()),
            atimes_left_out: AtomicUsize::new(0),
        }
    }

    /// The files named `$MFT` (any case) the last walk met, in walk order: each folder
    /// holding one is the root of a collected volume.
    pub fn collected_mfts(&self) -> Vec<PathBuf> {
        self.mfts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn is_volume_root(&self, dir: &Path) -> bool {
        if let Some(&known) = self
            .volume_roots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(dir)
        {
            return known;
        }
        let markers = list_dir(dir)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|(name, _)| {
                        VOLUME_MARKERS.contains(&fold_case(&display_name(name)).as_ref())
                    })
                    .count()
            })
            .unwrap_or(0);
        // A Velociraptor collection's device folder (`uploads/auto/C%3A`) is one too.
        let is_root = markers >= 2 || {
            let names = normal_components(dir);
            super::archive::layout::velociraptor_device_at(
                &names.iter().map(String::as_str).collect::<Vec<_>>(),
            ) == Some(names.len().saturating_sub(1))
        };
        self.volume_roots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dir.to_path_buf(), is_root);
        is_root
    }

    /// Does the input look like (part of) a volume: is it named like a volume's folder
    /// (`Users`, `Windows`), or does it or a folder up to two levels below it hold a
    /// volume's folders? Only folders inside the input are listed.
    pub fn looks_like_volume(&self) -> bool {
        let root = std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone());
        let named = root
            .file_name()
            .is_some_and(|n| VOLUME_MARKERS.contains(&fold_case(&display_name(n)).as_ref()));
        named
            || HostWalk::new(&root)
                .max_depth(2)
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_dir())
                .any(|e| self.is_volume_root(e.path()))
    }

    /// The volume root of a match, as a component depth. Where the pattern started
    /// inside the input, it is the outermost folder between the input's root and the
    /// pattern's start that looks like a volume root (so `C/Windows.old/Users/...` is
    /// reported as `Windows.old\Users\...` on volume `C`), or the start if none does.
    /// Where the pattern started above the input's root (the examiner named
    /// `/mnt/c/Users`), the start is the volume root.
    fn volume_depth(
        &self,
        host_path: &Path,
        entry_depth: usize,
        start: usize,
        input: usize,
    ) -> usize {
        if start < input {
            return start;
        }
        let mut best = start;
        // The folder holding component k is the entry's (entry_depth - k + 1)-th ancestor.
        let mut folder = host_path.parent();
        let mut holds = entry_depth;
        while let Some(dir) = folder {
            if holds < input {
                break;
            }
            if holds <= start && self.is_volume_root(dir) {
                best = holds;
            }
            folder = dir.parent();
            holds = match holds.checked_sub(1) {
                Some(h) => h,
                None => break,
            };
        }
        best
    }

    fn candidate(
        &self,
        entry: &WalkEntry,
        found: crate::catalog::EntryMatch,
        input_depth: usize,
        warnings: &Warnings,
    ) -> Candidate {
        let path = entry.path().to_path_buf();
        let mut components = normal_components(&path);
        // Names in an unpacked Velociraptor collection are shown decoded (`C%3A` -> `C:`).
        let raw: Vec<&str> = components.iter().map(String::as_str).collect();
        if super::archive::layout::velociraptor_device_at(&raw).is_some() {
            components = raw
                .iter()
                .map(|c| super::archive::layout::decode_component(c))
                .collect();
        }
        let depth = components.len().saturating_sub(1);
        let volume_depth = self.volume_depth(&path, depth, found.start_depth, input_depth);
        let file_type = entry.file_type();
        let mut kind = if file_type.is_dir() {
            EntryKind::Dir
        } else if file_type.is_file() {
            EntryKind::File
        } else if file_type.is_symlink() {
            let target = std::fs::read_link(&path)
                .map(|t| display_name(t.as_os_str()))
                .unwrap_or_else(|_| "?".into());
            EntryKind::Link { target }
        } else {
            EntryKind::Special
        };
        let (size, times, locator) = match entry.metadata() {
            Ok(meta) => {
                if matches!(kind, EntryKind::File) && !meta.is_file() {
                    kind = EntryKind::Special;
                }
                let mut times = host_times(&meta);
                // An access time this scan may change (by listing the folder or reading
                // the file) would differ on the next scan: left out, and counted.
                if !keeps_atime(&path) {
                    let before = times.len();
                    times.retain(|t| t.label != "Accessed");
                    if times.len() < before {
                        self.atimes_left_out.fetch_add(1, Ordering::Relaxed);
                    }
                }
                (
                    (!meta.is_dir()).then_some(meta.len()),
                    times,
                    host_locator(&meta),
                )
            }
            Err(err) => {
                warnings.push(
                    &self.label,
                    display_name(path.as_os_str()),
                    format!("cannot read file system metadata: {err}"),
                );
                (None, Vec::new(), String::new())
            }
        };
        Candidate {
            components,
            input_depth,
            volume_depth,
            kind,
            size,
            times,
            state: RecordState::Allocated,
            locator,
            handle: EntryHandle::Host(path),
            found,
        }
    }
}

impl FileSystem for DirectoryFs {
    fn source(&self) -> &str {
        &self.label
    }

    /// A host directory has no change journal: `_journal` is never called.
    fn walk(&self, matcher: &Matcher, warnings: &Warnings, _journal: JournalSink<'_>) -> Walk {
        let mut walk = Walk::default();
        // Walk from the absolute path, and let the matcher see the folders above the
        // input first: the examiner may have named `/mnt/c/Users` or an install folder
        // itself. Those ancestors are context only; nothing above the input is reported.
        let root = std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone());
        let root_names = normal_components(&root);
        let input_depth = root_names.len();
        let mut above = matcher.root();
        let ancestors = input_depth.saturating_sub(1);
        for (depth, name) in root_names.iter().take(ancestors).enumerate() {
            above = matcher.step(&above, depth, name, true).1;
        }
        // states[d] is the matching state of the folder holding entries at walk depth
        // d; the root entry (depth 0) is the input folder itself, matched only when it
        // has a name (it has none when the input is `/`).
        let mut states: Vec<DirState> = vec![above];
        // search[d]: where the folder holding entries at walk depth d lies, for the
        // search of hives by content. Inside a Windows volume root, hives are found by
        // their standard names (the catalog's rules, as on an image) and by content only
        // in `Windows\System32\config` and below (`SYSTEM.bak`, `RegBack`); elsewhere in
        // a collection (`hives/SYSTEM.hiv`, `zoe_NTUSER.DAT`) every file of a plausible
        // size is looked at. A mounted volume then costs no stat of every file.
        let mut search: Vec<HiveSearch> = vec![HiveSearch::Everywhere];
        let root_named_like_volume = root
            .file_name()
            .is_some_and(|n| VOLUME_MARKERS.contains(&fold_case(&display_name(n)).as_ref()));
        let walker = HostWalk::new(&root);
        // Unmatched files are stat'ed for a plausible hive size on other threads.
        std::thread::scope(|scope| {
            let mut suspects = Collector::start(scope);
            for item in walker {
                let entry = match item {
                    Ok(entry) => entry,
                    Err(err) => {
                        warnings.push(
                            &self.label,
                            display_name(err.path.as_os_str()),
                            format!("cannot read; skipped: {}", err.source),
                        );
                        continue;
                    }
                };
                let depth = entry.depth();
                if depth > 0 {
                    walk.entries_seen += 1;
                }
                states.truncate(depth + 1);
                search.truncate(depth + 1);
                let Some(parent) = states.last() else {
                    continue;
                };
                let is_dir = entry.file_type().is_dir();
                if entry.file_type().is_file() && entry.file_name().eq_ignore_ascii_case("$MFT") {
                    self.mfts
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(entry.path().to_path_buf());
                }
                let here = search.last().copied().unwrap_or(HiveSearch::Everywhere);
                let inside = here.skips_files();
                let folder_search = |this: &Self| match here {
                    HiveSearch::Everywhere
                        if (depth == 0 && root_named_like_volume)
                            || this.is_volume_root(entry.path()) =>
                    {
                        HiveSearch::Volume { root_depth: depth }
                    }
                    HiveSearch::Volume { root_depth } if depth == root_depth + 3 => {
                        let mut names: Vec<String> = entry
                            .path()
                            .components()
                            .rev()
                            .take(3)
                            .map(|c| display_name(c.as_os_str()))
                            .collect();
                        names.reverse();
                        if super::hive_suspects::is_hive_folder(&names) {
                            HiveSearch::Everywhere
                        } else {
                            here
                        }
                    }
                    other => other,
                };
                if depth == 0 && input_depth == 0 {
                    // The host root: no name to match; its children start afresh.
                    states.push(parent.clone());
                    search.push(folder_search(self));
                    continue;
                }
                if !is_dir && !matcher.file_may_match(parent, entry.file_name().as_encoded_bytes())
                {
                    if !inside {
                        suspects.consider(&entry);
                    }
                    continue;
                }
                let component = (input_depth + depth).saturating_sub(1);
                let name = display_name(entry.file_name());
                let (found, child) = matcher.step(parent, component, &name, is_dir);
                if let Some(found) = found {
                    walk.candidates
                        .push(self.candidate(&entry, found, input_depth, warnings));
                } else if !is_dir && !inside {
                    suspects.consider(&entry);
                }
                if is_dir {
                    states.push(child);
                    search.push(folder_search(self));
                }
            }
            walk.hive_suspects = suspects.finish(root.clone());
        });
        let left_out = self.atimes_left_out.swap(0, Ordering::Relaxed);
        if left_out > 0 {
            warnings.push(
                &self.label,
                crate::host::display_path(&root),
                format!(
                    "access times of {left_out} matched entries left out: {}",
                    crate::host::walk::ATIME_REASON
                ),
            );
        }
        walk
    }

    /// As the trait says, with the drive of a Windows path kept: `root=C:/cases/x/C`.
    fn candidate_source(&self, candidate: &Candidate) -> String {
        let (input, volume) = (candidate.input_depth, candidate.volume_depth);
        if volume < input && !self.prefix.is_empty() {
            return format!(
                "{} root={}/{}",
                self.label,
                self.prefix,
                candidate.components[..volume].join("/")
            );
        }
        super::default_candidate_source(&self.label, candidate)
    }

    fn siblings(&self, candidate: &Candidate) -> Vec<(String, EntryHandle)> {
        let EntryHandle::Host(path) = &candidate.handle else {
            return Vec::new();
        };
        let Some(folder) = path.parent() else {
            return Vec::new();
        };
        let Ok(entries) = list_dir(folder) else {
            return Vec::new();
        };
        entries
            .into_iter()
            // Types of links are their own: a link beside a hive is not a log.
            .filter(|(_, kind)| kind.is_file())
            .map(|(name, _)| (display_name(&name), EntryHandle::Host(folder.join(name))))
            .collect()
    }

    fn open_handle(&self, handle: &EntryHandle) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let EntryHandle::Host(path) = handle else {
            return Err(FsError::NotAFile {
                path: format!("{handle:?}"),
            });
        };
        open_evidence_file(path)
            .map(|f| Box::new(f) as Box<dyn Read + Send>)
            .map_err(|source| FsError::Open {
                path: display_name(path.as_os_str()),
                source,
            })
    }
}

/// The names of a path's normal components (no root, no `.`), for display and matching.
fn normal_components(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(name) => Some(display_name(name)),
            _ => None,
        })
        .collect()
}

/// Every time the host's stat gives, labelled as file-system times: on a mount these are
/// what the mounting driver reports, which an examiner must not mistake for NTFS's own
/// $STANDARD_INFORMATION times.
fn host_times(meta: &Metadata) -> Vec<FileTime> {
    let mut times = Vec::with_capacity(4);
    let mut add = |label: &'static str, time: Option<Timestamp>| {
        if let Some(time) = time {
            times.push(FileTime {
                label,
                attribute: "filesystem",
                time,
            });
        }
    };
    add(
        "Created",
        meta.created().ok().and_then(Timestamp::from_system_time),
    );
    add(
        "Modified",
        meta.modified().ok().and_then(Timestamp::from_system_time),
    );
    add(
        "Accessed",
        meta.accessed().ok().and_then(Timestamp::from_system_time),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        add(
            "Metadata Changed",
            u32::try_from(meta.ctime_nsec()).ok().and_then(|nanos| {
                Timestamp::from_unix(meta.ctime(), nanos, crate::time::Precision::Nanos)
            }),
        );
    }
    times
}

fn host_locator(meta: &Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        format!("inode={}", meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        String::new()
    }
}
