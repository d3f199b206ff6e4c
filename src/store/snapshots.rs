//! Rows of a volume's shadow copies that repeat the live volume's are not reported
//! twice: a row whose source is a snapshot of a live source is dropped when the live
//! source has a row equal to it in every other column (same record, times, hash, state).
//!
//! In timeline order such twins are neighbours: the order compares the time, path,
//! description, artifact, locator and value before the source
//! ([`crate::evidence::TimelineKey`]), so rows equal in those form a contiguous group,
//! ordered within by source, and a live source (a prefix of its snapshots' sources)
//! comes before them. Only the group at hand is held; the columns compared after the
//! source (message, user, size, hash, state) must be equal too.

use std::collections::{HashMap, HashSet};

use crate::evidence::{EvidenceRow, RecordState};

/// Snapshot source -> the live source it is a snapshot of.
pub(super) type LiveOf = HashMap<String, String>;

/// The columns whose equality makes a group: time, path, description, artifact,
/// locator, value.
type GroupKey = (Option<(i64, u32)>, [String; 5]);

/// The columns a row is compared on after its source.
type Rest = (String, String, String, Option<u64>, String, RecordState);

/// Snapshot source -> how many of its rows were left out as equal to the live source's.
pub(super) type Repeated = HashMap<String, u64>;

pub(super) struct Dedupe<'a> {
    live_of: &'a LiveOf,
    group: Option<GroupKey>,
    seen: HashSet<Rest>,
    /// The rows left out so far, by snapshot.
    pub(super) repeated: Repeated,
}

impl<'a> Dedupe<'a> {
    pub(super) fn new(live_of: &'a LiveOf) -> Dedupe<'a> {
        Dedupe {
            live_of,
            group: None,
            seen: HashSet::new(),
            repeated: Repeated::new(),
        }
    }

    /// Is `row` (met in timeline order) to be reported?
    pub(super) fn keep(&mut self, row: &EvidenceRow) -> bool {
        if self.live_of.is_empty() {
            return true;
        }
        let time = row.datetime.map(|t| (t.unix_seconds(), t.subsec_nanos()));
        let group = [
            &row.path,
            &row.timestamp_desc,
            &row.artifact,
            &row.locator,
            &row.value,
        ];
        let same_group = self
            .group
            .as_ref()
            .is_some_and(|(t, g)| *t == time && g.iter().zip(group).all(|(a, b)| a == b));
        if !same_group {
            self.seen.clear();
            self.group = Some((time, group.map(|t| t.clone())));
        }
        let rest = |source: &str| -> Rest {
            (
                source.to_string(),
                row.message.clone(),
                row.user.clone(),
                row.size,
                row.sha256.clone(),
                row.state,
            )
        };
        if let Some(live) = self.live_of.get(&row.source)
            && self.seen.contains(&rest(live))
        {
            match self.repeated.get_mut(&row.source) {
                Some(n) => *n += 1,
                None => {
                    self.repeated.insert(row.source.clone(), 1);
                }
            }
            return false;
        }
        self.seen.insert(rest(&row.source));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Precision, Timestamp};

    fn row(source: &str, locator: &str, secs: i64, sha: &str) -> EvidenceRow {
        EvidenceRow {
            datetime: Timestamp::from_unix(secs, 0, Precision::Seconds),
            timestamp_desc: "Created ($SI)".into(),
            message: "m".into(),
            artifact: "a".into(),
            user: String::new(),
            path: "p".into(),
            value: String::new(),
            size: Some(1),
            sha256: sha.into(),
            state: RecordState::Allocated,
            source: source.into(),
            locator: locator.into(),
        }
    }

    #[test]
    fn a_snapshot_row_equal_to_the_live_row_is_dropped_and_any_difference_kept() {
        let live_of: LiveOf = [
            ("v vss1@t".to_string(), "v".to_string()),
            ("v vss2@t".to_string(), "v".to_string()),
        ]
        .into();
        let mut rows = [
            row("v", "mft=5 seq=1", 10, "aa"),
            row("v vss1@t", "mft=5 seq=1", 10, "aa"),
            row("v vss2@t", "mft=5 seq=1", 10, "aa"),
            // Another hash, another record, another time: kept.
            row("v vss1@t", "mft=5 seq=1", 10, "bb"),
            row("v vss1@t", "mft=6 seq=1", 10, "aa"),
            row("v vss1@t", "mft=5 seq=1", 11, "aa"),
            // Another volume's row equal but for its source: not a snapshot, kept.
            row("w", "mft=5 seq=1", 10, "aa"),
        ];
        rows.sort_by(EvidenceRow::timeline_cmp);
        let mut dedupe = Dedupe::new(&live_of);
        let kept: Vec<_> = rows.iter().filter(|r| dedupe.keep(r)).collect();
        assert_eq!(kept.len(), 5, "{kept:?}");
        assert!(!kept.iter().any(|r| r.source == "v vss2@t"));
        assert_eq!(
            kept.iter()
                .filter(|r| r.source == "v vss1@t"
                    && r.sha256 == "aa"
                    && r.locator == "mft=5 seq=1")
                .count(),
            1,
            "only the row at another time"
        );
        // What was left out is counted by snapshot.
        let repeated = |source: &str| dedupe.repeated.get(source).copied();
        assert_eq!(
            (repeated("v vss1@t"), repeated("v vss2@t")),
            (Some(1), Some(1))
        );
        assert_eq!(repeated("w"), None);
        // Without snapshots nothing is dropped.
        let none = LiveOf::new();
        let mut dedupe = Dedupe::new(&none);
        assert_eq!(rows.iter().filter(|r| dedupe.keep(r)).count(), rows.len());
    }
}
