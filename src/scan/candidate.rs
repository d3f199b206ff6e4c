//! From a matched entry to evidence rows: its file-system times, its hash, its class
//! inside an install tree, and what its content says.

use crate::catalog::{Catalog, Confidence, ContentKind, MatchKind, RuleInfo};
use crate::content::{FileContext, zone_identifier};
use crate::evidence::{EvidenceRow, RecordState, RowSink};
use crate::fs::{Candidate, EntryHandle, EntryKind, FileSystem};
use crate::time::zone::SourceZone;
use crate::warning::Warnings;
use std::sync::Arc;

use super::AnalysisOptions;
use super::read::{FileRead, Reading, classify_member, read_file, zone_fields};
use super::route::{Route, route};

/// The artifact of a NetSession Prefetch file's name left in index slack.
const PREFETCH_NAME_ARTIFACT: &str = "execution.prefetch_name";

/// Every row for one candidate, handed to `out` as they are made (a log gives its lines
/// while it is read, not all at the end). `zone` is that of its source's local times.
pub(super) fn analyze(
    fs: &dyn FileSystem,
    candidate: &Candidate,
    catalog: &Catalog,
    options: &AnalysisOptions,
    zone: Option<&Arc<SourceZone>>,
    warnings: &Warnings,
    out: &mut dyn RowSink,
) {
    let file_rule = &catalog.files[candidate.found.rule];
    let source = fs.candidate_source(candidate);
    let path = candidate.evidence_path_with(file_rule.os.separator());
    let mut user = candidate_user(candidate);

    let mut read = FileRead::default();
    let mut rule = file_rule.info.clone();
    let mut what = file_rule.info.what.clone();
    match route(catalog, candidate) {
        Route::Folder { member: true } => {
            what = format!("folder inside the {}", file_rule.info.what);
        }
        Route::Folder { member: false } | Route::Hive | Route::EventLog | Route::Srum => {}
        Route::Prefetch => {
            match prefetch_file(fs, candidate, catalog, options, warnings, out) {
                Some(pf) => {
                    read.sha256 = pf.sha256;
                    rule.id = pf.artifact.into();
                    read.note = pf.note;
                    // the profile its content names, when the path names none
                    if user.is_empty() {
                        user = pf.user;
                    }
                }
                // Another program's Prefetch file: not evidence of anything.
                None => return,
            }
        }
        Route::ZoneIdentifier => {
            // The stream names where its file came from: read it whatever the file is.
            let reading = Reading {
                member: false,
                text_wanted: true,
                zone,
            };
            read = read_file(fs, candidate, catalog, options, warnings, reading, out);
            read.summary = zone_fields(fs, candidate);
            rule = zone_identifier::rule(&file_rule.info);
            what = rule.what.clone();
        }
        Route::File {
            member,
            text_wanted,
        } => {
            let reading = Reading {
                member,
                text_wanted,
                zone,
            };
            read = read_file(fs, candidate, catalog, options, warnings, reading, out);
            if let Some(member_rule) = &read.rule {
                rule = member_rule.clone();
                what = member_rule.what.clone();
            }
        }
        Route::Link => {
            if let EntryKind::Link { target } = &candidate.kind {
                read.note = Some(format!("symbolic link to {target}, not followed"));
            }
        }
        Route::Special => {
            read.note = Some("not a regular file (FIFO, socket or device); not read".into());
        }
        Route::NameOnly => {
            if candidate.found.kind == MatchKind::TreeMember {
                what = format!("entry inside the {}", file_rule.info.what);
                // Classified by its name alone, as a file whose content is unreadable.
                if candidate.kind == EntryKind::File
                    && classify_member(candidate, catalog, None, &mut read)
                    && let Some(member_rule) = &read.rule
                {
                    rule = member_rule.clone();
                    what = member_rule.what.clone();
                }
            }
            // Not its run times (those are inside the file): a name of its own.
            if file_rule.content == Some(ContentKind::Prefetch) {
                rule.id = PREFETCH_NAME_ARTIFACT.into();
            }
            read.note = Some(
                "name and times left in the slack of its folder's index ($I30): the file is \
                 gone and its MFT record free or holding another file"
                    .into(),
            );
        }
        Route::Ignored => return,
    }

    let ctx = FileContext {
        path: path.clone(),
        name: candidate.name().to_string(),
        user: user.clone(),
        source: source.clone(),
        state: candidate.state,
        sha256: read.sha256.clone(),
        zone: zone.cloned(),
    };
    let separator = file_rule.os.separator();
    for row in entry_rows(candidate, &rule, &what, &read, &ctx, separator) {
        out.push(row);
    }
}

/// What a kept Prefetch file's own entry rows say.
struct PrefetchEntry {
    sha256: String,
    /// The user its content rows name (the profile of the program's image), or empty.
    user: String,
    artifact: &'static str,
    note: Option<String>,
}

