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
    fn unused(&self, offset: u64) -> Result<bool, VssError> {
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
            Some(Err(e)) => Err(VssError::Store {
                store: format!("{}", i + 1),
                offset: 0,
                message: format!("needed for this snapshot and unreadable: {e}"),
            }),
            None => Err(VssError::NoSuchSnapshot(i + 1)),
        }
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
