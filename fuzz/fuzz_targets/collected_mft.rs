//! A collected `$MFT` and `$J` (the input split at a 4-byte little-endian length): the
//! record geometry from record 0, the extension index, the MFT walk with the catalog,
//! resident data kept and read, the journal streamed with zero runs skipped.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::internals::catalog::Matcher;
use netsession_scan::internals::fs::FileSystem;
use netsession_scan::internals::fs::collected::collected_view;
use netsession_scan::internals::host::collected::{CollectedFile, MemoryFile};
use netsession_scan::internals::ntfs::collected::CollectedMft;
use netsession_scan::{Catalog, Warnings};

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    let Some(head) = data.get(..4) else {
        return;
    };
    let split = (u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize)
        .min(data.len() - 4);
    let (mft, journal) = data[4..].split_at(split);
    let file = |name: &str, bytes: &[u8]| MemoryFile {
        name: name.into(),
        bytes: bytes.to_vec(),
    };
    let Ok(mft) = CollectedMft::open(Box::new(file("$MFT", mft))) else {
        return;
    };
    let journal = Some(Box::new(file("$J", journal)) as Box<dyn CollectedFile>);
    let view = collected_view(mft, journal, None);
    let catalog = Catalog::embedded().expect("embedded catalog");
    let matcher = Matcher::new(&catalog);
    let warnings = Warnings::new();
    let walk = view.walk(&matcher, &warnings, &mut |_| {});
    for candidate in &walk.candidates {
        if let Ok(mut reader) = view.open(candidate) {
            let _ = std::io::copy(&mut reader.by_ref().take(1 << 20), &mut std::io::sink());
        }
    }
});
