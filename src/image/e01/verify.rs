//! The EWF v1 checksums the `ewf` crate does not check, checked before a chunk is first
//! used: its chunk table's entries and the chunk's own Adler-32.

use std::sync::atomic::Ordering;

use super::{EwfImage, guarded};
use crate::bytes::u32_le;
use crate::image::file::pread_full;
use crate::image::source::{ImageError, clamp_len};

impl EwfImage {
    /// Check the entries of the table holding `chunk` against their stored Adler-32,
    /// once per table.
    pub(super) fn verify_table(&self, chunk: u64) -> Result<(), ImageError> {
        let i = self
            .tables
            .partition_point(|t| t.first_chunk.saturating_add(t.count) <= chunk);
        let (Some(table), Some(done)) = (self.tables.get(i), self.tables_verified.get(i)) else {
            return Ok(());
        };
        if done.load(Ordering::Relaxed) || !table.has_checksum {
            return Ok(());
        }
        let (Some(Some(file)), Some(path)) = (
            self.segment_files.get(table.segment),
            self.segments.get(table.segment),
        ) else {
            return Ok(());
        };
        let len =
            usize::try_from(table.count.saturating_mul(4).saturating_add(4)).unwrap_or(usize::MAX);
        let mut entries = vec![0u8; len];
        let got = pread_full(file, &mut entries, table.entries_offset).map_err(|source| {
            ImageError::Io {
                path: path.clone(),
                offset: chunk.saturating_mul(self.chunk_size),
                source,
            }
        })?;
        let body = len.saturating_sub(4);
        if got < len
            || ewf::sections::adler32(&entries[..body]) != u32_le(&entries, body).unwrap_or(0)
        {
            return Err(ImageError::EwfRead {
                path: path.clone(),
                offset: chunk.saturating_mul(self.chunk_size),
                message: format!(
                    "the chunk table at offset {} fails its checksum: the segment is damaged",
                    table.entries_offset
                ),
            });
        }
        done.store(true, Ordering::Relaxed);
        Ok(())
    }

    pub(super) fn is_verified(&self, chunk: u64) -> bool {
        let word = usize::try_from(chunk / 64).ok();
        word.and_then(|w| self.verified.get(w))
            .is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (chunk % 64)) != 0)
    }

    pub(super) fn mark_verified(&self, chunk: u64) {
        if let Some(w) = usize::try_from(chunk / 64)
            .ok()
            .and_then(|w| self.verified.get(w))
        {
            w.fetch_or(1 << (chunk % 64), Ordering::Relaxed);
        }
    }

    /// Read chunk `chunk` whole and compare its Adler-32 with the one stored for it. The
    /// chunk's bytes (as long as the media goes) come back: the caller needs them read
    /// no second time.
    pub(super) fn verify_chunk(&self, chunk: u64) -> Result<Vec<u8>, ImageError> {
        let start = chunk.saturating_mul(self.chunk_size);
        let damaged = |message: String| ImageError::EwfRead {
            path: self.path.clone(),
            offset: start,
            message,
        };
        self.verify_table(chunk)?;
        let index = usize::try_from(chunk).map_err(|_| damaged("chunk index overflow".into()))?;
        let len = clamp_len(
            usize::try_from(self.chunk_size).unwrap_or(usize::MAX),
            self.size.saturating_sub(start),
        );
        let mut page = vec![0u8; len];
        guarded(|| self.reader.read_at(&mut page, start)).map_err(damaged)?;
        let (offset, stored_len, compressed, segment) =
            guarded(|| self.reader.debug_chunk(index)).map_err(damaged)?;
        let Some(Some(file)) = self.segment_files.get(segment) else {
            return Ok(page);
        };
        let segment_path = self.segments.get(segment).unwrap_or(&self.path);
        let read_tail = |at: u64, buf: &mut [u8]| -> Result<bool, ImageError> {
            let got = pread_full(file, buf, at).map_err(|source| ImageError::Io {
                path: segment_path.clone(),
                offset: start,
                source,
            })?;
            Ok(got == buf.len())
        };
        let sum = ewf::sections::adler32(&page);
        // A writer may compress or store the last chunk padded to a full chunk.
        let padded_sum = || {
            let mut full = page.clone();
            full.resize(usize::try_from(self.chunk_size).unwrap_or(0), 0);
            ewf::sections::adler32(&full)
        };
        let ok = if compressed {
            // The zlib trailer (big-endian Adler-32) closes the chunk's bytes. The crate
            // knows a compressed chunk's exact length from where the next one starts;
            // where it does not (it then assumes a whole chunk), there is nothing to check.
            if stored_len == self.chunk_size || stored_len < 6 {
                true
            } else {
                // Tolerate a few bytes of padding after the stream.
                let tail_len = stored_len.min(16);
                let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
                if !read_tail(offset.saturating_add(stored_len - tail_len), &mut tail)? {
                    return Err(damaged(format!(
                        "chunk {chunk} runs past the end of {}",
                        segment_path.display()
                    )));
                }
                let found = |s: u32| tail.windows(4).any(|w| w == s.to_be_bytes());
                found(sum) || found(padded_sum())
            }
        } else {
            let mut stored = [0u8; 4];
            let at_data_end = read_tail(offset.saturating_add(len as u64), &mut stored)?
                && u32::from_le_bytes(stored) == sum;
            at_data_end
                || (read_tail(offset.saturating_add(self.chunk_size), &mut stored)?
                    && u32::from_le_bytes(stored) == padded_sum())
        };
        if !ok {
            return Err(damaged(format!(
                "chunk {chunk} ({}, {} offset {offset}) fails its Adler-32 check: the image \
                 data is damaged",
                if compressed { "compressed" } else { "stored" },
                segment_path.display()
            )));
        }
        self.mark_verified(chunk);
        Ok(page)
    }
}
