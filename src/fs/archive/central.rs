//! A quick pass over a ZIP's central directory that only asks: is any file entry
//! encrypted? Detection must refuse a ZIP it cannot read before the scan starts, and
//! building the `zip` crate's full index for that (names, extra fields, a map) cost as
//! much as the scan of the archive itself. Anything this pass does not understand
//! answers `None`, and the full check runs instead.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

const EOCD: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
/// The end record (22 bytes) and the longest comment.
const TAIL: u64 = 22 + 0xFFFF;

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u64)
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as u64)
}

fn signature_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Where the central directory is and how many entries it holds.
fn directory<R: Read + Seek>(file: &mut R, len: u64) -> io::Result<Option<(u64, u64, u64)>> {
    let start = len.saturating_sub(TAIL);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.take(TAIL).read_to_end(&mut tail)?;
    let Some(at) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| signature_at(&tail, i) == Some(EOCD))
    else {
        return Ok(None);
    };
    let (Some(entries), Some(size), Some(offset)) = (
        u16_at(&tail, at + 10),
        u32_at(&tail, at + 12),
        u32_at(&tail, at + 16),
    ) else {
        return Ok(None);
    };
    if entries != 0xFFFF && size != 0xFFFF_FFFF && offset != 0xFFFF_FFFF {
        return Ok(Some((offset, size, entries)));
    }
    // zip64: the locator sits just before the end record.
    let locator = (start + at as u64).checked_sub(20);
    let Some(locator) = locator else {
        return Ok(None);
    };
    let mut record = [0u8; 20];
    file.seek(SeekFrom::Start(locator))?;
    file.read_exact(&mut record)?;
    if signature_at(&record, 0) != Some(ZIP64_LOCATOR) {
        return Ok(None);
    }
    let Some(end64) = u64_at(&record, 8) else {
        return Ok(None);
    };
    let mut end = [0u8; 56];
    file.seek(SeekFrom::Start(end64))?;
    file.read_exact(&mut end)?;
    if signature_at(&end, 0) != Some(ZIP64_EOCD) {
        return Ok(None);
    }
    Ok(
        match (u64_at(&end, 32), u64_at(&end, 40), u64_at(&end, 48)) {
            (Some(entries), Some(size), Some(offset)) => Some((offset, size, entries)),
            _ => None,
        },
    )
}

/// How many file entries of the ZIP are encrypted; `None` when the central directory is
/// not as this pass expects (damaged, split, or a layout it does not know).
pub(super) fn encrypted_files<R: Read + Seek>(file: R, len: u64) -> io::Result<Option<u64>> {
    let mut file = BufReader::with_capacity(256 * 1024, file);
    let Some((offset, size, entries)) = directory(&mut file, len)? else {
        return Ok(None);
    };
    if offset.checked_add(size).is_none_or(|end| end > len) {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut left = size;
    let mut encrypted = 0;
    let mut header = [0u8; 46];
    let mut name = Vec::new();
    for _ in 0..entries {
        if left < 46 {
            return Ok(None);
        }
        file.read_exact(&mut header)?;
        if signature_at(&header, 0) != Some(CENTRAL_HEADER) {
            return Ok(None);
        }
        let (Some(flags), Some(name_len), Some(extra_len), Some(comment_len)) = (
            u16_at(&header, 8),
            u16_at(&header, 28),
            u16_at(&header, 30),
            u16_at(&header, 32),
        ) else {
            return Ok(None);
        };
        let record = 46 + name_len + extra_len + comment_len;
        if record > left {
            return Ok(None);
        }
        left -= record;
        name.resize(name_len as usize, 0);
        file.read_exact(&mut name)?;
        file.seek_relative((extra_len + comment_len) as i64)?;
        let is_dir = name.last() == Some(&b'/');
        if flags & 1 == 1 && !is_dir {
            encrypted += 1;
        }
    }
    Ok(Some(encrypted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A stored ZIP written by hand: `files` as (name, encrypted flag).
    fn zip(files: &[(&str, bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, encrypted) in files {
            let offset = out.len() as u32;
            let flags: u16 = u16::from(*encrypted);
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&[20, 0]);
            out.extend_from_slice(&flags.to_le_bytes());
            out.extend_from_slice(&[0; 18]);
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            central.extend_from_slice(&CENTRAL_HEADER.to_le_bytes());
            central.extend_from_slice(&[20, 0, 20, 0]);
            central.extend_from_slice(&flags.to_le_bytes());
            central.extend_from_slice(&[0; 18]);
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let at = out.len() as u32;
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

    fn count(bytes: &[u8]) -> Option<u64> {
        encrypted_files(Cursor::new(bytes), bytes.len() as u64).unwrap()
    }

    #[test]
    fn counts_encrypted_files_not_folders() {
        assert_eq!(count(&zip(&[("a.txt", false), ("b/", false)])), Some(0));
        assert_eq!(
            count(&zip(&[("a.txt", true), ("d/", true), ("c", false)])),
            Some(1)
        );
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
            let Ok(archive) = ::zip::ZipArchive::new(Cursor::new(&bytes)) else {
                // The truncated one: the crate cannot read it either.
                assert_eq!(count(&bytes), None, "{}", path.display());
                continue;
            };
            let encrypted = (0..archive.len())
                .filter_map(|i| archive.by_index_data(i).ok())
                .filter(|d| !d.is_dir() && d.encrypted())
                .count() as u64;
            assert_eq!(count(&bytes), Some(encrypted), "{}", path.display());
            checked += 1;
        }
        assert!(checked >= 4, "{checked} ZIPs checked");
    }

    #[test]
    fn what_it_does_not_understand_is_none() {
        let good = zip(&[("a.txt", true)]);
        assert_eq!(count(&good[..good.len() - 30]), None, "cut");
        let mut forged = good.clone();
        let central = forged.len() - 22 - 51;
        forged[central] = b'X';
        assert_eq!(count(&forged), None, "no central header");
        assert_eq!(count(b"PK\x03\x04 not a zip"), None);
        assert_eq!(count(b""), None);
    }
}
