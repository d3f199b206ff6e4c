//! The Windows AppCompatCache ("ShimCache"): a pure parser of the value data of
//! `SYSTEM\ControlSetXXX\Control\Session Manager\AppCompatCache\AppCompatCache`
//! (REG_BINARY).
//!
//! The cache says that Windows looked at a file (its path and the last-modified time the
//! file had then); it is not an execution log. Its timestamp is the file's own
//! last-modified FILETIME, never an execution time. Microsoft does not document the
//! format; the layouts below are the reverse-engineered ones, one per Windows
//! generation, told apart by the first DWORD of the data. All integers are
//! little-endian; all offsets are in bytes; "from the start of the data" means from the
//! first byte of the value data.
//!
//! # Windows XP, 32-bit ([`CacheFormat::WinXp`])
//!
//! Header, 0x190 (400) bytes:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0x00 | 4 | signature `0xDEADBEEF` |
//! | 0x04 | 4 | number of cached entries (at most 96) |
//! | 0x08 | 4 | number of LRU list entries |
//! | 0x0C | 4 | unknown |
//! | 0x10 | 96 × 4 | LRU list: slot indexes into the entry array |
//!
//! Then an array of fixed 0x228 (552) byte entries from 0x190:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0x000 | 528 | path, UTF-16LE, NUL-terminated (MAX_PATH + 4 characters); bytes after the NUL may hold remnants |
//! | 0x210 | 8 | file last-modified FILETIME |
//! | 0x218 | 8 | file size |
//! | 0x220 | 8 | last update FILETIME (not reported) |
//!
//! The slot order of the array is not the recency order: when the LRU list is a
//! permutation of the slots, entry `LRU[k]` gets position `k` (index 0 taken as the most
//! recent) and entries are returned in that order; otherwise positions follow the slot
//! order and a problem line says so. XP records no insert flags: `executed` is `None`.
//!
//! # Windows Server 2003, Vista and Server 2008 ([`CacheFormat::Win2003Vista`], [`CacheFormat::Win2003Vista64`])
//!
//! Header, 8 bytes: signature `0xBADC0FFE` at 0x00, number of entries at 0x04. Then the
//! entry array from 0x08, then the path strings (UTF-16LE) the entries point at.
//!
//! 32-bit entry, 0x18 (24) bytes:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0x00 | 2 | path length in bytes (without the NUL) |
//! | 0x02 | 2 | maximum path length in bytes |
//! | 0x04 | 4 | path offset from the start of the data |
//! | 0x08 | 8 | file last-modified FILETIME |
//! | 0x10 | 4 | Vista: insert flags / 2003: file size, low DWORD |
//! | 0x14 | 4 | Vista: shim flags / 2003: file size, high DWORD |
//!
//! 64-bit entry, 0x20 (32) bytes:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0x00 | 2 | path length in bytes (without the NUL) |
//! | 0x02 | 2 | maximum path length in bytes |
//! | 0x04 | 4 | padding (zero) |
//! | 0x08 | 8 | path offset from the start of the data |
//! | 0x10 | 8 | file last-modified FILETIME |
//! | 0x18 | 4 | Vista: insert flags / 2003: file size, low DWORD |
//! | 0x1C | 4 | Vista: shim flags / 2003: file size, high DWORD |
//!
//! 2003 and Vista share the signature. As in the known parsers, a cache where some entry
//! has a value above 3 in the "insert flags" field is taken to hold file sizes (2003)
//! and gets `executed: None`; otherwise the field is Vista's insert flags and bit 0x2
//! ("executed", set by CSRSS) fills `executed`.
//!
//! # Windows 7 and Server 2008 R2 ([`CacheFormat::Win7x86`], [`CacheFormat::Win7x64`])
//!
//! Header, 0x80 (128) bytes: signature `0xBADC0FEE` at 0x00, number of entries at 0x04,
//! statistics after. Then the entry array from 0x80, then the per-entry data blobs and
//! path strings the entries point at.
//!
//! 32-bit entry, 0x20 (32) bytes:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0x00 | 2 | path length in bytes (without the NUL) |
//! | 0x02 | 2 | maximum path length in bytes |
//! | 0x04 | 4 | path offset from the start of the data |
//! | 0x08 | 8 | file last-modified FILETIME |
//! | 0x10 | 4 | insert flags (0x2 = executed) |
//! | 0x14 | 4 | shim flags |
//! | 0x18 | 4 | data size |
//! | 0x1C | 4 | data offset from the start of the data |
//!
//! 64-bit entry, 0x30 (48) bytes:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0x00 | 2 | path length in bytes (without the NUL) |
//! | 0x02 | 2 | maximum path length in bytes |
//! | 0x04 | 4 | padding (zero) |
//! | 0x08 | 8 | path offset from the start of the data |
//! | 0x10 | 8 | file last-modified FILETIME |
//! | 0x18 | 4 | insert flags (0x2 = executed) |
//! | 0x1C | 4 | shim flags |
//! | 0x20 | 8 | data size |
//! | 0x28 | 8 | data offset from the start of the data |
//!
//! For 2003/Vista and 7 the 32-bit and 64-bit layouts are told apart by plausibility:
//! each layout reads entries from the first while they look sound (padding zero,
//! non-zero even path length not above the maximum, path inside the data and past the
//! header); the layout that reads more sound entries wins. On a tie (no sound entry, for
//! data cut short) a zero DWORD at offset 0x04 of the first entry means 64-bit: in the
//! 32-bit layout it is a path offset, which cannot be zero. An empty cache (count 0) is
//! reported as 32-bit, there being nothing to tell the two apart.
//!
//! # Windows 8, 8.1, Server 2012 and 2012 R2 ([`CacheFormat::Win8`])
//!
//! Header, 0x80 (128) bytes, the first DWORD being 0x80 (the header size); the rest is
//! unknown. Then variable-size entries from 0x80, back to back, newest first:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0x00 | 4 | signature `00ts` (8.0) or `10ts` (8.1) |
//! | 0x04 | 4 | unknown (a checksum) |
//! | 0x08 | 4 | entry size in bytes, counted from 0x0C |
//! | 0x0C | 2 | path length in bytes (`p`) |
//! | 0x0E | p | path, UTF-16LE, no NUL |
//! | +0 | 2 | package name length in bytes (`k`) |
//! | +2 | k | package name, UTF-16LE (not reported) |
//! | +0 | 4 | insert flags (0x2 = executed) |
//! | +4 | 4 | shim flags |
//! | +8 | 8 | file last-modified FILETIME |
//! | +16 | 4 | data size |
//! | +20 | … | data |
//!
//! The package name pair is taken to be present when the sizes add up with it (or when
//! they add up neither way but it fits); an entry whose sizes only add up without it is
//! read without it (one published description of 8.0 has no package field).
//!
//! # Windows 10 and 11 ([`CacheFormat::Win10`])
//!
//! Header whose first DWORD is its own size: 0x30 (early Windows 10) or 0x34 (Creators
//! Update and later, Windows 11); the entry count sits at 0x24 or 0x28 respectively and is
//! not needed. Another first DWORD below 0x80 is accepted when `10ts` sits at that
//! offset. Then variable-size entries, back to back, newest first:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0x00 | 4 | signature `10ts` |
//! | 0x04 | 4 | unknown (a checksum) |
//! | 0x08 | 4 | entry size in bytes, counted from 0x0C |
//! | 0x0C | 2 | path length in bytes (`p`) |
//! | 0x0E | p | path, UTF-16LE, no NUL |
//! | +0 | 8 | file last-modified FILETIME |
//! | +8 | 4 | data size |
//! | +12 | … | data (its last DWORD is read by some as an execution flag; not reported) |
//!
//! Windows 10 has no insert flags: `executed` is `None`.
//!
//! # Damaged data
//!
//! [`parse`] never panics and never allocates more than the data can justify. An entry
//! that runs past the end of the data (its record, its declared size or its path) is a
//! broken entry: it gets one problem line naming its byte offset and ends the walk; the
//! entries before it are kept. In the `ts` formats an entry whose path is whole but whose
//! fixed fields after the path do not fit its declared size is kept without a timestamp,
//! with a problem line, and the walk goes on (the declared size still says where the next
//! entry starts). Zero bytes after the last `ts` entry are ignored.

