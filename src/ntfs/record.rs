//! MFT record parsing: boot sector, update sequence (fixups), record header, attribute
//! headers, data runs and the small resident attributes ($STANDARD_INFORMATION,
//! $FILE_NAME, $ATTRIBUTE_LIST).
//!
//! Every function takes bytes from the evidence and never panics on them: all reads are
//! bounds-checked, and no allocation is sized by a value read from the evidence unless
//! that value is capped by the real length of the input.

use std::fmt;

/// Attribute type codes used by the scanner.
pub const ATTR_STANDARD_INFORMATION: u32 = 0x10;
pub const ATTR_ATTRIBUTE_LIST: u32 = 0x20;
pub const ATTR_FILE_NAME: u32 = 0x30;
pub const ATTR_DATA: u32 = 0x80;
pub const ATTR_END: u32 = 0xFFFF_FFFF;

/// Attribute header flags.
pub const ATTR_FLAG_COMPRESSED: u16 = 0x0001;
pub const ATTR_FLAG_ENCRYPTED: u16 = 0x4000;
pub const ATTR_FLAG_SPARSE: u16 = 0x8000;

/// $FILE_NAME namespaces.
pub const NAMESPACE_POSIX: u8 = 0;
pub const NAMESPACE_WIN32: u8 = 1;
pub const NAMESPACE_DOS: u8 = 2;
pub const NAMESPACE_WIN32_AND_DOS: u8 = 3;

/// The largest run length (in clusters) accepted by [`decode_runs`]: 2^48 clusters is
/// far beyond any real volume, so a longer run is damage.
const MAX_RUN_LENGTH: u64 = 1 << 48;

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

// ---------------------------------------------------------------------------------------
// Bounds-checked little-endian readers.

fn bytes_at<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    let end = off.checked_add(N)?;
    b.get(off..end)?.try_into().ok()
}

fn u8_at(b: &[u8], off: usize) -> Option<u8> {
    b.get(off).copied()
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    bytes_at::<2>(b, off).map(u16::from_le_bytes)
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    bytes_at::<4>(b, off).map(u32::from_le_bytes)
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    bytes_at::<8>(b, off).map(u64::from_le_bytes)
}

/// UTF-16LE name of `chars` code units at `off`, lossy; None when out of bounds.
fn utf16_at(b: &[u8], off: usize, chars: usize) -> Option<String> {
    let end = off.checked_add(chars.checked_mul(2)?)?;
    let raw = b.get(off..end)?;
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// Split a file reference into (record number: low 48 bits, sequence: high 16 bits).
fn split_reference(r: u64) -> (u64, u16) {
    (r & 0x0000_FFFF_FFFF_FFFF, (r >> 48) as u16)
}

// ---------------------------------------------------------------------------------------
// Boot sector.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootSector {
    pub bytes_per_sector: u16,
    pub sectors_per_cluster: u32,
    pub cluster_size: u64,
    pub total_sectors: u64,
    pub mft_lcn: u64,
    pub mftmirr_lcn: u64,
    /// Bytes per MFT record.
    pub record_size: u32,
    /// Bytes per index record.
    pub index_record_size: u32,
    pub serial: u64,
}

