//! LZXPRESS Huffman decompression ([MS-XCA] 2.1 and 2.2), the compression inside the
//! `MAM\x04` wrapper of Windows 10 and later Prefetch files.
//!
//! The compressed data is a run of blocks, each producing up to 65,536 bytes of output
//! (a match may run past the block's end). A block starts with a 256-byte table holding
//! a 4-bit code length for each of the 512 symbols (low nibble first); the symbols get
//! canonical Huffman codes of at most 15 bits. Bits come from little-endian 16-bit
//! words, most significant bit first. Symbols below 256 are literal bytes; symbol
//! `256 + 16 * b + l` is a match whose offset has `b` extra bits
//! (offset `(1 << b) | bits`) and whose length is `l + 3`, with `l == 15` continued by a
//! byte, then a 16-bit and a 32-bit word, read from the byte stream.
//!
//! Every read is checked against the input; an error names the offset in the compressed
//! data where decoding stopped. The output is never larger than the size asked for.

use thiserror::Error;

use crate::bytes::{u16_le, u32_le};

/// Output bytes one block produces (before a match that runs past it).
const BLOCK_OUTPUT: usize = 65_536;
/// Bytes of the code length table at the start of each block.
const TABLE_BYTES: usize = 256;
/// Longest code, in bits.
const MAX_CODE_BITS: u32 = 15;
/// Symbols in the alphabet: 256 literals and 256 match symbols.
const SYMBOLS: usize = 512;
/// Marks a decoding table entry no code leads to.
const NO_SYMBOL: u16 = u16::MAX;

/// Why compressed data could not be decompressed; offsets count from the start of the
/// compressed data.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum XpressError {
    #[error("compressed data truncated at offset {offset}")]
    Truncated { offset: u64 },
    #[error(
        "the Huffman code length table at offset {offset} is not a valid prefix code ({detail})"
    )]
    BadTable { offset: u64, detail: &'static str },
    #[error("the bits at offset {offset} match no code of the block's table")]
    BadCode { offset: u64 },
    #[error(
        "a match at offset {offset} reaches {distance} bytes back, before the start of the output"
    )]
    BadDistance { offset: u64, distance: usize },
    #[error("a match length at offset {offset} is {length}, less than its 15-byte escape")]
    BadLength { offset: u64, length: u32 },
}

/// Decompresses `src` to exactly `out_len` bytes.
pub fn decompress(src: &[u8], out_len: usize) -> Result<Vec<u8>, XpressError> {
    let mut out = Vec::with_capacity(out_len.min(src.len().saturating_mul(64)));
    let mut pos = 0usize;
    while out.len() < out_len {
        let table = DecodingTable::build(src, pos)?;
        pos += TABLE_BYTES;
        let mut bits = BitReader::new(src, pos)?;
        let block_end = out.len() + BLOCK_OUTPUT;
        while out.len() < block_end && out.len() < out_len {
            let symbol_at = bits.offset();
            let symbol = table.decode(&mut bits, symbol_at)?;
            if symbol < 256 {
                out.push(symbol as u8);
                continue;
            }
            let symbol = symbol - 256;
            let offset_bits = u32::from(symbol >> 4);
            let mut length = u32::from(symbol & 15);
            if length == 15 {
                length = u32::from(bits.byte()?);
                if length == 255 {
                    let at = bits.offset();
                    length = u32::from(bits.word()?);
                    if length == 0 {
                        length = bits.dword()?;
                    }
                    if length < 15 {
                        return Err(XpressError::BadLength {
                            offset: at as u64,
                            length,
                        });
                    }
                    length -= 15;
                }
                length += 15;
            }
            let length = (length as usize).saturating_add(3);
            let distance = (1usize << offset_bits) | bits.take(offset_bits)? as usize;
            if distance > out.len() {
                return Err(XpressError::BadDistance {
                    offset: symbol_at as u64,
                    distance,
                });
            }
            let take = length.min(out_len - out.len());
            let start = out.len() - distance;
            if distance >= take {
                out.extend_from_within(start..start + take);
            } else {
                for i in 0..take {
                    let b = out[start + i];
                    out.push(b);
                }
            }
        }
        pos = bits.offset();
    }
    Ok(out)
}

/// The block's codes as a lookup on the next 15 bits.
struct DecodingTable {
    /// Symbol for each 15-bit prefix.
    symbol: Vec<u16>,
    /// Code length of each symbol.
    length: [u8; SYMBOLS],
}

impl DecodingTable {
    fn build(src: &[u8], at: usize) -> Result<Self, XpressError> {
        let raw = src
            .get(at..at + TABLE_BYTES)
            .ok_or(XpressError::Truncated { offset: at as u64 })?;
        let mut length = [0u8; SYMBOLS];
        for (i, b) in raw.iter().enumerate() {
            length[2 * i] = b & 15;
            length[2 * i + 1] = b >> 4;
        }
        let mut symbol = vec![NO_SYMBOL; 1 << MAX_CODE_BITS];
        let mut next = 0usize;
        for bits in 1..=MAX_CODE_BITS {
            for (s, &l) in length.iter().enumerate() {
                if u32::from(l) != bits {
                    continue;
                }
                let span = 1usize << (MAX_CODE_BITS - bits);
                if next + span > symbol.len() {
                    return Err(XpressError::BadTable {
                        offset: at as u64,
                        detail: "more codes than 15 bits hold",
                    });
                }
                symbol[next..next + span].fill(s as u16);
                next += span;
            }
        }
        if next == 0 {
            return Err(XpressError::BadTable {
                offset: at as u64,
                detail: "no symbol has a code",
            });
        }
        Ok(Self { symbol, length })
    }

