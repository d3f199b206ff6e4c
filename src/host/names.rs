//! Names from the evidence as text.
//!
//! File names on a host need not be valid UTF-8 (a Linux mount of a damaged volume, a
//! collector that wrote raw bytes). The walk keeps the real bytes to open the file; for
//! display and matching each invalid byte is written as `\xNN`, so two different names
//! never look the same and nothing panics.

use std::ffi::OsStr;
use std::path::{Component, Path, Prefix};

pub fn display_name(name: &OsStr) -> String {
    if let Some(text) = name.to_str() {
        return text.to_string();
    }
    escape_invalid(name.as_encoded_bytes())
}

/// A host path as text, without Windows' verbatim prefix (`\\?\C:\x` is shown as `C:\x`,
/// `\\?\UNC\server\share` as `\\server\share`): what `canonicalize` returns on Windows
/// is not what an examiner types.
pub fn display_path(path: &Path) -> String {
    let text = display_name(path.as_os_str());
    if let Some(unc) = text.strip_prefix(r"\\?\UNC\") {
        return format!(r"\\{unc}");
    }
    match text.strip_prefix(r"\\?\") {
        Some(rest) if rest.as_bytes().get(1) == Some(&b':') => rest.to_string(),
        _ => text,
    }
}

/// The drive or share an absolute host path starts with, as it is written before the
/// first separator (`C:`, `//server/share`); empty on Unix, where paths have none.
pub fn path_prefix(path: &Path) -> String {
    match path.components().next() {
        Some(Component::Prefix(prefix)) => match prefix.kind() {
            Prefix::Disk(d) | Prefix::VerbatimDisk(d) => format!("{}:", char::from(d)),
            Prefix::UNC(server, share) | Prefix::VerbatimUNC(server, share) => {
                format!("//{}/{}", display_name(server), display_name(share))
            }
            _ => display_name(prefix.as_os_str()),
        },
        _ => String::new(),
    }
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

    #[test]
    fn verbatim_prefixes_are_not_shown() {
        assert_eq!(display_path(Path::new(r"\\?\Z:\cases\x")), r"Z:\cases\x");
        assert_eq!(
            display_path(Path::new(r"\\?\UNC\srv\share\x")),
            r"\\srv\share\x"
        );
        assert_eq!(display_path(Path::new("/mnt/c")), "/mnt/c");
        // Unix paths have no prefix; Windows ones are tested in the Windows build.
        assert_eq!(path_prefix(Path::new("/mnt/c")), "");
        #[cfg(windows)]
        {
            assert_eq!(path_prefix(Path::new(r"\\?\Z:\cases")), "Z:");
            assert_eq!(path_prefix(Path::new(r"C:\cases")), "C:");
            assert_eq!(path_prefix(Path::new(r"\\srv\share\x")), "//srv/share");
        }
    }
}
