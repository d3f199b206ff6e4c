//! The short summary printed on stderr at the end of a scan.

use std::fmt::Write;

use crate::Report;

pub fn render(report: &Report) -> String {
    let stats = &report.stats;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "netsession-scan: {} input(s), {} entries walked, {} matched, {} file(s) read, {} hive(s) analysed, {} evidence row(s), {} warning(s), {:.2} s",
        stats.inputs,
        stats.entries_seen,
        stats.candidates,
        stats.files_read,
        stats.hives,
        report.rows.len(),
        report.warnings.len(),
        stats.elapsed.as_secs_f64()
    );
    let per_artifact = &report.rows.counts().per_artifact;
    if per_artifact.is_empty() {
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
