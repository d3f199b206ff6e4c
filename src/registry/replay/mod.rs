//! Transaction-log replay, applied in memory to a copy of a primary hive.
//!
//! Written from Maxim Suhanov's "Windows registry file format specification" (sections
//! "Format of transaction log files", "Dirty state of a hive", "Multiple transaction log
//! files"). Evidence is never written: the primary and the logs come in as `&[u8]`, the
//! result is a new `Vec<u8>`.
//!
//! * New format (Windows 8.1+, log file type 6): a 512-byte copy of the base block, then
//!   `HvLE` log entries, each protected by two Marvin32 hashes and carrying a sequence
//!   number. Entries are applied in sequence order across `.LOG1` and `.LOG2`; replay of a
//!   log stops at its first bad entry (and continues with the other log only if that one
//!   holds the next sequence number).
//! * Old format (Windows XP..8, log file type 1): a 512-byte copy of the base block, a
//!   `DIRT` bitmap of dirty 512-byte pages of the hive bins data, then those pages in order.
//!
//! A hive needs recovery when its sequence numbers differ or its base block checksum is
//! wrong (the specification's definition of "dirty"). A log is used only when its own
//! base block copy is valid (signature, checksum, equal sequence numbers), as Windows does.
//!
//! The replay is split by job: `log_file` checks a log's header (its base block copy)
//! and tells the formats apart, `new_format` reads and applies `HvLE` entries,
//! `old_format` the `DIRT` vector and its pages; this module drives them over the
//! in-memory image (`Work`) and reports what came from the logs.

mod log_file;
mod new_format;
mod old_format;
#[cfg(test)]
mod test_support;

use std::borrow::Cow;
use std::ops::Range;

use super::base_block::{
    self, BASE_BLOCK_LEN, BaseBlock, HBIN_START, HiveError, LOG_BASE_BLOCK_LEN, OFF_CHECKSUM,
    OFF_DATA_SIZE, OFF_FILE_TYPE, OFF_FLAGS, OFF_PRIMARY_SEQ, OFF_SECONDARY_SEQ, write_u32,
};
use crate::bytes::{u32_le, u64_le};
use log_file::{LogFormat, UsableLog, check_log};

pub use log_file::LogFile;
pub use new_format::{LOG_ENTRY_SEED, marvin32};

/// Pages of the hive bins data, entry sizes and recovered ranges count in these.
const SECTOR: usize = 512;

#[derive(Debug)]
pub struct ReplayOutcome<'a> {
    /// The whole hive image after replay: base block (marked clean via
    /// [`base_block::mark_clean`], with the hive bins data size taken from the last applied
    /// log entry / log base block) + hive bins. Grown if the logs extend the hive. A
    /// clean hive is the primary's own bytes, not a copy.
    pub hive: Cow<'a, [u8]>,
    /// One line per log: which, format (new/old), how many entries or pages were applied,
    /// sequence range; or why it was not needed.
    pub applied: Vec<String>,
    /// Problems met, as (location, message); the location names the file and the byte
    /// offset, like "NTUSER.DAT.LOG2 offset 0x3200" ("primary hive offset 0x1fc" for the
    /// primary file).
    pub warnings: Vec<(String, String)>,
    /// File offsets (base block included) of the returned image whose bytes came from a
    /// log and differ from the primary file, at 512-byte granularity, sorted and merged.
    /// Log pages identical to the primary are not listed: what lies there is in the
    /// primary file too.
    pub recovered: Vec<Range<usize>>,
}

