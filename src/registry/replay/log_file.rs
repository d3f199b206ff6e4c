//! A transaction log file and its header: the 512-byte copy of the base block that
//! says whether a log may be used at all, and in which format its changes are kept.

use crate::registry::base_block::{BaseBlock, OFF_CHECKSUM, OFF_FILE_TYPE, OFF_PRIMARY_SEQ};

/// One transaction log file given to [`replay`](super::replay).
pub struct LogFile<'a> {
    /// Used in warnings and notes, e.g. "NTUSER.DAT.LOG1".
    pub name: String,
    pub bytes: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LogFormat {
    New,
    Old,
}

pub(super) struct UsableLog<'a> {
    pub(super) index: usize,
    pub(super) name: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) bb: BaseBlock,
    pub(super) format: LogFormat,
}

/// A log is usable when its base block copy is valid: signature, checksum, equal
/// sequence numbers (else it was being written when the system stopped), log file type.
pub(super) fn check_log<'a>(
    index: usize,
    log: &'a LogFile<'_>,
) -> Result<UsableLog<'a>, (usize, String)> {
    if log.bytes.is_empty() {
        return Err((0, "empty file, not used".into()));
    }
    let bb = BaseBlock::parse_header(log.bytes)
        .map_err(|e| (e.offset(), format!("not a usable transaction log: {e}")))?;
    if !bb.checksum_ok() {
        return Err((
            OFF_CHECKSUM,
            format!(
                "log base block checksum mismatch (stored {:#010x}, computed {:#010x}): log not used, as Windows would not",
                bb.stored_checksum, bb.computed_checksum
            ),
        ));
    }
    if bb.is_dirty() {
        return Err((
            OFF_PRIMARY_SEQ,
            format!(
                "log base block sequence numbers differ ({}/{}): the log itself was being written; not used",
                bb.primary_seq, bb.secondary_seq
            ),
        ));
    }
    let format = match bb.file_type {
        6 => LogFormat::New,
        1 | 2 => LogFormat::Old,
        other => {
            return Err((
                OFF_FILE_TYPE,
                format!("file type {other} is not a transaction log (1 or 6): not used"),
            ));
        }
    };
    Ok(UsableLog {
        index,
        name: &log.name,
        bytes: log.bytes,
        bb,
        format,
    })
}
