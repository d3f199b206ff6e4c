//! Data runs (mapping pairs): where a non-resident attribute's clusters lie.
//!
//! Decoding takes bytes from the evidence and never panics on them, and the number of
//! runs is bounded by the length of those bytes.

use std::fmt;

/// The largest run length (in clusters) accepted by [`decode_runs`]: 2^48 clusters is
/// far beyond any real volume, so a longer run is damage.
const MAX_RUN_LENGTH: u64 = 1 << 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Starting cluster; None for a sparse run.
    pub lcn: Option<u64>,
    /// Length in clusters (never 0).
    pub length: u64,
}

/// Decode a mapping-pairs array (data runs).
///
/// Each run is a header byte (low nibble: size of the length field, high nibble: size of
/// the LCN delta field), the length, then a signed delta from the previous run's LCN; a
/// delta size of 0 marks a sparse run. A 0 header byte ends the list; running off the end
/// of `bytes` without it is an error. Lengths of 0, lengths over 2^48 clusters, field sizes
/// over 8 bytes and LCNs that go negative or overflow are errors. The number of runs is
/// bounded by `bytes.len() / 2` since each run takes at least two bytes.
pub fn decode_runs(bytes: &[u8]) -> Result<Vec<Run>, String> {
    let mut runs = Vec::new();
    walk_runs(bytes, |run| runs.push(run))?;
    Ok(runs)
}

/// The checks of [`decode_runs`] without keeping the runs.
pub fn check_runs(bytes: &[u8]) -> Result<(), String> {
    walk_runs(bytes, |_| {})
}

/// Decode the runs of `bytes`, handing each to `each`, with the checks of
/// [`decode_runs`].
fn walk_runs(bytes: &[u8], mut each: impl FnMut(Run)) -> Result<(), String> {
    let mut off = 0usize;
    let mut lcn: i64 = 0;
    loop {
        let Some(&header) = bytes.get(off) else {
            return Err(format!("run list not terminated (ended at byte {off})"));
        };
        if header == 0 {
            return Ok(());
        }
        let len_size = usize::from(header & 0x0F);
        let off_size = usize::from(header >> 4);
        if len_size == 0 || len_size > 8 {
            return Err(format!("run at byte {off}: length field size {len_size}"));
        }
        if off_size > 8 {
            return Err(format!("run at byte {off}: offset field size {off_size}"));
        }
        let start = off + 1;
        let Some(field) = bytes.get(start..start + len_size + off_size) else {
            return Err(format!("run at byte {off}: truncated"));
        };
        let (len_bytes, delta_bytes) = field.split_at(len_size);
        let mut length: u64 = 0;
        for (i, b) in len_bytes.iter().enumerate() {
            length |= u64::from(*b) << (8 * i);
        }
        if length == 0 {
            return Err(format!("run at byte {off}: length 0"));
        }
        if length > MAX_RUN_LENGTH {
            return Err(format!(
                "run at byte {off}: absurd length {length} clusters"
            ));
        }
        let run_lcn = if off_size == 0 {
            None
        } else {
            let mut delta: u64 = 0;
            for (i, b) in delta_bytes.iter().enumerate() {
                delta |= u64::from(*b) << (8 * i);
            }
            // Sign-extend from off_size bytes.
            let shift = 64 - 8 * off_size as u32;
            let delta = ((delta << shift) as i64) >> shift;
            lcn = lcn
                .checked_add(delta)
                .ok_or_else(|| format!("run at byte {off}: LCN overflow"))?;
            if lcn < 0 {
                return Err(format!("run at byte {off}: negative LCN {lcn}"));
            }
            Some(lcn as u64)
        };
        each(Run {
            lcn: run_lcn,
            length,
        });
        off = start + len_size + off_size;
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lcn {
            Some(lcn) => write!(f, "{}@{}", self.length, lcn),
            None => write!(f, "{}@sparse", self.length),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_positive_negative_sparse() {
        let runs = decode_runs(&[0x21, 0x10, 0x00, 0x01, 0x01, 0x08, 0x11, 0x02, 0x80, 0x00])
            .expect("valid runs");
        assert_eq!(
            runs,
            vec![
                Run {
                    lcn: Some(0x100),
                    length: 0x10
                },
                Run {
                    lcn: None,
                    length: 8
                },
                Run {
                    lcn: Some(0x100 - 128),
                    length: 2
                },
            ]
        );
        // Two-byte negative delta and an 8-byte field.
        let runs = decode_runs(&[0x31, 0x01, 0x00, 0x00, 0x10, 0x21, 0x01, 0x00, 0xF0, 0x00])
            .expect("valid");
        assert_eq!(runs[1].lcn, Some(0x10_0000 - 0x1000));
        assert_eq!(decode_runs(&[0x00]).expect("empty"), vec![]);
    }

    #[test]
    fn runs_rejected() {
        assert!(decode_runs(&[]).is_err(), "no terminator");
        assert!(decode_runs(&[0x11, 0x04]).is_err(), "truncated");
        assert!(
            decode_runs(&[0x11, 0x04, 0x10]).is_err(),
            "missing terminator"
        );
        assert!(decode_runs(&[0x11, 0x00, 0x10, 0x00]).is_err(), "length 0");
        assert!(
            decode_runs(&[0x10, 0x10, 0x00]).is_err(),
            "length field size 0"
        );
        assert!(
            decode_runs(&[0x11, 0x04, 0xF0, 0x00]).is_err(),
            "negative LCN"
        );
        let mut absurd = vec![0x08];
        absurd.extend_from_slice(&[0xFF; 8]);
        absurd.push(0);
        assert!(decode_runs(&absurd).is_err(), "absurd length");
        assert!(decode_runs(&[0x91, 0x01]).is_err(), "offset size 9");
    }
}
