//! An NTFS volume inside an image as a file system view.
//!
//! $MFT is read sequentially in chunks; each record's best `$FILE_NAME` gives its name and
//! parent. Records not in use are kept too: deleted files are evidence. The tree is then
//! walked from the root (record 5) with the catalog's matcher, exactly as the directory
//! view walks folders; entries whose parent is gone (or was reused: sequence numbers
//! disagree) hang under a virtual `$Orphan` folder.

use rustc_hash::{FxHashMap, FxHashSet};
use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex};

use super::journal::{FolderNode, JournalFolders, JournalMatcher, MAX_JOURNAL_FOLDERS};
use super::{Candidate, EntryHandle, EntryKind, FileSystem, FileTime, FsError, JournalSink, Walk};
use crate::catalog::{DirState, Matcher};
use crate::evidence::RecordState;
use crate::image::source::{ImageReader, ImageSource};
use crate::ntfs::record::{
    ATTR_ATTRIBUTE_LIST, ATTR_DATA, ATTR_FLAG_COMPRESSED, ATTR_FLAG_ENCRYPTED, AttrBody, MftRecord,
};
use crate::ntfs::volume::{Extent, NtfsVolume, StreamReader};
use crate::time::Timestamp;
use crate::warning::Warnings;

const ROOT: u64 = 5;
/// Deeper than any real path: a loop in damaged parent references stops here.
const MAX_DEPTH: usize = 512;

/// A record as the tree needs it (shared with the journal's path rebuilding).
type Node = FolderNode;

/// A further name of a record: NTFS hard links are extra `$FILE_NAME` attributes, each
/// with its own parent folder and name.
#[derive(Debug, Clone)]
struct Link {
    name: String,
    parent: u64,
    parent_sequence: u16,
}

/// What the first pass over $MFT keeps: every folder (every path runs through them) and
/// where the change journal is. Files are not kept: the second pass matches each file as
/// it meets it, so memory grows with the number of folders, not of files.
#[derive(Default)]
struct Tree {
    /// Folders by record number.
    nodes: FxHashMap<u64, Node>,
    /// Folder -> its sub-folders (the `$Orphan` folder is u64::MAX).
    children: FxHashMap<u64, Vec<u64>>,
    /// The record of `$Extend\$UsnJrnl`, when in use.
    journal: Option<u64>,
    /// Files (records and hard-link names) met, for the walk's statistics.
    files_seen: u64,
    /// In-use files of the folders where the catalog can match a file (name, record):
    /// a hive's transaction logs are looked up there.
    files_of: FxHashMap<u64, Vec<(String, u64)>>,
}

/// A folder as the walk reaches it: its match state and path, shared by its entries.
struct FolderContext {
    state: DirState,
    path: Vec<String>,
    orphan: bool,
}

/// What the file pass found: candidates, the in-use files of the folders where a file
/// can match (by folder), and why $MFT could not be read to its end, if it could not.
struct FilePass {
    candidates: Vec<Candidate>,
    files_of: FxHashMap<u64, Vec<(String, u64)>>,
    stopped: Option<String>,
}

/// The record facts a candidate needs.
struct Entry {
    number: u64,
    sequence: u16,
    in_use: bool,
    is_dir: bool,
}

fn has_attribute_list(record: &MftRecord) -> bool {
    record
        .attributes
        .iter()
        .any(|a| a.type_code == ATTR_ATTRIBUTE_LIST)
}

/// `$Extend\$UsnJrnl`: named so, in `$Extend` (record 11).
fn is_usn_journal(record: &MftRecord) -> bool {
    // Names are decoded only for the few records that sit in `$Extend`.
    record
        .file_name_parents()
        .any(|(parent, _)| parent == EXTEND)
        && record
            .file_names()
            .iter()
            .any(|n| n.parent_record == EXTEND && n.name.eq_ignore_ascii_case("$UsnJrnl"))
}

