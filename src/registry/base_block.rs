//! The base block (file header) of a registry hive: parsing, validation, checksum.
//!
//! Written from Maxim Suhanov's "Windows registry file format specification". `nt-hive`
//! panics on data that does not start with `regf` and on a root cell offset of 0xFFFFFFFF,
//! and refuses dirty hives; this module checks those fields first, and gives the
//! in-memory copy of a hive a clean base block once transaction logs were replayed
//! (see [`super::replay`]). Evidence is never modified: everything works on `&[u8]`
//! or on a caller's own copy.

use crate::bytes::{array, u32_le, u64_le, utf16_until_nul};

/// Length of the base block of a primary file.
pub const BASE_BLOCK_LEN: usize = 4096;
/// File offset where the hive bins data starts; cell offsets are relative to it.
pub const HBIN_START: usize = 4096;
/// Length of the part of the base block that is copied into transaction logs.
pub const LOG_BASE_BLOCK_LEN: usize = 512;

pub(crate) const OFF_SIGNATURE: usize = 0x00;
pub(crate) const OFF_PRIMARY_SEQ: usize = 0x04;
pub(crate) const OFF_SECONDARY_SEQ: usize = 0x08;
pub(crate) const OFF_LAST_WRITTEN: usize = 0x0C;
pub(crate) const OFF_MAJOR: usize = 0x14;
pub(crate) const OFF_MINOR: usize = 0x18;
pub(crate) const OFF_FILE_TYPE: usize = 0x1C;
pub(crate) const OFF_FILE_FORMAT: usize = 0x20;
pub(crate) const OFF_ROOT_CELL: usize = 0x24;
pub(crate) const OFF_DATA_SIZE: usize = 0x28;
pub(crate) const OFF_CLUSTERING: usize = 0x2C;
pub(crate) const OFF_FILE_NAME: usize = 0x30;
pub(crate) const FILE_NAME_LEN: usize = 64;
pub(crate) const OFF_FLAGS: usize = 0x90;
pub(crate) const OFF_CHECKSUM: usize = 0x1FC;

/// Hive bins data sizes and bin sizes are multiples of this.
pub(crate) const HBIN_ALIGN: u32 = 4096;

const SIGNATURE: &[u8; 4] = crate::signature::REGF;

/// Problems that make a hive's base block unusable. Every message is one line and names
/// the file offset of the faulty field in hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HiveError {
    #[error("file is only {len} bytes, a base block needs {needed} (at 0x0)")]
    TooShort { len: usize, needed: usize },
    #[error("bad signature {found:02x?} at {offset:#x}, expected \"regf\"")]
    BadSignature { offset: usize, found: [u8; 4] },
    #[error(
        "root cell offset {value:#x} at {offset:#x} is not inside the hive bins data ({data_size:#x} bytes)"
    )]
    BadRootCell {
        offset: usize,
        value: u32,
        data_size: u32,
    },
    #[error("hive bins data size {size:#x} at {offset:#x} is not a multiple of 4096")]
    DataSizeMisaligned { offset: usize, size: u32 },
    #[error(
        "hive bins data size {size:#x} at {offset:#x} runs past the end of the {file_len}-byte file (truncated hive?)"
    )]
    DataSizeOutOfRange {
        offset: usize,
        size: u32,
        file_len: usize,
    },
}

impl HiveError {
    /// File offset of the faulty field.
    pub fn offset(&self) -> usize {
        match self {
            HiveError::TooShort { .. } => 0,
            HiveError::BadSignature { offset, .. }
            | HiveError::BadRootCell { offset, .. }
            | HiveError::DataSizeMisaligned { offset, .. }
            | HiveError::DataSizeOutOfRange { offset, .. } => *offset,
        }
    }
}

/// The fields of a base block, as read (no field is corrected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseBlock {
    pub primary_seq: u32,
    pub secondary_seq: u32,
    /// FILETIME at 0x0C.
    pub last_written: u64,
    /// 0x14.
    pub major: u32,
    /// 0x18.
    pub minor: u32,
    /// 0 primary file, 1 (2 on Windows 2000) old-format log, 6 new-format log.
    pub file_type: u32,
    pub file_format: u32,
    /// 0x24, relative to the start of the hive bins data.
    pub root_cell_offset: u32,
    /// 0x28.
    pub hive_bins_data_size: u32,
    pub clustering_factor: u32,
    /// 0x30, UTF-16LE, 64 bytes, decoded lossily up to the first NUL.
    pub file_name: String,
    /// 0x1FC.
    pub stored_checksum: u32,
    /// XOR-32 of the first 508 bytes, see [`checksum`].
    pub computed_checksum: u32,
}

