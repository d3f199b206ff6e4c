//! Windows event logs (EVTX): the records the catalog's `[[event]]` rules want.
//!
//! The log is read front to back in 64 KiB chunks ([`file`]); a chunk whose bytes name
//! none of the rules' providers and terms is skipped unparsed ([`matcher`]); the others
//! are parsed by the `evtx` crate (checksums checked here, records carved from unused
//! space too) and each record, rendered as XML, is read back into an [`record::Event`].
//! Damage is reported through `problem` with the chunk and record, and reading goes on.

pub mod file;
pub mod matcher;
pub mod record;
pub mod rows;

use std::io::Read;
use std::sync::Arc;

use evtx::{EvtxChunkData, ParserSettings};

use crate::time::Timestamp;
use file::{ChunkReader, HeaderError, Piece, chunk_offset};
use matcher::{EventMatcher, Why, fold_chunk};
use record::Event;

/// One event a rule wants.
#[derive(Debug, Clone)]
pub struct EventHit {
    /// Index of the rule in the catalog's `events`.
    pub rule: usize,
    pub why: Why,
    pub event: Event,
    /// The chunk's number (0 = first after the file header).
    pub chunk: u64,
    /// File offset of the record.
    pub offset: u64,
    /// Carved from the chunk's unused space.
    pub recovered: bool,
    /// The record header's time, for an event whose XML has none.
    pub header_time: Option<Timestamp>,
}

