//! Rows for NetSession-format log lines (see [`super::log`]), one line at a time: a row
//! per line at its UTC second, named by the catalog's log events where one matches; the
//! lines after it that are not in the format (a wrapped message, a stack) are carried
//! as its continuation, never dropped.

use crate::catalog::LogEvents;
use crate::content::FileContext;
use crate::evidence::{EvidenceRow, RowSink};

use super::log::{LogLine, parse_line};

/// Longest message text kept in the `message` column (the value has the whole line).
const MESSAGE_CHARS: usize = 240;
/// Longest value kept for one line with its continuations.
const VALUE_CHARS: usize = 16 * 1024;

/// The artifact of a NetSession log line no event names.
pub const LOG_LINE: &str = "netsession.log_line";

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

    /// Take a line (trimmed, not empty): true when it was a NetSession line or the
    /// continuation of one; false leaves it to the generic text reader.
    pub fn line(&mut self, line_no: usize, line: &str, rows: &mut dyn RowSink) -> bool {
        if let Some(parsed) = parse_line(line) {
            self.flush(rows);
            self.pending = Some(Pending {
                row: self.row(line_no, &parsed),
                dropped: 0,
            });
            return true;
        }
        let Some(pending) = self.pending.as_mut() else {
            return false;
        };
        if crate::content::text::find_line_time(line).is_some() {
            // A line of another format with a time of its own: not a continuation.
            return false;
        }
        if pending.row.value.chars().count() + line.len() > VALUE_CHARS {
            pending.dropped += 1;
        } else {
            pending
                .row
                .value
                .push_str(&format!(" | continued on line {line_no}: {line}"));
        }
        true
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
        let mut value = format!("level={}", line.level);
        if let Some(w) = &line.writer {
            for (key, text) in [
                ("component", w.component),
                ("client_bin_id", w.client_bin_id),
                ("version", w.version),
                ("running_client_bin_id", w.running_bin_id),
                ("running_version", w.running_version),
            ] {
                if !text.is_empty() {
                    value.push_str(&format!("; {key}={text}"));
                }
            }
        }
        if !line.source.is_empty() {
            value.push_str(&format!("; source={}", line.source));
        }
        if let Some((_, fields)) = &found {
            for (name, text) in fields {
                value.push_str(&format!("; {name}={text}"));
            }
        }
        value.push_str(&format!("; message={}", line.message));
        let shown = short(line.message);
        let (desc, artifact, message) = match &found {
            Some((event, _)) => (
                event.event.clone(),
                event.info.id.clone(),
                format!(
                    "{} (NetSession log {} line {line_no}, time in UTC): {shown}",
                    event.info.what, ctx.name
                ),
            ),
            None => (
                "Log Entry".to_string(),
                LOG_LINE.to_string(),
                format!(
                    "NetSession log {} line {line_no} [{}] (time in UTC): {shown}",
                    ctx.name, line.level
                ),
            ),
        };
        let mut row = ctx.row_at(Some(line.time));
        row.timestamp_desc = desc;
        row.artifact = artifact;
        row.message = message;
        row.value = super::super::cut_line(&value);
        row.locator = format!("line={line_no}");
        row
    }
}

fn short(message: &str) -> String {
    if message.chars().count() <= MESSAGE_CHARS {
        message.to_string()
    } else {
        let kept: String = message.chars().take(MESSAGE_CHARS).collect();
        format!("{kept}...")
    }
}
