//! Attributes of an MFT record: the attribute header (resident or non-resident, name,
//! flags) and the small resident values the scanner decodes ($STANDARD_INFORMATION,
//! $FILE_NAME, $ATTRIBUTE_LIST).
//!
//! Every function takes bytes from the evidence and never panics on them: all reads are
//! bounds-checked, and no allocation is sized by a value read from the evidence unless
//! that value is capped by the real length of the input.

use super::record::{NtfsError, split_reference};
use super::runs::{Run, check_runs, decode_runs};
use crate::bytes::{u16_le, u32_le, u64_le, utf16_at, utf16_lossy};

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

/// An attribute where it lies in its record: its header read, its name and value
/// borrowed (the walk of every record reads these without copying anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrRef<'a> {
    pub type_code: u32,
    /// The name as stored (UTF-16LE); empty for the unnamed stream.
    pub name: &'a [u8],
    pub id: u16,
    pub flags: u16,
    pub body: BodyRef<'a>,
    pub offset_in_record: usize,
}

/// [`AttrBody`] borrowed: a resident value, or a non-resident header with its run list
/// as stored (already checked to decode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRef<'a> {
    Resident(&'a [u8]),
    NonResident {
        start_vcn: u64,
        last_vcn: u64,
        allocated_size: u64,
        data_size: u64,
        initialized_size: u64,
        compression_unit: u8,
        runs: &'a [u8],
    },
}

impl<'a> AttrRef<'a> {
    pub fn resident_data(&self) -> Option<&'a [u8]> {
        match self.body {
            BodyRef::Resident(data) => Some(data),
            BodyRef::NonResident { .. } => None,
        }
    }

    /// The `$FILE_NAME` value, decoded.
    pub fn file_name(&self) -> Option<FileName> {
        if self.type_code != ATTR_FILE_NAME {
            return None;
        }
        file_name_of(self.resident_data()?)
    }

    /// The attribute owned (name decoded, value copied, runs decoded). `number` names
    /// the record in the error of a run list that does not decode (never, for an
    /// attribute from [`parse_attribute_ref`]: its runs were checked).
    pub fn to_attribute(&self, number: u64) -> Result<Attribute, NtfsError> {
        let body = match self.body {
            BodyRef::Resident(data) => AttrBody::Resident {
                data: data.to_vec(),
            },
            BodyRef::NonResident {
                start_vcn,
                last_vcn,
                allocated_size,
                data_size,
                initialized_size,
                compression_unit,
                runs,
            } => AttrBody::NonResident {
                start_vcn,
                last_vcn,
                allocated_size,
                data_size,
                initialized_size,
                compression_unit,
                runs: decode_runs(runs).map_err(|reason| NtfsError::BadRunList {
                    record: number,
                    offset: self.offset_in_record,
                    reason,
                })?,
            },
        };
        Ok(Attribute {
            type_code: self.type_code,
            name: utf16_lossy(self.name),
            id: self.id,
            flags: self.flags,
            body,
            offset_in_record: self.offset_in_record,
        })
    }
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
            created: u64_le(d, 0x00)?,
            modified: u64_le(d, 0x08)?,
            mft_changed: u64_le(d, 0x10)?,
            accessed: u64_le(d, 0x18)?,
            file_attributes: u32_le(d, 0x20)?,
        })
    }

    pub fn file_name(&self) -> Option<FileName> {
        if self.type_code != ATTR_FILE_NAME {
            return None;
        }
        file_name_of(self.resident_data()?)
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

/// A `$FILE_NAME` value: `None` when it is too short for its fields or its name.
fn file_name_of(d: &[u8]) -> Option<FileName> {
    let (parent_record, parent_sequence) = split_reference(u64_le(d, 0x00)?);
    let chars = usize::from(d.get(0x40).copied()?);
    Some(FileName {
        parent_record,
        parent_sequence,
        created: u64_le(d, 0x08)?,
        modified: u64_le(d, 0x10)?,
        mft_changed: u64_le(d, 0x18)?,
        accessed: u64_le(d, 0x20)?,
        allocated_size: u64_le(d, 0x28)?,
        data_size: u64_le(d, 0x30)?,
        flags: u32_le(d, 0x38)?,
        namespace: d.get(0x41).copied()?,
        name: utf16_at(d, 0x42, chars)?,
    })
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
        let Some(len) = u16_le(d, off + 4).map(usize::from) else {
            break;
        };
        entries.push(entry);
        off += len;
    }
    entries
}

