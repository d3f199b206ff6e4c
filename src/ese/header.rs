//! The database file header: page 0, and its copy in page 1 (the "shadow" header).
//! Both are read; the first that is whole and whose checksum matches is used, and a
//! copy that is damaged or disagrees is reported.

use super::checksum::xor32;
use super::error::EseError;
use crate::bytes::u32_le;

/// The header's signature at offset 4.
pub const SIGNATURE: u32 = 0x89ab_cdef;
/// Page sizes ESE writes.
const PAGE_SIZES: [u32; 5] = [2048, 4096, 8192, 16384, 32768];
/// Bytes the header occupies at least (the checksum covers them).
const HEADER_MIN: usize = 668;

/// The database's state when the header was last written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseState {
    JustCreated,
    /// Not shut down cleanly: the transaction logs hold changes not in the file.
    DirtyShutdown,
    CleanShutdown,
    BeingConverted,
    ForceDetach,
    Other(u32),
}

impl DatabaseState {
    fn from_raw(v: u32) -> DatabaseState {
        match v {
            1 => DatabaseState::JustCreated,
            2 => DatabaseState::DirtyShutdown,
            3 => DatabaseState::CleanShutdown,
            4 => DatabaseState::BeingConverted,
            5 => DatabaseState::ForceDetach,
            o => DatabaseState::Other(o),
        }
    }

    pub fn is_clean(self) -> bool {
        self == DatabaseState::CleanShutdown
    }
}

/// The fields of the header that reading needs or an examiner wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// Format version (0x620 for every ESE since Windows 2000).
    pub format_version: u32,
    /// Format revision (decides the checksum and page layouts).
    pub format_revision: u32,
    /// 0 database, 1 streaming file.
    pub file_type: u32,
    pub state: DatabaseState,
    pub page_size: u32,
    /// Windows version that last updated the indexes (major, minor, build, sp).
    pub os_version: (u32, u32, u32, u32),
    /// Which copy was used: 0 the primary, 1 the shadow copy.
    pub copy: u8,
}

impl FileHeader {
    /// Pages of 16 and 32 KiB from revision 0x11 on: 80-byte page header, 15-bit tags
    /// and tag flags inside the values.
    pub fn large_pages(&self) -> bool {
        self.page_size >= 16384 && self.format_revision >= 0x11
    }
}

/// Parse one header copy at `offset` (its checksum covers `len` bytes).
fn parse_copy(data: &[u8], offset: usize, len: usize) -> Result<FileHeader, EseError> {
    let err = |what: String| EseError::Header {
        offset: offset as u64,
        what,
    };
    let h = data
        .get(offset..offset + len)
        .ok_or_else(|| err(format!("file ends before the header's {len} bytes")))?;
    let field = |at: usize| u32_le(h, at).unwrap_or(0);
    if field(4) != SIGNATURE {
        return Err(err(format!(
            "signature {:#010x}, not {SIGNATURE:#010x}",
            field(4)
        )));
    }
    let stored = field(0);
    let computed = xor32(&h[4..], SIGNATURE);
    if stored != computed {
        return Err(err(format!(
            "checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
        )));
    }
    let page_size = field(236);
    if !PAGE_SIZES.contains(&page_size) {
        return Err(err(format!("page size {page_size} is none ESE writes")));
    }
    Ok(FileHeader {
        format_version: field(8),
        format_revision: field(232),
        file_type: field(12),
        state: DatabaseState::from_raw(field(52)),
        page_size,
        os_version: (field(216), field(220), field(224), field(228)),
        copy: (offset != 0) as u8,
    })
}

/// The header of `data`, with problems found in either copy (reported, not fatal while
/// one copy is good).
pub fn read_header(data: &[u8]) -> Result<(FileHeader, Vec<EseError>), EseError> {
    if u32_le(data, 4) != Some(SIGNATURE) && u32_le(data, 4096 + 4) != Some(SIGNATURE) {
        return Err(EseError::NotEse(format!(
            "no signature {SIGNATURE:#010x} at offset 4 (nor in a shadow header at 0x1004)"
        )));
    }
    // The page size says where the copy is; read it from whichever copy has one.
    let size_at = |off: usize| u32_le(data, off + 236).filter(|s| PAGE_SIZES.contains(s));
    let page_size = size_at(0).or_else(|| {
        PAGE_SIZES
            .iter()
            .copied()
            .find(|&s| size_at(s as usize) == Some(s))
    });
    let Some(page_size) = page_size else {
        return Err(EseError::Header {
            offset: 236,
            what: "no valid page size in either header copy".into(),
        });
    };
    let len = (page_size as usize).max(HEADER_MIN);
    let primary = parse_copy(data, 0, len);
    let shadow = parse_copy(data, page_size as usize, len);
    let mut problems = Vec::new();
    match (primary, shadow) {
        (Ok(p), Ok(s)) => {
            if (p.format_revision, p.page_size, p.state)
                != (s.format_revision, s.page_size, s.state)
            {
                problems.push(EseError::Header {
                    offset: u64::from(page_size),
                    what: format!(
                        "shadow header differs from the primary (state {:?} vs {:?}, revision {:#x} vs {:#x})",
                        s.state, p.state, s.format_revision, p.format_revision
                    ),
                });
            }
            Ok((p, problems))
        }
        (Ok(p), Err(e)) => {
            problems.push(e);
            Ok((p, problems))
        }
        (Err(e), Ok(s)) => {
            problems.push(e);
            Ok((s, problems))
        }
        (Err(e), Err(_)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(page_size: u32, state: u32) -> Vec<u8> {
        let mut h = vec![0u8; page_size as usize];
        h[4..8].copy_from_slice(&SIGNATURE.to_le_bytes());
        h[8..12].copy_from_slice(&0x620u32.to_le_bytes());
        h[52..56].copy_from_slice(&state.to_le_bytes());
        h[232..236].copy_from_slice(&0x14u32.to_le_bytes());
        h[236..240].copy_from_slice(&page_size.to_le_bytes());
        let c = xor32(&h[4..], SIGNATURE);
        h[0..4].copy_from_slice(&c.to_le_bytes());
        h
    }

    #[test]
    fn both_copies_good() {
        let mut d = header(4096, 3);
        d.extend(header(4096, 3));
        let (h, problems) = read_header(&d).unwrap();
        assert_eq!(h.page_size, 4096);
        assert!(h.state.is_clean());
        assert_eq!(h.format_revision, 0x14);
        assert!(problems.is_empty());
    }

    #[test]
    fn damaged_primary_falls_back_to_the_shadow_and_says_so() {
        let mut d = header(8192, 2);
        d.extend(header(8192, 2));
        d[300] ^= 1;
        let (h, problems) = read_header(&d).unwrap();
        assert_eq!(h.copy, 1);
        assert_eq!(h.state, DatabaseState::DirtyShutdown);
        assert!(
            problems[0].to_string().contains("checksum mismatch"),
            "{problems:?}"
        );
    }

    #[test]
    fn not_ese() {
        assert!(matches!(
            read_header(&[0u8; 9000]),
            Err(EseError::NotEse(_))
        ));
        assert!(read_header(&[]).is_err());
    }
}
