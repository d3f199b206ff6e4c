//! ZIP archives through the `zip` crate: the central directory gives the entries (zip64
//! included); an entry is read by the crate (stored, deflate; ZipCrypto and AES with a
//! password; its CRC-32 or AES authentication checked at its end).
//!
//! The crate's entry reader borrows the archive reader, so it cannot be handed out as an
//! owned stream: each opened entry is read on a helper thread owning a clone of the
//! archive (the file is shared, each clone reads at its own offset), which sends the
//! bytes through a channel of two 64 KiB chunks. Memory stays bounded whatever the
//! entry's size; the thread ends when the reader is dropped.
//!
//! A ZIP whose central directory cannot be read (a truncated download, a damaged end) is
//! salvaged: entries are read one after the other from their local headers until the
//! first that cannot be, and a warning says so; what was read is kept.

use std::io::{self, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use zip::ZipArchive;
use zip::extra_fields::ExtraField;
use zip::read::ZipReadOptions;

use super::layout::{MetadataTimes, is_metadata_file};
use super::positional::PosReader;
use super::{ArchiveError, Backend, Entry, archive_time};
use crate::fs::{EntryKind, FileTime};
use crate::time::{Precision, Timestamp};
use crate::warning::Warnings;

const CHUNK: usize = 64 * 1024;

/// Where an entry's bytes are.
enum Mode {
    /// The central directory was read: entries by index.
    Central(ZipArchive<PosReader>),
    /// Salvaged from local headers: each entry by its header's offset.
    Salvaged { file: PosReader, headers: Vec<u64> },
}

pub(super) struct ZipBackend {
    mode: Mode,
    password: Option<Vec<u8>>,
}

/// The DOS time of an entry: local time of the machine that wrote it, no zone.
pub(super) const DOS_ATTRIBUTE: &str = "archive entry, DOS local time, zone unknown";

fn dos_time(dt: zip::DateTime) -> Option<Timestamp> {
    let date =
        chrono::NaiveDate::from_ymd_opt(dt.year().into(), dt.month().into(), dt.day().into())?;
    let time = date.and_hms_opt(dt.hour().into(), dt.minute().into(), dt.second().into())?;
    Timestamp::from_naive_utc(time, Precision::Seconds)
}

/// The entry's times: the extended timestamp or NTFS extra field (UTC) where the writer
/// left one, else the DOS time (labelled as local).
fn entry_times<'a>(
    dos: Option<zip::DateTime>,
    extra: impl Iterator<Item = &'a ExtraField>,
) -> Vec<FileTime> {
    let mut times = Vec::new();
    for field in extra {
        match field {
            ExtraField::Ntfs(ntfs) if times.is_empty() => {
                for (label, ft) in [
                    ("Created", ntfs.ctime()),
                    ("Modified", ntfs.mtime()),
                    ("Accessed", ntfs.atime()),
                ] {
                    if let Some(time) = (ft != 0).then(|| Timestamp::from_filetime(ft)).flatten() {
                        times.push(archive_time(label, time));
                    }
                }
            }
            ExtraField::ExtendedTimestamp(ts) if times.is_empty() => {
                for (label, secs) in [
                    ("Modified", ts.mod_time()),
                    ("Accessed", ts.ac_time()),
                    ("Created", ts.cr_time()),
                ] {
                    if let Some(time) =
                        secs.and_then(|s| Timestamp::from_unix(i64::from(s), 0, Precision::Seconds))
                    {
                        times.push(archive_time(label, time));
                    }
                }
            }
            _ => {}
        }
    }
    if times.is_empty()
        && let Some(time) = dos.and_then(dos_time)
    {
        times.push(FileTime {
            label: "Modified",
            attribute: DOS_ATTRIBUTE,
            time,
        });
    }
    times
}

