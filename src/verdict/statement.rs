//! The words of a statement: what we say, what we quote from the evidence, and how rows
//! are counted in them. `render` lays statements out as text or Markdown.

use std::fmt::Write;

use super::{Counted, Moment};
use crate::time::Timestamp;

/// A piece of a statement: our words, or something taken from the evidence (shown as
/// code in Markdown, cleaned of control characters everywhere).
#[derive(Debug, Clone)]
pub(super) enum Part {
    Text(String),
    Code(String),
}

pub(super) fn t(s: impl Into<String>) -> Part {
    Part::Text(s.into())
}

pub(super) fn c(s: &str) -> Part {
    Part::Code(clean(s))
}

pub(super) fn time_part(time: Timestamp) -> Part {
    Part::Code(time.to_iso8601())
}

/// One labelled statement, with sub-items where it lists several things.
pub(super) struct Statement {
    pub(super) label: &'static str,
    pub(super) parts: Vec<Part>,
    pub(super) items: Vec<Vec<Part>>,
}

/// A statement made of a list of items, or of one sentence saying there is none.
pub(super) fn list_statement(label: &'static str, items: Vec<Vec<Part>>, none: &str) -> Statement {
    let parts = if items.is_empty() {
        vec![t(none)]
    } else {
        Vec::new()
    };
    Statement {
        label,
        parts,
        items,
    }
}

pub(super) fn statement(label: &'static str, parts: Vec<Part>) -> Statement {
    Statement {
        label,
        parts,
        items: Vec::new(),
    }
}

/// Evidence text may hold control characters (a log line, a value name): never let them
/// reach a terminal or break a Markdown line.
pub(super) fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_control() {
            let _ = write!(out, "\\x{:02x}", ch as u32);
        } else {
            out.push(ch);
        }
    }
    out
}

pub(super) fn n_rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

pub(super) fn counted_list(items: &[Counted]) -> Vec<Part> {
    let mut parts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            parts.push(t(", "));
        }
        parts.push(c(&item.value));
        parts.push(t(format!(" ({})", n_rows(item.rows))));
    }
    parts
}

pub(super) fn moment_parts(m: &Moment) -> Vec<Part> {
    vec![
        time_part(m.time),
        t(" from "),
        c(&m.artifact),
        t(" ("),
        c(&m.timestamp_desc),
        t(") "),
        c(&m.path),
    ]
}
