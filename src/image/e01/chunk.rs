//! One whole chunk read and checked straight from its segment (EWF v1, checksums on).
//!
//! The slow path (`verify_chunk`) reads a chunk through the `ewf` crate, which zeroes a
//! page and a buffer for the compressed bytes, builds a new inflate state, stops short
//! of the zlib trailer and copies the page through its cache; then it computes the
//! Adler-32 again and reads the trailer with a separate read. Here a chunk's stored
//! bytes come with one positioned read into a buffer this thread keeps, are inflated by
//! the zlib state this thread keeps (reset between chunks) to the stream's end, straight
//! into the reader's buffer when the read covers the chunk, and zlib checks the trailer's
//! Adler-32 itself. A stored chunk's Adler-32 (after its data) is checked on the same
//! read.
//!
//! It accepts no chunk the slow path refuses, and gives the same bytes. Anything not
//! exactly as expected (a short read, a stream that does not decode, does not end, or
//! ends with its trailer out of the slow path's reach, an output of another length, a
//! checksum that does not match) is left to the slow path, so a damaged chunk's error
//! and offsets are those of the slow path.

use std::cell::Cell;
use std::fs::File;

use flate2::{Decompress, FlushDecompress, Status};
use rayon::prelude::*;

use super::{EwfImage, guarded};
use crate::image::file::pread_full;
use crate::image::source::{ImageError, clamp_len};

/// What one thread keeps from chunk to chunk: allocated once, never zeroed again.
struct Scratch {
    /// The zlib state (and its window), reset between chunks.
    inflate: Decompress,
    /// A chunk's bytes as stored in its segment (its length is the most ever read).
    stored: Vec<u8>,
    /// A chunk inflated for a read of part of it.
    page: Vec<u8>,
}

/// Most bytes of each buffer a thread keeps between chunks.
const KEEP_BYTES: usize = 1 << 20;

thread_local! {
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

/// Run `f` with this thread's scratch (a new one the first time).
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    let mut scratch = SCRATCH
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            Box::new(Scratch {
                inflate: Decompress::new(true),
                stored: Vec::new(),
                page: Vec::new(),
            })
        });
    let out = f(&mut scratch);
    // Chunks far larger than EnCase's are not worth their memory kept on every thread.
    for buf in [&mut scratch.stored, &mut scratch.page] {
        if buf.capacity() > KEEP_BYTES {
            *buf = Vec::new();
        }
    }
    // Only at the thread's end is there nowhere to keep it.
    let _ = SCRATCH.try_with(|s| s.set(Some(scratch)));
    out
}

/// Where a chunk read here goes.
enum Sink<'a> {
    /// `dest.len()` bytes from `at` within the chunk.
    Part { at: usize, dest: &'a mut [u8] },
    /// The whole chunk (as long as the media goes), as a page of its own.
    Page(&'a mut Vec<u8>),
}

/// Where a chunk lies, from its chunk table.
struct Located<'a> {
    file: &'a File,
    offset: u64,
    stored_len: u64,
    compressed: bool,
    /// The image's chunk size, and this chunk's bytes of media (less for the last).
    chunk_size: usize,
    len: usize,
}

/// Whole chunks a task of [`EwfImage::read_whole_chunks`] reads at least (the split
/// costs less than a chunk's inflate).
const WHOLE_CHUNKS_PER_TASK: usize = 4;

/// Most stored bytes of a compressed chunk read here, in chunks (zlib's worst case is
/// a little over one; a longer one is left to the slow path).
const MAX_COMPRESSED_CHUNKS: u64 = 2;

impl EwfImage {
    /// Read `dest.len()` bytes at `at` within `chunk` straight from its segment,
    /// checking the chunk whole (and its chunk table) and marking it checked. False:
    /// not read here (the slow path reads it, for its bytes or its error). An error is
    /// its chunk table's, as the slow path would give it.
    pub(super) fn read_direct(
        &self,
        chunk: u64,
        at: usize,
        dest: &mut [u8],
    ) -> Result<bool, ImageError> {
        self.direct(chunk, Sink::Part { at, dest })
    }

    /// The whole chunk (as long as the media goes) read straight from its segment and
    /// checked, as [`EwfImage::read_direct`]; `None`: left to the slow path.
    pub(super) fn load_direct(&self, chunk: u64) -> Result<Option<Vec<u8>>, ImageError> {
        let mut page = Vec::new();
        Ok(self.direct(chunk, Sink::Page(&mut page))?.then_some(page))
    }

