//! The text content readers: encoding detection and decoding, timestamps, indicators.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::content::text::decode_text;
use netsession_scan::content::{FileContext, sniff, text_rows};
use netsession_scan::evidence::RecordState;

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    let _ = sniff(data);
    if let Some(text) = decode_text(data) {
        let ctx = FileContext {
            path: "x\\netsession.log".into(),
            name: "netsession.log".into(),
            user: String::new(),
            source: "fuzz".into(),
            state: RecordState::Allocated,
            sha256: String::new(),
        };
        text_rows(&text, &ctx, &mut Vec::new());
    }
});
