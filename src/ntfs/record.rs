//! MFT records: the update sequence (fixups), the record header and the walk over a
//! record's attributes.
//!
//! Every function takes bytes from the evidence and never panics on them: all reads are
//! bounds-checked, and no allocation is sized by a value read from the evidence unless
//! that value is capped by the real length of the input.

use super::attribute::{AttrRef, parse_attribute_ref};
use crate::bytes::{array, u16_le, u32_le, u64_le};

// The boot sector, attributes and data runs have their own modules; their items are
// re-exported here so that `ntfs::record::…` paths keep working.
pub use super::attribute::{
    ATTR_ATTRIBUTE_LIST, ATTR_DATA, ATTR_END, ATTR_FILE_NAME, ATTR_FLAG_COMPRESSED,
    ATTR_FLAG_ENCRYPTED, ATTR_FLAG_SPARSE, ATTR_STANDARD_INFORMATION, AttrBody, Attribute,
    AttributeListEntry, FileName, NAMESPACE_DOS, NAMESPACE_POSIX, NAMESPACE_WIN32,
    NAMESPACE_WIN32_AND_DOS, StandardInformation, parse_attribute_list,
};
pub use super::boot::BootSector;
pub use super::runs::{Run, decode_runs};

/// What the NTFS parsers (boot sector, records, attributes, run lists) report.
#[derive(Debug, thiserror::Error)]
pub enum NtfsError {
    #[error("NTFS boot sector: {reason} (at offset {offset:#x})")]
    BadBootSector { offset: usize, reason: String },
    #[error("MFT record {record}: only {len} bytes, too short for a record header")]
    RecordTooShort { record: u64, len: usize },
    #[error("MFT record {record}: signature {found:02x?} is neither FILE nor BAAD")]
    BadSignature { record: u64, found: [u8; 4] },
    #[error(
        "MFT record {record}: bad update sequence array (offset {offset:#x}, {count} entries, record {len} bytes)"
    )]
    BadUpdateSequence {
        record: u64,
        offset: usize,
        count: usize,
        len: usize,
    },
    #[error("MFT record {record}: fixup mismatch at the end of sector {sector} (torn write)")]
    FixupMismatch { record: u64, sector: usize },
    #[error("MFT record {record}: attribute at offset {offset:#x} out of bounds: {reason}")]
    AttributeOutOfBounds {
        record: u64,
        offset: usize,
        reason: String,
    },
    #[error("MFT record {record}: bad run list in attribute at offset {offset:#x}: {reason}")]
    BadRunList {
        record: u64,
        offset: usize,
        reason: String,
    },
}

/// Split a file reference into (record number: low 48 bits, sequence: high 16 bits).
pub(super) fn split_reference(r: u64) -> (u64, u16) {
    (r & 0x0000_FFFF_FFFF_FFFF, (r >> 48) as u16)
}

// ---------------------------------------------------------------------------------------
// Fixups.

