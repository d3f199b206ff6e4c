//! EWF v1 on disk: the file signatures and header, and the section chain of a segment
//! (descriptors, volume and table sections) walked with every checksum checked.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::bytes::{u16_le, u32_le, u64_le};
use crate::host::open_evidence_file;
use crate::image::file::pread_full;
use crate::image::source::ImageError;

pub(in crate::image) use crate::signature::{
    EVF as EVF_SIGNATURE, EVF2 as EVF2_SIGNATURE, LEF2 as LEF2_SIGNATURE, LVF as LVF_SIGNATURE,
};
/// An EWF v1 section descriptor: type (16), next (8), size (8), padding, checksum.
pub(super) const SECTION_DESCRIPTOR_SIZE: usize = 76;
/// The EWF v1 file header: signature (8), 1, segment number (2), 0 (2).
pub(super) const FILE_HEADER_SIZE: u64 = 13;

/// The first 13 bytes of a file (fewer if it is shorter).
pub(in crate::image) fn read_head(path: &Path) -> Result<Vec<u8>, ImageError> {
    let file = open_evidence_file(path).map_err(|source| ImageError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut head = Vec::with_capacity(FILE_HEADER_SIZE as usize);
    file.take(FILE_HEADER_SIZE)
        .read_to_end(&mut head)
        .map_err(|source| ImageError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(head)
}

/// The segment number in an EWF v1 file header.
pub(super) fn v1_segment_number(head: &[u8]) -> Option<u32> {
    if head.get(..8)? != EVF_SIGNATURE {
        return None;
    }
    let n = u16_le(head, 9)?;
    Some(u32::from(n))
}

/// A chunk table section of an EWF v1 segment, as the crate uses it.
#[derive(Debug, Clone)]
pub(super) struct TableSection {
    /// The global index of its first chunk.
    pub(super) first_chunk: u64,
    pub(super) count: u64,
    /// Which segment (index into the set) and where its entries start.
    pub(super) segment: usize,
    pub(super) entries_offset: u64,
    /// Whether an Adler-32 of the entries follows them.
    pub(super) has_checksum: bool,
}

/// What walking one EWF v1 segment's sections found.
pub(super) struct SegmentWalk {
    /// The last section's type (`done` in the last segment, `next` in the others), or
    /// `None` when the chain breaks off first (a truncated segment).
    pub(super) last: Option<String>,
    /// The `table` sections, or the `table2` ones where the segment has no `table` (the
    /// crate's choice): (entries offset, entry count, checksum follows).
    pub(super) tables: Vec<(u64, u64, bool)>,
    /// The chunk count its `volume` (or `disk`) section declares, when trusted (see
    /// [`trusted_chunk_count`]).
    pub(super) volume_chunks: Option<u64>,
}

/// An EnCase volume section's body: geometry, then an Adler-32 of the first 1,048 bytes.
const VOLUME_BODY_LEN: usize = 1052;

/// The chunk count of a volume section's body, when two independent fields agree on it
/// (it is ceil(sector count / sectors per chunk)) and the body's Adler-32 holds (where
/// the body is long enough to carry one). Only a count trusted this way sizes a hole
/// left by missing segments: a wrong one would shift every later chunk onto the wrong
/// image offset.
fn trusted_chunk_count(volume: &[u8]) -> Option<u64> {
    if volume.len() < 24 {
        return None;
    }
    if volume.len() >= VOLUME_BODY_LEN
        && ewf::sections::adler32(&volume[..VOLUME_BODY_LEN - 4])
            != u32_le(volume, VOLUME_BODY_LEN - 4).unwrap_or(0)
    {
        return None;
    }
    let chunks = u64::from(u32_le(volume, 4).unwrap_or(0));
    let sectors_per_chunk = u64::from(u32_le(volume, 8).unwrap_or(0));
    let sectors = u64_le(volume, 16).unwrap_or(0);
    (sectors_per_chunk > 0 && sectors.div_ceil(sectors_per_chunk) == chunks).then_some(chunks)
}

/// Walk an EWF v1 segment's section chain, checking every section descriptor's and every
/// table header's Adler-32 (the crate checks neither: a damaged entry count would shift
/// every later chunk onto another chunk's data).
pub(super) fn walk_v1_segment(
    file: &File,
    len: u64,
    path: &Path,
) -> Result<SegmentWalk, ImageError> {
    let damaged = |offset: u64, what: &str| ImageError::Ewf {
        path: path.to_path_buf(),
        message: format!("{what} at offset {offset} fails its checksum: the segment is damaged"),
    };
    let io_err = |source| ImageError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut offset = FILE_HEADER_SIZE;
    let mut desc = [0u8; SECTION_DESCRIPTOR_SIZE];
    let mut table = Vec::new();
    let mut table2 = Vec::new();
    let mut last = None;
    let mut volume_chunks = None;
    loop {
        if offset.saturating_add(SECTION_DESCRIPTOR_SIZE as u64) > len
            || pread_full(file, &mut desc, offset).map_err(io_err)? < SECTION_DESCRIPTOR_SIZE
        {
            break;
        }
        if ewf::sections::adler32(&desc[..72]) != u32_le(&desc, 72).unwrap_or(0) {
            return Err(damaged(offset, "section descriptor"));
        }
        let kind: Vec<u8> = desc[..16].iter().copied().take_while(|&b| b != 0).collect();
        let next = u64_le(&desc, 16).unwrap_or(0);
        let size = u64_le(&desc, 24).unwrap_or(0);
        match kind.as_slice() {
            b"done" | b"next" => {
                last = Some(String::from_utf8_lossy(&kind).into_owned());
                break;
            }
            b"volume" | b"disk" => {
                let mut volume = vec![0u8; VOLUME_BODY_LEN];
                let at = offset.saturating_add(SECTION_DESCRIPTOR_SIZE as u64);
                let got = pread_full(file, &mut volume, at).map_err(io_err)?;
                volume.truncate(got);
                volume_chunks = trusted_chunk_count(&volume);
            }
            b"table" | b"table2" => {
                let mut header = [0u8; 24];
                let at = offset.saturating_add(SECTION_DESCRIPTOR_SIZE as u64);
                if pread_full(file, &mut header, at).map_err(io_err)? < header.len() {
                    break;
                }
                if ewf::sections::adler32(&header[..20]) != u32_le(&header, 20).unwrap_or(0) {
                    return Err(damaged(at, "table header"));
                }
                let count = u64::from(u32_le(&header, 0).unwrap_or(0));
                let entries_offset = at.saturating_add(24);
                if entries_offset.saturating_add(count * 4) > len {
                    return Err(ImageError::Ewf {
                        path: path.to_path_buf(),
                        message: format!(
                            "the table at offset {offset} declares {count} entries, more than \
                             the segment holds"
                        ),
                    });
                }
                // Descriptor, header, entries, then (EnCase 2 and later) their Adler-32.
                let has_checksum = size >= 100 + count * 4 + 4;
                let list = if kind == b"table" {
                    &mut table
                } else {
                    &mut table2
                };
                list.push((entries_offset, count, has_checksum));
            }
            _ => {}
        }
        // Offsets only grow along the chain; anything else ends it (and no loop).
        if next <= offset {
            break;
        }
        offset = next;
    }
    Ok(SegmentWalk {
        last,
        tables: if table.is_empty() { table2 } else { table },
        volume_chunks,
    })
}

/// Does the file start with an EWF segment signature?
pub(super) fn is_ewf_segment(path: &Path) -> bool {
    read_head(path).is_ok_and(|head| {
        let sig = head.get(..8).unwrap_or_default();
        [EVF_SIGNATURE, EVF2_SIGNATURE]
            .iter()
            .any(|s| s[..] == *sig)
    })
}