/// Replay transaction logs onto an in-memory copy of `primary`.
///
/// When the hive is clean (equal sequence numbers and a good checksum) the bytes come back
/// unchanged, with no recovered ranges and a note in `applied`. Otherwise valid logs are
/// applied (any order, any of them may be empty or garbage: that is a warning, not an
/// error) and the result's base block is marked clean. A dirty hive that no log can bring
/// forward comes back as it is, base block marked clean, with a warning.
///
/// Errors only when the primary's own base block is unusable (see
/// [`BaseBlock::parse_header`]; a bad checksum alone is not unusable) and no log's base
/// block can stand in for it; the error is the primary's own problem.
pub fn replay<'a>(primary: &'a [u8], logs: &[LogFile<'_>]) -> Result<ReplayOutcome<'a>, HiveError> {
    let own = if primary.len() < BASE_BLOCK_LEN {
        BaseBlock::parse(primary) // TooShort, or BadSignature for data that is no hive at all
    } else {
        BaseBlock::parse_header(primary)
    };

    if let Ok(bb) = &own
        && !bb.is_dirty()
        && bb.checksum_ok()
    {
        // Nothing to replay: the primary's bytes as they are, not copied.
        return Ok(ReplayOutcome {
            hive: Cow::Borrowed(primary),
            applied: vec![format!(
                "hive is clean (sequence numbers {0}/{0}, checksum ok): no log replay needed",
                bb.primary_seq
            )],
            warnings: truncation(primary.len(), bb.hive_bins_data_size)
                .into_iter()
                .collect(),
            recovered: Vec::new(),
        });
    }

    let mut work = Work::new(primary, logs);

    // Why recovery is needed.
    match &own {
        Ok(bb) => {
            if bb.is_dirty() {
                work.applied.push(format!(
                    "hive is dirty: primary sequence number {} != secondary {}",
                    bb.primary_seq, bb.secondary_seq
                ));
            }
            if !bb.checksum_ok() {
                work.warn_primary(
                    OFF_CHECKSUM,
                    format!(
                        "base block checksum mismatch (stored {:#010x}, computed {:#010x}): base block taken from a log if one is valid",
                        bb.stored_checksum, bb.computed_checksum
                    ),
                );
            }
        }
        Err(e) => work.warn_primary(
            e.offset(),
            format!("unusable base block ({e}): base block taken from a log if one is valid"),
        ),
    }
    let primary_valid = matches!(&own, Ok(bb) if bb.checksum_ok());

    // Sort out the logs.
    let mut new_logs = Vec::new();
    let mut old_logs = Vec::new();
    for (index, log) in logs.iter().enumerate() {
        match check_log(index, log) {
            Ok(usable) => match usable.format {
                LogFormat::New => new_logs.push(usable),
                LogFormat::Old => old_logs.push(usable),
            },
            Err((offset, message)) => work.warn_log(&log.name, offset, message),
        }
    }

    let mut base_block_installed = false;
    if !new_logs.is_empty() {
        // The log with earlier entries first (lower base-block sequence number).
        new_logs.sort_by_key(|l| (l.bb.primary_seq, l.index));
        if let Some(bb) = own.as_ref().ok().filter(|_| primary_valid) {
            work.replay_new(&new_logs, bb.secondary_seq);
        } else {
            // Invalid primary base block: only the log with the latest entries is used,
            // and its base block stands in for the primary's.
            if let Some(latest) = new_logs.pop() {
                work.install_log_base_block(&latest);
                base_block_installed = true;
                for other in &new_logs {
                    work.applied.push(format!(
                        "{}: new format, not used: with an invalid primary base block only the log with the latest entries ({}) is used",
                        other.name, latest.name
                    ));
                }
                work.replay_new(std::slice::from_ref(&latest), latest.bb.primary_seq);
            }
        }
    }

    if work.final_seq.is_none() && !old_logs.is_empty() {
        // Old format: a log applies when its last-written timestamp matches the primary's
        // (the first hive bin's timestamp serves when the base block is damaged).
        let hbin_ts = u64_le(primary, HBIN_START + 0x14);
        let own_ts = own.as_ref().ok().map(|bb| bb.last_written);
        let mut candidates = Vec::new();
        for log in old_logs {
            let ts = log.bb.last_written;
            let matches = Some(ts) == own_ts || (!primary_valid && Some(ts) == hbin_ts);
            if matches {
                candidates.push(log);
            } else {
                work.warn_log(
                    log.name,
                    base_block::OFF_LAST_WRITTEN,
                    format!(
                        "old-format log not used: its last written timestamp {ts:#x} differs from the hive's {:#x} (log older or newer than the hive)",
                        own_ts.unwrap_or(0)
                    ),
                );
            }
        }
        // The most recent applicable log.
        candidates.sort_by_key(|l| (l.bb.primary_seq, l.index));
        if let Some(chosen) = candidates.pop() {
            for other in &candidates {
                work.applied.push(format!(
                    "{}: old format, not used: {} is more recent",
                    other.name, chosen.name
                ));
            }
            if !primary_valid {
                work.install_log_base_block(&chosen);
                base_block_installed = true;
            }
            work.replay_old(&chosen);
        }
    } else if !old_logs.is_empty() {
        for log in &old_logs {
            work.applied.push(format!(
                "{}: old format, not used: new-format entries were applied",
                log.name
            ));
        }
    }

    let kept_bad_base_block = !primary_valid && !base_block_installed;
    if kept_bad_base_block && let Err(e) = &own {
        return Err(e.clone());
    }

    if work.final_seq.is_none() && work.written.is_empty() {
        let mut why = Vec::new();
        if let Ok(bb) = &own {
            if bb.is_dirty() {
                why.push(format!(
                    "sequence numbers {}/{}",
                    bb.primary_seq, bb.secondary_seq
                ));
            }
            if !bb.checksum_ok() {
                why.push("base block checksum wrong".to_string());
            }
        }
        let why = if why.is_empty() {
            "damaged base block".to_string()
        } else {
            why.join(", ")
        };
        work.warn_primary(
            OFF_PRIMARY_SEQ,
            format!(
                "hive needs recovery ({why}) but no usable transaction log continues it: returned as found{}, base block marked clean; its latest changes may be missing",
                if kept_bad_base_block {
                    " with its own base block despite the checksum"
                } else {
                    ""
                }
            ),
        );
    } else if kept_bad_base_block {
        work.warn_primary(
            OFF_CHECKSUM,
            "no valid log base block could stand in: the primary's own base block was kept despite its checksum".into(),
        );
    }

    Ok(work.finish())
}

struct Work<'a> {
    original: &'a [u8],
    image: Vec<u8>,
    /// Ranges of `image` written from logs (unmerged).
    written: Vec<Range<usize>>,
    applied: Vec<String>,
    warnings: Vec<(String, String)>,
    /// Largest hive bins data size accepted: growth must be backed by pages in the logs,
    /// so it cannot exceed what the primary and the logs hold together.
    growth_cap: u64,
    final_seq: Option<u32>,
    final_hbs: Option<u32>,
    final_flags: Option<u32>,
}

