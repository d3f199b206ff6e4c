//! What the 16 KiB blocks of the catalog and the stores share: the block header (128
//! bytes: VSS identifier, version, record type, the block's offset relative to the first
//! block of its list, its own volume offset, the volume offset of the next block or 0)
//! and the walk along a list of such blocks.

use std::collections::HashSet;

use super::error::VssError;
use super::guid::{Guid, VSS_IDENTIFIER};
use crate::bytes::{u32_le, u64_le};
use crate::image::source::ImageSource;

/// Every catalog and store block is 16 KiB; so is every copied data block.
pub const BLOCK: u64 = 0x4000;
/// The block header; entries start after it.
pub const HEADER_LEN: usize = 0x80;

/// Record types of the block header.
pub const TYPE_VOLUME_HEADER: u32 = 1;
pub const TYPE_CATALOG: u32 = 2;
pub const TYPE_BLOCK_LIST: u32 = 3;
pub const TYPE_STORE_HEADER: u32 = 4;
pub const TYPE_RANGE_LIST: u32 = 5;
pub const TYPE_BITMAP: u32 = 6;

/// The 128-byte header of a catalog or store block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    pub version: u32,
    pub record_type: u32,
    /// Offset relative to the first block of the list (catalog) or of the store.
    pub relative: u64,
    /// The block's own volume offset.
    pub current: u64,
    /// Volume offset of the next block of the list, 0 for the last.
    pub next: u64,
    /// The size of the store information that follows a store header (0 elsewhere).
    pub info_size: u64,
}

impl BlockHeader {
    /// The header at the start of `b`: `Err` with what is wrong when it is not a VSS block.
    pub fn parse(b: &[u8]) -> Result<BlockHeader, String> {
        match Guid::at(b, 0) {
            Some(id) if id == VSS_IDENTIFIER => {}
            Some(_) => return Err("no VSS identifier".into()),
            None => return Err("block header cut short".into()),
        }
        let field = |at| u64_le(b, at).ok_or_else(|| "block header cut short".to_string());
        Ok(BlockHeader {
            version: u32_le(b, 16).ok_or("block header cut short")?,
            record_type: u32_le(b, 20).ok_or("block header cut short")?,
            relative: field(24)?,
            current: field(32)?,
            next: field(40)?,
            info_size: field(48)?,
        })
    }
}

/// Reads `buf.len()` bytes at `offset` of `source` (named `on` in errors), all or an
/// error.
pub fn read_exact(
    source: &dyn ImageSource,
    on: &'static str,
    what: &'static str,
    offset: u64,
    buf: &mut [u8],
) -> Result<(), VssError> {
    let mut done = 0;
    while done < buf.len() {
        let at = offset.saturating_add(done as u64);
        let n = source
            .read_at(at, &mut buf[done..])
            .map_err(|source| VssError::Read {
                on,
                offset: at,
                source,
            })?;
        if n == 0 {
            return Err(VssError::Truncated { on, what, offset });
        }
        done += n;
    }
    Ok(())
}

/// One 16 KiB block at `offset`.
pub fn read_block(
    source: &dyn ImageSource,
    on: &'static str,
    what: &'static str,
    offset: u64,
) -> Result<Vec<u8>, VssError> {
    let mut buf = vec![0u8; BLOCK as usize];
    read_exact(source, on, what, offset, &mut buf)?;
    Ok(buf)
}

/// What a list walk does with each block (its volume offset and bytes).
pub type EachBlock<'a> = &'a mut dyn FnMut(u64, &[u8]) -> Result<(), VssError>;

