//! Event logs in the scan: each log a view matched is opened once and read by
//! `content::evtx` (both cores, one log each); its hits become rows once the log's hash
//! is known. Events that name no term but carry a join value (a deleted firewall rule
//! names only its id) wait for the end of the scan, where the values NetSession's events
//! and registry rules named, in every log and hive scanned, decide them; so do events
//! that concern every program (all firewall rules deleted): kept where NetSession had a
//! rule.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::catalog::{Catalog, RegistryFamily};
use crate::content::evtx::matcher::{EventMatcher, Why};
use crate::content::evtx::rows::{LogContext, event_row};
use crate::content::evtx::{EventHit, LogSummary, read_log};
use crate::evidence::EvidenceRow;
use crate::fs::{Candidate, FileSystem};
use crate::store::RowStore;
use crate::warning::Warnings;

/// Term-less events waiting to be tied to NetSession; more than this many are dropped
/// with a warning (a firewall log holds a few thousand rule changes at most).
const MAX_PENDING: usize = 200_000;

/// Totals over the logs read.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogTotals {
    pub logs: usize,
    pub chunks: u64,
    pub chunks_parsed: u64,
    pub records: u64,
}

/// What the end of the scan decides: join values known to be NetSession's, and the
/// events waiting on them.
#[derive(Default)]
pub(super) struct EventJoin {
    /// (join group, field, value), field and value folded to lower case -> what named it.
    known: HashMap<(String, String, String), String>,
    pending: Vec<(EventHit, LogContext)>,
    dropped: usize,
    totals: LogTotals,
}

impl EventJoin {
    pub(super) fn totals(&self) -> LogTotals {
        self.totals
    }

    /// The rule ids of NetSession's firewall rules in the registry rows (`Rule=<id>` in
    /// their value, as `registry::artifacts::firewall` writes it).
    pub(super) fn learn_from_registry(&mut self, catalog: &Catalog, rows: &[EvidenceRow]) {
        for row in rows {
            let is_firewall = catalog
                .registry
                .iter()
                .any(|r| r.family == RegistryFamily::Firewall && r.info.id == row.artifact);
            if !is_firewall {
                continue;
            }
            let Some(at) = row.value.find("; Rule=") else {
                continue;
            };
            let rest = &row.value[at + "; Rule=".len()..];
            let id = rest.split("; Name=").next().unwrap_or(rest);
            // Registry rules are NetSession's by the catalog's terms: the default group.
            self.known
                .entry((String::new(), "ruleid".into(), id.to_lowercase()))
                .or_insert_with(|| format!("the registry firewall rule at {}", row.path));
        }
    }

    /// Rows of the waiting events whose join value turned out to be NetSession's.
    pub(super) fn resolve(self, catalog: &Catalog, warnings: &Warnings) -> Vec<EvidenceRow> {
        if self.dropped > 0 {
            warnings.push(
                "event logs",
                "join of term-less events",
                format!(
                    "{} events beyond the first {MAX_PENDING} waiting for a join were not tied to NetSession",
                    self.dropped
                ),
            );
        }
        let mut rows = Vec::new();
        for (hit, ctx) in self.pending {
            let rule = &catalog.events[hit.rule];
            // An event that concerns every program (all rules deleted) is kept where
            // NetSession had a rule to lose.
            if hit.why == Why::Every {
                let group_known = self
                    .known
                    .keys()
                    .any(|(group, _, _)| *group == rule.join_group);
                if group_known {
                    rows.push(event_row(rule, &hit, &ctx, None));
                }
                continue;
            }
            let Why::Join { field, value } = &hit.why else {
                continue;
            };
            let key = (
                rule.join_group.clone(),
                field.to_lowercase(),
                value.to_lowercase(),
            );
            if let Some(by) = self.known.get(&key) {
                rows.push(event_row(rule, &hit, &ctx, Some(by)));
            }
        }
        rows
    }
}

/// Read every event log candidate of a view. `users` names the SIDs of its system.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_logs(
    view: &dyn FileSystem,
    logs: &[Candidate],
    catalog: &Catalog,
    users: &[(String, String)],
    hash: bool,
    warnings: &Warnings,
    store: &RowStore,
    join: &Mutex<EventJoin>,
) {
    if catalog.events.is_empty() {
        return;
    }
    let matcher = EventMatcher::new(&catalog.events);
    logs.par_iter().for_each(|candidate| {
        let ctx = LogContext {
            path: candidate.evidence_path(),
            source: view.candidate_source(candidate),
            sha256: String::new(),
            users: users.to_vec(),
        };
        match view.open(candidate) {
            Ok(reader) => {
                read_and_keep(reader, &matcher, ctx, catalog, hash, warnings, store, join)
            }
            Err(err) => warnings.push(
                &ctx.source,
                &ctx.path,
                format!("event log not readable: {err}"),
            ),
        }
    });
}

