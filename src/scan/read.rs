//! Reading a candidate's data: hashing it as it streams, classifying a file inside an
//! install tree by the catalog's member rules, and handing text to the text reader.
//! Readers get a stream and provenance; only this module opens a candidate.

use crate::catalog::{Catalog, ContentKind, FileClass, FileReader, RuleInfo, fold_case};
use crate::content::stream::FileStream;
use crate::content::{self, FileContext, zone_identifier};
use crate::evidence::RowSink;
use crate::fs::{Candidate, FileSystem};
use crate::warning::Warnings;

use super::AnalysisOptions;
use super::candidate::candidate_user;

/// What reading a file gave.
#[derive(Debug, Default)]
pub(super) struct FileRead {
    pub(super) sha256: String,
    pub(super) class: Option<FileClass>,
    pub(super) rule: Option<RuleInfo>,
    pub(super) note: Option<String>,
    /// What the file says in one line, when that is its point (a Zone.Identifier).
    pub(super) summary: Option<String>,
    /// The member rule's reader of what the file holds (NetSession's state, config...).
    pub(super) reader: Option<FileReader>,
}

/// Most a file-specific reader reads of one file (NetSession's state and configuration
/// files are kilobytes; a larger one is read up to here and a warning says so).
const READER_CAP: u64 = 16 * 1024 * 1024;

/// What to do with a file's bytes besides hashing them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reading<'z> {
    /// A file inside an install tree: classify it by the member rules.
    pub(super) member: bool,
    /// Read its text for log lines and indicators (when it is text).
    pub(super) text_wanted: bool,
    /// The zone of its source's local times, when known.
    pub(super) zone: Option<&'z std::sync::Arc<crate::time::zone::SourceZone>>,
}

pub(super) fn read_file(
    fs: &dyn FileSystem,
    candidate: &Candidate,
    catalog: &Catalog,
    options: &AnalysisOptions,
    warnings: &Warnings,
    reading: Reading<'_>,
    out: &mut dyn RowSink,
) -> FileRead {
    let Reading {
        member,
        text_wanted,
        zone,
    } = reading;
    let mut read = FileRead::default();
    let location = candidate.evidence_path();
    let source = fs.candidate_source(candidate);
    let fail = |read: &mut FileRead, what: String| {
        warnings.push(&source, &location, what);
        read.note = Some("content could not be read".into());
    };
    // Nothing could be read: only member rules that test no content can classify it.
    let unreadable = |mut read: FileRead, what: String| {
        fail(&mut read, what);
        if member {
            classify_member(candidate, catalog, None, &mut read);
        }
        read
    };
    let reader = match fs.open(candidate) {
        Ok(r) => r,
        // Metadata without the content (a collected $MFT): the row says so; no warning.
        Err(crate::fs::FsError::NotCollected { reason, .. }) => {
            read.note = Some(reason);
            if member {
                classify_member(candidate, catalog, None, &mut read);
            }
            return read;
        }
        Err(err) => return unreadable(read, format!("{err}")),
    };
    let stream = match FileStream::start(reader, options.hash) {
        Ok(s) => s,
        Err(err) => return unreadable(read, format!("read error at offset 0: {err}")),
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
        zone: zone.cloned(),
    };
    // Log rows carry the file's hash, known only at the end of the file: with hashing
    // on, a text file is read twice (hash, then lines) rather than its rows held back
    // in memory; without it, once.
    let text_now = wants_text && !options.hash;
    // A file with a reader of its own: that reader dates what its lines say.
    let generic_lines = read.reader.is_none();
    let text = |stream, ctx: &FileContext, out: &mut dyn RowSink| {
        let rows = content::TextRows::new(ctx, &catalog.log_events);
        let rows = if generic_lines {
            rows
        } else {
            rows.without_generic_lines()
        };
        read_text(stream, options.text_cap, rows, out)
    };
    let result = if text_now {
        text(stream, &ctx(""), out)
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
    if let Some(reader) = read.reader {
        read_with_reader(fs, candidate, reader, &ctx(&read.sha256), warnings, out);
    }
    if !wants_text {
        return read;
    }
    if result.bytes_read > options.text_cap as u64 {
        // Without hashing the file is not read past the text (`--no-hash`).
        let (size, hash) = match options.hash {
            true => (result.bytes_read, "the hash covers the whole file"),
            false => (
                candidate.size.unwrap_or(result.bytes_read),
                "not hashed (--no-hash)",
            ),
        };
        warnings.push(
            &source,
            &location,
            format!(
                "text read only up to {} bytes of {size}; {hash}",
                options.text_cap
            ),
        );
    }
    if !text_now {
        let again = match fs.open(candidate) {
            Ok(reader) => FileStream::start(reader, false)
                .and_then(|stream| text(stream, &ctx(&read.sha256), out))
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

/// What a member rule's reader makes of the file: its rows, and each problem it met as a
/// warning naming the file (rows found before a problem are kept).
fn read_with_reader(
    fs: &dyn FileSystem,
    candidate: &Candidate,
    reader: FileReader,
    ctx: &FileContext,
    warnings: &Warnings,
    out: &mut dyn RowSink,
) {
    use std::io::Read;
    let warn = |what: String| warnings.push(&ctx.source, &ctx.path, what);
    let mut bytes = Vec::new();
    let read = fs.open(candidate).map_err(|e| e.to_string()).and_then(|r| {
        r.take(READER_CAP + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())
    });
    if let Err(err) = read {
        warn(format!("{} not read: {err}", reader.describe()));
        return;
    }
    if bytes.len() as u64 > READER_CAP {
        bytes.truncate(READER_CAP as usize);
        warn(format!(
            "{} read only up to {READER_CAP} bytes",
            reader.describe()
        ));
    }
    let Some(text) = content::text::decode_text(&bytes) else {
        warn(format!("{}: not text", reader.describe()));
        return;
    };
    for problem in content::netsession::read(reader, &text, ctx, out) {
        warn(format!("{}: {problem}", reader.describe()));
    }
}

/// Reads up to `cap` bytes of a text file line by line: a row per timestamped line as
/// it is read, the indicators at the end.
fn read_text<R: std::io::Read>(
    stream: FileStream<R>,
    cap: usize,
    mut text: content::TextRows<'_>,
    out: &mut dyn RowSink,
) -> std::io::Result<content::stream::StreamResult> {
    let mut decoder = content::text::LineDecoder::new();
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
pub(super) fn classify_member(
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
        // A reader needs the content; without it there is nothing to read.
        read.reader = content.and(m.reader);
    }
    rule.is_some()
}

/// Folders between the tree root and the file, lower-cased for member rules.
fn lower_dirs(candidate: &Candidate) -> Vec<String> {
    candidate
        .dirs_below_tree()
        .iter()
        .map(|d| fold_case(d).into_owned())
        .collect()
}
/// The fields of a Zone.Identifier stream (at most [`zone_identifier::MAX_BYTES`] read).
pub(super) fn zone_fields(fs: &dyn FileSystem, candidate: &Candidate) -> Option<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    fs.open(candidate)
        .ok()?
        .take(zone_identifier::MAX_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    zone_identifier::fields(&bytes)
}