/// The record's names: the best `$FILE_NAME` first (what a directory listing shows),
/// then every other (folder, name) pair. DOS 8.3 aliases are left out: they shadow a
/// long name in the same folder.
fn names_of(record: &MftRecord) -> Option<(crate::ntfs::FileName, Vec<Link>)> {
    use crate::ntfs::record::{NAMESPACE_DOS, NAMESPACE_POSIX};
    let mut names = record.file_names();
    let rank = |n: &crate::ntfs::FileName| match n.namespace {
        NAMESPACE_POSIX => 1,
        NAMESPACE_DOS => 2,
        _ => 0,
    };
    let best_index = (0..names.len()).min_by_key(|&i| rank(&names[i]))?;
    let best = names.swap_remove(best_index);
    let mut links: Vec<Link> = Vec::new();
    for name in names {
        let same = |parent: u64, other: &str| parent == name.parent_record && other == name.name;
        if name.namespace == NAMESPACE_DOS
            || same(best.parent_record, &best.name)
            || links.iter().any(|l| same(l.parent, &l.name))
        {
            continue;
        }
        links.push(Link {
            name: name.name,
            parent: name.parent_record,
            parent_sequence: name.parent_sequence,
        });
    }
    Some((best, links))
}

pub struct NtfsFs<S: ImageSource> {
    volume: NtfsVolume<S>,
    label: String,
    tree: Mutex<Tree>,
}

impl<S: ImageSource> NtfsFs<S> {
    pub fn new(volume: NtfsVolume<S>, label: impl Into<String>) -> Self {
        NtfsFs {
            volume,
            label: label.into(),
            tree: Mutex::new(Tree::default()),
        }
    }

    /// First pass: every folder of $MFT, and the change journal's record.
    fn read_folders(&self, warnings: &Warnings) -> Tree {
        let mut tree = Tree::default();
        for problem in self.volume.mft_problems() {
            warnings.push(&self.label, "$MFT", problem);
        }
        let journal = Mutex::new(None);
        let files = std::sync::atomic::AtomicU64::new(0);
        let (nodes, stopped) = self.volume.map_records(|number, record| match record {
            Ok(Some(record)) => {
                if record.header.base_record != 0 || !record.header.signature_ok {
                    return None;
                }
                if !record.header.is_dir {
                    files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if record.header.in_use && is_usn_journal(&record) {
                        *journal.lock().unwrap_or_else(|e| e.into_inner()) = Some(number);
                    }
                    return None;
                }
                // A big folder may keep its name in an extension record.
                let record = if has_attribute_list(&record) {
                    self.full_record(record, warnings)
                } else {
                    record
                };
                let (name, _) = names_of(&record)?;
                Some(Node {
                    name: name.name,
                    parent: name.parent_record,
                    parent_sequence: name.parent_sequence,
                    sequence: record.header.sequence,
                    in_use: record.header.in_use,
                    is_dir: true,
                })
            }
            Ok(None) => None,
            Err(reason) => {
                warnings.push(&self.label, format!("MFT record {number}"), reason);
                None
            }
        });
        if let Some(e) = stopped {
            warnings.push(&self.label, "$MFT", format!("read stopped: {e}"));
        }
        tree.journal = journal.into_inner().unwrap_or_else(|e| e.into_inner());
        tree.files_seen = files.into_inner();
        tree.nodes.reserve(nodes.len());
        tree.nodes.extend(nodes);
        let mut children: FxHashMap<u64, Vec<u64>> = FxHashMap::default();
        for (&number, node) in &tree.nodes {
            if number == ROOT {
                continue;
            }
            children
                .entry(self.parent_folder(&tree, number, node.parent, node.parent_sequence))
                .or_default()
                .push(number);
        }
        for list in children.values_mut() {
            list.sort_unstable();
        }
        tree.children = children;
        tree
    }

