//! Statement 5: last execution, by how close each kind of row comes to a run time
//! (BAM, UserAssist, Prefetch; then MUICache, Amcache; never AppCompatCache).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::Moment;
use super::rows::{Latest, is_access_only};
use super::statement::{Statement, moment_parts, n_rows, t, time_part};
use crate::evidence::EvidenceRow;
use crate::registry::artifacts::parse_run_count;

/// How close a kind of row comes to an execution time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExecutionEvidence {
    /// The time is a run (BAM, UserAssist, Prefetch run times).
    Direct,
    /// A key written at or after a run (MUICache, Amcache).
    Indirect,
    /// Not a run at all (AppCompatCache holds the file's modification time).
    NotExecution,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionKind {
    pub artifact: String,
    pub name: String,
    pub evidence: ExecutionEvidence,
    /// What the time means.
    pub meaning: String,
    pub rows: usize,
    pub latest: Option<Moment>,
    /// Highest run count (UserAssist, Prefetch).
    pub run_count: Option<u64>,
    /// Files a Prefetch file says the program loaded from NetSession's paths (a few):
    /// they name the user profile it ran from.
    pub loaded: Vec<String>,
}

/// The timestamp description of a Prefetch file's loaded-file rows.
const LOADED_DESC: &str = "Loaded at Last Run (Prefetch)";

/// Most loaded files named per kind.
const MAX_LOADED_NAMED: usize = 3;

/// Statement 5: last execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub kinds: Vec<ExecutionKind>,
    /// Latest direct execution time, else latest indirect one; never AppCompatCache.
    pub last: Option<Moment>,
    pub last_evidence: Option<ExecutionEvidence>,
}

/// (artifact, short name, evidence, what its time means), in report order.
const EXECUTION_KINDS: [(&str, &str, ExecutionEvidence, &str); 10] = [
    (
        "execution.bam",
        "BAM",
        ExecutionEvidence::Direct,
        "last execution recorded by the Background Activity Moderator",
    ),
    (
        "execution.userassist",
        "UserAssist",
        ExecutionEvidence::Direct,
        "last run from the shell",
    ),
    (
        "execution.prefetch",
        "Prefetch",
        ExecutionEvidence::Direct,
        "last run time recorded inside the Prefetch file",
    ),
    (
        "execution.srum_app_usage",
        "SRUM",
        ExecutionEvidence::Direct,
        "the hourly flush after an hour in which the program used CPU or disk (it ran in that hour)",
    ),
    (
        "execution.prefetch_unread",
        "Prefetch (content unreadable)",
        ExecutionEvidence::Direct,
        "the Prefetch file's last write, close to the last run (its content could not be read)",
    ),
    (
        "execution.prefetch_file",
        "Prefetch file times",
        ExecutionEvidence::NotExecution,
        "the Prefetch file's own times, not used: its content gave the run times (a copied file has the copy's times)",
    ),
    (
        "execution.prefetch_name",
        "Prefetch file name left in index slack",
        ExecutionEvidence::Indirect,
        "a NetSession Prefetch file's name and times left in its folder's index (the file is gone): Windows creates and writes it after a run",
    ),
    (
        "execution.muicache",
        "MUICache",
        ExecutionEvidence::Indirect,
        "key last written, at or after a run from the shell",
    ),
    (
        "execution.amcache",
        "Amcache",
        ExecutionEvidence::Indirect,
        "key last written or file times Amcache recorded, at or after a run",
    ),
    (
        "execution.appcompatcache",
        "AppCompatCache",
        ExecutionEvidence::NotExecution,
        "the file's modification time as cached, not an execution time",
    ),
];

/// Builds [`Execution`] row by row: per `execution.*` artifact, its rows, latest time and
/// highest run count.
#[derive(Debug, Default)]
pub(super) struct ExecutionAcc(BTreeMap<String, KindAcc>);

