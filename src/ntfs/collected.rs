//! A `$MFT` copied out of its volume (a KAPE or Velociraptor collection, `icat IMG 0`):
//! the same records with no boot sector and no clusters around them.
//!
//! The file is read as a stream that can be opened again ([`CollectedFile`]), in
//! sequential passes only: a ZIP entry cannot seek. Record geometry comes from record 0
//! itself (its allocated size and its update sequence array), which must be `$MFT`
//! naming itself in the root folder. One pass at open keeps the extension records
//! (attributes of records with an attribute list), so records can be completed in later
//! passes without reading the file at random. A `$J` copied beside it is streamed the
//! same way, zero runs (the sparse part a copy writes out as zeros) skipped.

use rustc_hash::FxHashMap;

use super::attribute::{AttrBody, AttributeListEntry};
use super::extensions::{merge_extensions, resident_attribute_list};
use super::record::{MftRecord, parse_record};
use super::usn::{UsnRecord, parse_records};
use super::volume::{RecordSeen, map_chunk};
use crate::bytes::{u16_le, u32_le, u64_le};
use crate::host::collected::{CollectedFile, read_full};

/// The root folder is record 5.
const ROOT: u64 = 5;
/// Bytes of records read and parsed at a time (4096 records of 1 KiB).
const CHUNK_BYTES: usize = 4 << 20;
/// Extension records kept for completing records (a real `$MFT` of a million records
/// holds a few thousand); past this many the rest are not merged, and a problem says so.
pub const MAX_KEPT_EXTENSIONS: usize = 1 << 16;
/// Bytes of `$J` parsed at a time (records never cross a 4 KiB page of the stream).
const JOURNAL_CHUNK: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CollectedError {
    #[error("{name}: cannot read: {source}")]
    Io {
        name: String,
        source: std::io::Error,
    },
    #[error("{name}: not an NTFS $MFT: {reason}")]
    NotMft { name: String, reason: String },
}

impl CollectedError {
    /// The message without the file's name (for callers that name it already).
    pub fn reason(&self) -> String {
        match self {
            CollectedError::Io { source, .. } => format!("cannot read: {source}"),
            CollectedError::NotMft { reason, .. } => format!("not an NTFS $MFT: {reason}"),
        }
    }
}

/// A collected `$MFT`, checked and indexed.
pub struct CollectedMft {
    file: Box<dyn CollectedFile>,
    /// Bytes per record (1024 or 4096 on real volumes).
    pub record_size: usize,
    /// Bytes per fixup stride, from the update sequence array.
    pub sector_size: usize,
    extensions: FxHashMap<u64, MftRecord>,
    /// Base record -> its kept extension records, in record order.
    by_base: FxHashMap<u64, Vec<u64>>,
    problems: Vec<String>,
}

/// Record size and fixup stride from the header of record 0: its allocated size, and
/// one update sequence entry per stride.
fn geometry(head: &[u8]) -> Result<(usize, usize), String> {
    if !head.starts_with(crate::signature::MFT_RECORD) {
        return Err("record 0 has no FILE signature".into());
    }
    let size = u32_le(head, 0x1C).unwrap_or(0) as usize;
    if !size.is_power_of_two() || !(256..=65536).contains(&size) {
        return Err(format!("record 0 gives an implausible record size {size}"));
    }
    let usa_count = usize::from(u16_le(head, 6).unwrap_or(0));
    let strides = usa_count.saturating_sub(1);
    if strides == 0 || !size.is_multiple_of(strides) {
        return Err(format!(
            "record 0's update sequence array has {usa_count} entries for {size} bytes"
        ));
    }
    Ok((size, size / strides))
}

/// Record 0 of `file`, parsed, with the record size and fixup stride.
fn record_zero(file: &dyn CollectedFile) -> Result<(MftRecord, usize, usize), CollectedError> {
    let name = file.name();
    let io = |source| CollectedError::Io {
        name: name.clone(),
        source,
    };
    let not_mft = |reason: String| CollectedError::NotMft {
        name: name.clone(),
        reason,
    };
    let mut head = vec![0u8; 65536];
    let n = read_full(&mut *file.open().map_err(io)?, &mut head).map_err(io)?;
    head.truncate(n);
    let (record_size, sector_size) = geometry(&head).map_err(not_mft)?;
    let first = head.get_mut(..record_size).ok_or_else(|| {
        not_mft(format!(
            "{n} bytes: shorter than one {record_size}-byte record"
        ))
    })?;
    let (record, _) =
        parse_record(first, 0, sector_size).map_err(|e| not_mft(format!("record 0: {e}")))?;
    Ok((record, record_size, sector_size))
}

/// Is record 0 `$MFT` in the root folder?
fn names_itself(record: &MftRecord) -> Result<(), String> {
    match record.best_file_name() {
        Some(f) if f.name == "$MFT" && f.parent_record == ROOT => Ok(()),
        Some(f) => Err(format!(
            "record 0 is named {:?} in record {}, not $MFT in the root folder",
            f.name, f.parent_record
        )),
        None => Err("record 0 has no $FILE_NAME".into()),
    }
}

