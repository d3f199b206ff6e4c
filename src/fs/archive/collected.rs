//! Collected NTFS metadata inside an archive: each entry named `$MFT` (any case) is the
//! `$MFT` of a collected volume whose root is the folder holding it (a KAPE target ZIP's
//! `C/$MFT`, a Velociraptor `uploads/ntfs/%5C%5C.%5CC%3A/$MFT`), with its `$J` in the
//! root's `$Extend` folder or beside it, and the archive's copies of the volume's files
//! named so the `$MFT` rows do not read them twice.
//!
//! Each entry is handed on as a [`CollectedFile`] that opens the entry again for every
//! pass (a fresh ZIP entry reader; a tar.gz inflated again up to the member): nothing is
//! unpacked, memory stays bounded.

use std::io::{self, Read};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{ArchiveFs, Backend};
use crate::catalog::fold_case;
use crate::fs::EntryKind;
use crate::fs::collected::{CopyFinder, JOURNAL_NAMES};
use crate::host::collected::CollectedFile;

/// An archive entry read as a collected file.
pub struct EntryFile {
    backend: Arc<dyn Backend>,
    index: usize,
    len: u64,
    name: String,
}

impl CollectedFile for EntryFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        self.backend.open(self.index).map_err(io::Error::other)
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

/// One collected volume found in an archive.
pub struct CollectedVolume {
    pub mft: Box<dyn CollectedFile>,
    pub journal: Option<Box<dyn CollectedFile>>,
    /// The archive's copies of the volume's files, by path from the volume root.
    pub copies: CopyFinder,
}

impl ArchiveFs {
    /// How rows and warnings name entry `index`: the archive and the entry as stored.
    pub fn entry_name(&self, index: usize) -> String {
        format!("{} entry={}", self.label, self.entry_path(index))
    }

    fn entry_file(&self, index: usize) -> EntryFile {
        EntryFile {
            backend: Arc::clone(&self.backend),
            index,
            len: self.tree.entries().get(index).map_or(0, |e| e.size),
            name: self.entry_name(index),
        }
    }

    /// The file entries at the children of `folder` whose names pass `keep`, in name
    /// order.
    fn files_in(&self, folder: usize, keep: impl Fn(&str) -> bool) -> Vec<usize> {
        self.tree
            .children(folder)
            .filter(|&c| keep(self.tree.name(c)))
            .flat_map(|c| self.tree.entries_at(c))
            .filter(|&e| self.tree.entries()[e].kind == EntryKind::File)
            .collect()
    }

    /// Every entry named `$MFT`, in listing order, as a collected volume.
    pub fn collected_volumes(&self) -> Vec<CollectedVolume> {
        let mut volumes = Vec::new();
        for (index, entry) in self.tree.entries().iter().enumerate() {
            let node = self.tree.node_of(index).unwrap_or(0);
            if entry.kind != EntryKind::File
                || node == 0
                || !self.tree.name(node).eq_ignore_ascii_case("$MFT")
                || self.tree.children(node).len() > 0
            {
                continue;
            }
            let root = self.tree.parent(node);
            let is_journal =
                |name: &str| JOURNAL_NAMES.iter().any(|j| j.eq_ignore_ascii_case(name));
            let extend = self
                .tree
                .children(root)
                .find(|&c| fold_case(self.tree.name(c)) == fold_case("$Extend") && self.is_dir(c));
            let journal = extend
                .and_then(|x| self.files_in(x, is_journal).first().copied())
                .or_else(|| self.files_in(root, is_journal).first().copied());
            volumes.push(CollectedVolume {
                mft: Box::new(self.entry_file(index)),
                journal: journal.map(|j| Box::new(self.entry_file(j)) as Box<dyn CollectedFile>),
                copies: self.copies_under(root),
            });
        }
        volumes
    }

    /// The file entries below `root`, by their names from `root` down.
    fn copies_under(&self, root: usize) -> CopyFinder {
        let mut copies: FxHashMap<Vec<String>, String> = FxHashMap::default();
        for (index, entry) in self.tree.entries().iter().enumerate() {
            let node = self.tree.node_of(index).unwrap_or(0);
            if entry.kind != EntryKind::File || node == 0 || self.is_dir(node) {
                continue;
            }
            let chain = self.chain(node);
            let from = match root {
                0 => Some(0),
                _ => chain.iter().position(|&n| n == root).map(|p| p + 1),
            };
            let Some(from) = from else { continue };
            let names = chain[from..]
                .iter()
                .map(|&n| self.tree.name(n).to_string())
                .collect();
            copies
                .entry(names)
                .or_insert_with(|| self.entry_name(index));
        }
        Box::new(move |components: &[String]| copies.get(components).cloned())
    }
}
