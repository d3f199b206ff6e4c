//! A reader over an archive file shared between readers: each keeps its own position and
//! reads at an offset, so entries of one archive are read in parallel without a lock.
//! It buffers (and is a `BufRead`, so an inflater reads its buffer directly); a reader
//! of a range has a buffer no larger than the range.

use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::sync::Arc;

/// Reads smaller than this go through a buffer of this size (the ZIP central directory
/// is parsed a few bytes at a time).
const BUFFER: usize = 64 * 1024;

#[derive(Debug)]
pub(super) struct PosReader {
    file: Arc<File>,
    pos: u64,
    len: u64,
    /// Bytes of the file from `buf_at`.
    buf: Vec<u8>,
    buf_at: u64,
}

impl Clone for PosReader {
    /// A clone reads at the same position with a buffer of its own.
    fn clone(&self) -> Self {
        self.at(self.pos)
    }
}

impl PosReader {
    pub(super) fn new(file: Arc<File>, len: u64) -> PosReader {
        PosReader {
            file,
            pos: 0,
            len,
            buf: Vec::new(),
            buf_at: 0,
        }
    }

    /// The file's length.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// A reader of the `len` bytes from `start` (it ends there).
    pub(super) fn range(&self, start: u64, len: u64) -> PosReader {
        let mut reader = self.at(start);
        reader.len = start.saturating_add(len).min(self.len);
        reader
    }

    pub(super) fn at(&self, pos: u64) -> PosReader {
        PosReader {
            file: Arc::clone(&self.file),
            pos,
            len: self.len,
            buf: Vec::new(),
            buf_at: 0,
        }
    }
}

fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (file, buf, offset);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "positioned reads are not supported on this platform",
        ))
    }
}

impl Read for PosReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.len - self.pos).unwrap_or(usize::MAX));
        if want >= BUFFER {
            let n = read_at(&self.file, &mut buf[..want], self.pos)?;
            self.pos += n as u64;
            return Ok(n);
        }
        let n = {
            let have = self.fill_buf()?;
            let n = want.min(have.len());
            buf[..n].copy_from_slice(&have[..n]);
            n
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl BufRead for PosReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.len {
            return Ok(&[]);
        }
        let in_buf = self.pos >= self.buf_at && self.pos < self.buf_at + self.buf.len() as u64;
        if !in_buf {
            let size = usize::try_from(self.len - self.pos).map_or(BUFFER, |r| r.min(BUFFER));
            self.buf.resize(size, 0);
            let n = read_at(&self.file, &mut self.buf, self.pos)?;
            self.buf.truncate(n);
            self.buf_at = self.pos;
        }
        let from = (self.pos - self.buf_at) as usize;
        Ok(&self.buf[from..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = self.pos.saturating_add(amount as u64);
    }
}

impl Seek for PosReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}
