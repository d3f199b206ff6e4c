//! Hives by content inside an archive: entries no catalog rule matched, of a plausible
//! hive size (the archive's listing gives sizes: no stat), are set aside to have their
//! first 4 KiB looked at for a registry base block, with the policy of directories
//! ([`crate::fs::directory`]): outside any volume root every file; inside a volume root
//! only `Windows\System32\config` and below (`SYSTEM.bak`, `RegBack`), the hives
//! elsewhere there being found by their standard names. At most [`MAX_SUSPECTS`] per
//! archive; the rest are counted so the scan can say so.

use super::ArchiveFs;
use crate::fs::EntryKind;
use crate::fs::hive_suspects::{MAX_SUSPECTS, plausible_hive_size};

/// Entries of an archive that may be hives.
#[derive(Debug, Default)]
pub struct ArchiveSuspects {
    /// Entry indexes, in listing order.
    pub entries: Vec<usize>,
    /// Entries of a plausible size past [`MAX_SUSPECTS`], not set aside.
    pub over_cap: u64,
}

impl ArchiveFs {
    /// The entries to look at for a hive signature (those the last walk matched left
    /// out: a hive is read once).
    pub fn hive_suspects(&self) -> ArchiveSuspects {
        let matched = self.matched.lock().unwrap_or_else(|e| e.into_inner());
        let mut suspects = ArchiveSuspects::default();
        for (index, entry) in self.tree.entries().iter().enumerate() {
            let node = self.tree.node_of(index).unwrap_or(0);
            if entry.kind != EntryKind::File
                || entry.encrypted
                || node == 0
                || self.is_dir(node)
                || !plausible_hive_size(entry.size)
                || matched.contains(&index)
                || !self.searched_everywhere(node)
            {
                continue;
            }
            if suspects.entries.len() < MAX_SUSPECTS {
                suspects.entries.push(index);
            } else {
                suspects.over_cap += 1;
            }
        }
        suspects
    }

    /// Is the file at `node` in a folder where every file is looked at: outside any
    /// volume root, or in `Windows\System32\config` (and below) of one?
    fn searched_everywhere(&self, node: usize) -> bool {
        let chain = self.chain(node);
        let folders = std::iter::once(0).chain(chain[..chain.len() - 1].iter().copied());
        let mut root_at: Option<usize> = None;
        for (depth, folder) in folders.enumerate() {
            match root_at {
                None if self.is_volume_root(folder) => root_at = Some(depth),
                Some(root) if depth == root + 3 => {
                    let names: Vec<&str> = chain[root..root + 3]
                        .iter()
                        .map(|&n| self.tree.name(n))
                        .collect();
                    if crate::fs::hive_suspects::is_hive_folder(&names) {
                        root_at = None;
                    }
                }
                _ => {}
            }
        }
        root_at.is_none()
    }

    /// Up to `limit` bytes from the start of each entry of `wanted` (listing order).
    pub fn entry_heads(
        &self,
        wanted: &[usize],
        limit: u64,
    ) -> Vec<(usize, Result<Vec<u8>, String>)> {
        self.backend.heads(wanted, limit)
    }

    /// The folder node holding entry `index` (to group the hives of one folder).
    pub fn entry_folder(&self, index: usize) -> usize {
        self.tree
            .node_of(index)
            .map_or(0, |node| self.tree.parent(node))
    }

    /// The entry's path in the archive's tree, Windows style (names decoded).
    pub fn entry_evidence_path(&self, index: usize) -> String {
        let node = self.tree.node_of(index).unwrap_or(0);
        self.chain(node)
            .iter()
            .map(|&n| self.tree.name(n))
            .collect::<Vec<_>>()
            .join("\\")
    }

    /// The file entries beside entry `index` in its folder: (name, entry), name order.
    pub fn files_beside(&self, index: usize) -> Vec<(String, usize)> {
        let folder = self.entry_folder(index);
        self.tree
            .children(folder)
            .flat_map(|c| {
                self.tree
                    .entries_at(c)
                    .filter(|&e| e != index && self.tree.entries()[e].kind == EntryKind::File)
                    .map(move |e| (self.tree.name(c).to_string(), e))
            })
            .collect()
    }
}