    /// How many of the `len` bytes from `pos` on are whole chunks to read with
    /// [`EwfImage::read_whole_chunks`]: none unless chunks are checked (EWF v1) and
    /// `pos` starts one; the media's last chunk, shorter, counts as whole.
    pub(super) fn whole_chunks(&self, pos: u64, len: usize) -> usize {
        if !self.verify || !pos.is_multiple_of(self.chunk_size) {
            return 0;
        }
        if pos.saturating_add(len as u64) == self.size {
            return len;
        }
        let chunk_size = usize::try_from(self.chunk_size).unwrap_or(usize::MAX);
        len - len % chunk_size
    }

    /// Read `run`, whole chunks from `first` on, each one inflated (and checked) straight
    /// into its part of `run`, on every core. The error is the first failing chunk's,
    /// as reading them in order would give it.
    pub(super) fn read_whole_chunks(&self, first: u64, run: &mut [u8]) -> Result<(), ImageError> {
        let chunk_size = usize::try_from(self.chunk_size).unwrap_or(usize::MAX);
        let read: Vec<Result<(), ImageError>> = run
            .par_chunks_mut(chunk_size)
            .with_min_len(WHOLE_CHUNKS_PER_TASK)
            .enumerate()
            .map(|(i, dest)| {
                let chunk = first.saturating_add(i as u64);
                self.read_in_chunk(chunk, chunk.saturating_mul(self.chunk_size), dest)
            })
            .collect();
        read.into_iter().collect()
    }

    fn direct(&self, chunk: u64, sink: Sink<'_>) -> Result<bool, ImageError> {
        self.verify_table(chunk)?;
        let Some(loc) = self.locate(chunk) else {
            return Ok(false);
        };
        let ok = with_scratch(|s| {
            if loc.compressed {
                inflate(&loc, s, sink)
            } else {
                stored(&loc, s, sink)
            }
        });
        if ok {
            self.mark_verified(chunk);
        }
        Ok(ok)
    }

    /// Where `chunk` is stored; `None` where the crate does not say, or the segment is
    /// not ours to read.
    fn locate(&self, chunk: u64) -> Option<Located<'_>> {
        let index = usize::try_from(chunk).ok()?;
        let (offset, stored_len, compressed, segment) =
            guarded(|| self.reader.debug_chunk(index)).ok()?;
        let file = self.segment_files.get(segment)?.as_ref()?;
        let chunk_size = usize::try_from(self.chunk_size).ok()?;
        let start = chunk.checked_mul(self.chunk_size)?;
        let len = clamp_len(chunk_size, self.size.saturating_sub(start));
        (len > 0).then_some(Located {
            file,
            offset,
            stored_len,
            compressed,
            chunk_size,
            len,
        })
    }
}

/// `n` stored bytes read at `offset` into `buf` (grown, never zeroed again); `None` on
/// a short read or an error (the slow path reads them again and says what went wrong).
fn read_stored<'s>(buf: &'s mut Vec<u8>, file: &File, n: usize, offset: u64) -> Option<&'s [u8]> {
    if buf.len() < n {
        buf.resize(n, 0);
    }
    let buf = buf.get_mut(..n)?;
    let got = pread_full(file, buf, offset).ok()?;
    (got == n).then_some(&*buf)
}

/// A compressed chunk: its zlib stream inflated to its end (zlib checks the trailer's
/// Adler-32), into `sink`. The slow path's rules, kept: the output is the chunk's media
/// length, or a whole chunk padded with zeros for the last one; where the slow path
/// looks for the trailer (the last 16 stored bytes, unless it knows no exact length:
/// `stored_len` a whole chunk, or under 6 bytes), the stream must end there.
fn inflate(loc: &Located<'_>, s: &mut Scratch, sink: Sink<'_>) -> bool {
    let chunk_size = loc.chunk_size as u64;
    if loc.stored_len > chunk_size.saturating_mul(MAX_COMPRESSED_CHUNKS) {
        return false;
    }
    let Ok(n) = usize::try_from(loc.stored_len) else {
        return false;
    };
    let Scratch {
        inflate: z,
        stored,
        page,
    } = s;
    let Some(input) = read_stored(stored, loc.file, n, loc.offset) else {
        return false;
    };
    z.reset(true);
    // The stream ended, and where the slow path finds its trailer.
    let ended = |z: &Decompress, status| {
        status == Status::StreamEnd
            && (loc.stored_len == chunk_size
                || loc.stored_len < 6
                || z.total_in().saturating_add(12) >= loc.stored_len)
    };
    match sink {
        // A read of the whole chunk: inflated straight into it.
        Sink::Part { at: 0, dest } if dest.len() == loc.chunk_size && loc.len == loc.chunk_size => {
            let Ok(status) = z.decompress(input, dest, FlushDecompress::Finish) else {
                return false;
            };
            ended(z, status) && z.total_out() == chunk_size
        }
        Sink::Part { at, dest } => {
            if !inflate_page(z, input, page, loc) || !ended(z, Status::StreamEnd) {
                return false;
            }
            copy_part(page, at, dest)
        }
        Sink::Page(out) => inflate_page(z, input, out, loc) && ended(z, Status::StreamEnd),
    }
}

