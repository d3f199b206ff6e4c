//! Where a candidate goes: the one place that decides which reader gets an entry. A new
//! reader (an event log, a Prefetch file, a database) is a variant here and an arm in
//! [`super::Scanner`] or [`super::candidate::analyze`].

use super::prefetch::name_is_netsession;
use crate::catalog::{Catalog, ContentKind, MatchKind};
use crate::content::zone_identifier;
use crate::fs::{Candidate, EntryHandle, EntryKind};

/// The reader a candidate is routed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// A registry hive (by its rule): gathered with its transaction logs and analysed per
    /// system at the end of the scan (SOFTWARE names the users of SYSTEM's entries).
    Hive,
    /// A Windows event log (by its rule): its records read for the `[[event]]` rules,
    /// with the users of its system known (after the hives of its view are gathered).
    EventLog,
    /// The SRUM database (by its rule): read whole by the ESE reader, with the users of
    /// its system known.
    Srum,
    /// A Prefetch file (by its rule): parsed, kept only when NetSession's.
    Prefetch,
    /// A `Zone.Identifier` stream: hashed, and its fields read.
    ZoneIdentifier,
    /// A file: hashed; classified by the member rules when it lies inside an install
    /// tree; its lines read when it is text and the rule wants text.
    File { member: bool, text_wanted: bool },
    /// A folder: its times only (`member` inside an install tree).
    Folder { member: bool },
    /// A link, never followed.
    Link,
    /// A FIFO, socket or device: never opened.
    Special,
    /// A name with nothing behind it (left in a folder index's slack): its times only.
    NameOnly,
    /// A name with nothing behind it that says nothing without its content (a hive's,
    /// an event log's, another program's Prefetch file's): no row.
    Ignored,
}

/// Decide from the catalog's rule and the entry's kind (content is sniffed later, by
/// the reader, from the bytes it reads anyway).
pub(super) fn route(catalog: &Catalog, candidate: &Candidate) -> Route {
    let rule = &catalog.files[candidate.found.rule];
    let member = candidate.found.kind == MatchKind::TreeMember;
    if candidate.handle == EntryHandle::NameOnly {
        return match rule.content {
            Some(ContentKind::Hive | ContentKind::EventLog | ContentKind::Srum) => Route::Ignored,
            Some(ContentKind::Prefetch) if !name_is_netsession(candidate.name(), catalog) => {
                Route::Ignored
            }
            _ => Route::NameOnly,
        };
    }
    if rule.content == Some(ContentKind::Hive) {
        // Only regular files among them are read; a folder or link of that name is
        // not evidence of anything.
        return Route::Hive;
    }
    if rule.content == Some(ContentKind::Srum) {
        return Route::Srum;
    }
    if rule.content == Some(ContentKind::EventLog) {
        // As with hives, only regular files among them are read.
        return Route::EventLog;
    }
    match &candidate.kind {
        EntryKind::File if rule.content == Some(ContentKind::Prefetch) => Route::Prefetch,
        EntryKind::Dir => Route::Folder { member },
        EntryKind::Link { .. } => Route::Link,
        EntryKind::Special => Route::Special,
        EntryKind::File if zone_identifier::is_zone_identifier(candidate.name()) => {
            Route::ZoneIdentifier
        }
        EntryKind::File => Route::File {
            member,
            text_wanted: !member && rule.content == Some(ContentKind::Text),
        },
    }
}