    /// Second pass: every file record, matched in the folder it names, with the
    /// contexts of the folders where a file can match. Returns the candidates and the
    /// in-use files of those folders.
    fn match_files(
        &self,
        tree: &Tree,
        contexts: &FxHashMap<u64, Arc<FolderContext>>,
        matcher: &Matcher,
        warnings: &Warnings,
    ) -> FilePass {
        type Found = (Vec<Candidate>, Vec<(u64, String)>);
        let (found, stopped) = self.volume.map_records(|number, record| -> Option<Found> {
            let record = record.ok()??;
            if record.header.base_record != 0 || !record.header.signature_ok || record.header.is_dir
            {
                return None;
            }
            // Cheap test first: is any of its folders one where a file can match?
            let folder_of = |parent: u64, sequence: u16| {
                let folder = self.parent_folder(tree, number, parent, sequence);
                contexts.get(&folder).map(|c| (folder, c))
            };
            if !record
                .file_name_parents()
                .any(|(parent, sequence)| folder_of(parent, sequence).is_some())
            {
                return None;
            }
            let record = if has_attribute_list(&record) {
                self.full_record(record, warnings)
            } else {
                record
            };
            let (best, links) = names_of(&record)?;
            let names = std::iter::once((best.name, best.parent_record, best.parent_sequence))
                .chain(
                    links
                        .into_iter()
                        .map(|l| (l.name, l.parent, l.parent_sequence)),
                );
            let (mut candidates, mut files) = (Vec::new(), Vec::new());
            for (name, parent, sequence) in names {
                let Some((folder, context)) = folder_of(parent, sequence) else {
                    continue;
                };
                if context.path.len() >= MAX_DEPTH {
                    continue;
                }
                let (hit, _) = matcher.step(&context.state, context.path.len(), &name, false);
                if record.header.in_use {
                    files.push((folder, name.clone()));
                }
                if let Some(hit) = hit {
                    let mut path = context.path.clone();
                    path.push(name);
                    let entry = Entry {
                        number,
                        sequence: record.header.sequence,
                        in_use: record.header.in_use,
                        is_dir: false,
                    };
                    candidates.extend(self.candidate_from(
                        &entry,
                        Some(&record),
                        path,
                        context.orphan,
                        hit,
                    ));
                }
            }
            (!candidates.is_empty() || !files.is_empty()).then_some((candidates, files))
        });
        let mut candidates = Vec::new();
        let mut files_of: FxHashMap<u64, Vec<(String, u64)>> = FxHashMap::default();
        for (number, (found, files)) in found {
            candidates.extend(found);
            for (folder, name) in files {
                files_of.entry(folder).or_default().push((name, number));
            }
        }
        FilePass {
            candidates,
            files_of,
            stopped: stopped.map(|e| e.to_string()),
        }
    }

    /// The folder a record hangs under: its parent when the parent still is the folder it
    /// named (same sequence number), else the `$Orphan` folder (u64::MAX).
    fn parent_folder(&self, tree: &Tree, number: u64, parent: u64, parent_sequence: u16) -> u64 {
        match tree.nodes.get(&parent) {
            Some(p) if p.is_dir && p.sequence == parent_sequence && parent != number => parent,
            // A deleted folder's record may be reused with sequence+1; the entry is
            // still placed under it when the parent itself is not in use.
            Some(p) if p.is_dir && !p.in_use && parent != number => parent,
            _ => u64::MAX,
        }
    }

    /// `record` with its extension records merged in; what could not be merged is a
    /// warning naming the record.
    fn full_record(&self, record: MftRecord, warnings: &Warnings) -> MftRecord {
        let number = record.number;
        let (record, problems) = self.volume.with_extensions(record);
        for problem in problems {
            warnings.push(&self.label, format!("MFT record {number}"), problem);
        }
        record
    }

