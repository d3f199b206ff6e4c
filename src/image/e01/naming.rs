//! How the segment files of an E01 set are named, and finding a set's segments (and the
//! names of the missing ones) in the folder of the one given.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::EwfImage;
use super::missing::SegmentSlot;
use super::sections::is_ewf_segment;
use crate::image::file::{parent_dir, sibling_files, with_extension};
use crate::image::source::ImageError;

/// How a set's segment files are named: `E01`..`E99`, `EAA`..`EZZ`, `FAA`..`ZZZ`; for
/// EWF2 `Ex01`..`Ex99`, `ExAA`..`EzZZ`. `lead0` is the letter that starts the set
/// (`E`; `X` for EWF2), `first` EWF2's fixed first letter.
#[derive(Debug, Clone, Copy)]
struct EwfNaming {
    v2: bool,
    first: u8,
    lead0: u8,
    /// Letter case of the given file, reused for names we construct.
    first_lower: bool,
    lead_lower: bool,
}

/// An extension split into EWF parts: (v2, first letter, lead letter, two trailing
/// characters), letters upper-cased.
fn ewf_ext_parts(ext: &str) -> Option<(bool, u8, u8, [u8; 2])> {
    let b = ext.as_bytes();
    let (v2, first, lead, two) = match b {
        [lead, t0, t1] => (false, *lead, *lead, [*t0, *t1]),
        [first, lead, t0, t1] => (true, *first, *lead, [*t0, *t1]),
        _ => return None,
    };
    if !first.is_ascii_alphabetic() || !lead.is_ascii_alphabetic() {
        return None;
    }
    let two = [two[0].to_ascii_uppercase(), two[1].to_ascii_uppercase()];
    let digits = two.iter().all(u8::is_ascii_digit);
    let letters = two.iter().all(u8::is_ascii_uppercase);
    if !digits && !letters {
        return None;
    }
    let lead_up = lead.to_ascii_uppercase();
    if v2 && !(b'X'..=b'Z').contains(&lead_up) {
        return None;
    }
    Some((v2, first.to_ascii_uppercase(), lead_up, two))
}

impl EwfNaming {
    /// The naming of the set `ext` belongs to, with `header_number` (the segment number
    /// stored in the file, when known) to place a letter-form name like `EAB`.
    fn of(ext: &str, header_number: Option<u32>) -> Option<EwfNaming> {
        let (v2, first, lead, two) = ewf_ext_parts(ext)?;
        let b = ext.as_bytes();
        let lead_lower = b
            .get(if v2 { 1 } else { 0 })
            .is_some_and(u8::is_ascii_lowercase);
        let first_lower = b.first().is_some_and(u8::is_ascii_lowercase);
        let lead0 = if v2 {
            b'X'
        } else if two[0].is_ascii_digit() {
            lead
        } else {
            // `EAB` is segment 101 of an `E` set, `FAA` segment 776: only the header's
            // number tells (and a name like `disk.raw` is no segment name at all).
            let k = header_number?.checked_sub(100)? / 676;
            u8::try_from(u32::from(lead).checked_sub(k)?).ok()?
        };
        let naming = EwfNaming {
            v2,
            first,
            lead0,
            first_lower,
            lead_lower,
        };
        // The name must say what the header says.
        match header_number {
            Some(h) if naming.number(ext) != Some(h) => None,
            _ => Some(naming),
        }
    }

    /// The segment number of `ext` in this set.
    fn number(&self, ext: &str) -> Option<u32> {
        let (v2, first, lead, two) = ewf_ext_parts(ext)?;
        if v2 != self.v2 || (v2 && first != self.first) || lead < self.lead0 {
            return None;
        }
        if two[0].is_ascii_digit() {
            let n = u32::from(two[0] - b'0') * 10 + u32::from(two[1] - b'0');
            (lead == self.lead0 && n > 0).then_some(n)
        } else {
            let k = u32::from(lead - self.lead0) * 676
                + u32::from(two[0] - b'A') * 26
                + u32::from(two[1] - b'A');
            Some(100 + k)
        }
    }

    /// The extension of segment `n` in this set.
    fn ext(&self, n: u32) -> Option<String> {
        let case = |c: u8, lower: bool| char::from(if lower { c.to_ascii_lowercase() } else { c });
        let (lead, tail) = if (1..=99).contains(&n) {
            (self.lead0, format!("{n:02}"))
        } else {
            let k = n.checked_sub(100)?;
            let lead = u8::try_from(u32::from(self.lead0) + k / 676).ok()?;
            if lead > b'Z' {
                return None;
            }
            let t0 = case(b'A' + u8::try_from(k / 26 % 26).ok()?, self.lead_lower);
            let t1 = case(b'A' + u8::try_from(k % 26).ok()?, self.lead_lower);
            (lead, format!("{t0}{t1}"))
        };
        let mut ext = String::new();
        if self.v2 {
            ext.push(case(self.first, self.first_lower));
        }
        ext.push(case(lead, self.lead_lower));
        ext.push_str(&tail);
        Some(ext)
    }
}

