//! ZIP archives: our own pass over the central directory lists the entries (zip64
//! included, [`super::central`]) and our own reader gives a plain entry's content
//! (stored, deflate; its CRC-32 checked at its end, [`super::zip_entry`]). Entries
//! encrypted with ZipCrypto or AES are read by the `zip` crate from their local header,
//! with the sizes and CRC-32 of the central directory, when a password is given.
//!
//! The crate's entry reader borrows its reader, so it cannot be handed out as an owned
//! stream: an encrypted entry is read on a helper thread owning its own reader of the
//! archive (the file is shared, each reader reads at its own offset), which sends the
//! bytes through a channel of two 64 KiB chunks. Memory stays bounded whatever the
//! entry's size; the thread ends when the reader is dropped.
//!
//! A ZIP whose central directory cannot be read (a truncated download, a damaged end) is
//! salvaged: entries are read one after the other from their local headers until the
//! first that cannot be, and a warning says so; what was read is kept.

use std::io::{self, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use zip::read::ZipReadOptions;

use super::central::{self, CentralEntry, extra_fields, u16_at, u32_at};
use super::layout::{MetadataTimes, is_metadata_file};
use super::positional::PosReader;
use super::{ArchiveError, Backend, Entry, Listing, archive_time, zip_entry};
use crate::fs::{EntryKind, FileTime};
use crate::time::{Precision, Timestamp};
use crate::warning::Warnings;

const CHUNK: usize = 64 * 1024;
const NTFS_EXTRA: u16 = 0x000a;
const EXTENDED_TIMESTAMP_EXTRA: u16 = 0x5455;

/// Where an entry's bytes are.
enum Mode {
    /// The central directory was read: each entry as it lists it.
    Listed {
        file: PosReader,
        entries: Vec<CentralEntry>,
    },
    /// Salvaged from local headers: each entry by its header's offset.
    Salvaged { file: PosReader, headers: Vec<u64> },
}

pub(super) struct ZipBackend {
    mode: Mode,
    password: Option<Vec<u8>>,
}

/// The DOS time of an entry: local time of the machine that wrote it, no zone.
pub const DOS_ATTRIBUTE: &str = "archive entry, DOS local time, zone unknown";

/// A DOS date and time (2-second steps), when it is a valid one.
fn dos_time(date: u16, time: u16) -> Option<Timestamp> {
    let day = chrono::NaiveDate::from_ymd_opt(
        1980 + i32::from(date >> 9),
        u32::from((date >> 5) & 0x0f),
        u32::from(date & 0x1f),
    )?;
    let at = day.and_hms_opt(
        u32::from(time >> 11),
        u32::from((time >> 5) & 0x3f),
        u32::from(time & 0x1f) * 2,
    )?;
    Timestamp::from_naive_utc(at, Precision::Seconds)
}

/// The entry's times: the NTFS extra field or the extended timestamp (UTC) where the
/// writer left one (the first of them), else the DOS time (labelled as local).
fn entry_times(date: u16, time: u16, extra: &[u8]) -> Vec<FileTime> {
    let mut times = Vec::new();
    for (id, data) in extra_fields(extra) {
        match id {
            NTFS_EXTRA if times.is_empty() => ntfs_times(data, &mut times),
            EXTENDED_TIMESTAMP_EXTRA if times.is_empty() => unix_times(data, &mut times),
            _ => {}
        }
    }
    if times.is_empty()
        && let Some(time) = dos_time(date, time)
    {
        times.push(FileTime {
            label: "Modified",
            attribute: DOS_ATTRIBUTE,
            time,
        });
    }
    times
}

/// The NTFS extra field: 4 reserved bytes, then attributes (tag, size); tag 1 holds the
/// modification, access and creation FILETIMEs.
fn ntfs_times(data: &[u8], times: &mut Vec<FileTime>) {
    let Some(attributes) = data.get(4..) else {
        return;
    };
    let mut at = 0;
    while let Some(body) = attributes.get(at + 4..at + 4 + usize::from(u16_at(attributes, at + 2)))
    {
        if u16_at(attributes, at) == 1 && body.len() >= 24 {
            let filetime =
                |i: usize| u64::from(u32_at(body, i)) | u64::from(u32_at(body, i + 4)) << 32;
            for (label, ft) in [
                ("Created", filetime(16)),
                ("Modified", filetime(0)),
                ("Accessed", filetime(8)),
            ] {
                if let Some(time) = (ft != 0).then(|| Timestamp::from_filetime(ft)).flatten() {
                    times.push(archive_time(label, time));
                }
            }
            return;
        }
        at += 4 + body.len();
    }
}

/// The extended timestamp: flags, then the Unix times they announce (modification,
/// access, creation) as far as the field holds them (a central header keeps only the
/// first).
fn unix_times(data: &[u8], times: &mut Vec<FileTime>) {
    let Some(&flags) = data.first() else {
        return;
    };
    let mut at = 1;
    for (bit, label) in [(1u8, "Modified"), (2, "Accessed"), (4, "Created")] {
        if flags & bit == 0 {
            continue;
        }
        if data.len() < at + 4 {
            return;
        }
        let secs = u32_at(data, at);
        at += 4;
        if let Some(time) = Timestamp::from_unix(i64::from(secs), 0, Precision::Seconds) {
            times.push(archive_time(label, time));
        }
    }
}

pub(super) fn index(
    file: PosReader,
    password: Option<&[u8]>,
    meta: &mut MetadataTimes,
    label: &str,
    warnings: &Warnings,
) -> Result<(Listing, ZipBackend), ArchiveError> {
    let password = password.map(<[u8]>::to_vec);
    let mut text = String::new();
    let (listing, mode) = match central::read(&file, &mut text) {
        Ok(central) => (
            listed(text, &central),
            Mode::Listed {
                file,
                entries: central,
            },
        ),
        Err(err) => {
            let (listing, headers, stop) = salvage(&file);
            if listing.entries.is_empty() {
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
                    listing.entries.len(),
                    stop.map(|s| format!(", then: {s}")).unwrap_or_default()
                ),
            );
            (listing, Mode::Salvaged { file, headers })
        }
    };
    let backend = ZipBackend { mode, password };
    for (i, entry) in listing.entries.iter().enumerate() {
        let path = listing.path(i);
        if entry.kind == EntryKind::File && is_metadata_file(path) {
            let read = backend
                .open(i)
                .map_err(io::Error::other)
                .and_then(|r| meta.read_from(r));
            if let Err(e) = read {
                warnings.push(label, path, format!("collection metadata not read: {e}"));
            }
        }
    }
    Ok((listing, backend))
}

