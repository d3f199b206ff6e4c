//! An NTFS volume inside an image as a file system view.
//!
//! $MFT is read sequentially in chunks; each record's best `$FILE_NAME` gives its name and
//! parent. Records not in use are kept too: deleted files are evidence. The tree is then
//! walked from the root (record 5) with the catalog's matcher, exactly as the directory
//! view walks folders; entries whose parent is gone (or was reused: sequence numbers
//! disagree) hang under a virtual `$Orphan` folder.

use rustc_hash::{FxHashMap, FxHashSet};
use std::io::{Cursor, Read};
use std::rc::Rc;
use std::sync::Mutex;

use super::journal::{FolderNode, JournalFolders, JournalMatcher, MAX_JOURNAL_FOLDERS};
use super::{Candidate, EntryHandle, EntryKind, FileSystem, FileTime, FsError, JournalHit, Walk};
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

#[derive(Default)]
struct Tree {
    nodes: FxHashMap<u64, Node>,
    /// Names beyond the node's own, for records with hard links.
    links: FxHashMap<u64, Vec<Link>>,
    /// Folder -> (record, name index): 0 is the node's own name, i > 0 is `links[i - 1]`.
    children: FxHashMap<u64, Vec<(u64, usize)>>,
}

impl Tree {
    /// Name and parent of name `index` of record `number`.
    fn name_of(&self, number: u64, index: usize) -> Option<(&str, u64, u16)> {
        if index == 0 {
            let node = self.nodes.get(&number)?;
            return Some((&node.name, node.parent, node.parent_sequence));
        }
        let link = self.links.get(&number)?.get(index - 1)?;
        Some((&link.name, link.parent, link.parent_sequence))
    }
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

