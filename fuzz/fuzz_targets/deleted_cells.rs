//! The deleted-entry search of a hive's free cells, and the recovered keys and values as
//! the registry families read them. Input: 4-byte little-endian root cell offset, then
//! the hive bins (a zeroed base block is put before them; the declared bins size is
//! their length, so truncated and overlong bins are both reached).
#![no_main]

use libfuzzer_sys::fuzz_target;

use netsession_scan::internals::registry::deleted::recover;
use netsession_scan::internals::registry::hive::RegKey;

fuzz_target!(|data: &[u8]| {
    let Some((head, bins)) = data.split_first_chunk::<4>() else {
        return;
    };
    let root_cell = u32::from_le_bytes(*head);
    let mut hive = vec![0u8; 4096];
    hive.extend_from_slice(bins);
    let declared = u32::try_from(bins.len()).unwrap_or(u32::MAX);
    let found = recover(&hive, root_cell, declared);
    let mut problems = Vec::new();
    for i in 0..found.keys.len() {
        if let Some(key) = RegKey::deleted(&found, i, &hive) {
            let _ = (key.values(&mut problems), key.subkeys(&mut problems));
            let _ = (key.last_written(), key.offset(), key.location());
        }
    }
    for i in 0..found.owners.len() {
        if let Some(key) = RegKey::with_deleted_values(&found, i, &hive) {
            for v in key.values(&mut problems) {
                let _ = v.display();
            }
        }
    }
});
