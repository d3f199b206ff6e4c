//! The stores of a volume, oldest first, and where each 512-byte sector of a 16 KiB block
//! of a snapshot comes from.
//!
//! The old content of a block may be in the snapshot's own store or in any LATER store
//! (a newer snapshot's), and only when no store from the snapshot's to the newest has it
//! does the live volume have it: the view of snapshot N consults stores N, N+1, ...,
//! newest, then the live volume, following forwarders into the next store and laying
//! overlays (only some sectors copied) over what is below them. A block flagged unused
//! in the store bitmaps (and the previous bitmaps) of a store whose flag 0x400 is set
//! reads as zeros, as Windows presents it.

use std::collections::HashSet;
use std::sync::Arc;

use super::bitmap::Bitmap;
use super::block::BLOCK;
use super::catalog::{SnapshotEntry, StoreEntry};
use super::descriptors::{Descriptor, descriptors_of, read_block_list};
use super::error::VssError;
use super::store::{StoreInformation, read_store_information};
use crate::image::source::ImageSource;

/// Store flag (catalog entry type 2): blocks the bitmaps mark unused read as zeros.
pub const FLAG_ZERO_UNUSED: u64 = 0x400;
/// 512-byte sectors per 16 KiB block.
pub const SECTORS: usize = 32;
pub const SECTOR: u64 = 512;

/// Where a sector of a snapshot comes from: the live volume at an offset, the volume
/// keeping the stores at an offset, or nothing (zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Live(u64),
    Stored(u64),
    Zero,
}

pub type Sectors = [Source; SECTORS];

fn run(start: u64, stored: bool) -> Sectors {
    std::array::from_fn(|i| {
        let at = start + i as u64 * SECTOR;
        if stored {
            Source::Stored(at)
        } else {
            Source::Live(at)
        }
    })
}

/// One store: its catalog entries, its information, block descriptors and bitmaps.
pub struct Store {
    pub snapshot: SnapshotEntry,
    pub entry: StoreEntry,
    pub information: Option<StoreInformation>,
    descriptors: Vec<Descriptor>,
    bitmap: Option<Bitmap>,
    previous: Option<Bitmap>,
    /// Forwarder targets the bitmaps mark unused.
    null_targets: HashSet<u64>,
}

impl Store {
    /// Reads the store's structures from `storage` (the volume keeping the stores).
    pub fn read(
        storage: &Arc<dyn ImageSource>,
        on: &'static str,
        snapshot: SnapshotEntry,
        entry: StoreEntry,
    ) -> Result<Store, VssError> {
        let name = snapshot.store_id.to_string();
        let information = read_store_information(storage.as_ref(), on, &name, entry.store_header)?;
        let descriptors = read_block_list(storage.as_ref(), on, &name, entry.block_list)?;
        let size = snapshot.volume_size;
        let bitmap = Bitmap::read(storage.clone(), on, &name, entry.bitmap, size)?;
        let previous = Bitmap::read(storage.clone(), on, &name, entry.previous_bitmap, size)?;
        let mut store = Store {
            snapshot,
            entry,
            information,
            descriptors,
            bitmap,
            previous,
            null_targets: HashSet::new(),
        };
        let mut targets = HashSet::new();
        for d in store.descriptors.iter().filter(|d| d.is_forwarder()) {
            if store.unused(d.relative)? {
                targets.insert(d.relative);
            }
        }
        store.null_targets = targets;
        Ok(store)
    }

    /// The block descriptors, sorted by original offset.
    pub fn descriptors(&self) -> &[Descriptor] {
        &self.descriptors
    }

    fn zero_unused(&self) -> bool {
        self.snapshot.flags & FLAG_ZERO_UNUSED != 0
    }

    /// Do the bitmap and the previous bitmap (where it holds the bit) mark the block at
    /// `offset` unused?
    pub fn unused(&self, offset: u64) -> Result<bool, VssError> {
        let Some(bitmap) = &self.bitmap else {
            return Ok(false);
        };
        if !bitmap.is_set(offset)? {
            return Ok(false);
        }
        match &self.previous {
            Some(previous) => Ok(previous.get(offset)?.unwrap_or(true)),
            None => Ok(true),
        }
    }

    /// Has this store a descriptor of `offset` that is not an overlay?
    fn has_full(&self, offset: u64) -> bool {
        descriptors_of(&self.descriptors, offset)
            .iter()
            .any(|d| !d.is_overlay())
    }
}

