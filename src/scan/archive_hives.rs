//! Hives anywhere in an archive: the entries an archive sets aside by size and place
//! ([`crate::fs::archive::hive_search`]) have their first 4 KiB read; those holding a
//! valid primary base block are hives, whatever their name, analysed with the logs beside
//! them in the archive. The hives of one folder are analysed together as one system, as
//! for folders ([`super::loose_hives`]).

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::hives::{self, is_log_of, read_capped};
use crate::catalog::Catalog;
use crate::fs::FileSystem;
use crate::fs::archive::ArchiveFs;
use crate::fs::hive_suspects::MAX_SUSPECTS;
use crate::registry::base_block::BaseBlock;
use crate::registry::hive::HiveInput;
use crate::store::RowStore;
use crate::warning::Warnings;

impl super::Scanner<'_> {
    /// Hives by content in `archive`, after its walk.
    pub(super) fn scan_archive_hives(&mut self, archive: &ArchiveFs) {
        let (catalog, hash, warnings) = (self.catalog, self.options.hash, self.warnings);
        self.stats.hives += analyse(archive, catalog, hash, warnings, &self.rows);
    }
}

/// Look for hives by content in `archive` (after its walk), analyse them folder by
/// folder and put their rows in `store`. Returns how many hives were analysed.
fn analyse(
    archive: &ArchiveFs,
    catalog: &Catalog,
    hash: bool,
    warnings: &Warnings,
    store: &RowStore,
) -> usize {
    let source = archive.source();
    let suspects = archive.hive_suspects();
    if suspects.over_cap > 0 {
        warnings.push(
            source,
            "hive search",
            format!(
                "{} more entries of a plausible hive size were not opened to look for a \
                 registry hive signature (at most {MAX_SUSPECTS} per input): hives among \
                 them are missed",
                suspects.over_cap
            ),
        );
    }
    let mut folders: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (index, head) in archive.entry_heads(&suspects.entries, 4096) {
        // A transaction log starts with `regf` too: it is read beside its hive.
        if head.is_ok_and(|h| BaseBlock::parse_header(&h).is_ok_and(|b| b.file_type == 0)) {
            folders
                .entry(archive.entry_folder(index))
                .or_default()
                .push(index);
        }
    }
    folders
        .into_par_iter()
        .map(|(_, entries)| {
            let group: Vec<HiveInput> = entries
                .iter()
                .filter_map(|&index| hive_of(archive, index, hash, warnings))
                .collect();
            store.push_all(crate::registry::analyze_hives(&group, catalog, warnings));
            group.len()
        })
        .sum()
}

/// Entry `index` as a hive, with the logs beside it.
fn hive_of(
    archive: &ArchiveFs,
    index: usize,
    hash: bool,
    warnings: &Warnings,
) -> Option<HiveInput> {
    let source = archive.source().to_string();
    let at = archive.entry_evidence_path(index);
    let read = |entry: usize, what: &str| -> Option<Vec<u8>> {
        let bytes = archive
            .open_entry(entry)
            .map_err(|e| e.to_string())
            .and_then(|r| {
                read_capped(r, archive.entries().get(entry).map(|e| e.size))
                    .map_err(|e| e.to_string())
            });
        match bytes {
            Ok(Some(bytes)) => Some(bytes),
            Ok(None) => {
                warnings.push(
                    &source,
                    format!("{at}{what}"),
                    format!("larger than {} bytes; not read", hives::MAX_HIVE_BYTES),
                );
                None
            }
            Err(e) => {
                warnings.push(&source, format!("{at}{what}"), format!("cannot read: {e}"));
                None
            }
        }
    };
    let bytes = read(index, "")?;
    let name = at.rsplit('\\').next().unwrap_or("").to_string();
    let logs = archive
        .files_beside(index)
        .into_iter()
        .filter(|(log, _)| is_log_of(&name, log))
        .filter_map(|(log, entry)| read(entry, &format!(" (log {log})")).map(|b| (log, b)))
        .collect();
    Some(hives::hive_input(bytes, logs, hash, at, source, None))
}
