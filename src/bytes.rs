//! Bounds-checked reading of on-disk structures: little-endian integers, UTF-16LE text
//! and hex. Every parser reads through these, so a field past the end of a buffer is
//! `None` (never a panic, never an out-of-range slice), and a reader that wants zero for
//! a short field says so with `unwrap_or(0)` where it reads it.

/// `N` bytes at `at`, or `None` when they are not all inside `b`.
pub fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

pub fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_le_bytes)
}

pub fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_le_bytes)
}

pub fn u64_le(b: &[u8], at: usize) -> Option<u64> {
    array(b, at).map(u64::from_le_bytes)
}

pub fn i64_le(b: &[u8], at: usize) -> Option<i64> {
    array(b, at).map(i64::from_le_bytes)
}

/// Do the bytes at `at` equal `want`?
pub fn bytes_eq(b: &[u8], at: usize, want: &[u8]) -> bool {
    at.checked_add(want.len())
        .and_then(|end| b.get(at..end))
        .is_some_and(|s| s == want)
}

/// The UTF-16LE code units of `b`; an odd trailing byte is left out.
pub fn utf16_units(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]))
}

/// UTF-16LE text, lossily (unpaired surrogates become U+FFFD; an odd trailing byte is
/// left out).
pub fn utf16_lossy(b: &[u8]) -> String {
    char::decode_utf16(utf16_units(b))
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// UTF-16LE text up to the first NUL unit, lossily.
pub fn utf16_until_nul(b: &[u8]) -> String {
    char::decode_utf16(utf16_units(b).take_while(|&u| u != 0))
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// `units` UTF-16LE code units at `at`, lossily; `None` when they are not all inside `b`.
pub fn utf16_at(b: &[u8], at: usize, units: usize) -> Option<String> {
    let end = at.checked_add(units.checked_mul(2)?)?;
    Some(utf16_lossy(b.get(at..end)?))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC32_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn integers_inside_and_past_the_end() {
        let b = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(u16_le(&b, 0), Some(0x0201));
        assert_eq!(u32_le(&b, 1), Some(0x0504_0302));
        assert_eq!(u64_le(&b, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(u64_le(&b, 2), None);
        assert_eq!(u32_le(&b, usize::MAX), None);
        assert_eq!(i64_le(&[0xff; 8], 0), Some(-1));
        assert!(bytes_eq(&b, 7, &[8, 9]));
        assert!(!bytes_eq(&b, 8, &[9, 0]));
    }

    #[test]
    fn utf16_text() {
        let mut b: Vec<u8> = "Akamai".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(utf16_lossy(&b), "Akamai");
        b.extend_from_slice(&[0, 0, b'x', 0, 7]);
        assert_eq!(utf16_until_nul(&b), "Akamai");
        assert_eq!(utf16_lossy(&b), "Akamai\0x");
        assert_eq!(utf16_at(&b, 2, 3).as_deref(), Some("kam"));
        assert_eq!(utf16_at(&b, 2, 300), None);
        assert_eq!(utf16_lossy(&[0x00, 0xD8, b'a', 0]), "\u{FFFD}a");
    }

    #[test]
    fn hex_digits() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
