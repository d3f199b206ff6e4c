//! One streaming pass over a file: SHA-256 of every byte, the first bytes for
//! classification, and (when asked) its first bytes, up to a cap, handed on as they are
//! read. Memory stays at one chunk whatever the file's size.

use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// Bytes kept for classification (text or PE or opaque).
pub const HEAD_LEN: usize = 8 * 1024;

const CHUNK: usize = 256 * 1024;

/// What one pass over a file produced.
#[derive(Debug, Default)]
pub struct StreamResult {
    /// Hex SHA-256 of all bytes read, when hashing was asked for and the read finished.
    pub sha256: Option<String>,
    /// Bytes read in total (more than the content limit: the content was cut).
    pub bytes_read: u64,
}

/// Read the first bytes; the caller decides from them how much to hand on as content.
pub struct FileStream<R> {
    reader: R,
    hasher: Option<Sha256>,
    head: Vec<u8>,
    bytes_read: u64,
    at_end: bool,
}

impl<R: Read> FileStream<R> {
    /// Reads the head at once. `hash` = false skips hashing (`--no-hash`).
    pub fn start(reader: R, hash: bool) -> io::Result<FileStream<R>> {
        let mut stream = FileStream {
            reader,
            hasher: hash.then(Sha256::new),
            head: Vec::with_capacity(HEAD_LEN),
            bytes_read: 0,
            at_end: false,
        };
        let mut buf = vec![0u8; HEAD_LEN];
        let mut filled = 0;
        while filled < HEAD_LEN {
            let n = read_retrying(&mut stream.reader, &mut buf[filled..])?;
            if n == 0 {
                stream.at_end = true;
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        stream.absorb(&buf);
        stream.head = buf;
        Ok(stream)
    }

    pub fn head(&self) -> &[u8] {
        &self.head
    }

    fn absorb(&mut self, bytes: &[u8]) {
        if let Some(h) = self.hasher.as_mut() {
            h.update(bytes);
        }
        self.bytes_read += bytes.len() as u64;
    }

    /// Read to the end, hashing everything and handing the first `content_limit` bytes
    /// (head included) to `content` as they are read. Without hashing (`--no-hash`) the
    /// read stops once the content is handed on: one byte more is read to tell whether
    /// the content was cut (`bytes_read` > `content_limit`), nothing else.
    pub fn finish(
        mut self,
        content_limit: usize,
        content: &mut dyn FnMut(&[u8]),
    ) -> io::Result<StreamResult> {
        let head = std::mem::take(&mut self.head);
        let mut given = head.len().min(content_limit);
        if given > 0 {
            content(&head[..given]);
        }
        if !self.at_end {
            let mut buf = vec![0u8; CHUNK];
            loop {
                if self.hasher.is_none() && given >= content_limit {
                    let n = read_retrying(&mut self.reader, &mut buf[..1])?;
                    self.bytes_read += n as u64;
                    break;
                }
                // No more than the content needs when nothing is hashed.
                let want = match self.hasher {
                    Some(_) => CHUNK,
                    None => (content_limit - given).min(CHUNK),
                };
                let n = read_retrying(&mut self.reader, &mut buf[..want])?;
                if n == 0 {
                    break;
                }
                let chunk = &buf[..n];
                let room = content_limit.saturating_sub(given);
                if room > 0 {
                    content(&chunk[..room.min(n)]);
                    given += room.min(n);
                }
                self.absorb(chunk);
            }
        }
        Ok(StreamResult {
            sha256: self.hasher.map(|h| crate::bytes::hex(&h.finalize())),
            bytes_read: self.bytes_read,
        })
    }
}

fn read_retrying<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The result, and the content handed on.
    fn finish_keeping(s: FileStream<&[u8]>, limit: usize) -> (StreamResult, Vec<u8>) {
        let mut kept = Vec::new();
        let r = s.finish(limit, &mut |b| kept.extend_from_slice(b)).unwrap();
        (r, kept)
    }

    #[test]
    fn hashes_everything_keeps_up_to_the_cap() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let s = FileStream::start(&data[..], true).unwrap();
        assert_eq!(s.head().len(), HEAD_LEN);
        let (r, kept) = finish_keeping(s, 20_000);
        assert_eq!(r.bytes_read, 100_000);
        assert_eq!(kept, &data[..20_000]);
        assert!(r.bytes_read > 20_000, "cut");
        assert_eq!(r.sha256.unwrap(), crate::bytes::hex(&Sha256::digest(&data)));
    }

    /// A reader that counts the bytes taken from it.
    struct Counting<'a> {
        data: &'a [u8],
        taken: &'a std::cell::Cell<usize>,
    }

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.data.read(buf)?;
            self.taken.set(self.taken.get() + n);
            Ok(n)
        }
    }

    #[test]
    fn without_hashing_only_what_the_content_needs_is_read() {
        let data = vec![7u8; 3 * CHUNK];
        let taken = std::cell::Cell::new(0);
        let counting = || Counting {
            data: &data,
            taken: &taken,
        };
        // Not text: the head only, and one byte to know there is more.
        let s = FileStream::start(counting(), false).unwrap();
        let r = s.finish(0, &mut |_| {}).unwrap();
        assert_eq!(taken.get(), HEAD_LEN + 1);
        assert_eq!(r.bytes_read, (HEAD_LEN + 1) as u64);
        // Text capped at 20,000 bytes: those, and one more.
        taken.set(0);
        let (r, kept) = {
            let s = FileStream::start(counting(), false).unwrap();
            let mut kept = Vec::new();
            let r = s
                .finish(20_000, &mut |b| kept.extend_from_slice(b))
                .unwrap();
            (r, kept)
        };
        assert_eq!(kept.len(), 20_000);
        assert_eq!(taken.get(), 20_001);
        assert!(r.bytes_read > 20_000, "cut");
        // A file shorter than the cap: read to its end, not cut.
        taken.set(0);
        let s = FileStream::start(counting(), false).unwrap();
        let r = s.finish(10 * CHUNK, &mut |_| {}).unwrap();
        assert_eq!((taken.get(), r.bytes_read), (3 * CHUNK, 3 * CHUNK as u64));
        // With hashing: every byte.
        taken.set(0);
        let s = FileStream::start(counting(), true).unwrap();
        let r = s.finish(0, &mut |_| {}).unwrap();
        assert_eq!(taken.get(), 3 * CHUNK);
        assert!(r.sha256.is_some());
    }

    #[test]
    fn small_files_and_empty_files() {
        let (r, kept) = finish_keeping(FileStream::start(&b"abc"[..], true).unwrap(), 10);
        assert_eq!(kept, b"abc");
        assert!(r.bytes_read <= 10, "not cut");
        assert_eq!(
            r.sha256.unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (r, _) = finish_keeping(FileStream::start(&b""[..], false).unwrap(), 10);
        assert_eq!(r.sha256, None);
        assert_eq!(r.bytes_read, 0);
        // A head longer than the keep limit is cut to it, and says so.
        let (r, kept) = finish_keeping(FileStream::start(&b"abcdef"[..], false).unwrap(), 2);
        assert_eq!(kept, b"ab");
        assert!(r.bytes_read > 2, "cut");
    }
}
