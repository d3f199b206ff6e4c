//! The catalog: a list of 16 KiB blocks (record type 2) from the volume header's catalog
//! offset, each with 128-byte entries after its header. Type 0 ends a block's entries,
//! type 1 is unused; type 2 describes a snapshot (volume size, store identifier, stack
//! position, flags, creation time) and type 3 its store (the volume offsets of the
//! store's block list, header, block range list, bitmap and previous bitmap). The two
//! entries of a store are paired by the store identifier; they need not be adjacent,
//! and when the stores are kept on another volume the type 3 entries are in that
//! volume's catalog.

use super::block::{HEADER_LEN, TYPE_CATALOG, walk_list};
use super::error::VssError;
use super::guid::Guid;
use crate::bytes::u64_le;
use crate::image::source::ImageSource;
use crate::time::Timestamp;

const ENTRY_LEN: usize = 0x80;

/// A catalog entry of type 2: a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEntry {
    pub volume_size: u64,
    pub store_id: Guid,
    /// The position in the stack of snapshots (1 the oldest kept).
    pub stack_position: u64,
    pub flags: u64,
    /// FILETIME of the snapshot's creation.
    pub creation_time: u64,
    /// Volume offset of the entry.
    pub at: u64,
}

impl SnapshotEntry {
    pub fn created(&self) -> Option<Timestamp> {
        Timestamp::from_filetime(self.creation_time)
    }
}

/// A catalog entry of type 3: where a store's structures are (volume offsets in the
/// volume that keeps the stores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEntry {
    pub block_list: u64,
    pub store_id: Guid,
    pub store_header: u64,
    pub range_list: u64,
    pub bitmap: u64,
    pub file_reference: u64,
    pub allocated_size: u64,
    pub previous_bitmap: u64,
    /// Volume offset of the entry.
    pub at: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub snapshots: Vec<SnapshotEntry>,
    pub stores: Vec<StoreEntry>,
}

/// The entries of one catalog block (`block` read at volume offset `at`) added to
/// `catalog`.
pub fn parse_block(block: &[u8], at: u64, catalog: &mut Catalog) -> Result<(), String> {
    let mut pos = HEADER_LEN;
    while pos + ENTRY_LEN <= block.len() {
        let entry = &block[pos..pos + ENTRY_LEN];
        let entry_at = at + pos as u64;
        let field = |off| u64_le(entry, off).unwrap_or(0);
        let guid = Guid::at(entry, 16).unwrap_or_default();
        match field(0) {
            0 => break,
            1 => {}
            2 => {
                let volume_size = field(8);
                if volume_size == 0 {
                    return Err(format!(
                        "snapshot entry at volume offset {entry_at} gives a volume size of 0"
                    ));
                }
                catalog.snapshots.push(SnapshotEntry {
                    volume_size,
                    store_id: guid,
                    stack_position: field(32),
                    flags: field(40),
                    creation_time: field(48),
                    at: entry_at,
                });
            }
            3 => catalog.stores.push(StoreEntry {
                block_list: field(8),
                store_id: guid,
                store_header: field(32),
                range_list: field(40),
                bitmap: field(48),
                file_reference: field(56),
                allocated_size: field(64),
                previous_bitmap: field(72),
                at: entry_at,
            }),
            other => {
                return Err(format!(
                    "entry at volume offset {entry_at} has the unknown type {other}"
                ));
            }
        }
        pos += ENTRY_LEN;
    }
    Ok(())
}

/// The whole catalog from its first block at `first` (0: no catalog).
pub fn read_catalog(
    source: &dyn ImageSource,
    on: &'static str,
    first: u64,
) -> Result<Catalog, VssError> {
    let mut catalog = Catalog::default();
    walk_list(
        source,
        on,
        "catalog",
        first,
        TYPE_CATALOG,
        &|offset, message| VssError::Catalog { offset, message },
        &mut |at, block| {
            parse_block(block, at, &mut catalog).map_err(|message| VssError::Catalog {
                offset: at,
                message,
            })
        },
    )?;
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vss::block::BLOCK;

    fn entry(kind: u64, guid: u8, a: u64, position: u64) -> [u8; ENTRY_LEN] {
        let mut e = [0u8; ENTRY_LEN];
        e[..8].copy_from_slice(&kind.to_le_bytes());
        e[8..16].copy_from_slice(&a.to_le_bytes());
        e[16..32].copy_from_slice(&[guid; 16]);
        e[32..40].copy_from_slice(&position.to_le_bytes());
        e[48..56].copy_from_slice(&132_041_653_814_843_750u64.to_le_bytes());
        e
    }

    #[test]
    fn entries_of_type_2_and_3_are_read_and_type_1_skipped_until_type_0() {
        let mut block = vec![0u8; BLOCK as usize];
        let entries = [
            entry(2, 7, 1 << 30, 1),
            entry(1, 0, 0, 0),
            entry(3, 7, 0x8000, 0x4000),
        ];
        for (i, e) in entries.iter().enumerate() {
            let at = HEADER_LEN + i * ENTRY_LEN;
            block[at..at + ENTRY_LEN].copy_from_slice(e);
        }
        // After the type 0 entry nothing is read.
        let after = HEADER_LEN + 5 * ENTRY_LEN;
        block[after..after + ENTRY_LEN].copy_from_slice(&entry(2, 9, 1, 1));
        let mut catalog = Catalog::default();
        parse_block(&block, 0x10000, &mut catalog).unwrap();
        assert_eq!(catalog.snapshots.len(), 1);
        assert_eq!(catalog.snapshots[0].volume_size, 1 << 30);
        assert_eq!(catalog.snapshots[0].stack_position, 1);
        assert_eq!(
            catalog.snapshots[0].created().unwrap().to_iso8601(),
            "2019-06-04T23:43:01.4843750Z"
        );
        assert_eq!(catalog.stores.len(), 1);
        assert_eq!(catalog.stores[0].block_list, 0x8000);
        assert_eq!(catalog.stores[0].store_header, 0x4000);
        assert_eq!(catalog.stores[0].at, 0x10000 + 0x80 + 2 * 0x80);
    }

    #[test]
    fn an_unknown_entry_type_or_a_zero_volume_size_is_an_error_naming_the_offset() {
        let mut block = vec![0u8; BLOCK as usize];
        block[HEADER_LEN..HEADER_LEN + ENTRY_LEN].copy_from_slice(&entry(9, 1, 1, 1));
        let err = parse_block(&block, 0x4000, &mut Catalog::default()).unwrap_err();
        assert!(err.contains("16512") && err.contains("type 9"), "{err}");
        block[HEADER_LEN..HEADER_LEN + ENTRY_LEN].copy_from_slice(&entry(2, 1, 0, 1));
        assert!(parse_block(&block, 0, &mut Catalog::default()).is_err());
    }
}