/// Apply the update sequence array (fixups) in place.
///
/// The last two bytes of every stride of the record must equal the update sequence
/// number; they are replaced by the saved values. The stride is `sector_size` when the
/// array has one entry per `sector_size` bytes of `record`, else 512 (Windows always
/// uses 512 for records whatever the sector size). All strides are checked before any
/// byte is changed, so on error `record` is untouched. A mismatch is a torn write and
/// names the record and the (0-based) sector.
pub fn apply_fixups(
    record: &mut [u8],
    sector_size: usize,
    record_number: u64,
) -> Result<(), NtfsError> {
    let len = record.len();
    let usa_offset = usize::from(u16_le(record, 4).unwrap_or(0));
    let usa_count = usize::from(u16_le(record, 6).unwrap_or(0));
    let bad = NtfsError::BadUpdateSequence {
        record: record_number,
        offset: usa_offset,
        count: usa_count,
        len,
    };
    if usa_count < 2 || usa_offset < 8 {
        return Err(bad);
    }
    let sectors = usa_count - 1;
    let stride = if sector_size >= 256 && sectors.checked_mul(sector_size) == Some(len) {
        sector_size
    } else if sectors.checked_mul(512) == Some(len) {
        512
    } else {
        return Err(bad);
    };
    // The array must lie before the first sector's tail, which it patches.
    match usa_count
        .checked_mul(2)
        .and_then(|n| n.checked_add(usa_offset))
    {
        Some(end) if end <= len && end <= stride - 2 => {}
        _ => return Err(bad),
    }
    let Some(usn) = array::<2>(record, usa_offset) else {
        return Err(bad);
    };
    for sector in 0..sectors {
        let tail = (sector + 1) * stride - 2;
        if array::<2>(record, tail) != Some(usn) {
            return Err(NtfsError::FixupMismatch {
                record: record_number,
                sector,
            });
        }
    }
    for sector in 0..sectors {
        let tail = (sector + 1) * stride - 2;
        let saved_at = usa_offset + 2 * (sector + 1);
        if let Some(saved) = array::<2>(record, saved_at)
            && let Some(dst) = record.get_mut(tail..tail + 2)
        {
            dst.copy_from_slice(&saved);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Record header and the record.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHeader {
    /// true for `FILE`, false for `BAAD` (a record chkdsk found damaged).
    pub signature_ok: bool,
    pub sequence: u16,
    pub link_count: u16,
    pub in_use: bool,
    pub is_dir: bool,
    /// 0 for base records; else the base record's number (from the file reference).
    pub base_record: u64,
    pub base_sequence: u16,
    /// The record's own number as stored at 0x2C (Windows XP and later).
    pub record_number: Option<u32>,
    pub used_size: u32,
    pub allocated_size: u32,
    /// Offset of the first attribute.
    pub first_attribute: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MftRecord {
    pub number: u64,
    pub header: RecordHeader,
    pub attributes: Vec<Attribute>,
}

impl MftRecord {
    /// All $FILE_NAME attributes that parse.
    pub fn file_names(&self) -> Vec<FileName> {
        self.attributes
            .iter()
            .filter_map(Attribute::file_name)
            .collect()
    }

    /// The parent references (record, sequence) of the record's $FILE_NAME attributes,
    /// without decoding the names: the MFT walk tests these for every file.
    pub fn file_name_parents(&self) -> impl Iterator<Item = (u64, u16)> + '_ {
        self.attributes
            .iter()
            .filter(|a| a.type_code == ATTR_FILE_NAME)
            .filter_map(|a| a.resident_data().and_then(|d| u64_le(d, 0)))
            .map(split_reference)
    }

    /// The name a directory listing shows: a Win32 or POSIX name before a DOS-only one.
    pub fn best_file_name(&self) -> Option<FileName> {
        let names = self.file_names();
        let rank = |n: &FileName| match n.namespace {
            NAMESPACE_WIN32 | NAMESPACE_WIN32_AND_DOS => 0,
            NAMESPACE_POSIX => 1,
            _ => 2,
        };
        names.into_iter().min_by_key(rank)
    }

    /// The $DATA attribute(s) with this stream name ("" for the unnamed stream).
    pub fn data_attributes<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Attribute> {
        self.attributes
            .iter()
            .filter(move |a| a.type_code == ATTR_DATA && a.name == name)
    }
}

/// Parse the record header (fixups must already be applied for the fields to be exact;
/// none of the header fields lie at a sector end, so it works on raw records too).
pub fn parse_header(bytes: &[u8], number: u64) -> Result<RecordHeader, NtfsError> {
    let short = || NtfsError::RecordTooShort {
        record: number,
        len: bytes.len(),
    };
    let signature = array::<4>(bytes, 0).ok_or_else(short)?;
    let signature_ok = match &signature {
        b"FILE" => true,
        b"BAAD" => false,
        _ => {
            return Err(NtfsError::BadSignature {
                record: number,
                found: signature,
            });
        }
    };
    let usa_offset = u16_le(bytes, 4).ok_or_else(short)?;
    let flags = u16_le(bytes, 0x16).ok_or_else(short)?;
    let (base_record, base_sequence) = split_reference(u64_le(bytes, 0x20).ok_or_else(short)?);
    Ok(RecordHeader {
        signature_ok,
        sequence: u16_le(bytes, 0x10).ok_or_else(short)?,
        link_count: u16_le(bytes, 0x12).ok_or_else(short)?,
        in_use: flags & 0x0001 != 0,
        is_dir: flags & 0x0002 != 0,
        base_record,
        base_sequence,
        // NT4/2000 records put the update sequence array at 0x2A, where XP+ keeps the
        // record number at 0x2C and the array at 0x30.
        record_number: if usa_offset >= 0x30 {
            u32_le(bytes, 0x2C)
        } else {
            None
        },
        used_size: u32_le(bytes, 0x18).ok_or_else(short)?,
        allocated_size: u32_le(bytes, 0x1C).ok_or_else(short)?,
        first_attribute: u16_le(bytes, 0x14).ok_or_else(short)?,
    })
}

/// Parse one MFT record.
///
/// Fixups are applied **in place** on `bytes` (which must be exactly one record) before
/// the attributes are read; a torn record is an error ([`NtfsError::FixupMismatch`]) and
/// `bytes` is left unchanged. A `BAAD` record is returned with `signature_ok == false`,
/// no attributes and a problem. Any other signature (e.g. a never-used, zeroed record)
/// is [`NtfsError::BadSignature`].
///
/// The attribute walk is bounded by the used size and the record length; a broken
/// attribute ends the walk, keeping the attributes before it, with an entry in the
/// returned problems.
pub fn parse_record(
    bytes: &mut [u8],
    number: u64,
    sector_size: usize,
) -> Result<(MftRecord, Vec<String>), NtfsError> {
    Ok(view_record(bytes, number, sector_size)?.parse())
}

/// A record read in place: its header read and its fixups applied (as by
/// [`parse_record`], with the same errors), its attributes walked only when asked for
/// and borrowed. The `$MFT` walk looks at every record this way and parses in full only
/// the few it keeps.
#[derive(Debug, Clone)]
pub struct RecordView<'a> {
    pub number: u64,
    pub header: RecordHeader,
    /// The record, fixups applied (empty for a `BAAD` record: its attributes are not read).
    bytes: &'a [u8],
}

/// Read the header of the record `bytes` and apply its fixups in place; see
/// [`parse_record`] for the errors.
pub fn view_record(
    bytes: &mut [u8],
    number: u64,
    sector_size: usize,
) -> Result<RecordView<'_>, NtfsError> {
    let header = parse_header(bytes, number)?;
    if !header.signature_ok {
        return Ok(RecordView {
            number,
            header,
            bytes: &[],
        });
    }
    apply_fixups(bytes, sector_size, number)?;
    Ok(RecordView {
        number,
        header,
        bytes,
    })
}

impl<'a> RecordView<'a> {
    /// The attributes in record order, up to the end marker; a broken attribute (or a
    /// missing end marker) is the last item, an `Err`.
    pub fn attributes(&self) -> Attributes<'a> {
        let used = self.header.used_size as usize;
        Attributes {
            bytes: self.bytes,
            number: self.number,
            offset: usize::from(self.header.first_attribute),
            limit: if used > self.bytes.len() {
                self.bytes.len()
            } else {
                used
            },
            done: !self.header.signature_ok,
        }
    }

    /// The attributes before the first broken one (those [`parse_record`] keeps).
    fn sound_attributes(&self) -> impl Iterator<Item = AttrRef<'a>> + use<'a> {
        self.attributes().map_while(Result::ok)
    }

    /// As [`MftRecord::file_name_parents`].
    pub fn file_name_parents(&self) -> impl Iterator<Item = (u64, u16)> + use<'a> {
        self.sound_attributes()
            .filter(|a| a.type_code == ATTR_FILE_NAME)
            .filter_map(|a| a.resident_data().and_then(|d| u64_le(d, 0)))
            .map(split_reference)
    }

    /// As [`MftRecord::file_names`].
    pub fn file_names(&self) -> Vec<FileName> {
        self.sound_attributes()
            .filter_map(|a| a.file_name())
            .collect()
    }

    /// Whether the record has an `$ATTRIBUTE_LIST` (its attributes continue in
    /// extension records).
    pub fn has_attribute_list(&self) -> bool {
        self.sound_attributes()
            .any(|a| a.type_code == ATTR_ATTRIBUTE_LIST)
    }

    /// The record parsed in full, with its problems: what [`parse_record`] returns.
    pub fn parse(&self) -> (MftRecord, Vec<String>) {
        let (number, header) = (self.number, &self.header);
        let mut problems = Vec::new();
        if !header.signature_ok {
            problems.push(format!("MFT record {number}: marked BAAD (damaged)"));
        }
        // Only for records in use: mkntfs leaves 0 there in the free reserved records 16-23.
        if let Some(stored) = header.record_number
            && header.signature_ok
            && header.in_use
            && u64::from(stored) != number & 0xFFFF_FFFF
        {
            problems.push(format!(
                "MFT record {number}: header says it is record {stored}"
            ));
        }
        let used = header.used_size as usize;
        if header.signature_ok && used > self.bytes.len() {
            problems.push(format!(
                "MFT record {number}: used size {used} beyond the record length {}",
                self.bytes.len()
            ));
        }
        let mut attributes = Vec::new();
        for attribute in self.attributes() {
            match attribute.and_then(|a| a.to_attribute(number)) {
                Ok(attribute) => attributes.push(attribute),
                Err(e) => {
                    problems.push(e.to_string());
                    break;
                }
            }
        }
        let record = MftRecord {
            number,
            header: header.clone(),
            attributes,
        };
        (record, problems)
    }
}

