//! A store's header (a block of record type 4) and the store information after it: the
//! shadow copy and shadow copy set identifiers, the snapshot context (type), provider,
//! attribute flags, and the machine names.

use super::block::{BlockHeader, HEADER_LEN, TYPE_STORE_HEADER, read_block};
use super::error::VssError;
use super::guid::Guid;
use crate::bytes::{u16_le, u32_le, utf16_lossy};
use crate::image::source::ImageSource;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreInformation {
    pub shadow_copy_id: Guid,
    pub shadow_copy_set_id: Guid,
    pub snapshot_context: u32,
    pub provider: u32,
    pub attribute_flags: u32,
    pub operating_machine: String,
    pub service_machine: String,
}

/// The store information in a store header block `b` read at volume offset `at`.
pub fn parse_store_header(b: &[u8], at: u64) -> Result<StoreInformation, String> {
    let header = BlockHeader::parse(b)?;
    if header.record_type != TYPE_STORE_HEADER {
        return Err(format!(
            "store header has record type {} (expected {TYPE_STORE_HEADER})",
            header.record_type
        ));
    }
    if header.current != at {
        return Err(format!(
            "store header says it is at volume offset {} (read at {at})",
            header.current
        ));
    }
    let info = &b[HEADER_LEN.min(b.len())..];
    let short = || "store information cut short".to_string();
    let mut out = StoreInformation {
        shadow_copy_id: Guid::at(info, 16).ok_or_else(short)?,
        shadow_copy_set_id: Guid::at(info, 32).ok_or_else(short)?,
        snapshot_context: u32_le(info, 48).ok_or_else(short)?,
        provider: u32_le(info, 52).ok_or_else(short)?,
        attribute_flags: u32_le(info, 56).ok_or_else(short)?,
        ..StoreInformation::default()
    };
    let mut pos = 64usize;
    for name in [&mut out.operating_machine, &mut out.service_machine] {
        let len = usize::from(u16_le(info, pos).ok_or_else(short)?);
        let text = info.get(pos + 2..pos + 2 + len).ok_or_else(short)?;
        *name = utf16_lossy(text);
        pos += 2 + len;
    }
    Ok(out)
}

/// The store information of the store whose header is at `at` (0: none kept).
pub fn read_store_information(
    source: &dyn ImageSource,
    on: &'static str,
    store: &str,
    at: u64,
) -> Result<Option<StoreInformation>, VssError> {
    if at == 0 {
        return Ok(None);
    }
    let block = read_block(source, on, "store header", at)?;
    parse_store_header(&block, at)
        .map(Some)
        .map_err(|message| VssError::Store {
            store: store.to_string(),
            offset: at,
            message,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vss::block::BLOCK;
    use crate::vss::guid::VSS_IDENTIFIER;

    #[test]
    fn the_store_information_gives_identifiers_flags_and_machine_names() {
        let mut b = vec![0u8; BLOCK as usize];
        b[..16].copy_from_slice(&VSS_IDENTIFIER.0);
        b[20..24].copy_from_slice(&TYPE_STORE_HEADER.to_le_bytes());
        b[32..40].copy_from_slice(&0x8000u64.to_le_bytes());
        let info = HEADER_LEN;
        b[info + 16..info + 32].copy_from_slice(&[3; 16]);
        b[info + 32..info + 48].copy_from_slice(&[4; 16]);
        b[info + 56..info + 60].copy_from_slice(&0x0002_001du32.to_le_bytes());
        let name: Vec<u8> = "PC".encode_utf16().flat_map(u16::to_le_bytes).collect();
        b[info + 64..info + 66].copy_from_slice(&(name.len() as u16).to_le_bytes());
        b[info + 66..info + 66 + name.len()].copy_from_slice(&name);
        b[info + 66 + name.len()..info + 68 + name.len()].copy_from_slice(&0u16.to_le_bytes());
        let parsed = parse_store_header(&b, 0x8000).unwrap();
        assert_eq!(parsed.shadow_copy_id, Guid([3; 16]));
        assert_eq!(parsed.shadow_copy_set_id, Guid([4; 16]));
        assert_eq!(parsed.attribute_flags, 0x0002_001d);
        assert_eq!(parsed.operating_machine, "PC");
        assert_eq!(parsed.service_machine, "");
        assert!(
            parse_store_header(&b, 0xc000)
                .unwrap_err()
                .contains("says it is at")
        );
        b[info + 64..info + 66].copy_from_slice(&0xfff0u16.to_le_bytes());
        assert!(
            parse_store_header(&b, 0x8000)
                .unwrap_err()
                .contains("cut short")
        );
    }
}
