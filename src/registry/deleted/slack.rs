//! Deleted values of live keys, found through the slack of the key's value list.
//!
//! When Windows deletes a value it shifts the later entries of the key's value list down
//! and lowers the count; the list cell keeps its size. The entries past the count still
//! point where values were: when such an entry points at a value recovered from free
//! space (one no recovered key lists), that value was this key's (yarp's "remnant
//! values" of a key).

use std::collections::HashMap;

use super::Recovered;
use super::cells::CellMap;
use super::key::{NK_NAME, live_path};
use crate::bytes::{array, bytes_eq, u32_le, u64_le};
use crate::registry::base_block::HBIN_START;
use crate::time::Timestamp;

const NK_LAST_WRITTEN: usize = 0x04;
const NK_VALUES: usize = 0x24;
const NK_VALUE_LIST: usize = 0x28;

/// A live key some recovered values belonged to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOwner {
    /// Hive-bins offset of the live key's cell.
    pub cell: u32,
    /// Its path from the root (root's name left out).
    pub path: String,
    pub last_written: Option<Timestamp>,
    /// Indexes in [`Recovered::values`].
    pub values: Vec<usize>,
}

/// Give orphan values to the live keys whose value-list slack names them.
pub fn attach_to_live_keys(hive: &[u8], map: &CellMap, root_cell: u32, found: &mut Recovered) {
    if found.orphans.is_empty() {
        return;
    }
    let orphan_at: HashMap<u32, usize> = found
        .orphans
        .iter()
        .filter_map(|&i| found.values.get(i).map(|v| (v.cell, i)))
        .collect();
    let mut owners: Vec<LiveOwner> = Vec::new();
    let mut taken = vec![false; found.values.len()];
    for (cell, len) in map.allocated(hive) {
        let nk = HBIN_START + cell as usize + 4;
        if len < NK_NAME + 4 || !bytes_eq(hive, nk, b"nk") {
            continue;
        }
        let Some(slack) = list_slack(hive, map, nk) else {
            continue;
        };
        let mut values: Vec<usize> = Vec::new();
        for i in slack.filter_map(|entry| orphan_at.get(&entry).copied()) {
            // A slot may repeat a pointer (entries shifted down leave copies).
            if !taken.get(i).copied().unwrap_or(true) && !values.contains(&i) {
                values.push(i);
            }
        }
        if values.is_empty() {
            continue;
        }
        let Some(path) = live_path(hive, map, root_cell, cell) else {
            continue;
        };
        for &i in &values {
            taken[i] = true;
        }
        owners.push(LiveOwner {
            cell,
            path,
            last_written: u64_le(hive, nk + NK_LAST_WRITTEN).and_then(Timestamp::from_filetime),
            values,
        });
    }
    found.orphans.retain(|&i| !taken[i]);
    found.owners = owners;
}

/// The entries past the count of the value list of the live key whose `nk` record is at
/// file offset `nk`, when that list is a cell in use.
fn list_slack<'h>(
    hive: &'h [u8],
    map: &CellMap,
    nk: usize,
) -> Option<impl Iterator<Item = u32> + 'h> {
    let count = u32_le(hive, nk + NK_VALUES)?;
    let list = u32_le(hive, nk + NK_VALUE_LIST)?;
    if count == 0 || !list.is_multiple_of(8) || !map.is_allocated(list) {
        return None;
    }
    let at = HBIN_START + list as usize;
    let size = array(hive, at).map(i32::from_le_bytes)?;
    if size >= 0 {
        return None;
    }
    let capacity = (size.unsigned_abs() - 4) / 4;
    if count >= capacity {
        return None;
    }
    Some((count..capacity).filter_map(move |i| u32_le(hive, at + 4 + 4 * i as usize)))
}
