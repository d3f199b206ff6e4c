//! Sorted runs on disk and their k-way merge.
//!
//! A run is a file of rows in timeline order (see [`super::codec`]). Merging reads every
//! run once, front to back, holding one row per run in memory: k runs cost k rows and k
//! read buffers, whatever their length.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::codec;
use crate::evidence::EvidenceRow;

/// Read buffer per run while merging.
const READ_BUFFER: usize = 64 * 1024;

/// One sorted run on disk.
#[derive(Debug)]
pub(super) struct Run {
    pub path: PathBuf,
    pub rows: u64,
}

/// Writes `rows` (already in timeline order) to a new run at `path`.
pub(super) fn write_run<'r>(
    path: &Path,
    rows: impl IntoIterator<Item = &'r EvidenceRow>,
) -> io::Result<Run> {
    let mut writer = RunWriter::create(path)?;
    for row in rows {
        writer.push(row)?;
    }
    writer.finish()
}

/// A run being written, row by row.
pub(super) struct RunWriter {
    path: PathBuf,
    out: BufWriter<File>,
    encoded: Vec<u8>,
    rows: u64,
}

impl RunWriter {
    pub fn create(path: &Path) -> io::Result<RunWriter> {
        let file = File::create(path).map_err(|e| at(path, e))?;
        Ok(RunWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 * 1024, file),
            encoded: Vec::new(),
            rows: 0,
        })
    }

    pub fn push(&mut self, row: &EvidenceRow) -> io::Result<()> {
        self.encoded.clear();
        codec::encode(row, &mut self.encoded);
        self.rows += 1;
        self.out
            .write_all(&self.encoded)
            .map_err(|e| at(&self.path, e))
    }

    pub fn finish(mut self) -> io::Result<Run> {
        self.out.flush().map_err(|e| at(&self.path, e))?;
        Ok(Run {
            path: self.path,
            rows: self.rows,
        })
    }
}

/// An I/O error that names the temporary file it happened on.
fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Reads a run back, row by row.
struct RunReader<'p> {
    path: &'p Path,
    reader: BufReader<File>,
    buf: Vec<u8>,
    left: u64,
}

impl<'p> RunReader<'p> {
    fn open(run: &'p Run) -> io::Result<Self> {
        let file = File::open(&run.path).map_err(|e| at(&run.path, e))?;
        Ok(RunReader {
            path: &run.path,
            reader: BufReader::with_capacity(READ_BUFFER, file),
            buf: Vec::new(),
            left: run.rows,
        })
    }

    fn next_row(&mut self) -> io::Result<Option<EvidenceRow>> {
        let row = codec::decode(&mut self.reader, &mut self.buf).map_err(|e| at(self.path, e))?;
        match (&row, self.left) {
            (Some(_), 0) => return Err(at(self.path, extra("more rows than were written"))),
            (None, left) if left > 0 => {
                return Err(at(self.path, extra(&format!("{left} row(s) missing"))));
            }
            _ => {}
        }
        self.left = self.left.saturating_sub(1);
        Ok(row)
    }
}

fn extra(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Where the merge takes its next row from: rows still in memory (borrowed, never
/// copied) or a run on disk.
enum Cursor<'a> {
    Memory(std::slice::Iter<'a, EvidenceRow>),
    Disk(RunReader<'a>),
}

impl<'a> Cursor<'a> {
    fn next_row(&mut self) -> io::Result<Option<Cow<'a, EvidenceRow>>> {
        Ok(match self {
            Cursor::Memory(rows) => rows.next().map(Cow::Borrowed),
            Cursor::Disk(run) => run.next_row()?.map(Cow::Owned),
        })
    }
}

/// The heap holds each cursor's current row; the smallest in timeline order comes out
/// first (ties by cursor number, so the order never depends on the heap's insides).
struct Head<'a> {
    row: Cow<'a, EvidenceRow>,
    cursor: usize,
}

impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reversed.
        other
            .row
            .timeline_cmp(&self.row)
            .then_with(|| other.cursor.cmp(&self.cursor))
    }
}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head<'_> {}

/// Hands every row of `memory` (sorted) and `runs` to `visit`, in timeline order.
pub(super) fn merge(
    memory: &[EvidenceRow],
    runs: &[Run],
    visit: &mut dyn FnMut(&EvidenceRow) -> io::Result<()>,
) -> io::Result<()> {
    let mut cursors: Vec<Cursor<'_>> = Vec::with_capacity(runs.len() + 1);
    for run in runs {
        cursors.push(Cursor::Disk(RunReader::open(run)?));
    }
    if !memory.is_empty() {
        cursors.push(Cursor::Memory(memory.iter()));
    }
    let mut heap = BinaryHeap::with_capacity(cursors.len());
    for (cursor, source) in cursors.iter_mut().enumerate() {
        if let Some(row) = source.next_row()? {
            heap.push(Head { row, cursor });
        }
    }
    while let Some(Head { row, cursor }) = heap.pop() {
        visit(&row)?;
        if let Some(next) = cursors[cursor].next_row()? {
            heap.push(Head { row: next, cursor });
        }
    }
    Ok(())
}
