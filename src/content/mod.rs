//! Content readers: what NetSession's own files say.
//!
//! No public source documents NetSession's log or config formats, so text files are read
//! generically: a line with a recognisable timestamp becomes a `Log Entry` row at its own
//! time, and URLs, IP addresses, GUIDs and copyright notices are reported once per file.

pub mod accounts;
pub mod evtx;
pub mod netsession;
pub mod prefetch;
pub mod srum;
pub mod stream;
pub mod text;
pub mod zone_identifier;

use std::collections::BTreeMap;

use crate::catalog::{ContentKind, LogEvents};
use crate::evidence::{EvidenceRow, RecordState, RowSink};
use netsession::log_rows::Taken;
use text::IndicatorKind;

/// Longest value kept from one line; longer lines are cut and say so.
const MAX_LINE_CHARS: usize = 4096;

/// What a file's first bytes look like.
pub fn sniff(head: &[u8]) -> ContentKind {
    if head.starts_with(crate::signature::MZ) {
        ContentKind::Pe
    } else if head.starts_with(crate::signature::REGF) {
        ContentKind::Hive
    } else if head.is_empty() || text::is_text(head) {
        ContentKind::Text
    } else {
        ContentKind::Opaque
    }
}

/// Provenance shared by every row read from one file.
#[derive(Debug, Clone)]
pub struct FileContext {
    pub path: String,
    pub name: String,
    pub user: String,
    pub source: String,
    pub state: RecordState,
    pub sha256: String,
    /// The zone of the source's local times (its volume's SYSTEM hive, or
    /// `--source-tz`), when known: see [`crate::time::zone`].
    pub zone: Option<std::sync::Arc<crate::time::zone::SourceZone>>,
}

impl FileContext {
    fn row(&self, line_time: Option<&text::LineTime>) -> EvidenceRow {
        self.row_at(line_time.map(|t| t.time))
    }

    /// A row of this file at `time`, its fact fields still empty.
    pub(crate) fn row_at(&self, time: Option<crate::time::Timestamp>) -> EvidenceRow {
        EvidenceRow {
            datetime: time,
            timestamp_desc: String::new(),
            message: String::new(),
            artifact: String::new(),
            user: self.user.clone(),
            path: self.path.clone(),
            value: String::new(),
            size: None,
            sha256: self.sha256.clone(),
            state: self.state,
            source: self.source.clone(),
            locator: String::new(),
        }
    }
}

struct Mention {
    first_line: usize,
    first_time: Option<text::LineTime>,
    count: usize,
}

/// Rows for the timestamped lines and the indicators of a text file, one line at a time:
/// a `Log Entry` row per timestamped line at once, the indicators (once per file, with
/// their first line and count) at the end.
pub struct TextRows<'c> {
    ctx: &'c FileContext,
    /// Lines in NetSession's own log format, and their continuations.
    netsession: netsession::log_rows::NetSessionLines<'c>,
    line_no: usize,
    /// The time of the current line, for indicators in its later pieces.
    line_time: Option<text::LineTime>,
    /// By kind, then value: the order the rows are made in.
    mentions: BTreeMap<IndicatorKind, BTreeMap<String, Mention>>,
    /// Rows for timestamped lines of no known format (off for files a reader of their
    /// own reads: a `BuildTimeString=` or a report's local header time is not a log line).
    generic_lines: bool,
}

impl<'c> TextRows<'c> {
    pub fn new(ctx: &'c FileContext, events: &'c LogEvents) -> Self {
        TextRows {
            ctx,
            netsession: netsession::log_rows::NetSessionLines::new(ctx, events),
            line_no: 0,
            line_time: None,
            mentions: BTreeMap::new(),
            generic_lines: true,
        }
    }

    /// Only NetSession-format lines and indicators: for a file whose own reader makes
    /// the rows of its other timestamps.
    pub fn without_generic_lines(mut self) -> Self {
        self.generic_lines = false;
        self
    }

    /// A line or a piece of a long one, as [`text::LineDecoder`] hands them on.
    pub fn piece(&mut self, piece: text::Piece<'_>, rows: &mut dyn RowSink) {
        match piece {
            text::Piece::Line(line) => self.line(line, rows),
            // Later pieces of a long line: only their indicators count (the line's time
            // and value come from its start).
            text::Piece::Continued(rest) => self.mention_indicators(rest),
        }
    }

