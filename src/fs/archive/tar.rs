//! tar archives (ustar, GNU long names, pax paths and times) through the `tar` crate,
//! plain or gzip-compressed.
//!
//! A plain tar is read in place: the walk notes where each member's data starts, and a
//! member is read there with positional reads.
//!
//! A tar.gz cannot be read at an offset without inflating everything before it. The
//! walk inflates it once to list the members; then, when the walk has matched files, one
//! more pass keeps the bytes of the matched files and of their companions (a hive's
//! `.LOG1`, named after it in the same folder) in memory, each up to
//! [`KEEP_ONE`] and all together up to [`KEEP_ALL`]. A member not kept (larger, or past
//! the budget) is read by inflating the archive again from its start up to the member
//! and streaming it: slow for a large archive, but memory stays bounded.

use std::collections::HashMap;
use std::io::{self, BufReader, Cursor, Read};
use std::sync::{Arc, Mutex};

use flate2::read::MultiGzDecoder;

use super::layout::{MetadataTimes, is_metadata_file};
use super::positional::PosReader;
use super::{Backend, Listing, archive_time};
use crate::fs::EntryKind;
use crate::time::{Precision, Timestamp};
use crate::warning::Warnings;

/// Largest member kept in memory from a tar.gz.
pub(super) const KEEP_ONE: u64 = 64 * 1024 * 1024;
/// Most bytes of tar.gz members kept in memory together.
pub(super) const KEEP_ALL: u64 = 256 * 1024 * 1024;

pub(super) struct TarBackend {
    file: PosReader,
    gzip: bool,
    /// Each entry's data: (offset in the tar stream, size); `None` when its stored bytes
    /// are not its content (a GNU sparse member).
    data: Vec<Option<(u64, u64)>>,
    /// tar.gz members kept from the second pass.
    kept: Mutex<HashMap<usize, Arc<[u8]>>>,
}

fn stream(file: &PosReader, gzip: bool) -> Box<dyn Read + Send> {
    let raw = BufReader::with_capacity(256 * 1024, file.at(0));
    if gzip {
        // The tar reader asks for a header (512 bytes) at a time: inflating into a
        // buffer of our own keeps the inflater on its fast path.
        Box::new(BufReader::with_capacity(
            128 * 1024,
            MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    }
}

/// pax time values: decimal seconds with an optional fraction.
fn pax_time(value: &[u8]) -> Option<Timestamp> {
    let text = std::str::from_utf8(value).ok()?;
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let secs: i64 = secs.parse().ok()?;
    if frac.is_empty() {
        return Timestamp::from_unix(secs, 0, Precision::Seconds);
    }
    let digits: String = frac.chars().take(9).collect();
    let nanos: u32 = format!("{digits:0<9}").parse().ok()?;
    Timestamp::from_unix(secs, nanos, Precision::Nanos)
}

pub(super) fn index(
    file: PosReader,
    gzip: bool,
    meta: &mut MetadataTimes,
    label: &str,
    warnings: &Warnings,
) -> (Listing, TarBackend) {
    let mut archive = tar::Archive::new(stream(&file, gzip));
    let mut entries = Listing::default();
    let mut data = Vec::new();
    let iter = match archive.entries() {
        Ok(iter) => iter,
        Err(e) => {
            warnings.push(label, "tar", format!("cannot read the members: {e}"));
            return (entries, backend(file, gzip, data));
        }
    };
    for item in iter {
        let mut member = match item {
            Ok(m) => m,
            Err(e) => {
                warnings.push(
                    label,
                    format!("after member {}", entries.entries.len()),
                    format!("tar stream damaged; the members before were kept: {e}"),
                );
                break;
            }
        };
        let path = String::from_utf8_lossy(&member.path_bytes()).into_owned();
        let header = member.header();
        let entry_type = header.entry_type();
        let kind = if entry_type.is_dir() {
            EntryKind::Dir
        } else if entry_type.is_symlink() || entry_type.is_hard_link() {
            let target = member
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_else(|| "?".into());
            EntryKind::Link { target }
        } else if entry_type.is_file() || entry_type.is_contiguous() || entry_type.is_gnu_sparse() {
            EntryKind::File
        } else {
            EntryKind::Special
        };
        let mut times = Vec::new();
        let mut pax_mtime = None;
        if let Ok(Some(pax)) = member.pax_extensions() {
            for ext in pax.flatten() {
                let label = match ext.key() {
                    Ok("mtime") => "Modified",
                    Ok("atime") => "Accessed",
                    Ok("ctime") => "Metadata Changed",
                    _ => continue,
                };
                if let Some(time) = pax_time(ext.value_bytes()) {
                    if label == "Modified" {
                        pax_mtime = Some(time);
                    } else {
                        times.push(archive_time(label, time));
                    }
                }
            }
        }
        let header = member.header();
        let mtime = pax_mtime.or_else(|| {
            header
                .mtime()
                .ok()
                .and_then(|m| Timestamp::from_unix(i64::try_from(m).ok()?, 0, Precision::Seconds))
        });
        if let Some(time) = mtime {
            times.insert(0, archive_time("Modified", time));
        }
        let size = member.size();
        let sparse = entry_type.is_gnu_sparse();
        if entries.push(&path, kind.clone(), size, times).is_none() {
            warnings.push(
                label,
                format!("after member {}", entries.entries.len()),
                "more members than one listing holds: the rest are not read",
            );
            break;
        }
        data.push((!sparse).then(|| (member.raw_file_position(), size)));
        if kind == EntryKind::File
            && !sparse
            && is_metadata_file(&path)
            && let Err(e) = meta.read_from(&mut member)
        {
            warnings.push(label, &path, format!("collection metadata not read: {e}"));
        }
    }
    (entries, backend(file, gzip, data))
}

fn backend(file: PosReader, gzip: bool, data: Vec<Option<(u64, u64)>>) -> TarBackend {
    TarBackend {
        file,
        gzip,
        data,
        kept: Mutex::new(HashMap::new()),
    }
}

/// Up to `limit` bytes from `reader`.
fn read_head(reader: Box<dyn Read + Send + '_>, limit: u64) -> Result<Vec<u8>, String> {
    let mut head = Vec::new();
    reader
        .take(limit)
        .read_to_end(&mut head)
        .map_err(|e| e.to_string())?;
    Ok(head)
}

/// Read past `count` bytes of `from`.
fn skip(from: &mut dyn Read, count: u64) -> io::Result<()> {
    let skipped = io::copy(&mut from.take(count), &mut io::sink())?;
    if skipped < count {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the archive ends before the member",
        ));
    }
    Ok(())
}

