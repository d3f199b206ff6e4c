//! An event log read front to back: the 4 KiB file header, then 64 KiB chunks, each
//! checked on its own. Sequential reads only, so a log inside an image, an archive or a
//! folder is read the same way, one chunk in memory, hashed as it goes.
//!
//! Chunks come in file order, not record order (a log that wrapped around holds its
//! oldest records in the middle); rows are sorted by time later anyway.

use sha2::{Digest, Sha256};
use std::io::{self, Read};

use crate::bytes::{crc32, u16_le, u32_le, u64_le};
use crate::signature::{EVTX_CHUNK, EVTX_FILE};

pub const FILE_HEADER_LEN: usize = 4096;
pub const CHUNK_LEN: usize = 65536;

/// What the file header says (offsets from the EVTX format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    pub major_version: u16,
    pub minor_version: u16,
    pub chunk_count: u16,
    /// The chunk being written (numbered from 0).
    pub last_chunk: u64,
    pub next_record_id: u64,
    /// Flag 1: the log was not closed cleanly.
    pub dirty: bool,
    /// Flag 2: the log is full.
    pub full: bool,
    /// The header's CRC32 (of its first 120 bytes) matched.
    pub checksum_ok: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("not an event log: no ElfFile signature at offset 0")]
    Signature,
    #[error("file ends at byte {0}, inside the 4096-byte file header")]
    Short(usize),
}

/// Read the file header from its 4096 bytes.
pub fn file_header(bytes: &[u8]) -> Result<FileHeader, HeaderError> {
    if bytes.len() < 128 {
        return Err(if bytes.starts_with(EVTX_FILE) || bytes.is_empty() {
            HeaderError::Short(bytes.len())
        } else {
            HeaderError::Signature
        });
    }
    if !bytes.starts_with(EVTX_FILE) {
        return Err(HeaderError::Signature);
    }
    let flags = u32_le(bytes, 120).unwrap_or(0);
    Ok(FileHeader {
        last_chunk: u64_le(bytes, 16).unwrap_or(0),
        next_record_id: u64_le(bytes, 24).unwrap_or(0),
        minor_version: u16_le(bytes, 36).unwrap_or(0),
        major_version: u16_le(bytes, 38).unwrap_or(0),
        chunk_count: u16_le(bytes, 42).unwrap_or(0),
        dirty: flags & 1 != 0,
        full: flags & 2 != 0,
        checksum_ok: u32_le(bytes, 124) == Some(crc32(&bytes[..120])),
    })
}

/// One chunk's bytes as read, or why the file stopped short of a whole one.
pub enum Piece {
    /// A whole chunk: its number (0 = the first after the header) and bytes.
    Chunk { number: u64, bytes: Vec<u8> },
    /// All zero: a chunk never written (dirty logs have them in the middle).
    Empty { number: u64 },
    /// No `ElfChnk` signature: not a chunk (overwritten or carved space).
    NotAChunk { number: u64 },
    /// The file ended inside this chunk, `len` bytes in.
    Truncated { number: u64, len: usize },
}

/// File offset of chunk `number`.
pub fn chunk_offset(number: u64) -> u64 {
    FILE_HEADER_LEN as u64 + number * CHUNK_LEN as u64
}

/// The stream of an event log's pieces, hashing every byte read.
pub struct ChunkReader<R> {
    reader: R,
    hasher: Option<Sha256>,
    next: u64,
    done: bool,
    bytes_read: u64,
}

impl<R: Read> ChunkReader<R> {
    /// Read the file header; `hash` = false skips hashing.
    pub fn start(mut reader: R, hash: bool) -> io::Result<(ChunkReader<R>, Vec<u8>)> {
        let mut header = vec![0u8; FILE_HEADER_LEN];
        let got = fill(&mut reader, &mut header)?;
        header.truncate(got);
        let mut hasher = hash.then(Sha256::new);
        if let Some(h) = hasher.as_mut() {
            h.update(&header);
        }
        let done = got < FILE_HEADER_LEN;
        Ok((
            ChunkReader {
                reader,
                hasher,
                next: 0,
                done,
                bytes_read: got as u64,
            },
            header,
        ))
    }

    /// The number of the chunk the next piece will be.
    pub fn next_number(&self) -> u64 {
        self.next
    }