    fn read_tree(&self, warnings: &Warnings) -> Tree {
        let mut tree = Tree::default();
        for problem in self.volume.mft_problems() {
            warnings.push(&self.label, "$MFT", problem);
        }
        let (nodes, stopped) = self.volume.map_records(|number, record| match record {
            Ok(Some(record)) => {
                if record.header.base_record != 0 || !record.header.signature_ok {
                    return None;
                }
                // A record with extension records (a big folder, a file with many
                // links) may keep some or all of its names there.
                let record = if record
                    .attributes
                    .iter()
                    .any(|a| a.type_code == ATTR_ATTRIBUTE_LIST)
                {
                    self.full_record(record, warnings)
                } else {
                    record
                };
                let (name, links) = names_of(&record)?;
                let node = Node {
                    name: name.name,
                    parent: name.parent_record,
                    parent_sequence: name.parent_sequence,
                    sequence: record.header.sequence,
                    in_use: record.header.in_use,
                    is_dir: record.header.is_dir,
                };
                Some((node, links))
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
        tree.nodes.reserve(nodes.len());
        for (number, (node, links)) in nodes {
            tree.nodes.insert(number, node);
            if !links.is_empty() {
                tree.links.insert(number, links);
            }
        }
        let mut children: FxHashMap<u64, Vec<(u64, usize)>> = FxHashMap::default();
        for &number in tree.nodes.keys() {
            if number == ROOT {
                continue;
            }
            let names = 1 + tree.links.get(&number).map_or(0, Vec::len);
            for index in 0..names {
                if let Some((_, parent, parent_sequence)) = tree.name_of(number, index) {
                    children
                        .entry(self.parent_folder(&tree, number, parent, parent_sequence))
                        .or_default()
                        .push((number, index));
                }
            }
        }
        for list in children.values_mut() {
            list.sort_unstable();
        }
        tree.children = children;
        tree
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

    fn candidate(
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
        let mut times = Vec::new();
        let mut size = None;
        if let Some(record) = &record {
            add_times(record, &mut times);
            size = record.data_attributes("").next().map(|a| a.data_size());
        }
        let state = if !node.in_use {
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
            kind: if node.is_dir {
                EntryKind::Dir
            } else {
                EntryKind::File
            },
            size: if node.is_dir { None } else { size },
            times,
            state,
            locator: format!("mft={number} seq={}", node.sequence),
            handle: EntryHandle::Mft {
                record: number,
                stream: String::new(),
            },
            found,
        };
        // Alternate data streams of a matched file are entries of their own
        // (`setup.exe:Zone.Identifier`: where the file was downloaded from).
        let mut out = Vec::new();
        if let (Some(record), false) = (&record, node.is_dir) {
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
    fn journal_hits(&self, tree: &Tree, matcher: &Matcher, warnings: &Warnings) -> Vec<JournalHit> {
        let Some(extent) = self.journal_extent(tree, warnings) else {
            return Vec::new();
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
        let mut hits = Vec::new();
        self.each_journal_chunk(&extent, &Warnings::default(), |records| {
            hits.extend(journal.matches(records))
        });
        hits
    }

    /// The extent of `$J` in `$Extend\$UsnJrnl`, when the volume has a journal.
    fn journal_extent(&self, tree: &Tree, warnings: &Warnings) -> Option<Extent> {
        let &(journal, _) = tree.children.get(&EXTEND)?.iter().find(|(k, _)| {
            tree.nodes
                .get(k)
                .is_some_and(|n| n.name.eq_ignore_ascii_case("$UsnJrnl") && n.in_use)
        })?;
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

    fn walk(&self, matcher: &Matcher, warnings: &Warnings) -> Walk {
        let tree = self.read_tree(warnings);
        let mut walk = Walk {
            entries_seen: tree.nodes.len() as u64,
            ..Walk::default()
        };
        // Depth-first from the root, then the orphans under `$Orphan`. Each folder's
        // match state and path are shared by its children (not copied per child), and
        // files are not even queued where the catalog cannot match a file.
        struct Folder {
            state: DirState,
            path: Vec<String>,
            orphan: bool,
        }
        let mut stack: Vec<((u64, usize), Rc<Folder>)> = Vec::new();
        let push_children = |stack: &mut Vec<_>, parent: u64, folder: Rc<Folder>| {
            let Some(kids) = tree.children.get(&parent) else {
                return;
            };
            let files_may_match = matcher.files_may_match(&folder.state);
            for &kid in kids.iter().rev() {
                if files_may_match || tree.nodes.get(&kid.0).is_some_and(|n| n.is_dir) {
                    stack.push((kid, Rc::clone(&folder)));
                }
            }
        };
        let root = Folder {
            state: matcher.root(),
            path: Vec::new(),
            orphan: false,
        };
        push_children(&mut stack, ROOT, Rc::new(root));
        let (_, orphan_state) = matcher.step(&matcher.root(), 0, "$Orphan", true);
        let orphans = Folder {
            state: orphan_state,
            path: vec!["$Orphan".to_string()],
            orphan: true,
        };
        push_children(&mut stack, u64::MAX, Rc::new(orphans));
        let mut visited = FxHashSet::default();
        while let Some(((number, index), parent)) = stack.pop() {
            if !visited.insert((number, index)) || parent.path.len() >= MAX_DEPTH {
                continue;
            }
            let (Some(node), Some((name, _, _))) =
                (tree.nodes.get(&number), tree.name_of(number, index))
            else {
                continue;
            };
            let depth = parent.path.len();
            let (found, child_state) = matcher.step(&parent.state, depth, name, node.is_dir);
            if found.is_none() && !node.is_dir {
                continue;
            }
            let mut path = parent.path.clone();
            path.push(name.to_string());
            if let Some(found) = found {
                walk.candidates.extend(self.candidate(
                    number,
                    node,
                    path.clone(),
                    parent.orphan,
                    found,
                    warnings,
                ));
            }
            if node.is_dir {
                let folder = Folder {
                    state: child_state,
                    path,
                    orphan: parent.orphan,
                };
                push_children(&mut stack, number, Rc::new(folder));
            }
        }
        walk.journal = self.journal_hits(&tree, matcher, warnings);
        *self.tree.lock().unwrap_or_else(|e| e.into_inner()) = tree;
        walk
    }

    fn siblings(&self, candidate: &Candidate) -> Vec<(String, EntryHandle)> {
        let EntryHandle::Mft { record, .. } = candidate.handle else {
            return Vec::new();
        };
        let tree = self.tree.lock().unwrap_or_else(|e| e.into_inner());
        let Some(node) = tree.nodes.get(&record) else {
            return Vec::new();
        };
        let parent = self.parent_folder(&tree, record, node.parent, node.parent_sequence);
        tree.children
            .get(&parent)
            .into_iter()
            .flatten()
            .filter(|(n, _)| {
                tree.nodes
                    .get(n)
                    .is_some_and(|node| !node.is_dir && node.in_use)
            })
            .filter_map(|&(n, index)| {
                let (name, _, _) = tree.name_of(n, index)?;
                let handle = EntryHandle::Mft {
                    record: n,
                    stream: String::new(),
                };
                Some((name.to_string(), handle))
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
