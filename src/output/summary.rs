//! The short summary printed on stderr at the end of a scan.

use std::fmt::Write;

use crate::evidence::RowCounts;
use crate::scan::ScanStats;

/// `counts` of the rows written, `warnings` how many were met.
pub fn render(stats: &ScanStats, counts: &RowCounts, warnings: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "netsession-scan: {} input(s), {} entries walked, {} matched, {} file(s) read, {} hive(s) analysed, {} evidence row(s), {} warning(s), {:.2} s",
        stats.inputs,
        stats.entries_seen,
        stats.candidates,
        stats.files_read,
        stats.hives,
        counts.total,
        warnings,
        stats.elapsed.as_secs_f64()
    );
    if stats.event_logs > 0 {
        let _ = writeln!(
            out,
            "  {} event log(s) read: {} chunk(s), {} parsed (the others name nothing an event rule looks for), {} record(s) read in them",
            stats.event_logs, stats.event_chunks, stats.event_chunks_parsed, stats.event_records
        );
    }
    if stats.srum_databases > 0 {
        let _ = writeln!(out, "  {} SRUM database(s) read", stats.srum_databases);
    }
    let per_artifact = &counts.per_artifact;
    if !stats.nothing_scanned.is_empty() {
        let _ = writeln!(
            out,
            "  nothing could be scanned in {} input(s) (see the warnings): {}",
            stats.nothing_scanned.len(),
            stats.nothing_scanned.join(", ")
        );
    }
    if per_artifact.is_empty() && stats.nothing_scanned.len() == stats.inputs {
        let _ = writeln!(
            out,
            "  no NetSession trace found, but nothing was scanned: this is no finding"
        );
    } else if per_artifact.is_empty() {
        let _ = writeln!(
            out,
            "  no NetSession trace found in what was scanned (which is not proof it was never installed)"
        );
    }
    for (artifact, count) in per_artifact {
        let _ = writeln!(out, "  {artifact:<32} {count:>8} row(s)");
    }
    out
}