/// Inflate `input` (from a fresh state) into `out`, whose length becomes the chunk's
/// media length; false unless the stream ended with that many bytes, or (the last
/// chunk) a whole chunk whose bytes past the media are zeros.
fn inflate_page(z: &mut Decompress, input: &[u8], out: &mut Vec<u8>, loc: &Located<'_>) -> bool {
    out.clear();
    out.reserve(loc.chunk_size);
    match z.decompress_vec(input, out, FlushDecompress::Finish) {
        Ok(Status::StreamEnd) => {}
        _ => return false,
    }
    let full = out.len() == loc.chunk_size;
    let fits = out.len() == loc.len
        || (full
            && out
                .get(loc.len..)
                .is_some_and(|pad| pad.iter().all(|&b| b == 0)));
    out.truncate(loc.len);
    fits
}

/// A stored chunk: its data, then its Adler-32 (little-endian), read at once; the sum
/// where the slow path looks for it, right after the media's bytes or (the last chunk)
/// after a whole chunk padded with zeros.
fn stored(loc: &Located<'_>, s: &mut Scratch, sink: Sink<'_>) -> bool {
    // The crate reads a stored chunk as a whole chunk: less is its error to give.
    if loc.stored_len != loc.chunk_size as u64 {
        return false;
    }
    let Scratch { stored, page, .. } = s;
    let Some(bytes) = read_stored(stored, loc.file, loc.chunk_size + 4, loc.offset) else {
        return false;
    };
    let (Some(data), Some(after_data), Some(after_chunk)) = (
        bytes.get(..loc.len),
        bytes.get(loc.len..loc.len + 4),
        bytes.get(loc.chunk_size..),
    ) else {
        return false;
    };
    let sum_le = |b: &[u8]| <[u8; 4]>::try_from(b).map(u32::from_le_bytes).ok();
    let sum = ewf::sections::adler32(data);
    let ok = sum_le(after_data) == Some(sum)
        || (loc.len < loc.chunk_size && {
            page.clear();
            page.extend_from_slice(data);
            page.resize(loc.chunk_size, 0);
            sum_le(after_chunk) == Some(ewf::sections::adler32(page))
        });
    if !ok {
        return false;
    }
    match sink {
        Sink::Part { at, dest } => copy_part(data, at, dest),
        Sink::Page(out) => {
            out.clear();
            out.extend_from_slice(data);
            true
        }
    }
}

