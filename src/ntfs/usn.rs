//! Update sequence number (USN) change journal: the records of `$Extend\$UsnJrnl:$J`.
//!
//! Pure functions over bytes, written from the documented `USN_RECORD_V2` /
//! `USN_RECORD_V3` layouts. `$J` is a sparse stream: the part Windows has already
//! discarded reads as zeros, and each 4 KiB page ends with zero padding when the next
//! record does not fit, so zero-filled gaps are skipped 8 bytes at a time.
//!
//! Nothing here panics on the evidence: every read is bounds-checked and the only
//! allocation sized by a record field (the file name) is bounded by the record length,
//! which is itself checked against the buffer.

use super::record::split_reference;
use crate::bytes::{u16_le, u32_le, u64_le, utf16_lossy};

/// The fixed part of a version 2 record; its file name starts here at the earliest.
const V2_HEADER_LEN: usize = 0x3C;
/// The fixed part of a version 3 record (128-bit file ids).
const V3_HEADER_LEN: usize = 0x4C;
/// Records are 8-byte aligned, and so is the scan.
const ALIGN: usize = 8;
/// How many problem descriptions [`parse_records`] keeps; the rest are only counted.
const MAX_PROBLEMS_KEPT: usize = 20;

/// One change-journal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsnRecord {
    /// Byte offset of the record in the `$J` stream: its position in the buffer given to
    /// [`parse_records`] plus the base offset passed in. For an intact journal read from
    /// offset 0 this equals [`usn`](Self::usn).
    pub offset: u64,
    pub major: u16,
    pub minor: u16,
    /// MFT record number of the file (low 48 bits of the file reference). Version 3
    /// records carry 128-bit file ids; for NTFS their low 64 bits hold the usual file
    /// reference, so the low 48 bits / next 16 bits are kept as a best effort (on ReFS
    /// the ids do not split this way).
    pub file_record: u64,
    /// Sequence number of the file (bits 48..64 of the file reference).
    pub file_sequence: u16,
    /// MFT record number of the parent directory (same caveat for version 3).
    pub parent_record: u64,
    pub parent_sequence: u16,
    pub usn: i64,
    /// FILETIME: 100 ns intervals since 1601-01-01 UTC.
    pub timestamp: u64,
    /// `USN_REASON_*` flags; see [`reason_names`].
    pub reason: u32,
    pub source_info: u32,
    pub file_attributes: u32,
    /// The file name (UTF-16LE, decoded lossily; no path).
    pub name: String,
}

/// The documented `USN_REASON_*` flags, lowest bit first.
const REASONS: &[(u32, &str)] = &[
    (0x0000_0001, "DATA_OVERWRITE"),
    (0x0000_0002, "DATA_EXTEND"),
    (0x0000_0004, "DATA_TRUNCATION"),
    (0x0000_0010, "NAMED_DATA_OVERWRITE"),
    (0x0000_0020, "NAMED_DATA_EXTEND"),
    (0x0000_0040, "NAMED_DATA_TRUNCATION"),
    (0x0000_0100, "FILE_CREATE"),
    (0x0000_0200, "FILE_DELETE"),
    (0x0000_0400, "EA_CHANGE"),
    (0x0000_0800, "SECURITY_CHANGE"),
    (0x0000_1000, "RENAME_OLD_NAME"),
    (0x0000_2000, "RENAME_NEW_NAME"),
    (0x0000_4000, "INDEXABLE_CHANGE"),
    (0x0000_8000, "BASIC_INFO_CHANGE"),
    (0x0001_0000, "HARD_LINK_CHANGE"),
    (0x0002_0000, "COMPRESSION_CHANGE"),
    (0x0004_0000, "ENCRYPTION_CHANGE"),
    (0x0008_0000, "OBJECT_ID_CHANGE"),
    (0x0010_0000, "REPARSE_POINT_CHANGE"),
    (0x0020_0000, "STREAM_CHANGE"),
    (0x0040_0000, "TRANSACTED_CHANGE"),
    (0x0080_0000, "INTEGRITY_CHANGE"),
    (0x8000_0000, "CLOSE"),
];

/// Human names of the reason flags set, lowest bit first, e.g. `["FILE_CREATE", "CLOSE"]`.
/// Undocumented bits have no name and are left out (the raw value stays in
/// [`UsnRecord::reason`]).
pub fn reason_names(reason: u32) -> Vec<&'static str> {
    REASONS
        .iter()
        .filter(|(bit, _)| reason & bit != 0)
        .map(|&(_, name)| name)
        .collect()
}

