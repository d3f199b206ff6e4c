//! Rows for NetSession-format log lines (see [`super::log`]), one line at a time: a row
//! per line at its UTC second, named by the catalog's log events where one matches; the
//! lines after it that are not in the format (a wrapped message, a stack) are carried
//! as its continuation, never dropped.

use crate::catalog::LogEvents;
use crate::content::FileContext;
use crate::evidence::{EvidenceRow, RowSink};

use super::log::{LogLine, parse_line};

/// Longest value kept for one line with its continuations.
const VALUE_CHARS: usize = 16 * 1024;

/// The artifact of a NetSession log line no event names.
pub const LOG_LINE: &str = "netsession.log_line";

/// What [`NetSessionLines::line`] made of a line.
pub enum Taken<'l> {
    /// A NetSession line: its time, and its message (where indicators are looked for:
    /// the prefix and source location hold versions and colons, not evidence).
    Line {
        time: crate::time::Timestamp,
        message: &'l str,
    },
    /// A continuation of the line before.
    Continuation,
}

/// NetSession lines of one file, with the row of the last one held back for its
/// continuation lines.
pub struct NetSessionLines<'c> {
    ctx: &'c FileContext,
    events: &'c LogEvents,
    pending: Option<Pending>,
}

struct Pending {
    row: EvidenceRow,
    /// Continuation lines not kept once the value reached [`VALUE_CHARS`].
    dropped: usize,
}

impl<'c> NetSessionLines<'c> {
    pub fn new(ctx: &'c FileContext, events: &'c LogEvents) -> Self {
        NetSessionLines {
            ctx,
            events,
            pending: None,
        }
    }

    /// Take a line (trimmed, not empty): `None` leaves it to the generic text reader.
    pub fn line<'l>(
        &mut self,
        line_no: usize,
        line: &'l str,
        rows: &mut dyn RowSink,
    ) -> Option<Taken<'l>> {
        if let Some(parsed) = parse_line(line) {
            self.flush(rows);
            self.pending = Some(Pending {
                row: self.row(line_no, &parsed),
                dropped: 0,
            });
            return Some(Taken::Line {
                time: parsed.time,
                message: parsed.message,
            });
        }
        let pending = self.pending.as_mut()?;
        if crate::content::text::find_line_time(line).is_some() {
            // A line of another format with a time of its own: not a continuation.
            return None;
        }
        if pending.row.value.chars().count() + line.len() > VALUE_CHARS {
            pending.dropped += 1;
        } else {
            pending
                .row
                .value
                .push_str(&format!(" | continued on line {line_no}: {line}"));
        }
        Some(Taken::Continuation)
    }

    /// A line of another format ends the continuation of the last NetSession line.
    pub fn flush(&mut self, rows: &mut dyn RowSink) {
        if let Some(mut pending) = self.pending.take() {
            if pending.dropped > 0 {
                pending.row.value.push_str(&format!(
                    " | ...{} more continuation line(s) not kept",
                    pending.dropped
                ));
            }
            rows.push(pending.row);
        }
    }

    fn row(&self, line_no: usize, line: &LogLine<'_>) -> EvidenceRow {
        let ctx = self.ctx;
        let found = self.events.find(line.message);
        let mut value = String::with_capacity(line.message.len() + 160);
        value.push_str("level=");
        value.push_str(line.level);
        let mut field = |key: &str, text: &str| {
            if !text.is_empty() {
                value.push_str("; ");
                value.push_str(key);
                value.push('=');
                value.push_str(text);
            }
        };
        if let Some(w) = &line.writer {
            field("component", w.component);
            field("client_bin_id", w.client_bin_id);
            field("version", w.version);
            field("running_client_bin_id", w.running_bin_id);
            field("running_version", w.running_version);
        }
        field("source", line.source);
        if let Some((_, fields)) = &found {
            for (name, text) in fields {
                field(name, text);
            }
        }
        value.push_str("; message=");
        value.push_str(line.message);
        // The line's text is in the value (whole); the message says what it is, so the
        // timeline does not carry every line twice.
        // Built with push_str, not format!: this runs once per log line.
        let number = line_no.to_string();
        let mut message = String::with_capacity(ctx.name.len() + 96);
        let (desc, artifact) = match &found {
            Some((event, _)) => {
                for part in [
                    event.info.what.as_str(),
                    " (NetSession log ",
                    &ctx.name,
                    " line ",
                    &number,
                    ", time in UTC)",
                ] {
                    message.push_str(part);
                }
                (event.event.clone(), event.info.id.clone())
            }
            None => {
                for part in [
                    "NetSession log ",
                    &ctx.name,
                    " line ",
                    &number,
                    " [",
                    line.level,
                    "] (time in UTC)",
                ] {
                    message.push_str(part);
                }
                ("Log Entry".to_string(), LOG_LINE.to_string())
            }
        };
        let mut row = ctx.row_at(Some(line.time));
        row.timestamp_desc = desc;
        row.artifact = artifact;
        row.message = message;
        row.value = super::super::cut_owned(value);
        let mut locator = String::with_capacity(5 + number.len());
        locator.push_str("line=");
        locator.push_str(&number);
        row.locator = locator;
        row
    }
}
