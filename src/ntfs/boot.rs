//! The NTFS boot sector: geometry (sector and cluster sizes, MFT and index record
//! sizes) and where $MFT and $MFTMirr start.
//!
//! Parsing takes bytes from the evidence and never panics on them: every read is
//! bounds-checked.

use super::record::NtfsError;
use crate::bytes::{u16_le, u64_le};

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
        let bytes_per_sector = u16_le(sector, 0x0B).ok_or_else(|| field(0x0B))?;
        if !(256..=4096).contains(&bytes_per_sector) || !bytes_per_sector.is_power_of_two() {
            return Err(bad(
                0x0B,
                format!("bytes per sector {bytes_per_sector} is not a power of two in 256..=4096"),
            ));
        }
        let spc_raw = sector.get(0x0D).copied().ok_or_else(|| field(0x0D))?;
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
        let total_sectors = u64_le(sector, 0x28).ok_or_else(|| field(0x28))?;
        let mft_lcn = u64_le(sector, 0x30).ok_or_else(|| field(0x30))?;
        let mftmirr_lcn = u64_le(sector, 0x38).ok_or_else(|| field(0x38))?;
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
            let code = sector.get(off).copied().ok_or_else(|| field(off))? as i8;
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
        let serial = u64_le(sector, 0x48).ok_or_else(|| field(0x48))?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
