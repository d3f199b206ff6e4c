//! Progress in bytes while a candidate is read: a view whose `open` counts what the
//! readers take, so a display moves during a long read (a 600 MB file is one of the
//! stage's units, but 600 million of its bytes).

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::catalog::Matcher;
use crate::fs::{Candidate, EntryHandle, FileSystem, FsError, JournalSink, Walk};
use crate::progress::Progress;
use crate::warning::Warnings;

/// Bytes read between two reports: a report per read of a few KiB would cost more than
/// it shows.
const STEP: u64 = 1 << 20;

/// The bytes of one candidate: what was read of them, and what was told to `progress`.
/// Never more than the candidate's size is told, whatever is read (a file read twice,
/// or one that grew), and [`FileMeter::finish`] tells the rest (a reader that stopped
/// early, a file that could not be opened), so a stage's total adds up.
pub(super) struct FileMeter<'p> {
    progress: &'p dyn Progress,
    size: u64,
    read: AtomicU64,
    told: AtomicU64,
}

impl<'p> FileMeter<'p> {
    pub(super) fn new(progress: &'p dyn Progress, size: u64) -> Self {
        FileMeter {
            progress,
            size,
            read: AtomicU64::new(0),
            told: AtomicU64::new(0),
        }
    }

    fn add(&self, bytes: u64) {
        let read = self
            .read
            .fetch_add(bytes, Ordering::Relaxed)
            .saturating_add(bytes)
            .min(self.size);
        let told = self.told.load(Ordering::Relaxed);
        if read >= told.saturating_add(STEP)
            && self
                .told
                .compare_exchange(told, read, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.progress.advance(read - told);
        }
    }

    /// Tells what is left of the size: the candidate is done.
    pub(super) fn finish(&self) {
        let told = self.told.swap(self.size, Ordering::Relaxed);
        if self.size > told {
            self.progress.advance(self.size - told);
        }
    }
}

struct MeteredRead<'m, R> {
    inner: R,
    meter: &'m FileMeter<'m>,
}

impl<R: Read> Read for MeteredRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.add(n as u64);
        Ok(n)
    }
}

/// `view`, with the candidate's own data counted by `meter` as it is read.
pub(super) struct Metered<'v> {
    pub(super) view: &'v dyn FileSystem,
    pub(super) meter: &'v FileMeter<'v>,
}

impl FileSystem for Metered<'_> {
    fn source(&self) -> &str {
        self.view.source()
    }

    fn journal_source(&self) -> String {
        self.view.journal_source()
    }

    fn walk(&self, matcher: &Matcher, warnings: &Warnings, journal: JournalSink<'_>) -> Walk {
        self.view.walk(matcher, warnings, journal)
    }

    fn open(&self, candidate: &Candidate) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let inner = self.view.open(candidate)?;
        Ok(Box::new(MeteredRead {
            inner,
            meter: self.meter,
        }))
    }

    fn siblings(&self, candidate: &Candidate) -> Vec<(String, EntryHandle)> {
        self.view.siblings(candidate)
    }

    fn open_handle(&self, handle: &EntryHandle) -> Result<Box<dyn Read + Send + '_>, FsError> {
        self.view.open_handle(handle)
    }

    fn candidate_source(&self, candidate: &Candidate) -> String {
        self.view.candidate_source(candidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Record(Mutex<Vec<u64>>);

    impl Progress for Record {
        fn stage(&self, _what: &str, _total: Option<u64>) {}
        fn advance(&self, units: u64) {
            self.0.lock().unwrap().push(units);
        }
    }

    #[test]
    fn reads_are_told_in_steps_never_past_the_size() {
        let record = Record::default();
        let size = 5 * STEP + 10;
        let meter = FileMeter::new(&record, size);
        let data = vec![0u8; size as usize];
        let mut reader = MeteredRead {
            inner: &data[..],
            meter: &meter,
        };
        io::copy(&mut reader, &mut io::sink()).unwrap();
        // Read a second time (as a hash, then the text): nothing more is told.
        let mut again = MeteredRead {
            inner: &data[..],
            meter: &meter,
        };
        io::copy(&mut again, &mut io::sink()).unwrap();
        meter.finish();
        let told = record.0.lock().unwrap().clone();
        assert!(told.len() >= 5, "{told:?}");
        assert_eq!(told.iter().sum::<u64>(), size);
    }

    #[test]
    fn an_unread_file_is_told_whole_when_done() {
        let record = Record::default();
        let meter = FileMeter::new(&record, 42);
        meter.finish();
        meter.finish();
        assert_eq!(*record.0.lock().unwrap(), vec![42]);
    }
}
