//! Collected NTFS metadata: a `$MFT` copied out of its volume (found in a collection
//! folder, or given directly) scanned as the MFT of an image is, with the `$J` collected
//! beside it as its change journal.

use std::path::{Path, PathBuf};

use super::Scanner;
use crate::fs::archive::ArchiveFs;
use crate::fs::collected::{CopyFinder, JOURNAL_NAMES, collected_view};
use crate::host::collected::{CollectedFile, HostFile};
use crate::host::display_name;
use crate::host::walk::list_dir;
use crate::ntfs::collected::{CollectedError, CollectedMft};

/// The collected `$J` of the volume whose `$MFT` is at `mft`: in the volume root's
/// `$Extend` folder, else beside `$MFT`.
pub(crate) fn journal_beside(mft: &Path) -> Option<PathBuf> {
    let root = mft.parent()?;
    let find = |folder: &Path| {
        let mut found: Vec<PathBuf> = list_dir(folder)
            .ok()?
            .into_iter()
            .filter(|(name, kind)| {
                let name = display_name(name);
                kind.is_file() && JOURNAL_NAMES.iter().any(|j| j.eq_ignore_ascii_case(&name))
            })
            .map(|(name, _)| folder.join(name))
            .collect();
        found.sort();
        found.into_iter().next()
    };
    let extend = list_dir(root)
        .ok()?
        .into_iter()
        .find(|(name, kind)| kind.is_dir() && display_name(name).eq_ignore_ascii_case("$Extend"))
        .map(|(name, _)| root.join(name));
    extend.and_then(|dir| find(&dir)).or_else(|| find(root))
}

/// Is `mft` a collected `$MFT`? `Err` says why it is not one.
pub(crate) fn check_mft(mft: &Path) -> Result<(), CollectedError> {
    let name = display_name(mft.as_os_str());
    let file = HostFile::new(mft).map_err(|source| CollectedError::Io { name, source })?;
    CollectedMft::check(Box::new(file))
}

/// Where the collection folder holding the volume root `root` has a copy of the file
/// at a path from the volume root.
fn copies_under(root: PathBuf) -> CopyFinder {
    Box::new(move |components: &[String]| {
        let path = components.iter().fold(root.clone(), |p, c| p.join(c));
        std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.is_file())
            .then(|| display_name(path.as_os_str()))
    })
}

impl Scanner<'_> {
    /// Scan the collected `$MFT` at `mft` (and the `$J` beside it). `in_collection`: it
    /// was met in a collection folder, whose copies of files are read there (the rows
    /// of the `$MFT` then name the copy rather than reading it twice).
    pub(super) fn scan_collected(&mut self, mft: &Path, in_collection: bool) {
        let name = display_name(mft.as_os_str());
        let file = match HostFile::new(mft) {
            Ok(file) => file,
            Err(e) => {
                self.warnings
                    .push(&name, "$MFT", format!("cannot read: {e}; not scanned"));
                return;
            }
        };
        let journal = journal_beside(mft).and_then(|path| match HostFile::new(&path) {
            Ok(file) => Some(Box::new(file) as Box<dyn CollectedFile>),
            Err(e) => {
                let label = display_name(path.as_os_str());
                self.warnings.push(
                    &label,
                    "$J",
                    format!("cannot read the collected journal: {e}"),
                );
                None
            }
        });
        let copies = match (in_collection, mft.parent()) {
            (true, Some(root)) => Some(copies_under(root.to_path_buf())),
            _ => None,
        };
        self.scan_collected_files(Box::new(file), journal, copies, in_collection);
    }

    /// Scan every collected `$MFT` inside an archive (with its `$J`), the archive's
    /// copies of files named rather than read twice.
    pub(super) fn scan_archive_collected(&mut self, archive: &ArchiveFs) {
        for volume in archive.collected_volumes() {
            self.scan_collected_files(volume.mft, volume.journal, Some(volume.copies), true);
        }
    }

    /// Scan a collected `$MFT` from wherever it comes (a host file, an archive entry),
    /// with its `$J` and a way to find the collection's copies of files.
    pub(super) fn scan_collected_files(
        &mut self,
        mft: Box<dyn CollectedFile>,
        journal: Option<Box<dyn CollectedFile>>,
        copies: Option<CopyFinder>,
        in_collection: bool,
    ) {
        let name = mft.name();
        let collected = match CollectedMft::open(mft) {
            Ok(m) => m,
            Err(e) => {
                let what = if in_collection {
                    "a file named $MFT that cannot be read as one; not scanned as metadata"
                } else {
                    "not scanned"
                };
                self.warnings
                    .push(&name, "$MFT", format!("{what}: {}", e.reason()));
                return;
            }
        };
        let view = collected_view(collected, journal, copies);
        self.scan_view(&view);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_is_found_in_extend_or_beside_mft_whatever_its_case() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("$MFT"), b"").unwrap();
        assert_eq!(journal_beside(&root.join("$MFT")), None);
        std::fs::write(root.join("$usnjrnl_$j"), b"").unwrap();
        assert_eq!(
            journal_beside(&root.join("$MFT")),
            Some(root.join("$usnjrnl_$j"))
        );
        std::fs::create_dir(root.join("$EXTEND")).unwrap();
        std::fs::write(root.join("$EXTEND").join("$J"), b"").unwrap();
        assert_eq!(
            journal_beside(&root.join("$MFT")),
            Some(root.join("$EXTEND").join("$J"))
        );
    }
}
