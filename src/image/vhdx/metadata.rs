//! The VHDX metadata region: a table (`metadata`, up to 2047 entries of item id, offset,
//! length, flags) and the items this reader needs: file parameters (block size,
//! LeaveBlockAllocated, HasParent), virtual disk size, logical sector size, and for a
//! differencing disk the parent locator (UTF-16LE key/value pairs: `parent_linkage`,
//! `relative_path`, `absolute_win32_path`, ...). An unknown item marked required is an
//! error, as the format says.

use std::collections::BTreeMap;

use crate::bytes::{array, u16_le, u32_le, u64_le, utf16_lossy};
use crate::image::container::{Container, guid_text};
use crate::image::source::ImageError;

use super::header::{Region, guid};

const FILE_PARAMETERS: [u8; 16] = guid(
    0xCAA1_6737,
    0xFA36,
    0x4D43,
    [0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B],
);
const VIRTUAL_DISK_SIZE: [u8; 16] = guid(
    0x2FA5_4224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);
const VIRTUAL_DISK_ID: [u8; 16] = guid(
    0xBECA_12AB,
    0xB2E6,
    0x4523,
    [0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46],
);
const LOGICAL_SECTOR_SIZE: [u8; 16] = guid(
    0x8141_BF1D,
    0xA96F,
    0x4709,
    [0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F],
);
const PHYSICAL_SECTOR_SIZE: [u8; 16] = guid(
    0xCDA3_48C7,
    0x445D,
    0x4471,
    [0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56],
);
const PARENT_LOCATOR: [u8; 16] = guid(
    0xA8D3_5F2D,
    0xB30B,
    0x454D,
    [0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C],
);
/// The parent locator type of a VHDX parent.
const VHDX_PARENT_LOCATOR_TYPE: [u8; 16] = guid(
    0xB04A_EFB7,
    0xD19E,
    0x4A81,
    [0xB7, 0x89, 0x25, 0xB8, 0xE9, 0x44, 0x59, 0x13],
);

const TABLE_LEN: usize = 64 * 1024;
const MAX_ENTRIES: u16 = 2047;
/// Largest item read (the parent locator is the only sizeable one).
const MAX_ITEM: u64 = 1 << 20;

#[derive(Debug, Clone)]
pub(super) struct Metadata {
    pub(super) block_size: u32,
    pub(super) leave_blocks_allocated: bool,
    pub(super) has_parent: bool,
    pub(super) disk_size: u64,
    pub(super) logical_sector: u32,
    /// The parent locator's keys and values (differencing disks).
    pub(super) parent: BTreeMap<String, String>,
}

impl Metadata {
    /// Payload blocks per sector bitmap block: 2^23 sectors' bits in 1 MiB.
    pub(super) fn chunk_ratio(&self) -> u64 {
        ((1u64 << 23) * u64::from(self.logical_sector)) / u64::from(self.block_size)
    }

    /// The names to look for the parent under, best first.
    pub(super) fn parent_names(&self) -> Vec<String> {
        ["relative_path", "absolute_win32_path", "volume_path"]
            .iter()
            .filter_map(|k| self.parent.get(*k).cloned())
            .collect()
    }
}