/// The stores of a volume, oldest first, with the live volume and the volume keeping
/// them.
pub struct ShadowSet {
    pub volume: Arc<dyn ImageSource>,
    pub storage: Arc<dyn ImageSource>,
    pub stores: Vec<Result<Store, VssError>>,
}

/// Is there a later store to go on to, and does one of them copy the block in full?
#[derive(Clone, Copy, PartialEq, Eq)]
enum Later {
    None,
    Copies,
    DoesNotCopy,
}

impl ShadowSet {
    fn store(&self, i: usize) -> Result<&Store, VssError> {
        match self.stores.get(i) {
            Some(Ok(store)) => Ok(store),
            Some(Err(e)) => Err(VssError::StoreUnreadable {
                number: i + 1,
                store: i + 1,
                message: e.to_string(),
            }),
            None => Err(VssError::NoSuchSnapshot(i + 1)),
        }
    }

    /// The volume offsets of the 16 KiB blocks that a store from snapshot `i`'s to the
    /// newest copies or forwards, sorted: every other block of the snapshot reads from
    /// the live volume at the same offset, or as zeros where the bitmaps mark it unused.
    pub fn copied_blocks(&self, i: usize) -> Vec<u64> {
        let mut out: Vec<u64> = self
            .stores
            .iter()
            .skip(i)
            .flatten()
            .flat_map(|s| s.descriptors.iter().map(|d| d.original))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Where the sectors of the 16 KiB block at `offset` of snapshot `i` (0: the oldest)
    /// come from.
    pub fn sectors(&self, i: usize, offset: u64) -> Result<Sectors, VssError> {
        self.resolve(i, offset - offset % BLOCK, false, false)
    }

    /// `from_older`: asked on behalf of an older store (its overlays are not this
    /// store's business); `forwarded`: asked for a forwarder's target.
    fn resolve(
        &self,
        i: usize,
        offset: u64,
        from_older: bool,
        forwarded: bool,
    ) -> Result<Sectors, VssError> {
        let store = self.store(i)?;
        let later = if i + 1 >= self.stores.len() {
            Later::None
        } else if (i + 1..self.stores.len())
            .any(|j| self.store(j).is_ok_and(|s| s.has_full(offset)))
        {
            Later::Copies
        } else {
            Later::DoesNotCopy
        };
        let unused = store.unused(offset)?;
        let zero = store.zero_unused();

        let mut sectors: Option<Sectors> = None;
        let mut covered = 0u32;
        let mut forward_to = None;
        let mut full = false;
        let mut overlay = false;
        for d in descriptors_of(&store.descriptors, offset) {
            if d.forwards() {
                forward_to = Some(d.relative);
                continue;
            }
            if d.is_overlay() {
                overlay = true;
                if from_older {
                    continue;
                }
                let base = match sectors {
                    Some(s) => s,
                    None if later == Later::Copies => self.next(i, offset, false)?,
                    None if unused && zero => [Source::Zero; SECTORS],
                    None => run(offset, false),
                };
                let mut s = base;
                covered |= d.bitmap;
                for (k, sector) in s.iter_mut().enumerate() {
                    if d.bitmap >> k & 1 == 1 {
                        *sector = Source::Stored(d.data + k as u64 * SECTOR);
                    }
                }
                sectors = Some(s);
                continue;
            }
            full = true;
            let copy = run(d.data, true);
            sectors = Some(match sectors {
                None => copy,
                Some(mut s) => {
                    for (k, sector) in s.iter_mut().enumerate() {
                        if covered >> k & 1 == 0 {
                            *sector = copy[k];
                        }
                    }
                    s
                }
            });
        }
        if let Some(target) = forward_to
            && !full
        {
            let forwarded_sectors = self.next(i, target, true)?;
            return Ok(match sectors {
                Some(mut s) if overlay && !from_older => {
                    for (k, sector) in s.iter_mut().enumerate() {
                        if covered >> k & 1 == 0 {
                            *sector = forwarded_sectors[k];
                        }
                    }
                    s
                }
                _ => forwarded_sectors,
            });
        }
        if zero && later == Later::DoesNotCopy && !full {
            let null_target = !forwarded && store.null_targets.contains(&offset);
            let plain_unused = forward_to.is_none() && !overlay && unused;
            if null_target || plain_unused {
                return Ok([Source::Zero; SECTORS]);
            }
        }
        match sectors {
            Some(s) => Ok(s),
            // A forwarder's target is only "forwarded" for one step: what the next store
            // has there is read as any other block.
            None => self.next(i, offset, false),
        }
    }

    /// The block at `offset` as the next store (or the live volume after the newest)
    /// has it.
    fn next(&self, i: usize, offset: u64, forwarded: bool) -> Result<Sectors, VssError> {
        if i + 1 < self.stores.len() {
            return self.resolve(i + 1, offset, true, forwarded);
        }
        let store = self.store(i)?;
        if store.unused(offset)? && store.zero_unused() && !forwarded {
            return Ok([Source::Zero; SECTORS]);
        }
        Ok(run(offset, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::source::MemoryImage;
    use crate::vss::catalog::{SnapshotEntry, StoreEntry};
    use crate::vss::descriptors::{FLAG_FORWARDER, FLAG_OVERLAY, resolve_list};
    use crate::vss::guid::{Guid, VSS_IDENTIFIER};

    const B: u64 = BLOCK;

    fn d(original: u64, relative: u64, data: u64, flags: u32, bitmap: u32) -> Descriptor {
        Descriptor {
            original: original * B,
            relative: relative * B,
            data: data * B,
            flags,
            bitmap,
        }
    }

    fn store(flags: u64, descriptors: Vec<Descriptor>, bitmap: Option<Bitmap>) -> Store {
        let mut store = Store {
            snapshot: SnapshotEntry {
                volume_size: 64 * B,
                store_id: Guid::default(),
                stack_position: 0,
                flags,
                creation_time: 0,
                at: 0,
            },
            entry: StoreEntry {
                block_list: 0,
                store_id: Guid::default(),
                store_header: 0,
                range_list: 0,
                bitmap: 0,
                file_reference: 0,
                allocated_size: 0,
                previous_bitmap: 0,
                at: 0,
            },
            information: None,
            descriptors: resolve_list(descriptors),
            bitmap,
            previous: None,
            null_targets: HashSet::new(),
        };
        let targets = store
            .descriptors
            .iter()
            .filter(|d| d.is_forwarder() && store.unused(d.relative).unwrap())
            .map(|d| d.relative)
            .collect();
        store.null_targets = targets;
        store
    }

    fn set(stores: Vec<Store>) -> ShadowSet {
        let volume: Arc<dyn ImageSource> = Arc::new(MemoryImage::new(vec![0; 64 * B as usize]));
        ShadowSet {
            volume: volume.clone(),
            storage: volume,
            stores: stores.into_iter().map(Ok).collect(),
        }
    }

    /// A bitmap (in a volume of its own) with the bits of `unused` blocks set.
    fn bitmap(unused: &[u64]) -> Bitmap {
        let mut data = vec![0u8; 2 * B as usize];
        let b = &mut data[B as usize..];
        b[..16].copy_from_slice(&VSS_IDENTIFIER.0);
        b[20..24].copy_from_slice(&crate::vss::block::TYPE_BITMAP.to_le_bytes());
        b[32..40].copy_from_slice(&B.to_le_bytes());
        for &u in unused {
            b[crate::vss::block::HEADER_LEN + (u / 8) as usize] |= 1 << (u % 8);
        }
        let source: Arc<dyn ImageSource> = Arc::new(MemoryImage::new(data));
        Bitmap::read(source, "volume", "t", B, 64 * B)
            .unwrap()
            .unwrap()
    }

    fn stored(block: u64) -> Sectors {
        run(block * B, true)
    }

    fn live(block: u64) -> Sectors {
        run(block * B, false)
    }

    #[test]
    fn a_block_copied_only_by_a_later_store_is_read_from_that_store() {
        // Snapshot 1 did not copy block 5 (it did not change before snapshot 2 was
        // taken); snapshot 2's store holds the copy: both snapshots read it there.
        let s = set(vec![
            store(0, vec![d(7, 0, 40, 0, 0)], None),
            store(0, vec![d(5, 0, 41, 0, 0)], None),
        ]);
        assert_eq!(s.sectors(0, 5 * B).unwrap(), stored(41));
        assert_eq!(s.sectors(1, 5 * B + 100).unwrap(), stored(41));
        assert_eq!(s.sectors(0, 7 * B).unwrap(), stored(40));
        // Snapshot 2 never saw block 7 change: the live volume has it.
        assert_eq!(s.sectors(1, 7 * B).unwrap(), live(7));
        assert_eq!(s.copied_blocks(0), vec![5 * B, 7 * B]);
        assert_eq!(s.copied_blocks(1), vec![5 * B]);
    }

    #[test]
    fn a_forwarder_reads_its_target_as_the_next_snapshot_has_it() {
        let s = set(vec![
            store(0, vec![d(3, 9, 0, FLAG_FORWARDER, 0)], None),
            store(0, vec![d(9, 0, 42, 0, 0)], None),
        ]);
        assert_eq!(s.sectors(0, 3 * B).unwrap(), stored(42));
        // The newest store forwarding: the live volume at the target.
        let newest = set(vec![store(0, vec![d(3, 9, 0, FLAG_FORWARDER, 0)], None)]);
        assert_eq!(newest.sectors(0, 3 * B).unwrap(), live(9));
    }

    #[test]
    fn an_overlay_lies_over_what_is_below_and_only_in_its_own_snapshot() {
        let s = set(vec![
            store(0, vec![d(4, 1, 50, FLAG_OVERLAY, 0b101)], None),
            store(0, vec![d(4, 0, 51, 0, 0)], None),
        ]);
        let got = s.sectors(0, 4 * B).unwrap();
        for (k, sector) in got.iter().enumerate() {
            let want = if k == 0 || k == 2 {
                Source::Stored(50 * B + k as u64 * SECTOR)
            } else {
                Source::Stored(51 * B + k as u64 * SECTOR)
            };
            assert_eq!(*sector, want, "sector {k}");
        }
        // Snapshot 2 ignores snapshot 1's overlay.
        assert_eq!(s.sectors(1, 4 * B).unwrap(), stored(51));
        // With nothing below it in later stores, the rest of the block is live.
        let alone = set(vec![store(0, vec![d(4, 1, 50, FLAG_OVERLAY, 0b10)], None)]);
        let got = alone.sectors(0, 4 * B).unwrap();
        assert_eq!(got[1], Source::Stored(50 * B + SECTOR));
        assert_eq!(got[0], Source::Live(4 * B));
        assert_eq!(got[31], Source::Live(4 * B + 31 * SECTOR));
        // A full copy in the same store after the overlay fills only what it left.
        let both = set(vec![store(
            0,
            vec![d(4, 1, 50, FLAG_OVERLAY, 0b1), d(4, 0, 52, 0, 0)],
            None,
        )]);
        let got = both.sectors(0, 4 * B).unwrap();
        assert_eq!(got[0], Source::Stored(50 * B));
        assert_eq!(got[1], Source::Stored(52 * B + SECTOR));
    }

    #[test]
    fn unused_blocks_read_as_zeros_only_when_the_store_says_so() {
        let zeroing = set(vec![store(FLAG_ZERO_UNUSED, vec![], Some(bitmap(&[6])))]);
        assert_eq!(zeroing.sectors(0, 6 * B).unwrap(), [Source::Zero; SECTORS]);
        assert_eq!(zeroing.sectors(0, 5 * B).unwrap(), live(5));
        let plain = set(vec![store(0, vec![], Some(bitmap(&[6])))]);
        assert_eq!(plain.sectors(0, 6 * B).unwrap(), live(6));
        // An older snapshot's unused block that a later store copied is that copy.
        let later = set(vec![
            store(FLAG_ZERO_UNUSED, vec![], Some(bitmap(&[6]))),
            store(0, vec![d(6, 0, 44, 0, 0)], None),
        ]);
        assert_eq!(later.sectors(0, 6 * B).unwrap(), stored(44));
        // ... and one no later store copied reads as zeros.
        let none_later = set(vec![
            store(FLAG_ZERO_UNUSED, vec![], Some(bitmap(&[6]))),
            store(0, vec![d(8, 0, 44, 0, 0)], None),
        ]);
        assert_eq!(
            none_later.sectors(0, 6 * B).unwrap(),
            [Source::Zero; SECTORS]
        );
    }

    #[test]
    fn a_damaged_store_needed_by_a_snapshot_is_an_error_not_a_guess() {
        let mut s = set(vec![store(0, vec![], None), store(0, vec![], None)]);
        s.stores[1] = Err(VssError::Store {
            store: "x".into(),
            offset: 1234,
            message: "damaged".into(),
        });
        let err = s.sectors(0, 0).unwrap_err().to_string();
        assert!(err.contains("1234") && err.contains("damaged"), "{err}");
    }
}
