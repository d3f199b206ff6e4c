//! CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as VHDX checksums its headers,
//! region tables and log entries. A byte-wise table: only headers (4 KiB) and region
//! tables (64 KiB) are checked, once each when the file is opened.

const POLY: u32 = 0x82F6_3B78;

const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-32C of `bytes`, with the 4 bytes at `zeroed` taken as zeros (where a structure
/// keeps its own checksum).
pub(super) fn crc32c_with_zeroed(bytes: &[u8], zeroed: usize) -> u32 {
    let mut crc = !0u32;
    for (i, &b) in bytes.iter().enumerate() {
        let b = if (zeroed..zeroed.saturating_add(4)).contains(&i) {
            0
        } else {
            b
        };
        crc = TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8);
    }
    !crc
}

/// CRC-32C of `bytes`.
#[cfg(test)]
pub(super) fn crc32c(bytes: &[u8]) -> u32 {
    crc32c_with_zeroed(bytes, usize::MAX - 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // RFC 3720 (iSCSI) B.4 test vectors and the usual check value.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xFFu8; 32]), 0x62A8_AB43);
        let ascending: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&ascending), 0x46DD_794E);
        assert_eq!(crc32c(b""), 0);
        let mut with_sum = b"abcd\x01\x02\x03\x04efgh".to_vec();
        let a = crc32c_with_zeroed(&with_sum, 4);
        with_sum[4..8].fill(0);
        assert_eq!(a, crc32c(&with_sum));
    }
}
