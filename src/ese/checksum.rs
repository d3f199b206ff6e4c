//! Page checksums: the XOR-32 of every format and the ECC-32 of the "new record format"
//! (Exchange 2003 SP1 / Vista on). The ECC word holds, over every set bit of the checked
//! bytes, the XOR of the bits' positions (low half) and of their complements (high half),
//! each masked to the width of a bit position in the block.

/// XOR of the little-endian 32-bit words of `data` (whole words only), from `seed`.
pub fn xor32(data: &[u8], seed: u32) -> u32 {
    data.chunks_exact(4).fold(seed, |x, w| {
        x ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]])
    })
}

/// Per byte value: the XOR of the positions (0..8) of its set bits, and the parity of
/// the number of its set bits.
const fn bit_tables() -> ([u8; 256], [bool; 256]) {
    let mut xors = [0u8; 256];
    let mut odd = [false; 256];
    let mut v = 0;
    while v < 256 {
        let mut k = 0;
        while k < 8 {
            if v >> k & 1 == 1 {
                xors[v] ^= k as u8;
                odd[v] = !odd[v];
            }
            k += 1;
        }
        v += 1;
    }
    (xors, odd)
}

const TABLES: ([u8; 256], [bool; 256]) = bit_tables();

/// The ECC-32 of `block`, skipping its first `skip` bytes (they hold the checksum):
/// bit positions count from the block's start.
pub fn ecc32(block: &[u8], skip: usize) -> u32 {
    let (xors, odd) = (&TABLES.0, &TABLES.1);
    let mut low = 0u32;
    let mut parity = false;
    for (i, &b) in block.iter().enumerate().skip(skip) {
        if b == 0 {
            continue;
        }
        if odd[b as usize] {
            low ^= (i as u32) << 3;
            parity = !parity;
        }
        low ^= u32::from(xors[b as usize]);
    }
    let high = if parity { !low } else { low };
    let mask = ((block.len() as u32) << 3).wrapping_sub(1) & 0xffff;
    ((high & mask) << 16) | (low & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit-by-bit definition, to check the table-driven one against.
    fn ecc_slow(block: &[u8], skip: usize) -> u32 {
        let (mut lo, mut hi) = (0u32, 0u32);
        for (i, &b) in block.iter().enumerate().skip(skip) {
            for k in 0..8 {
                if b >> k & 1 == 1 {
                    let n = (i * 8 + k) as u32;
                    lo ^= n;
                    hi ^= !n;
                }
            }
        }
        let mask = (block.len() as u32 * 8 - 1) & 0xffff;
        ((hi & mask) << 16) | (lo & mask)
    }

    #[test]
    fn table_driven_ecc_equals_the_bitwise_definition() {
        let mut block = vec![0u8; 4096];
        let mut x = 0x1234_5678u32;
        for b in block.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = (x & 0xff) as u8;
        }
        assert_eq!(ecc32(&block, 8), ecc_slow(&block, 8));
        block[100] ^= 4;
        assert_eq!(ecc32(&block, 8), ecc_slow(&block, 8));
        assert_eq!(ecc32(&block[..2048], 8), ecc_slow(&block[..2048], 8));
    }

    #[test]
    fn xor_of_words() {
        assert_eq!(xor32(&[1, 0, 0, 0, 3, 0, 0, 0], 0), 2);
        assert_eq!(xor32(&[], 0x89ab_cdef), 0x89ab_cdef);
    }
}