fn parse_attribute_list_entry(d: &[u8], off: usize) -> Option<AttributeListEntry> {
    let len = usize::from(u16_le(d, off.checked_add(4)?)?);
    if len < 0x1A || off.checked_add(len)? > d.len() {
        return None;
    }
    let e = d.get(off..off + len)?;
    let name_chars = usize::from(e.get(6).copied()?);
    let name_off = usize::from(e.get(7).copied()?);
    let name = if name_chars == 0 {
        String::new()
    } else {
        utf16_at(e, name_off, name_chars)?
    };
    let (record, sequence) = split_reference(u64_le(e, 0x10)?);
    Some(AttributeListEntry {
        type_code: u32_le(e, 0)?,
        start_vcn: u64_le(e, 0x08)?,
        record,
        sequence,
        id: u16_le(e, 0x18)?,
        name,
    })
}

/// Read the attribute at `off` in place; returns it and its length. Every field is
/// checked to lie within the attribute and the attribute within `limit`, and a run
/// list is walked to its end (not kept: [`AttrRef::to_attribute`] decodes it).
pub(super) fn parse_attribute_ref(
    rec: &[u8],
    off: usize,
    limit: usize,
    number: u64,
) -> Result<(AttrRef<'_>, usize), NtfsError> {
    let oob = |reason: String| NtfsError::AttributeOutOfBounds {
        record: number,
        offset: off,
        reason,
    };
    let field = |what: &str| oob(format!("{what} out of the attribute"));
    let len = u32_le(rec, off + 4).ok_or_else(|| field("length"))? as usize;
    if len < 0x18 || !len.is_multiple_of(8) {
        return Err(oob(format!("length {len}")));
    }
    let end = off
        .checked_add(len)
        .filter(|&e| e <= limit)
        .ok_or_else(|| oob(format!("length {len} runs past the used size {limit}")))?;
    let a = rec.get(off..end).ok_or_else(|| field("body"))?;
    let type_code = u32_le(a, 0).ok_or_else(|| field("type"))?;
    let non_resident = a.get(8).copied().ok_or_else(|| field("form"))?;
    let name_chars = usize::from(a.get(9).copied().ok_or_else(|| field("name length"))?);
    let name_off = usize::from(u16_le(a, 0x0A).ok_or_else(|| field("name offset"))?);
    let flags = u16_le(a, 0x0C).ok_or_else(|| field("flags"))?;
    let id = u16_le(a, 0x0E).ok_or_else(|| field("id"))?;
    let name: &[u8] = if name_chars == 0 {
        &[]
    } else {
        name_off
            .checked_add(name_chars * 2)
            .and_then(|name_end| a.get(name_off..name_end))
            .ok_or_else(|| field("name"))?
    };
    let body = match non_resident {
        0 => {
            let value_len = u32_le(a, 0x10).ok_or_else(|| field("value length"))? as usize;
            let value_off = usize::from(u16_le(a, 0x14).ok_or_else(|| field("value offset"))?);
            let data = value_off
                .checked_add(value_len)
                .and_then(|value_end| a.get(value_off..value_end))
                .ok_or_else(|| {
                    oob(format!(
                        "resident value ({value_len} bytes at {value_off:#x}) past the attribute length {len}"
                    ))
                })?;
            BodyRef::Resident(data)
        }
        1 => {
            let start_vcn = u64_le(a, 0x10).ok_or_else(|| field("start VCN"))?;
            let last_vcn = u64_le(a, 0x18).ok_or_else(|| field("last VCN"))?;
            let runs_off = usize::from(u16_le(a, 0x20).ok_or_else(|| field("run list offset"))?);
            let compression_unit = u16_le(a, 0x22).ok_or_else(|| field("compression unit"))?;
            let allocated_size = u64_le(a, 0x28).ok_or_else(|| field("allocated size"))?;
            let data_size = u64_le(a, 0x30).ok_or_else(|| field("data size"))?;
            let initialized_size = u64_le(a, 0x38).ok_or_else(|| field("initialized size"))?;
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
            check_runs(run_bytes).map_err(|reason| NtfsError::BadRunList {
                record: number,
                offset: off,
                reason,
            })?;
            BodyRef::NonResident {
                start_vcn,
                last_vcn,
                allocated_size,
                data_size,
                initialized_size,
                compression_unit: u8::try_from(compression_unit).unwrap_or(u8::MAX),
                runs: run_bytes,
            }
        }
        other => {
            return Err(oob(format!(
                "form code {other} is neither resident nor not"
            )));
        }
    };
    Ok((
        AttrRef {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
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
}