impl BaseBlock {
    /// Parse and validate the base block of a primary file, `bytes` being the whole file:
    /// length >= 4096, signature `regf` (nt-hive panics on anything else), hive bins data
    /// size a multiple of 4096 and inside the file, root cell offset not 0xFFFFFFFF
    /// (nt-hive panics on it) and inside the hive bins data.
    ///
    /// A bad checksum is NOT an error (see [`BaseBlock::checksum_ok`]): Windows tolerates
    /// some, and damaged evidence must still be read.
    pub fn parse(bytes: &[u8]) -> Result<BaseBlock, HiveError> {
        if bytes.len() < BASE_BLOCK_LEN {
            // Report a wrong signature first: it says more about what the data is.
            if let Some(found) = array::<4>(bytes, OFF_SIGNATURE)
                && &found != SIGNATURE
            {
                return Err(HiveError::BadSignature {
                    offset: OFF_SIGNATURE,
                    found,
                });
            }
            return Err(HiveError::TooShort {
                len: bytes.len(),
                needed: BASE_BLOCK_LEN,
            });
        }
        let bb = Self::parse_header(bytes)?;
        let available = bytes.len() - HBIN_START;
        if bb.hive_bins_data_size as usize > available {
            return Err(HiveError::DataSizeOutOfRange {
                offset: OFF_DATA_SIZE,
                size: bb.hive_bins_data_size,
                file_len: bytes.len(),
            });
        }
        Ok(bb)
    }

    /// Parse and validate only the first 512 bytes (all a transaction log keeps of a base
    /// block): signature, hive bins data size alignment, root cell inside the hive bins
    /// data. Does not look at the length of the hive bins data actually present.
    pub fn parse_header(bytes: &[u8]) -> Result<BaseBlock, HiveError> {
        let found = array::<4>(bytes, OFF_SIGNATURE).ok_or(HiveError::TooShort {
            len: bytes.len(),
            needed: LOG_BASE_BLOCK_LEN,
        })?;
        if &found != SIGNATURE {
            return Err(HiveError::BadSignature {
                offset: OFF_SIGNATURE,
                found,
            });
        }
        let header = bytes.get(..LOG_BASE_BLOCK_LEN).ok_or(HiveError::TooShort {
            len: bytes.len(),
            needed: LOG_BASE_BLOCK_LEN,
        })?;
        // `header` is 512 bytes long: every read below is in bounds, `unwrap_or(0)` never used.
        let u32_at = |off: usize| u32_le(header, off).unwrap_or(0);
        let hive_bins_data_size = u32_at(OFF_DATA_SIZE);
        if !hive_bins_data_size.is_multiple_of(HBIN_ALIGN) {
            return Err(HiveError::DataSizeMisaligned {
                offset: OFF_DATA_SIZE,
                size: hive_bins_data_size,
            });
        }
        let root_cell_offset = u32_at(OFF_ROOT_CELL);
        if root_cell_offset == u32::MAX || root_cell_offset >= hive_bins_data_size {
            return Err(HiveError::BadRootCell {
                offset: OFF_ROOT_CELL,
                value: root_cell_offset,
                data_size: hive_bins_data_size,
            });
        }
        let file_name = header
            .get(OFF_FILE_NAME..OFF_FILE_NAME + FILE_NAME_LEN)
            .map(utf16_until_nul)
            .unwrap_or_default();
        Ok(BaseBlock {
            primary_seq: u32_at(OFF_PRIMARY_SEQ),
            secondary_seq: u32_at(OFF_SECONDARY_SEQ),
            last_written: u64_le(header, OFF_LAST_WRITTEN).unwrap_or(0),
            major: u32_at(OFF_MAJOR),
            minor: u32_at(OFF_MINOR),
            file_type: u32_at(OFF_FILE_TYPE),
            file_format: u32_at(OFF_FILE_FORMAT),
            root_cell_offset,
            hive_bins_data_size,
            clustering_factor: u32_at(OFF_CLUSTERING),
            file_name,
            stored_checksum: u32_at(OFF_CHECKSUM),
            computed_checksum: checksum(header),
        })
    }

    /// The primary and secondary sequence numbers differ: a write was interrupted, and
    /// the latest data may be in the transaction logs.
    pub fn is_dirty(&self) -> bool {
        self.primary_seq != self.secondary_seq
    }