/// The warning for a hive whose base block promises more hive bins than its `len` bytes
/// hold.
fn truncation(len: usize, hbs: u32) -> Option<(String, String)> {
    let present = len.saturating_sub(HBIN_START);
    (hbs as usize > present).then(|| {
        (
            format!("primary hive offset {OFF_DATA_SIZE:#x}"),
            format!(
                "hive bins data size {hbs:#x} runs past the end of the {len}-byte image: truncated hive, the missing part cannot be read"
            ),
        )
    })
}

impl<'a> Work<'a> {
    fn new(primary: &'a [u8], logs: &[LogFile<'_>]) -> Self {
        let log_bytes: u64 = logs.iter().map(|l| l.bytes.len() as u64).sum();
        Work {
            original: primary,
            image: primary.to_vec(),
            written: Vec::new(),
            applied: Vec::new(),
            warnings: Vec::new(),
            growth_cap: (primary.len().saturating_sub(HBIN_START) as u64).saturating_add(log_bytes),
            final_seq: None,
            final_hbs: None,
            final_flags: None,
        }
    }

    fn warn_primary(&mut self, offset: usize, message: String) {
        self.warnings
            .push((format!("primary hive offset {offset:#x}"), message));
    }

    fn warn_log(&mut self, name: &str, offset: usize, message: String) {
        self.warnings
            .push((format!("{name} offset {offset:#x}"), message));
    }

    fn check_truncation(&mut self, hbs: u32) {
        if let Some(warning) = truncation(self.image.len(), hbs) {
            self.warnings.push(warning);
        }
    }

    /// Grow the image so that it holds `hbs` bytes of hive bins data.
    fn grow_to(&mut self, hbs: u32) -> Result<(), String> {
        if u64::from(hbs) > self.growth_cap {
            return Err(format!(
                "hive bins data size {hbs:#x} is larger than the primary and all logs together ({:#x} bytes): not trusted",
                self.growth_cap
            ));
        }
        let needed = HBIN_START
            .checked_add(hbs as usize)
            .ok_or_else(|| format!("hive bins data size {hbs:#x} does not fit in memory"))?;
        if needed > self.image.len() {
            self.image.resize(needed, 0);
        }
        Ok(())
    }

    /// The primary's base block is damaged: take a log's copy (512 bytes), file type 0.
    fn install_log_base_block(&mut self, log: &UsableLog<'_>) {
        if self.image.len() < BASE_BLOCK_LEN {
            self.image.resize(BASE_BLOCK_LEN, 0);
        }
        if let (Some(dst), Some(src)) = (
            self.image.get_mut(..LOG_BASE_BLOCK_LEN),
            log.bytes.get(..LOG_BASE_BLOCK_LEN),
        ) {
            dst.copy_from_slice(src);
        }
        write_u32(&mut self.image, OFF_FILE_TYPE, 0);
        self.applied.push(format!(
            "base block taken from {} (sequence {}), the primary's being damaged",
            log.name, log.bb.primary_seq
        ));
    }

    fn finish(mut self) -> ReplayOutcome<'a> {
        if let Some(seq) = self.final_seq {
            write_u32(&mut self.image, OFF_PRIMARY_SEQ, seq);
            write_u32(&mut self.image, OFF_SECONDARY_SEQ, seq);
        }
        if let Some(hbs) = self.final_hbs {
            write_u32(&mut self.image, OFF_DATA_SIZE, hbs);
        }
        if let Some(flags) = self.final_flags
            && let Some(old) = u32_le(&self.image, OFF_FLAGS)
        {
            // Only bit 0 (KTM locked the hive) is kept in log entries.
            write_u32(&mut self.image, OFF_FLAGS, (old & !1) | (flags & 1));
        }
        base_block::mark_clean(&mut self.image);
        if let Some(hbs) = u32_le(&self.image, OFF_DATA_SIZE) {
            self.check_truncation(hbs);
        }
        let recovered = changed_ranges(self.original, &self.image, &mut self.written);
        ReplayOutcome {
            hive: Cow::Owned(self.image),
            applied: self.applied,
            warnings: self.warnings,
            recovered,
        }
    }
}