impl BootSector {
    /// Parse and validate an NTFS boot sector (at least the first 512 bytes).
    pub fn parse(sector: &[u8]) -> Result<BootSector, NtfsError> {
        let bad = |offset: usize, reason: String| NtfsError::BadBootSector { offset, reason };
        if sector.len() < 512 {
            return Err(bad(0, format!("only {} bytes, need 512", sector.len())));
        }
        if sector.get(3..11) != Some(b"NTFS    ".as_slice()) {
            return Err(bad(3, "OEM id is not \"NTFS    \"".to_string()));
        }
        if sector.get(0x1FE..0x200) != Some([0x55u8, 0xAA].as_slice()) {
            return Err(bad(0x1FE, "no 0x55AA end marker".to_string()));
        }
        let field = |off: usize| bad(off, "field out of range".to_string());
        let bytes_per_sector = u16_at(sector, 0x0B).ok_or_else(|| field(0x0B))?;
        if !(256..=4096).contains(&bytes_per_sector) || !bytes_per_sector.is_power_of_two() {
            return Err(bad(
                0x0B,
                format!("bytes per sector {bytes_per_sector} is not a power of two in 256..=4096"),
            ));
        }
        let spc_raw = u8_at(sector, 0x0D).ok_or_else(|| field(0x0D))?;
        let sectors_per_cluster: u32 = if spc_raw > 0x80 {
            // Negative (two's complement) exponent: 2^-n sectors, e.g. 0xF8 → 2^8.
            let shift = 256 - u32::from(spc_raw);
            if shift > 20 {
                return Err(bad(0x0D, format!("sectors per cluster code {spc_raw:#x}")));
            }
            1 << shift
        } else {
            u32::from(spc_raw)
        };
        if sectors_per_cluster == 0 || !sectors_per_cluster.is_power_of_two() {
            return Err(bad(
                0x0D,
                format!("sectors per cluster {sectors_per_cluster} is not a power of two"),
            ));
        }
        let cluster_size = u64::from(bytes_per_sector) * u64::from(sectors_per_cluster);
        if cluster_size > 2 * 1024 * 1024 {
            return Err(bad(0x0D, format!("cluster size {cluster_size} over 2 MiB")));
        }
        let total_sectors = u64_at(sector, 0x28).ok_or_else(|| field(0x28))?;
        let mft_lcn = u64_at(sector, 0x30).ok_or_else(|| field(0x30))?;
        let mftmirr_lcn = u64_at(sector, 0x38).ok_or_else(|| field(0x38))?;
        let total_clusters = total_sectors / u64::from(sectors_per_cluster) + 1;
        if total_sectors == 0 {
            return Err(bad(0x28, "total sectors is 0".to_string()));
        }
        if mft_lcn == 0 || mft_lcn >= total_clusters {
            return Err(bad(
                0x30,
                format!("$MFT cluster {mft_lcn} outside the volume ({total_clusters} clusters)"),
            ));
        }
        if mftmirr_lcn >= total_clusters {
            return Err(bad(
                0x38,
                format!("$MFTMirr cluster {mftmirr_lcn} outside the volume"),
            ));
        }
        let size_from_code = |off: usize| -> Result<u32, NtfsError> {
            let code = u8_at(sector, off).ok_or_else(|| field(off))? as i8;
            let size: u64 = if code > 0 {
                u64::from(code.unsigned_abs()) * cluster_size
            } else {
                let shift = u32::from(code.unsigned_abs());
                if shift >= 32 {
                    return Err(bad(off, format!("size code {code}")));
                }
                1u64 << shift
            };
            if !(256..=65536).contains(&size) || !size.is_power_of_two() {
                return Err(bad(
                    off,
                    format!("record size {size} is not a power of two in 256..=65536"),
                ));
            }
            Ok(size as u32)
        };
        let record_size = size_from_code(0x40)?;
        let index_record_size = size_from_code(0x44)?;
        let serial = u64_at(sector, 0x48).ok_or_else(|| field(0x48))?;
        Ok(BootSector {
            bytes_per_sector,
            sectors_per_cluster,
            cluster_size,
            total_sectors,
            mft_lcn,
            mftmirr_lcn,
            record_size,
            index_record_size,
            serial,
        })
    }
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
    let usa_offset = usize::from(u16_at(record, 4).unwrap_or(0));
    let usa_count = usize::from(u16_at(record, 6).unwrap_or(0));
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
    let Some(usn) = bytes_at::<2>(record, usa_offset) else {
        return Err(bad);
    };
    for sector in 0..sectors {
        let tail = (sector + 1) * stride - 2;
        if bytes_at::<2>(record, tail) != Some(usn) {
            return Err(NtfsError::FixupMismatch {
                record: record_number,
                sector,
            });
        }
    }
    for sector in 0..sectors {
        let tail = (sector + 1) * stride - 2;
        let saved_at = usa_offset + 2 * (sector + 1);
        if let Some(saved) = bytes_at::<2>(record, saved_at)
            && let Some(dst) = record.get_mut(tail..tail + 2)
        {
            dst.copy_from_slice(&saved);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Record header and attributes.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Starting cluster; None for a sparse run.
    pub lcn: Option<u64>,
    /// Length in clusters (never 0).
    pub length: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrBody {
    Resident {
        data: Vec<u8>,
    },
    NonResident {
        start_vcn: u64,
        last_vcn: u64,
        allocated_size: u64,
        data_size: u64,
        initialized_size: u64,
        /// log2 of the compression unit in clusters (4 for compressed files), 0 if none.
        compression_unit: u8,
        runs: Vec<Run>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub type_code: u32,
    /// UTF-16 name (lossy); empty for the unnamed stream.
    pub name: String,
    pub id: u16,
    /// [`ATTR_FLAG_COMPRESSED`], [`ATTR_FLAG_ENCRYPTED`], [`ATTR_FLAG_SPARSE`].
    pub flags: u16,
    pub body: AttrBody,
    pub offset_in_record: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardInformation {
    pub created: u64,
    pub modified: u64,
    pub mft_changed: u64,
    pub accessed: u64,
    pub file_attributes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub parent_record: u64,
    pub parent_sequence: u16,
    pub created: u64,
    pub modified: u64,
    pub mft_changed: u64,
    pub accessed: u64,
    pub allocated_size: u64,
    pub data_size: u64,
    pub flags: u32,
    /// 0 POSIX, 1 Win32, 2 DOS, 3 Win32 & DOS.
    pub namespace: u8,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeListEntry {
    pub type_code: u32,
    pub start_vcn: u64,
    pub record: u64,
    pub sequence: u16,
    pub id: u16,
    pub name: String,
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
            .filter_map(|a| a.resident_data().and_then(|d| u64_at(d, 0)))
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

impl Attribute {
    pub fn resident_data(&self) -> Option<&[u8]> {
        match &self.body {
            AttrBody::Resident { data } => Some(data),
            AttrBody::NonResident { .. } => None,
        }
    }

    /// The logical size of the stream: value length when resident, data size otherwise.
    pub fn data_size(&self) -> u64 {
        match &self.body {
            AttrBody::Resident { data } => data.len() as u64,
            AttrBody::NonResident { data_size, .. } => *data_size,
        }
    }

    pub fn standard_information(&self) -> Option<StandardInformation> {
        if self.type_code != ATTR_STANDARD_INFORMATION {
            return None;
        }
        let d = self.resident_data()?;
        Some(StandardInformation {
            created: u64_at(d, 0x00)?,
            modified: u64_at(d, 0x08)?,
            mft_changed: u64_at(d, 0x10)?,
            accessed: u64_at(d, 0x18)?,
            file_attributes: u32_at(d, 0x20)?,
        })
    }

    pub fn file_name(&self) -> Option<FileName> {
        if self.type_code != ATTR_FILE_NAME {
            return None;
        }
        let d = self.resident_data()?;
        let (parent_record, parent_sequence) = split_reference(u64_at(d, 0x00)?);
        let chars = usize::from(u8_at(d, 0x40)?);
        Some(FileName {
            parent_record,
            parent_sequence,
            created: u64_at(d, 0x08)?,
            modified: u64_at(d, 0x10)?,
            mft_changed: u64_at(d, 0x18)?,
            accessed: u64_at(d, 0x20)?,
            allocated_size: u64_at(d, 0x28)?,
            data_size: u64_at(d, 0x30)?,
            flags: u32_at(d, 0x38)?,
            namespace: u8_at(d, 0x41)?,
            name: utf16_at(d, 0x42, chars)?,
        })
    }

    /// Entries of a resident $ATTRIBUTE_LIST. A non-resident list (large files with many
    /// extents or hard links) lives in clusters and needs a volume reader to fetch it
    /// first: this returns None for it. A damaged entry ends the list (entries before it
    /// are kept).
    pub fn attribute_list(&self) -> Option<Vec<AttributeListEntry>> {
        if self.type_code != ATTR_ATTRIBUTE_LIST {
            return None;
        }
        let d = self.resident_data()?;
        Some(parse_attribute_list(d))
    }
}

/// Parse the bytes of an attribute list (resident value, or a non-resident one read by
/// the caller). Stops at the first damaged entry.
pub fn parse_attribute_list(d: &[u8]) -> Vec<AttributeListEntry> {
    let mut entries = Vec::new();
    let mut off = 0usize;
    while off < d.len() {
        let Some(entry) = parse_attribute_list_entry(d, off) else {
            break;
        };
        let Some(len) = u16_at(d, off + 4).map(usize::from) else {
            break;
        };
        entries.push(entry);
        off += len;
    }
    entries
}

fn parse_attribute_list_entry(d: &[u8], off: usize) -> Option<AttributeListEntry> {
    let len = usize::from(u16_at(d, off.checked_add(4)?)?);
    if len < 0x1A || off.checked_add(len)? > d.len() {
        return None;
    }
    let e = d.get(off..off + len)?;
    let name_chars = usize::from(u8_at(e, 6)?);
    let name_off = usize::from(u8_at(e, 7)?);
    let name = if name_chars == 0 {
        String::new()
    } else {
        utf16_at(e, name_off, name_chars)?
    };
    let (record, sequence) = split_reference(u64_at(e, 0x10)?);
    Some(AttributeListEntry {
        type_code: u32_at(e, 0)?,
        start_vcn: u64_at(e, 0x08)?,
        record,
        sequence,
        id: u16_at(e, 0x18)?,
        name,
    })
}

/// Decode a mapping-pairs array (data runs).
///
/// Each run is a header byte (low nibble: size of the length field, high nibble: size of
/// the LCN delta field), the length, then a signed delta from the previous run's LCN; a
/// delta size of 0 marks a sparse run. A 0 header byte ends the list; running off the end
/// of `bytes` without it is an error. Lengths of 0, lengths over 2^48 clusters, field sizes
/// over 8 bytes and LCNs that go negative or overflow are errors. The number of runs is
/// bounded by `bytes.len() / 2` since each run takes at least two bytes.
pub fn decode_runs(bytes: &[u8]) -> Result<Vec<Run>, String> {
    let mut runs = Vec::new();
    let mut off = 0usize;
    let mut lcn: i64 = 0;
    loop {
        let Some(&header) = bytes.get(off) else {
            return Err(format!("run list not terminated (ended at byte {off})"));
        };
        if header == 0 {
            return Ok(runs);
        }
        let len_size = usize::from(header & 0x0F);
        let off_size = usize::from(header >> 4);
        if len_size == 0 || len_size > 8 {
            return Err(format!("run at byte {off}: length field size {len_size}"));
        }
        if off_size > 8 {
            return Err(format!("run at byte {off}: offset field size {off_size}"));
        }
        let start = off + 1;
        let Some(field) = bytes.get(start..start + len_size + off_size) else {
            return Err(format!("run at byte {off}: truncated"));
        };
        let (len_bytes, delta_bytes) = field.split_at(len_size);
        let mut length: u64 = 0;
        for (i, b) in len_bytes.iter().enumerate() {
            length |= u64::from(*b) << (8 * i);
        }
        if length == 0 {
            return Err(format!("run at byte {off}: length 0"));
        }
        if length > MAX_RUN_LENGTH {
            return Err(format!(
                "run at byte {off}: absurd length {length} clusters"
            ));
        }
        let run_lcn = if off_size == 0 {
            None
        } else {
            let mut delta: u64 = 0;
            for (i, b) in delta_bytes.iter().enumerate() {
                delta |= u64::from(*b) << (8 * i);
            }
            // Sign-extend from off_size bytes.
            let shift = 64 - 8 * off_size as u32;
            let delta = ((delta << shift) as i64) >> shift;
            lcn = lcn
                .checked_add(delta)
                .ok_or_else(|| format!("run at byte {off}: LCN overflow"))?;
            if lcn < 0 {
                return Err(format!("run at byte {off}: negative LCN {lcn}"));
            }
            Some(lcn as u64)
        };
        runs.push(Run {
            lcn: run_lcn,
            length,
        });
        off = start + len_size + off_size;
    }
}

/// Parse the record header (fixups must already be applied for the fields to be exact;
/// none of the header fields lie at a sector end, so it works on raw records too).
pub fn parse_header(bytes: &[u8], number: u64) -> Result<RecordHeader, NtfsError> {
    let short = || NtfsError::RecordTooShort {
        record: number,
        len: bytes.len(),
    };
    let signature = bytes_at::<4>(bytes, 0).ok_or_else(short)?;
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
    let usa_offset = u16_at(bytes, 4).ok_or_else(short)?;
    let flags = u16_at(bytes, 0x16).ok_or_else(short)?;
    let (base_record, base_sequence) = split_reference(u64_at(bytes, 0x20).ok_or_else(short)?);
    Ok(RecordHeader {
        signature_ok,
        sequence: u16_at(bytes, 0x10).ok_or_else(short)?,
        link_count: u16_at(bytes, 0x12).ok_or_else(short)?,
        in_use: flags & 0x0001 != 0,
        is_dir: flags & 0x0002 != 0,
        base_record,
        base_sequence,
        // NT4/2000 records put the update sequence array at 0x2A, where XP+ keeps the
        // record number at 0x2C and the array at 0x30.
        record_number: if usa_offset >= 0x30 {
            u32_at(bytes, 0x2C)
        } else {
            None
        },
        used_size: u32_at(bytes, 0x18).ok_or_else(short)?,
        allocated_size: u32_at(bytes, 0x1C).ok_or_else(short)?,
        first_attribute: u16_at(bytes, 0x14).ok_or_else(short)?,
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
    let header = parse_header(bytes, number)?;
    let mut problems = Vec::new();
    if !header.signature_ok {
        problems.push(format!("MFT record {number}: marked BAAD (damaged)"));
        return Ok((
            MftRecord {
                number,
                header,
                attributes: Vec::new(),
            },
            problems,
        ));
    }
    apply_fixups(bytes, sector_size, number)?;
    let bytes: &[u8] = bytes;
    // Only for records in use: mkntfs leaves 0 there in the free reserved records 16-23.
    if let Some(stored) = header.record_number
        && header.in_use
        && u64::from(stored) != number & 0xFFFF_FFFF
    {
        problems.push(format!(
            "MFT record {number}: header says it is record {stored}"
        ));
    }
    let mut limit = bytes.len();
    let used = header.used_size as usize;
    if used > bytes.len() {
        problems.push(format!(
            "MFT record {number}: used size {used} beyond the record length {}",
            bytes.len()
        ));
    } else {
        limit = used;
    }
    let mut attributes = Vec::new();
    let mut off = usize::from(header.first_attribute);
    loop {
        let Some(type_code) = u32_at(bytes, off).filter(|_| off + 4 <= limit) else {
            problems.push(
                NtfsError::AttributeOutOfBounds {
                    record: number,
                    offset: off,
                    reason: format!("no end marker before the used size {limit}"),
                }
                .to_string(),
            );
            break;
        };
        if type_code == ATTR_END {
            break;
        }
        match parse_attribute(bytes, off, limit, number) {
            Ok((attr, len)) => {
                attributes.push(attr);
                off += len;
            }
            Err(e) => {
                problems.push(e.to_string());
                break;
            }
        }
    }
    Ok((
        MftRecord {
            number,
            header,
            attributes,
        },
        problems,
    ))
}

/// Parse the attribute at `off`; returns it and its length.
fn parse_attribute(
    rec: &[u8],
    off: usize,
    limit: usize,
    number: u64,
) -> Result<(Attribute, usize), NtfsError> {
    let oob = |reason: String| NtfsError::AttributeOutOfBounds {
        record: number,
        offset: off,
        reason,
    };
    let field = |what: &str| oob(format!("{what} out of the attribute"));
    let len = u32_at(rec, off + 4).ok_or_else(|| field("length"))? as usize;
    if len < 0x18 || !len.is_multiple_of(8) {
        return Err(oob(format!("length {len}")));
    }
    let end = off
        .checked_add(len)
        .filter(|&e| e <= limit)
        .ok_or_else(|| oob(format!("length {len} runs past the used size {limit}")))?;
    let a = rec.get(off..end).ok_or_else(|| field("body"))?;
    let type_code = u32_at(a, 0).ok_or_else(|| field("type"))?;
    let non_resident = u8_at(a, 8).ok_or_else(|| field("form"))?;
    let name_chars = usize::from(u8_at(a, 9).ok_or_else(|| field("name length"))?);
    let name_off = usize::from(u16_at(a, 0x0A).ok_or_else(|| field("name offset"))?);
    let flags = u16_at(a, 0x0C).ok_or_else(|| field("flags"))?;
    let id = u16_at(a, 0x0E).ok_or_else(|| field("id"))?;
    let name = if name_chars == 0 {
        String::new()
    } else {
        utf16_at(a, name_off, name_chars).ok_or_else(|| field("name"))?
    };
    let body = match non_resident {
        0 => {
            let value_len = u32_at(a, 0x10).ok_or_else(|| field("value length"))? as usize;
            let value_off = usize::from(u16_at(a, 0x14).ok_or_else(|| field("value offset"))?);
            let data = value_off
                .checked_add(value_len)
                .and_then(|value_end| a.get(value_off..value_end))
                .ok_or_else(|| {
                    oob(format!(
                        "resident value ({value_len} bytes at {value_off:#x}) past the attribute length {len}"
                    ))
                })?;
            AttrBody::Resident {
                data: data.to_vec(),
            }
        }
        1 => {
            let start_vcn = u64_at(a, 0x10).ok_or_else(|| field("start VCN"))?;
            let last_vcn = u64_at(a, 0x18).ok_or_else(|| field("last VCN"))?;
            let runs_off = usize::from(u16_at(a, 0x20).ok_or_else(|| field("run list offset"))?);
            let compression_unit = u16_at(a, 0x22).ok_or_else(|| field("compression unit"))?;
            let allocated_size = u64_at(a, 0x28).ok_or_else(|| field("allocated size"))?;
            let data_size = u64_at(a, 0x30).ok_or_else(|| field("data size"))?;
            let initialized_size = u64_at(a, 0x38).ok_or_else(|| field("initialized size"))?;
            if runs_off < 0x40 {
                return Err(NtfsError::BadRunList {
                    record: number,
                    offset: off,
                    reason: format!("run list offset {runs_off:#x} inside the header"),
                });
            }
            let run_bytes = a.get(runs_off..).ok_or_else(|| NtfsError::BadRunList {
                record: number,
                offset: off,
                reason: format!("run list offset {runs_off:#x} past the attribute length {len}"),
            })?;
            let runs = decode_runs(run_bytes).map_err(|reason| NtfsError::BadRunList {
                record: number,
                offset: off,
                reason,
            })?;
            AttrBody::NonResident {
                start_vcn,
                last_vcn,
                allocated_size,
                data_size,
                initialized_size,
                compression_unit: u8::try_from(compression_unit).unwrap_or(u8::MAX),
                runs,
            }
        }
        other => {
            return Err(oob(format!(
                "form code {other} is neither resident nor not"
            )));
        }
    };
    Ok((
        Attribute {
            type_code,
            name,
            id,
            flags,
            body,
            offset_in_record: off,
        },
        len,
    ))
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lcn {
            Some(lcn) => write!(f, "{}@{}", self.length, lcn),
            None => write!(f, "{}@sparse", self.length),
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
    fn runs_positive_negative_sparse() {
        let runs = decode_runs(&[0x21, 0x10, 0x00, 0x01, 0x01, 0x08, 0x11, 0x02, 0x80, 0x00])
            .expect("valid runs");
        assert_eq!(
            runs,
            vec![
                Run {
                    lcn: Some(0x100),
                    length: 0x10
                },
                Run {
                    lcn: None,
                    length: 8
                },
                Run {
                    lcn: Some(0x100 - 128),
                    length: 2
                },
            ]
        );
        // Two-byte negative delta and an 8-byte field.
        let runs = decode_runs(&[0x31, 0x01, 0x00, 0x00, 0x10, 0x21, 0x01, 0x00, 0xF0, 0x00])
            .expect("valid");
        assert_eq!(runs[1].lcn, Some(0x10_0000 - 0x1000));
        assert_eq!(decode_runs(&[0x00]).expect("empty"), vec![]);
    }

    #[test]
    fn runs_rejected() {
        assert!(decode_runs(&[]).is_err(), "no terminator");
        assert!(decode_runs(&[0x11, 0x04]).is_err(), "truncated");
        assert!(
            decode_runs(&[0x11, 0x04, 0x10]).is_err(),
            "missing terminator"
        );
        assert!(decode_runs(&[0x11, 0x00, 0x10, 0x00]).is_err(), "length 0");
        assert!(
            decode_runs(&[0x10, 0x10, 0x00]).is_err(),
            "length field size 0"
        );
        assert!(
            decode_runs(&[0x11, 0x04, 0xF0, 0x00]).is_err(),
            "negative LCN"
        );
        let mut absurd = vec![0x08];
        absurd.extend_from_slice(&[0xFF; 8]);
        absurd.push(0);
        assert!(decode_runs(&absurd).is_err(), "absurd length");
        assert!(decode_runs(&[0x91, 0x01]).is_err(), "offset size 9");
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
    fn attribute_list_resident() {
        let mut entry = vec![0u8; 0x20];
        entry[0..4].copy_from_slice(&ATTR_DATA.to_le_bytes());
        entry[4..6].copy_from_slice(&0x20u16.to_le_bytes());
        entry[6] = 2;
        entry[7] = 0x1A;
        entry[0x10..0x18].copy_from_slice(&(77u64 | (3u64 << 48)).to_le_bytes());
        entry[0x18..0x1A].copy_from_slice(&6u16.to_le_bytes());
        entry[0x1A..0x1E].copy_from_slice(&utf16("ab"));
        let mut value = entry.clone();
        value.extend_from_slice(&[0xFF; 7]); // a damaged tail entry ends the list
        let attr = Attribute {
            type_code: ATTR_ATTRIBUTE_LIST,
            name: String::new(),
            id: 0,
            flags: 0,
            body: AttrBody::Resident { data: value },
            offset_in_record: 0,
        };
        let list = attr.attribute_list().expect("resident list");
        assert_eq!(
            list,
            vec![AttributeListEntry {
                type_code: ATTR_DATA,
                start_vcn: 0,
                record: 77,
                sequence: 3,
                id: 6,
                name: "ab".to_string(),
            }]
        );
    }

    #[test]
    fn broken_attribute_keeps_earlier_ones() {
        let mut r = sample_record();
        apply_fixups(&mut r, 512, 42).expect("fixups");
        // Break the third attribute's length (offset 0x38 + $SI + first $FN).
        let si_len = u32_at(&r, 0x3C).expect("len") as usize;
        let fn_len = u32_at(&r, 0x38 + si_len + 4).expect("len") as usize;
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
    fn boot_sector() {
        let mut s = vec![0u8; 512];
        s[3..11].copy_from_slice(b"NTFS    ");
        s[0x0B..0x0D].copy_from_slice(&512u16.to_le_bytes());
        s[0x0D] = 8;
        s[0x28..0x30].copy_from_slice(&16383u64.to_le_bytes());
        s[0x30..0x38].copy_from_slice(&4u64.to_le_bytes());
        s[0x38..0x40].copy_from_slice(&1023u64.to_le_bytes());
        s[0x40] = 0xF6; // -10 → 1024
        s[0x44] = 1; // one cluster → 4096
        s[0x48..0x50].copy_from_slice(&0xDEAD_BEEFu64.to_le_bytes());
        s[0x1FE] = 0x55;
        s[0x1FF] = 0xAA;
        let b = BootSector::parse(&s).expect("valid");
        assert_eq!(b.cluster_size, 4096);
        assert_eq!((b.record_size, b.index_record_size), (1024, 4096));
        assert_eq!((b.mft_lcn, b.mftmirr_lcn, b.serial), (4, 1023, 0xDEAD_BEEF));
        // 2^-n encoding of sectors per cluster: 0xFC → 16 sectors.
        let mut big = s.clone();
        big[0x0D] = 0xFC;
        let b = BootSector::parse(&big).expect("valid");
        assert_eq!((b.sectors_per_cluster, b.cluster_size), (16, 8192));
        for (off, value) in [
            (3usize, b'X'),
            (0x1FE, 0),
            (0x0C, 0x03),
            (0x0D, 3),
            (0x40, 0x20),
        ] {
            let mut bad = s.clone();
            bad[off] = value;
            assert!(BootSector::parse(&bad).is_err(), "offset {off:#x}");
        }
        assert!(BootSector::parse(&s[..100]).is_err());
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
