//! A whole image in memory: partition table, NTFS volumes, the MFT walk with the
//! catalog, streams (compressed, sparse, attribute lists), the change journal, hives
//! inside: everything a scan of an image file does.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::internals::image::source::MemoryImage;
use netsession_scan::{AnalysisOptions, Catalog, Warnings};

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    let catalog = Catalog::embedded().expect("embedded catalog");
    let options = AnalysisOptions {
        hash: true,
        text_cap: 1 << 20,
        ..netsession_scan::AnalysisOptions::default()
    };
    let _ = netsession_scan::scan_image_source(
        Box::new(MemoryImage::new(data.to_vec())),
        "fuzz",
        &catalog,
        &options,
        &Warnings::new(),
    );
});
