//! A folder's index: an `$INDEX_ROOT` value and `INDX` blocks of 512 to 4096 bytes, each
//! checked (signature, update sequence, header) as in use and as freed, then its live
//! entries and the entries left in its slack.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::internals::ntfs::index::{
    block_in_use, block_size, block_slack, live_entries, root_entries, slack_entries,
};

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    // The folder whose keys count: the first 8 bytes, as a record number.
    let folder = data
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()) & 0xFFFF_FFFF_FFFF)
        .unwrap_or(5);
    let _ = block_size(data);
    let _ = root_entries(data);
    let _ = block_in_use(data, data.len().wrapping_mul(3));
    for size in [512usize, 1024, 4096] {
        for in_use in [true, false] {
            let Some(bytes) = data.get(..size) else {
                continue;
            };
            let mut block = bytes.to_vec();
            if let Ok(slack) = block_slack(&mut block, 3, 512, in_use) {
                let _ = live_entries(&block, slack.live.clone());
                let _ = slack_entries(&block, slack.start, slack.end, folder);
                // The folder the first live key names (a real block's own folder).
                let own = block
                    .get(slack.live.start + 16..slack.live.start + 24)
                    .map(|b| u64::from_le_bytes(b.try_into().unwrap()) & 0xFFFF_FFFF_FFFF);
                if let Some(own) = own {
                    let _ = slack_entries(&block, slack.start, slack.end, own);
                    let _ = slack_entries(&block, slack.live.start, slack.end, own);
                }
            }
            // The search on bytes whose fixups never held.
            let _ = slack_entries(bytes, 0, size, folder);
        }
    }
});
