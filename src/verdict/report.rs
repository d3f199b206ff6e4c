//! The Markdown report (`--report`): a header that makes it stand on its own (tool and
//! version, command line, UTC start and end, the inputs with their kinds and sizes, rows
//! per artifact, every warning), then the verdict.

use std::fmt::Write as _;

use super::Verdict;
use super::render::md_text;
use crate::evidence::RowCounts;
use crate::input::Input;
use crate::warning::Warning;

/// What the report says about the run besides the verdict.
pub struct ReportRun<'a> {
    pub command_line: &'a [String],
    /// UTC, ISO 8601.
    pub started: &'a str,
    pub finished: &'a str,
    pub inputs: &'a [Input],
    pub counts: &'a RowCounts,
    pub warnings: &'a [Warning],
}

/// A Markdown code span holding `s` as is (a longer fence when `s` holds backticks).
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let mut fence = String::from("`");
    while s.contains(fence.as_str()) {
        fence.push('`');
    }
    format!("{fence} {s} {fence}")
}

/// The run's header, then the verdict's Markdown.
pub fn markdown_report(run: &ReportRun<'_>, verdict: &Verdict) -> String {
    let mut out = String::from("# NetSession report\n\n");
    let _ = writeln!(
        out,
        "- tool: {} {}",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "- command line: {}", code(&run.command_line.join(" ")));
    let _ = writeln!(out, "- started: {} (UTC)", run.started);
    let _ = writeln!(out, "- finished: {} (UTC)", run.finished);
    let _ = writeln!(
        out,
        "- evidence rows: {}; warnings: {}\n",
        run.counts.total,
        run.warnings.len()
    );

    out.push_str("## Inputs\n\n| input | kind | size |\n| --- | --- | ---: |\n");
    for input in run.inputs {
        let size = match std::fs::metadata(&input.path) {
            Ok(m) if m.is_file() => format!("{} bytes", m.len()),
            Ok(_) => "(folder)".to_string(),
            Err(e) => md_text(&format!("unreadable now: {e}")),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {size} |",
            code(&input.label),
            md_text(input.kind.describe())
        );
    }

    out.push_str("\n## Rows per artifact\n\n");
    if run.counts.per_artifact.is_empty() {
        out.push_str("No evidence row.\n");
    } else {
        out.push_str("| artifact | rows |\n| --- | ---: |\n");
        for (artifact, n) in &run.counts.per_artifact {
            let _ = writeln!(out, "| {} | {n} |", code(artifact));
        }
    }

    out.push_str("\n## Warnings\n\n");
    if run.warnings.is_empty() {
        out.push_str("None.\n");
    }
    for w in run.warnings {
        let _ = writeln!(
            out,
            "- {} at {}: {}",
            code(&w.input),
            code(&w.location),
            md_text(&w.message)
        );
    }
    out.push('\n');
    // The verdict's own title becomes a section of the report.
    for line in verdict.to_markdown().lines() {
        if line.starts_with('#') {
            let _ = writeln!(out, "#{line}");
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_inputs_counts_and_warnings_then_the_verdict() {
        let mut counts = RowCounts {
            total: 3,
            ..Default::default()
        };
        counts.per_artifact.insert("install.client".into(), 3);
        let warnings = [Warning {
            input: "gpt.E01".into(),
            location: "segment 2".into(),
            message: "missing segment gpt.E02 | data after byte 1000 not read".into(),
        }];
        let inputs = [];
        let run = ReportRun {
            command_line: &["netsession-scan".into(), "gpt.E01".into()],
            started: "2026-12-05T07:00:00Z",
            finished: "2026-12-05T07:00:01Z",
            inputs: &inputs,
            counts: &counts,
            warnings: &warnings,
        };
        let text = markdown_report(&run, &crate::verdict::verdict(&[]));
        assert!(text.starts_with("# NetSession report\n\n- tool: netsession-scan "));
        assert!(text.contains("- command line: ` netsession-scan gpt.E01 `"));
        assert!(text.contains("| ` install.client ` | 3 |"));
        assert!(text.contains(
            "- ` gpt.E01 ` at ` segment 2 `: missing segment gpt.E02 \\| data after byte 1000 not read"
        ));
        assert!(text.contains("\n## NetSession verdict\n"));
        assert_eq!(code("a`b"), "`` a`b ``");
    }
}
