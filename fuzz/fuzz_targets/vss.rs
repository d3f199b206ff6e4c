//! Volume Shadow Copies: the input is a volume (header at 0x1E00, catalog, stores); every
//! snapshot is opened and its first blocks and copied blocks are read, block by block and
//! in large reads across blocks.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::internals::image::source::{ImageSource, MemoryImage};
use netsession_scan::internals::vss::Shadows;

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    let volume: Arc<dyn ImageSource> = Arc::new(MemoryImage::new(data.to_vec()));
    let Ok(Some(shadows)) = Shadows::open(volume, "fuzz") else {
        return;
    };
    let mut buf = vec![0u8; 0x4000];
    let mut wide = vec![0u8; 4 * 0x4000];
    for n in 1..=shadows.len().min(16) {
        let Ok(view) = shadows.snapshot(n) else {
            continue;
        };
        // The volume size comes from the catalog and may be anything: read what a
        // small volume holds, and the blocks the stores copy.
        let first = (0..64u64).map(|b| b * 0x4000);
        for offset in first.chain(view.copied_blocks().into_iter().take(256)) {
            let _ = view.read_at(offset, &mut buf);
            // A large read that starts inside a block and crosses into the next ones
            // (runs joined across blocks), as the `$MFT` walk reads.
            let _ = view.read_through_at(offset.saturating_sub(0x2200), &mut wide);
        }
    }
});
