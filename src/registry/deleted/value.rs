//! Value cells (`vk`) found in free space: the record's own checks, then its data, read
//! only from space that is still free. A data cell now in use by something else, or one
//! whose size cannot hold the data, means the data was overwritten: the name, type and
//! declared size are still told.

use super::cells::CellMap;
use crate::bytes::{array, bytes_eq, u16_le, u32_le};
use crate::registry::base_block::HBIN_START;

/// Offsets inside a `vk` record, from its signature.
const VK_NAME_LEN: u32 = 0x02;
const VK_DATA_SIZE: u32 = 0x04;
const VK_DATA_OFFSET: u32 = 0x08;
const VK_TYPE: u32 = 0x0C;
const VK_FLAGS: u32 = 0x10;
pub const VK_NAME: u32 = 0x14;
/// `VALUE_COMP_NAME`: the name is Latin-1, not UTF-16LE.
const VALUE_COMP_NAME: u16 = 0x0001;
/// Flags a value may carry (`VALUE_COMP_NAME`, the layered-key tombstone).
const VK_KNOWN_FLAGS: u16 = 0x0003;
/// Longest plausible name, in bytes (yarp's limit of 1024 characters).
pub const MAX_NAME_BYTES: u32 = 2048;
/// Largest data read back from free space; a larger value is told by its size.
pub const MAX_DATA: u32 = 1 << 20;
/// Data bytes one `db` segment holds.
const BIG_DATA_SEGMENT: u32 = 16_344;

/// What is left of a value's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// The bytes, from free space that still has the size the value declares.
    Read(Vec<u8>),
    /// Not recoverable, and why (overwritten, beyond the hive, over the read limit).
    Lost(String),
}

/// A value record recovered from free space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedValue {
    /// Hive-bins offset of its cell (the record's signature minus 4).
    pub cell: u32,
    pub name: String,
    pub data_type: u32,
    /// The data size the record declares.
    pub size: u32,
    pub data: Data,
}

/// A key or value name: Latin-1 when `compressed`, else UTF-16LE. `None` for a name no
/// Windows registry would hold (odd UTF-16 length, unpaired surrogates, control
/// characters, or a backslash when `is_key`).
pub fn decode_name(raw: &[u8], compressed: bool, is_key: bool) -> Option<String> {
    let name: String = if compressed {
        raw.iter().map(|&b| char::from(b)).collect()
    } else {
        if !raw.len().is_multiple_of(2) {
            return None;
        }
        let units = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]));
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()?
    };
    let bad = |c: char| c.is_control() || (is_key && c == '\\');
    (!name.chars().any(bad)).then_some(name)
}

/// The value record whose `vk` signature is at hive-bins offset `at`, when it checks out
/// and lies before `end` (the end of the free space it was found in).
pub fn parse(hive: &[u8], map: &CellMap, at: u32, end: u32) -> Option<DeletedValue> {
    let field = |o: u32| HBIN_START + at as usize + o as usize;
    if !bytes_eq(hive, field(0), b"vk") {
        return None;
    }
    let name_len = u32::from(u16_le(hive, field(VK_NAME_LEN))?);
    let name_end = at.checked_add(VK_NAME)?.checked_add(name_len)?;
    if name_len > MAX_NAME_BYTES || name_end > end {
        return None;
    }
    let flags = u16_le(hive, field(VK_FLAGS))?;
    if flags & !VK_KNOWN_FLAGS != 0 {
        return None;
    }
    let raw_name = hive.get(field(VK_NAME)..field(VK_NAME) + name_len as usize)?;
    let name = decode_name(raw_name, flags & VALUE_COMP_NAME != 0, false)?;
    let raw_size = u32_le(hive, field(VK_DATA_SIZE))?;
    let data_offset = u32_le(hive, field(VK_DATA_OFFSET))?;
    let data_type = u32_le(hive, field(VK_TYPE))?;
    let (size, data) = if raw_size & 0x8000_0000 != 0 {
        let size = raw_size & 0x7FFF_FFFF;
        if size > 4 {
            return None; // inline data holds at most 4 bytes
        }
        let inline: [u8; 4] = array(hive, field(VK_DATA_OFFSET))?;
        (size, Data::Read(inline[..size as usize].to_vec()))
    } else if raw_size == 0 {
        (0, Data::Read(Vec::new()))
    } else {
        if !data_offset.is_multiple_of(8) || data_offset < 0x20 {
            return None; // a cell offset is 8-aligned, past the first bin's header
        }
        (raw_size, read_data(hive, map, raw_size, data_offset))
    };
    Some(DeletedValue {
        cell: at - 4,
        name,
        data_type,
        size,
        data,
    })
}

