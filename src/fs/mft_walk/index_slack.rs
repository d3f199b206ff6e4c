//! Names left in the slack of folder indexes (`$I30`): a file whose MFT record was
//! reused by another file is gone from the MFT, but its folder's index blocks may still
//! hold an old copy of its entry, with its name and its `$FILE_NAME` times (see
//! [`crate::ntfs::index`]). The folders read are those where the catalog can still
//! match something (the walk's contexts), so the cost stays with a few folders; a name
//! is a candidate when the catalog matches it, it is not in the folder's live index (an
//! old copy of a live entry), and the walk did not already find it in the MFT (the same
//! record under the same path: a deleted file whose record is still free).

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

use super::{FolderContext, MAX_DEPTH, MftFs, MftRecords, Tree, has_attribute_list};
use crate::catalog::{EntryMatch, Matcher};
use crate::evidence::RecordState;
use crate::fs::{Candidate, EntryHandle, EntryKind, FileTime};
use crate::ntfs::index::{
    ATTR_BITMAP, ATTR_INDEX_ALLOCATION, ATTR_INDEX_ROOT, BlockSlack, FILE_NAME_IS_DIR, I30,
    LiveEntry, SlackEntry, block_in_use, block_size, block_slack, live_entries, root_entries,
    slack_entries,
};
use crate::ntfs::record::{MftRecord, NAMESPACE_DOS};
use crate::ntfs::volume::Extent;
use crate::time::Timestamp;
use crate::warning::Warnings;

/// The attribute `FileTime::attribute` names for times from an index entry in slack.
const SLACK_ATTRIBUTE: &str = "$FN in $I30 slack";
/// Folder records parsed and held at once.
const FOLDERS_PER_BATCH: usize = 1024;
/// Most bytes of an index `$BITMAP` read (one bit per block: 8 Mi blocks).
const MAX_BITMAP: u64 = 1 << 20;

/// A folder's index as the slack search needs it.
struct FolderIndex {
    block: usize,
    allocation: Extent,
    bitmap: Vec<u8>,
    /// The live entries of its `$INDEX_ROOT`.
    root_live: Vec<LiveEntry>,
}

/// What the walk already found, so that a name in slack is not told twice.
struct Known {
    /// (record, lower-cased path) of every candidate from the MFT, and (None, path).
    paths: FxHashSet<(Option<u64>, String)>,
}

impl Known {
    fn of(candidates: &[Candidate]) -> Known {
        let mut paths = FxHashSet::default();
        for c in candidates {
            if let EntryHandle::Mft { record, stream } = &c.handle
                && stream.is_empty()
            {
                let path = c.components.join("\\").to_lowercase();
                paths.insert((Some(*record), path.clone()));
                paths.insert((None, path));
            }
        }
        Known { paths }
    }

    /// Found already: the same record under the same path, or (the entry's reference
    /// overwritten) any record under it.
    fn has(&self, file: Option<(u64, u16)>, path: &str) -> bool {
        self.paths
            .contains(&(file.map(|(r, _)| r), path.to_lowercase()))
    }
}