/// Copy `dest.len()` bytes at `at` of `page` into `dest`; false when they are not all
/// in it.
pub(super) fn copy_part(page: &[u8], at: usize, dest: &mut [u8]) -> bool {
    match page.get(at..at.saturating_add(dest.len())) {
        Some(src) => {
            dest.copy_from_slice(src);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::image::source::ImageSource;

    const SEGMENTS: [&str; 3] = ["gpt.E01", "gpt.E02", "gpt.E03"];

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/images")
            .join(name)
    }

    /// Chunk `i` of the fixture: (offset, stored length, compressed, segment).
    fn chunk_of(img: &EwfImage, i: u64) -> (u64, u64, bool, usize) {
        img.reader.debug_chunk(i as usize).unwrap()
    }

    /// A compressed chunk holding data (its exact length known), and a stored one.
    fn sample_chunks(img: &EwfImage) -> (u64, u64) {
        let chunks = img.size.div_ceil(img.chunk_size);
        let compressed = (4..chunks - 1)
            .find(|&i| {
                let (_, len, compressed, _) = chunk_of(img, i);
                compressed && len > 200 && len < img.chunk_size
            })
            .expect("a compressed chunk with data");
        let stored = (4..chunks - 1)
            .find(|&i| !chunk_of(img, i).2)
            .expect("a stored chunk");
        (compressed, stored)
    }

    /// A copy of the fixture's segments with the byte at `at` of segment `segment`
    /// flipped by `xor`.
    fn damaged(segment: usize, at: u64, xor: u8) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        for (i, name) in SEGMENTS.iter().enumerate() {
            let mut bytes = std::fs::read(fixture(name)).unwrap();
            if i == segment {
                bytes[at as usize] ^= xor;
            }
            std::fs::write(tmp.path().join(name), bytes).unwrap();
        }
        let first = tmp.path().join(SEGMENTS[0]);
        (tmp, first)
    }

    /// The damaged chunk `i` gives through every read path the error the slow path
    /// (`verify_chunk`, as before the direct path) gives for it, and the direct path
    /// itself declines it.
    fn same_error_as_slow_path(path: &Path, i: u64) -> ImageError {
        let slow = EwfImage::open(path).unwrap();
        let expected = slow.verify_chunk(i).unwrap_err();
        assert!(matches!(expected, ImageError::EwfRead { .. }), "{expected}");
        let cs = slow.chunk_size as usize;
        let mut page = vec![0u8; cs];
        assert!(!slow.read_direct(i, 0, &mut page).unwrap());
        assert!(slow.load_direct(i).unwrap().is_none());
        assert!(!slow.is_verified(i));

        let start = i * slow.chunk_size;
        let reads: [(u64, usize); 3] = [
            // The chunk whole; a run of whole chunks across it; part of it.
            (start, cs),
            (start - slow.chunk_size, 3 * cs),
            (start + 100, 1000),
        ];
        for (at, len) in reads {
            let img = EwfImage::open(path).unwrap();
            let err = img.read_at(at, &mut vec![0u8; len]).unwrap_err();
            assert_eq!(err.to_string(), expected.to_string(), "read {len} at {at}");
            assert_eq!(err.offset(), expected.offset(), "read {len} at {at}");
            assert!(matches!(err, ImageError::EwfRead { .. }), "{err}");
        }
        // Sequential small reads (the read-ahead window loads the chunk).
        let img = EwfImage::open(path).unwrap();
        let mut buf = vec![0u8; 4096];
        let mut pos = start - 4 * slow.chunk_size;
        let err = loop {
            match img.read_at(pos, &mut buf) {
                Ok(n) => pos += n as u64,
                Err(e) => break e,
            }
        };
        assert_eq!(pos, start);
        assert_eq!(err.to_string(), expected.to_string());
        expected
    }

    #[test]
    fn checked_chunks_read_directly_give_the_crates_bytes() {
        let img = EwfImage::open(&fixture(SEGMENTS[0])).unwrap();
        let mut crate_only = EwfImage::open(&fixture(SEGMENTS[0])).unwrap();
        crate_only.set_verify_checksums(false);
        let (compressed, stored) = sample_chunks(&img);
        let cs = img.chunk_size as usize;
        let mut direct = vec![0u8; cs];
        let mut expected = vec![0u8; cs];
        for i in [compressed, stored] {
            assert!(img.read_direct(i, 0, &mut direct).unwrap(), "chunk {i}");
            crate_only
                .read_at(i * img.chunk_size, &mut expected)
                .unwrap();
            assert_eq!(direct, expected, "chunk {i}");
            assert!(img.is_verified(i));
            let page = img.load_direct(i).unwrap().unwrap();
            assert_eq!(page, expected, "chunk {i}");
            let mut part = vec![0u8; 1000];
            assert!(img.read_direct(i, 300, &mut part).unwrap());
            assert_eq!(part, expected[300..1300]);
        }
        // The whole image, in runs of whole chunks and in odd pieces.
        let size = img.size as usize;
        let mut all = vec![0u8; size];
        let mut reference = vec![0u8; size];
        assert_eq!(img.read_at(0, &mut all).unwrap(), size);
        assert_eq!(crate_only.read_at(0, &mut reference).unwrap(), size);
        assert!(all == reference);
        let fresh = EwfImage::open(&fixture(SEGMENTS[0])).unwrap();
        let mut pos = 0;
        while pos < size {
            let n = fresh.read_at(pos as u64, &mut all[pos..(pos + 7777).min(size)]);
            pos += n.unwrap();
        }
        assert!(all == reference);
    }

    #[test]
    fn a_damaged_compressed_chunk_gives_the_slow_paths_error() {
        let img = EwfImage::open(&fixture(SEGMENTS[0])).unwrap();
        let (i, _) = sample_chunks(&img);
        let (offset, len, _, segment) = chunk_of(&img, i);
        // In the deflate data.
        let (_tmp, path) = damaged(segment, offset + len / 2, 0x55);
        same_error_as_slow_path(&path, i);
        // In the zlib trailer (its Adler-32): the stream decodes, the check fails (the
        // slow path's inflate, given the trailer with the last bytes, already says so).
        let (_tmp, path) = damaged(segment, offset + len - 2, 0x01);
        let err = same_error_as_slow_path(&path, i);
        assert_eq!(err.offset(), Some(i * img.chunk_size));
    }

    #[test]
    fn a_damaged_stored_chunk_gives_the_slow_paths_error() {
        let img = EwfImage::open(&fixture(SEGMENTS[0])).unwrap();
        let (_, i) = sample_chunks(&img);
        let (offset, _, _, segment) = chunk_of(&img, i);
        // In the data, and in the Adler-32 after it.
        for at in [offset + 5000, offset + img.chunk_size + 1] {
            let (_tmp, path) = damaged(segment, at, 0x10);
            let err = same_error_as_slow_path(&path, i);
            assert!(err.to_string().contains("(stored,"), "{err}");
            assert!(
                err.to_string().contains("fails its Adler-32 check"),
                "{err}"
            );
        }
    }
}
