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
