//! Timesketch JSONL: one JSON object per row and line, the CSV's fields under the same
//! names, plus `timestamp` (microseconds since the Unix epoch) as Timesketch's importer
//! takes it. A fact with no time at all has an empty `datetime` and no `timestamp`.

use std::io::{self, Write};

use serde::Serialize;

use super::EvidenceWriter;
use crate::evidence::EvidenceRow;

pub struct JsonlWriter<'w> {
    sink: Box<dyn Write + 'w>,
}

impl<'w> JsonlWriter<'w> {
    pub fn new(sink: Box<dyn Write + 'w>) -> Self {
        JsonlWriter { sink }
    }
}

/// One line: field order as in the CSV, `timestamp` last.
#[derive(Serialize)]
struct Line<'a> {
    datetime: String,
    timestamp_desc: &'a str,
    message: &'a str,
    artifact: &'a str,
    user: &'a str,
    path: &'a str,
    value: &'a str,
    size: Option<u64>,
    sha256: &'a str,
    state: &'a str,
    source: &'a str,
    locator: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<i64>,
}

impl<'a> Line<'a> {
    fn of(row: &'a EvidenceRow) -> Line<'a> {
        Line {
            datetime: row.datetime.map(|t| t.to_iso8601()).unwrap_or_default(),
            timestamp_desc: &row.timestamp_desc,
            message: &row.message,
            artifact: &row.artifact,
            user: &row.user,
            path: &row.path,
            value: &row.value,
            size: row.size,
            sha256: &row.sha256,
            state: row.state.as_str(),
            source: &row.source,
            locator: &row.locator,
            // Floor division: an instant before 1970 stays before it.
            timestamp: row
                .datetime
                .and_then(|t| i64::try_from(t.unix_nanos().div_euclid(1000)).ok()),
        }
    }
}

impl EvidenceWriter for JsonlWriter<'_> {
    fn write_row(&mut self, row: &EvidenceRow) -> io::Result<()> {
        // JSON escapes control characters itself: values stay byte-exact.
        serde_json::to_writer(&mut self.sink, &Line::of(row)).map_err(io::Error::other)?;
        self.sink.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::RecordState;
    use crate::time::Timestamp;

    fn row(datetime: Option<Timestamp>) -> EvidenceRow {
        EvidenceRow {
            datetime,
            timestamp_desc: "Modified ($SI)".into(),
            message: "two\nlines \"quoted\"".into(),
            artifact: "install.client".into(),
            user: "José".into(),
            path: "Users\\José\\netsession_win.exe".into(),
            value: String::new(),
            size: Some(42),
            sha256: "ab".into(),
            state: RecordState::Deleted,
            source: "disk.E01 p1@1048576".into(),
            locator: "mft=76 seq=1".into(),
        }
    }

    #[test]
    fn one_object_per_line_with_microseconds() {
        let rows = [
            row(Timestamp::from_filetime(129_736_854_001_234_567)),
            row(None),
        ];
        let mut out = Vec::new();
        JsonlWriter::new(Box::new(&mut out))
            .write_rows(&rows)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first["datetime"], "2012-02-14T09:30:00.1234567Z");
        // 100-ns digits beyond the microsecond are cut, not rounded.
        assert_eq!(first["timestamp"], 1_329_211_800_123_456i64);
        assert_eq!(first["message"], "two\nlines \"quoted\"");
        assert_eq!(first["size"], 42);
        assert_eq!(first["state"], "deleted");
        assert!(lines[0].starts_with("{\"datetime\":"));
        let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(second["datetime"], "");
        assert!(second.get("timestamp").is_none());
    }

    #[test]
    fn before_1970_floors() {
        let t = Timestamp::from_unix(-1, 500_000_000, crate::time::Precision::Millis);
        let mut out = Vec::new();
        JsonlWriter::new(Box::new(&mut out))
            .write_rows(&[row(t)])
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["timestamp"], -500_000);
    }
}
