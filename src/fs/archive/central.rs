//! A ZIP's central directory, read by us in one pass (APPNOTE 6.3): the end record (and
//! the zip64 end record it points to), then every central header. Names go into one text
//! (no string per entry); what reading an entry needs later (where its local header is,
//! its method, sizes and CRC-32, where its central header is for the extra fields) is
//! kept per entry.
//!
//! Names are UTF-8 when they are valid UTF-8, else code page 437; an Info-ZIP Unicode
//! Path extra field (0x7075) whose CRC-32 matches the stored name replaces it. zip64
//! extra fields (0x0001) give the sizes and offsets the header marks as 0xFFFFFFFF. Data
//! before the archive (a self-extractor's stub) shifts every offset; the shift is found
//! from where the end record is. A directory this reader cannot follow is an error
//! naming the offset; the caller then reads the entries from their local headers.

use std::io::{self, BufReader, Read};

use super::Listing;
use super::positional::PosReader;

const EOCD: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
/// The end record (22 bytes) and the longest comment.
const TAIL: u64 = 22 + 0xFFFF;
const ZIP64_EXTRA: u16 = 0x0001;
const UNICODE_PATH_EXTRA: u16 = 0x7075;
/// Entries a listing holds at most (its indexes are 32-bit).
const MAX_ENTRIES: u64 = u32::MAX as u64;

#[derive(Debug, thiserror::Error)]
pub(super) enum CentralError {
    #[error("no end of central directory record in the last {0} bytes")]
    NoEnd(u64),
    #[error("{what} at offset {offset}: {reason}")]
    Bad {
        what: &'static str,
        offset: u64,
        reason: String,
    },
    #[error("central header {index} at offset {offset}: {reason}")]
    Entry {
        index: u64,
        offset: u64,
        reason: String,
    },
    #[error("reading at offset {offset}: {source}")]
    Io { offset: u64, source: io::Error },
}

/// One central header, as needed to list and to read the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CentralEntry {
    /// The decoded name: a range of the listing's text.
    pub name: (usize, usize),
    /// Where this central header is (its extra fields are read again there).
    pub central_at: u64,
    /// Where the local header is.
    pub header_at: u64,
    pub flags: u16,
    pub method: u16,
    pub dos_time: u16,
    pub dos_date: u16,
    pub crc: u32,
    pub compressed: u64,
    pub size: u64,
    /// The system that made the entry (the high byte of "version made by").
    pub system: u8,
    pub external: u32,
}

const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;

impl CentralEntry {
    pub fn encrypted(&self) -> bool {
        self.flags & 1 != 0
    }

    /// A folder: the name ends with a separator.
    pub fn is_dir(&self, name: &str) -> bool {
        name.ends_with('/') || name.ends_with('\\')
    }

    /// A symbolic link: its Unix mode (the high half of the external attributes when
    /// made on Unix, or by a writer that put one there) says so. MS-DOS attributes have
    /// no links.
    pub fn is_symlink(&self) -> bool {
        self.system != 0 && (self.external >> 16) & S_IFMT == S_IFLNK
    }
}

pub(super) fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The extra fields of a header: (id, data), stopping at one that overruns.
pub(super) fn extra_fields(mut extra: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if extra.len() < 4 {
            return None;
        }
        let id = u16_at(extra, 0);
        let len = usize::from(u16_at(extra, 2));
        let data = extra.get(4..4 + len)?;
        extra = &extra[4 + len..];
        Some((id, data))
    })
}

/// Code page 437, the bytes 0x80 to 0xFF (the rest is ASCII).
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐\
                          └┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

fn cp437_high() -> &'static [char] {
    static TABLE: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| CP437_HIGH.chars().collect())
}

/// A stored name as text: UTF-8 when it is, else code page 437.
pub(super) fn decode_name(raw: &[u8], out: &mut String) {
    match std::str::from_utf8(raw) {
        Ok(text) => out.push_str(text),
        Err(_) => {
            for &b in raw {
                if b < 0x80 {
                    out.push(char::from(b));
                } else {
                    out.push(cp437_high()[usize::from(b - 0x80)]);
                }
            }
        }
    }
}

