//! From a matched entry to evidence rows: its file-system times, its hash, its class
//! inside an install tree, and what its content says.

use crate::catalog::{Catalog, Confidence, ContentKind, FileClass, MatchKind, RuleInfo, fold_case};
use crate::content::stream::FileStream;
use crate::content::{self, FileContext};
use crate::evidence::{EvidenceRow, RecordState, RowSink};
use crate::fs::{Candidate, EntryKind, FileSystem, FileTime};
use crate::warning::Warnings;

/// Options that change what analysis reads.
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    pub hash: bool,
    /// Most bytes of one file read for its text content.
    pub text_cap: usize,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            hash: true,
            text_cap: 64 * 1024 * 1024,
        }
    }
}

/// What reading a file gave.
#[derive(Debug, Default)]
struct FileRead {
    sha256: String,
    class: Option<FileClass>,
    rule: Option<RuleInfo>,
    note: Option<String>,
    /// What the file says in one line, when that is its point (a Zone.Identifier).
    summary: Option<String>,
}

/// Every row for one candidate, handed to `out` as they are made (a log gives its lines
/// while it is read, not all at the end).
pub fn analyze(
    fs: &dyn FileSystem,
    candidate: &Candidate,
    catalog: &Catalog,
    options: &AnalysisOptions,
    warnings: &Warnings,
    out: &mut dyn RowSink,
) {
    let file_rule = &catalog.files[candidate.found.rule];
    let source = fs.candidate_source(candidate);
    let path = candidate.evidence_path();
    let user = candidate_user(candidate);

    let mut read = FileRead::default();
    let mut rule = file_rule.info.clone();
    let mut what = file_rule.info.what.clone();
    match (&candidate.kind, &candidate.found.kind) {
        (EntryKind::Dir, MatchKind::TreeMember) => {
            what = format!("folder inside the {}", file_rule.info.what);
        }
        (EntryKind::Dir, _) => {}
        (EntryKind::File, _) if is_zone_identifier(candidate.name()) => {
            // The stream names where its file came from: read it whatever the file is.
            let reading = Reading {
                member: false,
                text_wanted: true,
            };
            read = read_file(fs, candidate, catalog, options, warnings, reading, out);
            read.summary = zone_fields(fs, candidate);
            rule = zone_identifier_rule(&file_rule.info);
            what = rule.what.clone();
        }
        (EntryKind::File, kind) => {
            let member = *kind == MatchKind::TreeMember;
            let text_wanted = !member && file_rule.content == Some(ContentKind::Text);
            let reading = Reading {
                member,
                text_wanted,
            };
            read = read_file(fs, candidate, catalog, options, warnings, reading, out);
            if let Some(member_rule) = &read.rule {
                rule = member_rule.clone();
                what = member_rule.what.clone();
            }
        }
        (EntryKind::Link { target }, _) => {
            read.note = Some(format!("symbolic link to {target}, not followed"));
        }
        (EntryKind::Special, _) => {
            read.note = Some("not a regular file (FIFO, socket or device); not read".into());
        }
    }

    let ctx = FileContext {
        path: path.clone(),
        name: candidate.name().to_string(),
        user: user.clone(),
        source: source.clone(),
        state: candidate.state,
        sha256: read.sha256.clone(),
    };
    for row in entry_rows(candidate, &rule, &what, &read, &ctx) {
        out.push(row);
    }
}

/// What to do with a file's bytes besides hashing them.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// A file inside an install tree: classify it by the member rules.
    member: bool,
    /// Read its text for log lines and indicators (when it is text).
    text_wanted: bool,
}

