//! A Prefetch file from arbitrary bytes, compressed (MAM) or not: parsed whole. The
//! parser and the LZXPRESS Huffman decompressor must never panic (they have no guard):
//! every problem is an `Err` or a `Problem`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsession_scan::internals::content::prefetch;

fuzz_target!(|data: &[u8]| {
    let _ = prefetch::parse(data);
    // The decompressor alone, with the size the data's first bytes give (bounded).
    if data.len() >= 4 {
        let size = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize % (1 << 20);
        let _ = prefetch::xpress_huffman::decompress(&data[4..], size);
    }
});