    /// The next piece, `None` at the end of the file. `buffer` is reused.
    pub fn next_piece(&mut self, mut buffer: Vec<u8>) -> io::Result<Option<Piece>> {
        if self.done {
            return Ok(None);
        }
        buffer.resize(CHUNK_LEN, 0);
        let got = fill(&mut self.reader, &mut buffer)?;
        self.bytes_read += got as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buffer[..got]);
        }
        let number = self.next;
        self.next += 1;
        if got < CHUNK_LEN {
            self.done = true;
            if got == 0 {
                return Ok(None);
            }
            buffer.truncate(got);
            if buffer.iter().all(|&b| b == 0) {
                return Ok(Some(Piece::Empty { number }));
            }
            return Ok(Some(Piece::Truncated { number, len: got }));
        }
        if buffer.starts_with(EVTX_CHUNK) {
            Ok(Some(Piece::Chunk {
                number,
                bytes: buffer,
            }))
        } else if buffer.iter().all(|&b| b == 0) {
            Ok(Some(Piece::Empty { number }))
        } else {
            Ok(Some(Piece::NotAChunk { number }))
        }
    }

    /// Bytes read so far, and the SHA-256 of all of them (hex) when hashing.
    pub fn finish(self) -> (u64, Option<String>) {
        (
            self.bytes_read,
            self.hasher.map(|h| crate::bytes::hex(&h.finalize())),
        )
    }
}

fn fill<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(flags: u32) -> Vec<u8> {
        let mut h = vec![0u8; FILE_HEADER_LEN];
        h[..8].copy_from_slice(EVTX_FILE);
        h[24..32].copy_from_slice(&77u64.to_le_bytes());
        h[36..38].copy_from_slice(&1u16.to_le_bytes());
        h[38..40].copy_from_slice(&3u16.to_le_bytes());
        h[42..44].copy_from_slice(&2u16.to_le_bytes());
        h[120..124].copy_from_slice(&flags.to_le_bytes());
        let crc = crc32(&h[..120]);
        h[124..128].copy_from_slice(&crc.to_le_bytes());
        h
    }

    #[test]
    fn header_fields_and_checksum() {
        let h = file_header(&header(1)).unwrap();
        assert_eq!((h.major_version, h.minor_version, h.chunk_count), (3, 1, 2));
        assert_eq!(h.next_record_id, 77);
        assert!(h.dirty && !h.full && h.checksum_ok);
        let mut bad = header(2);
        bad[30] ^= 1;
        let h = file_header(&bad).unwrap();
        assert!(h.full && !h.checksum_ok);
        assert_eq!(file_header(b"MZ\0\0"), Err(HeaderError::Signature));
        assert_eq!(file_header(&EVTX_FILE[..]), Err(HeaderError::Short(8)));
    }

    #[test]
    fn pieces_in_file_order_with_empty_foreign_and_cut_chunks() {
        let mut file = header(0);
        let mut chunk = vec![0u8; CHUNK_LEN];
        chunk[..8].copy_from_slice(EVTX_CHUNK);
        file.extend_from_slice(&chunk);
        file.extend_from_slice(&vec![0u8; CHUNK_LEN]);
        file.extend_from_slice(&vec![7u8; CHUNK_LEN]);
        file.extend_from_slice(&chunk[..100]);
        let (mut reader, head) = ChunkReader::start(&file[..], true).unwrap();
        assert_eq!(head.len(), FILE_HEADER_LEN);
        let mut kinds = Vec::new();
        while let Some(piece) = reader.next_piece(Vec::new()).unwrap() {
            kinds.push(match piece {
                Piece::Chunk { number, bytes } => format!("chunk {number} {}", bytes.len()),
                Piece::Empty { number } => format!("empty {number}"),
                Piece::NotAChunk { number } => format!("foreign {number}"),
                Piece::Truncated { number, len } => format!("cut {number} {len}"),
            });
        }
        assert_eq!(
            kinds,
            ["chunk 0 65536", "empty 1", "foreign 2", "cut 3 100"]
        );
        let (read, sha) = reader.finish();
        assert_eq!(read, file.len() as u64);
        assert_eq!(sha.unwrap().len(), 64);
        assert_eq!(chunk_offset(3), 4096 + 3 * 65536);
    }
}