    pub fn checksum_ok(&self) -> bool {
        self.stored_checksum == self.computed_checksum
    }
}

/// XOR-32 checksum of the first 508 bytes (127 little-endian dwords), with Windows'
/// special cases: a result of 0 becomes 1, 0xFFFFFFFF becomes 0xFFFFFFFE. Bytes missing
/// from a shorter `block` count as zeros.
pub fn checksum(block: &[u8]) -> u32 {
    let covered = block.get(..OFF_CHECKSUM).unwrap_or(block);
    let mut sum = 0u32;
    for chunk in covered.chunks(4) {
        let mut dword = [0u8; 4];
        dword[..chunk.len()].copy_from_slice(chunk);
        sum ^= u32::from_le_bytes(dword);
    }
    match sum {
        0 => 1,
        u32::MAX => u32::MAX - 1,
        other => other,
    }
}

/// Make the in-memory copy's base block clean: secondary sequence number = primary
/// sequence number, checksum rewritten, so that `nt_hive::Hive::new` accepts it.
/// Does nothing on a slice shorter than 512 bytes.
/// Would [`mark_clean`] leave `hive` as it is (equal sequence numbers, checksum right)?
pub fn is_marked_clean(hive: &[u8]) -> bool {
    if hive.len() < LOG_BASE_BLOCK_LEN {
        return true;
    }
    u32_le(hive, OFF_PRIMARY_SEQ) == u32_le(hive, OFF_SECONDARY_SEQ)
        && u32_le(hive, OFF_CHECKSUM) == Some(checksum(hive))
}

pub fn mark_clean(hive: &mut [u8]) {
    if hive.len() < LOG_BASE_BLOCK_LEN {
        return;
    }
    let primary = u32_le(hive, OFF_PRIMARY_SEQ).unwrap_or(0);
    write_u32(hive, OFF_SECONDARY_SEQ, primary);
    let sum = checksum(hive);
    write_u32(hive, OFF_CHECKSUM, sum);
}

