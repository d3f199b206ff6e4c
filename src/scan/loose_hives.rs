//! Hives anywhere in a directory input: the files a walk set aside by size
//! ([`crate::fs::hive_suspects`]) are opened and their first 4 KiB read; those holding a
//! valid primary base block (`regf`, hive bins data size and root cell consistent, file
//! type 0: a transaction log is used beside its hive, never alone) are hives, whatever
//! their name. Their kind comes from their content in the registry analysis.
//!
//! The hives of one folder are analysed together as one system (as exported hives given
//! together are), one folder at a time, so memory holds one folder's hives at most.
//! Files the catalog matched by name never get here: a hive is read once.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::hives;
use crate::catalog::Catalog;
use crate::fs::hive_suspects::{HiveSuspects, MAX_SUSPECTS};
use crate::registry::base_block::BaseBlock;
use crate::store::RowStore;
use crate::warning::Warnings;

/// Sniff the suspects of one directory walk, analyse the hives found folder by folder,
/// and put their rows in `store`. Returns how many hives were analysed.
pub(super) fn analyse(
    suspects: HiveSuspects,
    source: &str,
    catalog: &Catalog,
    hash: bool,
    warnings: &Warnings,
    store: &RowStore,
) -> usize {
    if suspects.over_cap > 0 {
        warnings.push(
            source,
            "hive search",
            format!(
                "{} more files of a plausible hive size were not opened to look for a registry \
                 hive signature (at most {MAX_SUSPECTS} per input): hives among them are \
                 missed; give the folder holding them as an input of its own",
                suspects.over_cap
            ),
        );
    }
    let found: Vec<PathBuf> = suspects
        .paths
        .into_par_iter()
        .filter(|path| is_primary_hive(path))
        .collect();
    let mut folders: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for path in found {
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        folders.entry(folder).or_default().push(path);
    }
    let root = &suspects.root;
    folders
        .into_par_iter()
        .map(|(_, mut paths)| {
            paths.sort();
            let group: Vec<_> = paths
                .iter()
                .filter_map(|path| {
                    let at = evidence_path(root, path);
                    hives::from_host_file_in(path, source, &at, hash, warnings)
                })
                .collect();
            store.push_all(crate::registry::analyze_hives(&group, catalog, warnings));
            group.len()
        })
        .sum()
}

/// Does the file start with the base block of a primary hive file?
fn is_primary_hive(path: &Path) -> bool {
    let Ok(file) = crate::host::open_evidence_file(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(4096);
    if file.take(4096).read_to_end(&mut head).is_err() {
        return false;
    }
    BaseBlock::parse_header(&head).is_ok_and(|b| b.file_type == 0)
}

/// The path below the input's root, Windows style (`hives\1.bin`).
fn evidence_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(name) => Some(crate::host::display_name(name)),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\\")
}
