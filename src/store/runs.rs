//! Sorted runs on disk and their k-way merge.
//!
//! A run is a file of encoded rows in timeline order (see [`super::codec`]). Merging
//! reads every run once, front to back, holding one record per run in memory: k runs
//! cost k records and k read buffers, whatever their length. Records are compared and
//! handed on encoded; each record buffer is reused for the next record of its run, so a
//! merge allocates nothing per row.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::codec::{self, TimeKey};
use super::interned::{Packer, Unpacker};

/// Read buffer per run while merging.
const READ_BUFFER: usize = 64 * 1024;
/// A merge that reads the runs for the last time gives back their space every this many
/// bytes read (see [`Release`]).
pub(super) const RELEASE_EVERY: u64 = 4 * 1024 * 1024;

/// Whether a merge reads the runs for the last time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Release {
    /// The runs are read again later: they stay as they are.
    Keep,
    /// Nobody reads the runs again: the part already read is given back to the file
    /// system as the merge goes (a hole punched into the file), so the memory that held
    /// it in the page cache is free again while the outputs are written, instead of
    /// hundreds of megabytes more being taken. Where the file system cannot, the runs
    /// stay whole until they are removed.
    AsRead,
}

/// One sorted run on disk.
#[derive(Debug)]
pub(super) struct Run {
    pub path: PathBuf,
    pub rows: u64,
}

/// Where a record held in memory lies in its arena, with its time for ordering.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub time: TimeKey,
    pub at: usize,
    pub len: u32,
}

impl Entry {
    pub fn body<'a>(&self, arena: &'a [u8]) -> &'a [u8] {
        arena
            .get(self.at..self.at + self.len as usize)
            .unwrap_or_default()
    }
}

/// Records held in memory: an arena of record bodies and their entries, in order.
#[derive(Clone, Copy)]
pub(super) struct Memory<'a> {
    pub arena: &'a [u8],
    pub entries: &'a [Entry],
}

/// Writes records to a new run file.
pub(super) struct RunWriter {
    path: PathBuf,
    out: BufWriter<File>,
    rows: u64,
    packer: Packer,
}

impl RunWriter {
    pub fn create(path: &Path) -> io::Result<RunWriter> {
        let file = File::create(path).map_err(|e| at(path, e))?;
        Ok(RunWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 * 1024, file),
            rows: 0,
            packer: Packer::default(),
        })
    }

    pub fn push(&mut self, body: &[u8]) -> io::Result<()> {
        self.rows += 1;
        let packed = self.packer.pack(body).map_err(|e| at(&self.path, e))?;
        codec::write_record(&mut self.out, packed).map_err(|e| at(&self.path, e))
    }

    pub fn finish(mut self) -> io::Result<Run> {
        self.out.flush().map_err(|e| at(&self.path, e))?;
        Ok(Run {
            path: self.path,
            rows: self.rows,
        })
    }
}

/// Writes records held in memory, in the order of `memory.entries`, as a run.
pub(super) fn write_run(path: &Path, memory: Memory<'_>) -> io::Result<Run> {
    let mut writer = RunWriter::create(path)?;
    for entry in memory.entries {
        writer.push(entry.body(memory.arena))?;
    }
    writer.finish()
}

fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

struct RunReader<'p> {
    path: &'p Path,
    reader: BufReader<Releasing>,
    /// Rows the run should still hold: a run that ends early or runs on is damaged.
    left: u64,
    /// The record as stored, before [`Unpacker::unpack`].
    packed: Vec<u8>,
    unpacker: Unpacker,
}

impl<'p> RunReader<'p> {
    fn open(run: &'p Run, release: Release) -> io::Result<Self> {
        let file = match release {
            Release::Keep => File::open(&run.path),
            // Punching a hole needs the file open for writing.
            Release::AsRead => std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&run.path),
        }
        .map_err(|e| at(&run.path, e))?;
        let releasing = Releasing {
            file,
            read: 0,
            released: 0,
            release: release == Release::AsRead,
        };
        Ok(RunReader {
            path: &run.path,
            reader: BufReader::with_capacity(READ_BUFFER, releasing),
            left: run.rows,
            packed: Vec::new(),
            unpacker: Unpacker::default(),
        })
    }

    fn next(&mut self, body: &mut Vec<u8>) -> io::Result<Option<TimeKey>> {
        let time = self.read(body).map_err(|e| at(self.path, e))?;
        match (time, self.left) {
            (Some(_), 0) => return Err(at(self.path, extra("more rows than were written"))),
            (None, left) if left > 0 => {
                return Err(at(self.path, extra(&format!("{left} row(s) missing"))));
            }
            _ => {}
        }
        self.left = self.left.saturating_sub(1);
        Ok(time)
    }
}

