//! The file system view: the one seam between where bytes come from (a directory, later
//! an NTFS volume inside an image) and what we look for.
//!
//! A view walks its entries, asks the catalog's [`Matcher`] about each name, and hands
//! back the entries that matched with everything the file system knows about them. It
//! opens a candidate's data as a reader. Nothing downstream knows which view it got.

pub mod archive;
pub mod collected;
pub mod directory;
mod file_parents;
pub mod hive_suspects;
pub mod journal;
pub mod mft_walk;
pub mod ntfs;
pub mod volumes;

use std::io::Read;
use std::path::PathBuf;

use crate::catalog::{EntryMatch, Matcher};
use crate::evidence::RecordState;
use crate::time::Timestamp;
use crate::warning::Warnings;

/// One time the file system keeps for an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTime {
    /// What the time is: `Created`, `Modified`, `Accessed`, `Metadata Changed`.
    pub label: &'static str,
    /// Which structure holds it: `filesystem` for a host's stat, `$SI`/`$FN` for NTFS.
    pub attribute: &'static str,
    pub time: Timestamp,
}

/// What kind of thing an entry is, as the file system says (never followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// A symbolic link or junction; `target` as stored, not followed.
    Link {
        target: String,
    },
    /// A FIFO, socket or device: never opened (reading a FIFO would block).
    Special,
}

/// How a view finds an entry's data again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryHandle {
    /// A path on the host, exactly as the walk met it (not necessarily UTF-8).
    Host(PathBuf),
    /// A $DATA stream of an MFT record: `stream` is "" for the file's data, else the
    /// name of an alternate data stream (`Zone.Identifier`).
    Mft { record: u64, stream: String },
    /// An entry of an archive, by its index in the archive's listing (`usize::MAX` for a
    /// folder the archive does not list).
    Archive { entry: usize },
    /// A name with nothing behind it to read: an entry left in the slack of a folder's
    /// index (`$I30`), whose file is gone.
    NameOnly,
}

/// An entry that matched the catalog, with all the file system knows about it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Names leading to the entry, for display (see [`crate::host::display_name`]). For a directory
    /// input these start at the host's root, so that a pattern can begin above the
    /// folder the examiner named (`netsession-scan /mnt/c/Users` still sees `Users`).
    pub components: Vec<String>,
    /// How many leading components lie above the input's root folder.
    pub input_depth: usize,
    /// How many leading components lie above the volume root the entry belongs to.
    pub volume_depth: usize,
    pub kind: EntryKind,
    pub size: Option<u64>,
    pub times: Vec<FileTime>,
    pub state: RecordState,
    /// How to find the entry with another tool, e.g. `inode=1234` or `mft=69 seq=1`.
    pub locator: String,
    pub handle: EntryHandle,
    /// What the catalog matched.
    pub found: EntryMatch,
}

impl Candidate {
    /// The path as on the evidence: from the volume root, Windows style.
    pub fn evidence_path(&self) -> String {
        self.evidence_path_with("\\")
    }

    /// The path from the volume root, joined with `separator` (`/` on a Mac volume).
    pub fn evidence_path_with(&self, separator: &str) -> String {
        self.components[self.volume_depth.min(self.components.len())..].join(separator)
    }

    /// The entry's own name.
    pub fn name(&self) -> &str {
        self.components.last().map(String::as_str).unwrap_or("")
    }

    /// Folder names between the matched tree's root and the entry (tree members only).
    pub fn dirs_below_tree(&self) -> &[String] {
        let from = (self.found.tree_depth + 1).min(self.components.len());
        let to = self.components.len().saturating_sub(1).max(from);
        &self.components[from..to]
    }