/// Read event logs given on the command line.
pub(super) fn read_host_logs(
    inputs: &[&crate::input::Input],
    catalog: &Catalog,
    users: &[(String, String)],
    hash: bool,
    warnings: &Warnings,
    store: &RowStore,
    join: &Mutex<EventJoin>,
) {
    if catalog.events.is_empty() {
        return;
    }
    let matcher = EventMatcher::new(&catalog.events);
    inputs.par_iter().for_each(|input| {
        let ctx = LogContext {
            path: input.label.clone(),
            source: input.label.clone(),
            sha256: String::new(),
            users: users.to_vec(),
        };
        match crate::host::open_evidence_file(&input.path) {
            Ok(file) => read_and_keep(
                std::io::BufReader::with_capacity(1 << 20, file),
                &matcher,
                ctx,
                catalog,
                hash,
                warnings,
                store,
                join,
            ),
            Err(err) => warnings.push(&ctx.source, "file", format!("cannot open: {err}")),
        }
    });
}

/// Rows of one log held until its hash is known; past this many, rows are handed on
/// without it (memory stays bounded whatever the log holds), and a warning says so.
const MAX_HELD_ROWS: usize = 50_000;

/// Read one log; its hits become rows (with the log's hash) or wait for the join.
#[allow(clippy::too_many_arguments)]
fn read_and_keep(
    reader: impl std::io::Read,
    matcher: &EventMatcher<'_>,
    ctx: LogContext,
    catalog: &Catalog,
    hash: bool,
    warnings: &Warnings,
    store: &RowStore,
    join: &Mutex<EventJoin>,
) {
    let mut held: Vec<EvidenceRow> = Vec::new();
    let mut waiting: Vec<EventHit> = Vec::new();
    let mut unhashed = 0usize;
    let mut dropped = 0usize;
    // A stale copy of a live record, carved from a chunk's slack, is the same event.
    let mut live: HashSet<(u64, String)> = HashSet::new();
    let mut on_hit = |hit: EventHit| {
        let key = (hit.event.record_id, hit.event.time_created.clone());
        if hit.recovered && live.contains(&key) {
            return;
        }
        if !hit.recovered {
            live.insert(key);
        }
        let rule = &catalog.events[hit.rule];
        if matches!(hit.why, Why::Join { .. } | Why::Every) {
            if waiting.len() < MAX_PENDING {
                waiting.push(hit);
            } else {
                dropped += 1;
            }
            return;
        }
        if let Some(field) = &rule.join_field
            && let Some(value) = hit.event.field(field).filter(|v| !v.is_empty())
        {
            let namer = format!(
                "event {} record {} in {}",
                hit.event.event_id, hit.event.record_id, ctx.path
            );
            join.lock()
                .unwrap_or_else(|e| e.into_inner())
                .known
                .entry((
                    rule.join_group.clone(),
                    field.to_lowercase(),
                    value.to_lowercase(),
                ))
                .or_insert(namer);
        }
        held.push(event_row(rule, &hit, &ctx, None));
        if held.len() >= MAX_HELD_ROWS {
            unhashed += held.len();
            store.push_all(std::mem::take(&mut held));
        }
    };
    let summary = read_one(reader, matcher, hash, &ctx, warnings, &mut on_hit);
    let sha256 = summary
        .as_ref()
        .and_then(|s| s.sha256.clone())
        .unwrap_or_default();
    for row in &mut held {
        row.sha256.clone_from(&sha256);
    }
    store.push_all(held);
    if unhashed > 0 {
        warnings.push(
            &ctx.source,
            &ctx.path,
            format!(
                "{unhashed} event rows were handed on before the log's hash was known (more than {MAX_HELD_ROWS} matched): their sha256 is empty; the log's is {sha256}"
            ),
        );
    }
    let ctx = LogContext { sha256, ..ctx };
    let mut guard = join.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(summary) = &summary {
        guard.totals.logs += 1;
        guard.totals.chunks += summary.chunks;
        guard.totals.chunks_parsed += summary.chunks_parsed;
        guard.totals.records += summary.records;
    }
    guard.dropped += dropped;
    for hit in waiting {
        if guard.pending.len() < MAX_PENDING {
            guard.pending.push((hit, ctx.clone()));
        } else {
            guard.dropped += 1;
        }
    }
}

/// Read one log, handing each hit to `on_hit`: its summary, none when it is no event
/// log at all (said in a warning, with how many events were found before).
fn read_one(
    reader: impl std::io::Read,
    matcher: &EventMatcher<'_>,
    hash: bool,
    ctx: &LogContext,
    warnings: &Warnings,
    on_hit: &mut dyn FnMut(EventHit),
) -> Option<LogSummary> {
    let mut found = 0usize;
    let mut problem = |location: String, message: String| {
        let location = if ctx.path == ctx.source {
            location
        } else {
            format!("{}: {location}", ctx.path)
        };
        warnings.push(&ctx.source, location, message);
    };
    let result = read_log(reader, matcher, hash, &mut problem, &mut |hit| {
        found += 1;
        on_hit(hit)
    });
    match result {
        Ok(summary) => Some(summary),
        Err(err) => {
            warnings.push(
                &ctx.source,
                &ctx.path,
                format!("not read as an event log: {err}; {found} event(s) found before"),
            );
            None
        }
    }
}