/// Where the central directory is.
struct Place {
    /// Where it is in the file.
    offset: u64,
    size: u64,
    entries: u64,
    /// How far the archive's own offsets are from offsets in the file (data before it).
    shift: u64,
}

/// Find the end record (and the zip64 one), and the directory they point to.
fn locate(file: &PosReader) -> Result<Place, CentralError> {
    let len = file.len();
    let start = len.saturating_sub(TAIL);
    let tail = read_vec(file, start, len - start)?;
    // The end record whose comment ends the file; else the last signature (a comment
    // may hold one, or the file may go on after the archive).
    let mut found = (0..tail.len().saturating_sub(21))
        .rev()
        .filter(|&i| u32_at(&tail, i) == EOCD);
    let last = found.next().ok_or(CentralError::NoEnd(TAIL))?;
    let ends_file = |i: usize| i + 22 + usize::from(u16_at(&tail, i + 20)) == tail.len();
    let at = std::iter::once(last)
        .chain(found)
        .find(|&i| ends_file(i))
        .unwrap_or(last);
    let end_at = start + at as u64;
    let bad = |what, offset, reason: &str| CentralError::Bad {
        what,
        offset,
        reason: reason.to_string(),
    };
    let e = &tail[at..];
    let (disk, cd_disk) = (u16_at(e, 4), u16_at(e, 6));
    let entries = u64::from(u16_at(e, 10));
    let size = u64::from(u32_at(e, 12));
    let offset = u64::from(u32_at(e, 16));
    let zip64 = entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF;
    if !zip64 {
        if disk != 0 || cd_disk != 0 {
            return Err(bad(
                "end of central directory",
                end_at,
                "a split (multi-disk) archive",
            ));
        }
        return placed(file, offset, 0, size, entries, end_at);
    }
    let locator_at = end_at
        .checked_sub(20)
        .ok_or_else(|| bad("zip64 locator", 0, "no room before the end record"))?;
    let locator = read_vec(file, locator_at, 20)?;
    if u32_at(&locator, 0) != ZIP64_LOCATOR {
        // No zip64 after all: a value that happens to be the largest (65,535 entries).
        return placed(file, offset, 0, size, entries, end_at);
    }
    let stated = u64_at(&locator, 8);
    // Data before the archive shifts the stated offset: the record ends at the locator.
    let mut end64_at = stated;
    let mut record = read_vec(file, stated, 56).unwrap_or_default();
    if u32_at(&record, 0) != ZIP64_EOCD
        && let Some(shifted) = locator_at.checked_sub(56)
        && shifted > stated
    {
        record = read_vec(file, shifted, 56)?;
        end64_at = shifted;
    }
    if u32_at(&record, 0) != ZIP64_EOCD {
        return Err(bad("zip64 end record", stated, "no zip64 end record there"));
    }
    if u32_at(&record, 16) != 0 || u32_at(&record, 20) != 0 {
        return Err(bad(
            "zip64 end record",
            end64_at,
            "a split (multi-disk) archive",
        ));
    }
    let (entries, size, offset) = (
        u64_at(&record, 32),
        u64_at(&record, 40),
        u64_at(&record, 48),
    );
    placed(file, offset, end64_at - stated, size, entries, end64_at)
}

/// The directory at its stated offset (plus `shift`, known from a zip64 end record
/// found below where the locator said), or shifted by data before the archive: it then
/// ends where the end record starts.
fn placed(
    file: &PosReader,
    stated: u64,
    shift: u64,
    size: u64,
    entries: u64,
    end_at: u64,
) -> Result<Place, CentralError> {
    let starts_there = |at: u64| {
        entries == 0 || read_vec(file, at, 4).is_ok_and(|b| u32_at(&b, 0) == CENTRAL_HEADER)
    };
    let place = |offset: u64| Place {
        offset,
        size,
        entries,
        shift: offset - stated,
    };
    let offset = stated.saturating_add(shift);
    if offset.checked_add(size).is_some_and(|end| end <= end_at) && starts_there(offset) {
        return Ok(place(offset));
    }
    if let Some(shifted) = end_at.checked_sub(size)
        && shifted > offset
        && starts_there(shifted)
    {
        return Ok(place(shifted));
    }
    Err(CentralError::Bad {
        what: "central directory",
        offset: stated,
        reason: format!("no central header there ({entries} entries, {size} bytes stated)"),
    })
}