impl<R: MftRecords> MftFs<R> {
    /// The candidates of names left in the index slack of the folders in `contexts`.
    /// `found` are the walk's candidates from the MFT.
    pub(super) fn slack_candidates(
        &self,
        tree: &Tree,
        contexts: &FxHashMap<u64, Arc<FolderContext>>,
        found: &[Candidate],
        matcher: &Matcher,
        warnings: &Warnings,
    ) -> Vec<Candidate> {
        let Some((sector, cluster)) = self.records.geometry() else {
            return Vec::new();
        };
        let mut folders: Vec<u64> = contexts
            .keys()
            .copied()
            .filter(|n| tree.nodes.contains_key(n))
            .collect();
        folders.sort_unstable();
        // Folder records a batch at a time: with a catalog that matches anywhere every
        // folder is one, and memory must not grow with them.
        let batches = folders.chunks(FOLDERS_PER_BATCH).flat_map(|batch| {
            let (records, _) = self.records.map_listed(batch, |_, read| {
                let view = read.ok()??;
                (view.header.is_dir && view.header.base_record == 0).then(|| view.parse().0)
            });
            records
        });
        // Built when a first name needs it (most volumes have none).
        let mut known: Option<Known> = None;
        let records_in_mft = self.records.record_count();
        let mut seen = FxHashSet::default();
        let mut out = Vec::new();
        for (number, record) in batches {
            let Some(context) = contexts.get(&number) else {
                continue;
            };
            if context.path.len() >= MAX_DEPTH {
                continue;
            }
            let record = if has_attribute_list(&record) {
                self.full_record(record, warnings)
            } else {
                record
            };
            let Some(index) = self.folder_index(&record, warnings) else {
                continue;
            };
            let location = format!("MFT record {number} $I30");
            // The entries left in slack whose names the catalog matches, with the
            // block's byte offset in the allocation and its VCN.
            let mut slack = Vec::new();
            let whole = self.each_block(
                &index,
                (sector, cluster),
                &location,
                warnings,
                |at, block, s| {
                    // A DOS 8.3 name repeats its long name's entry (the walk too names a
                    // file by its long name).
                    let entries = slack_entries(block, s.start, s.end, number);
                    for entry in entries
                        .into_iter()
                        .filter(|e| e.key.namespace != NAMESPACE_DOS)
                    {
                        let is_dir = entry.key.flags & FILE_NAME_IS_DIR != 0;
                        let depth = context.path.len();
                        if let (Some(hit), _) =
                            matcher.step(&context.state, depth, &entry.key.name, is_dir)
                        {
                            slack.push((at, s.vcn, entry, hit));
                        }
                    }
                },
            );
            // With a block unread, some live entries are unknown: a name in slack could
            // still be live there.
            if slack.is_empty() || !whole {
                continue;
            }
            // Those names still in the live index (the same file, or a reference one
            // side lost): old copies of live entries, not files that are gone, whatever
            // their MFT records say (they may be damaged). A second reading keeps only
            // these names, so memory stays with the matches, not the folder's size.
            let names: FxHashSet<String> = slack
                .iter()
                .map(|(_, _, e, _)| e.key.name.to_lowercase())
                .collect();
            let mut live: FxHashMap<String, Vec<(u64, u16)>> = FxHashMap::default();
            let mut keep = |entries: Vec<LiveEntry>| {
                for e in entries {
                    let name = e.name.to_lowercase();
                    if names.contains(&name) {
                        live.entry(name).or_default().push(e.file);
                    }
                }
            };
            keep(index.root_live.clone());
            let quiet = Warnings::default();
            self.each_block(
                &index,
                (sector, cluster),
                &location,
                &quiet,
                |_, block, s| {
                    keep(live_entries(block, s.live.clone()));
                },
            );
            for (at, vcn, mut entry, hit) in slack {
                // A reference past the MFT is bytes of another entry, not a file's.
                entry.file = entry.file.filter(|&(record, _)| record < records_in_mft);
                let name = &entry.key.name;
                let in_index = live
                    .get(&name.to_lowercase())
                    .is_some_and(|files| entry.file.is_none_or(|f| files.contains(&f)));
                let mut components = context.path.clone();
                components.push(name.clone());
                let path = components.join("\\");
                if in_index
                    || known
                        .get_or_insert_with(|| Known::of(found))
                        .has(entry.file, &path)
                {
                    continue;
                }
                let k = &entry.key;
                let key = (
                    number,
                    path.to_lowercase(),
                    entry.file,
                    [k.created, k.modified, k.mft_changed, k.accessed],
                );
                if seen.insert(key) {
                    out.push(slack_candidate(number, at, vcn, &entry, components, hit));
                }
            }
        }
        out
    }

    /// A folder's `$I30` index blocks: their size (from `$INDEX_ROOT`), where they are
    /// (`$INDEX_ALLOCATION`) and which are in use (`$BITMAP`). `None` for an index held
    /// whole in the record (it has no slack); a damaged one is a warning.
    fn folder_index(&self, record: &MftRecord, warnings: &Warnings) -> Option<FolderIndex> {
        let named = |type_code: u32| {
            record
                .attributes
                .iter()
                .filter(move |a| a.type_code == type_code && a.name == I30)
        };
        let allocation = named(ATTR_INDEX_ALLOCATION).find_map(|a| Extent::of(&a.body))?;
        let location = format!("MFT record {} $I30", record.number);
        let root = named(ATTR_INDEX_ROOT).find_map(|a| a.resident_data());
        let Some(block) = root.and_then(block_size) else {
            warnings.push(
                &self.label,
                location,
                "index blocks without a readable $INDEX_ROOT (no block size): their slack is not read",
            );
            return None;
        };
        let bitmap = match named(ATTR_BITMAP).next() {
            Some(a) => match (a.resident_data(), Extent::of(&a.body)) {
                (Some(data), _) => data.to_vec(),
                (None, Some(extent)) => {
                    let mut bytes = vec![0u8; extent.data_size.min(MAX_BITMAP) as usize];
                    match self.records.read_extent(&extent, 0, &mut bytes) {
                        Ok(n) => bytes.truncate(n),
                        Err(e) => {
                            warnings.push(&self.label, location, format!("$BITMAP: {e}"));
                            bytes.clear();
                        }
                    }
                    bytes
                }
                (None, None) => Vec::new(),
            },
            None => Vec::new(),
        };
        Some(FolderIndex {
            block,
            allocation,
            bitmap,
            root_live: root.map(root_entries).unwrap_or_default(),
        })
    }

