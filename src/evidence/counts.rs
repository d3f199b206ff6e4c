//! Counts kept as rows arrive.

use std::collections::{BTreeMap, BTreeSet};

use super::EvidenceRow;

/// Counts kept as rows arrive, so that summaries need no pass over the rows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RowCounts {
    pub total: u64,
    pub per_artifact: BTreeMap<String, u64>,
    /// Every distinct `source` (volume or input) among the rows.
    pub sources: BTreeSet<String>,
}

impl RowCounts {
    /// Adds the counts of other rows.
    pub(crate) fn merge(&mut self, other: RowCounts) {
        self.total += other.total;
        for (artifact, n) in other.per_artifact {
            *self.per_artifact.entry(artifact).or_default() += n;
        }
        self.sources.extend(other.sources);
    }

    pub(crate) fn add(&mut self, row: &EvidenceRow) {
        self.total += 1;
        match self.per_artifact.get_mut(&row.artifact) {
            Some(n) => *n += 1,
            None => {
                self.per_artifact.insert(row.artifact.clone(), 1);
            }
        }
        if !self.sources.contains(&row.source) {
            self.sources.insert(row.source.clone());
        }
    }
}