/// Read the metadata table and the items at `region`.
pub(super) fn read(file: &Container, region: Region) -> Result<Metadata, ImageError> {
    let at = region.offset;
    let table_len = region.length.min(TABLE_LEN as u64);
    let table = file.structure_vec(at, table_len, TABLE_LEN as u64, "metadata table")?;
    if !table.starts_with(b"metadata") {
        return Err(file.bad(at, "no metadata table signature (\"metadata\")"));
    }
    let count = u16_le(&table, 10).unwrap_or(0);
    if count > MAX_ENTRIES {
        return Err(file.bad(
            at,
            format!("{count} metadata entries (at most {MAX_ENTRIES})"),
        ));
    }
    let mut items: BTreeMap<[u8; 16], Vec<u8>> = BTreeMap::new();
    for i in 0..usize::from(count) {
        let e = 32 + i * 32;
        let entry_at = at + e as u64;
        let Some(id) = array::<16>(&table, e) else {
            return Err(file.bad(entry_at, "metadata entry outside the table"));
        };
        let offset = u64::from(u32_le(&table, e + 16).unwrap_or(0));
        let length = u64::from(u32_le(&table, e + 20).unwrap_or(0));
        let required = u32_le(&table, e + 24).unwrap_or(0) & 4 != 0;
        let known = [
            FILE_PARAMETERS,
            VIRTUAL_DISK_SIZE,
            VIRTUAL_DISK_ID,
            LOGICAL_SECTOR_SIZE,
            PHYSICAL_SECTOR_SIZE,
            PARENT_LOCATOR,
        ]
        .contains(&id);
        if !known {
            if required {
                return Err(file.bad(
                    entry_at,
                    format!(
                        "metadata item {} is required and unknown to this reader",
                        guid_text(&id)
                    ),
                ));
            }
            continue;
        }
        if offset.saturating_add(length) > region.length {
            return Err(file.bad(
                entry_at,
                format!(
                    "metadata item {} at {offset}+{length} is outside the metadata region",
                    guid_text(&id)
                ),
            ));
        }
        let bytes = file.structure_vec(at + offset, length, MAX_ITEM, "metadata item")?;
        items.insert(id, bytes);
    }
    let item = |id: &[u8; 16], name: &str| {
        items
            .get(id)
            .ok_or_else(|| file.bad(at, format!("the metadata has no {name} item")))
    };
    let params = item(&FILE_PARAMETERS, "file parameters")?;
    let block_size = u32_le(params, 0).unwrap_or(0);
    let flags = u32_le(params, 4).unwrap_or(0);
    let disk_size = u64_le(item(&VIRTUAL_DISK_SIZE, "virtual disk size")?, 0).unwrap_or(0);
    let logical_sector = u32_le(item(&LOGICAL_SECTOR_SIZE, "logical sector size")?, 0).unwrap_or(0);
    if !block_size.is_power_of_two() || !(1 << 20..=256 << 20).contains(&block_size) {
        return Err(file.bad(
            at,
            format!("block size {block_size} is not a power of two from 1 MiB to 256 MiB"),
        ));
    }
    if logical_sector != 512 && logical_sector != 4096 {
        return Err(file.bad(
            at,
            format!("logical sector size {logical_sector} (512 or 4096)"),
        ));
    }
    if disk_size == 0
        || !disk_size.is_multiple_of(u64::from(logical_sector))
        || disk_size > 64 << 40
    {
        return Err(file.bad(
            at,
            format!(
                "virtual disk size {disk_size} is not a multiple of the {logical_sector}-byte \
                 sector up to 64 TiB"
            ),
        ));
    }
    let has_parent = flags & 2 != 0;
    let parent = match items.get(&PARENT_LOCATOR) {
        Some(bytes) if has_parent => parent_locator(file, at, bytes)?,
        _ if has_parent => {
            return Err(file.bad(at, "a differencing disk without a parent locator"));
        }
        _ => BTreeMap::new(),
    };
    Ok(Metadata {
        block_size,
        leave_blocks_allocated: flags & 1 != 0,
        has_parent,
        disk_size,
        logical_sector,
        parent,
    })
}

/// The parent locator's key/value pairs.
fn parent_locator(
    file: &Container,
    at: u64,
    b: &[u8],
) -> Result<BTreeMap<String, String>, ImageError> {
    let kind: [u8; 16] = array(b, 0).unwrap_or_default();
    if kind != VHDX_PARENT_LOCATOR_TYPE {
        return Err(file.bad(
            at,
            format!(
                "parent locator of type {} (not a VHDX parent)",
                guid_text(&kind)
            ),
        ));
    }
    let count = usize::from(u16_le(b, 18).unwrap_or(0));
    let mut pairs = BTreeMap::new();
    for i in 0..count {
        let e = 20 + i * 12;
        let field = |off: usize, len: usize| -> Option<String> {
            let end = off.checked_add(len)?;
            Some(utf16_lossy(b.get(off..end)?))
        };
        let key_off = u32_le(b, e).and_then(|v| usize::try_from(v).ok());
        let value_off = u32_le(b, e + 4).and_then(|v| usize::try_from(v).ok());
        let key_len = u16_le(b, e + 8).map(usize::from);
        let value_len = u16_le(b, e + 10).map(usize::from);
        let pair = (|| Some((field(key_off?, key_len?)?, field(value_off?, value_len?)?)))();
        let Some((key, value)) = pair else {
            return Err(file.bad(
                at,
                format!("parent locator entry {i} points outside the locator"),
            ));
        };
        pairs.insert(key, value);
    }
    if !pairs.contains_key("parent_linkage") {
        return Err(file.bad(at, "the parent locator has no parent_linkage"));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ratio_and_names() {
        let mut m = Metadata {
            block_size: 1 << 20,
            leave_blocks_allocated: false,
            has_parent: true,
            disk_size: 1 << 30,
            logical_sector: 512,
            parent: BTreeMap::new(),
        };
        assert_eq!(m.chunk_ratio(), 4096);
        m.block_size = 32 << 20;
        assert_eq!(m.chunk_ratio(), 128);
        m.logical_sector = 4096;
        assert_eq!(m.chunk_ratio(), 1024);
        m.parent
            .insert("absolute_win32_path".into(), "C:\\a\\p.vhdx".into());
        m.parent.insert("relative_path".into(), ".\\p.vhdx".into());
        assert_eq!(m.parent_names(), [".\\p.vhdx", "C:\\a\\p.vhdx"]);
    }
}
