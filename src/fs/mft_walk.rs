//! The walk of an MFT, whoever holds its records: an NTFS volume inside an image
//! ([`super::ntfs`]) or a `$MFT` copied out of one ([`super::collected`]).
//!
//! $MFT is read sequentially in chunks; each record's best `$FILE_NAME` gives its name and
//! parent. Records not in use are kept too: deleted files are evidence. The tree is then
//! walked from the root (record 5) with the catalog's matcher, exactly as the directory
//! view walks folders; entries whose parent is gone (or was reused: sequence numbers
//! disagree) hang under a virtual `$Orphan` folder. A second pass matches the files (and
//! gives the matched folders their candidates): where records can be read at random it
//! reads again only the matched folders and the files of folders where a file can match
//! (the first pass keeps each file's parent reference, eight bytes a record: see
//! [`super::file_parents`]); a collected `$MFT` is read again in sequence. Memory grows
//! with the folders, and by those eight bytes with the records.

use rustc_hash::{FxHashMap, FxHashSet};
use std::io::Read;
use std::sync::{Arc, Mutex};

mod index_slack;

use super::file_parents::FileParents;
use super::journal::{FolderNode, JournalFolders, JournalMatcher, MAX_JOURNAL_FOLDERS};
use super::{Candidate, EntryHandle, EntryKind, FileSystem, FileTime, FsError, JournalSink, Walk};
use crate::catalog::{DirState, EntryMatch, Matcher};
use crate::evidence::RecordState;
use crate::ntfs::record::{ATTR_ATTRIBUTE_LIST, ATTR_DATA, MftRecord, RecordView};
use crate::ntfs::usn::UsnRecord;
use crate::ntfs::volume::{Extent, RecordSeen};
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
fn is_usn_journal(record: &RecordView<'_>) -> bool {
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
fn names_of(mut names: Vec<crate::ntfs::FileName>) -> Option<(crate::ntfs::FileName, Vec<Link>)> {
    use crate::ntfs::record::{NAMESPACE_DOS, NAMESPACE_POSIX};
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

/// Where an MFT's records come from, and how the walk reaches what lies outside them.
pub trait MftRecords: Sync {
    /// What is wrong with the MFT as a whole, known before the walk.
    fn problems(&self) -> Vec<String>;

    /// How many records the MFT holds (the walk reads no more).
    fn record_count(&self) -> u64;

    /// Every record in order, read in place (in parallel where it pays) and mapped
    /// through `f`; what `f` kept, in record order, and why the pass stopped early, if
    /// it did.
    fn map_records<T: Send>(
        &self,
        f: impl Fn(u64, RecordSeen<'_>) -> Option<T> + Sync,
    ) -> (Vec<(u64, T)>, Option<String>);

    /// [`Self::map_records`] for the records `numbers` (ascending) only; `f` sees no
    /// other. Where records can be read at random, only those (and small gaps between
    /// them) are read; a sequential source reads them all and maps the listed ones.
    fn map_listed<T: Send>(
        &self,
        numbers: &[u64],
        f: impl Fn(u64, RecordSeen<'_>) -> Option<T> + Sync,
    ) -> (Vec<(u64, T)>, Option<String>) {
        self.map_records(|number, read| {
            numbers
                .binary_search(&number)
                .is_ok()
                .then(|| f(number, read))
                .flatten()
        })
    }

    /// `record` with its extension records merged in, and what could not be merged.
    fn with_extensions(&self, record: MftRecord) -> (MftRecord, Vec<String>);

    /// How a warning names a record.
    fn record_location(&self, number: u64) -> String {
        format!("MFT record {number}")
    }

    /// A record was matched (`candidate` is its main entry): keep what opening its data
    /// later needs, where the records cannot be read again at random.
    fn keep(&self, _record: &MftRecord, _candidate: &Candidate) {}

    /// Hand the change journal's records to `each`, a chunk at a time (called twice per
    /// walk). `journal` is the record of `$Extend\$UsnJrnl` when the MFT has one in use.
    /// Returns the count of damaged or unknown records skipped; `None` when there is no
    /// journal to read.
    fn journal_chunks(
        &self,
        journal: Option<u64>,
        label: &str,
        warnings: &Warnings,
        each: &mut dyn FnMut(&[UsnRecord]),
    ) -> Option<usize>;

    /// Open a $DATA stream ("" for the file's data) of a record.
    fn open(&self, record: u64, stream: &str) -> Result<Box<dyn Read + Send + '_>, FsError>;

    /// Bytes per sector and per cluster of the volume whose clusters can be read with
    /// [`Self::read_extent`]; `None` where only the records are at hand (a collected
    /// `$MFT`).
    fn geometry(&self) -> Option<(usize, u64)> {
        None
    }

    /// Bytes of a non-resident attribute (`extent`) at `offset` (sparse parts and bytes
    /// past the initialized size are zeros); short at its end.
    fn read_extent(
        &self,
        _extent: &Extent,
        _offset: u64,
        _buf: &mut [u8],
    ) -> Result<usize, String> {
        Err("no volume behind these records".into())
    }
}

/// A matched folder waiting for the file pass to read its record.
struct MatchedFolder {
    node: Node,
    path: Vec<String>,
    orphan: bool,
    found: EntryMatch,
}

/// An MFT as a file system view.
pub struct MftFs<R: MftRecords> {
    records: R,
    label: String,
    /// How journal rows name where `$J` was read, when not as `label`.
    journal_label: Option<String>,
    /// The live volume's label when this is one of its shadow copies.
    snapshot_of: Option<String>,
    tree: Mutex<Tree>,
}

impl<R: MftRecords> MftFs<R> {
    pub fn new(records: R, label: impl Into<String>) -> Self {
        MftFs {
            records,
            label: label.into(),
            journal_label: None,
            snapshot_of: None,
            tree: Mutex::new(Tree::default()),
        }
    }

    /// This view is a shadow copy of the volume whose view is named `live`.
    pub fn with_snapshot_of(mut self, live: impl Into<String>) -> Self {
        self.snapshot_of = Some(live.into());
        self
    }

    /// Journal rows name `label` as their source (a `$J` file beside a collected `$MFT`).
    pub fn with_journal_label(mut self, label: impl Into<String>) -> Self {
        self.journal_label = Some(label.into());
        self
    }

    /// First pass: every folder of $MFT, the change journal's record, and the folders
    /// each file names as its parents.
    fn read_folders(&self, warnings: &Warnings) -> (Tree, FileParents) {
        let mut tree = Tree::default();
        for problem in self.records.problems() {
            warnings.push(&self.label, "$MFT", problem);
        }
        let journal = Mutex::new(None);
        let files = std::sync::atomic::AtomicU64::new(0);
        let parents = FileParents::new(self.records.record_count());
        let (nodes, stopped) = self.records.map_records(|number, record| match record {
            Ok(Some(view)) => {
                if view.header.base_record != 0 || !view.header.signature_ok {
                    return None;
                }
                if !view.header.is_dir {
                    files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let in_extend = parents.note(number, view.file_name_parents());
                    if in_extend && view.header.in_use && is_usn_journal(&view) {
                        *journal.lock().unwrap_or_else(|e| e.into_inner()) = Some(number);
                    }
                    return None;
                }
                // A big folder may keep its name in an extension record.
                let names = if view.has_attribute_list() {
                    self.full_record(view.parse().0, warnings).file_names()
                } else {
                    view.file_names()
                };
                let record = view;
                let (name, _) = names_of(names)?;
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
                let location = self.records.record_location(number);
                warnings.push(&self.label, location, reason);
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
        (tree, parents)
    }

    /// Second pass: the `listed` records (ascending: files of the folders where a file
    /// can match, and the matched folders), each file matched in the folder it names,
    /// with the contexts of those folders; the matched folders' records are met again. Returns the candidates and the in-use files of
    /// those folders.
    fn match_files(
        &self,
        tree: &Tree,
        listed: &[u64],
        contexts: &FxHashMap<u64, Arc<FolderContext>>,
        folders: &FxHashMap<u64, MatchedFolder>,
        matcher: &Matcher,
        warnings: &Warnings,
    ) -> FilePass {
        type Found = (Vec<Candidate>, Vec<(u64, String)>);
        let pass = |number, record: RecordSeen<'_>| -> Option<Found> {
            let view = record.ok()??;
            let header = &view.header;
            if header.base_record != 0 || !header.signature_ok {
                return None;
            }
            if header.is_dir {
                let folder = folders.get(&number)?;
                let record = view.parse().0;
                return Some((
                    self.folder_candidate(number, folder, Some(record), warnings),
                    Vec::new(),
                ));
            }
            // Cheap test first: is any of its folders one where a file can match?
            let folder_of = |parent: u64, sequence: u16| {
                let folder = self.parent_folder(tree, number, parent, sequence);
                contexts.get(&folder).map(|c| (folder, c))
            };
            if !view
                .file_name_parents()
                .any(|(parent, sequence)| folder_of(parent, sequence).is_some())
            {
                return None;
            }
            // The names, from the record in place; the record is parsed in full only
            // when a name matches, or when its attributes continue in extension records
            // (which may hold names).
            let mut record = None;
            let names = if view.has_attribute_list() {
                record
                    .insert(self.full_record(view.parse().0, warnings))
                    .file_names()
            } else {
                view.file_names()
            };
            let (best, links) = names_of(names)?;
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
                if header.in_use {
                    files.push((folder, name.clone()));
                }
                if let Some(hit) = hit {
                    let mut path = context.path.clone();
                    path.push(name);
                    let entry = Entry {
                        number,
                        sequence: header.sequence,
                        in_use: header.in_use,
                        is_dir: false,
                    };
                    let record = record.get_or_insert_with(|| view.parse().0);
                    candidates.extend(self.candidate_from(
                        &entry,
                        Some(record),
                        path,
                        context.orphan,
                        hit,
                    ));
                }
            }
            (!candidates.is_empty() || !files.is_empty()).then_some((candidates, files))
        };
        let (found, stopped) = self.records.map_listed(listed, pass);
        let mut candidates = Vec::new();
        let mut files_of: FxHashMap<u64, Vec<(String, u64)>> = FxHashMap::default();
        let mut folders_done = FxHashSet::default();
        for (number, (found, files)) in found {
            if folders.contains_key(&number) {
                folders_done.insert(number);
            }
            candidates.extend(found);
            for (folder, name) in files {
                files_of.entry(folder).or_default().push((name, number));
            }
        }
        // A matched folder whose record the pass could not parse again: its candidate
        // without the record's times.
        for (&number, folder) in folders {
            if !folders_done.contains(&number) {
                candidates.extend(self.folder_candidate(number, folder, None, warnings));
            }
        }
        FilePass {
            candidates,
            files_of,
            stopped,
        }
    }

    /// The candidates of a matched folder, from its record when the file pass met it.
    fn folder_candidate(
        &self,
        number: u64,
        folder: &MatchedFolder,
        record: Option<MftRecord>,
        warnings: &Warnings,
    ) -> Vec<Candidate> {
        let record = record.map(|r| {
            if has_attribute_list(&r) {
                self.full_record(r, warnings)
            } else {
                r
            }
        });
        let entry = Entry {
            number,
            sequence: folder.node.sequence,
            in_use: folder.node.in_use,
            is_dir: true,
        };
        let (path, orphan, found) = (folder.path.clone(), folder.orphan, folder.found.clone());
        self.candidate_from(&entry, record.as_ref(), path, orphan, found)
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
        let (record, problems) = self.records.with_extensions(record);
        for problem in problems {
            let location = self.records.record_location(number);
            warnings.push(&self.label, location, problem);
        }
        record
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
        if let Some(record) = record {
            self.records.keep(record, &main);
        }
        out.insert(0, main);
        out
    }
}

/// `$Extend` is record 11 on every NTFS volume.
pub(super) const EXTEND: u64 = 11;

impl<R: MftRecords> MftFs<R> {
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
        let label = self.journal_label.as_deref().unwrap_or(&self.label);
        let mut folders = JournalFolders::default();
        let Some(problems) =
            self.records
                .journal_chunks(tree.journal, label, warnings, &mut |records| {
                    folders.add(records)
                })
        else {
            return;
        };
        if problems > 0 {
            warnings.push(
                label,
                "$UsnJrnl:$J",
                format!("{problems} damaged or unknown journal record(s) skipped"),
            );
        }
        if folders.dropped > 0 {
            warnings.push(
                label,
                "$UsnJrnl:$J",
                format!(
                    "more than {MAX_JOURNAL_FOLDERS} folders named in the journal: {} folder \
                     record(s) not used to rebuild paths",
                    folders.dropped
                ),
            );
        }
        let mut journal = JournalMatcher::new(&tree.nodes, &folders, matcher);
        let quiet = Warnings::default();
        self.records
            .journal_chunks(tree.journal, label, &quiet, &mut |records| {
                let hits = journal.matches(records);
                if !hits.is_empty() {
                    sink(hits);
                }
            });
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

impl<R: MftRecords> FileSystem for MftFs<R> {
    fn source(&self) -> &str {
        &self.label
    }

    fn journal_source(&self) -> String {
        self.journal_label
            .clone()
            .unwrap_or_else(|| self.label.clone())
    }

    fn snapshot_of(&self) -> Option<&str> {
        self.snapshot_of.as_deref()
    }

    fn walk(&self, matcher: &Matcher, warnings: &Warnings, journal: JournalSink<'_>) -> Walk {
        let (mut tree, parents) = self.read_folders(warnings);
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
        let mut matched: FxHashMap<u64, MatchedFolder> = FxHashMap::default();
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
                let folder = MatchedFolder {
                    node: node.clone(),
                    path: path.clone(),
                    orphan: parent.orphan,
                    found,
                };
                matched.insert(number, folder);
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
        // The second pass reads again only the matched folders and the files whose
        // folder is one where a file can match.
        let mut listed = parents.listed(|number, parent, sequence| {
            contexts.contains_key(&self.parent_folder(&tree, number, parent, sequence))
        });
        drop(parents);
        listed.extend(matched.keys().copied());
        listed.sort_unstable();
        listed.dedup();
        let files = self.match_files(&tree, &listed, &contexts, &matched, matcher, warnings);
        if let Some(e) = files.stopped {
            warnings.push(&self.label, "$MFT", format!("second read stopped: {e}"));
        }
        let slack = self.slack_candidates(&tree, &contexts, &files.candidates, matcher, warnings);
        walk.candidates.extend(files.candidates);
        walk.candidates.extend(slack);
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
        let EntryHandle::Mft { record, stream } = handle else {
            return Err(FsError::NotAFile {
                path: format!("{handle:?}"),
            });
        };
        self.records.open(*record, stream)
    }
}