/// Writes `value` at `off` if the four bytes exist; returns whether it did.
pub(crate) fn write_u32(bytes: &mut [u8], off: usize, value: u32) -> bool {
    match off.checked_add(4).and_then(|end| bytes.get_mut(off..end)) {
        Some(dst) => {
            dst.copy_from_slice(&value.to_le_bytes());
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid primary file: base block + one 4096-byte hive bin (content unused).
    fn minimal_hive() -> Vec<u8> {
        let mut h = vec![0u8; BASE_BLOCK_LEN + 4096];
        h[..4].copy_from_slice(b"regf");
        write_u32(&mut h, OFF_PRIMARY_SEQ, 7);
        write_u32(&mut h, OFF_SECONDARY_SEQ, 7);
        write_u32(&mut h, OFF_MAJOR, 1);
        write_u32(&mut h, OFF_MINOR, 5);
        write_u32(&mut h, OFF_FILE_FORMAT, 1);
        write_u32(&mut h, OFF_ROOT_CELL, 0x20);
        write_u32(&mut h, OFF_DATA_SIZE, 4096);
        write_u32(&mut h, OFF_CLUSTERING, 1);
        for (i, u) in "SYSTEM".encode_utf16().enumerate() {
            h[OFF_FILE_NAME + 2 * i..OFF_FILE_NAME + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        h[HBIN_START..HBIN_START + 4].copy_from_slice(b"hbin");
        let sum = checksum(&h);
        write_u32(&mut h, OFF_CHECKSUM, sum);
        h
    }

    #[test]
    fn checksum_special_cases() {
        // All zeros XOR to 0, which Windows stores as 1.
        assert_eq!(checksum(&[0u8; 512]), 1);
        // A lone 0xFFFFFFFF XORs to 0xFFFFFFFF, stored as 0xFFFFFFFE.
        let mut b = [0u8; 512];
        b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(checksum(&b), 0xFFFF_FFFE);
        // Ordinary case: XOR of the dwords; the checksum field itself and bytes after it
        // are not covered.
        let mut b = [0u8; 512];
        b[0..4].copy_from_slice(&0x1234_5678u32.to_le_bytes());
        b[4..8].copy_from_slice(&0x0000_FFFFu32.to_le_bytes());
        b[0x1FC..0x200].copy_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
        assert_eq!(checksum(&b), 0x1234_5678 ^ 0x0000_FFFF);
        // 0x1F8 is the last dword covered.
        b[0x1F8..0x1FC].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(checksum(&b), 0x1234_5678 ^ 0x0000_FFFF ^ 1);
        // Short input: missing bytes are zeros, no panic.
        assert_eq!(checksum(&[1, 0, 0, 0, 2]), 1 ^ 2);
        assert_eq!(checksum(&[]), 1);
    }

    #[test]
    fn parse_valid_and_fields() {
        let h = minimal_hive();
        let bb = BaseBlock::parse(&h).unwrap();
        assert_eq!(bb.primary_seq, 7);
        assert_eq!(bb.root_cell_offset, 0x20);
        assert_eq!(bb.hive_bins_data_size, 4096);
        assert_eq!(bb.file_name, "SYSTEM");
        assert_eq!((bb.major, bb.minor), (1, 5));
        assert!(bb.checksum_ok());
        assert!(!bb.is_dirty());
    }

    #[test]
    fn bad_checksum_is_not_an_error() {
        let mut h = minimal_hive();
        h[0x40] ^= 0xFF;
        let bb = BaseBlock::parse(&h).unwrap();
        assert!(!bb.checksum_ok());
        mark_clean(&mut h);
        assert!(BaseBlock::parse(&h).unwrap().checksum_ok());
    }

    #[test]
    fn mark_clean_fixes_sequence_and_checksum() {
        let mut h = minimal_hive();
        write_u32(&mut h, OFF_PRIMARY_SEQ, 9);
        let bb = BaseBlock::parse(&h).unwrap();
        assert!(bb.is_dirty());
        assert!(!bb.checksum_ok());
        mark_clean(&mut h);
        let bb = BaseBlock::parse(&h).unwrap();
        assert_eq!((bb.primary_seq, bb.secondary_seq), (9, 9));
        assert!(bb.checksum_ok());
        // Too short: no panic, nothing written.
        let mut tiny = [1u8; 100];
        mark_clean(&mut tiny);
        assert_eq!(tiny, [1u8; 100]);
    }

    #[test]
    fn parse_errors_name_offsets() {
        let h = minimal_hive();

        let e = BaseBlock::parse(&h[..100]).unwrap_err();
        assert_eq!(
            e,
            HiveError::TooShort {
                len: 100,
                needed: 4096
            }
        );

        let mut bad = h.clone();
        bad[..4].copy_from_slice(b"hbin");
        let e = BaseBlock::parse(&bad).unwrap_err();
        assert_eq!(
            e,
            HiveError::BadSignature {
                offset: 0,
                found: *b"hbin"
            }
        );
        assert!(e.to_string().contains("at 0x0"), "{e}");
        // A short file that is not a hive at all reports the signature.
        assert!(matches!(
            BaseBlock::parse(&bad[..10]),
            Err(HiveError::BadSignature { .. })
        ));
        assert!(matches!(
            BaseBlock::parse(&[]),
            Err(HiveError::TooShort { .. })
        ));

        let mut bad = h.clone();
        write_u32(&mut bad, OFF_ROOT_CELL, u32::MAX);
        let e = BaseBlock::parse(&bad).unwrap_err();
        assert!(matches!(
            e,
            HiveError::BadRootCell {
                offset: 0x24,
                value: u32::MAX,
                ..
            }
        ));
        assert!(e.to_string().contains("at 0x24"), "{e}");

        let mut bad = h.clone();
        write_u32(&mut bad, OFF_ROOT_CELL, 4096);
        assert!(matches!(
            BaseBlock::parse(&bad),
            Err(HiveError::BadRootCell { .. })
        ));

        let mut bad = h.clone();
        write_u32(&mut bad, OFF_DATA_SIZE, 4097);
        let e = BaseBlock::parse(&bad).unwrap_err();
        assert_eq!(
            e,
            HiveError::DataSizeMisaligned {
                offset: 0x28,
                size: 4097
            }
        );
        assert!(e.to_string().contains("at 0x28"), "{e}");

        let mut bad = h.clone();
        write_u32(&mut bad, OFF_DATA_SIZE, 8192);
        let e = BaseBlock::parse(&bad).unwrap_err();
        assert_eq!(
            e,
            HiveError::DataSizeOutOfRange {
                offset: 0x28,
                size: 8192,
                file_len: 8192
            }
        );
        // ... but the header alone is fine (a log's copy does not come with the bins).
        assert!(BaseBlock::parse_header(&bad).is_ok());
        assert!(BaseBlock::parse_header(&bad[..512]).is_ok());
        assert!(matches!(
            BaseBlock::parse_header(&bad[..511]),
            Err(HiveError::TooShort {
                len: 511,
                needed: 512
            })
        ));
    }
}