impl CollectedMft {
    /// Is `file` an `$MFT`? Reads record 0 only, unless its name lies in an extension
    /// record (a fragmented `$MFT`): then the whole file is read, as [`Self::open`] does.
    pub fn check(file: Box<dyn CollectedFile>) -> Result<(), CollectedError> {
        let (record, _, _) = record_zero(file.as_ref())?;
        if record.best_file_name().is_some() {
            return names_itself(&record).map_err(|reason| CollectedError::NotMft {
                name: file.name(),
                reason,
            });
        }
        Self::open(file).map(drop)
    }

    /// Check that `file` is an `$MFT` (record 0 is `$MFT` in the root folder) and keep
    /// its extension records.
    pub fn open(file: Box<dyn CollectedFile>) -> Result<CollectedMft, CollectedError> {
        let (record, record_size, sector_size) = record_zero(file.as_ref())?;
        let name = file.name();
        let mut mft = CollectedMft {
            file,
            record_size,
            sector_size,
            extensions: FxHashMap::default(),
            by_base: FxHashMap::default(),
            problems: Vec::new(),
        };
        mft.keep_extensions().map_err(|source| CollectedError::Io {
            name: name.clone(),
            source,
        })?;
        // A fragmented $MFT may keep even its own name in an extension record.
        let (record, _) = mft.with_extensions(record);
        names_itself(&record).map_err(|reason| CollectedError::NotMft { name, reason })?;
        let trailing = mft.file.len() % record_size as u64;
        if trailing != 0 {
            mft.problems.push(format!(
                "{trailing} bytes after the last whole {record_size}-byte record ignored"
            ));
        }
        Ok(mft)
    }

    /// The pass that keeps extension records (base reference not zero), capped.
    fn keep_extensions(&mut self) -> std::io::Result<()> {
        let (rs, sector) = (self.record_size, self.sector_size);
        let mut extensions = FxHashMap::default();
        let mut by_base: FxHashMap<u64, Vec<u64>> = FxHashMap::default();
        let mut dropped = 0usize;
        self.each_chunk(|first, buf| {
            for (i, chunk) in buf.chunks_mut(rs).enumerate() {
                let number = first + i as u64;
                let is_extension = chunk.starts_with(crate::signature::MFT_RECORD)
                    // The whole reference: $MFT's own extensions name record 0.
                    && u64_le(chunk, 0x20).is_some_and(|base| base != 0);
                if !is_extension {
                    continue;
                }
                if extensions.len() >= MAX_KEPT_EXTENSIONS {
                    dropped += 1;
                    continue;
                }
                // A damaged one is reported by the walk, which meets every record.
                if let Ok((record, _)) = parse_record(chunk, number, sector) {
                    by_base
                        .entry(record.header.base_record)
                        .or_default()
                        .push(number);
                    extensions.insert(number, record);
                }
            }
        })
        .map_err(|(_, e)| e)?;
        (self.extensions, self.by_base) = (extensions, by_base);
        if dropped > 0 {
            self.problems.push(format!(
                "more than {MAX_KEPT_EXTENSIONS} extension records: {dropped} not kept, the \
                 attributes they hold are not merged into their base records"
            ));
        }
        Ok(())
    }

    /// One sequential pass: `f` gets each chunk of whole records with the number of its
    /// first record. A read error ends the pass, with the byte offset it came after.
    fn each_chunk(&self, mut f: impl FnMut(u64, &mut [u8])) -> Result<(), (u64, std::io::Error)> {
        let rs = self.record_size;
        let mut reader = self.file.open().map_err(|e| (0, e))?;
        // Whole records, never (much) more than the file holds.
        let records = (CHUNK_BYTES / rs).max(1);
        let records = records.min(
            usize::try_from(self.record_count())
                .unwrap_or(records)
                .max(1),
        );
        let mut buf = vec![0u8; records * rs];
        let mut next = 0u64;
        loop {
            let n = read_full(&mut *reader, &mut buf).map_err(|e| (next * rs as u64, e))?;
            let whole = n - n % rs;
            f(next, &mut buf[..whole]);
            next += (whole / rs) as u64;
            if n < buf.len() {
                return Ok(());
            }
        }
    }

    /// How rows and warnings name the file.
    pub fn name(&self) -> String {
        self.file.name()
    }

    /// Records in the file.
    pub fn record_count(&self) -> u64 {
        self.file.len() / self.record_size as u64
    }