/// One row per distinct time of the entry (times that coincide share a row).
fn entry_rows(
    candidate: &Candidate,
    rule: &RuleInfo,
    what: &str,
    read: &FileRead,
    ctx: &FileContext,
) -> Vec<EvidenceRow> {
    let mut message = format!("{what}: {}", candidate.name());
    if let (Some(size), EntryKind::File) = (candidate.size, &candidate.kind) {
        message.push_str(&format!(" ({size} bytes)"));
    }
    if candidate.found.kind == MatchKind::TreeMember {
        message.push_str(&format!(" in {}", candidate.tree_root_path()));
    }
    if let Some(note) = &read.note {
        message.push_str(&format!("; {note}"));
    }
    match candidate.state {
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
    let groups = group_times(&candidate.times);
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

/// Group equal times of one attribute: `Created, Modified (filesystem)`.
fn group_times(times: &[FileTime]) -> Vec<(String, crate::time::Timestamp)> {
    let mut groups: Vec<(&'static str, crate::time::Timestamp, Vec<&'static str>)> = Vec::new();
    for t in times {
        match groups
            .iter_mut()
            .find(|(attr, time, _)| *attr == t.attribute && *time == t.time)
        {
            Some(group) => group.2.push(t.label),
            None => groups.push((t.attribute, t.time, vec![t.label])),
        }
    }
    groups
        .into_iter()
        .map(|(attr, time, labels)| (format!("{} ({attr})", labels.join(", ")), time))
        .collect()
}

fn read_file(
    fs: &dyn FileSystem,
    candidate: &Candidate,
    catalog: &Catalog,
    options: &AnalysisOptions,
    warnings: &Warnings,
    reading: Reading,
    out: &mut dyn RowSink,
) -> FileRead {
    let Reading {
        member,
        text_wanted,
    } = reading;
    let mut read = FileRead::default();
    let location = candidate.evidence_path();
    let source = fs.candidate_source(candidate);
    let fail = |read: &mut FileRead, what: String| {
        warnings.push(&source, &location, what);
        read.note = Some("content could not be read".into());
    };
    let reader = match fs.open(candidate) {
        Ok(r) => r,
        Err(err) => {
            fail(&mut read, format!("{err}"));
            if member {
                classify_member(candidate, catalog, None, &mut read);
            }
            return read;
        }
    };
    let stream = match FileStream::start(reader, options.hash) {
        Ok(s) => s,
        Err(err) => {
            fail(&mut read, format!("read error at offset 0: {err}"));
            if member {
                classify_member(candidate, catalog, None, &mut read);
            }
            return read;
        }
    };
    let content_kind = content::sniff(stream.head());
    let mut wants_text = text_wanted && content_kind == ContentKind::Text;
    if member && classify_member(candidate, catalog, Some(content_kind), &mut read) {
        wants_text =
            read.class.is_some_and(FileClass::is_textual) && content_kind == ContentKind::Text;
    }
    let ctx = |sha256: &str| FileContext {
        path: location.clone(),
        name: candidate.name().to_string(),
        user: candidate_user(candidate),
        source: source.clone(),
        state: candidate.state,
        sha256: sha256.to_string(),
    };
    // Log rows carry the file's hash, known only at the end of the file: with hashing
    // on, a text file is read twice (hash, then lines) rather than its rows held back
    // in memory; without it, once.
    let text_now = wants_text && !options.hash;
    let result = if text_now {
        read_text(stream, options.text_cap, &ctx(""), out)
    } else {
        stream.finish(0, &mut |_| {})
    };
    let result = match result {
        Ok(r) => r,
        Err(err) => {
            fail(&mut read, format!("read error: {err}"));
            return read;
        }
    };
    read.sha256 = result.sha256.unwrap_or_default();
    if !wants_text {
        return read;
    }
    if result.bytes_read > options.text_cap as u64 {
        warnings.push(
            &source,
            &location,
            format!(
                "text read only up to {} bytes of {}; the hash covers the whole file",
                options.text_cap, result.bytes_read
            ),
        );
    }
    if !text_now {
        let again = match fs.open(candidate) {
            Ok(reader) => FileStream::start(reader, false)
                .and_then(|stream| read_text(stream, options.text_cap, &ctx(&read.sha256), out))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(err) = again {
            // Lines read before the error are kept.
            warnings.push(&source, &location, format!("read error in its text: {err}"));
        }
    }
    read
}

/// Reads up to `cap` bytes of a text file line by line: a row per timestamped line as
/// it is read, the indicators at the end.
fn read_text<R: std::io::Read>(
    stream: FileStream<R>,
    cap: usize,
    ctx: &FileContext,
    out: &mut dyn RowSink,
) -> std::io::Result<content::stream::StreamResult> {
    let mut decoder = content::text::LineDecoder::new();
    let mut text = content::TextRows::new(ctx);
    let result = stream.finish(cap, &mut |bytes| {
        decoder.feed(bytes, &mut |piece| text.piece(piece, out));
    });
    decoder.finish(&mut |piece| text.piece(piece, out));
    text.finish(out);
    result
}

/// Classify a file inside an install tree by the catalog's member rules. `content` is
/// `None` when the data could not be read: then only rules that test no content apply
/// (a test for text or PE must not pass on bytes never seen). True when a rule matched.
fn classify_member(
    candidate: &Candidate,
    catalog: &Catalog,
    content: Option<ContentKind>,
    read: &mut FileRead,
) -> bool {
    let lower_dirs = lower_dirs(candidate);
    let name = fold_case(candidate.name());
    let rule = match content {
        Some(kind) => catalog.classify(&name, &lower_dirs, kind),
        None => catalog
            .members
            .iter()
            .find(|m| m.content.is_none() && m.accepts(&name, &lower_dirs, ContentKind::Opaque)),
    };
    if let Some(m) = rule {
        read.class = Some(m.class);
        read.rule = Some(m.info.clone());
    }
    rule.is_some()
}

/// `name:Zone.Identifier`, the stream Windows writes on downloaded files.
fn is_zone_identifier(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(":zone.identifier")
}

/// `ZoneId=3; HostUrl=...; ReferrerUrl=...` from a Zone.Identifier stream (a few
/// hundred bytes; at most 64 KiB are read).
fn zone_fields(fs: &dyn FileSystem, candidate: &Candidate) -> Option<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    fs.open(candidate)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut bytes)
        .ok()?;
    let text = content::text::decode_text(&bytes)?;
    let fields: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.contains('=') && !l.starts_with('['))
        .map(String::from)
        .collect();
    (!fields.is_empty()).then(|| fields.join("; "))
}