    /// The next line of the file (without its line end).
    pub fn line(&mut self, raw_line: &str, rows: &mut dyn RowSink) {
        self.line_no += 1;
        let line_no = self.line_no;
        let ctx = self.ctx;
        self.line_time = None;
        let line = raw_line.trim_end();
        if line.is_empty() {
            return;
        }
        match self.netsession.line(line_no, line, rows) {
            Some(Taken::Line { time, message }) => {
                self.line_time = Some(text::LineTime {
                    time,
                    zone_stated: true,
                    span: 0..0,
                });
                self.mention_indicators(message);
                return;
            }
            Some(Taken::Continuation) => {
                self.mention_indicators(line);
                return;
            }
            None => {}
        }
        self.netsession.flush(rows);
        self.line_time = text::find_line_time(line)
            .filter(|_| self.generic_lines && !is_certificate_validity(line));
        // A time without a zone is the source's local time: placed in UTC by the
        // source's zone where one is known (the text stays as written in `value`).
        let mut applied = None;
        if let (Some(lt), Some(zone)) = (self.line_time.as_mut(), ctx.zone.as_ref())
            && !lt.zone_stated
            && let Some((utc, offset)) = zone.to_utc(lt.time)
        {
            lt.time = utc;
            applied = Some(zone.applied(offset));
        }
        if let Some(lt) = &self.line_time {
            let mut row = ctx.row(Some(lt));
            row.timestamp_desc = "Log Entry".into();
            row.artifact = "content.log_entry".into();
            row.message = match (lt.zone_stated, applied) {
                (true, _) => format!("Line {line_no} of {}", ctx.name),
                (false, Some(applied)) => format!(
                    "Line {line_no} of {} (no time zone in the text: local time of the evidence, {applied})",
                    ctx.name
                ),
                (false, None) => format!(
                    "Line {line_no} of {} (no time zone in the text; shown as if UTC)",
                    ctx.name
                ),
            };
            row.value = cut_line(line);
            row.locator = format!("line={line_no}");
            rows.push(row);
        }
        self.mention_indicators(line);
    }

    fn mention_indicators(&mut self, text: &str) {
        for (kind, found) in text::find_indicators(text) {
            let of_kind = self.mentions.entry(kind).or_default();
            let mention = match of_kind.get_mut(found) {
                Some(m) => m,
                None => of_kind.entry(found.to_string()).or_insert(Mention {
                    first_line: self.line_no,
                    first_time: self.line_time.clone(),
                    count: 0,
                }),
            };
            mention.count += 1;
        }
    }

    /// The indicator rows.
    pub fn finish(mut self, rows: &mut dyn RowSink) {
        self.netsession.flush(rows);
        let ctx = self.ctx;
        for (kind, of_kind) in self.mentions {
            for (found, mention) in of_kind {
                let mut row = ctx.row(mention.first_time.as_ref());
                row.timestamp_desc = if mention.first_time.is_some() {
                    "Log Entry".into()
                } else {
                    "Found In File (no time)".into()
                };
                row.artifact = kind.artifact_id().into();
                let times = if mention.count == 1 {
                    "once".to_string()
                } else {
                    format!("{} times", mention.count)
                };
                row.message = format!(
                    "{} in {}: first on line {}, {times} in all",
                    kind.noun(),
                    ctx.name,
                    mention.first_line
                );
                row.value = cut_line(&found);
                row.locator = format!("line={}", mention.first_line);
                rows.push(row);
            }
        }
    }
}

/// Rows for the timestamped lines and the indicators of a decoded text file.
pub fn text_rows(text: &str, ctx: &FileContext, events: &LogEvents, rows: &mut dyn RowSink) {
    let mut reader = TextRows::new(ctx, events);
    for line in text.lines() {
        reader.line(line, rows);
    }
    reader.finish(rows);
}

/// `Not Before: Jun 29 17:06:20 2004 GMT` in a certificate's text form: a validity
/// date, not something that happened then.
fn is_certificate_validity(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("Not Before") || t.starts_with("Not After")
}

/// [`cut_line`] of a line already owned: kept as it is when short enough.
fn cut_owned(line: String) -> String {
    // Fewer bytes than the limit means fewer characters too.
    if line.len() <= MAX_LINE_CHARS {
        line
    } else {
        cut_line(&line)
    }
}

