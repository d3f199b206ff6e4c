//! Key nodes (`nk`) found in free space: the record's checks, its value list, and its
//! path rebuilt through parents that are live or recovered too.

use super::cells::CellMap;
use super::value::{MAX_NAME_BYTES, decode_name};
use crate::bytes::{bytes_eq, u16_le, u32_le, u64_le};
use crate::registry::base_block::HBIN_START;
use crate::time::Timestamp;

/// Offsets inside an `nk` record, from its signature.
const NK_FLAGS: u32 = 0x02;
const NK_LAST_WRITTEN: u32 = 0x04;
const NK_PARENT: u32 = 0x10;
const NK_SUBKEYS: u32 = 0x14;
const NK_VOLATILE_SUBKEYS: u32 = 0x18;
const NK_VALUES: u32 = 0x24;
const NK_VALUE_LIST: u32 = 0x28;
const NK_NAME_LEN: u32 = 0x48;
pub const NK_NAME: u32 = 0x4C;
/// `KEY_HIVE_ENTRY`: the hive's root key.
const KEY_HIVE_ENTRY: u16 = 0x0004;
/// `KEY_COMP_NAME`: the name is Latin-1.
const KEY_COMP_NAME: u16 = 0x0020;
/// Counts beyond these are not a key's (yarp's limit for subkeys; values more loosely).
const MAX_SUBKEYS: u32 = 10_000;
const MAX_VALUES: u32 = 100_000;
/// Plausible last-write years: 1970 to 2100 (as yarp checks).
const EARLIEST: i64 = 0;
const LATEST: i64 = 4_133_980_800; // 2101-01-01T00:00:00Z
/// Deepest parent chain followed.
pub const MAX_DEPTH: usize = 512;

/// A key record recovered from free space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedKey {
    /// Hive-bins offset of its cell (the record's signature minus 4).
    pub cell: u32,
    pub name: String,
    pub last_written: Option<Timestamp>,
    /// Hive-bins offset of the parent's cell, as recorded.
    pub parent: u32,
    pub values_count: u32,
    pub values_list: u32,
    /// Path from the root (root's name left out) as far as parents allow.
    pub path: String,
    /// Does `path` reach the root? Else it starts at the first parent that was lost.
    pub complete: bool,
    /// Indexes of its values in [`super::Recovered::values`].
    pub values: Vec<usize>,
    /// What could not be read of its values, one sentence each.
    pub lost: Vec<String>,
}

/// The key record whose `nk` signature is at hive-bins offset `at`, when it checks out
/// and lies before `end`. Root keys (a stale copy of the root) are not deleted keys.
pub fn parse(hive: &[u8], at: u32, end: u32) -> Option<DeletedKey> {
    let (name, flags) = record_name(hive, at, end)?;
    let field = |o: u32| HBIN_START + at as usize + o as usize;
    if flags & KEY_HIVE_ENTRY != 0 {
        return None;
    }
    let last_written = Timestamp::from_filetime(u64_le(hive, field(NK_LAST_WRITTEN))?)?;
    if !(EARLIEST..LATEST).contains(&last_written.unix_seconds()) {
        return None;
    }
    let subkeys = u32_le(hive, field(NK_SUBKEYS))?;
    let volatile = u32_le(hive, field(NK_VOLATILE_SUBKEYS))?;
    let values_count = u32_le(hive, field(NK_VALUES))?;
    if subkeys > MAX_SUBKEYS || volatile > MAX_SUBKEYS || values_count > MAX_VALUES {
        return None;
    }
    Some(DeletedKey {
        cell: at.saturating_sub(4),
        name,
        last_written: Some(last_written),
        parent: u32_le(hive, field(NK_PARENT))?,
        values_count,
        values_list: u32_le(hive, field(NK_VALUE_LIST))?,
        path: String::new(),
        complete: false,
        values: Vec::new(),
        lost: Vec::new(),
    })
}