/// Problem descriptions, capped at [`MAX_PROBLEMS_KEPT`] plus a count of the rest.
#[derive(Default)]
struct Problems {
    kept: Vec<String>,
    total: usize,
}

impl Problems {
    fn push(&mut self, problem: String) {
        self.total += 1;
        if self.kept.len() < MAX_PROBLEMS_KEPT {
            self.kept.push(problem);
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.total > self.kept.len() {
            let more = self.total - self.kept.len();
            self.kept.push(format!(
                "{more} more problems not listed ({} in all)",
                self.total
            ));
        }
        self.kept
    }
}

/// Why the bytes at one position are not a record we parse.
enum Rejection {
    /// Not a plausible record at all (bad length, unknown version, name outside the
    /// record): move on 8 bytes, inside a damaged region.
    Damaged(String),
    /// A well-formed record of a version we do not parse (4: range tracking): skip it
    /// whole, by its length.
    Unsupported { len: usize, why: String },
}

/// Parses the record at `pos` (whose length field is non-zero).
fn parse_one(data: &[u8], pos: usize, offset: u64) -> Result<(UsnRecord, usize), Rejection> {
    let damaged = Rejection::Damaged;
    let rest = &data[pos..];
    let len = u32_le(rest, 0).ok_or_else(|| damaged("length field cut off".into()))? as usize;
    if len < V2_HEADER_LEN {
        return Err(damaged(format!("record length {len} is below 60")));
    }
    if !len.is_multiple_of(ALIGN) {
        return Err(damaged(format!(
            "record length {len} is not a multiple of 8"
        )));
    }
    if len > rest.len() {
        return Err(damaged(format!(
            "record length {len} runs past the end of the data ({} bytes left)",
            rest.len()
        )));
    }
    let rec = &rest[..len];
    // All reads below are within `rec` (len >= 0x3C, and >= 0x4C checked for v3).
    let major = u16_le(rec, 4).unwrap_or(0);
    let minor = u16_le(rec, 6).unwrap_or(0);
    let (header_len, name_len_at) = match major {
        2 => (V2_HEADER_LEN, 0x38),
        3 => (V3_HEADER_LEN, 0x48),
        4 => {
            return Err(Rejection::Unsupported {
                len,
                why: format!(
                    "version 4.{minor} record (range tracking, no file name) of {len} bytes not parsed"
                ),
            });
        }
        _ => return Err(damaged(format!("version {major}.{minor} is not 2 or 3"))),
    };
    if len < header_len {
        return Err(damaged(format!(
            "record length {len} is too short for a version {major} record"
        )));
    }
    let name_len = usize::from(u16_le(rec, name_len_at).unwrap_or(0));
    let name_off = usize::from(u16_le(rec, name_len_at + 2).unwrap_or(0));
    if name_off < header_len || name_off + name_len > len {
        return Err(damaged(format!(
            "file name ({name_len} bytes at {name_off:#x}) lies outside the record of {len} bytes"
        )));
    }
    let name = utf16_lossy(&rec[name_off..name_off + name_len]);

    let field64 = |at: usize| u64_le(rec, at).unwrap_or(0);
    let field32 = |at: usize| u32_le(rec, at).unwrap_or(0);
    // v2: references at 0x08 / 0x10; v3: 128-bit ids at 0x08 / 0x18 (low half first).
    let (file_ref, parent_ref, base) = if major == 2 {
        (field64(0x08), field64(0x10), 0x18)
    } else {
        (field64(0x08), field64(0x18), 0x28)
    };
    let (file_record, file_sequence) = split_reference(file_ref);
    let (parent_record, parent_sequence) = split_reference(parent_ref);
    let record = UsnRecord {
        offset,
        major,
        minor,
        file_record,
        file_sequence,
        parent_record,
        parent_sequence,
        usn: field64(base) as i64,
        timestamp: field64(base + 0x08),
        reason: field32(base + 0x10),
        source_info: field32(base + 0x14),
        // base + 0x18: SecurityId (not kept).
        file_attributes: field32(base + 0x1C),
        name,
    };
    Ok((record, len))
}

/// Parses every record in a buffer of `$J` data whose first byte is at `base_offset` in
/// the stream (the buffer is assumed to start 8-byte aligned in the stream).
///
/// Zero-filled gaps are skipped 8 bytes at a time. Bytes that are not a plausible record
/// (length below 0x3C, not a multiple of 8 or past the buffer; version not 2, 3 or 4;
/// file name outside the record) are skipped 8 bytes at a time so that one damaged record
/// does not lose the rest; a run of such positions is reported as one problem (a damaged
/// region) rather than one per 8 bytes. Version 4 records (range-tracking extents, which
/// carry no name) are well-formed but not parsed: each is skipped whole and reported.
///
/// Returns the records in stream order and the problems: at most 20 descriptions, plus
/// one line counting the rest when there were more.
pub fn parse_records(data: &[u8], base_offset: u64) -> (Vec<UsnRecord>, Vec<String>) {
    let mut records = Vec::new();
    let mut problems = Problems::default();
    // Start (in the buffer) of the damaged region being skipped, and its first reason.
    let mut damaged: Option<(usize, String)> = None;
    let at = |pos: usize| base_offset.saturating_add(pos as u64);
    let close_region =
        |damaged: &mut Option<(usize, String)>, problems: &mut Problems, end: usize| {
            if let Some((start, why)) = damaged.take() {
                problems.push(format!(
                    "damaged data at offset {:#x} ({} bytes skipped): {why}",
                    at(start),
                    end - start
                ));
            }
        };

    let mut pos = 0usize;
    while pos < data.len() {
        let len_field = u32_le(data, pos);
        if len_field == Some(0) {
            // Zero-filled gap (sparse part, page padding).
            close_region(&mut damaged, &mut problems, pos);
            pos += ALIGN;
            continue;
        }
        if len_field.is_none() && data[pos..].iter().all(|&b| b == 0) {
            // A tail too short for a length field, all zeros: padding.
            break;
        }
        match parse_one(data, pos, at(pos)) {
            Ok((record, len)) => {
                close_region(&mut damaged, &mut problems, pos);
                records.push(record);
                pos += len;
            }
            Err(Rejection::Unsupported { len, why }) => {
                close_region(&mut damaged, &mut problems, pos);
                problems.push(format!("record at offset {:#x}: {why}", at(pos)));
                pos += len;
            }
            Err(Rejection::Damaged(why)) => {
                if damaged.is_none() {
                    damaged = Some((pos, why));
                }
                pos += ALIGN;
            }
        }
    }
    close_region(&mut damaged, &mut problems, pos.min(data.len()));
    (records, problems.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds one record: version 2 or 3, name, references and a few distinct fields.
    fn build(major: u16, name: &str, file_ref: u64, parent_ref: u64, usn: i64) -> Vec<u8> {
        let units: Vec<u16> = name.encode_utf16().collect();
        let header = if major == 2 {
            V2_HEADER_LEN
        } else {
            V3_HEADER_LEN
        };
        let name_len = units.len() * 2;
        let len = (header + name_len).div_ceil(8) * 8;
        let mut r = vec![0u8; len];
        r[0..4].copy_from_slice(&(len as u32).to_le_bytes());
        r[4..6].copy_from_slice(&major.to_le_bytes());
        let base = if major == 2 {
            r[0x08..0x10].copy_from_slice(&file_ref.to_le_bytes());
            r[0x10..0x18].copy_from_slice(&parent_ref.to_le_bytes());
            0x18
        } else {
            r[0x08..0x10].copy_from_slice(&file_ref.to_le_bytes());
            r[0x10..0x18].copy_from_slice(&0xAAAA_u64.to_le_bytes()); // high half: ignored
            r[0x18..0x20].copy_from_slice(&parent_ref.to_le_bytes());
            0x28
        };
        r[base..base + 8].copy_from_slice(&usn.to_le_bytes());
        r[base + 8..base + 16].copy_from_slice(&0x01d4_b29a_7e00_4ce3_u64.to_le_bytes());
        r[base + 0x10..base + 0x14].copy_from_slice(&0x8000_0100_u32.to_le_bytes());
        r[base + 0x14..base + 0x18].copy_from_slice(&2u32.to_le_bytes());
        r[base + 0x18..base + 0x1C].copy_from_slice(&0x105u32.to_le_bytes());
        r[base + 0x1C..base + 0x20].copy_from_slice(&0x20u32.to_le_bytes());
        r[base + 0x20..base + 0x22].copy_from_slice(&(name_len as u16).to_le_bytes());
        r[base + 0x22..base + 0x24].copy_from_slice(&(header as u16).to_le_bytes());
        for (i, u) in units.iter().enumerate() {
            r[header + 2 * i..header + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        r
    }

    #[test]
    fn parses_v2_record() {
        let rec = build(
            2,
            "New folder",
            0x0001_0000_0000_0028,
            0x0005_0000_0000_0005,
            0,
        );
        assert_eq!(rec.len(), 80);
        let (records, problems) = parse_records(&rec, 0x1000);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            records,
            vec![UsnRecord {
                offset: 0x1000,
                major: 2,
                minor: 0,
                file_record: 0x28,
                file_sequence: 1,
                parent_record: 5,
                parent_sequence: 5,
                usn: 0,
                timestamp: 0x01d4_b29a_7e00_4ce3,
                reason: 0x8000_0100,
                source_info: 2,
                file_attributes: 0x20,
                name: "New folder".into(),
            }]
        );
    }

    #[test]
    fn parses_v3_record() {
        let rec = build(
            3,
            "café.txt",
            0x0003_0000_0000_1234,
            0x0005_0000_0000_0005,
            77,
        );
        let (records, problems) = parse_records(&rec, 0);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!((r.major, r.file_record, r.file_sequence), (3, 0x1234, 3));
        assert_eq!((r.parent_record, r.parent_sequence), (5, 5));
        assert_eq!((r.usn, r.reason, r.source_info), (77, 0x8000_0100, 2));
        assert_eq!(r.timestamp, 0x01d4_b29a_7e00_4ce3);
        assert_eq!(r.file_attributes, 0x20);
        assert_eq!(r.name, "café.txt");
    }

    #[test]
    fn skips_zero_gaps() {
        let mut data = vec![0u8; 64];
        let first = build(2, "a.txt", 0x0001_0000_0000_0040, 5, 64);
        data.extend_from_slice(&first);
        data.resize(4096, 0); // page padding
        data.extend_from_slice(&build(3, "b.txt", 0x0001_0000_0000_0041, 5, 4096));
        data.extend_from_slice(&[0u8; 20]); // tail not a multiple of 8
        let (records, problems) = parse_records(&data, 0);
        assert!(problems.is_empty(), "{problems:?}");
        let got: Vec<(u64, &str)> = records.iter().map(|r| (r.offset, &*r.name)).collect();
        assert_eq!(got, vec![(64, "a.txt"), (4096, "b.txt")]);
    }

    #[test]
    fn damaged_length_does_not_lose_later_records() {
        for bad_len in [0x3Du32, 0x08, 0x38, 0xFFFF_FFF8, 0x7FFF_FFFF] {
            let mut data = build(2, "one", 0x28, 5, 0);
            let second_at = data.len();
            data.extend_from_slice(&build(2, "two is damaged", 0x29, 5, 80));
            data[second_at..second_at + 4].copy_from_slice(&bad_len.to_le_bytes());
            data.extend_from_slice(&build(3, "three", 0x2A, 5, 200));
            data.extend_from_slice(&build(2, "four", 0x2B, 5, 300));
            let (records, problems) = parse_records(&data, 0);
            let names: Vec<&str> = records.iter().map(|r| &*r.name).collect();
            assert_eq!(names, ["one", "three", "four"], "length {bad_len:#x}");
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains(&format!("offset {second_at:#x}")));
        }
    }

    #[test]
    fn bad_version_and_name_are_skipped() {
        let mut data = build(2, "ok", 0x28, 5, 0);
        let mut bad_version = build(2, "bad version", 0x29, 5, 1);
        bad_version[4] = 9;
        data.extend_from_slice(&bad_version);
        data.extend_from_slice(&[0u8; 16]);
        let bad_name_at = data.len();
        let mut bad_name = build(2, "bad name", 0x2A, 5, 2);
        bad_name[0x38] = 0xF0; // name length past the record
        data.extend_from_slice(&bad_name);
        data.extend_from_slice(&build(2, "last", 0x2B, 5, 3));
        let (records, problems) = parse_records(&data, 0);
        let names: Vec<&str> = records.iter().map(|r| &*r.name).collect();
        assert_eq!(names, ["ok", "last"]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("not 2 or 3"), "{problems:?}");
        assert!(problems[1].contains(&format!("offset {bad_name_at:#x}")));
        assert!(problems[1].contains("outside the record"), "{problems:?}");
    }

    #[test]
    fn version_4_is_skipped_whole_and_reported() {
        let mut data = build(2, "before", 0x28, 5, 0);
        let mut v4 = vec![0u8; 0x50];
        v4[0] = 0x50;
        v4[4] = 4;
        data.extend_from_slice(&v4);
        data.extend_from_slice(&build(2, "after", 0x28, 5, 0));
        let (records, problems) = parse_records(&data, 0);
        assert_eq!(records.len(), 2);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("version 4.0"), "{problems:?}");
    }

    #[test]
    fn problems_are_capped() {
        // Damaged regions separated by zero gaps: one problem each.
        let mut data = Vec::new();
        for _ in 0..50 {
            data.extend_from_slice(&[0x41, 0, 0, 0, 0, 0, 0, 0]);
            data.extend_from_slice(&[0u8; 8]);
        }
        let (records, problems) = parse_records(&data, 0);
        assert!(records.is_empty());
        assert_eq!(problems.len(), MAX_PROBLEMS_KEPT + 1);
        assert!(problems[MAX_PROBLEMS_KEPT].contains("30 more problems not listed (50 in all)"));
    }

    #[test]
    fn truncation_never_panics() {
        let mut data = build(2, "first.txt", 0x28, 5, 0);
        let first_len = data.len();
        data.extend_from_slice(&build(3, "second.txt", 0x29, 5, first_len as i64));
        for n in 0..=data.len() {
            let (records, _problems) = parse_records(&data[..n], 0);
            let expected = if n == data.len() {
                2
            } else if n >= first_len {
                1
            } else {
                0
            };
            assert_eq!(records.len(), expected, "truncated to {n}");
        }
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn garbage_never_panics() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut template = build(2, "template.txt", 0x28, 5, 0);
        template.extend_from_slice(&build(3, "template3.txt", 0x29, 5, 96));
        for i in 0..5000 {
            let mut data: Vec<u8> = if i % 2 == 0 {
                // Pure noise, with small values likely in length/version fields.
                let len = (xorshift(&mut state) % 600) as usize;
                (0..len)
                    .map(|_| {
                        let v = xorshift(&mut state);
                        if v.is_multiple_of(3) {
                            (v >> 8) as u8 % 8
                        } else {
                            (v >> 16) as u8
                        }
                    })
                    .collect()
            } else {
                template.clone()
            };
            // Mutate a few bytes (for the template: damaged but mostly plausible).
            for _ in 0..(xorshift(&mut state) % 6) {
                if data.is_empty() {
                    break;
                }
                let at = (xorshift(&mut state) as usize) % data.len();
                data[at] = xorshift(&mut state) as u8;
            }
            let cut = if data.is_empty() {
                0
            } else {
                (xorshift(&mut state) as usize) % (data.len() + 1)
            };
            let base = xorshift(&mut state);
            let (records, problems) = parse_records(&data[..cut], base);
            assert!(problems.len() <= MAX_PROBLEMS_KEPT + 1);
            for r in &records {
                assert!(r.name.len() <= cut * 2);
            }
        }
    }

    #[test]
    fn reason_names_lists_set_flags() {
        assert_eq!(reason_names(0x8000_0100), ["FILE_CREATE", "CLOSE"]);
        assert_eq!(reason_names(0), Vec::<&str>::new());
        assert_eq!(
            reason_names(0x0000_8103),
            [
                "DATA_OVERWRITE",
                "DATA_EXTEND",
                "FILE_CREATE",
                "BASIC_INFO_CHANGE"
            ]
        );
        assert_eq!(
            reason_names(0x0000_3000),
            ["RENAME_OLD_NAME", "RENAME_NEW_NAME"]
        );
        // Undocumented bits are left out.
        assert_eq!(reason_names(0x4000_0008), Vec::<&str>::new());
        // Every documented bit has exactly one name.
        assert_eq!(reason_names(u32::MAX).len(), REASONS.len());
        for &(bit, name) in REASONS {
            assert_eq!(reason_names(bit), [name]);
        }
    }
}
