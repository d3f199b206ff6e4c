//! Text content: timestamps and indicators in lines of text files, and the decoding of
//! those files' bytes to text.
//!
//! A timestamp recognised here becomes a timeline row, so the recogniser is strict: a
//! line time needs a calendar date *and* a time of day, both valid, and it must not be
//! part of a longer run of digits or dots (version numbers, serials). Numeric dates whose
//! day/month order cannot be decided are refused rather than guessed.
//!
//! Indicators (URLs, IP addresses, GUIDs, copyright notices) are best effort: each kind
//! is found independently, so an IP address inside a URL is reported as well as the URL
//! (the host of a URL is useful evidence in its own right). The one exception is an
//! IPv4 address embedded in an IPv6 address (`::ffff:192.0.2.1`), which is reported
//! only as the IPv6 address.
//!
//! Each job has its own submodule: `timestamps` ([`find_line_time`]), `indicators`
//! ([`find_indicators`]) and `decode` ([`decode_text`], [`is_text`]).

mod decode;
mod indicators;
mod timestamps;

pub use decode::{LineDecoder, MAX_PIECE, Piece, decode_text, is_text};
pub use indicators::{IndicatorKind, find_indicators};
pub use timestamps::{LineTime, find_line_time};

/// A byte that can be part of a word (`[A-Za-z0-9_]`): timestamps and indicators must
/// not be glued to one.
fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}
