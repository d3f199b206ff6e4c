//! A Prefetch file: the MAM wrapper of Windows 10 and later, then the uncompressed
//! (`SCCA`) file's header, file information and sections.
//!
//! Header damage (no signature, a version Windows did not write, a header or file
//! information cut short) is an error. Damage in a later section (file metrics, trace
//! chains, filename strings, volumes) is a [`Problem`] at its offset, and the other
//! sections are read all the same. Every offset and count is checked against the file
//! before use, and nothing is allocated beyond what the file's bytes can fill.

mod filenames;
mod header;
mod metrics;
mod volumes;

use crate::bytes::{bytes_eq, u32_le};

use super::{MAX_DECOMPRESSED_BYTES, Prefetch, PrefetchError, Problem, xpress_huffman};

/// The MAM header's signature (LZXPRESS Huffman, no checksum).
const MAM: &[u8; 4] = b"MAM\x04";

/// File offsets of the file information fields that locate the filename strings and the
/// volumes information (for problems about the offset itself).
const FILE_INFO_FIELD_STRINGS: u64 = header::HEADER_SIZE as u64 + 16;
const FILE_INFO_FIELD_VOLUMES: u64 = header::HEADER_SIZE as u64 + 24;

/// A section's bytes inside the file and where they start.
pub struct Section<'a> {
    pub start: usize,
    pub bytes: &'a [u8],
}

/// How a section is named in problems: its name, the verb agreeing with it ("run" or
/// "runs"), the file information field that locates it, and what is lost when it starts
/// past the end of the file.
struct SectionName {
    name: &'static str,
    runs: &'static str,
    field_offset: u64,
    lost: &'static str,
}

/// The section `start..start + size` as far as the file holds it: one starting past the
/// end is a problem at the file information field that locates it (`None`), one running
/// past the end is cut there and says so.
fn bounded_section<'a>(
    b: &'a [u8],
    start: usize,
    size: usize,
    named: &SectionName,
    problems: &mut Vec<Problem>,
) -> Option<Section<'a>> {
    let SectionName {
        name,
        runs,
        field_offset,
        lost,
    } = named;
    if start > b.len() {
        problems.push(Problem {
            offset: *field_offset,
            what: format!(
                "{name} offset {start} is past the end of the file ({} bytes): {lost}",
                b.len()
            ),
        });
        return None;
    }
    let end = start.saturating_add(size);
    if end > b.len() {
        problems.push(Problem {
            offset: start as u64,
            what: format!(
                "{name} of {size} bytes {runs} past the end of the file ({} bytes): cut there",
                b.len()
            ),
        });
    }
    Some(Section {
        start,
        bytes: &b[start..end.min(b.len())],
    })
}

/// Reads a Prefetch file, compressed (`MAM\x04`) or not.
pub fn parse(bytes: &[u8]) -> Result<Prefetch, PrefetchError> {
    if !bytes_eq(bytes, 0, MAM) {
        return parse_decompressed(bytes);
    }
    let size = u32_le(bytes, 4).ok_or(PrefetchError::Truncated {
        offset: 4,
        what: "MAM header",
        needed: 4,
        available: bytes.len().saturating_sub(4),
    })? as usize;
    if size > MAX_DECOMPRESSED_BYTES {
        return Err(PrefetchError::Bad {
            offset: 4,
            what: "MAM header",
            detail: format!(
                "decompressed size {size} is over the {MAX_DECOMPRESSED_BYTES} bytes believed"
            ),
        });
    }
    let plain = xpress_huffman::decompress(&bytes[8..], size)?;
    let mut pf = parse_decompressed(&plain)?;
    pf.compressed = true;
    Ok(pf)
}

/// Reads an uncompressed (`SCCA`) Prefetch file.
pub fn parse_decompressed(b: &[u8]) -> Result<Prefetch, PrefetchError> {
    let head = header::read_header(b)?;
    let fi = header::read_file_information(b, head.version)?;
    let mut problems = Vec::new();
    if head.stated_size as usize != b.len() {
        problems.push(Problem {
            offset: 12,
            what: format!(
                "the header states {} bytes, the file has {}",
                head.stated_size,
                b.len()
            ),
        });
    }
    let strings = filenames::section(b, &fi, &mut problems);
    let loaded_files = strings
        .as_ref()
        .map(|s| filenames::names(s, &mut problems))
        .unwrap_or_default();
    metrics::check(b, &fi, strings.as_ref(), &mut problems);
    let volumes = volumes::read(b, &fi, &mut problems);
    Ok(Prefetch {
        version: head.version,
        compressed: false,
        executable: head.executable,
        hash: head.hash,
        stated_size: head.stated_size,
        run_count: fi.run_count,
        last_runs: fi.last_run_slots.into_iter().filter(|&t| t != 0).collect(),
        loaded_files,
        volumes,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mam_header_refusals() {
        assert_eq!(parse(b""), Err(PrefetchError::NotPrefetch));
        assert!(matches!(
            parse(b"MAM\x04\x10"),
            Err(PrefetchError::Truncated { offset: 4, .. })
        ));
        let mut big = b"MAM\x04".to_vec();
        big.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            parse(&big),
            Err(PrefetchError::Bad { offset: 4, .. })
        ));
    }
}
