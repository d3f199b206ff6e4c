//! One-line fields: what every writer and warning does to text from the evidence.

/// Make a value safe for a one-line field: line breaks, tabs and other control
/// characters become visible escapes (`\n`, `\r`, `\t`, `\x1B`). Backslashes stay as they
/// are: every Windows path has them.
pub fn escape_one_line(value: &str) -> String {
    if !value.chars().any(needs_escape) {
        return value.to_string();
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
    out
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