/// The listing of a central directory (times are read for matched entries only, see
/// [`Backend::entry_times`]).
fn listed(text: String, central: &[CentralEntry]) -> Listing {
    let entries = central
        .iter()
        .map(|c| {
            let name = &text[c.name.0..c.name.1];
            let mut entry = Entry::new(
                c.name,
                kind_of(c.is_dir(name), c.is_symlink()),
                c.size,
                Vec::new(),
            );
            entry.encrypted = c.encrypted();
            entry
        })
        .collect();
    Listing { text, entries }
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
fn salvage(file: &PosReader) -> (Listing, Vec<u64>, Option<String>) {
    let mut listing = Listing::default();
    let mut headers = Vec::new();
    let mut reader = CountingReader {
        inner: BufReader::new(file.at(0)),
        count: 0,
    };
    loop {
        let at = reader.count;
        let mut zf = match zip::read::read_zipfile_from_stream(&mut reader) {
            Ok(Some(zf)) => zf,
            Ok(None) => return (listing, headers, None),
            Err(e) => return (listing, headers, Some(format!("at offset {at}: {e}"))),
        };
        let name = zf
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(zf.name_raw()).into_owned());
        let (date, time) = zf
            .last_modified()
            .map_or((0, 0), |t| (t.datepart(), t.timepart()));
        let times = entry_times(date, time, &zf.extra_data().unwrap_or_default());
        let kind = kind_of(zf.is_dir(), zf.is_symlink());
        let (size, encrypted) = (zf.size(), zf.encrypted());
        // Encrypted data is passed over as it is (the stream reader cannot check it).
        let drained = if encrypted {
            Ok(())
        } else {
            io::copy(&mut zf, &mut io::sink()).map(|_| ())
        };
        drop(zf);
        if let Err(e) = drained {
            return (
                listing,
                headers,
                Some(format!("entry {name} at offset {at}: {e}")),
            );
        }
        let Some(entry) = listing.push(&name, kind, size, times) else {
            return (listing, headers, Some("too many entries".into()));
        };
        entry.encrypted = encrypted;
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

/// What is said when no password was given for an encrypted entry.
const NEEDS_PASSWORD: &str = "encrypted: give the password with --password";

fn describe(err: zip::result::ZipError, encrypted: bool) -> String {
    match err {
        zip::result::ZipError::InvalidPassword => "wrong password".into(),
        zip::result::ZipError::UnsupportedArchive(m) if encrypted && m.contains("assword") => {
            NEEDS_PASSWORD.into()
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

impl ZipBackend {
    /// Read the entry whose local header is at `at` with the `zip` crate, on a helper
    /// thread; `central` gives the sizes and CRC-32 when the central directory was read.
    fn open_by_crate(
        &self,
        file: &PosReader,
        at: u64,
        central: Option<CentralEntry>,
    ) -> Result<Box<dyn Read + Send + '_>, String> {
        let (tx, rx) = sync_channel::<Message>(2);
        let password = self.password.clone();
        let mut reader = BufReader::new(file.at(at));
        let job = move || {
            let mut options = ZipReadOptions::new().password(password.as_deref());
            if let Some(c) = central {
                options = options
                    .override_compressed_size(c.compressed)
                    .override_uncompressed_size(c.size)
                    .override_crc(c.crc);
            }
            match zip::read::read_zipfile_from_stream_with_options(&mut reader, options) {
                Ok(Some(f)) => pump(f, &tx),
                Ok(None) => {
                    let _ = tx.send(Message::Failed("no entry at its header".into()));
                }
                Err(e) => {
                    let _ = tx.send(Message::Failed(describe(e, true)));
                }
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

impl Backend for ZipBackend {
    fn entry_times(&self, index: usize) -> Option<Vec<FileTime>> {
        let Mode::Listed { file, entries } = &self.mode else {
            return None;
        };
        let e = entries.get(index)?;
        // A central header that cannot be read again still has its DOS time.
        let extra = central::central_extra(file, e.central_at).unwrap_or_default();
        Some(entry_times(e.dos_date, e.dos_time, &extra))
    }

    fn open(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, String> {
        match &self.mode {
            Mode::Listed { file, entries } => {
                let e = entries.get(index).ok_or("no such entry")?;
                if !e.encrypted() {
                    return Ok(Box::new(zip_entry::open(file, e)?));
                }
                if self.password.is_none() {
                    return Err(NEEDS_PASSWORD.into());
                }
                self.open_by_crate(file, e.header_at, Some(*e))
            }
            Mode::Salvaged { file, headers } => {
                let at = *headers.get(index).ok_or("no such entry")?;
                self.open_by_crate(file, at, None)
            }
        }
    }
}

/// See [`super::ArchiveFs::probe_zip`].
pub(super) fn probe(
    file: PosReader,
    password: Option<&[u8]>,
    label: &str,
) -> Result<(), ArchiveError> {
    // A central directory that cannot be read is left to the scan (it salvages).
    let (mut files, mut encrypted, mut first) = (0, 0, None);
    let counted = central::each(&file, |e, name| {
        if e.is_dir(name) {
            return;
        }
        files += 1;
        if e.encrypted() {
            encrypted += 1;
            if first.is_none() && e.size > 0 {
                first = Some(e);
            }
        }
    });
    let (Ok(()), Some(first)) = (counted, first) else {
        return Ok(());
    };
    let backend = ZipBackend {
        mode: Mode::Listed {
            file,
            entries: vec![first],
        },
        password: password.map(<[u8]>::to_vec),
    };
    let failure = match backend.open(0) {
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

/// Why the first encrypted file entry cannot be read with the password given (none when
/// it can, or there is none).
pub(super) fn check_password(backend: &ZipBackend, listing: &Listing) -> Option<String> {
    let first = listing
        .entries
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
