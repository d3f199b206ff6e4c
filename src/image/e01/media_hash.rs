//! The media hashes an acquisition tool stored in an E01 (MD5 in the `hash` section,
//! MD5 and SHA-1 in `digest`), compared with the same hashes of the media data as this
//! reader reads it: every chunk, through the same checks as a scan (Adler-32 of chunk
//! tables and chunks), inflated on both cores and hashed in order.

use md5::{Digest, Md5};
use rayon::prelude::*;
use sha1::Sha1;

use super::EwfImage;
use crate::image::source::{ImageError, ImageSource};

/// Bytes read per piece; pieces of one window are read in parallel, hashed in order.
const PIECE: usize = 1 << 20;
const PIECES_PER_WINDOW: usize = 16;

/// What a stored hash says against the one computed from the data read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    Agree,
    Mismatch,
    /// The image stores no such hash (FTK Imager writes none; `hash` holds no SHA-1).
    NotStored,
}

impl Agreement {
    fn of<const N: usize>(stored: Option<[u8; N]>, computed: &[u8]) -> Agreement {
        match stored {
            None => Agreement::NotStored,
            Some(s) if s.as_slice() == computed => Agreement::Agree,
            Some(_) => Agreement::Mismatch,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Agreement::Agree => "agree",
            Agreement::Mismatch => "mismatch",
            Agreement::NotStored => "not stored",
        }
    }
}

/// The stored and computed media hashes of an E01, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaHashes {
    pub media_size: u64,
    pub stored_md5: Option<String>,
    pub computed_md5: String,
    pub md5: Agreement,
    pub stored_sha1: Option<String>,
    pub computed_sha1: String,
    pub sha1: Agreement,
}

impl EwfImage {
    /// The stored hashes, without reading the media.
    pub fn stored_hashes(&self) -> (Option<[u8; 16]>, Option<[u8; 20]>) {
        let stored = self.reader().stored_hashes();
        (stored.md5, stored.sha1)
    }

    /// Read every byte of the media (bounded memory: one window of
    /// `PIECES_PER_WINDOW` pieces) and compare its MD5 and SHA-1 with the stored ones.
    /// `advance` is told how many media bytes were hashed. A read that fails (a damaged
    /// chunk, a missing segment) is the error, with its offset: no hash of the media can
    /// be made then.
    pub fn verify_media(&self, advance: &dyn Fn(u64)) -> Result<MediaHashes, ImageError> {
        let size = self.size();
        let mut md5 = Md5::new();
        let mut sha1 = Sha1::new();
        let window = (PIECE * PIECES_PER_WINDOW) as u64;
        let mut buffers: Vec<Vec<u8>> = (0..PIECES_PER_WINDOW).map(|_| vec![0; PIECE]).collect();
        let mut start = 0u64;
        while start < size {
            let results: Vec<Result<usize, ImageError>> = buffers
                .par_iter_mut()
                .enumerate()
                .map(|(i, buf)| {
                    let at = start + (i * PIECE) as u64;
                    if at >= size {
                        return Ok(0);
                    }
                    read_full(self, at, buf)
                })
                .collect();
            for (buf, got) in buffers.iter().zip(results) {
                let got = got?;
                md5.update(&buf[..got]);
                sha1.update(&buf[..got]);
                advance(got as u64);
            }
            start = start.saturating_add(window);
        }
        let (computed_md5, computed_sha1) = (md5.finalize(), sha1.finalize());
        let (stored_md5, stored_sha1) = self.stored_hashes();
        Ok(MediaHashes {
            media_size: size,
            stored_md5: stored_md5.map(|h| crate::bytes::hex(&h)),
            computed_md5: crate::bytes::hex(&computed_md5),
            md5: Agreement::of(stored_md5, &computed_md5),
            stored_sha1: stored_sha1.map(|h| crate::bytes::hex(&h)),
            computed_sha1: crate::bytes::hex(&computed_sha1),
            sha1: Agreement::of(stored_sha1, &computed_sha1),
        })
    }
}

/// Fill `buf` from `at` (short only at the end of the media), chunk by chunk without the
/// read-ahead window: the pieces are already read on every core.
fn read_full(image: &EwfImage, at: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
    let want = crate::image::source::clamp_len(buf.len(), image.size().saturating_sub(at));
    let mut done = 0;
    while done < want {
        let pos = at + done as u64;
        let chunk = pos / image.chunk_size;
        let n =
            crate::image::source::clamp_len(want - done, image.chunk_size - pos % image.chunk_size);
        image.read_in_chunk(chunk, pos, &mut buf[done..done + n])?;
        done += n;
    }
    Ok(done)
}