/// The attributes of a [`RecordView`], borrowed.
pub struct Attributes<'a> {
    bytes: &'a [u8],
    number: u64,
    offset: usize,
    limit: usize,
    done: bool,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<AttrRef<'a>, NtfsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let (off, limit) = (self.offset, self.limit);
        let Some(type_code) = u32_le(self.bytes, off).filter(|_| off + 4 <= limit) else {
            self.done = true;
            return Some(Err(NtfsError::AttributeOutOfBounds {
                record: self.number,
                offset: off,
                reason: format!("no end marker before the used size {limit}"),
            }));
        };
        if type_code == ATTR_END {
            self.done = true;
            return None;
        }
        match parse_attribute_ref(self.bytes, off, limit, self.number) {
            Ok((attribute, len)) => {
                self.offset += len;
                Some(Ok(attribute))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// A resident attribute: header 0x18 bytes, name after it, value 8-aligned after that.
    fn resident(type_code: u32, name: &str, id: u16, value: &[u8]) -> Vec<u8> {
        let name = utf16(name);
        let value_off = (0x18 + name.len()).div_ceil(8) * 8;
        let len = (value_off + value.len()).div_ceil(8) * 8;
        let mut a = vec![0u8; len];
        a[0..4].copy_from_slice(&type_code.to_le_bytes());
        a[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        a[9] = (name.len() / 2) as u8;
        a[0x0A..0x0C].copy_from_slice(&0x18u16.to_le_bytes());
        a[0x0E..0x10].copy_from_slice(&id.to_le_bytes());
        a[0x10..0x14].copy_from_slice(&(value.len() as u32).to_le_bytes());
        a[0x14..0x16].copy_from_slice(&(value_off as u16).to_le_bytes());
        a[0x18..0x18 + name.len()].copy_from_slice(&name);
        a[value_off..value_off + value.len()].copy_from_slice(value);
        a
    }

    fn non_resident(type_code: u32, flags: u16, runs: &[u8], data_size: u64) -> Vec<u8> {
        let len = (0x40 + runs.len() + 1).div_ceil(8) * 8;
        let mut a = vec![0u8; len];
        a[0..4].copy_from_slice(&type_code.to_le_bytes());
        a[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        a[8] = 1;
        a[0x0A..0x0C].copy_from_slice(&0x40u16.to_le_bytes());
        a[0x0C..0x0E].copy_from_slice(&flags.to_le_bytes());
        a[0x0E..0x10].copy_from_slice(&5u16.to_le_bytes());
        a[0x18..0x20].copy_from_slice(&9u64.to_le_bytes());
        a[0x20..0x22].copy_from_slice(&0x40u16.to_le_bytes());
        a[0x28..0x30].copy_from_slice(&(10 * 4096u64).to_le_bytes());
        a[0x30..0x38].copy_from_slice(&data_size.to_le_bytes());
        a[0x38..0x40].copy_from_slice(&data_size.to_le_bytes());
        a[0x40..0x40 + runs.len()].copy_from_slice(runs);
        a
    }

    fn standard_information() -> Vec<u8> {
        let mut v = vec![0u8; 0x48];
        for (i, t) in [1u64, 2, 3, 4].iter().enumerate() {
            v[i * 8..i * 8 + 8].copy_from_slice(&(t * 1000).to_le_bytes());
        }
        v[0x20..0x24].copy_from_slice(&0x20u32.to_le_bytes());
        v
    }

    fn file_name(parent: u64, seq: u16, namespace: u8, name: &str) -> Vec<u8> {
        let n = utf16(name);
        let mut v = vec![0u8; 0x42 + n.len()];
        v[0..8].copy_from_slice(&(parent | (u64::from(seq) << 48)).to_le_bytes());
        v[0x08..0x10].copy_from_slice(&111u64.to_le_bytes());
        v[0x30..0x38].copy_from_slice(&20000u64.to_le_bytes());
        v[0x40] = (n.len() / 2) as u8;
        v[0x41] = namespace;
        v[0x42..].copy_from_slice(&n);
        v
    }

    /// A 1024-byte FILE record (XP layout) holding `attrs`, with fixups protected.
    fn build_record(number: u32, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut r = vec![0u8; 1024];
        r[0..4].copy_from_slice(b"FILE");
        r[4..6].copy_from_slice(&0x30u16.to_le_bytes());
        r[6..8].copy_from_slice(&3u16.to_le_bytes());
        r[0x10..0x12].copy_from_slice(&7u16.to_le_bytes());
        r[0x12..0x14].copy_from_slice(&2u16.to_le_bytes());
        r[0x14..0x16].copy_from_slice(&0x38u16.to_le_bytes());
        r[0x16..0x18].copy_from_slice(&1u16.to_le_bytes());
        r[0x1C..0x20].copy_from_slice(&1024u32.to_le_bytes());
        r[0x2C..0x30].copy_from_slice(&number.to_le_bytes());
        let mut off = 0x38;
        for a in attrs {
            r[off..off + a.len()].copy_from_slice(a);
            off += a.len();
        }
        r[off..off + 4].copy_from_slice(&ATTR_END.to_le_bytes());
        off += 8;
        r[0x18..0x1C].copy_from_slice(&(off as u32).to_le_bytes());
        protect(&mut r, 512);
        r
    }

    /// Save the sector tails into the update sequence array and stamp the USN.
    fn protect(r: &mut [u8], stride: usize) {
        let usn = [0x34u8, 0x12];
        r[0x30..0x32].copy_from_slice(&usn);
        for s in 0..r.len() / stride {
            let tail = (s + 1) * stride - 2;
            let saved = [r[tail], r[tail + 1]];
            r[0x32 + 2 * s..0x34 + 2 * s].copy_from_slice(&saved);
            r[tail..tail + 2].copy_from_slice(&usn);
        }
    }

    fn sample_record() -> Vec<u8> {
        // Runs: 4 clusters at 100, 2 sparse, 4 at 100 - 40 = 60.
        let runs = [0x11, 0x04, 0x64, 0x01, 0x02, 0x11, 0x04, 0xD8];
        build_record(
            42,
            &[
                resident(ATTR_STANDARD_INFORMATION, "", 0, &standard_information()),
                resident(
                    ATTR_FILE_NAME,
                    "",
                    2,
                    &file_name(5, 5, 1, "netsession_win.exe"),
                ),
                resident(ATTR_FILE_NAME, "", 3, &file_name(5, 5, 2, "NETSES~1.EXE")),
                resident(
                    ATTR_DATA,
                    "",
                    1,
                    b"hello, resident data with a tail to cross 512?",
                ),
                resident(
                    ATTR_DATA,
                    "Zone.Identifier",
                    4,
                    b"[ZoneTransfer]\r\nZoneId=3\r\n",
                ),
                non_resident(ATTR_DATA, ATTR_FLAG_SPARSE, &runs, 40000),
            ],
        )
    }

    #[test]
    fn fixups_good_and_torn() {
        let mut r = sample_record();
        let pristine = r.clone();
        apply_fixups(&mut r, 512, 42).expect("good fixups");
        assert_ne!(&r[510..512], &[0x34, 0x12]);
        // Torn: second sector tail differs.
        let mut torn = pristine.clone();
        torn[1022] ^= 0xFF;
        let copy = torn.clone();
        match apply_fixups(&mut torn, 512, 42) {
            Err(NtfsError::FixupMismatch { record, sector }) => {
                assert_eq!((record, sector), (42, 1));
            }
            other => panic!("expected a fixup mismatch, got {other:?}"),
        }
        assert_eq!(torn, copy, "a torn record is left unchanged");
        // A 4096 sector size with 512-byte strides falls back to 512.
        let mut r = pristine.clone();
        apply_fixups(&mut r, 4096, 42).expect("512 stride");
        // Array count that does not fit the record.
        let mut bad = pristine;
        bad[6] = 9;
        assert!(matches!(
            apply_fixups(&mut bad, 512, 42),
            Err(NtfsError::BadUpdateSequence { .. })
        ));
    }

    #[test]
    fn synthetic_record() {
        let mut r = sample_record();
        let (rec, problems) = parse_record(&mut r, 42, 512).expect("parses");
        assert!(problems.is_empty(), "{problems:?}");
        let h = &rec.header;
        assert!(h.signature_ok && h.in_use && !h.is_dir);
        assert_eq!((h.sequence, h.link_count, h.base_record), (7, 2, 0));
        assert_eq!(h.record_number, Some(42));
        assert_eq!(h.allocated_size, 1024);
        assert_eq!(rec.attributes.len(), 6);
        let si = rec.attributes[0].standard_information().expect("$SI");
        assert_eq!(
            (si.created, si.modified, si.mft_changed, si.accessed),
            (1000, 2000, 3000, 4000)
        );
        assert_eq!(si.file_attributes, 0x20);
        let names = rec.file_names();
        assert_eq!(names.len(), 2);
        assert_eq!(names[1].name, "NETSES~1.EXE");
        assert_eq!(names[1].namespace, NAMESPACE_DOS);
        let best = rec.best_file_name().expect("name");
        assert_eq!(best.name, "netsession_win.exe");
        assert_eq!((best.parent_record, best.parent_sequence), (5, 5));
        assert_eq!((best.created, best.data_size), (111, 20000));
        let unnamed: Vec<_> = rec.data_attributes("").collect();
        assert_eq!(unnamed.len(), 2);
        assert_eq!(
            unnamed[0].resident_data().expect("resident"),
            b"hello, resident data with a tail to cross 512?"
        );
        let zone = rec.data_attributes("Zone.Identifier").next().expect("ADS");
        assert_eq!(zone.id, 4);
        assert_eq!(
            zone.resident_data(),
            Some(&b"[ZoneTransfer]\r\nZoneId=3\r\n"[..])
        );
        let nr = unnamed[1];
        assert_eq!(nr.flags, ATTR_FLAG_SPARSE);
        match &nr.body {
            AttrBody::NonResident {
                last_vcn,
                data_size,
                runs,
                ..
            } => {
                assert_eq!((*last_vcn, *data_size), (9, 40000));
                let shown: Vec<String> = runs.iter().map(Run::to_string).collect();
                assert_eq!(shown, ["4@100", "2@sparse", "4@60"]);
            }
            other => panic!("expected non-resident, got {other:?}"),
        }
        assert!(nr.standard_information().is_none() && nr.file_name().is_none());
    }

    #[test]
    fn broken_attribute_keeps_earlier_ones() {
        let mut r = sample_record();
        apply_fixups(&mut r, 512, 42).expect("fixups");
        // Break the third attribute's length (offset 0x38 + $SI + first $FN).
        let si_len = u32_le(&r, 0x3C).expect("len") as usize;
        let fn_len = u32_le(&r, 0x38 + si_len + 4).expect("len") as usize;
        let third = 0x38 + si_len + fn_len;
        r[third + 4..third + 8].copy_from_slice(&0x10_0000u32.to_le_bytes());
        protect(&mut r, 512);
        let (rec, problems) = parse_record(&mut r, 42, 512).expect("parses");
        assert_eq!(rec.attributes.len(), 2);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("record 42"), "{problems:?}");
    }

    #[test]
    fn baad_and_empty_records() {
        let mut r = sample_record();
        r[0..4].copy_from_slice(b"BAAD");
        let (rec, problems) = parse_record(&mut r, 1, 512).expect("BAAD parses");
        assert!(!rec.header.signature_ok && rec.attributes.is_empty());
        assert_eq!(problems.len(), 1);
        let mut zero = vec![0u8; 1024];
        assert!(matches!(
            parse_record(&mut zero, 1, 512),
            Err(NtfsError::BadSignature { .. })
        ));
        let mut short = b"FILE".to_vec();
        assert!(parse_record(&mut short, 1, 512).is_err());
    }

    #[test]
    fn damage_never_panics() {
        let pristine = sample_record();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..20_000 {
            let mut r = pristine.clone();
            let flips = 1 + next() % 8;
            for _ in 0..flips {
                let off = (next() % r.len() as u64) as usize;
                r[off] = next() as u8;
            }
            if i % 2 == 0 {
                protect(&mut r, 512); // keep the fixups valid so the walk is reached
            }
            let cut = if i % 7 == 0 {
                (next() % 1024) as usize
            } else {
                1024
            };
            let sector = [512usize, 4096, 0, 1][i % 4];
            if let Ok((rec, _)) = parse_record(&mut r[..cut], i as u64, sector) {
                for a in &rec.attributes {
                    let _ = (a.standard_information(), a.file_name(), a.attribute_list());
                    // Reinterpret every attribute as each kind, too.
                    for t in [
                        ATTR_STANDARD_INFORMATION,
                        ATTR_FILE_NAME,
                        ATTR_ATTRIBUTE_LIST,
                    ] {
                        let mut b = a.clone();
                        b.type_code = t;
                        let _ = (b.standard_information(), b.file_name(), b.attribute_list());
                    }
                }
                let _ = rec.best_file_name();
            }
            let _ = decode_runs(&r[..(next() % 64) as usize]);
            let _ = BootSector::parse(&r[..512]);
        }
    }
}
