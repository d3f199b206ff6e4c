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
