//! Volume Shadow Copies (VSS) of NTFS volumes (Windows Server 2003, Vista and later),
//! read by our own reader: each snapshot as a read-only view of the whole volume as it
//! was, for the NTFS reader to read unchanged.
//!
//! On disk (after Joachim Metz's description of the format and what the public test sets
//! of msuhanov/dfir_ntfs show): the volume header at 0x1E00 ([`header`]) gives the
//! catalog ([`catalog`]: 16 KiB blocks of 128-byte entries, type 2 a snapshot, type 3
//! where its store is); each store has a header with the store information ([`store`]),
//! a block list of block descriptors ([`descriptors`]: forwarders, overlays, not-used),
//! a current and a previous bitmap ([`bitmap`]) and its copied 16 KiB blocks. How a
//! snapshot's block is found from the stores and the live volume is in [`set`]; the view
//! is [`view::SnapshotView`].
//!
//! The stores may be kept on another volume (the volume header's storage identifier is
//! not its own): then the type 2 entries are in this volume's catalog, the type 3
//! entries and all store structures in the other's ([`Shadows::open_with_storage`]).
//!
//! Memory: the block descriptors of each store are held (one small entry per copied
//! block, a fraction of the volume's blocks); bitmaps are read when asked, one 16 KiB
//! bitmap block kept per bitmap.

pub mod bitmap;
pub mod block;
pub mod catalog;
pub mod descriptors;
pub mod error;
pub mod guid;
pub mod header;
pub mod set;
pub mod store;
pub mod view;

use std::sync::Arc;

pub use error::VssError;
pub use guid::Guid;
pub use header::VolumeHeader;
pub use set::Store;
pub use view::SnapshotView;

use crate::image::source::ImageSource;
use block::read_exact;
use catalog::read_catalog;
use header::{HEADER_LEN, HEADER_OFFSET};
use set::ShadowSet;

/// The VSS volume header of `volume`: `None` when shadow copies were never enabled.
pub fn volume_header(volume: &dyn ImageSource) -> Result<Option<VolumeHeader>, VssError> {
    volume_header_on(volume, "volume")
}

fn volume_header_on(
    volume: &dyn ImageSource,
    on: &'static str,
) -> Result<Option<VolumeHeader>, VssError> {
    if volume.size() < HEADER_OFFSET + HEADER_LEN as u64 {
        return Ok(None);
    }
    let mut b = [0u8; HEADER_LEN];
    read_exact(volume, on, "volume header", HEADER_OFFSET, &mut b)?;
    VolumeHeader::parse(&b).map_err(|message| VssError::Header {
        offset: HEADER_OFFSET,
        message,
    })
}

/// The snapshots of a volume, oldest first (numbered from 1).
pub struct Shadows {
    header: VolumeHeader,
    set: Arc<ShadowSet>,
    label: String,
}

impl Shadows {
    /// The snapshots of `volume` (`label` names it in the views' descriptions): `None`
    /// when it has no VSS header or no catalog. Stores kept on another volume are an
    /// error ([`VssError::StorageElsewhere`]): use [`Shadows::open_with_storage`].
    pub fn open(volume: Arc<dyn ImageSource>, label: &str) -> Result<Option<Shadows>, VssError> {
        let Some(header) = volume_header(volume.as_ref())? else {
            return Ok(None);
        };
        if !header.storage_is_local() {
            return Err(VssError::StorageElsewhere {
                storage: header.storage_id.to_string(),
            });
        }
        Shadows::build(volume.clone(), volume, header, "volume", label)
    }

    /// The snapshots of `volume` whose stores are kept on `storage` (whose own VSS
    /// header must carry the identifier `volume`'s header names).
    pub fn open_with_storage(
        volume: Arc<dyn ImageSource>,
        storage: Arc<dyn ImageSource>,
        label: &str,
    ) -> Result<Option<Shadows>, VssError> {
        let Some(header) = volume_header(volume.as_ref())? else {
            return Ok(None);
        };
        if header.storage_is_local() {
            return Shadows::build(volume.clone(), volume, header, "volume", label);
        }
        let storage_header = volume_header_on(storage.as_ref(), "storage volume")?;
        if storage_header.as_ref().map(|h| h.volume_id) != Some(header.storage_id) {
            return Err(VssError::StorageElsewhere {
                storage: header.storage_id.to_string(),
            });
        }
        Shadows::build(volume, storage, header, "storage volume", label)
    }

    fn build(
        volume: Arc<dyn ImageSource>,
        storage: Arc<dyn ImageSource>,
        header: VolumeHeader,
        on: &'static str,
        label: &str,
    ) -> Result<Option<Shadows>, VssError> {
        if header.catalog_offset == 0 {
            return Ok(None);
        }
        let catalog = read_catalog(volume.as_ref(), "volume", header.catalog_offset)?;
        let store_entries = if Arc::ptr_eq(&volume, &storage) {
            catalog.stores.clone()
        } else {
            let Some(storage_header) = volume_header_on(storage.as_ref(), on)? else {
                return Ok(None);
            };
            read_catalog(storage.as_ref(), on, storage_header.catalog_offset)?.stores
        };
        let mut snapshots = catalog.snapshots;
        snapshots.sort_by_key(|s| (s.stack_position, s.creation_time));
        let stores = snapshots
            .into_iter()
            .map(|snapshot| {
                let mut matching = store_entries
                    .iter()
                    .filter(|e| e.store_id == snapshot.store_id);
                match (matching.next(), matching.next()) {
                    (Some(entry), None) => Store::read(&storage, on, snapshot, entry.clone()),
                    (found, _) => Err(VssError::Catalog {
                        offset: snapshot.at,
                        message: format!(
                            "snapshot {} has {} store entries (type 3) in the catalog",
                            snapshot.store_id,
                            if found.is_some() { "several" } else { "no" }
                        ),
                    }),
                }
            })
            .collect();
        Ok(Some(Shadows {
            header,
            set: Arc::new(ShadowSet {
                volume,
                storage,
                stores,
            }),
            label: label.to_string(),
        }))
    }

    pub fn header(&self) -> &VolumeHeader {
        &self.header
    }

    /// How many snapshots the catalog lists.
    pub fn len(&self) -> usize {
        self.set.stores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.stores.is_empty()
    }

    /// Snapshot `number` (1: the oldest) as its store reads, or why it does not.
    pub fn store(&self, number: usize) -> Result<&Store, VssError> {
        match number.checked_sub(1).and_then(|i| self.set.stores.get(i)) {
            Some(Ok(store)) => Ok(store),
            Some(Err(e)) => Err(VssError::StoreUnreadable {
                number,
                store: number,
                message: e.to_string(),
            }),
            None => Err(VssError::NoSuchSnapshot(number)),
        }
    }

    /// Snapshot `number` (1: the oldest) as a volume. It needs its own store and every
    /// newer one: the first of them that does not read is the error.
    pub fn snapshot(&self, number: usize) -> Result<SnapshotView, VssError> {
        let index = number
            .checked_sub(1)
            .filter(|i| *i < self.len())
            .ok_or(VssError::NoSuchSnapshot(number))?;
        for (i, store) in self.set.stores.iter().enumerate().skip(index) {
            if let Err(e) = store {
                return Err(VssError::StoreUnreadable {
                    number,
                    store: i + 1,
                    message: e.to_string(),
                });
            }
        }
        let size = match &self.set.stores[index] {
            Ok(store) => store.snapshot.volume_size,
            Err(_) => 0,
        };
        Ok(SnapshotView::new(
            self.set.clone(),
            index,
            size,
            format!("{} vss{number}", self.label),
        ))
    }
}
