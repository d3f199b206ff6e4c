//! Compressed column values (Windows 7 on): 7-bit packed ASCII or UTF-16 text. Xpress
//! compression (lead byte 0x18) is named as such and not decoded.

/// Why a compressed value could not be decoded.
pub fn decompress(b: &[u8]) -> Result<Vec<u8>, String> {
    let (&lead, packed) = b.split_first().ok_or("empty compressed value")?;
    match lead >> 3 {
        1 | 2 => {
            // 7-bit values packed little-endian; the low 3 bits of the lead byte say
            // how many bits of the last byte are used (0 meaning all 8).
            let unused = match lead & 7 {
                0 => 0,
                used => 8 - usize::from(used),
            };
            let bits = (packed.len() * 8).saturating_sub(unused);
            let count = bits / 7;
            let wide = lead >> 3 == 2;
            let mut out = Vec::with_capacity(count * if wide { 2 } else { 1 });
            for i in 0..count {
                let bit = i * 7;
                let lo = packed[bit / 8] as u16;
                let hi = packed.get(bit / 8 + 1).copied().unwrap_or(0) as u16;
                let v = ((lo | hi << 8) >> (bit % 8)) as u8 & 0x7f;
                out.push(v);
                if wide {
                    out.push(0);
                }
            }
            Ok(out)
        }
        3 => Err("Xpress-compressed value (lead byte 0x18): not decoded".into()),
        t => Err(format!("unknown compression {t} (lead byte {lead:#04x})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pack 7-bit values as ESE does: little-endian bit stream after a lead byte.
    fn pack(text: &[u8], kind: u8) -> Vec<u8> {
        let bits = text.len() * 7;
        let mut packed = vec![0u8; bits.div_ceil(8)];
        for (i, &c) in text.iter().enumerate() {
            for k in 0..7 {
                if c >> k & 1 == 1 {
                    let b = i * 7 + k;
                    packed[b / 8] |= 1 << (b % 8);
                }
            }
        }
        let used = (bits % 8) as u8;
        let mut out = vec![kind << 3 | used];
        out.extend(packed);
        out
    }

    #[test]
    fn seven_bit_ascii_and_unicode() {
        for text in [&b"netsession_win.exe"[..], b"abcdefgh", b"a"] {
            assert_eq!(decompress(&pack(text, 1)).unwrap(), text);
            let wide: Vec<u8> = text.iter().flat_map(|&c| [c, 0]).collect();
            assert_eq!(decompress(&pack(text, 2)).unwrap(), wide);
        }
        assert!(decompress(&[0x18, 1, 0]).unwrap_err().contains("Xpress"));
        assert!(decompress(&[]).is_err());
    }
}
