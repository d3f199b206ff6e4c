//! Names from the evidence as text.
//!
//! File names on a host need not be valid UTF-8 (a Linux mount of a damaged volume, a
//! collector that wrote raw bytes). The walk keeps the real bytes to open the file; for
//! display and matching each invalid byte is written as `\xNN`, so two different names
//! never look the same and nothing panics.

use std::ffi::OsStr;

pub fn display_name(name: &OsStr) -> String {
    if let Some(text) = name.to_str() {
        return text.to_string();
    }
    escape_invalid(name.as_encoded_bytes())
}

fn escape_invalid(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bytes_are_escaped_not_lost() {
        assert_eq!(escape_invalid(b"ab\xffc\xc3"), "ab\\xFFc\\xC3");
        assert_eq!(escape_invalid("José".as_bytes()), "José");
    }
}
