//! The inputs as scanned: each once, and none silently empty. The same input given twice
//! (under any spelling: paths are compared canonical), a folder inside a folder also
//! given, or a hive inside a folder also given (of a size the folder's search for hives
//! finds) is scanned once, as part of the outer one, with a warning naming both. A disk
//! image inside a folder is kept: the folder's walk does not read disk images. Nothing
//! is followed into: canonical paths are only compared.

use std::path::PathBuf;

use crate::fs::directory::DirectoryFs;
use crate::input::{Input, InputKind};
use crate::warning::Warnings;

/// The inputs to scan, in the order given, each once.
pub(super) fn distinct<'i>(inputs: &'i [Input], warnings: &Warnings) -> Vec<&'i Input> {
    let canonical: Vec<PathBuf> = inputs
        .iter()
        .map(|i| std::fs::canonicalize(&i.path).unwrap_or_else(|_| i.path.clone()))
        .collect();
    let mut kept = Vec::with_capacity(inputs.len());
    for (n, input) in inputs.iter().enumerate() {
        let path = &canonical[n];
        let same = (0..n).find(|&m| canonical[m] == *path);
        if let Some(m) = same {
            warnings.push(
                &input.label,
                "input",
                format!(
                    "the same as input {} (given twice): scanned once",
                    inputs[m].label
                ),
            );
            continue;
        }
        // A hive inside a folder is read by the folder's walk when a rule names it or
        // its size lets the search by content find it; one of another size is kept.
        let read_by_walk = match input.kind {
            InputKind::Directory => true,
            InputKind::RegistryHive => std::fs::metadata(path)
                .is_ok_and(|m| crate::fs::hive_suspects::plausible_hive_size(m.len())),
            _ => false,
        };
        // The outermost folder holding it (the one that is scanned).
        let outer = (0..inputs.len())
            .filter(|&m| {
                m != n
                    && inputs[m].kind == InputKind::Directory
                    && canonical[m] != *path
                    && path.starts_with(&canonical[m])
            })
            .min_by_key(|&m| (canonical[m].components().count(), m));
        if let Some(m) = outer.filter(|_| read_by_walk) {
            warnings.push(
                &input.label,
                "input",
                format!(
                    "inside input {} (a folder also given): scanned once, as part of it",
                    inputs[m].label
                ),
            );
            continue;
        }
        kept.push(input);
    }
    kept
}

/// Say so when an archive gave nothing to scan: it holds no entry, or none is a volume
/// structure, a hive or a file the catalog names. Returns whether it was empty of
/// anything scannable.
pub(super) fn check_archive_not_empty(
    input: &Input,
    entries: usize,
    holds_volume: bool,
    found: usize,
    warnings: &Warnings,
) -> bool {
    let why = if entries == 0 {
        "an empty archive (0 entries): nothing was scanned".to_string()
    } else if found == 0 && !holds_volume {
        format!(
            "nothing could be scanned: {entries} entries listed, but none is a place \
             NetSession leaves traces: no volume structure (Windows, Users, Program \
             Files...), no registry hive, no file the catalog names; \"no trace\" says \
             nothing about this input"
        )
    } else {
        return false;
    };
    warnings.push(&input.label, "input", why);
    true
}

/// Say so when a directory input gave nothing to scan: it is empty, or it holds no
/// volume structure, no hive and nothing the catalog names. `entries` walked,
/// `found` candidates and hives. Returns whether it was empty of anything scannable.
pub(super) fn check_not_empty(
    input: &Input,
    view: &DirectoryFs,
    entries: u64,
    found: usize,
    warnings: &Warnings,
) -> bool {
    if entries == 0 {
        warnings.push(
            &input.label,
            "input",
            "an empty folder (0 entries): nothing was scanned; if it is a mount point, the \
             volume is not mounted there",
        );
        return true;
    }
    if found == 0 && !view.looks_like_volume() {
        warnings.push(
            &input.label,
            "input",
            format!(
                "nothing could be scanned: {entries} entries walked, but none is a place \
                 NetSession leaves traces: no volume structure (Windows, Users, Program \
                 Files...), no registry hive, no file the catalog names; \"no trace\" says \
                 nothing about this input"
            ),
        );
        return true;
    }
    false
}