/// Reads a Prefetch file; its content rows go to `out`. `None` when it is not
/// NetSession's (nothing about it is evidence) or unreadable without a NetSession name.
fn prefetch_file(
    fs: &dyn FileSystem,
    candidate: &Candidate,
    catalog: &Catalog,
    options: &AnalysisOptions,
    warnings: &Warnings,
    out: &mut dyn RowSink,
) -> Option<PrefetchEntry> {
    use super::prefetch::{PrefetchRead, name_is_netsession, read};
    let source = fs.candidate_source(candidate);
    let path = candidate.evidence_path();
    let ctx = FileContext {
        path: path.clone(),
        name: candidate.name().to_string(),
        user: candidate_user(candidate),
        source: source.clone(),
        state: candidate.state,
        sha256: String::new(),
        zone: None,
    };
    let outcome = match fs.open(candidate) {
        Ok(reader) => read(reader, catalog, options.hash, ctx),
        Err(crate::fs::FsError::NotCollected { reason, .. }) => PrefetchRead::Unreadable {
            why: reason,
            sha256: String::new(),
        },
        Err(err) => PrefetchRead::Unreadable {
            why: err.to_string(),
            sha256: String::new(),
        },
    };
    match outcome {
        PrefetchRead::Kept {
            sha256,
            rows,
            program,
        } => {
            let user = rows
                .iter()
                .map(|r| r.user.clone())
                .find(|u| !u.is_empty())
                .unwrap_or_default();
            for row in rows {
                out.push(row);
            }
            Some(PrefetchEntry {
                sha256,
                user,
                artifact: if program {
                    "execution.prefetch_file"
                } else {
                    "prefetch.loaded_file"
                },
                note: Some("its content was read: the run times are in its Last Run (Prefetch) rows; these are the file's own times".into()),
            })
        }
        PrefetchRead::Other => None,
        PrefetchRead::Unreadable { why, sha256 } => {
            warnings.push(&source, &path, why.clone());
            name_is_netsession(candidate.name(), catalog).then(|| PrefetchEntry {
                sha256,
                user: String::new(),
                artifact: "execution.prefetch_unread",
                note: Some(format!(
                    "content not readable ({why}); only the file's own times"
                )),
            })
        }
    }
}

/// One row per distinct time of the entry (times that coincide share a row).
fn entry_rows(
    candidate: &Candidate,
    rule: &RuleInfo,
    what: &str,
    read: &FileRead,
    ctx: &FileContext,
    separator: &str,
) -> Vec<EvidenceRow> {
    let mut message = format!("{what}: {}", candidate.name());
    if let (Some(size), EntryKind::File) = (candidate.size, &candidate.kind) {
        message.push_str(&format!(" ({size} bytes)"));
    }
    if candidate.found.kind == MatchKind::TreeMember {
        message.push_str(&format!(" in {}", candidate.tree_root_path(separator)));
    }
    if let Some(note) = &read.note {
        message.push_str(&format!("; {note}"));
    }
    match candidate.state {
        RecordState::Deleted if candidate.handle == EntryHandle::NameOnly => {
            message.push_str("; DELETED")
        }
        RecordState::Deleted if candidate.kind == EntryKind::File => message.push_str(
            "; DELETED: the data its runs still point to was hashed and may have been overwritten since",
        ),
        RecordState::Deleted => message.push_str("; DELETED"),
        RecordState::Orphan => message.push_str("; orphan: its parent folder is gone"),
        _ => {}
    }
    if rule.confidence == Confidence::G {
        message.push_str(&format!(" [{}]", Confidence::G.describe()));
    }
    let base = EvidenceRow {
        datetime: None,
        timestamp_desc: String::new(),
        message,
        artifact: rule.id.clone(),
        user: ctx.user.clone(),
        path: ctx.path.clone(),
        value: read.summary.clone().unwrap_or_else(|| {
            read.class
                .map(|c| format!("class={}", c.describe()))
                .unwrap_or_default()
        }),
        size: candidate.size.filter(|_| candidate.kind != EntryKind::Dir),
        sha256: ctx.sha256.clone(),
        state: candidate.state,
        source: ctx.source.clone(),
        locator: candidate.locator.clone(),
    };
    // A ZIP entry's DOS time is the local time of the machine that wrote the archive:
    // placed in UTC by the source's zone where one is known.
    let mut times: Vec<(&'static str, String, crate::time::Timestamp)> = candidate
        .times
        .iter()
        .map(|t| (t.label, t.attribute.to_string(), t.time))
        .collect();
    let mut base = base;
    if let Some(zone) = &ctx.zone {
        let mut applied = None;
        for (_, attribute, time) in times
            .iter_mut()
            .filter(|(_, a, _)| a == crate::fs::archive::DOS_ATTRIBUTE)
        {
            if let Some((utc, offset)) = zone.to_utc(*time) {
                *time = utc;
                *attribute = format!("archive entry, DOS local time, zone {}", zone.name());
                applied.get_or_insert(zone.applied(offset));
            }
        }
        if let Some(applied) = applied {
            base.message
                .push_str(&format!("; its DOS time is local: {applied}"));
        }
    }
    let groups = group_times(&times);
    if groups.is_empty() {
        let mut row = base;
        row.timestamp_desc = "No Time (file system gave none)".into();
        return vec![row];
    }
    groups
        .into_iter()
        .map(|(desc, time)| {
            let mut row = base.clone();
            row.datetime = Some(time);
            row.timestamp_desc = desc;
            row
        })
        .collect()
}

/// Group equal times of one attribute: `Created, Modified (filesystem)`. Each time is
/// (label, attribute, time).
fn group_times(
    times: &[(&'static str, String, crate::time::Timestamp)],
) -> Vec<(String, crate::time::Timestamp)> {
    let mut groups: Vec<(&str, crate::time::Timestamp, Vec<&'static str>)> = Vec::new();
    for (label, attribute, at) in times {
        match groups
            .iter_mut()
            .find(|(attr, time, _)| attr == attribute && time == at)
        {
            Some(group) => group.2.push(label),
            None => groups.push((attribute, *at, vec![label])),
        }
    }
    groups
        .into_iter()
        .map(|(attr, time, labels)| (format!("{} ({attr})", labels.join(", ")), time))
        .collect()
}

pub(super) fn candidate_user(candidate: &Candidate) -> String {
    candidate
        .found
        .user
        .as_deref()
        .map(String::from)
        .unwrap_or_default()
}
