//! What the first pass over `$MFT` keeps of each file record so that the second pass
//! reads again only the records it needs: the folder its names give as their parent.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::mft_walk::EXTEND;

/// Records a page of the table holds: a page is allocated when the first file record
/// in it is noted, so a damaged `$MFT` size (billions of never-used records) costs a
/// few bytes per page, not eight a record.
const PAGE: usize = 4096;

/// What the first pass keeps of every file record: the folder its names give as their
/// parent (reference: record number and sequence number), so that the second pass reads
/// again only the files of folders where a file can match. Eight bytes a record, in
/// pages allocated as files are met.
pub(super) struct FileParents {
    /// Page `i` holds records `i * PAGE..`. By record number: 0 for no file (a folder,
    /// an extension record, unreadable or never used), [`FileParents::MANY`] for names
    /// in different folders, else the parent's reference as NTFS stores it (sequence
    /// number in the top 16 bits).
    pages: Vec<OnceLock<Box<[AtomicU64]>>>,
    /// Records in the MFT: those past it are not kept.
    records: u64,
}

impl FileParents {
    const MANY: u64 = u64::MAX;

    pub(super) fn new(records: u64) -> Self {
        let n = usize::try_from(records.div_ceil(PAGE as u64)).unwrap_or(0);
        FileParents {
            pages: std::iter::repeat_with(OnceLock::new).take(n).collect(),
            records,
        }
    }

    /// Keep the parents of file record `number`; true when one of them is `$Extend`.
    pub(super) fn note(&self, number: u64, parents: impl Iterator<Item = (u64, u16)>) -> bool {
        let (mut kept, mut in_extend) = (0u64, false);
        for (parent, sequence) in parents {
            in_extend |= parent == EXTEND;
            let reference = match (u64::from(sequence) << 48) | (parent & 0xFFFF_FFFF_FFFF) {
                0 => Self::MANY,
                r => r,
            };
            kept = match kept {
                0 => reference,
                k if k == reference => k,
                _ => Self::MANY,
            };
        }
        let Ok(i) = usize::try_from(number) else {
            return in_extend;
        };
        if number >= self.records {
            return in_extend;
        }
        if kept != 0
            && let Some(page) = self.pages.get(i / PAGE)
        {
            let page = page.get_or_init(|| {
                std::iter::repeat_with(Default::default)
                    .take(PAGE)
                    .collect()
            });
            page[i % PAGE].store(kept, Ordering::Relaxed);
        }
        in_extend
    }

    /// The file records (ascending) whose parent `wanted(record, parent, sequence)`
    /// accepts, and those with names in several folders.
    pub(super) fn listed(&self, wanted: impl Fn(u64, u64, u16) -> bool) -> Vec<u64> {
        let mut out = Vec::new();
        for (first, page) in (0u64..).step_by(PAGE).zip(&self.pages) {
            let Some(page) = page.get() else { continue };
            for (number, slot) in (first..).zip(page.iter()) {
                match slot.load(Ordering::Relaxed) {
                    0 => {}
                    Self::MANY => out.push(number),
                    r if wanted(number, r & 0xFFFF_FFFF_FFFF, (r >> 48) as u16) => out.push(number),
                    _ => {}
                }
            }
        }
        out
    }

    /// Pages allocated (for tests).
    #[cfg(test)]
    fn pages_held(&self) -> usize {
        self.pages.iter().filter(|p| p.get().is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_listed_by_its_parent_and_names_in_two_folders_always() {
        let parents = FileParents::new(8);
        // Record 2: long and DOS name in folder 40 (sequence 3).
        assert!(!parents.note(2, [(40, 3), (40, 3)].into_iter()));
        // Record 3: hard links in folders 40 and 50.
        parents.note(3, [(40, 3), (50, 1)].into_iter());
        // Record 4: in $Extend.
        assert!(parents.note(4, [(EXTEND, 11)].into_iter()));
        // Record 5: a parent reference of zero is kept as "read again".
        parents.note(5, [(0, 0)].into_iter());
        // Record 6: no $FILE_NAME; record 9 is past the table (ignored).
        parents.note(6, std::iter::empty());
        parents.note(9, [(40, 3)].into_iter());
        let seen = std::sync::Mutex::new(Vec::new());
        let listed = parents.listed(|number, parent, sequence| {
            seen.lock().unwrap().push((number, parent, sequence));
            parent == 40 && sequence == 3
        });
        assert_eq!(listed, vec![2, 3, 5]);
        assert_eq!(*seen.lock().unwrap(), vec![(2, 40, 3), (4, EXTEND, 11)]);
        // Nothing wanted: only the ones with several folders.
        assert_eq!(parents.listed(|_, _, _| false), vec![3, 5]);
    }

    #[test]
    fn pages_are_allocated_only_where_files_are() {
        // A damaged $MFT size: a billion records, files in two far-apart pages only.
        let parents = FileParents::new(1 << 30);
        assert_eq!(parents.pages_held(), 0);
        parents.note(7, [(5, 5)].into_iter());
        parents.note(900_000_000, [(5, 5)].into_iter());
        // A record with no name allocates nothing.
        parents.note(500_000_000, std::iter::empty());
        assert_eq!(parents.pages_held(), 2);
        assert_eq!(parents.listed(|_, p, _| p == 5), vec![7, 900_000_000]);
    }
}
