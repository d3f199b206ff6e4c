//! The file metrics array (one entry per loaded file: timing values, the offset and
//! length of its name in the filename strings section, flags and, from version 23 on, an
//! NTFS file reference) and the trace chains array. Neither gives the scan anything the
//! filename strings do not, so they are only checked: each array must lie inside the
//! file and each metrics entry's name inside the filename strings, ended by a NUL.

use crate::bytes::{u16_le, u32_le};

use super::super::Problem;
use super::filenames::Section;
use super::header::FileInformation;

/// The byte range of an array of `count` entries of `size` bytes at `offset`, when the
/// file holds all of it.
fn array_range(b: &[u8], offset: u32, count: u32, size: usize) -> Option<(usize, usize)> {
    let start = offset as usize;
    let end = (count as usize).checked_mul(size)?.checked_add(start)?;
    (end <= b.len()).then_some((start, end))
}

/// Checks both arrays, adding a problem for each that does not fit and one (counting
/// them) for metrics entries whose name is not where they say.
pub fn check(
    b: &[u8],
    fi: &FileInformation,
    strings: Option<&Section>,
    problems: &mut Vec<Problem>,
) {
    let layout = &fi.layout;
    if array_range(b, fi.trace_offset, fi.trace_count, layout.trace_entry_size).is_none() {
        problems.push(Problem {
            offset: fi.trace_offset as u64,
            what: format!(
                "trace chains array of {} entries of {} bytes does not fit in the file ({} bytes)",
                fi.trace_count,
                layout.trace_entry_size,
                b.len()
            ),
        });
    }
    let Some((start, end)) = array_range(
        b,
        fi.metrics_offset,
        fi.metrics_count,
        layout.metrics_entry_size,
    ) else {
        problems.push(Problem {
            offset: fi.metrics_offset as u64,
            what: format!(
                "file metrics array of {} entries of {} bytes does not fit in the file ({} bytes)",
                fi.metrics_count,
                layout.metrics_entry_size,
                b.len()
            ),
        });
        return;
    };
    let Some(strings) = strings else { return };
    let mut bad = 0usize;
    let mut first_bad = None;
    for (i, entry) in b[start..end]
        .chunks_exact(layout.metrics_entry_size)
        .enumerate()
    {
        let at = layout.metrics_name_at;
        let name_offset = u32_le(entry, at).unwrap_or(u32::MAX) as usize;
        let chars = u32_le(entry, at + 4).unwrap_or(u32::MAX) as usize;
        let nul_at = chars
            .checked_mul(2)
            .and_then(|c| c.checked_add(name_offset));
        let ok = nul_at.and_then(|n| u16_le(strings.bytes, n)) == Some(0);
        if !ok {
            bad += 1;
            first_bad.get_or_insert(start + i * layout.metrics_entry_size);
        }
    }
    if let Some(first) = first_bad {
        problems.push(Problem {
            offset: first as u64,
            what: format!(
                "{bad} of {} file metrics entries do not point at a NUL-ended name in the \
                 filename strings (first at this offset)",
                fi.metrics_count
            ),
        });
    }
}
