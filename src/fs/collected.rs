//! A `$MFT` copied out of its volume as a file system view: the MFT walk of
//! [`super::mft_walk`] over the records of the collected file, and the change journal
//! from a `$J` collected beside it.
//!
//! Only the records were collected: resident data (small files, `Zone.Identifier`
//! streams) is in them and is kept for the candidates while the file pass meets them;
//! non-resident data is not, and opening it says so ([`FsError::NotCollected`]), naming
//! the collection's own copy of the file when it holds one.

use std::collections::hash_map::Entry;
use std::io::{Cursor, Read};
use std::sync::Mutex;

use rustc_hash::FxHashMap;

use super::mft_walk::{MftFs, MftRecords};
use super::{Candidate, EntryKind, FsError};
use crate::host::collected::CollectedFile;
use crate::ntfs::collected::{CollectedMft, each_journal_chunk};
use crate::ntfs::record::{ATTR_DATA, ATTR_FLAG_ENCRYPTED, MftRecord};
use crate::ntfs::usn::UsnRecord;
use crate::ntfs::volume::RecordSeen;
use crate::warning::Warnings;

/// Names a collected `$UsnJrnl:$J` goes by (KAPE: `$J` in `$Extend`, or
/// `$UsnJrnl_$J`; some tools keep the stream's name), compared without case.
pub const JOURNAL_NAMES: &[&str] = &["$J", "$UsnJrnl_$J", "$UsnJrnl%3A$J", "$UsnJrnl:$J"];

/// Where a collection holds a copy of the file at a path from the volume root, if it
/// does (the host path or archive entry, as rows name it).
pub type CopyFinder = Box<dyn Fn(&[String]) -> Option<String> + Send + Sync>;

/// What the view knows of a stream of a matched record.
#[derive(Debug, Clone)]
enum Content {
    Resident(Vec<u8>),
    Encrypted,
    /// Data in clusters the collection does not hold.
    NonResident {
        size: u64,
    },
    /// The collection holds a copy of the file, read as a file of its own (reading it
    /// here too would double its rows).
    Copied {
        copy: String,
    },
}

/// The records of a collected `$MFT`, the `$J` beside it, and the data of the matched
/// records.
pub struct CollectedRecords {
    mft: CollectedMft,
    journal: Option<Box<dyn CollectedFile>>,
    copies: Option<CopyFinder>,
    kept: Mutex<FxHashMap<(u64, String), Content>>,
}

/// A collected `$MFT` as a view: `source` names the `$MFT`, journal rows the `$J`.
pub type CollectedFs = MftFs<CollectedRecords>;

/// The view of `mft`, with the change journal `journal` when one was collected beside
/// it and `copies` to name the collection's copies of files whose data is not in the
/// records.
pub fn collected_view(
    mft: CollectedMft,
    journal: Option<Box<dyn CollectedFile>>,
    copies: Option<CopyFinder>,
) -> CollectedFs {
    let label = mft.name();
    let journal_label = journal.as_ref().map(|j| j.name());
    let view = MftFs::new(
        CollectedRecords {
            mft,
            journal,
            copies,
            kept: Mutex::new(FxHashMap::default()),
        },
        label,
    );
    match journal_label {
        Some(name) => view.with_journal_label(name),
        None => view,
    }
}

impl MftRecords for CollectedRecords {
    fn problems(&self) -> Vec<String> {
        self.mft.problems().to_vec()
    }

    fn record_count(&self) -> u64 {
        self.mft.record_count()
    }

    fn map_records<T: Send>(
        &self,
        f: impl Fn(u64, RecordSeen<'_>) -> Option<T> + Sync,
    ) -> (Vec<(u64, T)>, Option<String>) {
        self.mft.map_records(f)
    }

    fn with_extensions(&self, record: MftRecord) -> (MftRecord, Vec<String>) {
        self.mft.with_extensions(record)
    }

    fn record_location(&self, number: u64) -> String {
        format!(
            "MFT record {number} (byte offset {})",
            self.mft.offset_of(number)
        )
    }

    fn keep(&self, record: &MftRecord, candidate: &Candidate) {
        if candidate.kind != EntryKind::File {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        for data in record
            .attributes
            .iter()
            .filter(|a| a.type_code == ATTR_DATA)
        {
            // A copy of the file itself (not of a named stream) may be in the collection.
            let copy = match (&self.copies, data.name.is_empty()) {
                (Some(find), true) => find(&candidate.components),
                _ => None,
            };
            let content = if let Some(copy) = copy {
                Content::Copied { copy }
            } else if data.flags & ATTR_FLAG_ENCRYPTED != 0 {
                Content::Encrypted
            } else if let Some(bytes) = data.resident_data() {
                Content::Resident(bytes.to_vec())
            } else {
                Content::NonResident {
                    size: data.data_size(),
                }
            };
            // A non-resident stream may come in several pieces: the first one counts.
            if let Entry::Vacant(slot) = kept.entry((record.number, data.name.clone())) {
                slot.insert(content);
            }
        }
    }

    fn journal_chunks(
        &self,
        journal: Option<u64>,
        label: &str,
        warnings: &Warnings,
        each: &mut dyn FnMut(&[UsnRecord]),
    ) -> Option<usize> {
        let Some(file) = &self.journal else {
            if journal.is_some() {
                warnings.push(
                    self.mft.name(),
                    "$Extend\\$UsnJrnl",
                    "the $MFT names a change journal, but no $J was collected beside it: \
                     its records are not read",
                );
            }
            return None;
        };
        match each_journal_chunk(file.as_ref(), each) {
            Ok(problems) => Some(problems),
            Err((at, e)) => {
                warnings.push(
                    label,
                    format!("$UsnJrnl:$J offset {at}"),
                    format!("read stopped: {e}"),
                );
                Some(0)
            }
        }
    }

    fn open(&self, number: u64, stream: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let path = format!("MFT record {number}");
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        match kept.get(&(number, stream.to_string())) {
            Some(Content::Resident(bytes)) => Ok(Box::new(Cursor::new(bytes.clone()))),
            Some(Content::Encrypted) => Err(FsError::Unreadable {
                path,
                reason: "EFS-encrypted stream".into(),
            }),
            Some(Content::NonResident { size }) => Err(FsError::NotCollected {
                path,
                reason: format!(
                    "content not in the collection: a collected $MFT holds only the \
                     record, its {size} bytes of data were in the volume's clusters"
                ),
            }),
            Some(Content::Copied { copy }) => Err(FsError::NotCollected {
                path,
                reason: format!(
                    "content not read from the collected $MFT: the collection's copy \
                     {copy} is read as a file of its own"
                ),
            }),
            None => Err(FsError::NotCollected {
                path,
                reason: "content not in the collection: a collected $MFT holds only \
                         records, and this one's data was not kept"
                    .into(),
            }),
        }
    }
}