#[derive(Debug, Default)]
struct KindAcc {
    rows: usize,
    latest: Latest,
    run_count: Option<u64>,
    loaded: std::collections::BTreeSet<String>,
}

impl ExecutionAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        if !row.artifact.starts_with("execution.") {
            return;
        }
        let kind = match self.0.get_mut(row.artifact.as_str()) {
            Some(kind) => kind,
            None => self.0.entry(row.artifact.clone()).or_default(),
        };
        kind.rows += 1;
        // A loaded file's row repeats its run row's time: the run row is named.
        let loaded = row.timestamp_desc == LOADED_DESC;
        if !is_access_only(&row.timestamp_desc) && !loaded {
            kind.latest.add(row);
        }
        // UserAssist rows give it in `value` (registry::artifacts::run_count_phrase).
        let count = parse_run_count(&row.value);
        kind.run_count = kind.run_count.max(count);
        if loaded && (kind.loaded.len() < MAX_LOADED_NAMED || kind.loaded.contains(&row.value)) {
            kind.loaded.insert(row.value.clone());
        }
    }

    /// Known kinds first, in the order of [`EXECUTION_KINDS`], then any other
    /// `execution.*` artifact by name.
    pub fn finish(mut self) -> Execution {
        let mut kinds = Vec::new();
        for &(artifact, name, evidence, meaning) in &EXECUTION_KINDS {
            if let Some(acc) = self.0.remove(artifact) {
                kinds.push(acc.finish(artifact, name, evidence, meaning));
            }
        }
        for (artifact, acc) in self.0 {
            kinds.push(acc.finish(
                &artifact,
                &artifact,
                ExecutionEvidence::Indirect,
                "time as the row gives it",
            ));
        }
        let (last, last_evidence) = last_execution(&kinds);
        Execution {
            kinds,
            last,
            last_evidence,
        }
    }
}

impl KindAcc {
    fn finish(
        self,
        artifact: &str,
        name: &str,
        evidence: ExecutionEvidence,
        meaning: &str,
    ) -> ExecutionKind {
        ExecutionKind {
            artifact: artifact.to_string(),
            name: name.to_string(),
            evidence,
            meaning: meaning.to_string(),
            rows: self.rows,
            latest: self.latest.moment(),
            run_count: self.run_count,
            loaded: self.loaded.into_iter().collect(),
        }
    }
}

fn last_execution(kinds: &[ExecutionKind]) -> (Option<Moment>, Option<ExecutionEvidence>) {
    for evidence in [ExecutionEvidence::Direct, ExecutionEvidence::Indirect] {
        let best = kinds
            .iter()
            .filter(|k| k.evidence == evidence)
            .filter_map(|k| k.latest.as_ref())
            .max_by(|a, b| moment_cmp(a, b));
        if let Some(m) = best {
            return (Some(m.clone()), Some(evidence));
        }
    }
    (None, None)
}

fn moment_cmp(a: &Moment, b: &Moment) -> Ordering {
    a.time
        .cmp(&b.time)
        .then_with(|| a.artifact.cmp(&b.artifact))
        .then_with(|| a.path.cmp(&b.path))
        .then_with(|| a.timestamp_desc.cmp(&b.timestamp_desc))
}