pub(super) fn index(
    file: PosReader,
    password: Option<&[u8]>,
    meta: &mut MetadataTimes,
    label: &str,
    warnings: &Warnings,
) -> Result<(Vec<Entry>, ZipBackend), ArchiveError> {
    let password = password.map(<[u8]>::to_vec);
    let (entries, mode) = match ZipArchive::new(file.clone()) {
        Ok(archive) => (central_entries(&archive), Mode::Central(archive)),
        Err(err) => {
            let (entries, headers, stop) = salvage(&file);
            if entries.is_empty() {
                return Err(ArchiveError::Format {
                    input: label.to_string(),
                    reason: format!(
                        "ZIP central directory unreadable ({err}) and no entry could be read from the local headers"
                    ),
                });
            }
            warnings.push(
                label,
                "central directory",
                format!(
                    "unreadable ({err}); {} entries read one by one from their local headers{}",
                    entries.len(),
                    stop.map(|s| format!(", then: {s}")).unwrap_or_default()
                ),
            );
            (entries, Mode::Salvaged { file, headers })
        }
    };
    let backend = ZipBackend { mode, password };
    for (i, entry) in entries.iter().enumerate() {
        if entry.kind == EntryKind::File && is_metadata_file(&entry.raw_path) {
            let read = backend
                .open(i)
                .map_err(io::Error::other)
                .and_then(|r| meta.read_from(r));
            if let Err(e) = read {
                warnings.push(
                    label,
                    &entry.raw_path,
                    format!("collection metadata not read: {e}"),
                );
            }
        }
    }
    Ok((entries, backend))
}

fn central_entries(archive: &ZipArchive<PosReader>) -> Vec<Entry> {
    (0..archive.len())
        .filter_map(|i| {
            let data = archive.by_index_data(i).ok()?;
            let name = data
                .name()
                .map(|n| n.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(data.name_raw()).into_owned());
            // The DOS time for now: the extra fields (UTC times) are looked up for the
            // entries the walk matches only ([`Backend::entry_times`]).
            let times = entry_times(data.last_modified(), std::iter::empty());
            let mut entry = Entry::new(
                name,
                kind_of(data.is_dir(), data.is_symlink()),
                data.size(),
                times,
            );
            entry.encrypted = data.encrypted();
            Some(entry)
        })
        .collect()
}

fn kind_of(dir: bool, symlink: bool) -> EntryKind {
    if dir {
        EntryKind::Dir
    } else if symlink {
        EntryKind::Link {
            target: "(target stored as the entry's data)".into(),
        }
    } else {
        EntryKind::File
    }
}

/// Entries read from local headers in order, each read to its end (sizes and CRC
/// checked); stops at the first that cannot be read, saying why.
fn salvage(file: &PosReader) -> (Vec<Entry>, Vec<u64>, Option<String>) {
    let mut entries = Vec::new();
    let mut headers = Vec::new();
    let mut reader = CountingReader {
        inner: BufReader::new(file.at(0)),
        count: 0,
    };
    loop {
        let at = reader.count;
        let mut zf = match zip::read::read_zipfile_from_stream(&mut reader) {
            Ok(Some(zf)) => zf,
            Ok(None) => return (entries, headers, None),
            Err(e) => return (entries, headers, Some(format!("at offset {at}: {e}"))),
        };
        let name = zf
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(zf.name_raw()).into_owned());
        let times = entry_times(zf.last_modified(), zf.extra_data_fields());
        let mut entry = Entry::new(
            name.clone(),
            kind_of(zf.is_dir(), zf.is_symlink()),
            zf.size(),
            times,
        );
        entry.encrypted = zf.encrypted();
        // Encrypted data is passed over as it is (the stream reader cannot check it).
        let drained = if zf.encrypted() {
            Ok(())
        } else {
            io::copy(&mut zf, &mut io::sink()).map(|_| ())
        };
        drop(zf);
        if let Err(e) = drained {
            return (
                entries,
                headers,
                Some(format!("entry {name} at offset {at}: {e}")),
            );
        }
        entries.push(entry);
        headers.push(at);
    }
}

struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

enum Message {
    Opened,
    Data(Vec<u8>),
    Failed(String),
}

/// Send an entry's bytes down `tx` in chunks; stops when the reader is dropped.
fn pump(mut from: impl Read, tx: &SyncSender<Message>) {
    if tx.send(Message::Opened).is_err() {
        return;
    }
    loop {
        let mut buf = vec![0u8; CHUNK];
        match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                if tx.send(Message::Data(buf)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.send(Message::Failed(e.to_string()));
                return;
            }
        }
    }
}

fn describe(err: zip::result::ZipError, encrypted: bool) -> String {
    match err {
        zip::result::ZipError::InvalidPassword => "wrong password".into(),
        zip::result::ZipError::UnsupportedArchive(m) if encrypted && m.contains("assword") => {
            "encrypted: give the password with --password".into()
        }
        other => other.to_string(),
    }
}

