//! Inputs this version knows but does not read, named for what they are with what the
//! examiner can do: an empty file, another file system, an encrypted volume, a disk
//! format or archive it does not read, a later segment of a split image given alone.
//! A silent "not recognised" (or worse, "no trace") on such evidence would mislead.

use std::path::{Path, PathBuf};

use crate::signature::{self, Signature, VolumeFormat};

/// Why an input is refused: what it is, and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub what: String,
    pub what_to_do: String,
}

impl Refusal {
    fn new(what: impl Into<String>, what_to_do: impl Into<String>) -> Refusal {
        Refusal {
            what: what.into(),
            what_to_do: what_to_do.into(),
        }
    }
}

/// An empty file: nothing in it to read.
pub fn empty_file() -> Refusal {
    Refusal::new(
        "an empty file (0 bytes)",
        "nothing can be read from it; check that the copy or the download completed",
    )
}

/// What the first bytes (2 KiB where the file has them) say of a file that is not a
/// format this version reads; `None` when they say nothing known.
pub fn of_content(head: &[u8]) -> Option<Refusal> {
    if let Some(other) = signature::other_format(head) {
        return Some(Refusal::new(other.name(), other.what_to_do()));
    }
    if signature::of_file(head) == Some(Signature::EwfLogical) {
        return Some(Refusal::new(
            "an EWF logical evidence file (L01/Lx01), which holds files, not a disk",
            "export its files to a folder (e.g. with FTK Imager) and give the folder",
        ));
    }
    match signature::volume_format(head) {
        Some(VolumeFormat::Ntfs) | None => None,
        Some(format) => Some(volume(format)),
    }
}

/// A volume of a file system this version does not read.
pub fn volume(format: VolumeFormat) -> Refusal {
    let what = if format.is_encrypted() {
        format!("a {} encrypted volume", format.name())
    } else {
        format!("a {} volume (only NTFS is read)", format.name())
    };
    Refusal::new(what, format.what_to_do())
}

/// A later segment of a split image given without its first segment: an EWF segment
/// whose header says it is not the first, whose first segment is not beside it; or a
/// file named as a later split-raw segment (`NAME.002`) whose content is no known
/// format (a split image's later pieces start in the middle of the disk).
pub fn later_segment(path: &Path, head: &[u8], content_known: bool) -> Option<Refusal> {
    if signature::is_ewf(head) && head.starts_with(&signature::EVF) {
        let number = crate::bytes::u16_le(head, signature::EWF_SEGMENT_NUMBER_AT)?;
        let first = ewf_first_segment(path)?;
        if number > 1 && !first.exists() {
            let what = format!("segment {number} of an EWF (E01) image, given alone");
            return Some(give_first(what, &first));
        }
        return None;
    }
    if content_known {
        return None;
    }
    let (number, first) = split_raw_first_segment(path)?;
    let what = format!(
        "named as segment {number} of a split raw image, and its content is no format this \
         version knows (a later segment starts in the middle of the disk)"
    );
    Some(give_first(what, &first))
}

fn give_first(what: String, first: &Path) -> Refusal {
    let beside = if first.exists() {
        "it is there"
    } else {
        "it is not beside this one"
    };
    Refusal::new(
        what,
        format!(
            "give the first segment ({}; {beside}), the others are found beside it",
            crate::host::display_name(first.as_os_str())
        ),
    )
}

/// `NAME.E01` for `NAME.E07` or `NAME.EAB` (the first letter's case kept; `S01` for
/// SMART segments).
fn ewf_first_segment(path: &Path) -> Option<PathBuf> {
    let ext = path.extension()?.to_str()?;
    let letter = ext.chars().next()?;
    if ext.len() != 3 || !letter.is_ascii_alphabetic() {
        return None;
    }
    Some(path.with_extension(format!("{letter}01")))
}

/// For `NAME.002` (three digits or more, numbered from 001, or from 000 when `NAME.000`
/// is beside it): the segment's number and the first segment's path, when it is a later
/// one.
fn split_raw_first_segment(path: &Path) -> Option<(u64, PathBuf)> {
    let ext = path.extension()?.to_str()?;
    if ext.len() < 3 || ext.len() > 19 || !ext.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: u64 = ext.parse().ok()?;
    let width = ext.len();
    let zero = path.with_extension(format!("{:0width$}", 0));
    let first_number = if zero.exists() { 0 } else { 1 };
    (number > first_number).then(|| {
        (
            number,
            path.with_extension(format!("{first_number:0width$}")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            ewf_first_segment(Path::new("/x/case.E07")),
            Some(PathBuf::from("/x/case.E01"))
        );
        assert_eq!(
            ewf_first_segment(Path::new("case.eab")),
            Some(PathBuf::from("case.e01"))
        );
        assert_eq!(ewf_first_segment(Path::new("case.Ex02")), None);
        assert_eq!(
            split_raw_first_segment(Path::new("/nonexistent/disk.raw.002")),
            Some((2, PathBuf::from("/nonexistent/disk.raw.001")))
        );
        assert_eq!(
            split_raw_first_segment(Path::new("/nonexistent/disk.0003")),
            Some((3, PathBuf::from("/nonexistent/disk.0001")))
        );
        assert_eq!(
            split_raw_first_segment(Path::new("/nonexistent/d.001")),
            None
        );
        assert_eq!(
            split_raw_first_segment(Path::new("/nonexistent/d.02")),
            None
        );
        assert_eq!(
            split_raw_first_segment(Path::new("/nonexistent/d.raw")),
            None
        );
    }

    #[test]
    fn contents() {
        assert!(of_content(b"QFI\xfb\0\0\0\x03").is_some_and(|r| r.what.contains("qcow2")));
        let mut luks = vec![0u8; 2048];
        luks[..6].copy_from_slice(signature::LUKS);
        assert!(
            of_content(&luks)
                .is_some_and(|r| r.what.contains("LUKS") && r.what_to_do.contains("cryptsetup"))
        );
        let mut ntfs = vec![0u8; 512];
        ntfs[3..11].copy_from_slice(signature::NTFS_OEM);
        assert_eq!(of_content(&ntfs), None);
        assert_eq!(of_content(b"plain text"), None);
    }
}