    /// The candidates of a matched folder (its record read again: folders are few).
    fn folder_candidate(
        &self,
        number: u64,
        node: &Node,
        components: Vec<String>,
        orphan: bool,
        found: crate::catalog::EntryMatch,
        warnings: &Warnings,
    ) -> Vec<Candidate> {
        let record = match self.volume.read_record(number) {
            Ok(r) => r.map(|r| self.full_record(r, warnings)),
            Err(e) => {
                warnings.push(&self.label, format!("MFT record {number}"), e);
                None
            }
        };
        let entry = Entry {
            number,
            sequence: node.sequence,
            in_use: node.in_use,
            is_dir: true,
        };
        self.candidate_from(&entry, record.as_ref(), components, orphan, found)
    }

    /// The candidate for a matched record, and one per alternate data stream of a file.
    fn candidate_from(
        &self,
        entry: &Entry,
        record: Option<&MftRecord>,
        components: Vec<String>,
        orphan: bool,
        found: crate::catalog::EntryMatch,
    ) -> Vec<Candidate> {
        let number = entry.number;
        let mut times = Vec::new();
        let mut size = None;
        if let Some(record) = record {
            add_times(record, &mut times);
            size = record.data_attributes("").next().map(|a| a.data_size());
        }
        let state = if !entry.in_use {
            RecordState::Deleted
        } else if orphan {
            RecordState::Orphan
        } else {
            RecordState::Allocated
        };
        let main = Candidate {
            components,
            input_depth: 0,
            volume_depth: 0,
            kind: if entry.is_dir {
                EntryKind::Dir
            } else {
                EntryKind::File
            },
            size: if entry.is_dir { None } else { size },
            times,
            state,
            locator: format!("mft={number} seq={}", entry.sequence),
            handle: EntryHandle::Mft {
                record: number,
                stream: String::new(),
            },
            found,
        };
        // Alternate data streams of a matched file are entries of their own
        // (`setup.exe:Zone.Identifier`: where the file was downloaded from).
        let mut out = Vec::new();
        if let (Some(record), false) = (record, entry.is_dir) {
            for ads in record
                .attributes
                .iter()
                .filter(|a| a.type_code == ATTR_DATA && !a.name.is_empty())
            {
                let mut stream = main.clone();
                if let Some(last) = stream.components.last_mut() {
                    last.push(':');
                    last.push_str(&ads.name);
                }
                stream.size = Some(ads.data_size());
                stream.locator = format!("{} attr=128:{}", main.locator, ads.name);
                stream.handle = EntryHandle::Mft {
                    record: number,
                    stream: ads.name.clone(),
                };
                out.push(stream);
            }
        }
        out.insert(0, main);
        out
    }
}

/// `$Extend` is record 11 on every NTFS volume.
const EXTEND: u64 = 11;
/// Bytes of `$J` read at a time.
const JOURNAL_CHUNK: u64 = 1 << 20;

impl<S: ImageSource> NtfsFs<S> {
    /// Read `$Extend\$UsnJrnl:$J` (its allocated runs only: the stream is mostly
    /// sparse) and keep the records whose rebuilt path the catalog matches. Two passes,
    /// so memory stays bounded by the journal's folders, not its size: the first keeps
    /// the folders the journal names (to place files whose folder's MFT record was
    /// reused), the second matches.
    fn journal_hits(
        &self,
        tree: &Tree,
        matcher: &Matcher,
        warnings: &Warnings,
        sink: JournalSink<'_>,
    ) {
        let Some(extent) = self.journal_extent(tree, warnings) else {
            return;
        };
        let mut folders = JournalFolders::default();
        let problems = self.each_journal_chunk(&extent, warnings, |records| folders.add(records));
        if problems > 0 {
            warnings.push(
                &self.label,
                "$UsnJrnl:$J",
                format!("{problems} damaged or unknown journal record(s) skipped"),
            );
        }
        if folders.dropped > 0 {
            warnings.push(
                &self.label,
                "$UsnJrnl:$J",
                format!(
                    "more than {MAX_JOURNAL_FOLDERS} folders named in the journal: {} folder \
                     record(s) not used to rebuild paths",
                    folders.dropped
                ),
            );
        }
        let mut journal = JournalMatcher::new(&tree.nodes, &folders, matcher);
        self.each_journal_chunk(&extent, &Warnings::default(), |records| {
            let hits = journal.matches(records);
            if !hits.is_empty() {
                sink(hits);
            }
        });
    }