    /// Read `index`'s blocks one at a time (memory: one block), each checked and handed
    /// to `each` with its byte offset in the allocation and its live and slack ranges.
    /// As many blocks as the allocation's runs hold, whatever its size says. False when
    /// a block in use could not be read or was damaged (a warning says so).
    fn each_block(
        &self,
        index: &FolderIndex,
        (sector, cluster): (usize, u64),
        location: &str,
        warnings: &Warnings,
        mut each: impl FnMut(u64, &[u8], &BlockSlack),
    ) -> bool {
        let mapped: u64 = index
            .allocation
            .runs
            .iter()
            .map(|r| r.length)
            .sum::<u64>()
            .saturating_mul(cluster);
        let size = index.allocation.data_size.min(mapped);
        let step = index.block as u64;
        // A VCN counts clusters, or 512-byte units when blocks are smaller.
        let unit = if step >= cluster { cluster } else { 512 };
        let mut buf = vec![0u8; index.block];
        let mut damaged = Vec::new();
        for (i, at) in (0..size / step).map(|i| (i as usize, i * step)) {
            match self.records.read_extent(&index.allocation, at, &mut buf) {
                Ok(n) if n == buf.len() => {}
                Ok(_) => break,
                Err(e) => {
                    let reason =
                        format!("index block at byte {at}: {e}; the folder's slack not read");
                    warnings.push(&self.label, location, reason);
                    return false;
                }
            }
            let in_use = block_in_use(&index.bitmap, i);
            match block_slack(&mut buf, at / unit.max(1), sector, in_use) {
                Ok(slack) => each(at, &buf, &slack),
                // A block the index does not use may hold anything (never written, or
                // reused): only a block in use is damaged.
                Err(e) if in_use => damaged.push(e.to_string()),
                Err(_) => {}
            }
        }
        if damaged.is_empty() {
            return true;
        }
        let n = damaged.len();
        let first = damaged.swap_remove(0);
        warnings.push(
            &self.label,
            location,
            format!("{n} damaged index block(s), the folder's slack not read; first: {first}"),
        );
        false
    }
}

/// The candidate of a name in slack: state deleted, its four `$FILE_NAME` times, no data.
fn slack_candidate(
    folder: u64,
    block_at: u64,
    vcn: u64,
    entry: &SlackEntry,
    components: Vec<String>,
    found: EntryMatch,
) -> Candidate {
    let k = &entry.key;
    let is_dir = k.flags & FILE_NAME_IS_DIR != 0;
    let times = [
        ("Created", k.created),
        ("Modified", k.modified),
        ("Accessed", k.accessed),
        ("MFT Entry Changed", k.mft_changed),
    ]
    .into_iter()
    .filter_map(|(label, ft)| {
        Some(FileTime {
            label,
            attribute: SLACK_ATTRIBUTE,
            time: Timestamp::from_filetime(ft)?,
        })
    })
    .collect();
    let names = match entry.file {
        Some((record, sequence)) => format!("names mft={record} seq={sequence}"),
        None => "its file reference overwritten".to_string(),
    };
    Candidate {
        components,
        input_depth: 0,
        volume_depth: 0,
        kind: if is_dir {
            EntryKind::Dir
        } else {
            EntryKind::File
        },
        size: (!is_dir).then_some(k.data_size),
        times,
        state: RecordState::Deleted,
        locator: format!(
            "mft={folder} $I30 slack: block at byte {block_at} (VCN {vcn}) offset {:#x}; {names}",
            entry.offset
        ),
        handle: EntryHandle::NameOnly,
        found,
    }
}
