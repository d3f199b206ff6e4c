//! A test LZXPRESS Huffman compressor ([MS-XCA] 2.1), written from the format's
//! description to make `MAM\x04` Prefetch files: greedy LZ77 over a hash chain, one
//! canonical Huffman code (at most 15 bits) per block of 65,536 output bytes, 16-bit
//! little-endian words placed where a decoder reads them, and the length escape bytes
//! between them in the order a decoder takes them. The end-of-data symbol 256 closes the
//! last block as Windows writes it.
#![allow(dead_code)]

const BLOCK: usize = 65_536;
const MAX_DISTANCE: usize = 65_535;
const MIN_MATCH: usize = 3;
const CHAIN: usize = 48;

/// One decoded step: a literal or a match.
#[derive(Clone, Copy)]
enum Token {
    Literal(u8),
    Match { length: usize, distance: usize },
    End,
}

/// `MAM\x04`, the decompressed size, then the compressed data.
pub fn mam(data: &[u8]) -> Vec<u8> {
    let mut v = b"MAM\x04".to_vec();
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(&compress(data));
    v
}

/// Compresses `data`; matches may run past a block's end, as the format allows, when
/// `cross_blocks` (the next block then starts where the match ends).
pub fn compress_with(data: &[u8], cross_blocks: bool) -> Vec<u8> {
    let tokens = tokens(data, cross_blocks);
    let mut out = Vec::new();
    let mut i = 0;
    let mut pos = 0usize;
    loop {
        let block_start = pos;
        let mut block = Vec::new();
        while i < tokens.len() && pos < block_start + BLOCK {
            pos += match tokens[i] {
                Token::Literal(_) => 1,
                Token::Match { length, .. } => length,
                Token::End => 0,
            };
            block.push(tokens[i]);
            i += 1;
        }
        if i == tokens.len() {
            block.push(Token::End);
        }
        write_block(&block, &mut out);
        if i == tokens.len() {
            return out;
        }
    }
}

/// Compresses `data` with matches kept inside their block.
pub fn compress(data: &[u8]) -> Vec<u8> {
    compress_with(data, false)
}

fn hash3(d: &[u8], i: usize) -> usize {
    ((d[i] as usize) << 10 ^ (d[i + 1] as usize) << 5 ^ d[i + 2] as usize) & 0x7fff
}

fn tokens(data: &[u8], cross_blocks: bool) -> Vec<Token> {
    let mut head = vec![usize::MAX; 0x8000];
    let mut prev = vec![usize::MAX; data.len()];
    let mut out = Vec::new();
    let mut i = 0;
    let insert = |head: &mut Vec<usize>, prev: &mut Vec<usize>, p: usize| {
        if p + MIN_MATCH <= data.len() {
            let h = hash3(data, p);
            prev[p] = head[h];
            head[h] = p;
        }
    };
    while i < data.len() {
        let limit = if cross_blocks {
            data.len()
        } else {
            data.len().min((i / BLOCK + 1) * BLOCK)
        };
        let mut best = (0usize, 0usize);
        if i + MIN_MATCH <= limit {
            let mut cand = head[hash3(data, i)];
            let mut steps = 0;
            while cand != usize::MAX && i - cand <= MAX_DISTANCE && steps < CHAIN {
                let len = data[cand..]
                    .iter()
                    .zip(&data[i..limit])
                    .take_while(|(a, b)| a == b)
                    .count();
                if len > best.0 {
                    best = (len, i - cand);
                }
                cand = prev[cand];
                steps += 1;
            }
        }
        if best.0 >= MIN_MATCH {
            out.push(Token::Match {
                length: best.0,
                distance: best.1,
            });
            for p in i..i + best.0 {
                insert(&mut head, &mut prev, p);
            }
            i += best.0;
        } else {
            out.push(Token::Literal(data[i]));
            insert(&mut head, &mut prev, i);
            i += 1;
        }
    }
    out
}

/// Symbol, extra offset bits (count, value) and escape bytes of a token.
fn symbol(t: Token) -> (usize, u32, u32, Vec<u8>) {
    match t {
        Token::Literal(b) => (b as usize, 0, 0, Vec::new()),
        Token::End => (256, 0, 0, Vec::new()),
        Token::Match { length, distance } => {
            let bits = usize::BITS - 1 - distance.leading_zeros();
            let extra = (distance - (1 << bits)) as u32;
            let l = length - 3;
            let mut esc = Vec::new();
            let nibble = if l < 15 {
                l
            } else {
                if l - 15 < 255 {
                    esc.push((l - 15) as u8);
                } else {
                    esc.push(255);
                    if l <= 0xffff {
                        esc.extend_from_slice(&(l as u16).to_le_bytes());
                    } else {
                        esc.extend_from_slice(&0u16.to_le_bytes());
                        esc.extend_from_slice(&(l as u32).to_le_bytes());
                    }
                }
                15
            };
            (256 + ((bits as usize) << 4) + nibble, bits, extra, esc)
        }
    }
}

