//! Missing E01 segments: the runs of them in a set, how many chunks a run held (only
//! from a trusted volume section), the stand-in segment the crate reads in its place,
//! and which chunks lie in a hole.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::EwfImage;
use super::sections::{EVF_SIGNATURE, SECTION_DESCRIPTOR_SIZE, SegmentWalk};
use crate::image::source::ImageError;

/// One segment of a set: its file, or, missing, the name it would have.
#[derive(Debug, Clone)]
pub(super) struct SegmentSlot {
    pub(super) path: PathBuf,
    pub(super) present: bool,
}

impl SegmentSlot {
    pub(super) fn present(path: &Path) -> Self {
        SegmentSlot {
            path: path.to_path_buf(),
            present: true,
        }
    }
}

/// The chunks a run of missing segments held.
#[derive(Debug, Clone)]
pub(super) struct SegmentGap {
    pub(super) first_chunk: u64,
    pub(super) count: u64,
    pub(super) segments: Vec<PathBuf>,
}

/// The runs of consecutive missing slots, as index ranges.
pub(super) fn missing_runs(slots: &[SegmentSlot]) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        if slot.present {
            continue;
        }
        match runs.last_mut() {
            Some(run) if run.end == i => run.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

/// Most entries in one stand-in table section (the crate takes up to 4,000,000).
const PLACEHOLDER_TABLE_ENTRIES: u64 = 1 << 21;

/// A stand-in for a missing EWF v1 segment: a file header with its number and table
/// sections declaring `chunks` entries in all, without the entries (never read: reads of
/// those chunks are refused first). The crate then numbers the chunks of later segments
/// as they were.
pub(super) fn placeholder_segment(number: u16, chunks: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&EVF_SIGNATURE);
    bytes.push(1);
    bytes.extend_from_slice(&number.to_le_bytes());
    bytes.extend_from_slice(&[0, 0]);
    let mut left = chunks;
    while left > 0 {
        let count = left.min(PLACEHOLDER_TABLE_ENTRIES);
        left -= count;
        let at = bytes.len() as u64;
        let section = (SECTION_DESCRIPTOR_SIZE + 24) as u64;
        let next = if left > 0 { at + section } else { 0 };
        let mut desc = [0u8; SECTION_DESCRIPTOR_SIZE];
        desc[..5].copy_from_slice(b"table");
        desc[16..24].copy_from_slice(&next.to_le_bytes());
        desc[24..32].copy_from_slice(&section.to_le_bytes());
        let sum = ewf::sections::adler32(&desc[..72]);
        desc[72..76].copy_from_slice(&sum.to_le_bytes());
        bytes.extend_from_slice(&desc);
        let mut header = [0u8; 24];
        header[..4].copy_from_slice(&(count as u32).to_le_bytes());
        let sum = ewf::sections::adler32(&header[..20]);
        header[20..24].copy_from_slice(&sum.to_le_bytes());
        bytes.extend_from_slice(&header);
    }
    bytes
}

impl EwfImage {
    /// How many chunks a run of missing segments held: the volume's chunk count less the
    /// chunks of the segments present. Refused where it cannot be known or believed.
    pub(super) fn chunks_of_missing_run(
        slots: &[SegmentSlot],
        walks: &[Option<(File, File, SegmentWalk)>],
        run: &std::ops::Range<usize>,
    ) -> Result<u64, ImageError> {
        let missing = || ImageError::MissingSegment {
            expected: slots[run.start].path.clone(),
        };
        let Some(Some((_, _, first))) = walks.first() else {
            return Err(missing());
        };
        let present: u64 = walks
            .iter()
            .flatten()
            .flat_map(|(_, _, w)| w.tables.iter().map(|t| t.1))
            .sum();
        let declared = first.volume_chunks.ok_or_else(missing)?;
        let held = declared.checked_sub(present).ok_or_else(|| ImageError::Ewf {
            path: slots[0].path.clone(),
            message: format!(
                "the volume section declares {declared} chunks, fewer than the {present} the                  segments present hold"
            ),
        })?;
        // Segments after the run must stay where they were: the run cannot have held more
        // chunks than segments of the size of the largest present one could list.
        if run.end < slots.len() {
            let largest = slots
                .iter()
                .filter(|s| s.present)
                .filter_map(|s| std::fs::metadata(&s.path).ok())
                .map(|m| m.len())
                .max()
                .unwrap_or(0);
            if held > (run.len() as u64).saturating_mul(largest / 4) {
                return Err(ImageError::Ewf {
                    path: slots[0].path.clone(),
                    message: format!(
                        "{held} chunks would have been in the missing segment(s) from {}, more                          than they could hold",
                        slots[run.start].path.display()
                    ),
                });
            }
        }
        Ok(held)
    }

    /// The missing run that held `chunk`, if any.
    pub(super) fn gap_of(&self, chunk: u64) -> Option<&SegmentGap> {
        self.gaps
            .iter()
            .find(|g| chunk >= g.first_chunk && chunk - g.first_chunk < g.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::{u32_le, u64_le};
    use crate::image::e01::sections::{FILE_HEADER_SIZE, v1_segment_number};

    // The fields the assertions read, zero past the end, through the shared readers.
    fn le_u32(b: &[u8], at: usize) -> u32 {
        u32_le(b, at).unwrap_or(0)
    }

    fn le_u64(b: &[u8], at: usize) -> u64 {
        u64_le(b, at).unwrap_or(0)
    }

    #[test]
    fn missing_runs_are_told_apart() {
        let slots = |present: &[bool]| -> Vec<SegmentSlot> {
            present
                .iter()
                .map(|&present| SegmentSlot {
                    path: PathBuf::new(),
                    present,
                })
                .collect()
        };
        assert!(missing_runs(&slots(&[true, true])).is_empty());
        assert_eq!(
            missing_runs(&slots(&[true, false, false, true])),
            vec![(1..3)]
        );
        // Two runs: the chunks of segment 3 could sit anywhere between them.
        assert_eq!(
            missing_runs(&slots(&[true, false, true, false])),
            [1..2, 3..4]
        );
    }

    #[test]
    fn placeholder_segments_declare_their_chunks_in_checksummed_sections() {
        let bytes = placeholder_segment(7, PLACEHOLDER_TABLE_ENTRIES + 5);
        assert_eq!(v1_segment_number(&bytes), Some(7));
        let desc = SECTION_DESCRIPTOR_SIZE;
        let first = FILE_HEADER_SIZE as usize;
        let second = first + desc + 24;
        assert_eq!(bytes.len(), second + desc + 24);
        for (at, count) in [(first, PLACEHOLDER_TABLE_ENTRIES), (second, 5)] {
            assert_eq!(&bytes[at..at + 5], b"table");
            assert_eq!(
                ewf::sections::adler32(&bytes[at..at + 72]),
                le_u32(&bytes, at + 72)
            );
            assert_eq!(u64::from(le_u32(&bytes, at + desc)), count);
        }
        assert_eq!(le_u64(&bytes, first + 16), second as u64, "chained");
        assert_eq!(le_u64(&bytes, second + 16), 0, "last");
        assert_eq!(placeholder_segment(2, 0).len(), FILE_HEADER_SIZE as usize);
    }
}
