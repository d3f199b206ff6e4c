//! The dynamic-disk header of a dynamic or differencing VHD (1024 bytes, big-endian,
//! cookie `cxsparse`): where the block allocation table (BAT) is, how many entries it
//! has, the block size and, for a differencing disk, who the parent is (its unique id,
//! its file name in UTF-16BE, and up to eight platform locators).

use crate::image::container::{Container, u32_be, u64_be};
use crate::image::source::ImageError;
use crate::signature::VHD_DYNAMIC_HEADER;

use super::footer::checksum;

pub(super) const HEADER_LEN: usize = 1024;
/// Largest block accepted (the spec's default is 2 MiB; its bitmap is then 64 KiB).
const MAX_BLOCK: u32 = 256 << 20;
/// Largest parent locator read (a path).
const MAX_LOCATOR: u64 = 64 * 1024;

#[derive(Debug, Clone)]
pub(super) struct DynamicHeader {
    pub(super) table_offset: u64,
    pub(super) max_table_entries: u32,
    pub(super) block_size: u32,
    pub(super) parent_unique_id: [u8; 16],
    /// The parent's file name as the header gives it.
    pub(super) parent_name: String,
    /// Platform locators read: (code, path), e.g. (`W2ru`, `.\base.vhd`).
    pub(super) locators: Vec<(String, String)>,
}

impl DynamicHeader {
    /// Bytes of sector bitmap before each block's data: one bit per 512-byte sector,
    /// in whole sectors.
    pub(super) fn bitmap_len(&self) -> u64 {
        (u64::from(self.block_size) / 512).div_ceil(8).div_ceil(512) * 512
    }

    /// The names to look for the parent under, best first.
    pub(super) fn parent_names(&self) -> Vec<String> {
        let mut names = vec![self.parent_name.clone()];
        for code in ["W2ru", "W2ku", "Wi2r", "Wi2k", "MacX", "Mac "] {
            names.extend(
                self.locators
                    .iter()
                    .filter(|(c, _)| c == code)
                    .map(|(_, p)| p.clone()),
            );
        }
        names.retain(|n| !n.trim().is_empty());
        names
    }
}

/// Read and check the dynamic header at `offset`; `differencing` also reads the parent
/// locators.
pub(super) fn read(
    file: &Container,
    offset: u64,
    differencing: bool,
) -> Result<DynamicHeader, ImageError> {
    let mut h = vec![0u8; HEADER_LEN];
    file.structure(offset, &mut h, "dynamic disk header")?;
    if !h.starts_with(VHD_DYNAMIC_HEADER) {
        return Err(file.bad(offset, "no dynamic disk header (cookie \"cxsparse\")"));
    }
    let stored = u32_be(&h, 36).unwrap_or(0);
    let computed = checksum(&h, 36);
    if stored != computed {
        return Err(file.bad(
            offset,
            format!(
                "dynamic header checksum mismatch (stored {stored:#010x}, computed \
                 {computed:#010x}): the header is damaged"
            ),
        ));
    }
    let block_size = u32_be(&h, 32).unwrap_or(0);
    if !block_size.is_power_of_two() || !(512..=MAX_BLOCK).contains(&block_size) {
        return Err(file.bad(
            offset,
            format!("block size {block_size} is not a power of two from 512 bytes to 256 MiB"),
        ));
    }
    let parent_name = {
        let units: Vec<u16> = h[64..576]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        String::from_utf16_lossy(&units)
    };
    let mut locators = Vec::new();
    if differencing {
        for i in 0..8usize {
            let at = 576 + i * 24;
            let code = &h[at..at + 4];
            if code == [0u8; 4] {
                continue;
            }
            let len = u64::from(u32_be(&h, at + 8).unwrap_or(0));
            let data_offset = u64_be(&h, at + 16).unwrap_or(0);
            if len == 0 {
                continue;
            }
            let data = file.structure_vec(data_offset, len, MAX_LOCATOR, "parent locator")?;
            let code = String::from_utf8_lossy(code).into_owned();
            let path = if code.starts_with("Mac") {
                // A file URL or a Mac alias, in UTF-8.
                String::from_utf8_lossy(&data)
                    .trim_start_matches("file://")
                    .trim_end_matches('\0')
                    .to_string()
            } else {
                crate::bytes::utf16_until_nul(&data)
            };
            locators.push((code, path));
        }
    }
    Ok(DynamicHeader {
        table_offset: u64_be(&h, 16).unwrap_or(0),
        max_table_entries: u32_be(&h, 28).unwrap_or(0),
        block_size,
        parent_unique_id: crate::bytes::array(&h, 40).unwrap_or_default(),
        parent_name,
        locators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_lengths_and_names() {
        let mut h = DynamicHeader {
            table_offset: 0,
            max_table_entries: 0,
            block_size: 2 << 20,
            parent_unique_id: [0; 16],
            parent_name: "base.vhd".into(),
            locators: vec![
                ("W2ku".into(), "C:\\VMs\\base.vhd".into()),
                ("W2ru".into(), ".\\base.vhd".into()),
            ],
        };
        assert_eq!(h.bitmap_len(), 512);
        h.block_size = 512;
        assert_eq!(h.bitmap_len(), 512);
        h.block_size = 256 << 20;
        assert_eq!(h.bitmap_len(), 65536);
        assert_eq!(
            h.parent_names(),
            ["base.vhd", ".\\base.vhd", "C:\\VMs\\base.vhd"]
        );
    }
}
