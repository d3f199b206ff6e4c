//! The filename strings section: the NT paths of the files the program loaded, UTF-16LE,
//! each ended by a NUL unit, one after the other (libscca's "filename strings").

use crate::bytes::utf16_units;

use super::super::Problem;
pub use super::Section;
use super::header::FileInformation;
use super::{SectionName, bounded_section};

/// The section as far as the file holds it: a section running past the end is cut
/// there, and says so; `None` when it starts past the end of the file.
pub fn section<'a>(
    b: &'a [u8],
    fi: &FileInformation,
    problems: &mut Vec<Problem>,
) -> Option<Section<'a>> {
    let named = SectionName {
        name: "filename strings",
        runs: "run",
        field_offset: super::FILE_INFO_FIELD_STRINGS,
        lost: "no loaded file names",
    };
    bounded_section(
        b,
        fi.strings_offset as usize,
        fi.strings_size as usize,
        &named,
        problems,
    )
}

/// The strings of the section in stored order: each NUL unit ends one (an empty string
/// between two NULs is kept, as libscca keeps it); a last string without its NUL is kept
/// too and said to be cut.
pub fn names(section: &Section, problems: &mut Vec<Problem>) -> Vec<String> {
    let mut names = Vec::new();
    let mut units: Vec<u16> = Vec::new();
    for u in utf16_units(section.bytes) {
        if u == 0 {
            names.push(String::from_utf16_lossy(&units));
            units.clear();
        } else {
            units.push(u);
        }
    }
    if !units.is_empty() {
        let at = section.start + (section.bytes.len() & !1) - 2 * units.len();
        problems.push(Problem {
            offset: at as u64,
            what: "the last filename string has no end-of-string character".into(),
        });
        names.push(String::from_utf16_lossy(&units));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16z(names: &[&str]) -> Vec<u8> {
        names
            .iter()
            .flat_map(|n| n.encode_utf16().chain([0]))
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    #[test]
    fn split_at_nuls() {
        let bytes = utf16z(&["\\A\\B.DLL", "\\C.EXE"]);
        let mut problems = Vec::new();
        let s = Section {
            start: 10,
            bytes: &bytes,
        };
        assert_eq!(names(&s, &mut problems), ["\\A\\B.DLL", "\\C.EXE"]);
        assert!(problems.is_empty());
        let s = Section {
            start: 10,
            bytes: &bytes[..bytes.len() - 3],
        };
        assert_eq!(names(&s, &mut problems), ["\\A\\B.DLL", "\\C.EX"]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].offset, 10 + 18);
    }
}
