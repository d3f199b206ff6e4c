//! Writers of the evidence file and the summary. They only read rows.

pub mod background;
pub mod bodyfile;
pub mod csv;
pub mod jsonl;
pub mod pending;
pub mod summary;

use std::io::{self, Write};

use crate::evidence::EvidenceRow;

/// Output formats: the one list that the CLI's options (`--format`, `--csv`, ...) and
/// [`writer_for`] are made from. A new format is a variant, its texts below and a writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The evidence CSV (columns: README.md, "Evidence CSV").
    Csv,
    /// Timesketch JSONL: the same fields plus `timestamp` (µs).
    Jsonl,
    /// TSK 3.x bodyfile for `mactime -b`.
    Bodyfile,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 3] = [Format::Csv, Format::Jsonl, Format::Bodyfile];

    /// Its name on the command line (`--format NAME`, `--NAME FILE`) and in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Bodyfile => "bodyfile",
        }
    }

    /// What it is, for `--format`'s help.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Csv => "Evidence CSV (columns: README.md, \"Evidence CSV\")",
            Format::Jsonl => "Timesketch JSONL: the CSV's fields plus `timestamp` (microseconds)",
            Format::Bodyfile => "TSK 3.x bodyfile for `mactime -b`",
        }
    }

    /// The help of `--NAME FILE`, which writes it besides the main output.
    pub fn also_help(self) -> &'static str {
        match self {
            Format::Csv => {
                "Also write the evidence CSV to FILE (any formats in one run: the scan is the expensive part)"
            }
            Format::Jsonl => "Also write Timesketch JSONL to FILE",
            Format::Bodyfile => "Also write a TSK bodyfile (for `mactime -b`) to FILE",
        }
    }
}

impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.describe()))
    }
}

/// Writes sorted rows to one evidence file, one at a time: rows are streamed from the
/// row store, never all in memory at once.
pub trait EvidenceWriter {
    fn write_row(&mut self, row: &EvidenceRow) -> io::Result<()>;

    /// Writes what the format keeps to the end, and flushes.
    fn finish(&mut self) -> io::Result<()>;

    /// Every row of a slice, then [`EvidenceWriter::finish`].
    fn write_rows(&mut self, rows: &[EvidenceRow]) -> io::Result<()> {
        for row in rows {
            self.write_row(row)?;
        }
        self.finish()
    }
}

/// What a writer must know of the rows before the first one arrives.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowsAhead {
    /// Rows come from more than one volume or input: the bodyfile names each line's.
    pub several_sources: bool,
}

impl RowsAhead {
    pub fn of(counts: &crate::evidence::RowCounts) -> Self {
        RowsAhead {
            several_sources: counts.sources.len() > 1,
        }
    }
}

/// The writer for a format, over any byte sink.
pub fn writer_for<'w>(
    format: Format,
    sink: Box<dyn Write + 'w>,
    ahead: RowsAhead,
) -> Box<dyn EvidenceWriter + 'w> {
    match format {
        Format::Csv => Box::new(csv::CsvWriter::new(sink)),
        Format::Jsonl => Box::new(jsonl::JsonlWriter::new(sink)),
        Format::Bodyfile => Box::new(bodyfile::BodyfileWriter::new(sink, ahead)),
    }
}
