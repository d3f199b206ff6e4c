//! Deleted keys and values recovered from a hive's free cells.
//!
//! A deleted key or value stays in the hive file until its space is reused. The walk
//! (`cells`) lists the free cells (positive size) of every bin and the bytes after the
//! last bin; in them, at every even offset as yarp searches, a `nk` (`key`) or `vk`
//! (`value`) record is believed only when its structure checks out: signature, name
//! length inside the free space, a name a key or value can have, plausible counts and
//! last-write time, data offsets inside the hive. Values are attached to a recovered key
//! through the key's value list when that list is still in free space; the others are
//! orphans. A key's path is rebuilt through its parent, live (up to the root) or
//! recovered; when a parent is lost the path is partial and said to be.
//!
//! Offsets here are hive-bins offsets (file offset − 4096) of the cell, the way yarp,
//! regipy and hivex print cell offsets.

pub mod cells;
pub mod key;
pub mod matching;
pub mod slack;
pub mod value;

use std::collections::HashMap;

use cells::{CellError, CellMap};
use key::DeletedKey;
use value::{DeletedValue, VK_NAME};

use crate::bytes::{bytes_eq, u16_le, u32_le};
use crate::registry::base_block::HBIN_START;

/// Most records kept from one hive (a bound on memory for hostile input).
const MAX_RECORDS: usize = 200_000;

/// What a hive's free space gave back.
#[derive(Debug, Default, Clone)]
pub struct Recovered {
    pub keys: Vec<DeletedKey>,
    pub values: Vec<DeletedValue>,
    /// Indexes of values no recovered key lists and no live key's value-list slack
    /// names.
    pub orphans: Vec<usize>,
    /// Live keys whose value-list slack names recovered values.
    pub owners: Vec<slack::LiveOwner>,
    /// Damage met while walking the bins.
    pub errors: Vec<CellError>,
    /// The walk's map of free space.
    pub map: CellMap,
}

impl Recovered {
    /// Subkeys of recovered key `index`: recovered keys whose parent is its cell.
    pub fn children(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        let cell = self.keys.get(index).map(|k| k.cell);
        self.keys
            .iter()
            .enumerate()
            .filter(move |(_, k)| Some(k.parent) == cell)
            .map(|(i, _)| i)
    }
}

impl Recovered {
    /// What of `self` (recovered from a dirty hive's primary file) lies where log replay
    /// wrote other bytes (`replayed` is the hive after replay): the rest the search of the
    /// replayed hive finds as well. Values stay with a key that stays.
    pub fn rewritten_by_replay(self, primary: &[u8], replayed: &[u8]) -> Recovered {
        let changed = |cell: u32, len: usize| {
            let at = HBIN_START + cell as usize + 4;
            let end = at.saturating_add(len);
            primary.get(at..end) != replayed.get(at..end)
        };
        let name_len = |cell: u32, field: usize| {
            usize::from(u16_le(primary, HBIN_START + cell as usize + 4 + field).unwrap_or(0))
        };
        let keep_key: Vec<bool> = self
            .keys
            .iter()
            .map(|k| changed(k.cell, key::NK_NAME as usize + name_len(k.cell, 0x48)))
            .collect();
        let mut keep_value: Vec<bool> = self
            .values
            .iter()
            .map(|v| changed(v.cell, VK_NAME as usize + name_len(v.cell, 0x02)))
            .collect();
        for (k, _) in self.keys.iter().zip(&keep_key).filter(|(_, keep)| **keep) {
            for &v in &k.values {
                keep_value[v] = true;
            }
        }
        let mut new_index = vec![usize::MAX; self.values.len()];
        let mut values = Vec::new();
        for (i, v) in self.values.into_iter().enumerate() {
            if keep_value[i] {
                new_index[i] = values.len();
                values.push(v);
            }
        }
        let remap = |list: &[usize]| -> Vec<usize> {
            list.iter()
                .filter_map(|&i| new_index.get(i).copied().filter(|&n| n != usize::MAX))
                .collect()
        };
        let keys = self
            .keys
            .into_iter()
            .zip(keep_key)
            .filter(|(_, keep)| *keep)
            .map(|(mut k, _)| {
                k.values = remap(&k.values);
                k
            })
            .collect();
        let owners = self
            .owners
            .into_iter()
            .filter_map(|mut o| {
                o.values = remap(&o.values);
                (!o.values.is_empty()).then_some(o)
            })
            .collect();
        Recovered {
            keys,
            orphans: remap(&self.orphans),
            owners,
            values,
            errors: self.errors,
            map: self.map,
        }
    }
}

/// Recover deleted keys and values from `hive` (base block included): `root_cell` and
/// `declared` are the base block's root cell offset and hive-bins data size.
pub fn recover(hive: &[u8], root_cell: u32, declared: u32) -> Recovered {
    let map = CellMap::walk(hive, declared);
    let mut found = Recovered {
        errors: map.errors.clone(),
        ..Recovered::default()
    };
    for (start, end) in map.regions() {
        scan_region(hive, &map, start, end, &mut found);
        if found.keys.len() + found.values.len() >= MAX_RECORDS {
            break;
        }
    }
    attach_values(hive, &map, &mut found);
    slack::attach_to_live_keys(hive, &map, root_cell, &mut found);
    rebuild_paths(hive, &map, root_cell, &mut found);
    found.map = map;
    found
}