    /// The extent of `$J` in `$Extend\$UsnJrnl`, when the volume has a journal.
    fn journal_extent(&self, tree: &Tree, warnings: &Warnings) -> Option<Extent> {
        let journal = tree.journal?;
        let record = match self.volume.read_record(journal) {
            Ok(r) => r?,
            Err(e) => {
                warnings.push(&self.label, "$UsnJrnl", e);
                return None;
            }
        };
        record
            .data_attributes("$J")
            .find_map(|a| Extent::of(&a.body))
    }

    /// Parses the allocated part of `$J` chunk by chunk, handing each chunk's records to
    /// `each`; returns how many damaged or unknown records were skipped.
    fn each_journal_chunk(
        &self,
        extent: &Extent,
        warnings: &Warnings,
        mut each: impl FnMut(&[crate::ntfs::usn::UsnRecord]),
    ) -> usize {
        let cs = self.volume.boot.cluster_size;
        let mut problems = 0usize;
        let mut vcn = 0u64;
        for run in &extent.runs {
            let start = vcn.saturating_mul(cs);
            vcn = vcn.saturating_add(run.length);
            if run.lcn.is_none() {
                continue;
            }
            let end = vcn.saturating_mul(cs).min(extent.data_size);
            let mut at = start;
            while at < end {
                let len = (end - at).min(JOURNAL_CHUNK) as usize;
                let mut buf = vec![0u8; len];
                let n = match self.volume.read_stream(extent, at, &mut buf) {
                    Ok(n) => n,
                    Err(e) => {
                        warnings.push(
                            &self.label,
                            format!("$UsnJrnl:$J offset {at}"),
                            e.to_string(),
                        );
                        break;
                    }
                };
                let (records, damage) = crate::ntfs::usn::parse_records(&buf[..n], at);
                problems += damage.len();
                each(&records);
                at += len as u64;
            }
        }
        problems
    }
}

/// Largest stream read whole through the ntfs crate (attribute-list files are rare and
/// small in practice; a larger one is refused rather than held in memory).
const MAX_LISTED_STREAM: u64 = 256 << 20;