/// A run file read front to back that, when asked, gives back what was read.
struct Releasing {
    file: File,
    /// Bytes read so far (they are in the reader's buffer or handed on).
    read: u64,
    /// Bytes at the start of the file given back so far.
    released: u64,
    release: bool,
}

impl io::Read for Releasing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        // At the end, all of it: the last page is the end of the file.
        let at_end = n == 0 && !buf.is_empty();
        if self.release && (at_end || self.read - self.released >= RELEASE_EVERY) {
            self.give_back(at_end);
        }
        Ok(n)
    }
}

impl Releasing {
    /// Punches a hole over the whole pages read and not yet given back (at the end,
    /// over the rest of the file). A file system
    /// that cannot is not asked again: the run stays whole until it is removed.
    fn give_back(&mut self, at_end: bool) {
        let end = if at_end {
            self.read
        } else {
            self.read - self.read % 4096
        };
        if end <= self.released {
            return;
        }
        if punch_hole(&self.file, self.released, end - self.released).is_ok() {
            self.released = end;
        } else {
            self.release = false;
        }
    }
}

#[cfg(target_os = "linux")]
fn punch_hole(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use rustix::fs::{FallocateFlags, fallocate};
    fallocate(
        file,
        FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
        offset,
        len,
    )
    .map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn punch_hole(_: &File, _: u64, _: u64) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

impl RunReader<'_> {
    fn read(&mut self, body: &mut Vec<u8>) -> io::Result<Option<TimeKey>> {
        if !codec::read_frame(&mut self.reader, &mut self.packed)? {
            return Ok(None);
        }
        self.unpacker.unpack(&self.packed, body)?;
        codec::body_time(body).map(Some)
    }
}

fn extra(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Where a merge takes records from.
enum Cursor<'a> {
    Memory(Memory<'a>, std::slice::Iter<'a, Entry>),
    Disk(Box<RunReader<'a>>),
}

impl Cursor<'_> {
    /// The next record's body into `body`, and its time; `None` at the end.
    fn next(&mut self, body: &mut Vec<u8>) -> io::Result<Option<TimeKey>> {
        match self {
            Cursor::Memory(memory, entries) => Ok(entries.next().map(|entry| {
                body.clear();
                body.extend_from_slice(entry.body(memory.arena));
                entry.time
            })),
            Cursor::Disk(run) => run.next(body),
        }
    }
}

/// The current record of one cursor.
struct Head {
    time: TimeKey,
    body: Vec<u8>,
    cursor: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the heap hands out the earliest record; ties by cursor keep the
        // merge deterministic.
        codec::compare((other.time, &other.body), (self.time, &self.body))
            .then_with(|| other.cursor.cmp(&self.cursor))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

/// Hands every record body of `memory` (sorted) and `runs` to `visit`, in timeline
/// order.
pub(super) fn merge(
    memory: Memory<'_>,
    runs: &[Run],
    release: Release,
    visit: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut cursors: Vec<Cursor<'_>> = Vec::with_capacity(runs.len() + 1);
    for run in runs {
        cursors.push(Cursor::Disk(Box::new(RunReader::open(run, release)?)));
    }
    if !memory.entries.is_empty() {
        cursors.push(Cursor::Memory(memory, memory.entries.iter()));
    }
    let mut heap = BinaryHeap::with_capacity(cursors.len());
    for (cursor, source) in cursors.iter_mut().enumerate() {
        let mut body = Vec::new();
        if let Some(time) = source.next(&mut body)? {
            heap.push(Head { time, body, cursor });
        }
    }
    while let Some(mut head) = heap.pop() {
        visit(&head.body)?;
        if let Some(time) = cursors[head.cursor].next(&mut head.body)? {
            head.time = time;
            heap.push(head);
        }
    }
    Ok(())
}