/// Walks a list of blocks of `record_type` from `first` (0: an empty list), giving each
/// block's offset and bytes to `each`. Each block must say it is where it was read (its
/// current offset) and of the right type; a list that comes back to a block it visited,
/// or that is longer than the volume can hold, is damaged. `damaged(offset, message)`
/// makes the error.
pub fn walk_list(
    source: &dyn ImageSource,
    on: &'static str,
    what: &'static str,
    first: u64,
    record_type: u32,
    damaged: &dyn Fn(u64, String) -> VssError,
    each: EachBlock<'_>,
) -> Result<(), VssError> {
    let limit = source.size() / BLOCK + 1;
    let mut seen = HashSet::new();
    let mut offset = first;
    while offset != 0 {
        if !seen.insert(offset) || seen.len() as u64 > limit {
            return Err(damaged(offset, format!("the {what} list loops")));
        }
        let block = read_block(source, on, what, offset)?;
        let header = BlockHeader::parse(&block).map_err(|m| damaged(offset, m))?;
        if header.record_type != record_type {
            return Err(damaged(
                offset,
                format!(
                    "{what} block has record type {} (expected {record_type})",
                    header.record_type
                ),
            ));
        }
        if header.current != offset {
            return Err(damaged(
                offset,
                format!(
                    "{what} block says it is at volume offset {} (read at {offset})",
                    header.current
                ),
            ));
        }
        each(offset, &block)?;
        offset = header.next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::source::MemoryImage;

    /// A block of `record_type` at `at` pointing at `next`.
    pub(crate) fn block(record_type: u32, at: u64, next: u64) -> Vec<u8> {
        let mut b = vec![0u8; BLOCK as usize];
        b[..16].copy_from_slice(&VSS_IDENTIFIER.0);
        b[16..20].copy_from_slice(&1u32.to_le_bytes());
        b[20..24].copy_from_slice(&record_type.to_le_bytes());
        b[32..40].copy_from_slice(&at.to_le_bytes());
        b[40..48].copy_from_slice(&next.to_le_bytes());
        b
    }

    fn volume(blocks: &[(u64, Vec<u8>)]) -> MemoryImage {
        let mut data = vec![0u8; 8 * BLOCK as usize];
        for (at, b) in blocks {
            data[*at as usize..*at as usize + b.len()].copy_from_slice(b);
        }
        MemoryImage::new(data)
    }

    fn walk(image: &MemoryImage, first: u64) -> Result<Vec<u64>, VssError> {
        let mut got = Vec::new();
        walk_list(
            image,
            "volume",
            "test",
            first,
            TYPE_BITMAP,
            &|offset, message| VssError::Catalog { offset, message },
            &mut |at, _| {
                got.push(at);
                Ok(())
            },
        )?;
        Ok(got)
    }

    #[test]
    fn a_list_is_walked_in_order_and_a_loop_is_an_error_naming_the_offset() {
        let a = 2 * BLOCK;
        let b = 5 * BLOCK;
        let image = volume(&[(a, block(TYPE_BITMAP, a, b)), (b, block(TYPE_BITMAP, b, 0))]);
        assert_eq!(walk(&image, a).unwrap(), vec![a, b]);
        let looped = volume(&[(a, block(TYPE_BITMAP, a, b)), (b, block(TYPE_BITMAP, b, a))]);
        let err = walk(&looped, a).unwrap_err().to_string();
        assert!(
            err.contains(&format!("offset {a}")) && err.contains("loops"),
            "{err}"
        );
    }

    #[test]
    fn a_block_of_the_wrong_type_or_place_or_past_the_end_is_an_error() {
        let a = 2 * BLOCK;
        let wrong_type = volume(&[(a, block(TYPE_CATALOG, a, 0))]);
        assert!(
            walk(&wrong_type, a)
                .unwrap_err()
                .to_string()
                .contains("record type 2")
        );
        let wrong_place = volume(&[(a, block(TYPE_BITMAP, 3 * BLOCK, 0))]);
        assert!(
            walk(&wrong_place, a)
                .unwrap_err()
                .to_string()
                .contains("says it is at")
        );
        let past_end = volume(&[(a, block(TYPE_BITMAP, a, 100 * BLOCK))]);
        assert!(matches!(
            walk(&past_end, a),
            Err(VssError::Truncated { offset, .. }) if offset == 100 * BLOCK
        ));
        let not_vss = volume(&[]);
        assert!(
            walk(&not_vss, a)
                .unwrap_err()
                .to_string()
                .contains("no VSS identifier")
        );
    }
}