impl<S: ImageSource> NtfsFs<S> {
    /// A $DATA stream whose attribute sits in extension records, read through the
    /// `ntfs` crate (which follows attribute lists). Compressed streams are refused: the
    /// crate would return raw LZNT1 bytes.
    fn read_listed_stream(&self, number: u64, stream: &str) -> Result<Vec<u8>, String> {
        use ntfs::NtfsAttributeFlags;
        let source: &dyn ImageSource = self.volume.source();
        let mut reader = ImageReader::new(source);
        let mut ntfs = ntfs::Ntfs::new(&mut reader).map_err(|e| e.to_string())?;
        if !stream.is_empty() {
            // Named-stream lookup needs the upcase table (the crate panics without it).
            ntfs.read_upcase_table(&mut reader)
                .map_err(|e| e.to_string())?;
        }
        let file = ntfs.file(&mut reader, number).map_err(|e| e.to_string())?;
        let item = file
            .data(&mut reader, stream)
            .ok_or("no such $DATA stream")?
            .map_err(|e| e.to_string())?;
        let attribute = item.to_attribute().map_err(|e| e.to_string())?;
        if attribute.flags().contains(NtfsAttributeFlags::COMPRESSED) {
            return Err("compressed stream in extension records: not read yet".into());
        }
        let value = attribute.value(&mut reader).map_err(|e| e.to_string())?;
        let len = value.len();
        // Capped, and never more than the volume holds: the length is the evidence's word.
        if len > MAX_LISTED_STREAM || len > self.volume.source().size() {
            return Err(format!(
                "stream of {len} bytes in extension records: too large to read here"
            ));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        value
            .attach(&mut reader)
            .take(len)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        Ok(bytes)
    }
}

fn add_times(record: &MftRecord, times: &mut Vec<FileTime>) {
    let mut push = |label: &'static str, attribute: &'static str, ft: u64| {
        if let Some(time) = Timestamp::from_filetime(ft) {
            times.push(FileTime {
                label,
                attribute,
                time,
            });
        }
    };
    if let Some(si) = record
        .attributes
        .iter()
        .find_map(|a| a.standard_information())
    {
        push("Created", "$SI", si.created);
        push("Modified", "$SI", si.modified);
        push("Accessed", "$SI", si.accessed);
        push("MFT Entry Changed", "$SI", si.mft_changed);
    }
    if let Some(fname) = record.best_file_name() {
        push("Created", "$FN", fname.created);
        push("Modified", "$FN", fname.modified);
        push("Accessed", "$FN", fname.accessed);
        push("MFT Entry Changed", "$FN", fname.mft_changed);
    }
}

impl<S: ImageSource> FileSystem for NtfsFs<S> {
    fn source(&self) -> &str {
        &self.label
    }

    fn walk(&self, matcher: &Matcher, warnings: &Warnings, journal: JournalSink<'_>) -> Walk {
        let mut tree = self.read_folders(warnings);
        let mut walk = Walk::default();
        // Folders depth-first from the root, then those under `$Orphan`: each gets its
        // match state; folders where a file can match keep it for the file pass.
        let mut contexts: FxHashMap<u64, Arc<FolderContext>> = FxHashMap::default();
        let mut stack: Vec<(u64, Arc<FolderContext>)> = Vec::new();
        let push_children = |stack: &mut Vec<_>, parent: u64, context: &Arc<FolderContext>| {
            for &kid in tree.children.get(&parent).into_iter().flatten().rev() {
                stack.push((kid, Arc::clone(context)));
            }
        };
        let root = Arc::new(FolderContext {
            state: matcher.root(),
            path: Vec::new(),
            orphan: false,
        });
        let (_, orphan_state) = matcher.step(&matcher.root(), 0, "$Orphan", true);
        let orphans = Arc::new(FolderContext {
            state: orphan_state,
            path: vec!["$Orphan".to_string()],
            orphan: true,
        });
        for (number, context) in [(ROOT, &root), (u64::MAX, &orphans)] {
            if matcher.files_may_match(&context.state) {
                contexts.insert(number, Arc::clone(context));
            }
            push_children(&mut stack, number, context);
        }
        let mut visited = FxHashSet::default();
        while let Some((number, parent)) = stack.pop() {
            if !visited.insert(number) || parent.path.len() >= MAX_DEPTH {
                continue;
            }
            let Some(node) = tree.nodes.get(&number) else {
                continue;
            };
            let depth = parent.path.len();
            let (found, state) = matcher.step(&parent.state, depth, &node.name, true);
            let mut path = parent.path.clone();
            path.push(node.name.clone());
            if let Some(found) = found {
                walk.candidates.extend(self.folder_candidate(
                    number,
                    node,
                    path.clone(),
                    parent.orphan,
                    found,
                    warnings,
                ));
            }
            let context = Arc::new(FolderContext {
                state,
                path,
                orphan: parent.orphan,
            });
            if matcher.files_may_match(&context.state) {
                contexts.insert(number, Arc::clone(&context));
            }
            push_children(&mut stack, number, &context);
        }
        let files = self.match_files(&tree, &contexts, matcher, warnings);
        if let Some(e) = files.stopped {
            warnings.push(&self.label, "$MFT", format!("second read stopped: {e}"));
        }
        walk.candidates.extend(files.candidates);
        walk.entries_seen = tree.nodes.len() as u64 + tree.files_seen;
        tree.files_of = files.files_of;
        self.journal_hits(&tree, matcher, warnings, journal);
        *self.tree.lock().unwrap_or_else(|e| e.into_inner()) = tree;
        walk
    }