impl EwfImage {
    /// The segments of the set `path` belongs to, in order, a missing one under the name
    /// it would have.
    pub(super) fn discover(
        path: &Path,
        header_number: Option<u32>,
    ) -> Result<Vec<SegmentSlot>, ImageError> {
        let naming = path
            .extension()
            .and_then(OsStr::to_str)
            .and_then(|ext| EwfNaming::of(ext, header_number));
        let (Some(naming), Some(stem)) = (naming, path.file_stem()) else {
            // Not named like a segment (`disk.img` holding EWF): the only segment we
            // can find. A set continued elsewhere shows as a `next` section.
            return Ok(vec![SegmentSlot::present(path)]);
        };
        let dir = parent_dir(path);
        let mut found: BTreeMap<u32, PathBuf> = BTreeMap::new();
        for file in sibling_files(dir)? {
            if file.file_stem() != Some(stem) {
                continue;
            }
            if let Some(n) = file
                .extension()
                .and_then(OsStr::to_str)
                .and_then(|e| naming.number(e))
                // `disk.raw` beside `disk.E01` parses as a letter-form segment name:
                // only files that are EWF segments themselves count.
                && is_ewf_segment(&file)
            {
                found.insert(n, file);
            }
        }
        if let Some(n) = path
            .extension()
            .and_then(OsStr::to_str)
            .and_then(|e| naming.number(e))
        {
            found.entry(n).or_insert_with(|| path.to_path_buf());
        }
        let mut slots = Vec::with_capacity(found.len());
        let mut expect = 1u32;
        for (n, p) in found {
            while expect < n {
                match Self::missing(dir, stem, naming, expect, path) {
                    ImageError::MissingSegment { expected } => slots.push(SegmentSlot {
                        path: expected,
                        present: false,
                    }),
                    other => return Err(other),
                }
                expect += 1;
            }
            slots.push(SegmentSlot::present(&p));
            expect = expect.saturating_add(1);
        }
        Ok(slots)
    }

    fn missing(dir: &Path, stem: &OsStr, naming: EwfNaming, n: u32, given: &Path) -> ImageError {
        match naming.ext(n) {
            Some(ext) => ImageError::MissingSegment {
                expected: with_extension(dir, stem, &ext),
            },
            None => ImageError::Ewf {
                path: given.to_path_buf(),
                message: format!("segment {n} is missing"),
            },
        }
    }

    /// The last segment ends with `next`: segment `number + 1` should follow.
    pub(super) fn next_missing(path: &Path, number: u32) -> ImageError {
        let naming = path
            .extension()
            .and_then(OsStr::to_str)
            .and_then(|ext| EwfNaming::of(ext, Some(number)));
        match (naming, path.file_stem()) {
            (Some(naming), Some(stem)) => Self::missing(
                parent_dir(path),
                stem,
                naming,
                number.saturating_add(1),
                path,
            ),
            _ => ImageError::Ewf {
                path: path.to_path_buf(),
                message: format!(
                    "segment {number} ends with a 'next' section, but segment {} is not there",
                    number.saturating_add(1)
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ewf_names_round_trip() {
        let naming = EwfNaming::of("E01", Some(1)).unwrap();
        assert!(EwfNaming::of("E01", Some(2)).is_none());
        assert!(EwfNaming::of("raw", Some(1)).is_none());
        for (n, ext) in [
            (1, "E01"),
            (99, "E99"),
            (100, "EAA"),
            (101, "EAB"),
            (126, "EBA"),
            (775, "EZZ"),
            (776, "FAA"),
        ] {
            assert_eq!(naming.ext(n).as_deref(), Some(ext), "{n}");
            assert_eq!(naming.number(ext), Some(n), "{ext}");
        }
        assert_eq!(naming.number("E00"), None);
        assert_eq!(naming.number("F01"), None);
        assert_eq!(naming.number("D01"), None);
        let lower = EwfNaming::of("e01", None).unwrap();
        assert_eq!(lower.ext(2).as_deref(), Some("e02"));
        assert_eq!(lower.ext(100).as_deref(), Some("eaa"));
        assert_eq!(lower.number("E02"), Some(2));
        // Given a letter-form segment, the header's number places it.
        let from_fab = EwfNaming::of("FAB", Some(777)).unwrap();
        assert_eq!(from_fab.ext(1).as_deref(), Some("E01"));
        let v2 = EwfNaming::of("Ex01", None).unwrap();
        assert_eq!(v2.ext(3).as_deref(), Some("Ex03"));
        assert_eq!(v2.number("Ex02"), Some(2));
        assert_eq!(v2.number("E02"), None);
        assert!(EwfNaming::of("raw", None).is_none());
        assert!(EwfNaming::of("E1", None).is_none());
    }
}