impl Backend for TarBackend {
    fn open(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, String> {
        let (offset, size) = self
            .data
            .get(index)
            .ok_or("no such member")?
            .ok_or("GNU sparse member: its stored bytes are not its content; not read")?;
        if !self.gzip {
            return Ok(Box::new(self.file.at(offset).take(size)));
        }
        if let Some(bytes) = self
            .kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&index)
        {
            return Ok(Box::new(Cursor::new(Arc::clone(bytes))));
        }
        // Not kept: inflate from the start up to the member, then stream it.
        let mut from = stream(&self.file, true);
        skip(&mut from, offset).map_err(|e| format!("inflating up to offset {offset}: {e}"))?;
        Ok(Box::new(from.take(size)))
    }

    /// A tar.gz is inflated once for all the heads (opening each member would inflate
    /// the archive again up to it).
    fn heads(&self, wanted: &[usize], limit: u64) -> Vec<(usize, Result<Vec<u8>, String>)> {
        let mut order: Vec<(u64, u64, usize)> = Vec::with_capacity(wanted.len());
        let mut out = Vec::with_capacity(wanted.len());
        for &index in wanted {
            match self.data.get(index).copied().flatten() {
                Some((offset, size)) if self.gzip => order.push((offset, size, index)),
                _ => out.push((index, self.open(index).and_then(|r| read_head(r, limit)))),
            }
        }
        order.sort_unstable();
        let mut from = stream(&self.file, true);
        let mut at = 0u64;
        let mut broken: Option<String> = None;
        for (offset, size, index) in order {
            if let Some(e) = &broken {
                out.push((index, Err(e.clone())));
                continue;
            }
            let take = size.min(limit);
            let mut head = Vec::with_capacity(take as usize);
            let read = skip(&mut from, offset.saturating_sub(at))
                .and_then(|()| (&mut from).take(take).read_to_end(&mut head).map(|_| ()));
            match read {
                Ok(()) => {
                    at = offset.max(at) + head.len() as u64;
                    out.push((index, Ok(head)));
                }
                Err(e) => {
                    let e = format!("inflating up to offset {offset}: {e}");
                    broken = Some(e.clone());
                    out.push((index, Err(e)));
                }
            }
        }
        out.sort_by_key(|(index, _)| *index);
        out
    }

    fn prepare(&self, wanted: &[usize], label: &str, warnings: &Warnings) {
        if !self.gzip || wanted.is_empty() {
            return;
        }
        let mut wanted: Vec<(u64, u64, usize)> = wanted
            .iter()
            .filter_map(|&i| self.data.get(i).copied().flatten().map(|(o, s)| (o, s, i)))
            .filter(|&(_, size, _)| size <= KEEP_ONE)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut budget = KEEP_ALL;
        let mut from = stream(&self.file, true);
        let mut at = 0u64;
        let mut kept = HashMap::new();
        for (offset, size, index) in wanted {
            if size > budget || offset < at {
                continue;
            }
            let mut bytes = Vec::with_capacity(size as usize);
            let read = skip(&mut from, offset - at).and_then(|()| {
                (&mut from).take(size).read_to_end(&mut bytes)?;
                if (bytes.len() as u64) < size {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "member cut short",
                    ));
                }
                Ok(())
            });
            if let Err(e) = read {
                warnings.push(
                    label,
                    format!("offset {offset}"),
                    format!("inflating again: {e}"),
                );
                break;
            }
            at = offset + size;
            budget -= size;
            kept.insert(index, Arc::<[u8]>::from(bytes));
        }
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = kept;
    }
}