/// Cell data `[cell + 4, cell + 4 + len)` if the cell lies in searchable (free) space
/// and its size field can hold `len` bytes; else why not.
fn free_cell_data<'h>(
    hive: &'h [u8],
    map: &CellMap,
    cell: u32,
    len: u32,
) -> Result<&'h [u8], String> {
    let end = cell.checked_add(4).and_then(|s| s.checked_add(len));
    let Some(end) = end.filter(|&e| map.is_searchable(cell, e)) else {
        return Err(if map.is_allocated(cell) {
            format!("its data cell at {cell:#x} is in use by other data now: overwritten")
        } else if cell >= map.bins_end.max(map.tail.1) {
            format!("its data cell offset {cell:#x} is outside the hive")
        } else {
            format!("its data cell at {cell:#x} runs into space in use now: partly overwritten")
        });
    };
    let at = HBIN_START + cell as usize;
    let size = array(hive, at).map(i32::from_le_bytes).unwrap_or(0);
    let capacity = size.unsigned_abs();
    // The tail after the bins keeps no trustworthy cell sizes; inside the bins the old
    // cell's size must hold the data.
    let in_tail = cell >= map.tail.0 && map.tail.0 < map.tail.1;
    if !in_tail && capacity < len.saturating_add(4) {
        return Err(format!(
            "its data cell at {cell:#x} now has size {capacity}, too small for {len} bytes: overwritten"
        ));
    }
    hive.get(at + 4..HBIN_START + end as usize)
        .ok_or_else(|| format!("its data cell at {cell:#x} is outside the file"))
}

fn read_data(hive: &[u8], map: &CellMap, size: u32, cell: u32) -> Data {
    if size > MAX_DATA {
        return Data::Lost(format!(
            "declared size {size} is over the {MAX_DATA}-byte recovery limit: not read"
        ));
    }
    let cell_start = HBIN_START + cell as usize;
    let is_big = size > BIG_DATA_SEGMENT && bytes_eq(hive, cell_start + 4, b"db");
    if !is_big {
        return match free_cell_data(hive, map, cell, size) {
            Ok(bytes) => Data::Read(bytes.to_vec()),
            Err(why) => Data::Lost(why),
        };
    }
    // Big data: `db`, segment count, offset of the list of segment offsets.
    let header = match free_cell_data(hive, map, cell, 8) {
        Ok(h) => h,
        Err(why) => return Data::Lost(why),
    };
    let count = u32::from(u16_le(header, 2).unwrap_or(0));
    let list = u32_le(header, 4).unwrap_or(u32::MAX);
    if count == 0 || count.saturating_mul(BIG_DATA_SEGMENT) < size {
        return Data::Lost(format!(
            "its big-data record at {cell:#x} lists {count} segments, too few for {size} bytes: overwritten"
        ));
    }
    let offsets = match free_cell_data(hive, map, list, count * 4) {
        Ok(o) => o,
        Err(why) => return Data::Lost(format!("segment list: {why}")),
    };
    let mut data = Vec::with_capacity(size as usize);
    for i in 0..count as usize {
        let want = (size - data.len() as u32).min(BIG_DATA_SEGMENT);
        if want == 0 {
            break;
        }
        let segment = u32_le(offsets, i * 4).unwrap_or(u32::MAX);
        match free_cell_data(hive, map, segment, want) {
            Ok(bytes) => data.extend_from_slice(bytes),
            Err(why) => return Data::Lost(format!("segment {i}: {why}")),
        }
    }
    Data::Read(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(decode_name(b"Run", true, true).as_deref(), Some("Run"));
        assert_eq!(decode_name(b"a\\b", true, true), None);
        assert_eq!(decode_name(b"a\\b", true, false).as_deref(), Some("a\\b"));
        assert_eq!(decode_name(b"a\x01", true, false), None);
        assert_eq!(decode_name(b"a\0b\0", false, true).as_deref(), Some("ab"));
        assert_eq!(decode_name(b"a\0b", false, true), None);
        assert_eq!(decode_name(&[0x00, 0xD8], false, true), None); // lone surrogate
    }
}
