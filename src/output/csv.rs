//! The evidence CSV (README.md, "Evidence CSV"): fixed column order, one line per row, UTF-8, `\n`.

use std::io::{self, Write};

use super::EvidenceWriter;
use crate::evidence::escape_one_line;
use crate::evidence::{COLUMNS, EvidenceRow};

pub struct CsvWriter<'w> {
    inner: csv::Writer<Box<dyn Write + 'w>>,
    header_written: bool,
    /// The last time written and its text: rows of one second come together (a log's
    /// lines), so most rows reuse it.
    last_time: Option<(crate::time::Timestamp, crate::time::Precision, String)>,
}

impl<'w> CsvWriter<'w> {
    pub fn new(sink: Box<dyn Write + 'w>) -> Self {
        let inner = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(sink);
        CsvWriter {
            inner,
            header_written: false,
            last_time: None,
        }
    }
}

impl CsvWriter<'_> {
    /// The header comes first, even in a file without rows.
    fn header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.inner.write_record(COLUMNS).map_err(io::Error::other)?;
            self.header_written = true;
        }
        Ok(())
    }
}

impl EvidenceWriter for CsvWriter<'_> {
    fn write_row(&mut self, row: &EvidenceRow) -> io::Result<()> {
        self.header()?;
        // Fields are borrowed from the row where they need no escaping: this runs once
        // per row of the evidence file.
        let time = match row.datetime {
            None => "",
            Some(t) => {
                let same = matches!(&self.last_time,
                    Some((last, precision, _)) if *last == t && *precision == t.precision());
                if !same {
                    self.last_time = Some((t, t.precision(), t.to_iso8601()));
                }
                self.last_time
                    .as_ref()
                    .map_or("", |(_, _, text)| text.as_str())
            }
        };
        let size = row.size.map(|s| s.to_string()).unwrap_or_default();
        let fields = [
            escape_one_line(time),
            escape_one_line(&row.timestamp_desc),
            escape_one_line(&row.message),
            escape_one_line(&row.artifact),
            escape_one_line(&row.user),
            escape_one_line(&row.path),
            escape_one_line(&row.value),
            escape_one_line(&size),
            escape_one_line(&row.sha256),
            escape_one_line(row.state.as_str()),
            escape_one_line(&row.source),
            escape_one_line(&row.locator),
        ];
        self.inner
            .write_record(fields.iter().map(|f| f.as_bytes()))
            .map_err(io::Error::other)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.header()?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::RecordState;
    use crate::time::Timestamp;

    #[test]
    fn header_quoting_and_one_line() {
        let row = EvidenceRow {
            datetime: Timestamp::from_filetime(129_736_854_000_000_000),
            timestamp_desc: "Modified (filesystem)".into(),
            message: "a \"quoted\", multi\nline".into(),
            artifact: "install.client".into(),
            user: "José".into(),
            path: "Users\\José\\AppData\\Local\\Akamai\\netsession_win.exe".into(),
            value: String::new(),
            size: Some(42),
            sha256: "ab".into(),
            state: RecordState::Allocated,
            source: "in".into(),
            locator: "inode=7".into(),
        };
        let mut out = Vec::new();
        CsvWriter::new(Box::new(&mut out))
            .write_rows(&[row])
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "2012-02-14T09:30:00.0000000Z,Modified (filesystem),\"a \"\"quoted\"\", multi\\nline\",install.client,José,Users\\José\\AppData\\Local\\Akamai\\netsession_win.exe,,42,ab,allocated,in,inode=7"
        );
    }
}
