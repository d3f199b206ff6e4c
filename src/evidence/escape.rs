//! One-line fields: what every writer and warning does to text from the evidence.

use std::borrow::Cow;

/// Make a value safe for a one-line field: line breaks, tabs and other control
/// characters become visible escapes (`\n`, `\r`, `\t`, `\x1B`). Backslashes stay as they
/// are: every Windows path has them. Text that needs nothing is borrowed, not copied.
pub fn escape_one_line(value: &str) -> Cow<'_, str> {
    // Every character to escape is a control character or U+2028/U+2029 (0xE2 0x80
    // 0xA8/A9 in UTF-8): bytes below 0x20, 0x7F, 0xC2 (C1 controls) or 0xE2.
    // Folded over chunks rather than `any` byte by byte, so that it vectorises: this
    // runs over every field of every row written.
    let suspect = value.as_bytes().chunks(64).any(|chunk| {
        chunk.iter().fold(false, |hit, &b| {
            hit | (b < 0x20) | (b == 0x7F) | (b == 0xC2) | (b == 0xE2)
        })
    });
    if !suspect || !value.chars().any(needs_escape) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_escapes() {
        assert_eq!(escape_one_line("a\r\nb\tc\u{1b}"), "a\\r\\nb\\tc\\x1B");
        assert_eq!(escape_one_line("C:\\x\\y"), "C:\\x\\y");
        assert_eq!(escape_one_line("line\u{2028}sep"), "line\\x2028sep");
    }
}