use std::ops::Range;

use crate::bytes::{u16_le, u32_le, u64_le, utf16_lossy, utf16_until_nul};

/// Which layout the value data has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheFormat {
    /// Windows XP, 32-bit (`0xDEADBEEF`).
    WinXp,
    /// Server 2003 / Vista / 2008 with 32-bit entries (`0xBADC0FFE`).
    Win2003Vista,
    /// Server 2003 / Vista / 2008 with 64-bit entries (`0xBADC0FFE`); 64-bit XP too.
    Win2003Vista64,
    /// Windows 7 / 2008 R2, 32-bit entries (`0xBADC0FEE`).
    Win7x86,
    /// Windows 7 / 2008 R2, 64-bit entries (`0xBADC0FEE`).
    Win7x64,
    /// Windows 8 / 8.1 / 2012 / 2012 R2 (0x80 header, `00ts` or `10ts` entries).
    Win8,
    /// Windows 10 / 11 (0x30 or 0x34 header, `10ts` entries).
    Win10,
}

impl CacheFormat {
    /// A short human-readable name, e.g. for a locator.
    pub fn describe(&self) -> &'static str {
        match self {
            CacheFormat::WinXp => "Windows XP",
            CacheFormat::Win2003Vista => "Windows Server 2003/Vista (32-bit)",
            CacheFormat::Win2003Vista64 => "Windows Server 2003/Vista (64-bit)",
            CacheFormat::Win7x86 => "Windows 7 (32-bit)",
            CacheFormat::Win7x64 => "Windows 7 (64-bit)",
            CacheFormat::Win8 => "Windows 8/8.1",
            CacheFormat::Win10 => "Windows 10/11",
        }
    }
}

/// One cached file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// Position in the cache (0 = most recently inserted/updated).
    pub position: usize,
    /// Path as stored (e.g. `\??\C:\Users\...\netsession_win.exe` or `C:\...`), UTF-16
    /// decoded lossily.
    pub path: String,
    /// The file's last-modified FILETIME as recorded by the cache (not an execution
    /// time!), if present and non-zero.
    pub last_modified: Option<u64>,
    /// Byte offset of the entry within the value data, for the row's locator.
    pub offset: usize,
    /// Windows 7/XP insert flag "executed" where the format records it; None where the
    /// format has none.
    pub executed: Option<bool>,
}

/// What [`parse`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCache {
    pub format: CacheFormat,
    /// In position order.
    pub entries: Vec<CacheEntry>,
    /// One line each, naming the byte offset.
    pub problems: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("AppCompatCache data has an unrecognised signature 0x{signature:08x}")]
    UnknownFormat { signature: u32 },
    #[error("AppCompatCache data too short for its header ({len} bytes)")]
    TooShort { len: usize },
}

const XP_SIGNATURE: u32 = 0xDEAD_BEEF;
const NT52_SIGNATURE: u32 = 0xBADC_0FFE;
const WIN7_SIGNATURE: u32 = 0xBADC_0FEE;

const XP_HEADER_LEN: usize = 0x190;
const XP_LRU_OFFSET: usize = 0x10;
const XP_MAX_ENTRIES: usize = 96;
const XP_ENTRY_LEN: usize = 0x228;
const XP_PATH_LEN: usize = 0x210;
const XP_FILETIME: usize = 0x210;

const NT52_HEADER_LEN: usize = 0x08;
const WIN7_HEADER_LEN: usize = 0x80;

const WIN8_HEADER_LEN: usize = 0x80;
const WIN10_HEADER_LENS: [usize; 2] = [0x30, 0x34];
/// Size of the signature, checksum and size fields that open a `ts` entry.
const TS_ENTRY_HEAD: usize = 12;
const TAG_00TS: &[u8; 4] = b"00ts";
const TAG_10TS: &[u8; 4] = b"10ts";

/// Insert flag set when CSRSS recorded the file as executed.
const INSERT_FLAG_EXECUTED: u32 = 0x0000_0002;

