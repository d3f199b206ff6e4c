//! Writers of the evidence file and the summary. They only read rows.

pub mod bodyfile;
pub mod csv;
pub mod jsonl;
pub mod summary;

use std::io::{self, Write};

use crate::evidence::EvidenceRow;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The evidence CSV (DESIGN.md columns).
    Csv,
    /// Timesketch JSONL: the same fields plus `timestamp` (µs).
    Jsonl,
    /// TSK 3.x bodyfile for `mactime -b`.
    Bodyfile,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Bodyfile => "bodyfile",
        }
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
    pub fn of(counts: &crate::store::RowCounts) -> Self {
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

/// Make a value safe for a one-line field: line breaks, tabs and other control
/// characters become visible escapes (`\n`, `\r`, `\t`, `\x1B`). Backslashes stay as they
/// are: every Windows path has them.
pub fn escape_one_line(value: &str) -> String {
    if !value.chars().any(needs_escape) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_escapes() {
        assert_eq!(escape_one_line("a\r\nb\tc\u{1b}"), "a\\r\\nb\\tc\\x1B");
        assert_eq!(escape_one_line("C:\\x\\y"), "C:\\x\\y");
        assert_eq!(escape_one_line("line\u{2028}sep"), "line\\x2028sep");
    }
}
