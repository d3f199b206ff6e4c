//! The VHDX header section (the first 1 MiB): the file identifier (`vhdxfile`), two
//! headers at 64 KiB and 128 KiB (4 KiB each, CRC-32C; the valid one with the higher
//! sequence number is current), and two copies of the region table at 192 KiB and
//! 256 KiB (64 KiB, CRC-32C) that say where the BAT and the metadata are.

use crate::bytes::{array, u16_le, u32_le, u64_le};
use crate::image::container::{Container, guid_text};
use crate::image::source::ImageError;
use crate::signature::VHDX;

use super::crc32c::crc32c_with_zeroed;

pub(super) const HEADER_OFFSETS: [u64; 2] = [64 * 1024, 128 * 1024];
const HEADER_LEN: usize = 4096;
pub(super) const REGION_OFFSETS: [u64; 2] = [192 * 1024, 256 * 1024];
const REGION_LEN: usize = 64 * 1024;
/// Most region table entries the format allows.
const MAX_REGIONS: u32 = 2047;

/// A GUID as VHDX stores it (the first three fields little-endian).
pub(super) const fn guid(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> [u8; 16] {
    let a = d1.to_le_bytes();
    let b = d2.to_le_bytes();
    let c = d3.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4], d4[5],
        d4[6], d4[7],
    ]
}

pub(super) const BAT_REGION: [u8; 16] = guid(
    0x2DC2_7766,
    0xF623,
    0x4200,
    [0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08],
);
pub(super) const METADATA_REGION: [u8; 16] = guid(
    0x8B7C_A206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);

/// The current header.
#[derive(Debug, Clone)]
pub(super) struct Header {
    pub(super) sequence: u64,
    pub(super) data_write_guid: [u8; 16],
    pub(super) log_guid: [u8; 16],
    pub(super) log_offset: u64,
    pub(super) log_length: u32,
}

impl Header {
    /// A non-zero LogGuid: the log holds writes not yet applied (the disk was not closed
    /// cleanly).
    pub(super) fn log_dirty(&self) -> bool {
        self.log_guid != [0u8; 16]
    }
}

