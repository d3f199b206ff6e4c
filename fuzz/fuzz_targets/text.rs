//! The text content readers: encoding detection and decoding, timestamps, indicators;
//! and the streaming line decoder, which must give the rows of the whole-buffer decoder
//! whatever the chunks it is fed.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::internals::content::text::{LineDecoder, decode_text};
use netsession_scan::internals::content::{FileContext, TextRows, sniff, text_rows};
use netsession_scan::Catalog;
use netsession_scan::internals::evidence::RecordState;

static CATALOG: std::sync::LazyLock<Catalog> =
    std::sync::LazyLock::new(|| Catalog::embedded().expect("the embedded catalog loads"));

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    let _ = sniff(data);
    let ctx = FileContext {
        path: "x\\netsession.log".into(),
        name: "netsession.log".into(),
        user: String::new(),
        source: "fuzz".into(),
        state: RecordState::Allocated,
        sha256: String::new(),
        zone: None,
    };
    // The embedded catalog's log events, so NetSession lines and their continuations
    // are fuzzed too.
    let events = &CATALOG.log_events;
    let mut whole = Vec::new();
    let decoded = decode_text(data);
    if let Some(text) = &decoded {
        text_rows(text, &ctx, events, &mut whole);
    }
    // The same bytes streamed in chunks of a size the input chooses.
    let chunk = 1 + usize::from(data.first().copied().unwrap_or(0)) * 7;
    let mut decoder = LineDecoder::new();
    let mut reader = TextRows::new(&ctx, events);
    let mut streamed = Vec::new();
    for part in data.chunks(chunk) {
        decoder.feed(part, &mut |p| reader.piece(p, &mut streamed));
    }
    let is_text = decoder.finish(&mut |p| reader.piece(p, &mut streamed));
    reader.finish(&mut streamed);
    assert_eq!(is_text, decoded.is_some(), "text judgement differs");
    assert_eq!(streamed, whole, "streamed rows differ");
});