pub(super) fn read_vec(file: &PosReader, at: u64, len: u64) -> Result<Vec<u8>, CentralError> {
    let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
    let mut r = file.at(at);
    r.read_exact(&mut buf)
        .map_err(|source| CentralError::Io { offset: at, source })?;
    Ok(buf)
}

/// Every central header of the ZIP, in order; names appended to `text`.
pub(super) fn read(file: &PosReader, text: &mut String) -> Result<Vec<CentralEntry>, CentralError> {
    let place = directory(file)?;
    let mut entries = Vec::with_capacity(usize::try_from(place.entries).unwrap_or(0));
    // The names take at most what the headers leave of the directory.
    let names = place.size.saturating_sub(place.entries * 46);
    text.reserve(usize::try_from(names).map_or(Listing::MAX_TEXT, |n| n.min(Listing::MAX_TEXT)));
    visit(file, &place, text, true, |entry, _| entries.push(entry))?;
    Ok(entries)
}

/// Each central header of the ZIP with its name, in order, none kept.
pub(super) fn each(
    file: &PosReader,
    f: impl FnMut(CentralEntry, &str),
) -> Result<(), CentralError> {
    let place = directory(file)?;
    visit(file, &place, &mut String::new(), false, f)
}

/// The directory, when its entries can fit in it.
fn directory(file: &PosReader) -> Result<Place, CentralError> {
    let place = locate(file)?;
    if place.entries > MAX_ENTRIES || place.entries.saturating_mul(46) > place.size {
        return Err(CentralError::Bad {
            what: "central directory",
            offset: place.offset,
            reason: format!(
                "{} entries cannot fit in {} bytes",
                place.entries, place.size
            ),
        });
    }
    Ok(place)
}

/// Read the central headers at `place`, each handed to `f` with its name (appended to
/// `text`, and taken off again unless `keep`).
fn visit(
    file: &PosReader,
    place: &Place,
    text: &mut String,
    keep: bool,
    mut f: impl FnMut(CentralEntry, &str),
) -> Result<(), CentralError> {
    let &Place {
        offset,
        size,
        entries: count,
        shift,
    } = place;
    let mut reader = BufReader::with_capacity(256 * 1024, file.at(offset));
    let mut header = [0u8; 46];
    let mut name = Vec::new();
    let mut extra = Vec::new();
    let mut at = offset;
    let end = offset + size;
    for index in 0..count {
        let fail = |reason: String| CentralError::Entry {
            index,
            offset: at,
            reason,
        };
        let io = |source: io::Error| CentralError::Io { offset: at, source };
        if end - at < 46 {
            return Err(fail("the directory ends inside it".into()));
        }
        reader.read_exact(&mut header).map_err(io)?;
        if u32_at(&header, 0) != CENTRAL_HEADER {
            return Err(fail("no central header signature".into()));
        }
        let name_len = usize::from(u16_at(&header, 28));
        let extra_len = usize::from(u16_at(&header, 30));
        let comment_len = u64::from(u16_at(&header, 32));
        let record = 46 + (name_len + extra_len) as u64 + comment_len;
        if record > end - at {
            return Err(fail("its name and fields run past the directory".into()));
        }
        name.resize(name_len, 0);
        reader.read_exact(&mut name).map_err(io)?;
        extra.resize(extra_len, 0);
        reader.read_exact(&mut extra).map_err(io)?;
        reader.seek_relative(comment_len as i64).map_err(io)?;
        let mut entry = CentralEntry {
            name: (0, 0),
            central_at: at,
            header_at: u64::from(u32_at(&header, 42)),
            flags: u16_at(&header, 8),
            method: u16_at(&header, 10),
            dos_time: u16_at(&header, 12),
            dos_date: u16_at(&header, 14),
            crc: u32_at(&header, 16),
            compressed: u64::from(u32_at(&header, 20)),
            size: u64::from(u32_at(&header, 24)),
            system: header[5],
            external: u32_at(&header, 38),
        };
        let mut unicode: Option<&[u8]> = None;
        for (id, data) in extra_fields(&extra) {
            match id {
                ZIP64_EXTRA => zip64(&mut entry, data).map_err(fail)?,
                UNICODE_PATH_EXTRA if unicode.is_none() => unicode = unicode_path(data, &name),
                _ => {}
            }
        }
        entry.header_at = entry
            .header_at
            .checked_add(shift)
            .ok_or_else(|| fail("local header offset past 2^64".into()))?;
        let start = text.len();
        match unicode {
            Some(utf8) => text.push_str(std::str::from_utf8(utf8).unwrap_or_default()),
            None => decode_name(&name, text),
        }
        if text.len() > Listing::MAX_TEXT {
            return Err(fail(format!(
                "more than {} bytes of names",
                Listing::MAX_TEXT
            )));
        }
        entry.name = (start, text.len());
        f(entry, &text[start..]);
        if !keep {
            text.truncate(start);
        }
        at += record;
    }
    Ok(())
}