/// Search `[start, end)` at even offsets; a record that checks out is skipped over whole.
fn scan_region(hive: &[u8], map: &CellMap, start: u32, end: u32, found: &mut Recovered) {
    let mut pos = start;
    while pos.saturating_add(2) <= end {
        let at = HBIN_START + pos as usize;
        if bytes_eq(hive, at, b"nk")
            && let Some(k) = key::parse(hive, pos, end)
        {
            let name_len = u32::from(u16_le(hive, at + 0x48).unwrap_or(0));
            found.keys.push(k);
            let len = key::NK_NAME + name_len;
            pos = pos.saturating_add(len.next_multiple_of(2));
        } else if bytes_eq(hive, at, b"vk")
            && let Some(v) = value::parse(hive, map, pos, end)
        {
            let name_len = u32::from(u16_le(hive, at + 2).unwrap_or(0));
            found.values.push(v);
            pos = pos.saturating_add((VK_NAME + name_len).next_multiple_of(2));
        } else {
            pos += 2;
        }
        if found.keys.len() + found.values.len() >= MAX_RECORDS {
            return;
        }
    }
}

/// Give each recovered key the values its value list still names.
fn attach_values(hive: &[u8], map: &CellMap, found: &mut Recovered) {
    let by_cell: HashMap<u32, usize> = found
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| (v.cell, i))
        .collect();
    let mut attached = vec![false; found.values.len()];
    for k in &mut found.keys {
        if k.values_count == 0 {
            continue;
        }
        let list = k.values_list;
        let list_end = u64::from(list) + 4 + 4 * u64::from(k.values_count);
        let list_ok = list.is_multiple_of(8)
            && list_end <= u64::from(u32::MAX)
            && map.is_searchable(list, list_end as u32);
        if !list_ok {
            k.lost.push(if map.is_allocated(list) {
                format!(
                    "its value list (cell {list:#x}, {} values) is in use by other data now: its values were overwritten",
                    k.values_count
                )
            } else {
                format!(
                    "its value list (cell {list:#x}, {} values) is not in free space: its values cannot be listed",
                    k.values_count
                )
            });
            continue;
        }
        for i in 0..k.values_count {
            let entry = u32_le(hive, HBIN_START + (list + 4 + 4 * i) as usize).unwrap_or(0);
            match by_cell.get(&entry) {
                Some(&index) => {
                    k.values.push(index);
                    attached[index] = true;
                }
                None if map.is_allocated(entry) => k.lost.push(format!(
                    "value {} of {}: its cell {entry:#x} is in use by other data now (overwritten)",
                    i + 1,
                    k.values_count
                )),
                None => k.lost.push(format!(
                    "value {} of {}: no value record that checks out at cell {entry:#x}",
                    i + 1,
                    k.values_count
                )),
            }
        }
    }
    found.orphans = (0..found.values.len()).filter(|&i| !attached[i]).collect();
}

/// Paths through recovered or live parents; partial where a parent is lost.
fn rebuild_paths(hive: &[u8], map: &CellMap, root_cell: u32, found: &mut Recovered) {
    let by_cell: HashMap<u32, usize> = found
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.cell, i))
        .collect();
    let mut memo: HashMap<usize, (String, bool)> = HashMap::new();
    for i in 0..found.keys.len() {
        let (path, complete) = path_of(hive, map, root_cell, found, &by_cell, &mut memo, i);
        found.keys[i].path = path;
        found.keys[i].complete = complete;
    }
}

