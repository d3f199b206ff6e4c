//! The VHDX block allocation table: 64-bit entries (state in bits 0-2, file offset in
//! MiB in bits 20-63), payload block entries with one sector bitmap entry after every
//! chunk of `chunk ratio` payload blocks. Entries are read one at a time through the
//! container's cache, never the whole table (64 TiB in 1 MiB blocks is 512 MiB of BAT).

use crate::image::container::Container;
use crate::image::source::ImageError;

use super::header::Region;
use super::metadata::Metadata;

const NOT_PRESENT: u64 = 0;
const UNDEFINED: u64 = 1;
const ZERO: u64 = 2;
const UNMAPPED: u64 = 3;
const FULLY_PRESENT: u64 = 6;
const PARTIALLY_PRESENT: u64 = 7;
/// A sector bitmap block's entry state when the block is in the file.
const BITMAP_PRESENT: u64 = 6;

/// What a payload block's entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Payload {
    /// Not in this file: the parent's (a differencing disk) or zeros.
    NotPresent,
    /// Zeros (ZERO; UNDEFINED and UNMAPPED, whose content nothing relies on).
    Zero,
    /// All the block's bytes at this file offset.
    Full(u64),
    /// The sectors whose bits are set at this file offset, the others from the parent.
    Partial(u64),
}

/// How many BAT entries a disk of this shape needs.
pub(super) fn entries_needed(meta: &Metadata) -> u64 {
    let blocks = meta.disk_size.div_ceil(u64::from(meta.block_size));
    let ratio = meta.chunk_ratio().max(1);
    if meta.has_parent {
        blocks.div_ceil(ratio) * (ratio + 1)
    } else {
        blocks + blocks.saturating_sub(1) / ratio
    }
}

fn entry(file: &Container, bat: Region, index: u64, disk_offset: u64) -> Result<u64, ImageError> {
    let at = index
        .checked_mul(8)
        .filter(|&rel| rel.saturating_add(8) <= bat.length)
        .and_then(|rel| bat.offset.checked_add(rel));
    let Some(at) = at else {
        return Err(file.read_failed(
            disk_offset,
            bat.offset,
            format!("BAT entry {index} is past the BAT region"),
        ));
    };
    let mut b = [0u8; 8];
    file.lookup(disk_offset, at, &mut b, "BAT entry")?;
    Ok(u64::from_le_bytes(b))
}

fn file_offset(entry: u64) -> u64 {
    (entry >> 20) << 20
}

/// The entry of payload block `block`.
pub(super) fn payload(
    file: &Container,
    bat: Region,
    meta: &Metadata,
    block: u64,
    disk_offset: u64,
) -> Result<Payload, ImageError> {
    let ratio = meta.chunk_ratio().max(1);
    let index = block + block / ratio;
    let e = entry(file, bat, index, disk_offset)?;
    let offset = file_offset(e);
    match e & 7 {
        NOT_PRESENT => Ok(Payload::NotPresent),
        UNDEFINED | ZERO | UNMAPPED => Ok(Payload::Zero),
        FULLY_PRESENT if offset >= 1 << 20 => Ok(Payload::Full(offset)),
        PARTIALLY_PRESENT if offset >= 1 << 20 => Ok(Payload::Partial(offset)),
        state => Err(file.read_failed(
            disk_offset,
            bat.offset.saturating_add(index * 8),
            format!("BAT entry {index} has state {state} and file offset {offset}: not valid"),
        )),
    }
}

/// The file offset of the sector bitmap block for the chunk holding `block`.
pub(super) fn sector_bitmap(
    file: &Container,
    bat: Region,
    meta: &Metadata,
    block: u64,
    disk_offset: u64,
) -> Result<u64, ImageError> {
    let ratio = meta.chunk_ratio().max(1);
    let index = (block / ratio) * (ratio + 1) + ratio;
    let e = entry(file, bat, index, disk_offset)?;
    let offset = file_offset(e);
    if e & 7 == BITMAP_PRESENT && offset >= 1 << 20 {
        Ok(offset)
    } else {
        Err(file.read_failed(
            disk_offset,
            bat.offset.saturating_add(index * 8),
            format!(
                "a partially present block whose sector bitmap (BAT entry {index}, state {}) \
                 is not in the file",
                e & 7
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn entry_counts() {
        let mut m = Metadata {
            block_size: 1 << 20,
            leave_blocks_allocated: false,
            has_parent: false,
            disk_size: 10 << 20,
            logical_sector: 512,
            parent: BTreeMap::new(),
        };
        assert_eq!(entries_needed(&m), 10);
        m.disk_size = 4097 << 20;
        assert_eq!(entries_needed(&m), 4097 + 1);
        m.has_parent = true;
        assert_eq!(entries_needed(&m), 2 * 4097);
        assert_eq!(file_offset((3 << 20) | 6), 3 << 20);
    }
}
