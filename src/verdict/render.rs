//! The verdict as text (for stderr) and as a Markdown document (`--report`): the
//! headline, then per volume and per user the statements in a fixed order, each laid out
//! the same way in both.

use std::fmt::Write;

use super::autostart::autostart_statement;
use super::builds::builds_statement;
use super::client::client_statement;
use super::events::events_statement;
use super::execution::execution_statement;
use super::firewall::firewall_statement;
use super::install::{installed_statement, where_statement};
use super::presence::presence_statement;
use super::removal::removal_statement;
use super::seen::{first_seen_statement, last_seen_statement};
use super::snapshots::snapshot_statement;
use super::statement::{Part, Statement, c, clean, n_rows, t};
use super::upload::upload_statement;
use super::{InstallState, ScopeVerdict, Verdict, VolumeVerdict};

/// The whole verdict line when there are no rows at all.
const NO_ROWS: &str = "NetSession verdict: no trace found in what was scanned (which is not proof it was never installed)";

/// How the empty user is named.
const MACHINE_WIDE: &str = "machine-wide / user unknown";

/// Said once under the headline.
const HONESTY_NOTE: &str = "Computed from the evidence rows only; every statement names the rows that support it. \"No trace found\" means none in what was scanned, which is not proof it was never installed.";

fn n_volumes(n: usize) -> String {
    if n == 1 {
        "1 volume".into()
    } else {
        format!("{n} volumes")
    }
}

fn scope_title(user: &str) -> Vec<Part> {
    if user.is_empty() {
        vec![t(MACHINE_WIDE)]
    } else {
        vec![t("user "), c(user)]
    }
}

impl Verdict {
    /// The one-line summary over all volumes.
    pub fn headline(&self) -> String {
        if self.volumes.is_empty() {
            return NO_ROWS.to_string();
        }
        let count = |state| self.volumes.iter().filter(|v| v.state == state).count();
        // A failed attempt is named only where there is one.
        let attempted = match count(InstallState::Attempted) {
            0 => String::new(),
            n => format!(", install attempted (failed) on {}", n_volumes(n)),
        };
        format!(
            "NetSession verdict: installed on {}, remnants on {}{attempted}, no trace on {} ({})",
            n_volumes(count(InstallState::Installed)),
            n_volumes(count(InstallState::Remnants)),
            n_volumes(count(InstallState::NoTrace)),
            n_rows(self.rows)
        )
    }

    /// Several lines for stderr: the headline, then each volume and user.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.headline());
        for volume in &self.volumes {
            let _ = writeln!(out, "volume {}", plain(&volume_title(volume)));
            if let Some(s) = snapshot_statement(volume, self) {
                write_text_statement(&mut out, &s);
            }
            if volume.events.rows > 0 {
                write_text_statement(&mut out, &events_statement(&volume.events));
            }
            for scope in &volume.scopes {
                let mut title = scope_title(&scope.user);
                title.push(t(format!(" ({})", n_rows(scope.rows))));
                let _ = writeln!(out, "  {}", plain(&title));
                for s in scope_statements(scope) {
                    write_text_statement(&mut out, &s);
                }
            }
        }
        if !self.volumes.is_empty() {
            let _ = writeln!(out, "{}", HONESTY_NOTE);
        }
        out
    }

    /// A Markdown document: the headline, a section per volume and per user.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("# NetSession verdict\n\n");
        if self.volumes.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                md_text(
                    "No trace found in what was scanned (which is not proof it was never installed)."
                )
            );
            return out;
        }
        let headline = self.headline();
        let summary = headline
            .strip_prefix("NetSession verdict: ")
            .unwrap_or(&headline);
        let _ = writeln!(out, "**{}**\n", md_text(summary));
        let _ = writeln!(out, "{}\n", md_text(HONESTY_NOTE));
        for volume in &self.volumes {
            let _ = writeln!(out, "## Volume {}\n", markdown(&volume_title(volume)));
            if let Some(s) = snapshot_statement(volume, self) {
                write_markdown_statement(&mut out, &s);
                out.push('\n');
            }
            if volume.events.rows > 0 {
                write_markdown_statement(&mut out, &events_statement(&volume.events));
                out.push('\n');
            }
            for scope in &volume.scopes {
                let mut title = scope_title(&scope.user);
                title.push(t(format!(" ({})", n_rows(scope.rows))));
                let _ = writeln!(out, "### {}\n", markdown(&title));
                for s in scope_statements(scope) {
                    write_markdown_statement(&mut out, &s);
                }
                out.push('\n');
            }
        }
        out
    }
}

fn volume_title(volume: &VolumeVerdict) -> Vec<Part> {
    let source = if volume.source.is_empty() {
        "(no source)"
    } else {
        volume.source.as_str()
    };
    let mut parts = vec![
        c(source),
        t(format!(
            ": {} ({})",
            volume.state.describe(),
            n_rows(volume.rows)
        )),
    ];
    if volume.registry_only {
        parts.push(t(
            "; only registry and event-log rows from this source: if hives or logs were given alone, the files of this system were not scanned",
        ));
    }
    parts
}

