//! The evidence row: one timestamped fact, with where it came from.
//!
//! Rows are plain data. Writers and the summary only read them; nothing downstream of
//! the scanners changes a row.

mod counts;
mod escape;

pub use counts::RowCounts;
pub use escape::escape_one_line;

use serde::Serialize;
use std::cmp::Ordering;

use crate::time::Timestamp;

/// Where the fact stands on the evidence: a live file, a deleted one, a registry value...
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordState {
    Allocated,
    Deleted,
    Orphan,
    Live,
    FromLog,
    /// An event record carved from a log's unused space (not among its live records).
    Recovered,
}

impl RecordState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Allocated => "allocated",
            RecordState::Deleted => "deleted",
            RecordState::Orphan => "orphan",
            RecordState::Live => "live",
            RecordState::FromLog => "from-log",
            RecordState::Recovered => "recovered",
        }
    }
}

/// One row of the evidence file. Field order is the CSV column order (README.md, "Evidence CSV").
#[derive(Debug, PartialEq, Eq)]
pub struct EvidenceRow {
    /// `None` only for a fact with no time at all.
    pub datetime: Option<Timestamp>,
    pub timestamp_desc: String,
    pub message: String,
    pub artifact: String,
    pub user: String,
    pub path: String,
    pub value: String,
    pub size: Option<u64>,
    pub sha256: String,
    pub state: RecordState,
    pub source: String,
    pub locator: String,
}

/// The column names, in order, shared by every writer.
pub const COLUMNS: [&str; 12] = [
    "datetime",
    "timestamp_desc",
    "message",
    "artifact",
    "user",
    "path",
    "value",
    "size",
    "sha256",
    "state",
    "source",
    "locator",
];

impl Clone for EvidenceRow {
    fn clone(&self) -> Self {
        EvidenceRow {
            datetime: self.datetime,
            timestamp_desc: self.timestamp_desc.clone(),
            message: self.message.clone(),
            artifact: self.artifact.clone(),
            user: self.user.clone(),
            path: self.path.clone(),
            value: self.value.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            state: self.state,
            source: self.source.clone(),
            locator: self.locator.clone(),
        }
    }

    /// Reuses this row's text buffers: keeping "the latest row so far" over a long
    /// stream of rows then costs no allocation per row.
    fn clone_from(&mut self, other: &Self) {
        self.datetime = other.datetime;
        self.timestamp_desc.clone_from(&other.timestamp_desc);
        self.message.clone_from(&other.message);
        self.artifact.clone_from(&other.artifact);
        self.user.clone_from(&other.user);
        self.path.clone_from(&other.path);
        self.value.clone_from(&other.value);
        self.size = other.size;
        self.sha256.clone_from(&other.sha256);
        self.state = other.state;
        self.source.clone_from(&other.source);
        self.locator.clone_from(&other.locator);
    }
}

impl EvidenceRow {
    /// The text columns in a fixed order (`timestamp_desc`, `message`, `artifact`, `user`,
    /// `path`, `value`, `sha256`, `source`, `locator`): the order the row store writes them
    /// in, and what it counts as a row's size.
    pub fn texts(&self) -> [&String; 9] {
        [
            &self.timestamp_desc,
            &self.message,
            &self.artifact,
            &self.user,
            &self.path,
            &self.value,
            &self.sha256,
            &self.source,
            &self.locator,
        ]
    }

    /// The row's fields as text, in column order, before any output escaping.
    pub fn fields(&self) -> [String; 12] {
        [
            self.datetime.map(|t| t.to_iso8601()).unwrap_or_default(),
            self.timestamp_desc.clone(),
            self.message.clone(),
            self.artifact.clone(),
            self.user.clone(),
            self.path.clone(),
            self.value.clone(),
            self.size.map(|s| s.to_string()).unwrap_or_default(),
            self.sha256.clone(),
            self.state.as_str().to_string(),
            self.source.clone(),
            self.locator.clone(),
        ]
    }

    /// Total order used for output: by time (untimed facts last), then path, then every
    /// other column, so that two runs over the same evidence give identical files even
    /// though files are analysed in parallel.
    pub fn timeline_cmp(&self, other: &Self) -> Ordering {
        self.timeline_key().cmp(&other.timeline_key())
    }

    /// The columns [`EvidenceRow::timeline_cmp`] orders by, borrowed.
    pub fn timeline_key(&self) -> TimelineKey<'_> {
        TimelineKey {
            datetime: self.datetime,
            texts: self.texts().map(|t| t.as_bytes()),
            size: self.size,
            state: self.state,
        }
    }
}

/// A row's columns borrowed as bytes, in the order of [`EvidenceRow::texts`]: what the
/// timeline order compares. The row store compares rows it holds encoded through it
/// without decoding them (UTF-8 bytes order as their text does).
#[derive(Debug, Clone, Copy)]
pub struct TimelineKey<'a> {
    pub datetime: Option<Timestamp>,
    pub texts: [&'a [u8]; 9],
    pub size: Option<u64>,
    pub state: RecordState,
}

impl TimelineKey<'_> {
    const DESC: usize = 0;
    const MESSAGE: usize = 1;
    const ARTIFACT: usize = 2;
    const USER: usize = 3;
    const PATH: usize = 4;
    const VALUE: usize = 5;
    const SHA256: usize = 6;
    const SOURCE: usize = 7;
    const LOCATOR: usize = 8;

    /// By time (untimed facts last), then path, then every other column.
    fn compare(&self, other: &Self) -> Ordering {
        let time_key = |k: &TimelineKey| (k.datetime.is_none(), k.datetime);
        let text = |i: usize| self.texts[i].cmp(other.texts[i]);
        time_key(self)
            .cmp(&time_key(other))
            .then_with(|| text(Self::PATH))
            .then_with(|| text(Self::DESC))
            .then_with(|| text(Self::ARTIFACT))
            .then_with(|| text(Self::LOCATOR))
            .then_with(|| text(Self::VALUE))
            .then_with(|| text(Self::SOURCE))
            .then_with(|| text(Self::MESSAGE))
            .then_with(|| text(Self::USER))
            .then_with(|| self.size.cmp(&other.size))
            .then_with(|| text(Self::SHA256))
            .then_with(|| self.state.cmp(&other.state))
            // Same instant written at another precision: keep the order stable too.
            .then_with(|| {
                let digits = |k: &TimelineKey| k.datetime.map(|t| t.to_iso8601());
                digits(self).cmp(&digits(other))
            })
    }
}

impl PartialEq for TimelineKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.compare(other) == Ordering::Equal
    }
}

impl Eq for TimelineKey<'_> {}

impl PartialOrd for TimelineKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TimelineKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.compare(other)
    }
}

/// Where a producer puts its rows: a vector, or a store that sorts them in bounded
/// memory ([`crate::store::Batch`]).
pub trait RowSink {
    fn push(&mut self, row: EvidenceRow);
}

impl RowSink for Vec<EvidenceRow> {
    fn push(&mut self, row: EvidenceRow) {
        Vec::push(self, row);
    }
}