fn path_of(
    hive: &[u8],
    map: &CellMap,
    root_cell: u32,
    found: &Recovered,
    by_cell: &HashMap<u32, usize>,
    memo: &mut HashMap<usize, (String, bool)>,
    index: usize,
) -> (String, bool) {
    // The chain of recovered keys upwards, stopping at a known path, a live parent, the
    // root, a lost parent or a loop.
    let mut chain = vec![index];
    let mut base: (String, bool) = (String::new(), false);
    while let Some(&top) = chain.last() {
        if let Some(known) = memo.get(&top) {
            chain.pop();
            base = known.clone();
            break;
        }
        let parent = found.keys[top].parent;
        if parent == root_cell {
            base = (String::new(), true);
            break;
        }
        match by_cell.get(&parent) {
            Some(&p) if !chain.contains(&p) && chain.len() < key::MAX_DEPTH => chain.push(p),
            Some(_) => break, // a loop, or too deep: the path starts here
            None => {
                if let Some(path) = key::live_path(hive, map, root_cell, parent) {
                    base = (path, true);
                }
                break;
            }
        }
    }
    let (mut path, complete) = base;
    for &k in chain.iter().rev() {
        if !path.is_empty() {
            path.push('\\');
        }
        path.push_str(&found.keys[k].name);
        memo.insert(k, (path.clone(), complete));
    }
    (path, complete)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One bin: a live root `nk` at 0x20 and free space holding a deleted subkey with one
    /// value, whose data cell follows.
    fn small_hive() -> Vec<u8> {
        let mut h = vec![0u8; HBIN_START + 4096];
        let put = |h: &mut Vec<u8>, at: usize, b: &[u8]| {
            h[HBIN_START + at..HBIN_START + at + b.len()].copy_from_slice(b)
        };
        put(&mut h, 0, b"hbin");
        put(&mut h, 8, &4096u32.to_le_bytes());
        // Root: allocated 0x60 bytes.
        put(&mut h, 0x20, &(-0x60i32).to_le_bytes());
        put(&mut h, 0x24, b"nk");
        put(&mut h, 0x26, &0x2Cu16.to_le_bytes());
        put(&mut h, 0x24 + 0x48, &4u16.to_le_bytes());
        put(&mut h, 0x24 + 0x4C, b"ROOT");
        // Free from 0x80 to the end of the bin.
        put(&mut h, 0x80, &(4096i32 - 0x80).to_le_bytes());
        // Deleted key at cell 0x80 (stale size), parent the root, one value listed at 0x100.
        let nk = 0x84;
        put(&mut h, nk, b"nk");
        put(&mut h, nk + 2, &0x20u16.to_le_bytes());
        put(&mut h, nk + 4, &129_736_854_600_000_000u64.to_le_bytes());
        put(&mut h, nk + 0x10, &0x20u32.to_le_bytes());
        put(&mut h, nk + 0x24, &1u32.to_le_bytes());
        put(&mut h, nk + 0x28, &0x100u32.to_le_bytes());
        put(&mut h, nk + 0x48, &6u16.to_le_bytes());
        put(&mut h, nk + 0x4C, b"Akamai");
        // Value list at 0x100: one entry, the vk cell at 0x110.
        put(&mut h, 0x100, &(-16i32).to_le_bytes());
        put(&mut h, 0x104, &0x110u32.to_le_bytes());
        // vk at 0x110: "Path", REG_SZ, 8 bytes at data cell 0x140.
        put(&mut h, 0x110, &(-32i32).to_le_bytes());
        put(&mut h, 0x114, b"vk");
        put(&mut h, 0x116, &4u16.to_le_bytes());
        put(&mut h, 0x118, &8u32.to_le_bytes());
        put(&mut h, 0x11C, &0x140u32.to_le_bytes());
        put(&mut h, 0x120, &1u32.to_le_bytes());
        put(&mut h, 0x124, &1u16.to_le_bytes());
        put(&mut h, 0x128, b"Path");
        put(&mut h, 0x140, &(-16i32).to_le_bytes());
        put(&mut h, 0x144, b"C\0:\0\\\0\0\0");
        // An orphan value at 0x150 whose data cell (0x20) is the live root.
        put(&mut h, 0x150, &(-32i32).to_le_bytes());
        put(&mut h, 0x154, b"vk");
        put(&mut h, 0x156, &3u16.to_le_bytes());
        put(&mut h, 0x158, &8u32.to_le_bytes());
        put(&mut h, 0x15C, &0x20u32.to_le_bytes());
        put(&mut h, 0x160, &1u32.to_le_bytes());
        put(&mut h, 0x164, &1u16.to_le_bytes());
        put(&mut h, 0x168, b"Old");
        h
    }

    #[test]
    fn a_deleted_key_with_its_value_and_an_orphan_whose_data_was_reused() {
        let h = small_hive();
        let found = recover(&h, 0x20, 4096);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert_eq!(found.keys.len(), 1);
        let k = &found.keys[0];
        assert_eq!(
            (k.cell, k.path.as_str(), k.complete),
            (0x80, "Akamai", true)
        );
        assert_eq!(k.values.len(), 1, "{:?}", k.lost);
        let v = &found.values[k.values[0]];
        assert_eq!((v.cell, v.name.as_str(), v.data_type), (0x110, "Path", 1));
        assert_eq!(v.data, value::Data::Read(b"C\0:\0\\\0\0\0".to_vec()));
        assert_eq!(found.orphans.len(), 1);
        let o = &found.values[found.orphans[0]];
        assert_eq!((o.name.as_str(), o.size), ("Old", 8));
        assert!(
            matches!(&o.data, value::Data::Lost(why) if why.contains("in use by other data now")),
            "{:?}",
            o.data
        );
    }

    #[test]
    fn a_lost_parent_gives_a_partial_path() {
        let mut h = small_hive();
        // Parent offset pointing at free space that holds no key.
        h[HBIN_START + 0x84 + 0x10..HBIN_START + 0x84 + 0x14]
            .copy_from_slice(&0x300u32.to_le_bytes());
        let found = recover(&h, 0x20, 4096);
        assert_eq!(
            (found.keys[0].path.as_str(), found.keys[0].complete),
            ("Akamai", false)
        );
    }
}
