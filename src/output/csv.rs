//! The evidence CSV (README.md, "Evidence CSV"): fixed column order, one line per row, UTF-8, `\n`.
//!
//! Quoting is the `csv` crate's `QuoteStyle::Necessary` with `\n` records: a field is
//! quoted when it holds a comma, a quote, `\r` or `\n`, and a quote inside is doubled.
//! Rows are formatted here rather than through `csv::Writer` because this runs once per
//! row of the evidence file (a million log lines: a tenth of the scan went to the crate's
//! byte-by-byte field copy); the header still goes through the crate, and a test holds
//! both to the same bytes on every kind of field.

use std::io::{self, Write};

use super::EvidenceWriter;
use crate::evidence::escape_one_line;
use crate::evidence::{COLUMNS, EvidenceRow};

/// Rows gathered before they are handed to the sink.
const BUFFER: usize = 64 * 1024;

pub struct CsvWriter<'w> {
    sink: Box<dyn Write + 'w>,
    buffer: Vec<u8>,
    header_written: bool,
    /// The last time written and its text: rows of one second come together (a log's
    /// lines), so most rows reuse it.
    last_time: Option<(crate::time::Timestamp, crate::time::Precision, String)>,
}

impl<'w> CsvWriter<'w> {
    pub fn new(sink: Box<dyn Write + 'w>) -> Self {
        CsvWriter {
            sink,
            buffer: Vec::with_capacity(BUFFER),
            header_written: false,
            last_time: None,
        }
    }
}

impl CsvWriter<'_> {
    /// The header comes first, even in a file without rows.
    fn header(&mut self) -> io::Result<()> {
        if !self.header_written {
            let mut header = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .quote_style(csv::QuoteStyle::Necessary)
                .from_writer(Vec::new());
            header.write_record(COLUMNS).map_err(io::Error::other)?;
            let header = header
                .into_inner()
                .map_err(|e| io::Error::other(e.to_string()))?;
            self.buffer.extend_from_slice(&header);
            self.header_written = true;
        }
        Ok(())
    }

    fn time_text(&mut self, time: Option<crate::time::Timestamp>) -> &str {
        let Some(t) = time else { return "" };
        let same = matches!(&self.last_time,
            Some((last, precision, _)) if *last == t && *precision == t.precision());
        if !same {
            self.last_time = Some((t, t.precision(), t.to_iso8601()));
        }
        self.last_time
            .as_ref()
            .map_or("", |(_, _, text)| text.as_str())
    }
}

impl EvidenceWriter for CsvWriter<'_> {
    fn write_row(&mut self, row: &EvidenceRow) -> io::Result<()> {
        self.header()?;
        let mut buffer = std::mem::take(&mut self.buffer);
        push_field(&mut buffer, self.time_text(row.datetime));
        let size = row.size.map(|s| s.to_string()).unwrap_or_default();
        for text in [
            row.timestamp_desc.as_str(),
            &row.message,
            &row.artifact,
            &row.user,
            &row.path,
            &row.value,
            size.as_str(),
            &row.sha256,
            row.state.as_str(),
            &row.source,
            &row.locator,
        ] {
            buffer.push(b',');
            push_field(&mut buffer, text);
        }
        buffer.push(b'\n');
        self.buffer = buffer;
        if self.buffer.len() >= BUFFER {
            self.sink.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.header()?;
        self.sink.write_all(&self.buffer)?;
        self.buffer.clear();
        self.sink.flush()
    }
}

/// Appends one field: escaped to one line ([`escape_one_line`]), then quoted if it needs
/// it. One pass over the bytes finds the fields that need neither (most of them).
fn push_field(out: &mut Vec<u8>, text: &str) {
    // Bytes that may need escaping (control characters, C1 controls, U+2028/9) or
    // quoting (comma, quote). Folded over chunks so that it vectorises.
    let plain = !text.as_bytes().chunks(64).any(|chunk| {
        chunk.iter().fold(false, |hit, &b| {
            hit | (b < 0x20) | (b == 0x7F) | (b == 0xC2) | (b == 0xE2) | (b == b',') | (b == b'"')
        })
    });
    if plain {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let escaped = escape_one_line(text);
    let bytes = escaped.as_bytes();
    // After escaping no line break is left; `\r` and `\n` are kept in the test for
    // quoting all the same, as the csv crate does.
    if !bytes
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    let mut rest = bytes;
    while let Some(at) = memchr::memchr(b'"', rest) {
        out.extend_from_slice(&rest[..=at]);
        out.push(b'"');
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
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

    /// What `csv::Writer` (`QuoteStyle::Necessary`, `\n`) makes of the same fields
    /// after [`escape_one_line`]: the writer above must give the same bytes.
    fn by_the_csv_crate(rows: &[EvidenceRow]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        w.write_record(COLUMNS).unwrap();
        for row in rows {
            let fields = row.fields();
            w.write_record(fields.iter().map(|f| escape_one_line(f).into_owned()))
                .unwrap();
        }
        w.into_inner().unwrap()
    }

    #[test]
    fn same_bytes_as_the_csv_crate_for_every_kind_of_field() {
        let mut texts: Vec<String> = vec![
            String::new(),
            ",".into(),
            "\"".into(),
            "\"\"".into(),
            "a,b".into(),
            "say \"hi\", then go".into(),
            "line\nbreak".into(),
            "cr\rlf\r\n".into(),
            "tab\there".into(),
            "nul\0".into(),
            "del\u{7f}".into(),
            "c1\u{85}next".into(),
            "sep\u{2028}\u{2029}".into(),
            "José, \"Zoë\"".into(),
            "€ – ü".into(),
            "back\\slash".into(),
            " leading and trailing ".into(),
            "x".repeat(200) + "," + &"y".repeat(100),
        ];
        // Every one-byte character and every ASCII pair with a special byte.
        texts.extend((0u32..0x100).filter_map(char::from_u32).map(String::from));
        for special in [",", "\"", "\n", "\r", "\u{1}"] {
            for c in (0x20u8..0x7f).map(char::from) {
                texts.push(format!("{c}{special}"));
                texts.push(format!("{special}{c}"));
            }
        }
        let rows: Vec<EvidenceRow> = texts
            .chunks(3)
            .enumerate()
            .map(|(i, t)| {
                let one = |k: usize| t.get(k).cloned().unwrap_or_default();
                EvidenceRow {
                    datetime: Timestamp::from_filetime(129_736_854_000_000_000 + i as u64),
                    timestamp_desc: one(0),
                    message: one(1),
                    artifact: one(2),
                    user: one(0),
                    path: one(1),
                    value: one(2),
                    size: (i % 2 == 0).then_some(i as u64),
                    sha256: one(0),
                    state: RecordState::Allocated,
                    source: one(1),
                    locator: one(2),
                }
            })
            .collect();
        let mut out = Vec::new();
        CsvWriter::new(Box::new(&mut out))
            .write_rows(&rows)
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&by_the_csv_crate(&rows))
        );
        assert_eq!(out, by_the_csv_crate(&rows));
    }

    #[test]
    fn an_empty_file_has_its_header() {
        let mut out = Vec::new();
        CsvWriter::new(Box::new(&mut out)).write_rows(&[]).unwrap();
        assert_eq!(out, by_the_csv_crate(&[]));
    }
}