    /// What was found wrong with the file as a whole.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Walk every record (one sequential pass; records parsed and mapped in parallel a
    /// chunk at a time). Returns what `f` kept, in record order, and why the pass
    /// stopped early, if it did.
    pub fn map_records<T: Send>(
        &self,
        f: impl Fn(u64, RecordSeen<'_>) -> Option<T> + Sync,
    ) -> (Vec<(u64, T)>, Option<String>) {
        let mut out = Vec::new();
        let (rs, sector) = (self.record_size, self.sector_size);
        let pass = self.each_chunk(|first, buf| {
            out.extend(map_chunk(buf, first, rs, sector, &[], &f));
        });
        let stopped = pass
            .err()
            .map(|(at, e)| format!("read error after byte offset {at}: {e}"));
        (out, stopped)
    }

    /// `record` with the attributes of its extension records (those kept) merged in,
    /// and what could not be merged. A non-resident attribute list lies in clusters of
    /// the volume, not in `$MFT`: the list is then rebuilt from the extension records
    /// that name this record (and its sequence number) as their base.
    pub fn with_extensions(&self, record: MftRecord) -> (MftRecord, Vec<String>) {
        let list = match resident_attribute_list(&record) {
            Err(_) => Ok(Some(self.entries_naming(&record))),
            list => list,
        };
        merge_extensions(record, list, |number| {
            Ok(self.extensions.get(&number).cloned())
        })
    }

    /// Attribute-list entries for the attributes of the kept extension records whose
    /// base is `record`.
    fn entries_naming(&self, record: &MftRecord) -> Vec<AttributeListEntry> {
        let numbers = self.by_base.get(&record.number).map(Vec::as_slice);
        numbers
            .unwrap_or_default()
            .iter()
            .filter_map(|n| self.extensions.get(n))
            .filter(|ext| ext.header.base_sequence == record.header.sequence)
            .flat_map(|ext| {
                ext.attributes.iter().map(|a| AttributeListEntry {
                    type_code: a.type_code,
                    start_vcn: match a.body {
                        AttrBody::NonResident { start_vcn, .. } => start_vcn,
                        AttrBody::Resident { .. } => 0,
                    },
                    record: ext.number,
                    sequence: ext.header.sequence,
                    id: a.id,
                    name: a.name.clone(),
                })
            })
            .collect()
    }

    /// Byte offset of a record in the file.
    pub fn offset_of(&self, number: u64) -> u64 {
        number.saturating_mul(self.record_size as u64)
    }
}

/// Stream a collected `$J` (a copy of `$UsnJrnl:$J`, its sparse part as zeros or cut
/// away) a chunk at a time, skipping all-zero chunks, and hand each chunk's records to
/// `each`. Offsets are the file's. Returns how many damaged or unknown records were
/// skipped, or the read error with the offset it happened after.
pub fn each_journal_chunk(
    file: &dyn CollectedFile,
    mut each: impl FnMut(&[UsnRecord]),
) -> Result<usize, (u64, std::io::Error)> {
    let mut reader = file.open().map_err(|e| (0, e))?;
    let size = usize::try_from(file.len()).unwrap_or(JOURNAL_CHUNK);
    let mut buf = vec![0u8; JOURNAL_CHUNK.min(size.next_multiple_of(4096)).max(4096)];
    let mut at = 0u64;
    let mut problems = 0;
    loop {
        let n = read_full(&mut *reader, &mut buf).map_err(|e| (at, e))?;
        if !is_zero(&buf[..n]) {
            let (records, damage) = parse_records(&buf[..n], at);
            problems += damage.len();
            each(&records);
        }
        at += n as u64;
        if n < buf.len() {
            return Ok(problems);
        }
    }
}

/// All zeros? Sixteen bytes at a time: a `$J` copy may be gigabytes of them.
fn is_zero(bytes: &[u8]) -> bool {
    let mut wide = bytes.chunks_exact(16);
    wide.all(|c| u128::from_ne_bytes(c.try_into().unwrap_or([1; 16])) == 0)
        && wide.remainder().iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_runs_are_told_from_data() {
        assert!(is_zero(&[0u8; 100]));
        let mut bytes = vec![0u8; 100];
        bytes[99] = 1;
        assert!(!is_zero(&bytes));
        bytes[99] = 0;
        bytes[3] = 1;
        assert!(!is_zero(&bytes));
        assert!(is_zero(&[]));
    }

    #[test]
    fn geometry_comes_from_record_zero() {
        let mut head = vec![0u8; 64];
        head[..4].copy_from_slice(b"FILE");
        head[6] = 3;
        head[0x1C..0x20].copy_from_slice(&1024u32.to_le_bytes());
        assert_eq!(geometry(&head), Ok((1024, 512)));
        head[6] = 2;
        head[0x1C..0x20].copy_from_slice(&4096u32.to_le_bytes());
        assert_eq!(geometry(&head), Ok((4096, 4096)));
        head[6] = 4;
        assert!(geometry(&head).unwrap_err().contains("update sequence"));
        head[0x1C..0x20].copy_from_slice(&1000u32.to_le_bytes());
        assert!(geometry(&head).unwrap_err().contains("record size"));
        head[0] = b'B';
        assert!(geometry(&head).unwrap_err().contains("FILE"));
    }
}