    /// The name of the tree root folder the entry belongs to.
    pub fn tree_root_path(&self, separator: &str) -> String {
        let end = (self.found.tree_depth + 1).min(self.components.len());
        self.components[self.volume_depth.min(end)..end].join(separator)
    }
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walk {
    pub candidates: Vec<Candidate>,
    /// Entries of every kind the walk went through.
    pub entries_seen: u64,
    /// Unmatched files that may be hives (a directory walk only), to be sniffed.
    pub hive_suspects: hive_suspects::HiveSuspects,
}

/// Where a walk hands change-journal records whose path matched the catalog (NTFS
/// `$UsnJrnl:$J`).
pub type JournalSink<'a> = &'a mut dyn FnMut(Vec<JournalHit>);

/// A change-journal record naming something the catalog matches: it dates creation,
/// renaming and deletion even after the file's MFT record was reused.
#[derive(Debug, Clone)]
pub struct JournalHit {
    /// Path as reconstructed from the record's parent reference (from the volume root).
    pub path: String,
    pub record: crate::ntfs::usn::UsnRecord,
    pub found: EntryMatch,
    /// Where the folders of `path` came from (MFT, the journal's own folder records,
    /// or nowhere: `$Orphan\name`).
    pub origin: journal::PathOrigin,
}

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a regular file")]
    NotAFile { path: String },
    #[error("{path}: {reason}")]
    Unreadable { path: String, reason: String },
    /// The view knows the entry but not its content: a collected `$MFT` holds only the
    /// records, not the clusters of non-resident data. `reason` says so in words.
    #[error("{path}: {reason}")]
    NotCollected { path: String, reason: String },
}

/// A file system to scan.
pub trait FileSystem: Sync {
    /// How rows name this file system in `source`: the input as given, plus the volume.
    fn source(&self) -> &str;

    /// How change-journal rows name where the journal was read (a collected `$J` beside
    /// a collected `$MFT` is a file of its own).
    fn journal_source(&self) -> String {
        self.source().to_string()
    }

    /// For a shadow copy of a volume, the `source` of the live volume's view: rows of
    /// this view equal to the live volume's are not reported twice.
    fn snapshot_of(&self) -> Option<&str> {
        None
    }

    /// Walk every entry, match names against the catalog, and collect candidates.
    /// Damage met on the way is a warning; the walk goes on. Change-journal records the
    /// catalog matches go to `journal` a chunk of the journal at a time (a journal may
    /// hold millions of them: they are not collected here).
    fn walk(&self, matcher: &Matcher, warnings: &Warnings, journal: JournalSink<'_>) -> Walk;

    /// Open a candidate's data for reading (regular files only: a FIFO would block).
    fn open(&self, candidate: &Candidate) -> Result<Box<dyn Read + Send + '_>, FsError> {
        if candidate.kind != EntryKind::File {
            return Err(FsError::NotAFile {
                path: candidate.evidence_path(),
            });
        }
        self.open_handle(&candidate.handle)
    }

    /// Regular files in the candidate's folder, as (name, handle): how a hive's
    /// transaction logs are found beside it.
    fn siblings(&self, candidate: &Candidate) -> Vec<(String, EntryHandle)>;

    /// Open a file found by [`FileSystem::siblings`].
    fn open_handle(&self, handle: &EntryHandle) -> Result<Box<dyn Read + Send + '_>, FsError>;

    /// The `source` of a candidate's rows: this view's, plus where the volume root lies
    /// when it is not the input's own folder: `root=C` below the input, or the absolute
    /// host path of the volume root when the examiner named a folder inside the volume.
    fn candidate_source(&self, candidate: &Candidate) -> String {
        default_candidate_source(self.source(), candidate)
    }
}

/// [`FileSystem::candidate_source`] as most views make it, for a view whose own source
/// is `source`.
pub fn default_candidate_source(source: &str, candidate: &Candidate) -> String {
    let (input, volume) = (candidate.input_depth, candidate.volume_depth);
    match volume.cmp(&input) {
        std::cmp::Ordering::Equal => source.to_string(),
        std::cmp::Ordering::Greater => format!(
            "{} root={}",
            source,
            candidate.components[input..volume.min(candidate.components.len())].join("/")
        ),
        std::cmp::Ordering::Less => format!(
            "{} root=/{}",
            source,
            candidate.components[..volume].join("/")
        ),
    }
}
