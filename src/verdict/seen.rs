//! Statement 3: first and last seen, over every row with a time; access times,
//! being noisy, count for "last seen" only when nothing else is left.

use std::fmt::Write;

use super::Moment;
use super::rows::{Earliest, Latest, is_access_only};
use super::statement::{Statement, moment_parts, n_rows, statement, t};
use crate::evidence::EvidenceRow;

/// Statement 3: first and last time seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub timed_rows: usize,
    /// Rows whose only time is an access time.
    pub access_only_rows: usize,
    pub first: Option<Moment>,
    pub last: Option<Moment>,
    /// `last` is an access time because no other time exists.
    pub last_is_access: bool,
}

/// Builds [`Seen`] row by row.
#[derive(Debug, Default)]
pub(super) struct SeenAcc {
    timed_rows: usize,
    access_only_rows: usize,
    first: Earliest,
    last_any: Latest,
    last_not_access: Latest,
}

impl SeenAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        // The time a live key was written after one of its NetSession values had been
        // deleted is no sighting of NetSession (the removal statement dates it).
        if row.datetime.is_none()
            || row.timestamp_desc == crate::registry::KEY_WRITTEN_AFTER_DELETION
        {
            return;
        }
        self.timed_rows += 1;
        self.first.add(row);
        self.last_any.add(row);
        if is_access_only(&row.timestamp_desc) {
            self.access_only_rows += 1;
        } else {
            self.last_not_access.add(row);
        }
    }

    pub fn finish(self) -> Seen {
        let (last, last_is_access) = match self.last_not_access.moment() {
            Some(m) => (Some(m), false),
            None => {
                let any = self.last_any.moment();
                let is_access = any.is_some();
                (any, is_access)
            }
        };
        Seen {
            timed_rows: self.timed_rows,
            access_only_rows: self.access_only_rows,
            first: self.first.moment(),
            last,
            last_is_access,
        }
    }
}

pub(super) fn first_seen_statement(seen: &Seen) -> Statement {
    let parts = match &seen.first {
        Some(m) => {
            let mut parts = moment_parts(m);
            parts.push(t(format!(
                " (earliest of {} with a time",
                n_rows(seen.timed_rows)
            )));
            if m.artifact == "execution.appcompatcache" {
                parts.push(t(
                    "; a file modification time as cached, which may predate the file's arrival on this system",
                ));
            }
            parts.push(t(")"));
            parts
        }
        None => vec![t("no row with a time (0 rows)")],
    };
    statement("first seen", parts)
}

pub(super) fn last_seen_statement(seen: &Seen) -> Statement {
    let parts = match &seen.last {
        Some(m) if seen.last_is_access => {
            let mut parts = moment_parts(m);
            parts.push(t(format!(
                " (latest of {}; only access times exist here, and access times are noisy)",
                n_rows(seen.timed_rows)
            )));
            parts
        }
        Some(m) => {
            let mut parts = moment_parts(m);
            let counted = seen.timed_rows - seen.access_only_rows;
            let mut note = format!("latest of {} with a time", n_rows(counted));
            if seen.access_only_rows > 0 {
                let _ = write!(
                    note,
                    "; {} whose only time is an access time left out, access times being noisy",
                    n_rows(seen.access_only_rows)
                );
            }
            parts.push(t(format!(" ({note})")));
            parts
        }
        None => vec![t("no row with a time (0 rows)")],
    };
    statement("last seen", parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    #[test]
    fn access_times_are_not_last_seen_unless_nothing_else() {
        assert!(is_access_only("Accessed (filesystem)"));
        assert!(is_access_only("Accessed ($SI)"));
        assert!(!is_access_only("Created, Accessed ($SI)"));
        assert!(!is_access_only("Modified, Accessed (filesystem)"));
        assert!(!is_access_only("Log Entry"));
        assert!(!is_access_only(""));

        let exe = jose_file("netsession_win.exe");
        let rows = [
            timed(row("install.client", "u", &exe, ""), 0, "Created ($SI)"),
            timed(row("install.client", "u", &exe, ""), 900, "Accessed ($SI)"),
            timed(
                row("content.log_entry", "u", &jose_file("a.log"), "x"),
                600,
                "Log Entry",
            ),
            row(
                "content.copyright",
                "u",
                &jose_file("readme.txt"),
                "Copyright (c) 2008-2012",
            ),
        ];
        let v = verdict(&rows);
        let seen = &only_scope(&v).seen;
        assert_eq!(seen.timed_rows, 3);
        assert_eq!(seen.access_only_rows, 1);
        assert_eq!(seen.first.as_ref().map(|m| m.time), Some(at(0)));
        let last = seen.last.as_ref().unwrap_or_else(|| unreachable!());
        assert_eq!(last.time, at(600));
        assert_eq!(last.artifact, "content.log_entry");
        assert!(!seen.last_is_access);
        let text = v.to_text();
        assert!(
            text.contains("last seen: 2012-02-14T09:40:00Z from content.log_entry (Log Entry)"),
            "{text}"
        );
        assert!(
            text.contains("1 row whose only time is an access time left out"),
            "{text}"
        );

        // Only an access time: used, and said to be one.
        let v = verdict(&[timed(
            row("install.client", "u", &exe, ""),
            900,
            "Accessed ($SI)",
        )]);
        let seen = &only_scope(&v).seen;
        assert!(seen.last_is_access);
        assert_eq!(seen.last.as_ref().map(|m| m.time), Some(at(900)));
        assert!(v.to_text().contains("only access times exist here"));
    }
}
