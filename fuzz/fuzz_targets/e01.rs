//! An E01 container (single segment), opened with our checks and read throughout.
//! The reader finds segments by file name, so each input is written to a file first.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::internals::image::e01::EwfImage;
use netsession_scan::internals::image::source::ImageSource;

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    let dir = std::env::temp_dir().join(format!("e01-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("image.E01");
    {
        let Ok(mut file) = std::fs::File::create(&path) else {
            return;
        };
        if file.write_all(data).is_err() {
            return;
        }
    }
    if let Ok(image) = EwfImage::open(&path) {
        let size = image.size();
        let mut buf = vec![0u8; 64 * 1024];
        // Start, middle and end, and everything when small.
        let mut at = 0u64;
        let mut reads = 0;
        while at < size && reads < 64 {
            let _ = image.read_at(at, &mut buf);
            at += buf.len() as u64;
            reads += 1;
        }
        let _ = image.read_at(size / 2, &mut buf);
        let _ = image.read_at(size.saturating_sub(1), &mut buf[..1]);
    }
});