/// What reading one log found besides its hits.
#[derive(Debug, Clone, Default)]
pub struct LogSummary {
    pub header: Option<file::FileHeader>,
    /// Chunks with an `ElfChnk` signature.
    pub chunks: u64,
    /// Of those, the chunks parsed (the others named nothing a rule looks for).
    pub chunks_parsed: u64,
    /// Records read in the chunks parsed (live and carved).
    pub records: u64,
    pub bytes: u64,
    pub sha256: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{0}")]
    Header(#[from] HeaderError),
    #[error("read failed at offset {offset}: {source}")]
    Read { offset: u64, source: std::io::Error },
}

/// Read one event log. `problem(location, message)` hears of damage; `hit` gets each
/// event a rule wants, in file order.
pub fn read_log<R: Read>(
    reader: R,
    matcher: &EventMatcher<'_>,
    hash: bool,
    problem: &mut dyn FnMut(String, String),
    hit: &mut dyn FnMut(EventHit),
) -> Result<LogSummary, LogError> {
    let (mut chunks, header_bytes) =
        ChunkReader::start(reader, hash).map_err(|source| LogError::Read { offset: 0, source })?;
    let header = file::file_header(&header_bytes)?;
    if !header.checksum_ok {
        problem(
            "file header".into(),
            "file header checksum mismatch; chunks read anyway".into(),
        );
    }
    if header.major_version != 3 {
        problem(
            "file header".into(),
            format!(
                "format version {}.{} (3.x expected); read as 3.x",
                header.major_version, header.minor_version
            ),
        );
    }
    let mut summary = LogSummary::default();
    let settings = Arc::new(
        ParserSettings::default()
            .num_threads(1)
            .validate_checksums(false)
            .recover_records(true)
            .indent(false),
    );
    let mut buffer = Vec::new();
    let mut folded = Vec::new();
    // Chunks without a signature come in runs (space reused by another file): one
    // warning per run.
    let mut foreign: Option<(u64, u64)> = None;
    let open_chunk = header.dirty.then_some(header.last_chunk);
    summary.header = Some(header);
    loop {
        let offset = chunk_offset(chunks.next_number());
        let piece = chunks
            .next_piece(std::mem::take(&mut buffer))
            .map_err(|source| LogError::Read { offset, source })?;
        let Some(piece) = piece else { break };
        if !matches!(piece, Piece::NotAChunk { .. }) {
            report_foreign(foreign.take(), problem);
        }
        match piece {
            Piece::Chunk { number, bytes } => {
                summary.chunks += 1;
                let chunk = Chunk {
                    number,
                    open: open_chunk == Some(number),
                };
                buffer = read_chunk(
                    chunk,
                    bytes,
                    matcher,
                    &settings,
                    &mut folded,
                    &mut summary,
                    problem,
                    hit,
                );
            }
            Piece::Empty { .. } => {}
            Piece::NotAChunk { number } => {
                foreign = Some(foreign.map_or((number, number), |(first, _)| (first, number)));
            }
            Piece::Truncated { number, len } => problem(
                chunk_place(number),
                format!("the file ends {len} bytes into this chunk; its records are lost"),
            ),
        }
    }
    report_foreign(foreign, problem);
    let (bytes, sha256) = chunks.finish();
    summary.bytes = bytes;
    summary.sha256 = sha256;
    Ok(summary)
}

fn chunk_place(number: u64) -> String {
    format!("chunk {number} at offset {:#x}", chunk_offset(number))
}

/// One warning for a run of chunk-sized pieces without a chunk signature.
fn report_foreign(run: Option<(u64, u64)>, problem: &mut dyn FnMut(String, String)) {
    let Some((first, last)) = run else { return };
    let place = if first == last {
        chunk_place(first)
    } else {
        format!(
            "chunks {first} to {last} at offsets {:#x} to {:#x}",
            chunk_offset(first),
            chunk_offset(last + 1) - 1
        )
    };
    problem(
        place,
        "no ElfChnk signature: not event records (space overwritten or never a chunk); skipped"
            .into(),
    );
}

/// Which chunk, and whether the file header names it as the one being written.
struct Chunk {
    number: u64,
    open: bool,
}

/// Test, parse and read one chunk; gives its buffer back for the next.
#[allow(clippy::too_many_arguments)]
fn read_chunk(
    Chunk { number, open }: Chunk,
    bytes: Vec<u8>,
    matcher: &EventMatcher<'_>,
    settings: &Arc<ParserSettings>,
    folded: &mut Vec<u8>,
    summary: &mut LogSummary,
    problem: &mut dyn FnMut(String, String),
    hit: &mut dyn FnMut(EventHit),
) -> Vec<u8> {
    let place = chunk_place(number);
    let mut data = match EvtxChunkData::new(bytes, false) {
        Ok(data) => data,
        Err(err) => {
            problem(place, format!("chunk header unreadable: {err}; skipped"));
            return Vec::new();
        }
    };
    if !data.validate_header_checksum() {
        problem(
            place.clone(),
            "chunk header checksum mismatch; its records read anyway".into(),
        );
    }
    // Checked on every chunk, read or not: damage anywhere is worth knowing of.
    if !data.validate_data_checksum() {
        let why = if open {
            "event records checksum not matching: the log was open (dirty) and this is the chunk being written; read anyway"
        } else {
            "event records checksum mismatch (damaged records?); read anyway"
        };
        problem(place.clone(), why.into());
    }
    fold_chunk(&data.data, folded);
    if !matcher.chunk_may_match(folded) {
        return data.data;
    }
    summary.chunks_parsed += 1;
    let base = chunk_offset(number);
    let outcome = crate::guard::call(|| {
        let mut chunk = match data.parse(settings.clone()) {
            Ok(chunk) => chunk,
            Err(err) => {
                problem(place.clone(), format!("chunk unreadable: {err}"));
                return;
            }
        };
        for record in chunk.iter() {
            let record = match record {
                Ok(record) => record,
                Err(err) => {
                    problem(place.clone(), format!("record unreadable: {err}"));
                    continue;
                }
            };
            summary.records += 1;
            let record_id = record.event_record_id;
            let recovered = record.recovered;
            let offset = base + record.binxml_offset.saturating_sub(24);
            let header_time = Timestamp::from_unix(
                record.timestamp.as_second(),
                record.timestamp.subsec_nanosecond().max(0) as u32,
                crate::time::Precision::FileTime,
            );
            let xml = match record.into_xml() {
                Ok(xml) => xml.data,
                Err(err) => {
                    problem(
                        format!("{place} record {record_id}"),
                        format!("record unreadable: {err}"),
                    );
                    continue;
                }
            };
            let event = match record::parse_event(&xml) {
                Ok(event) => event,
                Err(err) => {
                    problem(format!("{place} record {record_id}"), err.to_string());
                    continue;
                }
            };
            for (rule, why) in matcher.matches(&event) {
                hit(EventHit {
                    rule,
                    why,
                    event: event.clone(),
                    chunk: number,
                    offset,
                    recovered,
                    header_time,
                });
            }
        }
    });
    if let Err(panic) = outcome {
        problem(
            place,
            format!("parser failure, rest of the chunk skipped: {panic}"),
        );
    }
    data.data
}