    fn siblings(&self, candidate: &Candidate) -> Vec<(String, EntryHandle)> {
        let EntryHandle::Mft { record, .. } = candidate.handle else {
            return Vec::new();
        };
        let tree = self.tree.lock().unwrap_or_else(|e| e.into_inner());
        // The folder holding this file (among those where files can match: a matched
        // file always is in one).
        let Some(files) = tree
            .files_of
            .values()
            .find(|files| files.iter().any(|(_, n)| *n == record))
        else {
            return Vec::new();
        };
        files
            .iter()
            .map(|(name, number)| {
                let handle = EntryHandle::Mft {
                    record: *number,
                    stream: String::new(),
                };
                (name.clone(), handle)
            })
            .collect()
    }

    fn open_handle(&self, handle: &EntryHandle) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let EntryHandle::Mft {
            record: number,
            stream,
        } = handle
        else {
            return Err(FsError::NotAFile {
                path: format!("{handle:?}"),
            });
        };
        let number = *number;
        let path = format!("MFT record {number}");
        let unreadable = |reason: &str| FsError::Unreadable {
            path: path.clone(),
            reason: reason.to_string(),
        };
        let record = self
            .volume
            .read_record(number)
            .map_err(|e| unreadable(&e))?
            .ok_or_else(|| unreadable("record is empty"))?;
        let (record, problems) = self.volume.with_extensions(record);
        let Some(data) = record.data_attributes(stream).next() else {
            if !problems.is_empty() {
                // Our merge of the extension records failed (the problems were
                // reported when the entry was listed): the `ntfs` crate, an independent
                // reader of attribute lists, gets a second try.
                let bytes = crate::guard::call(|| self.read_listed_stream(number, stream))
                    .map_err(|panic| unreadable(&format!("ntfs crate failed: {panic}")))?
                    .map_err(|e| {
                        unreadable(&format!(
                            "stream in extension records: {}; ntfs crate: {e}",
                            problems.join("; ")
                        ))
                    })?;
                return Ok(Box::new(Cursor::new(bytes)));
            }
            return Err(unreadable("no such $DATA stream"));
        };
        if data.flags & ATTR_FLAG_ENCRYPTED != 0 {
            return Err(unreadable("EFS-encrypted stream"));
        }
        if let Some(bytes) = data.resident_data() {
            return Ok(Box::new(Cursor::new(bytes.to_vec())));
        }
        let extent = Extent::of(&data.body)
            .ok_or_else(|| unreadable("$DATA does not start at VCN 0 in this record"))?;
        if data.flags & ATTR_FLAG_COMPRESSED != 0 {
            // Decompressed: hashing raw LZNT1 bytes would give a hash nobody can check.
            let AttrBody::NonResident {
                compression_unit, ..
            } = data.body
            else {
                return Err(unreadable("compressed $DATA without a compression unit"));
            };
            // Windows compresses only with clusters up to 4 KiB (units of 16 clusters);
            // anything larger is damage, and would make a unit absurdly big.
            if compression_unit == 0 || compression_unit > 8 || self.volume.boot.cluster_size > 4096
            {
                return Err(unreadable(
                    "compressed $DATA with an invalid compression unit",
                ));
            }
            return Ok(Box::new(StreamReader::compressed(
                &self.volume,
                extent,
                compression_unit,
            )));
        }
        Ok(Box::new(StreamReader::new(&self.volume, extent)))
    }
}