fn cut_line(line: &str) -> String {
    if line.chars().count() <= MAX_LINE_CHARS {
        line.to_string()
    } else {
        let kept: String = line.chars().take(MAX_LINE_CHARS).collect();
        format!("{kept}...[line cut at {MAX_LINE_CHARS} characters]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> FileContext {
        FileContext {
            path: "Users\\u\\AppData\\Local\\Akamai\\a.log".into(),
            name: "a.log".into(),
            user: "u".into(),
            source: "in".into(),
            state: RecordState::Allocated,
            sha256: "00".into(),
            zone: None,
        }
    }

    #[test]
    fn a_line_longer_than_a_piece_counts_once_and_keeps_its_indicators() {
        let long = format!(
            "2012-02-14 09:30:00 begin {} http://far.example.com/end\nhttp://far.example.com/end again\n",
            "y".repeat(text::MAX_PIECE * 2)
        );
        let mut decoder = text::LineDecoder::new();
        let ctx = ctx();
        let events = LogEvents::default();
        let mut reader = TextRows::new(&ctx, &events);
        let mut rows = Vec::new();
        for chunk in long.as_bytes().chunks(100_000) {
            decoder.feed(chunk, &mut |p| reader.piece(p, &mut rows));
        }
        assert!(decoder.finish(&mut |p| reader.piece(p, &mut rows)));
        reader.finish(&mut rows);
        let logs: Vec<_> = rows
            .iter()
            .filter(|r| r.artifact == "content.log_entry")
            .collect();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].locator, "line=1");
        let url = rows
            .iter()
            .find(|r| r.value == "http://far.example.com/end")
            .expect("URL at the end of the long line");
        assert_eq!(url.locator, "line=1");
        assert_eq!(url.timestamp_desc, "Log Entry", "the long line's time");
        assert!(url.message.ends_with("2 times in all"), "{}", url.message);
    }

    #[test]
    fn timestamped_lines_and_indicators() {
        let text = "2012-02-14 09:30:00 start http://dl.example.com/x.bin\nno time here http://dl.example.com/x.bin\n\n2012-02-14 09:31:00Z peer 10.1.2.3 connected\n";
        let mut rows = Vec::new();
        text_rows(text, &ctx(), &LogEvents::default(), &mut rows);
        let logs: Vec<_> = rows
            .iter()
            .filter(|r| r.artifact == "content.log_entry")
            .collect();
        assert_eq!(logs.len(), 2);
        assert_eq!(logs[0].locator, "line=1");
        assert!(logs[0].message.contains("no time zone"));
        assert!(!logs[1].message.contains("no time zone"));
        assert_eq!(logs[1].locator, "line=4");
        let url = rows.iter().find(|r| r.artifact == "content.url").unwrap();
        assert_eq!(url.value, "http://dl.example.com/x.bin");
        assert!(url.message.contains("2 times"), "{}", url.message);
        assert_eq!(url.datetime.unwrap().to_iso8601(), "2012-02-14T09:30:00Z");
        let ip = rows.iter().find(|r| r.artifact == "content.ip").unwrap();
        assert_eq!(ip.value, "10.1.2.3");
        assert_eq!(ip.locator, "line=4");
    }

    #[test]
    fn a_known_zone_places_zoneless_lines_in_utc_and_leaves_stated_ones() {
        let zone = crate::time::zone::SourceZone::parse("Europe/Berlin").unwrap();
        let ctx = FileContext {
            zone: Some(std::sync::Arc::new(zone)),
            ..ctx()
        };
        let text =
            "2012-07-01 12:00:00 start http://dl.example.com/x.bin\n2012-07-01 12:00:00Z stated\n";
        let mut rows = Vec::new();
        text_rows(text, &ctx, &LogEvents::default(), &mut rows);
        let logs: Vec<_> = rows
            .iter()
            .filter(|r| r.artifact == "content.log_entry")
            .collect();
        assert_eq!(
            logs[0].datetime.unwrap().to_iso8601(),
            "2012-07-01T10:00:00Z"
        );
        assert_eq!(
            logs[0].value,
            "2012-07-01 12:00:00 start http://dl.example.com/x.bin"
        );
        assert!(
            logs[0].message.contains(
                "local time of the evidence, zone Europe/Berlin applied (UTC+02:00 at that time), from --source-tz"
            ),
            "{}",
            logs[0].message
        );
        assert_eq!(
            logs[1].datetime.unwrap().to_iso8601(),
            "2012-07-01T12:00:00Z"
        );
        assert_eq!(logs[1].message, "Line 2 of a.log");
        // The indicator's first time is the line's, converted.
        let url = rows.iter().find(|r| r.artifact == "content.url").unwrap();
        assert_eq!(url.datetime.unwrap().to_iso8601(), "2012-07-01T10:00:00Z");
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"MZ\x90\x00"), ContentKind::Pe);
        assert_eq!(sniff(b"hello\r\nworld"), ContentKind::Text);
        assert_eq!(
            sniff(&[0u8, 1, 2, 3, 0xff, 0xfe, 0, 0, 7, 8]),
            ContentKind::Opaque
        );
    }
}