/// A region (BAT or metadata): where and how long.
#[derive(Debug, Clone, Copy)]
pub(super) struct Region {
    pub(super) offset: u64,
    pub(super) length: u64,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Regions {
    pub(super) bat: Region,
    pub(super) metadata: Region,
}

/// Check the file identifier.
pub(super) fn check_identifier(file: &Container) -> Result<(), ImageError> {
    let mut id = [0u8; 8];
    file.structure(0, &mut id, "file identifier")?;
    if &id != VHDX {
        return Err(file.bad(0, "no VHDX file identifier (\"vhdxfile\")"));
    }
    Ok(())
}

fn parse_header(b: &[u8]) -> Result<Header, String> {
    if !b.starts_with(b"head") {
        return Err("no header signature (\"head\")".into());
    }
    let stored = u32_le(b, 4).unwrap_or(0);
    let computed = crc32c_with_zeroed(b, 4);
    if stored != computed {
        return Err(format!(
            "header CRC-32C mismatch (stored {stored:#010x}, computed {computed:#010x})"
        ));
    }
    let version = u16_le(b, 66).unwrap_or(0);
    if version != 1 {
        return Err(format!("header version {version}, not 1"));
    }
    Ok(Header {
        sequence: u64_le(b, 8).unwrap_or(0),
        data_write_guid: array(b, 32).unwrap_or_default(),
        log_guid: array(b, 48).unwrap_or_default(),
        log_length: u32_le(b, 68).unwrap_or(0),
        log_offset: u64_le(b, 72).unwrap_or(0),
    })
}

/// The current header: of the valid ones, the higher sequence number. A damaged header
/// beside a valid one is a note; none valid is an error naming both offsets.
pub(super) fn current_header(
    file: &Container,
    notes: &mut Vec<(String, String)>,
) -> Result<Header, ImageError> {
    let mut parsed = Vec::new();
    for at in HEADER_OFFSETS {
        let mut b = vec![0u8; HEADER_LEN];
        let result = file
            .structure(at, &mut b, "header")
            .map_err(|e| e.to_string())
            .and_then(|()| parse_header(&b));
        parsed.push((at, result));
    }
    let best = parsed
        .iter()
        .filter_map(|(at, r)| r.as_ref().ok().map(|h| (*at, h)))
        .max_by_key(|(at, h)| (h.sequence, std::cmp::Reverse(*at)));
    let Some((chosen_at, header)) = best else {
        let why: Vec<String> = parsed
            .iter()
            .map(|(at, r)| format!("at {at}: {}", r.as_ref().err().cloned().unwrap_or_default()))
            .collect();
        return Err(file.bad(
            HEADER_OFFSETS[0],
            format!("neither header is valid ({})", why.join("; ")),
        ));
    };
    let header = header.clone();
    for (at, result) in &parsed {
        if let Err(why) = result
            && *at != chosen_at
        {
            notes.push((
                format!("VHDX header at file offset {at}"),
                format!(
                    "{why}; the other header (sequence {}) is used",
                    header.sequence
                ),
            ));
        }
    }
    Ok(header)
}

fn parse_regions(b: &[u8], file: &Container, at: u64) -> Result<Regions, String> {
    if !b.starts_with(b"regi") {
        return Err("no region table signature (\"regi\")".into());
    }
    let stored = u32_le(b, 4).unwrap_or(0);
    let computed = crc32c_with_zeroed(b, 4);
    if stored != computed {
        return Err(format!(
            "region table CRC-32C mismatch (stored {stored:#010x}, computed {computed:#010x})"
        ));
    }
    let count = u32_le(b, 8).unwrap_or(0);
    if count > MAX_REGIONS {
        return Err(format!("{count} region entries (at most {MAX_REGIONS})"));
    }
    let (mut bat, mut metadata) = (None, None);
    for i in 0..count as usize {
        let e = 16 + i * 32;
        let id: [u8; 16] = array(b, e).unwrap_or_default();
        let region = Region {
            offset: u64_le(b, e + 16).unwrap_or(0),
            length: u64::from(u32_le(b, e + 24).unwrap_or(0)),
        };
        let required = u32_le(b, e + 28).unwrap_or(0) & 1 != 0;
        let fits = region
            .offset
            .checked_add(region.length)
            .is_some_and(|end| end <= file.len());
        if id == BAT_REGION || id == METADATA_REGION {
            if !fits || region.offset < 1 << 20 {
                return Err(format!(
                    "region {} at {}+{} is outside the file of {} bytes (truncated?)",
                    guid_text(&id),
                    region.offset,
                    region.length,
                    file.len()
                ));
            }
            if id == BAT_REGION {
                bat = Some(region);
            } else {
                metadata = Some(region);
            }
        } else if required {
            return Err(format!(
                "region {} is required and unknown to this reader (entry at {})",
                guid_text(&id),
                at + e as u64
            ));
        }
    }
    match (bat, metadata) {
        (Some(bat), Some(metadata)) => Ok(Regions { bat, metadata }),
        _ => Err("the BAT or the metadata region is not listed".into()),
    }
}

/// The region table: the first valid copy (a damaged first copy is a note).
pub(super) fn regions(
    file: &Container,
    notes: &mut Vec<(String, String)>,
) -> Result<Regions, ImageError> {
    let mut errors = Vec::new();
    for at in REGION_OFFSETS {
        let mut b = vec![0u8; REGION_LEN];
        let result = file
            .structure(at, &mut b, "region table")
            .map_err(|e| e.to_string())
            .and_then(|()| parse_regions(&b, file, at));
        match result {
            Ok(r) => {
                for (bad_at, why) in errors {
                    notes.push((
                        format!("VHDX region table at file offset {bad_at}"),
                        format!("{why}; the copy at {at} is used"),
                    ));
                }
                return Ok(r);
            }
            Err(why) => errors.push((at, why)),
        }
    }
    let why: Vec<String> = errors
        .iter()
        .map(|(at, w)| format!("at {at}: {w}"))
        .collect();
    Err(file.bad(
        REGION_OFFSETS[0],
        format!("no valid region table ({})", why.join("; ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::vhdx::crc32c::crc32c;

    pub(crate) fn header_bytes(sequence: u64, log: bool) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        b[..4].copy_from_slice(b"head");
        b[8..16].copy_from_slice(&sequence.to_le_bytes());
        b[32..48].copy_from_slice(&[0x11; 16]);
        if log {
            b[48..64].copy_from_slice(&[0x22; 16]);
        }
        b[66..68].copy_from_slice(&1u16.to_le_bytes());
        let sum = crc32c(&b);
        b[4..8].copy_from_slice(&sum.to_le_bytes());
        b
    }

    #[test]
    fn headers_parse_and_check() {
        let h = parse_header(&header_bytes(5, true)).unwrap();
        assert_eq!(h.sequence, 5);
        assert!(h.log_dirty());
        assert!(!parse_header(&header_bytes(5, false)).unwrap().log_dirty());
        let mut bad = header_bytes(5, false);
        bad[100] = 1;
        assert!(parse_header(&bad).unwrap_err().contains("CRC-32C"));
        assert!(parse_header(b"head").is_err());
        assert_eq!(
            guid_text(&BAT_REGION),
            "2DC27766-F623-4200-9D64-115E9BFD4A08"
        );
        assert_eq!(
            guid_text(&METADATA_REGION),
            "8B7CA206-4790-4B9A-B8FE-575F050F886E"
        );
    }
}