/// The zip64 extended information: the fields the header marks as 0xFFFFFFFF, in order.
fn zip64(entry: &mut CentralEntry, data: &[u8]) -> Result<(), String> {
    let mut at = 0;
    let mut next = |what: &str| -> Result<u64, String> {
        let v = data
            .get(at..at + 8)
            .map(|b| u64_at(b, 0))
            .ok_or_else(|| format!("zip64 extra field too short for the {what}"))?;
        at += 8;
        Ok(v)
    };
    if entry.size == 0xFFFF_FFFF {
        entry.size = next("uncompressed size")?;
    }
    if entry.compressed == 0xFFFF_FFFF {
        entry.compressed = next("compressed size")?;
    }
    if entry.header_at == 0xFFFF_FFFF {
        entry.header_at = next("local header offset")?;
    }
    Ok(())
}

/// An Info-ZIP Unicode Path field: its UTF-8 name when its CRC-32 is the stored name's.
fn unicode_path<'a>(data: &'a [u8], stored: &[u8]) -> Option<&'a [u8]> {
    if data.first() != Some(&1) || data.len() < 5 {
        return None;
    }
    let mut crc = flate2::Crc::new();
    crc.update(stored);
    let utf8 = &data[5..];
    (crc.sum() == u32_at(data, 1) && std::str::from_utf8(utf8).is_ok()).then_some(utf8)
}

