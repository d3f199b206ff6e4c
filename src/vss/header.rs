//! The VSS volume header, inside the NTFS boot area at volume offset 0x1E00: the VSS
//! identifier, version, record type 1, its own offset (0x1E00, twice), the catalog offset
//! (0 when shadow copies are enabled but none is kept), the maximum diff area size, the
//! volume's identifier and the identifier of the volume that keeps the stores (the same
//! when they are kept on this volume), the application and protection flags.

use super::block::{BLOCK, TYPE_VOLUME_HEADER};
use super::guid::{Guid, VSS_IDENTIFIER};
use crate::bytes::{u32_le, u64_le};

/// Where the header is in the volume.
pub const HEADER_OFFSET: u64 = 0x1E00;
/// The bytes read for it.
pub const HEADER_LEN: usize = 0x80;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeHeader {
    pub version: u32,
    /// Volume offset of the first catalog block; 0: no catalog (no snapshots).
    pub catalog_offset: u64,
    /// The most the diff area may take, 0 when unbounded.
    pub maximum_size: u64,
    pub volume_id: Guid,
    /// The volume keeping the stores: `volume_id` when they are on this volume.
    pub storage_id: Guid,
    pub application_flags: u64,
    pub protection_flags: u32,
}

impl VolumeHeader {
    /// The header in `b` (the bytes at [`HEADER_OFFSET`]): `Ok(None)` when there is no VSS
    /// identifier (shadow copies were never enabled), `Err` with what is wrong when the
    /// identifier is there and the rest does not read.
    pub fn parse(b: &[u8]) -> Result<Option<VolumeHeader>, String> {
        if Guid::at(b, 0) != Some(VSS_IDENTIFIER) {
            return Ok(None);
        }
        let short = || "volume header cut short".to_string();
        let record_type = u32_le(b, 20).ok_or_else(short)?;
        if record_type != TYPE_VOLUME_HEADER {
            return Err(format!("record type {record_type} (expected 1)"));
        }
        let current = u64_le(b, 24).ok_or_else(short)?;
        if current != HEADER_OFFSET {
            return Err(format!(
                "says it is at offset {current} (expected {HEADER_OFFSET})"
            ));
        }
        let catalog_offset = u64_le(b, 48).ok_or_else(short)?;
        if !catalog_offset.is_multiple_of(BLOCK) {
            return Err(format!(
                "catalog offset {catalog_offset} is not a multiple of 16 KiB"
            ));
        }
        Ok(Some(VolumeHeader {
            version: u32_le(b, 16).ok_or_else(short)?,
            catalog_offset,
            maximum_size: u64_le(b, 56).ok_or_else(short)?,
            volume_id: Guid::at(b, 64).ok_or_else(short)?,
            storage_id: Guid::at(b, 80).ok_or_else(short)?,
            application_flags: u64_le(b, 96).ok_or_else(short)?,
            protection_flags: u32_le(b, 124).ok_or_else(short)?,
        }))
    }

    /// Are the stores on this volume?
    pub fn storage_is_local(&self) -> bool {
        self.volume_id == self.storage_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn header(catalog: u64, volume: [u8; 16], storage: [u8; 16]) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        b[..16].copy_from_slice(&VSS_IDENTIFIER.0);
        b[16..20].copy_from_slice(&1u32.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&HEADER_OFFSET.to_le_bytes());
        b[32..40].copy_from_slice(&HEADER_OFFSET.to_le_bytes());
        b[48..56].copy_from_slice(&catalog.to_le_bytes());
        b[64..80].copy_from_slice(&volume);
        b[80..96].copy_from_slice(&storage);
        b
    }

    #[test]
    fn a_header_gives_the_catalog_and_where_the_stores_are() {
        let h = VolumeHeader::parse(&header(0x12ce_8000, [1; 16], [1; 16]))
            .unwrap()
            .unwrap();
        assert_eq!(h.catalog_offset, 0x12ce_8000);
        assert!(h.storage_is_local());
        let remote = VolumeHeader::parse(&header(0, [1; 16], [2; 16]))
            .unwrap()
            .unwrap();
        assert!(!remote.storage_is_local());
    }

    #[test]
    fn no_identifier_is_no_shadow_copies_and_damage_is_an_error() {
        assert_eq!(VolumeHeader::parse(&[0u8; HEADER_LEN]), Ok(None));
        let mut bad = header(0x4000, [1; 16], [1; 16]);
        bad[20] = 7;
        assert!(
            VolumeHeader::parse(&bad)
                .unwrap_err()
                .contains("record type 7")
        );
        let unaligned = header(0x4001, [1; 16], [1; 16]);
        assert!(VolumeHeader::parse(&unaligned).is_err());
        assert!(VolumeHeader::parse(&header(0, [1; 16], [1; 16])[..40]).is_err());
    }
}