pub(super) fn execution_statement(execution: &Execution) -> Statement {
    let rows: usize = execution.kinds.iter().map(|k| k.rows).sum();
    let parts = match (&execution.last, execution.last_evidence) {
        (Some(m), Some(ExecutionEvidence::Direct)) => {
            let mut parts = moment_parts(m);
            parts.push(t(format!(" (latest execution time of {})", n_rows(rows))));
            parts
        }
        (Some(m), _) => {
            let mut parts = moment_parts(m);
            parts.push(t(format!(
                " (of {}; no direct execution time — BAM, UserAssist, Prefetch — was found: this is a key written at or after a run)",
                n_rows(rows)
            )));
            parts
        }
        (None, _) if rows > 0 => vec![t(format!(
            "no execution time found ({} that are not execution times, below)",
            n_rows(rows)
        ))],
        (None, _) => vec![t("no execution trace found in what was scanned (0 rows)")],
    };
    let items = execution
        .kinds
        .iter()
        .map(|k| {
            let mut parts = vec![t(format!("{}: ", k.name))];
            match &k.latest {
                Some(m) => {
                    parts.push(time_part(m.time));
                    parts.push(t(format!(", {}", k.meaning)));
                }
                None => parts.push(t(format!("no time ({})", k.meaning))),
            }
            if let Some(n) = k.run_count {
                parts.push(t(format!("; run count {n}")));
            }
            if !k.loaded.is_empty() {
                parts.push(t(format!("; loaded {}", k.loaded.join(", "))));
            }
            parts.push(t(format!(" ({})", n_rows(k.rows))));
            parts
        })
        .collect();
    Statement {
        label: "last execution",
        parts,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    #[test]
    fn last_execution_prefers_direct_times_and_never_appcompatcache() {
        let rows = [
            timed(
                row("execution.bam", "u", r"SYSTEM\bam", "x.exe"),
                100,
                "Last Executed",
            ),
            timed(
                row(
                    "execution.userassist",
                    "u",
                    r"NTUSER\UserAssist",
                    "x.exe; run count 5",
                ),
                50,
                "Last Run (UserAssist)",
            ),
            timed(
                row(
                    "execution.userassist",
                    "u",
                    r"NTUSER\UserAssist",
                    "y.exe; run count 12",
                ),
                40,
                "Last Run (UserAssist)",
            ),
            // Later, but a key write...
            timed(
                row("execution.muicache", "u", r"NTUSER\MUICache", "x.exe = A"),
                500,
                "Key Last Written",
            ),
            // ... and later still, but a file modification time.
            timed(
                row(
                    "execution.appcompatcache",
                    "u",
                    r"SYSTEM\AppCompatCache",
                    "x.exe",
                ),
                900,
                "File Modified (AppCompatCache)",
            ),
        ];
        let v = verdict(&rows);
        let e = &only_scope(&v).execution;
        let last = e.last.as_ref().unwrap_or_else(|| unreachable!());
        assert_eq!(
            (last.time, last.artifact.as_str()),
            (at(100), "execution.bam")
        );
        assert_eq!(e.last_evidence, Some(ExecutionEvidence::Direct));
        let names: Vec<&str> = e.kinds.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["BAM", "UserAssist", "MUICache", "AppCompatCache"]);
        assert_eq!(e.kinds[1].run_count, Some(12));
        assert_eq!(e.kinds[1].rows, 2);
        let text = v.to_text();
        assert!(text.contains("AppCompatCache: 2012-02-14T09:45:00Z, the file's modification time as cached, not an execution time (1 row)"), "{text}");

        // Without a direct time the indirect one is used, and said to be indirect.
        let v = verdict(&rows[3..]);
        let e = &only_scope(&v).execution;
        assert_eq!(e.last.as_ref().map(|m| m.time), Some(at(500)));
        assert_eq!(e.last_evidence, Some(ExecutionEvidence::Indirect));
        assert!(v.to_text().contains("no direct execution time"));

        // AppCompatCache alone: no execution time at all.
        let v = verdict(&rows[4..]);
        assert_eq!(only_scope(&v).execution.last, None);
        assert!(v.to_text().contains(
            "last execution: no execution time found (1 row that are not execution times"
        ));
    }

    #[test]
    fn prefetch_access_time_is_not_a_run() {
        let pf = r"Windows\Prefetch\NETSESSION_WIN.EXE-1A2B3C4D.pf";
        let rows = [
            timed(row("execution.prefetch", "", pf, ""), 10, "Modified ($SI)"),
            timed(row("execution.prefetch", "", pf, ""), 999, "Accessed ($SI)"),
        ];
        let v = verdict(&rows);
        assert_eq!(
            only_scope(&v).execution.last.as_ref().map(|m| m.time),
            Some(at(10))
        );
    }
}
