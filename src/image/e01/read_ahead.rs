//! Read-ahead for a sequential reader of an E01 (the `$MFT` walk, a hashed file): once
//! reads follow each other chunk after chunk, the next chunks are inflated together on
//! every core (each through the same checks as a single read: missing segment, chunk
//! table and chunk Adler-32) and kept in a small window the following reads are copied
//! from. Random reads go on one chunk at a time. Memory: one window, at most
//! [`WINDOW_BYTES`].

use std::sync::Mutex;

use rayon::prelude::*;

use super::EwfImage;
use super::chunk::copy_part;
use crate::image::source::{ImageError, ImageSource};

/// Most bytes of inflated chunks held ahead.
const WINDOW_BYTES: u64 = 2 << 20;
/// Chunks of a first window; each window read to its end doubles the next, so a small
/// file read whole costs little more than its own chunks.
const FIRST_WINDOW: u64 = 4;
/// Reads in a row, chunk after chunk, before reading ahead.
const STREAK: u32 = 2;

#[derive(Debug, Default)]
pub(super) struct Window {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The chunk of `pages[0]`.
    first: u64,
    pages: Vec<Vec<u8>>,
    /// The chunk after the last one read, and how many reads in a row ended there.
    next: u64,
    streak: u32,
    /// Chunks the next window holds.
    len: u64,
}

impl State {
    fn page(&self, chunk: u64) -> Option<&[u8]> {
        let i = usize::try_from(chunk.checked_sub(self.first)?).ok()?;
        self.pages.get(i).map(Vec::as_slice)
    }

    fn note(&mut self, chunk: u64) {
        self.streak = if chunk == self.next || chunk + 1 == self.next {
            self.streak.saturating_add(u32::from(chunk == self.next))
        } else {
            0
        };
        self.next = chunk + 1;
    }
}

impl EwfImage {
    /// Copy `dest.len()` bytes at `at` within `chunk` from the read-ahead window, filling
    /// it first when the reads are sequential. False: not read here (the caller reads the
    /// chunk itself). An error is the error of this chunk; a later chunk that fails is
    /// left out of the window, so its error comes when it is read.
    pub(super) fn read_ahead(
        &self,
        chunk: u64,
        at: u64,
        dest: &mut [u8],
    ) -> Result<bool, ImageError> {
        let last = {
            let mut state = self.ahead.state.lock().unwrap_or_else(|e| e.into_inner());
            let sequential = chunk == state.next && state.streak >= STREAK;
            state.note(chunk);
            if let Some(page) = state.page(chunk) {
                return Ok(copy_part(page, offset_in(at), dest));
            }
            if !sequential {
                return Ok(false);
            }
            // A window read to its end: the next one twice as long.
            let consumed = state.first + state.pages.len() as u64 == chunk;
            let most = (WINDOW_BYTES / self.chunk_size).max(FIRST_WINDOW);
            state.len = match consumed {
                true => (state.len * 2).clamp(FIRST_WINDOW, most),
                false => FIRST_WINDOW.min(most),
            };
            let chunks = self.size.div_ceil(self.chunk_size);
            chunk.saturating_add(state.len).min(chunks)
        };
        // Inflated without the lock: a rayon worker waiting here may run another task
        // that reads this image (the scan reads candidates on the same pool), and that
        // task must not find the lock held by its own thread.
        let pages: Vec<Result<Vec<u8>, ImageError>> = (chunk..last)
            .into_par_iter()
            .map(|c| self.load_chunk(c))
            .collect();
        let mut kept = Vec::with_capacity(pages.len());
        for (i, page) in pages.into_iter().enumerate() {
            match page {
                Ok(page) => kept.push(page),
                Err(e) if i == 0 => return Err(e),
                Err(_) => break,
            }
        }
        let copied = kept
            .first()
            .is_some_and(|page| copy_part(page, offset_in(at), dest));
        let mut state = self.ahead.state.lock().unwrap_or_else(|e| e.into_inner());
        state.first = chunk;
        state.pages = kept;
        Ok(copied)
    }

    /// One whole chunk (the last one as long as the media goes), checked and inflated.
    fn load_chunk(&self, chunk: u64) -> Result<Vec<u8>, ImageError> {
        if self.verify && self.gap_of(chunk).is_none() {
            // Straight from its segment (checked on the way, if it was not yet), or else
            // the slow way: for its error, if it has one.
            if let Some(page) = self.load_direct(chunk)? {
                return Ok(page);
            }
            if !self.is_verified(chunk) {
                return self.verify_chunk(chunk);
            }
        }
        let start = chunk.saturating_mul(self.chunk_size);
        let len = self.chunk_size.min(self.size().saturating_sub(start));
        let mut page = vec![0u8; usize::try_from(len).unwrap_or(0)];
        self.read_in_chunk(chunk, start, &mut page)?;
        Ok(page)
    }
}

/// An offset within a chunk as an index (past any page when it does not fit).
fn offset_in(at: u64) -> usize {
    usize::try_from(at).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_in_a_row_count_as_sequential() {
        let mut s = State::default();
        for c in [10, 11, 12] {
            s.note(c);
        }
        assert_eq!((s.next, s.streak), (13, 2));
        // A second read in the same chunk keeps the streak.
        s.note(12);
        assert_eq!((s.next, s.streak), (13, 2));
        s.note(13);
        assert_eq!(s.streak, 3);
        // A jump starts again.
        s.note(40);
        assert_eq!((s.next, s.streak), (41, 0));
    }
}
