//! The VHD footer (512 bytes, big-endian): at the end of every VHD, and copied to the
//! start of a dynamic or differencing one. Its checksum is the ones' complement of the
//! sum of its bytes, the checksum field left out.

use crate::image::container::{u32_be, u64_be};
use crate::signature::VHD_FOOTER;

pub(super) const FOOTER_LEN: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DiskType {
    Fixed,
    Dynamic,
    Differencing,
}

impl DiskType {
    pub(super) fn name(self) -> &'static str {
        match self {
            DiskType::Fixed => "fixed",
            DiskType::Dynamic => "dynamic",
            DiskType::Differencing => "differencing",
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Footer {
    /// Where the dynamic header is (`u64::MAX` for a fixed disk).
    pub(super) data_offset: u64,
    pub(super) creator_app: [u8; 4],
    /// The disk's size in bytes.
    pub(super) current_size: u64,
    pub(super) disk_type: DiskType,
    pub(super) unique_id: [u8; 16],
    pub(super) saved_state: bool,
}

/// Ones' complement of the byte sum, the 4 bytes at `skip` left out (footer: 64, dynamic
/// header: 36).
pub(super) fn checksum(bytes: &[u8], skip: usize) -> u32 {
    let sum = bytes
        .iter()
        .enumerate()
        .filter(|(i, _)| !(skip..skip + 4).contains(i))
        .fold(0u32, |acc, (_, &b)| acc.wrapping_add(u32::from(b)));
    !sum
}

/// Parse a footer; the reason when it is not a valid one.
pub(super) fn parse(b: &[u8]) -> Result<Footer, String> {
    if b.len() < FOOTER_LEN || !b.starts_with(VHD_FOOTER) {
        return Err("no VHD footer (cookie \"conectix\")".into());
    }
    let stored = u32_be(b, 64).unwrap_or(0);
    let computed = checksum(&b[..FOOTER_LEN], 64);
    if stored != computed {
        return Err(format!(
            "footer checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): \
             the footer is damaged"
        ));
    }
    let version = u32_be(b, 12).unwrap_or(0);
    if version >> 16 != 1 {
        return Err(format!("file format version {version:#010x}, not 1.x"));
    }
    let disk_type = match u32_be(b, 60).unwrap_or(0) {
        2 => DiskType::Fixed,
        3 => DiskType::Dynamic,
        4 => DiskType::Differencing,
        other => {
            return Err(format!(
                "disk type {other} (2 fixed, 3 dynamic, 4 differencing)"
            ));
        }
    };
    Ok(Footer {
        data_offset: u64_be(b, 16).unwrap_or(u64::MAX),
        creator_app: crate::bytes::array(b, 28).unwrap_or_default(),
        current_size: u64_be(b, 48).unwrap_or(0),
        disk_type,
        unique_id: crate::bytes::array(b, 68).unwrap_or_default(),
        saved_state: b.get(84).is_some_and(|&s| s != 0),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A valid footer for tests.
    pub(in crate::image::vhd) fn footer(disk_type: u32, size: u64, data_offset: u64) -> Vec<u8> {
        let mut f = vec![0u8; FOOTER_LEN];
        f[..8].copy_from_slice(VHD_FOOTER);
        f[8..12].copy_from_slice(&2u32.to_be_bytes());
        f[12..16].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        f[16..24].copy_from_slice(&data_offset.to_be_bytes());
        f[28..32].copy_from_slice(b"test");
        f[40..48].copy_from_slice(&size.to_be_bytes());
        f[48..56].copy_from_slice(&size.to_be_bytes());
        f[60..64].copy_from_slice(&disk_type.to_be_bytes());
        f[68..84].copy_from_slice(&[7u8; 16]);
        let sum = checksum(&f, 64);
        f[64..68].copy_from_slice(&sum.to_be_bytes());
        f
    }

    #[test]
    fn parses_and_checks() {
        let f = footer(3, 1 << 20, 512);
        let parsed = parse(&f).unwrap();
        assert_eq!(parsed.disk_type, DiskType::Dynamic);
        assert_eq!(parsed.current_size, 1 << 20);
        assert_eq!(parsed.data_offset, 512);
        assert_eq!(parsed.unique_id, [7u8; 16]);
        let mut bad = f.clone();
        bad[50] ^= 1;
        assert!(parse(&bad).unwrap_err().contains("checksum"));
        assert!(parse(&footer(5, 1, 1)).unwrap_err().contains("disk type 5"));
        assert!(parse(&f[..100]).is_err());
        assert!(parse(b"").is_err());
    }
}