/// The extra fields of the central header at `at`, read again.
pub(super) fn central_extra(file: &PosReader, at: u64) -> Result<Vec<u8>, CentralError> {
    let header = read_vec(file, at, 46)?;
    if u32_at(&header, 0) != CENTRAL_HEADER {
        return Err(CentralError::Bad {
            what: "central header",
            offset: at,
            reason: "no signature".into(),
        });
    }
    let name_len = u64::from(u16_at(&header, 28));
    let extra_len = u64::from(u16_at(&header, 30));
    read_vec(file, at + 46 + name_len, extra_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use std::sync::Arc;

    /// A stored ZIP written by hand: `files` as (name bytes, encrypted flag, extra field
    /// of the central header); `before` is data put in front of it (a stub).
    fn zip(files: &[(&[u8], bool, &[u8])], before: usize) -> Vec<u8> {
        let mut out = vec![0x5a; before];
        let mut central = Vec::new();
        for (name, encrypted, extra) in files {
            let offset = (out.len() - before) as u32;
            let flags: u16 = u16::from(*encrypted);
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&[20, 0]);
            out.extend_from_slice(&flags.to_le_bytes());
            out.extend_from_slice(&[0; 18]);
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name);
            central.extend_from_slice(&CENTRAL_HEADER.to_le_bytes());
            central.extend_from_slice(&[20, 0, 20, 0]);
            central.extend_from_slice(&flags.to_le_bytes());
            central.extend_from_slice(&[0; 18]);
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 10]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name);
            central.extend_from_slice(extra);
        }
        let at = (out.len() - before) as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&EOCD.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&at.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    fn reader(bytes: &[u8]) -> PosReader {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        PosReader::new(Arc::new(file), bytes.len() as u64)
    }

    fn list(bytes: &[u8]) -> Result<(String, Vec<CentralEntry>), CentralError> {
        let mut text = String::new();
        let entries = read(&reader(bytes), &mut text)?;
        Ok((text, entries))
    }

    fn names(bytes: &[u8]) -> Vec<String> {
        let (text, entries) = list(bytes).unwrap();
        entries
            .iter()
            .map(|e| text[e.name.0..e.name.1].to_string())
            .collect()
    }

    #[test]
    fn lists_names_flags_and_headers() {
        let bytes = zip(&[(b"a.txt", false, b""), (b"d/", true, b"")], 0);
        let (text, entries) = list(&bytes).unwrap();
        assert_eq!(&text, "a.txtd/");
        assert_eq!(entries.len(), 2);
        assert!(!entries[0].encrypted() && entries[1].encrypted());
        assert!(entries[1].is_dir("d/"));
        assert_eq!(entries[0].header_at, 0);
        assert_eq!(entries[1].header_at, 35);
    }

    #[test]
    fn data_before_the_archive_shifts_every_offset() {
        let plain = list(&zip(&[(b"a", false, b""), (b"b", false, b"")], 0)).unwrap();
        let stub = list(&zip(&[(b"a", false, b""), (b"b", false, b"")], 1000)).unwrap();
        assert_eq!(plain.0, stub.0);
        for (p, s) in plain.1.iter().zip(&stub.1) {
            assert_eq!(p.header_at + 1000, s.header_at);
        }
    }

    #[test]
    fn an_end_record_signature_in_the_comment_is_not_taken_for_the_end() {
        let mut bytes = zip(&[(b"a.txt", false, b"")], 0);
        let comment: &[u8] = b"see PK\x05\x06 here: PK\x05\x06\x00\x00\x00\x00\x09\x00";
        let n = bytes.len();
        bytes[n - 2..].copy_from_slice(&(comment.len() as u16).to_le_bytes());
        bytes.extend_from_slice(comment);
        assert_eq!(names(&bytes), ["a.txt"]);
    }

    #[test]
    fn names_are_utf8_else_code_page_437() {
        assert_eq!(CP437_HIGH.chars().count(), 128);
        let high: Vec<u8> = (0x80..=0xFF).collect();
        let bytes = zip(
            &[("Zoë.txt".as_bytes(), false, b""), (&high, false, b"")],
            0,
        );
        let ours = names(&bytes);
        assert_eq!(ours[0], "Zoë.txt");
        // The `zip` crate decodes the same way.
        let archive = ::zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(archive.name_for_index(1).unwrap().unwrap(), ours[1]);
        assert!(ours[1].starts_with("ÇüéâäàåçêëèïîìÄÅ") && ours[1].ends_with("²■\u{a0}"));
    }

    #[test]
    fn a_unicode_path_field_replaces_the_name_when_its_crc_matches() {
        let field = |crc: u32| {
            let name = "Zoë.txt".as_bytes();
            let mut f = vec![0x75, 0x70, 5 + name.len() as u8, 0, 1];
            f.extend_from_slice(&crc.to_le_bytes());
            f.extend_from_slice(name);
            f
        };
        let mut crc = flate2::Crc::new();
        crc.update(b"Zo?.txt");
        let good = field(crc.sum());
        let bad = field(crc.sum() ^ 1);
        let bytes = zip(&[(b"Zo?.txt", false, &good), (b"Zo?.txt", false, &bad)], 0);
        assert_eq!(names(&bytes), ["Zoë.txt", "Zo?.txt"]);
    }

    #[test]
    fn agrees_with_the_zip_crate_on_every_fixture() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "zip") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let Ok(mut archive) = ::zip::ZipArchive::new(Cursor::new(&bytes)) else {
                // The truncated one: the crate cannot read it either.
                assert!(list(&bytes).is_err(), "{}", path.display());
                continue;
            };
            let (text, ours) = list(&bytes).unwrap();
            assert_eq!(ours.len(), archive.len(), "{}", path.display());
            for (i, e) in ours.iter().enumerate() {
                let name = &text[e.name.0..e.name.1];
                let theirs = archive.by_index_raw(i).unwrap();
                let what = format!("{} entry {i} {name}", path.display());
                assert_eq!(name, theirs.name().unwrap(), "{what}");
                assert_eq!(e.size, theirs.size(), "{what}");
                assert_eq!(e.compressed, theirs.compressed_size(), "{what}");
                assert_eq!(e.header_at, theirs.header_start(), "{what}");
                assert_eq!(e.crc, theirs.crc32(), "{what}");
                assert_eq!(e.encrypted(), theirs.encrypted(), "{what}");
                assert_eq!(e.is_dir(name), theirs.is_dir(), "{what}");
                assert_eq!(e.is_symlink(), theirs.is_symlink(), "{what}");
                let modified = theirs.last_modified().unwrap();
                assert_eq!(
                    (e.dos_date, e.dos_time),
                    (modified.datepart(), modified.timepart())
                );
            }
            checked += 1;
        }
        assert!(checked >= 4, "{checked} ZIPs checked");
    }

    #[test]
    fn what_it_cannot_follow_is_an_error_naming_where() {
        let good = zip(&[(b"a.txt", true, b"")], 0);
        let cut = list(&good[..good.len() - 30]).unwrap_err();
        assert!(matches!(cut, CentralError::NoEnd(_)), "{cut}");
        let mut forged = good.clone();
        let central = forged.len() - 22 - 51;
        forged[central] = b'X';
        let err = list(&forged).unwrap_err().to_string();
        assert!(err.contains("no central header there"), "{err}");
        let mut short = good.clone();
        let names_len = good.len() - 22 - 51 + 28;
        short[names_len] = 200;
        let err = list(&short).unwrap_err().to_string();
        assert!(err.contains("central header 0 at offset 35"), "{err}");
        assert!(list(b"PK\x03\x04 not a zip").is_err());
        assert!(list(b"").is_err());
    }

    /// Damage anywhere in the directory or the data is an error, never a panic.
    #[test]
    fn damaged_zips_give_errors_not_panics() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections");
        let good = std::fs::read(dir.join("kape-zip64.zip")).unwrap();
        let mut seed = 0x2545_f491_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut listed, mut failed) = (0, 0);
        for round in 0..300 {
            let mut bytes = good.clone();
            // Most rounds damage the directory and its end (the last 2 KiB), some the data.
            let span = if round % 4 == 0 { bytes.len() } else { 2048 };
            for _ in 0..1 + next() % 4 {
                let at = bytes.len() - 1 - (next() as usize % span);
                bytes[at] = next() as u8;
            }
            let file = reader(&bytes);
            let mut text = String::new();
            match read(&file, &mut text) {
                Ok(entries) => {
                    listed += 1;
                    for e in &entries {
                        if let Ok(mut r) = super::super::zip_entry::open(&file, e) {
                            let _ = r.read_to_end(&mut Vec::new());
                        }
                    }
                }
                Err(_) => failed += 1,
            }
        }
        assert!(
            listed > 0 && failed > 0,
            "{listed} listed, {failed} refused"
        );
    }

    #[test]
    fn zip64_fields_replace_what_the_header_marks() {
        let mut entry = CentralEntry {
            name: (0, 0),
            central_at: 0,
            header_at: 0xFFFF_FFFF,
            flags: 0,
            method: 0,
            dos_time: 0,
            dos_date: 0,
            crc: 0,
            compressed: 7,
            size: 0xFFFF_FFFF,
            system: 3,
            external: 0,
        };
        let mut data = Vec::new();
        data.extend_from_slice(&(5u64 << 32).to_le_bytes());
        data.extend_from_slice(&(9u64 << 32).to_le_bytes());
        zip64(&mut entry, &data).unwrap();
        assert_eq!(
            (entry.size, entry.compressed, entry.header_at),
            (5 << 32, 7, 9 << 32)
        );
        entry.size = 0xFFFF_FFFF;
        assert!(
            zip64(&mut entry, &data[..4])
                .unwrap_err()
                .contains("uncompressed size")
        );
    }
}