fn scope_statements(scope: &ScopeVerdict) -> Vec<Statement> {
    let mut statements = vec![
        installed_statement(&scope.install),
        where_statement(&scope.install),
        client_statement(&scope.client),
        builds_statement(&scope.builds),
        first_seen_statement(&scope.seen),
        last_seen_statement(&scope.seen),
        autostart_statement(&scope.autostart),
        execution_statement(&scope.execution),
        firewall_statement(&scope.firewall),
        upload_statement(&scope.upload),
        removal_statement(&scope.removal),
    ];
    statements.extend(presence_statement(&scope.presence));
    statements
}

fn plain(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(s) => clean(s),
            Part::Code(s) => s.clone(),
        })
        .collect()
}

fn write_text_statement(out: &mut String, s: &Statement) {
    if s.parts.is_empty() {
        let _ = writeln!(out, "    {}:", s.label);
    } else {
        let _ = writeln!(out, "    {}: {}", s.label, plain(&s.parts));
    }
    for item in &s.items {
        let _ = writeln!(out, "      - {}", plain(item));
    }
}

fn markdown(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(s) => md_text(&clean(s)),
            Part::Code(s) => code_span(s),
        })
        .collect()
}

fn write_markdown_statement(out: &mut String, s: &Statement) {
    let mut label = s.label.to_string();
    if let Some(first) = label.get(..1) {
        label = first.to_uppercase() + label.get(1..).unwrap_or_default();
    }
    if s.parts.is_empty() {
        let _ = writeln!(out, "- **{label}:**");
    } else {
        let _ = writeln!(out, "- **{label}:** {}", markdown(&s.parts));
    }
    for item in &s.items {
        let _ = writeln!(out, "  - {}", markdown(item));
    }
}

/// Our own words, with Markdown's inline syntax characters escaped.
pub(super) fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(
            ch,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A code span that survives backticks in the evidence text.
fn code_span(s: &str) -> String {
    if s.is_empty() {
        return "(empty)".into();
    }
    let mut longest = 0;
    let mut run = 0;
    for ch in s.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // CommonMark strips one space on each side when both are present: pad when the text
    // touches a backtick or begins and ends with a space.
    let pad = s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' '));
    if pad {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;
    use crate::verdict::test_support::*;

    #[test]
    fn no_rows_says_no_trace_not_never_installed() {
        let v = verdict(&[]);
        assert_eq!(v.to_text(), format!("{NO_ROWS}\n"));
        assert!(
            v.to_text()
                .contains("which is not proof it was never installed")
        );
        let md = v.to_markdown();
        assert!(md.starts_with("# NetSession verdict\n"));
        assert!(md.contains("not proof it was never installed"));
        assert!(!md.contains("never installed."));
    }

    #[test]
    fn every_statement_names_its_rows() {
        let text = verdict(&mixed_rows()).to_text();
        let counts = Regex::new(r"\b\d+ rows?\b").unwrap_or_else(|_| unreachable!());
        for line in text
            .lines()
            .filter(|l| l.starts_with("    ") && !l.ends_with(':'))
        {
            assert!(
                counts.is_match(line) || line.contains("no rule found"),
                "statement without a row count: {line}"
            );
        }
    }

    #[test]
    fn markdown_document_structure_and_escaping() {
        let mut rows = mixed_rows();
        rows.push(row(
            "content.log_entry",
            "José Müller",
            &jose_file("a`b.log"),
            "upload `x` \x1b[31m*done*",
        ));
        let md = verdict(&rows).to_markdown();
        assert!(md.starts_with("# NetSession verdict\n\n**installed on 2 volumes, remnants on 0 volumes, no trace on 0 volumes (9 rows)**\n"), "{md}");
        assert!(
            md.contains(&format!(
                "## Volume `{SRC}`: installed (files present) (8 rows)\n"
            )),
            "{md}"
        );
        assert!(
            md.contains("### machine-wide / user unknown (1 row)"),
            "{md}"
        );
        assert!(md.contains("### user `José Müller` (6 rows)"), "{md}");
        assert!(
            md.contains("  - core DLL `netsession_win_5c7d0e4.dll` — file deleted (1 row)"),
            "{md}"
        );
        assert!(
            md.contains("- **Install state:** installed (files present)"),
            "{md}"
        );
        assert!(
            md.contains("  - Private: allowed — `Allow` inbound `TCP (6)`, the user's answer"),
            "{md}"
        );
        assert!(
            !md.contains('\x1b'),
            "control characters never reach the document"
        );
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(code_span(""), "(empty)");
        assert_eq!(md_text("a_b*c [d] <e> | #f"), r"a\_b\*c \[d\] \<e\> \| \#f");
        assert_eq!(clean("a\u{1b}b\nc"), r"a\x1bb\x0ac");
    }
}