/// Name and flags of the `nk` record at hive-bins offset `at`, when its name fits
/// before `end` and is a name a key can have.
fn record_name(hive: &[u8], at: u32, end: u32) -> Option<(String, u16)> {
    let field = |o: u32| HBIN_START + at as usize + o as usize;
    if !bytes_eq(hive, field(0), b"nk") {
        return None;
    }
    let flags = u16_le(hive, field(NK_FLAGS))?;
    let name_len = u32::from(u16_le(hive, field(NK_NAME_LEN))?);
    let name_end = at.checked_add(NK_NAME)?.checked_add(name_len)?;
    if name_len == 0 || name_len > MAX_NAME_BYTES || name_end > end {
        return None;
    }
    let raw = hive.get(field(NK_NAME)..field(NK_NAME) + name_len as usize)?;
    Some((decode_name(raw, flags & KEY_COMP_NAME != 0, true)?, flags))
}

/// The path of the live key whose cell is at `cell`, following live parents up to the
/// root; `None` when the chain leaves the space in use or never reaches the root.
pub fn live_path(hive: &[u8], map: &CellMap, root_cell: u32, cell: u32) -> Option<String> {
    let mut names = Vec::new();
    let mut at = cell;
    for _ in 0..MAX_DEPTH {
        if at == root_cell {
            names.reverse();
            return Some(names.join("\\"));
        }
        if !map.is_allocated(at) || !at.is_multiple_of(8) {
            return None;
        }
        let sig = at.checked_add(4)?;
        let (name, flags) = record_name(hive, sig, map.bins_end)?;
        if flags & KEY_HIVE_ENTRY != 0 {
            // A root flag away from the base block's root: not this hive's tree.
            return None;
        }
        names.push(name);
        at = u32_le(hive, HBIN_START + (sig + NK_PARENT) as usize)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_record_is_checked_before_it_is_believed() {
        let mut hive = vec![0u8; HBIN_START + 0x200];
        let at = 0x24u32;
        let o = HBIN_START + at as usize;
        hive[o..o + 2].copy_from_slice(b"nk");
        hive[o + 2..o + 4].copy_from_slice(&KEY_COMP_NAME.to_le_bytes());
        // 2012-02-14T09:31:00Z
        hive[o + 4..o + 12].copy_from_slice(&129_736_854_600_000_000u64.to_le_bytes());
        hive[o + 0x10..o + 0x14].copy_from_slice(&0x20u32.to_le_bytes());
        hive[o + 0x48..o + 0x4A].copy_from_slice(&6u16.to_le_bytes());
        hive[o + 0x4C..o + 0x52].copy_from_slice(b"Akamai");
        let key = parse(&hive, at, 0x200).unwrap_or_else(|| unreachable!());
        assert_eq!(
            (key.cell, key.name.as_str(), key.parent),
            (0x20, "Akamai", 0x20)
        );
        assert_eq!(
            key.last_written.map(|t| t.to_iso8601()).as_deref(),
            Some("2012-02-14T09:31:00.0000000Z")
        );
        // The name must fit in the free space it was found in.
        assert!(parse(&hive, at, 0x24 + 0x4C + 5).is_none());
        // An implausible time, a root flag, a huge subkey count: not a key.
        let mut bad = hive.clone();
        bad[o + 4..o + 12].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(parse(&bad, at, 0x200).is_none());
        let mut bad = hive.clone();
        bad[o + 2] |= KEY_HIVE_ENTRY as u8;
        assert!(parse(&bad, at, 0x200).is_none());
        let mut bad = hive.clone();
        bad[o + 0x14..o + 0x18].copy_from_slice(&20_000u32.to_le_bytes());
        assert!(parse(&bad, at, 0x200).is_none());
        let mut bad = hive;
        bad[o + 0x4C] = b'\\';
        assert!(parse(&bad, at, 0x200).is_none());
    }
}
