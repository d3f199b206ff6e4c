//! GUIDs as stored on disk (the first three fields little-endian), written the usual way.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid(pub [u8; 16]);

/// `_VSP_DIFF_AREA_FILE_GUID`, 3808876b-c176-4e48-b7ae-04046e6cc752: it opens every VSS
/// structure (volume header, catalog blocks, store blocks).
pub const VSS_IDENTIFIER: Guid = Guid([
    0x6b, 0x87, 0x08, 0x38, 0x76, 0xc1, 0x48, 0x4e, 0xb7, 0xae, 0x04, 0x04, 0x6e, 0x6c, 0xc7, 0x52,
]);

impl Guid {
    /// The 16 bytes at `at`, or `None` when they are not all in `b`.
    pub fn at(b: &[u8], at: usize) -> Option<Guid> {
        crate::bytes::array(b, at).map(Guid)
    }

    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]])
        )?;
        for (i, byte) in b[8..].iter().enumerate() {
            if i == 2 {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vss_identifier_is_written_as_microsoft_writes_it() {
        assert_eq!(
            VSS_IDENTIFIER.to_string(),
            "3808876b-c176-4e48-b7ae-04046e6cc752"
        );
    }
}