/// Parse AppCompatCache value data.
pub fn parse(data: &[u8]) -> Result<ParsedCache, CacheError> {
    let signature = u32_le(data, 0).ok_or(CacheError::TooShort { len: data.len() })?;
    match signature {
        XP_SIGNATURE => parse_xp(data),
        NT52_SIGNATURE => parse_table(data, Family::Nt52),
        WIN7_SIGNATURE => parse_table(data, Family::Win7),
        _ => {
            let header_len = usize::try_from(signature).unwrap_or(usize::MAX);
            if header_len == WIN8_HEADER_LEN {
                parse_tagged(data, header_len, TsFormat::Win8)
            } else if WIN10_HEADER_LENS.contains(&header_len)
                || ((TS_ENTRY_HEAD..WIN8_HEADER_LEN).contains(&header_len)
                    && bytes(data, header_len, 4) == Some(TAG_10TS.as_slice()))
            {
                parse_tagged(data, header_len, TsFormat::Win10)
            } else {
                Err(CacheError::UnknownFormat { signature })
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Reading helpers: every read is bounds-checked and returns None past the end
// (integers and text through `crate::bytes`).
// ---------------------------------------------------------------------------

fn bytes(data: &[u8], offset: usize, len: usize) -> Option<&[u8]> {
    data.get(offset..offset.checked_add(len)?)
}

/// A u32 read from the data as a size or count (saturating on a 16-bit target).
fn to_usize(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

fn non_zero(filetime: Option<u64>) -> Option<u64> {
    filetime.filter(|&t| t != 0)
}

/// UTF-16LE, lossily: unpaired surrogates and an odd trailing byte become U+FFFD (the
/// shared reader leaves an odd trailing byte out; a cut path says so here).
fn decode_utf16(bytes: &[u8]) -> String {
    let mut text = utf16_lossy(bytes);
    if !bytes.len().is_multiple_of(2) {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    text
}

// ---------------------------------------------------------------------------
// Windows XP
// ---------------------------------------------------------------------------

fn parse_xp(data: &[u8]) -> Result<ParsedCache, CacheError> {
    if data.len() < XP_HEADER_LEN {
        return Err(CacheError::TooShort { len: data.len() });
    }
    let mut problems = Vec::new();
    let claimed = u32_le(data, 0x04).map_or(0, to_usize);
    let lru_len = u32_le(data, 0x08).map_or(0, to_usize);
    let count = if claimed > XP_MAX_ENTRIES {
        problems.push(format!(
            "header at 0x4: {claimed} entries claimed, more than the {XP_MAX_ENTRIES} slots; \
             reading {XP_MAX_ENTRIES}"
        ));
        XP_MAX_ENTRIES
    } else {
        claimed
    };

    let fits = (data.len() - XP_HEADER_LEN) / XP_ENTRY_LEN;
    let mut entries = Vec::with_capacity(count.min(fits));
    for slot in 0..count {
        // slot < 96: no overflow.
        let offset = XP_HEADER_LEN + slot * XP_ENTRY_LEN;
        let Some(record) = bytes(data, offset, XP_ENTRY_LEN) else {
            problems.push(format!(
                "entry {slot} at {offset:#x}: record runs past the end of the data \
                 (header claims {count} entries)"
            ));
            break;
        };
        entries.push(CacheEntry {
            position: slot,
            path: utf16_until_nul(record.get(..XP_PATH_LEN).unwrap_or_default()),
            last_modified: non_zero(u64_le(record, XP_FILETIME)),
            offset,
            executed: None,
        });
    }

    match xp_lru_positions(data, count, lru_len) {
        Some(positions) => {
            for entry in &mut entries {
                if let Some(&position) = positions.get(entry.position) {
                    entry.position = position;
                }
            }
            entries.sort_by_key(|entry| entry.position);
        }
        None if count > 0 => problems.push(format!(
            "header at {XP_LRU_OFFSET:#x}: the LRU list ({lru_len} entries) does not order \
             the {count} slots; positions follow the slot order"
        )),
        None => {}
    }

    Ok(ParsedCache {
        format: CacheFormat::WinXp,
        entries,
        problems,
    })
}

/// Position of each slot, from an LRU list that is a permutation of the `count` slots.
fn xp_lru_positions(data: &[u8], count: usize, lru_len: usize) -> Option<Vec<usize>> {
    if lru_len != count || count > XP_MAX_ENTRIES {
        return None;
    }
    let mut positions = vec![usize::MAX; count];
    for rank in 0..count {
        let slot = to_usize(u32_le(data, XP_LRU_OFFSET + rank * 4)?);
        let position = positions.get_mut(slot)?;
        if *position != usize::MAX {
            return None;
        }
        *position = rank;
    }
    Some(positions)
}

// ---------------------------------------------------------------------------
// Server 2003, Vista, 7: an entry table with offsets to the strings
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// 2003 / Vista / 2008.
    Nt52,
    /// 7 / 2008 R2.
    Win7,
}

#[derive(Debug, Clone, Copy)]
struct TableLayout {
    header_len: usize,
    record_len: usize,
    /// 64-bit entries.
    wide: bool,
}

impl TableLayout {
    fn new(family: Family, wide: bool) -> TableLayout {
        let (header_len, record_len) = match (family, wide) {
            (Family::Nt52, false) => (NT52_HEADER_LEN, 0x18),
            (Family::Nt52, true) => (NT52_HEADER_LEN, 0x20),
            (Family::Win7, false) => (WIN7_HEADER_LEN, 0x20),
            (Family::Win7, true) => (WIN7_HEADER_LEN, 0x30),
        };
        TableLayout {
            header_len,
            record_len,
            wide,
        }
    }

    fn record_offset(&self, index: usize) -> Option<usize> {
        index
            .checked_mul(self.record_len)?
            .checked_add(self.header_len)
    }

    /// The record at `index`, or None if it runs past the end of the data.
    fn read(&self, data: &[u8], index: usize) -> Option<Record> {
        let offset = self.record_offset(index)?;
        let record = bytes(data, offset, self.record_len)?;
        let path_len = u16_le(record, 0x00)?;
        let max_len = u16_le(record, 0x02)?;
        let (padding, path_offset, filetime, flags) = if self.wide {
            (
                u32_le(record, 0x04)?,
                u64_le(record, 0x08)?,
                u64_le(record, 0x10)?,
                u32_le(record, 0x18)?,
            )
        } else {
            (
                0,
                u64::from(u32_le(record, 0x04)?),
                u64_le(record, 0x08)?,
                u32_le(record, 0x10)?,
            )
        };
        Some(Record {
            offset,
            path_len,
            max_len,
            padding,
            path_offset,
            filetime,
            flags,
        })
    }

    /// How many records, from the first, look sound under this layout.
    fn sound_run(&self, data: &[u8], count: usize) -> usize {
        (0..count)
            .take_while(|&index| {
                self.read(data, index)
                    .is_some_and(|record| record.is_sound(self, data.len()))
            })
            .count()
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    offset: usize,
    path_len: u16,
    max_len: u16,
    padding: u32,
    path_offset: u64,
    filetime: u64,
    /// Insert flags (Vista, 7) or the low DWORD of the file size (2003).
    flags: u32,
}

impl Record {
    fn path_range(&self, data_len: usize) -> Option<Range<usize>> {
        let start = usize::try_from(self.path_offset).ok()?;
        let end = start.checked_add(usize::from(self.path_len))?;
        (end <= data_len).then_some(start..end)
    }

    fn is_sound(&self, layout: &TableLayout, data_len: usize) -> bool {
        self.padding == 0
            && self.path_len > 0
            && self.path_len.is_multiple_of(2)
            && self.max_len >= self.path_len
            && self
                .path_range(data_len)
                .is_some_and(|range| range.start >= layout.header_len + layout.record_len)
    }
}

fn parse_table(data: &[u8], family: Family) -> Result<ParsedCache, CacheError> {
    let narrow = TableLayout::new(family, false);
    let wide = TableLayout::new(family, true);
    if data.len() < narrow.header_len {
        return Err(CacheError::TooShort { len: data.len() });
    }
    let count = u32_le(data, 0x04).map_or(0, to_usize);

    let narrow_run = narrow.sound_run(data, count);
    let wide_run = wide.sound_run(data, count);
    let is_wide = match narrow_run.cmp(&wide_run) {
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Equal => count > 0 && u32_le(data, narrow.header_len + 4) == Some(0),
    };
    let layout = if is_wide { wide } else { narrow };
    let format = match (family, is_wide) {
        (Family::Nt52, false) => CacheFormat::Win2003Vista,
        (Family::Nt52, true) => CacheFormat::Win2003Vista64,
        (Family::Win7, false) => CacheFormat::Win7x86,
        (Family::Win7, true) => CacheFormat::Win7x64,
    };

    let fits = (data.len() - layout.header_len) / layout.record_len;
    let readable = count.min(fits);
    // 2003 keeps a file size where Vista keeps insert flags (see the module docs).
    let holds_file_sizes = family == Family::Nt52
        && (0..readable).any(|index| layout.read(data, index).is_some_and(|r| r.flags > 3));

    let mut entries = Vec::with_capacity(readable);
    let mut problems = Vec::new();
    for index in 0..count {
        let Some(offset) = layout.record_offset(index) else {
            break;
        };
        let Some(record) = layout.read(data, index) else {
            problems.push(format!(
                "entry {index} at {offset:#x}: record runs past the end of the data \
                 (header claims {count} entries)"
            ));
            break;
        };
        let Some(range) = record.path_range(data.len()) else {
            problems.push(format!(
                "entry {index} at {offset:#x}: path at {:#x} ({} bytes) runs past the end \
                 of the data",
                record.path_offset, record.path_len
            ));
            break;
        };
        entries.push(CacheEntry {
            position: index,
            path: decode_utf16(data.get(range).unwrap_or_default()),
            last_modified: non_zero(Some(record.filetime)),
            offset: record.offset,
            executed: (!holds_file_sizes).then_some(record.flags & INSERT_FLAG_EXECUTED != 0),
        });
    }

    Ok(ParsedCache {
        format,
        entries,
        problems,
    })
}

// ---------------------------------------------------------------------------
// Windows 8 and later: `ts` entries back to back
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsFormat {
    Win8,
    Win10,
}

/// What the fields after the path gave.
struct Tail {
    last_modified: Option<u64>,
    executed: Option<bool>,
    /// A problem with the fields, without the "entry N at X: " prefix.
    problem: Option<String>,
}

fn parse_tagged(
    data: &[u8],
    header_len: usize,
    format: TsFormat,
) -> Result<ParsedCache, CacheError> {
    if data.len() < header_len {
        return Err(CacheError::TooShort { len: data.len() });
    }
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut pos = header_len;
    let mut index = 0usize;
    while let Some(rest) = data.get(pos..).filter(|rest| !rest.is_empty()) {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let (Some(tag), Some(size)) = (bytes(data, pos, 4), u32_le(data, pos + 8)) else {
            problems.push(format!(
                "entry {index} at {pos:#x}: entry header runs past the end of the data"
            ));
            break;
        };
        if tag != TAG_10TS.as_slice() && tag != TAG_00TS.as_slice() {
            problems.push(format!(
                "entry {index} at {pos:#x}: signature \"{}\" is neither \"10ts\" nor \"00ts\"",
                tag.escape_ascii()
            ));
            break;
        }
        let size = to_usize(size);
        let body_start = pos + TS_ENTRY_HEAD;
        let Some(body) = body_start
            .checked_add(size)
            .and_then(|end| data.get(body_start..end))
        else {
            problems.push(format!(
                "entry {index} at {pos:#x}: declared size of {size} bytes runs past the end \
                 of the data"
            ));
            break;
        };
        let Some(path_len) = u16_le(body, 0).map(usize::from) else {
            problems.push(format!(
                "entry {index} at {pos:#x}: entry of {size} bytes too short for a path length"
            ));
            break;
        };
        let Some(path) = bytes(body, 2, path_len) else {
            problems.push(format!(
                "entry {index} at {pos:#x}: path of {path_len} bytes runs past the end of \
                 the entry"
            ));
            break;
        };
        let after_path = body.get(2 + path_len..).unwrap_or_default();
        let tail = match format {
            TsFormat::Win8 => win8_tail(after_path),
            TsFormat::Win10 => win10_tail(after_path),
        };
        if let Some(problem) = tail.problem {
            problems.push(format!("entry {index} at {pos:#x}: {problem}"));
        }
        entries.push(CacheEntry {
            position: index,
            path: decode_utf16(path),
            last_modified: tail.last_modified,
            offset: pos,
            executed: tail.executed,
        });
        // body_start + size fitted in the data, so this cannot overflow.
        pos = body_start + size;
        index += 1;
    }
    let format = match format {
        TsFormat::Win8 => CacheFormat::Win8,
        TsFormat::Win10 => CacheFormat::Win10,
    };
    Ok(ParsedCache {
        format,
        entries,
        problems,
    })
}

/// Windows 10/11: FILETIME, data size, data.
fn win10_tail(after_path: &[u8]) -> Tail {
    let Some(filetime) = u64_le(after_path, 0) else {
        return Tail {
            last_modified: None,
            executed: None,
            problem: Some(format!(
                "{} bytes after the path, too few for the modification time; path kept",
                after_path.len()
            )),
        };
    };
    let data_fits = u32_le(after_path, 8)
        .map(to_usize)
        .and_then(|size| size.checked_add(12))
        .is_some_and(|end| end <= after_path.len());
    Tail {
        last_modified: non_zero(Some(filetime)),
        executed: None,
        problem: (!data_fits)
            .then(|| "data size runs past the end of the entry; modification time kept".into()),
    }
}

/// Windows 8/8.1: [package name length, package name,] insert flags, shim flags,
/// FILETIME, data size, data.
fn win8_tail(after_path: &[u8]) -> Tail {
    // (insert flags, FILETIME, whether the data size adds up to the entry size)
    let fields_at = |start: usize| -> Option<(u32, u64, bool)> {
        let flags = u32_le(after_path, start)?;
        let filetime = u64_le(after_path, start.checked_add(8)?)?;
        let data_size = to_usize(u32_le(after_path, start.checked_add(16)?)?);
        let adds_up = start
            .checked_add(20)
            .and_then(|end| end.checked_add(data_size))
            == Some(after_path.len());
        Some((flags, filetime, adds_up))
    };
    let with_package =
        u16_le(after_path, 0).and_then(|package_len| fields_at(2 + usize::from(package_len)));
    let without_package = fields_at(0);
    let chosen = match (with_package, without_package) {
        (Some(with), _) if with.2 => Some(with),
        (_, Some(without)) if without.2 => Some(without),
        (Some(with), _) => Some(with),
        (None, without) => without,
    };
    match chosen {
        Some((flags, filetime, adds_up)) => Tail {
            last_modified: non_zero(Some(filetime)),
            executed: Some(flags & INSERT_FLAG_EXECUTED != 0),
            problem: (!adds_up).then(|| {
                "field sizes do not add up to the entry size; fields read as far as they go".into()
            }),
        },
        None => Tail {
            last_modified: None,
            executed: None,
            problem: Some(format!(
                "{} bytes after the path, too few for the flags and modification time; \
                 path kept",
                after_path.len()
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // -- Fixtures ----------------------------------------------------------

    const JOSE: &str = r"C:\Users\José Müller\AppData\Local\Akamai\netsession_win.exe";
    const SVCHOST: &str = r"\??\C:\Windows\system32\svchost.exe";
    const EMOJI: &str = r"C:\Temp\📦\setup.exe";

    /// 2012-02-10T18:22:01Z.
    const FT_2012: u64 = 129_733_717_210_000_000;
    /// 2019-11-05T07:30:15.1234567Z.
    const FT_2019: u64 = 132_174_126_151_234_567;
    /// 2023-06-01T00:00:00Z.
    const FT_2023: u64 = 133_300_512_000_000_000;

    fn filetime(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ticks: u64) -> u64 {
        let unix = chrono::NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
            .and_utc()
            .timestamp();
        u64::try_from(unix).unwrap() * 10_000_000 + 116_444_736_000_000_000 + ticks
    }

    #[test]
    fn fixture_filetimes_are_right() {
        assert_eq!(filetime(2012, 2, 10, 18, 22, 1, 0), FT_2012);
        assert_eq!(filetime(2019, 11, 5, 7, 30, 15, 1_234_567), FT_2019);
        assert_eq!(filetime(2023, 6, 1, 0, 0, 0, 0), FT_2023);
        // The Unix epoch itself, as a fixed point.
        assert_eq!(filetime(1970, 1, 1, 0, 0, 0, 0), 116_444_736_000_000_000);
    }

    #[derive(Clone, Copy)]
    struct Spec {
        path: &'static str,
        filetime: u64,
        /// Insert flags (Vista, 7, 8).
        flags: u32,
        /// File size (XP, 2003).
        size: u64,
        /// Windows 8 package name.
        package: &'static str,
        /// Data blob (7, 8, 10).
        data: &'static [u8],
    }

    fn specs() -> Vec<Spec> {
        vec![
            Spec {
                path: JOSE,
                filetime: FT_2012,
                flags: 0x2,
                size: 4_183_552,
                package: "",
                data: &[1, 0, 0, 0],
            },
            Spec {
                path: SVCHOST,
                filetime: FT_2019,
                flags: 0x0,
                size: 20_992,
                package: "Microsoft.WindowsCalculator_8wekyb3d8bbwe",
                data: &[],
            },
            Spec {
                path: EMOJI,
                filetime: 0,
                flags: 0x3,
                size: 1_000,
                package: "",
                data: &[0xAA; 9],
            },
        ]
    }

    /// A test blob and where each entry ends.
    struct Blob {
        data: Vec<u8>,
        /// (entry offset, data length from which the entry is whole), in slot order.
        spans: Vec<(usize, usize)>,
        /// Lengths at which a `ts` walk ends cleanly (header end and each entry end).
        boundaries: Vec<usize>,
        header_len: usize,
    }

    impl Blob {
        fn entry_offsets(&self) -> Vec<usize> {
            self.spans.iter().map(|&(offset, _)| offset).collect()
        }
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn put(data: &mut [u8], at: usize, bytes: &[u8]) {
        data[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn build_xp(specs: &[Spec], lru: &[u32]) -> Blob {
        let mut data = vec![0u8; XP_HEADER_LEN];
        put(&mut data, 0, &0xDEAD_BEEFu32.to_le_bytes());
        put(&mut data, 4, &(specs.len() as u32).to_le_bytes());
        put(&mut data, 8, &(lru.len() as u32).to_le_bytes());
        for (rank, slot) in lru.iter().enumerate() {
            put(&mut data, 0x10 + rank * 4, &slot.to_le_bytes());
        }
        let mut spans = Vec::new();
        for spec in specs {
            let offset = data.len();
            // Remnants of an older, longer path after the NUL must not leak into the path.
            let mut record = vec![b'Z'; 528];
            record.extend_from_slice(&[0u8; 24]);
            let path = utf16(spec.path);
            put(&mut record, 0, &path);
            put(&mut record, path.len(), &[0, 0]);
            put(&mut record, 0x210, &spec.filetime.to_le_bytes());
            put(&mut record, 0x218, &spec.size.to_le_bytes());
            put(&mut record, 0x220, &(spec.filetime + 1).to_le_bytes());
            data.extend_from_slice(&record);
            spans.push((offset, data.len()));
        }
        Blob {
            data,
            spans,
            boundaries: vec![],
            header_len: XP_HEADER_LEN,
        }
    }

    /// 2003/Vista (`win7 == false`) or 7 (`win7 == true`); `file_sizes` writes 2003
    /// file sizes where Vista keeps flags.
    fn build_table(win7: bool, wide: bool, file_sizes: bool, specs: &[Spec]) -> Blob {
        let (signature, header_len) = if win7 {
            (0xBADC_0FEEu32, 0x80)
        } else {
            (0xBADC_0FFEu32, 8)
        };
        let record_len = match (win7, wide) {
            (false, false) => 24,
            (false, true) | (true, false) => 32,
            (true, true) => 48,
        };
        let mut data = vec![0u8; header_len + record_len * specs.len()];
        put(&mut data, 0, &signature.to_le_bytes());
        put(&mut data, 4, &(specs.len() as u32).to_le_bytes());
        if win7 {
            put(&mut data, 8, &120u32.to_le_bytes());
        }
        let mut spans = Vec::new();
        let mut path_at = Vec::new();
        for spec in specs {
            let path = utf16(spec.path);
            path_at.push((data.len(), path.len()));
            data.extend_from_slice(&path);
            data.extend_from_slice(&[0, 0]);
        }
        let mut data_at = Vec::new();
        for spec in specs {
            data_at.push(data.len());
            data.extend_from_slice(spec.data);
        }
        for (i, spec) in specs.iter().enumerate() {
            let rec = header_len + i * record_len;
            let (path_offset, path_len) = path_at[i];
            put(&mut data, rec, &(path_len as u16).to_le_bytes());
            put(&mut data, rec + 2, &(path_len as u16 + 2).to_le_bytes());
            let fields = if wide {
                put(&mut data, rec + 8, &(path_offset as u64).to_le_bytes());
                rec + 16
            } else {
                put(&mut data, rec + 4, &(path_offset as u32).to_le_bytes());
                rec + 8
            };
            put(&mut data, fields, &spec.filetime.to_le_bytes());
            if file_sizes {
                put(&mut data, fields + 8, &spec.size.to_le_bytes());
            } else {
                put(&mut data, fields + 8, &spec.flags.to_le_bytes());
                put(&mut data, fields + 12, &0x0000_1000u32.to_le_bytes());
            }
            if win7 {
                let size = spec.data.len();
                if wide {
                    put(&mut data, fields + 16, &(size as u64).to_le_bytes());
                    put(&mut data, fields + 24, &(data_at[i] as u64).to_le_bytes());
                } else {
                    put(&mut data, fields + 16, &(size as u32).to_le_bytes());
                    put(&mut data, fields + 20, &(data_at[i] as u32).to_le_bytes());
                }
            }
            spans.push((rec, path_offset + path_len));
        }
        Blob {
            data,
            spans,
            boundaries: vec![],
            header_len,
        }
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Ts {
        /// Windows 8 with the package name pair.
        Win8,
        /// Windows 8 without the package name pair.
        Win8NoPackage,
        Win10,
    }

    fn build_ts(header_len: usize, tag: &[u8; 4], kind: Ts, specs: &[Spec]) -> Blob {
        let mut data = vec![0u8; header_len];
        put(&mut data, 0, &(header_len as u32).to_le_bytes());
        match header_len {
            0x30 => put(&mut data, 0x24, &(specs.len() as u32).to_le_bytes()),
            0x34 => put(&mut data, 0x28, &(specs.len() as u32).to_le_bytes()),
            _ => {}
        }
        let mut spans = Vec::new();
        let mut boundaries = vec![header_len];
        for (i, spec) in specs.iter().enumerate() {
            let path = utf16(spec.path);
            let mut body = Vec::new();
            body.extend_from_slice(&(path.len() as u16).to_le_bytes());
            body.extend_from_slice(&path);
            if kind != Ts::Win10 {
                if kind == Ts::Win8 {
                    let package = utf16(spec.package);
                    body.extend_from_slice(&(package.len() as u16).to_le_bytes());
                    body.extend_from_slice(&package);
                }
                body.extend_from_slice(&spec.flags.to_le_bytes());
                body.extend_from_slice(&0x0001_0000u32.to_le_bytes());
            }
            body.extend_from_slice(&spec.filetime.to_le_bytes());
            body.extend_from_slice(&(spec.data.len() as u32).to_le_bytes());
            body.extend_from_slice(spec.data);
            let offset = data.len();
            data.extend_from_slice(tag);
            data.extend_from_slice(&(0x1234_5678u32 ^ i as u32).to_le_bytes());
            data.extend_from_slice(&(body.len() as u32).to_le_bytes());
            data.extend_from_slice(&body);
            spans.push((offset, data.len()));
            boundaries.push(data.len());
        }
        Blob {
            data,
            spans,
            boundaries,
            header_len,
        }
    }

    fn entry(
        position: usize,
        path: &str,
        last_modified: Option<u64>,
        offset: usize,
        executed: Option<bool>,
    ) -> CacheEntry {
        CacheEntry {
            position,
            path: path.to_string(),
            last_modified,
            offset,
            executed,
        }
    }

    /// Executed flags of `specs()` in the formats that record them, and in those that do not.
    const FLAGGED: [Option<bool>; 3] = [Some(true), Some(false), Some(true)];
    const NO_FLAGS: [Option<bool>; 3] = [None; 3];

    /// The entries of `specs()`, at `offsets`, with `executed` flags.
    fn spec_entries(offsets: &[usize], executed: [Option<bool>; 3]) -> Vec<CacheEntry> {
        vec![
            entry(0, JOSE, Some(FT_2012), offsets[0], executed[0]),
            entry(1, SVCHOST, Some(FT_2019), offsets[1], executed[1]),
            entry(2, EMOJI, None, offsets[2], executed[2]),
        ]
    }

    /// `blob` parses as `format` into `expected` without problems, and so do its
    /// truncations (see [`check_truncations`]).
    fn assert_parses_clean(blob: &Blob, format: CacheFormat, expected: &[CacheEntry]) {
        let parsed = parse(&blob.data).unwrap();
        assert_eq!(parsed.format, format);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.entries, expected);
        check_truncations(blob);
    }

    /// Every prefix of the blob parses without panic, keeps exactly the entries that
    /// are whole in it, and reports a problem when it cut an entry.
    fn check_truncations(blob: &Blob) {
        let full = parse(&blob.data).unwrap();
        assert!(full.problems.is_empty(), "{:?}", full.problems);
        let whole_from = |offset: usize| {
            blob.spans
                .iter()
                .find(|&&(o, _)| o == offset)
                .map(|&(_, end)| end)
                .unwrap()
        };
        for cut in 0..=blob.data.len() {
            match parse(&blob.data[..cut]) {
                Err(CacheError::TooShort { len }) => {
                    assert_eq!(len, cut);
                    assert!(cut < blob.header_len, "TooShort at {cut}");
                }
                Err(other) => panic!("cut {cut}: {other}"),
                Ok(parsed) => {
                    assert!(cut >= blob.header_len, "cut {cut} parsed");
                    let expected: Vec<CacheEntry> = full
                        .entries
                        .iter()
                        .filter(|e| whole_from(e.offset) <= cut)
                        .cloned()
                        .collect();
                    assert_eq!(parsed.entries, expected, "cut {cut}");
                    if !parsed.entries.is_empty() {
                        assert_eq!(parsed.format, full.format, "cut {cut}");
                    }
                    let clean_end = cut == blob.data.len() || blob.boundaries.contains(&cut);
                    if parsed.entries.len() < full.entries.len() && !clean_end {
                        assert!(!parsed.problems.is_empty(), "cut {cut}: no problem");
                    }
                    if clean_end {
                        assert!(
                            parsed.problems.is_empty(),
                            "cut {cut}: {:?}",
                            parsed.problems
                        );
                    }
                    for problem in &parsed.problems {
                        assert!(problem.contains(" at 0x"), "{problem}");
                        assert!(!problem.contains('\n'), "{problem}");
                    }
                }
            }
        }
    }

    // -- Windows XP ----------------------------------------------------------

    #[test]
    fn xp_entries_follow_the_lru_list() {
        let specs = specs();
        // Slot 2 is the most recent, then slot 0, then slot 1.
        let blob = build_xp(&specs, &[2, 0, 1]);
        assert_parses_clean(
            &blob,
            CacheFormat::WinXp,
            &[
                entry(0, EMOJI, None, 0x190 + 2 * 0x228, None),
                entry(1, JOSE, Some(FT_2012), 0x190, None),
                entry(2, SVCHOST, Some(FT_2019), 0x190 + 0x228, None),
            ],
        );
    }

    #[test]
    fn xp_without_usable_lru_keeps_slot_order() {
        let specs = specs();
        for lru in [&[0u32, 0, 1][..], &[0, 1], &[0, 1, 7]] {
            let blob = build_xp(&specs, lru);
            let parsed = parse(&blob.data).unwrap();
            let positions: Vec<usize> = parsed.entries.iter().map(|e| e.position).collect();
            assert_eq!(positions, [0, 1, 2]);
            assert_eq!(parsed.entries[0].path, JOSE);
            assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
            assert!(parsed.problems[0].starts_with("header at 0x10: "));
        }
    }

    #[test]
    fn xp_count_beyond_the_slots_is_capped() {
        let mut blob = build_xp(&specs()[..2], &[0, 1]);
        blob.data[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let parsed = parse(&blob.data).unwrap();
        assert_eq!(parsed.entries.len(), 2);
        assert!(parsed.problems[0].starts_with("header at 0x4: 4294967295 entries"));
        assert!(
            parsed
                .problems
                .iter()
                .any(|p| p.starts_with("entry 2 at 0x5e0: record runs past the end"))
        );
    }

    // -- Server 2003 / Vista -------------------------------------------------

    #[test]
    fn vista_32_bit() {
        let blob = build_table(false, false, false, &specs());
        let expected = spec_entries(&[0x08, 0x20, 0x38], FLAGGED);
        assert_parses_clean(&blob, CacheFormat::Win2003Vista, &expected);
    }

    #[test]
    fn vista_64_bit() {
        let blob = build_table(false, true, false, &specs());
        let expected = spec_entries(&[0x08, 0x28, 0x48], FLAGGED);
        assert_parses_clean(&blob, CacheFormat::Win2003Vista64, &expected);
    }

    #[test]
    fn server_2003_file_sizes_give_no_executed_flag() {
        for (wide, format, second) in [
            (false, CacheFormat::Win2003Vista, 0x20),
            (true, CacheFormat::Win2003Vista64, 0x28),
        ] {
            let blob = build_table(false, wide, true, &specs()[..2]);
            let expected = [
                entry(0, JOSE, Some(FT_2012), 0x08, None),
                entry(1, SVCHOST, Some(FT_2019), second, None),
            ];
            assert_parses_clean(&blob, format, &expected);
        }
    }

    // -- Windows 7 -------------------------------------------------------------

    #[test]
    fn win7_32_bit() {
        let blob = build_table(true, false, false, &specs());
        let expected = spec_entries(&[0x80, 0xa0, 0xc0], FLAGGED);
        assert_parses_clean(&blob, CacheFormat::Win7x86, &expected);
    }

    #[test]
    fn win7_64_bit() {
        let blob = build_table(true, true, false, &specs());
        let expected = spec_entries(&[0x80, 0xb0, 0xe0], FLAGGED);
        assert_parses_clean(&blob, CacheFormat::Win7x64, &expected);
    }

    #[test]
    fn table_path_past_the_end_stops_the_walk() {
        let mut blob = build_table(true, false, false, &specs());
        // Entry 1's path offset points far past the end.
        blob.data[0xa0 + 4..0xa0 + 8].copy_from_slice(&0x00FF_0000u32.to_le_bytes());
        let parsed = parse(&blob.data).unwrap();
        assert_eq!(parsed.format, CacheFormat::Win7x86);
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(
            parsed.problems,
            vec![format!(
                "entry 1 at 0xa0: path at 0xff0000 ({} bytes) runs past the end of the data",
                SVCHOST.len() * 2
            )]
        );
    }

    #[test]
    fn table_huge_count_is_bounded_by_the_data() {
        let mut blob = build_table(true, true, false, &specs()[..2]);
        blob.data[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let parsed = parse(&blob.data).unwrap();
        assert_eq!(parsed.format, CacheFormat::Win7x64);
        // The strings after the table are read as records until one breaks.
        assert!(parsed.entries.len() >= 2);
        assert_eq!(parsed.entries[0].path, JOSE);
        assert_eq!(parsed.entries[1].path, SVCHOST);
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
    }

    #[test]
    fn empty_tables() {
        for (signature, format) in [
            (0xBADC_0FFEu32, CacheFormat::Win2003Vista),
            (0xBADC_0FEE, CacheFormat::Win7x86),
        ] {
            let mut data = vec![0u8; 0x80];
            data[..4].copy_from_slice(&signature.to_le_bytes());
            let parsed = parse(&data).unwrap();
            assert_eq!(parsed.format, format);
            assert!(parsed.entries.is_empty());
            assert!(parsed.problems.is_empty());
        }
    }

    // -- Windows 8 / 8.1 -----------------------------------------------------

    #[test]
    fn win8_and_81_with_package_names() {
        for tag in [b"00ts", b"10ts"] {
            let blob = build_ts(0x80, tag, Ts::Win8, &specs());
            let offsets = blob.entry_offsets();
            assert_eq!(offsets[0], 0x80);
            // 12 + 2 + 120 (path) + 2 + 0 (package) + 20 + 4 (data)
            assert_eq!(offsets[1], 0x80 + 160);
            assert_parses_clean(&blob, CacheFormat::Win8, &spec_entries(&offsets, FLAGGED));
        }
    }

    #[test]
    fn win8_without_package_names() {
        let blob = build_ts(0x80, b"00ts", Ts::Win8NoPackage, &specs());
        let expected = spec_entries(&blob.entry_offsets(), FLAGGED);
        assert_parses_clean(&blob, CacheFormat::Win8, &expected);
    }

    #[test]
    fn win8_empty_cache() {
        let mut data = vec![0u8; 0x80];
        data[0] = 0x80;
        let parsed = parse(&data).unwrap();
        assert_eq!(parsed.format, CacheFormat::Win8);
        assert!(parsed.entries.is_empty() && parsed.problems.is_empty());
    }

    // -- Windows 10 / 11 -------------------------------------------------------

    #[test]
    fn win10_both_header_sizes() {
        for header_len in [0x30, 0x34] {
            let blob = build_ts(header_len, b"10ts", Ts::Win10, &specs());
            let offsets = blob.entry_offsets();
            assert_eq!(offsets[0], header_len);
            // 12 + 2 + 120 (path) + 12 + 4 (data)
            assert_eq!(offsets[1], header_len + 150);
            assert_parses_clean(&blob, CacheFormat::Win10, &spec_entries(&offsets, NO_FLAGS));
        }
    }

    #[test]
    fn win10_unusual_header_size_with_an_entry() {
        let blob = build_ts(0x36, b"10ts", Ts::Win10, &specs()[..1]);
        let parsed = parse(&blob.data).unwrap();
        assert_eq!(parsed.format, CacheFormat::Win10);
        assert_eq!(
            parsed.entries,
            vec![entry(0, JOSE, Some(FT_2012), 0x36, None)]
        );
        // Without the entry, 0x36 is not recognised.
        assert!(matches!(
            parse(&blob.data[..0x36]),
            Err(CacheError::UnknownFormat { signature: 0x36 })
        ));
    }

    #[test]
    fn win10_trailing_zeros_are_ignored() {
        let mut blob = build_ts(0x34, b"10ts", Ts::Win10, &specs()[..2]);
        blob.data.extend_from_slice(&[0u8; 16]);
        let parsed = parse(&blob.data).unwrap();
        assert_eq!(parsed.entries.len(), 2);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    }

    #[test]
    fn win10_bad_signature_stops_the_walk() {
        let mut blob = build_ts(0x34, b"10ts", Ts::Win10, &specs());
        let second = blob.entry_offsets()[1];
        blob.data[second..second + 4].copy_from_slice(b"XYts");
        let parsed = parse(&blob.data).unwrap();
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(
            parsed.problems,
            vec![format!(
                "entry 1 at {second:#x}: signature \"XYts\" is neither \"10ts\" nor \"00ts\""
            )]
        );
    }

    #[test]
    fn win10_short_tail_keeps_the_path() {
        // An entry holding only its path: kept without a timestamp, walk goes on.
        let path = utf16(r"C:\a.exe");
        let mut data = vec![0u8; 0x34];
        data[0] = 0x34;
        data.extend_from_slice(b"10ts");
        data.extend_from_slice(&0u32.to_le_bytes());
        data.extend_from_slice(&(2 + path.len() as u32).to_le_bytes());
        data.extend_from_slice(&(path.len() as u16).to_le_bytes());
        data.extend_from_slice(&path);
        let next = build_ts(0x34, b"10ts", Ts::Win10, &specs()[..1]);
        let second = data.len();
        data.extend_from_slice(&next.data[0x34..]);
        let parsed = parse(&data).unwrap();
        assert_eq!(
            parsed.entries,
            vec![
                entry(0, r"C:\a.exe", None, 0x34, None),
                entry(1, JOSE, Some(FT_2012), second, None),
            ]
        );
        assert_eq!(
            parsed.problems,
            vec![
                "entry 0 at 0x34: 0 bytes after the path, too few for the modification time; \
                 path kept"
                    .to_string()
            ]
        );
    }

    #[test]
    fn lossy_utf16() {
        assert_eq!(decode_utf16(&[0x41, 0, 0x00, 0xD8, 0x42, 0]), "A\u{FFFD}B");
        assert_eq!(decode_utf16(&[0x41, 0, 0x42]), "A\u{FFFD}");
        assert_eq!(decode_utf16(&utf16(EMOJI)), EMOJI);
        assert_eq!(utf16_until_nul(&[0x41, 0, 0, 0, 0x42, 0]), "A");
        assert_eq!(utf16_until_nul(&[0x41, 0, 0x42]), "A");
    }

    // -- Errors and hostile input ----------------------------------------------

    #[test]
    fn unknown_signature() {
        let mut blob = build_ts(0x34, b"10ts", Ts::Win10, &specs());
        blob.data[..4].copy_from_slice(&0x4433_2211u32.to_le_bytes());
        let err = parse(&blob.data).unwrap_err();
        assert!(matches!(
            err,
            CacheError::UnknownFormat {
                signature: 0x4433_2211
            }
        ));
        assert_eq!(
            err.to_string(),
            "AppCompatCache data has an unrecognised signature 0x44332211"
        );
        assert!(matches!(
            parse(&[0xEF, 0xBE, 0xAD]),
            Err(CacheError::TooShort { len: 3 })
        ));
        assert!(matches!(parse(&[]), Err(CacheError::TooShort { len: 0 })));
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_garbage_does_not_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let signatures = [0xDEAD_BEEFu32, 0xBADC_0FFE, 0xBADC_0FEE, 0x80, 0x30, 0x34];
        for round in 0..4000 {
            let len = rng.below(2048);
            let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Most rounds get a known signature so that the parsers themselves run.
            if round % 4 != 0 && len >= 4 {
                let signature = signatures[rng.below(signatures.len())];
                data[..4].copy_from_slice(&signature.to_le_bytes());
                // Small counts and sizes reach deeper than random ones.
                if len >= 8 && round % 3 == 0 {
                    let small = (rng.next() % 8) as u32;
                    data[4..8].copy_from_slice(&small.to_le_bytes());
                }
                if signature < 0x100 && len >= signature as usize + 12 && round % 2 == 0 {
                    let at = signature as usize;
                    data[at..at + 4].copy_from_slice(b"10ts");
                }
            }
            let _ = parse(&data);
        }
    }

    #[test]
    fn mutated_blobs_do_not_panic() {
        let blobs = [
            build_xp(&specs(), &[2, 0, 1]),
            build_table(false, false, false, &specs()),
            build_table(false, true, true, &specs()),
            build_table(true, false, false, &specs()),
            build_table(true, true, false, &specs()),
            build_ts(0x80, b"10ts", Ts::Win8, &specs()),
            build_ts(0x80, b"00ts", Ts::Win8NoPackage, &specs()),
            build_ts(0x34, b"10ts", Ts::Win10, &specs()),
        ];
        let mut rng = XorShift(0x0123_4567_89AB_CDEF);
        for round in 0..3000 {
            let blob = &blobs[round % blobs.len()];
            let mut data = blob.data.clone();
            for _ in 0..1 + rng.below(8) {
                // Keep the signature so the same parser runs.
                let at = 4 + rng.below(data.len() - 4);
                data[at] = match rng.below(3) {
                    0 => 0xFF,
                    1 => 0,
                    _ => rng.next() as u8,
                };
            }
            let cut = rng.below(data.len() + 1);
            let _ = parse(&data[..cut]);
            let _ = parse(&data);
        }
    }
}