    fn decode(&self, bits: &mut BitReader, at: usize) -> Result<u16, XpressError> {
        let s = self.symbol[bits.peek15()? as usize];
        if s == NO_SYMBOL {
            return Err(XpressError::BadCode { offset: at as u64 });
        }
        bits.consume(u32::from(self.length[s as usize]));
        Ok(s)
    }
}

/// Bits from little-endian 16-bit words, most significant first, and the bytes of the
/// match length escapes taken from the same stream.
struct BitReader<'a> {
    src: &'a [u8],
    /// Next unread byte.
    pos: usize,
    /// Bits not yet used, at the top.
    window: u32,
    /// Valid bits in `window` beyond its first 16.
    extra: i32,
    /// Where a refill found no word left (the bits it gave are zeros).
    ran_out: Option<usize>,
}

impl<'a> BitReader<'a> {
    fn new(src: &'a [u8], pos: usize) -> Result<Self, XpressError> {
        let mut r = Self {
            src,
            pos,
            window: 0,
            extra: 16,
            ran_out: None,
        };
        let hi = r.word()?;
        let lo = r.word()?;
        r.window = u32::from(hi) << 16 | u32::from(lo);
        Ok(r)
    }

    fn offset(&self) -> usize {
        self.pos
    }

    /// The next 15 bits; an error once a refill found the input ended, since the bits
    /// needed next may not exist (the last symbol may still complete the output).
    fn peek15(&self) -> Result<u32, XpressError> {
        match self.ran_out {
            Some(at) => Err(XpressError::Truncated { offset: at as u64 }),
            None => Ok(self.window >> (32 - MAX_CODE_BITS)),
        }
    }

    /// Drops `n` (at most 16) bits, refilling from the next word when needed.
    fn consume(&mut self, n: u32) {
        self.window = self.window.checked_shl(n).unwrap_or(0);
        self.extra -= n as i32;
        if self.extra < 0 {
            match self.word() {
                Ok(w) => self.window |= u32::from(w) << (-self.extra) as u32,
                Err(_) => self.ran_out = Some(self.pos),
            }
            self.extra += 16;
        }
    }

    /// Takes the next `n` (at most 15) bits as a number.
    fn take(&mut self, n: u32) -> Result<u32, XpressError> {
        if n == 0 {
            return Ok(0);
        }
        let v = self.peek15()? >> (MAX_CODE_BITS - n);
        self.consume(n);
        Ok(v)
    }

    /// Takes `N` bytes of the stream with `read`, or says where the data ended.
    fn take_le<T, const N: usize>(
        &mut self,
        read: fn(&[u8], usize) -> Option<T>,
    ) -> Result<T, XpressError> {
        let v = read(self.src, self.pos).ok_or(XpressError::Truncated {
            offset: self.pos as u64,
        })?;
        self.pos += N;
        Ok(v)
    }

    fn byte(&mut self) -> Result<u8, XpressError> {
        self.take_le::<u8, 1>(|b, at| b.get(at).copied())
    }

    fn word(&mut self) -> Result<u16, XpressError> {
        self.take_le::<u16, 2>(u16_le)
    }

    fn dword(&mut self) -> Result<u32, XpressError> {
        self.take_le::<u32, 4>(u32_le)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block whose table gives every literal an 8-bit code (symbols 0..256 in order)
    /// and no match symbol one: the bits are the bytes themselves, two per word.
    fn literal_block(text: &[u8]) -> Vec<u8> {
        let mut v = vec![0x88u8; 128];
        v.extend_from_slice(&[0u8; 128]);
        let mut padded = text.to_vec();
        padded.resize(text.len().div_ceil(2) * 2 + 4, 0);
        for pair in padded.chunks(2) {
            v.push(pair[1]);
            v.push(pair[0]);
        }
        v
    }

    #[test]
    fn literals_through_a_hand_made_table() {
        let data = literal_block(b"NETSESSION_WIN.EXE");
        assert_eq!(decompress(&data, 18).unwrap(), b"NETSESSION_WIN.EXE");
    }

    #[test]
    fn refusals_name_offsets() {
        assert_eq!(
            decompress(&[0u8; 10], 5),
            Err(XpressError::Truncated { offset: 0 })
        );
        assert!(matches!(
            decompress(&[0u8; 300], 5),
            Err(XpressError::BadTable { offset: 0, .. })
        ));
        // every symbol with a 1-bit code: far more codes than 15 bits hold
        assert!(matches!(
            decompress(&[0x11u8; 300], 5),
            Err(XpressError::BadTable { offset: 0, .. })
        ));
        let data = literal_block(b"AB");
        assert!(matches!(
            decompress(&data[..257], 2),
            Err(XpressError::Truncated { .. })
        ));
        // nothing asked for: nothing read
        assert_eq!(decompress(&[], 0), Ok(Vec::new()));
    }

    #[test]
    fn incomplete_code_is_an_error_not_a_panic() {
        // only symbol 0 has a code (1 bit): a 1 bit matches nothing
        let mut data = vec![0x01u8];
        data.extend_from_slice(&[0u8; 255]);
        data.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(
            decompress(&data, 3),
            Err(XpressError::BadCode { .. })
        ));
    }
}