/// Merge the written ranges and keep the 512-byte blocks whose bytes differ from the
/// primary file (or lie beyond it).
fn changed_ranges(
    original: &[u8],
    image: &[u8],
    written: &mut [Range<usize>],
) -> Vec<Range<usize>> {
    written.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in written.iter() {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r.clone()),
        }
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in merged {
        let mut block = r.start;
        while block < r.end {
            let end = (block - block % SECTOR + SECTOR).min(r.end);
            let changed = original.get(block..end) != image.get(block..end);
            if changed {
                match out.last_mut() {
                    Some(last) if last.end == block => last.end = end,
                    _ => out.push(block..end),
                }
            }
            block = end;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one expected range is a normal outcome
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn clean_hive_is_returned_unchanged() {
        let hive = synth_hive(5, 5);
        let (log1, _) = synth_new_log(&hive, 5, &[entry(5, vec![page(0x1000, 0xA5)])]);
        let out = replay(&hive, &[log("T.LOG1", &log1)]).unwrap();
        assert_eq!(out.hive, hive);
        assert!(out.recovered.is_empty() && out.warnings.is_empty());
        assert!(out.applied[0].contains("clean"));
    }

    #[test]
    fn dirty_hive_without_logs_comes_back_with_warning() {
        let hive = synth_hive(5, 4);
        let garbage = [0x41u8; 700];
        for logs in [vec![], vec![log("T.LOG1", &[]), log("T.LOG2", &garbage)]] {
            let out = replay(&hive, &logs).unwrap();
            assert_eq!(&out.hive[HBIN_START..], &hive[HBIN_START..]);
            assert_clean(&out.hive);
            assert!(out.recovered.is_empty());
            assert!(
                out.warnings
                    .iter()
                    .any(|(_, m)| m.contains("no usable transaction log")),
                "{:?}",
                out.warnings
            );
            assert_eq!(out.warnings.len(), 1 + logs.len(), "{:?}", out.warnings);
        }
    }

    #[test]
    fn damaged_primary_base_block_is_replaced_by_the_log_copy() {
        let mut hive = synth_hive(3, 2);
        hive[..4].copy_from_slice(b"junk");
        assert!(matches!(
            replay(&hive, &[]),
            Err(HiveError::BadSignature { offset: 0, .. })
        ));
        let good = synth_hive(3, 2);
        let (log1, _) = synth_new_log(&good, 2, &[entry(2, vec![page(0x1000, 0xA2)])]);
        let (log2, _) = synth_new_log(&good, 3, &[entry(3, vec![page(0x2000, 0xB3)])]);
        let out = replay(&hive, &[log("T.LOG1", &log1), log("T.LOG2", &log2)]).unwrap();
        // Only the log with the latest entries is used.
        assert_eq!(marker_at(&out.hive, 0x1000), 0x11);
        assert_eq!(marker_at(&out.hive, 0x2000), 0xB3);
        let bb = BaseBlock::parse(&out.hive).unwrap();
        assert_eq!((bb.primary_seq, bb.secondary_seq, bb.file_type), (3, 3, 0));
        assert!(bb.checksum_ok());
        assert!(
            out.applied
                .iter()
                .any(|l| l.contains("base block taken from T.LOG2"))
        );

        // A short non-hive with no logs: typed error, no panic.
        assert!(matches!(
            replay(b"hbin", &[]),
            Err(HiveError::BadSignature { .. })
        ));
        assert!(matches!(replay(b"", &[]), Err(HiveError::TooShort { .. })));
        assert!(matches!(
            replay(b"regf", &[]),
            Err(HiveError::TooShort { .. })
        ));
    }

    #[test]
    fn changed_ranges_keep_only_differing_blocks() {
        let original = vec![0u8; 8192];
        let mut image = original.clone();
        image[4096 + 10] = 1;
        image[4096 + 3000] = 1;
        let mut written = vec![4096..8192, 4096..4608];
        let ranges = changed_ranges(&original, &image, &mut written);
        assert_eq!(ranges, vec![4096..4608, 4096 + 2560..4096 + 3072]);
        // Beyond the original: always counted.
        let mut image = original.clone();
        image.resize(9216, 0);
        let mut written = [8192..9216];
        assert_eq!(
            changed_ranges(&original, &image, &mut written),
            [8192..9216]
        );
    }
}