/// An entry's bytes, as the helper thread sends them.
struct ChannelReader {
    rx: Receiver<Message>,
    chunk: Vec<u8>,
    at: usize,
    done: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Message::Data(d)) => {
                    self.chunk = d;
                    self.at = 0;
                }
                Ok(Message::Failed(e)) => {
                    self.done = true;
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                }
                Ok(Message::Opened) => {}
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Backend for ZipBackend {
    fn entry_times(&self, index: usize) -> Option<Vec<FileTime>> {
        let Mode::Central(archive) = &self.mode else {
            return None;
        };
        let mut archive = archive.clone();
        let dos = archive.by_index_data(index).ok()?.last_modified();
        let file = archive.by_index_raw(index).ok()?;
        Some(entry_times(dos, file.extra_data_fields()))
    }

    fn open(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, String> {
        let (tx, rx) = sync_channel::<Message>(2);
        let password = self.password.clone();
        let job: Box<dyn FnOnce() + Send> = match &self.mode {
            Mode::Central(archive) => {
                let mut archive = archive.clone();
                Box::new(move || {
                    let encrypted = archive.by_index_data(index).is_ok_and(|d| d.encrypted());
                    let options = ZipReadOptions::new().password(password.as_deref());
                    match archive.by_index_with_options(index, options) {
                        Ok(f) => pump(f, &tx),
                        Err(e) => {
                            let _ = tx.send(Message::Failed(describe(e, encrypted)));
                        }
                    }
                })
            }
            Mode::Salvaged { file, headers } => {
                let at = *headers.get(index).ok_or("no such entry")?;
                let mut reader = BufReader::new(file.at(at));
                Box::new(move || {
                    let options = ZipReadOptions::new().password(password.as_deref());
                    match zip::read::read_zipfile_from_stream_with_options(&mut reader, options) {
                        Ok(Some(f)) => pump(f, &tx),
                        Ok(None) => {
                            let _ = tx.send(Message::Failed("no entry at its header".into()));
                        }
                        Err(e) => {
                            let _ = tx.send(Message::Failed(describe(e, true)));
                        }
                    }
                })
            }
        };
        std::thread::Builder::new()
            .name("zip-entry".into())
            .spawn(job)
            .map_err(|e| format!("cannot start a reader: {e}"))?;
        match rx.recv() {
            Ok(Message::Opened) => Ok(Box::new(ChannelReader {
                rx,
                chunk: Vec::new(),
                at: 0,
                done: false,
            })),
            Ok(Message::Failed(e)) => Err(e),
            Ok(Message::Data(_)) | Err(_) => Err("the entry reader stopped".into()),
        }
    }
}

/// See [`super::ArchiveFs::probe_zip`].
pub(super) fn probe(
    file: PosReader,
    password: Option<&[u8]>,
    label: &str,
) -> Result<(), ArchiveError> {
    // Most ZIPs hold no encrypted entry: a quick pass over the central directory says so
    // without building the full index.
    let len = file.len();
    if let Ok(Some(0)) = super::central::encrypted_files(file.clone(), len) {
        return Ok(());
    }
    let Ok(archive) = ZipArchive::new(file) else {
        return Ok(());
    };
    let (mut files, mut encrypted, mut first) = (0, 0, None);
    for i in 0..archive.len() {
        let Ok(data) = archive.by_index_data(i) else {
            continue;
        };
        if data.is_dir() {
            continue;
        }
        files += 1;
        if data.encrypted() {
            encrypted += 1;
            if first.is_none() && data.size() > 0 {
                first = Some(i);
            }
        }
    }
    let Some(first) = first else {
        return Ok(());
    };
    let backend = ZipBackend {
        mode: Mode::Central(archive),
        password: password.map(<[u8]>::to_vec),
    };
    let failure = match backend.open(first) {
        Ok(mut r) => r.read(&mut [0u8; 1]).err().map(|e| e.to_string()),
        Err(e) => Some(e),
    };
    match failure {
        None => Ok(()),
        Some(reason) if password.is_some() => Err(ArchiveError::WrongPassword {
            input: label.to_string(),
            count: encrypted,
            reason,
        }),
        Some(_) if encrypted == files => Err(ArchiveError::Encrypted {
            input: label.to_string(),
            count: encrypted,
        }),
        Some(_) => Ok(()),
    }
}

/// How many file entries are encrypted, of how many (for refusing an archive whose every
/// entry needs a password that was not given).
pub(super) fn check_password(backend: &ZipBackend, entries: &[Entry]) -> Option<String> {
    let first = entries
        .iter()
        .position(|e| e.encrypted && e.kind == EntryKind::File && e.size > 0)?;
    match backend.open(first) {
        Ok(mut r) => {
            let mut buf = [0u8; 1];
            r.read(&mut buf).err().map(|e| e.to_string())
        }
        Err(e) => Some(e),
    }
}
