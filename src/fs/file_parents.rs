//! What the first pass over `$MFT` keeps of each file record so that the second pass
//! reads again only the records it needs: the folder its names give as their parent.

use std::sync::atomic::{AtomicU64, Ordering};

use super::mft_walk::EXTEND;

/// What the first pass keeps of every file record: the folder its names give as their
/// parent (reference: record number and sequence number), so that the second pass reads
/// again only the files of folders where a file can match. Eight bytes a record.
pub(super) struct FileParents {
    /// By record number: 0 for no file (a folder, an extension record, unreadable or
    /// never used), [`FileParents::MANY`] for names in different folders, else the
    /// parent's reference as NTFS stores it (sequence number in the top 16 bits).
    slots: Vec<AtomicU64>,
}

impl FileParents {
    const MANY: u64 = u64::MAX;

    pub(super) fn new(records: u64) -> Self {
        let n = usize::try_from(records).unwrap_or(0);
        FileParents {
            slots: std::iter::repeat_with(Default::default).take(n).collect(),
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
        if let Some(slot) = usize::try_from(number).ok().and_then(|i| self.slots.get(i)) {
            slot.store(kept, Ordering::Relaxed);
        }
        in_extend
    }

    /// The file records (ascending) whose parent `wanted(record, parent, sequence)`
    /// accepts, and those with names in several folders.
    pub(super) fn listed(&self, wanted: impl Fn(u64, u64, u16) -> bool) -> Vec<u64> {
        let mut out = Vec::new();
        for (number, slot) in (0u64..).zip(&self.slots) {
            match slot.load(Ordering::Relaxed) {
                0 => {}
                Self::MANY => out.push(number),
                r if wanted(number, r & 0xFFFF_FFFF_FFFF, (r >> 48) as u16) => out.push(number),
                _ => {}
            }
        }
        out
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
}