/// Code lengths (at most 15 bits) for symbol counts: Huffman, with counts flattened
/// until no code is longer than 15 bits; a lone symbol gets a partner.
fn code_lengths(counts: &[u64; 512]) -> [u8; 512] {
    let mut counts = *counts;
    if counts.iter().filter(|&&c| c > 0).count() == 1 {
        let lone = counts.iter().position(|&c| c > 0).unwrap();
        counts[if lone == 0 { 1 } else { 0 }] = 1;
    }
    loop {
        // (weight, node); leaves are 0..512, inner nodes above
        let mut nodes: Vec<(u64, usize)> = counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(s, c)| (*c, s))
            .collect();
        let mut parent = vec![usize::MAX; 1024];
        let mut next = 512;
        while nodes.len() > 1 {
            nodes.sort_by(|a, b| b.cmp(a));
            let a = nodes.pop().unwrap();
            let b = nodes.pop().unwrap();
            parent[a.1] = next;
            parent[b.1] = next;
            nodes.push((a.0 + b.0, next));
            next += 1;
        }
        let mut lengths = [0u8; 512];
        let mut too_long = false;
        for s in 0..512 {
            if counts[s] == 0 {
                continue;
            }
            let mut d = 0;
            let mut n = s;
            while parent[n] != usize::MAX {
                n = parent[n];
                d += 1;
            }
            too_long |= d > 15;
            lengths[s] = d.min(15) as u8;
        }
        if !too_long {
            return lengths;
        }
        for c in counts.iter_mut().filter(|c| **c > 0) {
            *c = (*c >> 1) + 1;
        }
    }
}

/// Canonical codes: by length, then symbol.
fn codes(lengths: &[u8; 512]) -> [u16; 512] {
    let mut codes = [0u16; 512];
    let mut code = 0u32;
    for len in 1..=15u8 {
        for s in 0..512 {
            if lengths[s] == len {
                codes[s] = code as u16;
                code += 1;
            }
        }
        code <<= 1;
    }
    codes
}

/// Bits of one block, placed into 16-bit word slots reserved in the output when a
/// decoder would read them.
struct BlockWriter<'a> {
    out: &'a mut Vec<u8>,
    slots: Vec<usize>,
    bits: Vec<bool>,
}

impl BlockWriter<'_> {
    /// Reserves the slots a decoder has read once `consumed` bits are used.
    fn reserve(&mut self) {
        let consumed = self.bits.len();
        let words = 2.max(consumed.div_ceil(16) + 1);
        while self.slots.len() < words {
            self.slots.push(self.out.len());
            self.out.extend_from_slice(&[0, 0]);
        }
    }

    fn push(&mut self, value: u32, n: u32) {
        for k in (0..n).rev() {
            self.bits.push(value >> k & 1 == 1);
        }
        self.reserve();
    }

    fn finish(self) {
        for (k, &at) in self.slots.iter().enumerate() {
            let mut w = 0u16;
            for j in 0..16 {
                w = w << 1 | u16::from(*self.bits.get(16 * k + j).unwrap_or(&false));
            }
            self.out[at..at + 2].copy_from_slice(&w.to_le_bytes());
        }
    }
}

fn write_block(block: &[Token], out: &mut Vec<u8>) {
    let mut counts = [0u64; 512];
    for &t in block {
        counts[symbol(t).0] += 1;
    }
    let lengths = code_lengths(&counts);
    let codes = codes(&lengths);
    for pair in lengths.chunks(2) {
        out.push(pair[0] | pair[1] << 4);
    }
    let mut w = BlockWriter {
        out,
        slots: Vec::new(),
        bits: Vec::new(),
    };
    w.reserve();
    for &t in block {
        let (s, obits, extra, esc) = symbol(t);
        w.push(u32::from(codes[s]), u32::from(lengths[s]));
        w.out.extend_from_slice(&esc);
        w.push(extra, obits);
    }
    w.finish();
}