/// The Zone.Identifier of a matched file: evidence of its own (zone, HostUrl,
/// ReferrerUrl), so it gets an id of its own, with the matched file's rule behind it.
fn zone_identifier_rule(of: &RuleInfo) -> RuleInfo {
    RuleInfo {
        id: "download.zone_identifier".into(),
        what: format!("Zone.Identifier stream of a {}", of.what),
        proves: "the file was downloaded (zone and source URL as Windows recorded them)".into(),
        confidence: of.confidence,
        source: "Windows Attachment Manager (Zone.Identifier alternate data stream)".into(),
    }
}

fn candidate_user(candidate: &Candidate) -> String {
    candidate
        .found
        .user
        .as_deref()
        .map(String::from)
        .unwrap_or_default()
}

/// Folders between the tree root and the file, lower-cased for member rules.
fn lower_dirs(candidate: &Candidate) -> Vec<String> {
    candidate
        .dirs_below_tree()
        .iter()
        .map(|d| fold_case(d).into_owned())
        .collect()
}

/// Rows for change-journal records naming what the catalog matches.
pub fn journal_rows(
    fs: &dyn FileSystem,
    hits: &[crate::fs::JournalHit],
    catalog: &Catalog,
) -> Vec<EvidenceRow> {
    use crate::fs::journal::PathOrigin;
    use crate::ntfs::usn::reason_names;
    hits.iter()
        .map(|hit| {
            let rule = &catalog.files[hit.found.rule].info;
            let r = &hit.record;
            let reasons = reason_names(r.reason).join("|");
            let mut message = format!(
                "USN journal: {} {} ({rule_what})",
                r.name,
                describe_reasons(r.reason),
                rule_what = rule.what
            );
            match hit.origin {
                PathOrigin::Mft => {}
                PathOrigin::Journal => message.push_str(
                    "; folder named by the journal's own records (its MFT record was reused since)",
                ),
                PathOrigin::Unknown => message.push_str(
                    "; its folder's MFT record was reused since and the journal no longer names it: folder unknown",
                ),
            }
            EvidenceRow {
                datetime: crate::time::Timestamp::from_filetime(r.timestamp),
                timestamp_desc: "USN Journal Entry".into(),
                message,
                artifact: "ntfs.usn_journal".into(),
                user: hit
                    .found
                    .user
                    .as_deref()
                    .map(String::from)
                    .unwrap_or_default(),
                path: hit.path.clone(),
                value: format!(
                    "reasons={reasons}; usn={}; file=mft {} seq {}",
                    r.usn, r.file_record, r.file_sequence
                ),
                size: None,
                sha256: String::new(),
                state: RecordState::Allocated,
                source: fs.source().to_string(),
                locator: format!("$UsnJrnl:$J offset={:#x} usn={}", r.offset, r.usn),
            }
        })
        .collect()
}

/// What a journal record's reasons say happened, in words.
fn describe_reasons(reason: u32) -> &'static str {
    if reason & 0x200 != 0 {
        "deleted"
    } else if reason & 0x100 != 0 {
        "created"
    } else if reason & 0x2000 != 0 {
        "renamed to this name"
    } else if reason & 0x1000 != 0 {
        "renamed from this name"
    } else {
        "changed"
    }
}
