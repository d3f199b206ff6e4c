//! A file of a collection read as a stream that can be opened again: a file on the host
//! today, an entry of an archive (deflated, not seekable) tomorrow. Whoever reads one
//! makes sequential passes only, re-opening it for each.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{display_name, open_evidence_file};

/// A collected file: its length, a fresh sequential reader from its first byte, and the
/// name rows and warnings give it.
pub trait CollectedFile: Send + Sync {
    /// Bytes in the file.
    fn len(&self) -> u64;
    /// Is the file empty?
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A reader from the first byte; each call starts again.
    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>>;
    /// How `source` columns and warnings name the file (a host path, or an archive and
    /// its entry).
    fn name(&self) -> String;
}

/// A collected file on the host, opened read-only.
#[derive(Debug, Clone)]
pub struct HostFile {
    path: PathBuf,
    len: u64,
}

impl HostFile {
    /// The file at `path` (its length read now).
    pub fn new(path: &Path) -> io::Result<HostFile> {
        let len = std::fs::metadata(path)?.len();
        Ok(HostFile {
            path: path.to_path_buf(),
            len,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl CollectedFile for HostFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(open_evidence_file(&self.path)?))
    }

    fn name(&self) -> String {
        display_name(self.path.as_os_str())
    }
}

/// Fill `buf` from `reader` as far as it goes; returns the bytes read (short only at the
/// end of the stream). A sequential stream (a deflated entry) hands out short reads.
pub fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match reader.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// A collected file held in memory (tests, fuzzing, a small archive entry).
#[derive(Debug, Clone)]
pub struct MemoryFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl CollectedFile for MemoryFile {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(&self.bytes[..]))
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}
