//! A ZIP entry's content, read by us: its local header says where the data starts (its
//! name and extra field lengths may differ from the central header's), the central
//! directory says how long it is; stored data is passed on, deflated data inflated as
//! it is read. The CRC-32 and the size are checked at the end: a mismatch is an error,
//! not a short or silently wrong file.
//!
//! Encrypted entries are not read here (the `zip` crate does, see [`super::zip`]).

use std::io::{self, Read};

use flate2::bufread::DeflateDecoder;

use super::central::{CentralEntry, read_vec, u16_at, u32_at};
use super::positional::PosReader;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;

enum Data {
    Stored(PosReader),
    Deflated(Box<DeflateDecoder<PosReader>>),
}

/// An entry's content, checked as it is read.
pub(super) struct EntryReader {
    data: Data,
    crc: flate2::Crc,
    got: u64,
    size: u64,
    expected_crc: u32,
    failed: bool,
}

/// The name of a compression method this reader does not inflate.
fn method_name(method: u16) -> &'static str {
    match method {
        1 => "shrink",
        6 => "implode",
        9 => "deflate64",
        12 => "bzip2",
        14 => "LZMA",
        93 => "Zstandard",
        95 => "XZ",
        98 => "PPMd",
        99 => "AES",
        _ => "unknown",
    }
}

/// Open the content of the entry `e` of `file`.
pub(super) fn open(file: &PosReader, e: &CentralEntry) -> Result<EntryReader, String> {
    let header = read_vec(file, e.header_at, 30)
        .map_err(|err| format!("local header at offset {}: {err}", e.header_at))?;
    if u32_at(&header, 0) != LOCAL_HEADER {
        return Err(format!(
            "no local header at offset {} (the central directory points there)",
            e.header_at
        ));
    }
    let skip = 30 + u64::from(u16_at(&header, 26)) + u64::from(u16_at(&header, 28));
    let start = e.header_at + skip;
    if start
        .checked_add(e.compressed)
        .is_none_or(|end| end > file.len())
    {
        return Err(format!(
            "its {} bytes of data from offset {start} run past the end of the archive ({} bytes)",
            e.compressed,
            file.len()
        ));
    }
    let raw = file.range(start, e.compressed);
    let data = match e.method {
        STORED => {
            if e.compressed != e.size {
                return Err(format!(
                    "stored, but {} bytes stored for {} bytes of content",
                    e.compressed, e.size
                ));
            }
            Data::Stored(raw)
        }
        DEFLATED => Data::Deflated(Box::new(DeflateDecoder::new(raw))),
        other => {
            return Err(format!(
                "compression method {other} ({}) is not read",
                method_name(other)
            ));
        }
    };
    Ok(EntryReader {
        data,
        crc: flate2::Crc::new(),
        got: 0,
        size: e.size,
        expected_crc: e.crc,
        failed: false,
    })
}

impl EntryReader {
    fn fail(&mut self, why: String) -> io::Error {
        self.failed = true;
        io::Error::new(io::ErrorKind::InvalidData, why)
    }
}

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the entry failed its check",
            ));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // One byte more than the content is asked for, to see a stream that runs on.
        let room = self.size.saturating_sub(self.got).saturating_add(1);
        let want = usize::try_from(room).map_or(buf.len(), |r| r.min(buf.len()));
        let n = match &mut self.data {
            Data::Stored(r) => r.read(&mut buf[..want]),
            Data::Deflated(r) => r.read(&mut buf[..want]),
        };
        let n = match n {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => return Err(self.fail(format!("after {} bytes: {e}", self.got))),
        };
        self.got += n as u64;
        if self.got > self.size {
            let size = self.size;
            return Err(self.fail(format!(
                "holds more than the {size} bytes the central directory gives"
            )));
        }
        self.crc.update(&buf[..n]);
        if n == 0 {
            if self.got < self.size {
                let (got, size) = (self.got, self.size);
                return Err(self.fail(format!(
                    "ends after {got} of its {size} bytes (truncated or damaged)"
                )));
            }
            if self.crc.sum() != self.expected_crc {
                let (sum, expected) = (self.crc.sum(), self.expected_crc);
                return Err(self.fail(format!(
                    "CRC-32 of its content is {sum:08x}, the central directory gives {expected:08x} (damaged)"
                )));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::archive::central;
    use std::io::{Cursor, Write};
    use std::sync::Arc;
    use zip::CompressionMethod;
    use zip::write::SimpleFileOptions;

    /// Content that deflates, and some that does not.
    fn contents() -> Vec<(String, Vec<u8>)> {
        let mut seed = 7u32;
        let noise: Vec<u8> = (0..70_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        vec![
            ("empty.txt".into(), Vec::new()),
            ("text.log".into(), b"NetSession ".repeat(20_000)),
            ("noise.bin".into(), noise),
        ]
    }

    fn file_of(bytes: &[u8]) -> PosReader {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        PosReader::new(Arc::new(file), bytes.len() as u64)
    }

    /// Every entry of `bytes` read by us: (name, content or error).
    fn read_all(bytes: &[u8]) -> Vec<(String, Result<Vec<u8>, String>)> {
        let file = file_of(bytes);
        let mut text = String::new();
        let entries = central::read(&file, &mut text).unwrap();
        entries
            .iter()
            .map(|e| {
                let content = open(&file, e).and_then(|mut r| {
                    let mut out = Vec::new();
                    r.read_to_end(&mut out).map_err(|err| err.to_string())?;
                    Ok(out)
                });
                (text[e.name.0..e.name.1].to_string(), content)
            })
            .collect()
    }

    fn written(stream: bool, method: CompressionMethod) -> Vec<u8> {
        let options = SimpleFileOptions::default().compression_method(method);
        if stream {
            // Sizes and CRC-32 after the data (a data descriptor), as streaming
            // collectors write them.
            let mut w = zip::ZipWriter::new_stream(Vec::new());
            for (name, data) in contents() {
                w.start_file(name, options).unwrap();
                w.write_all(&data).unwrap();
            }
            w.finish().unwrap().into_inner()
        } else {
            let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
            for (name, data) in contents() {
                w.start_file(name, options).unwrap();
                w.write_all(&data).unwrap();
            }
            w.finish().unwrap().into_inner()
        }
    }

    #[test]
    fn reads_stored_and_deflated_entries_with_and_without_data_descriptors() {
        for stream in [false, true] {
            for method in [CompressionMethod::Stored, CompressionMethod::Deflated] {
                let bytes = written(stream, method);
                let got = read_all(&bytes);
                let want = contents();
                assert_eq!(got.len(), want.len());
                for ((name, content), (want_name, want_data)) in got.into_iter().zip(want) {
                    assert_eq!(name, want_name);
                    assert_eq!(content.unwrap(), want_data, "{name} {method:?} {stream}");
                }
            }
        }
    }

    /// Where entry `index`'s data starts, and the entry.
    fn data_of(bytes: &[u8], index: usize) -> (usize, CentralEntry) {
        let file = file_of(bytes);
        let entries = central::read(&file, &mut String::new()).unwrap();
        let e = entries[index];
        let h = e.header_at as usize;
        let start =
            h + 30 + usize::from(u16_at(bytes, h + 26)) + usize::from(u16_at(bytes, h + 28));
        (start, e)
    }

    fn error_of(bytes: &[u8], index: usize) -> String {
        read_all(bytes).swap_remove(index).1.unwrap_err()
    }

    #[test]
    fn damage_is_an_error_never_wrong_bytes() {
        for method in [CompressionMethod::Stored, CompressionMethod::Deflated] {
            let good = written(false, method);
            // A changed byte of the data.
            let mut bad = good.clone();
            let (start, e) = data_of(&good, 2);
            bad[start + e.compressed as usize / 2] ^= 0x55;
            let err = error_of(&bad, 2);
            assert!(
                err.contains("CRC-32 of its content is"),
                "{method:?}: {err}"
            );
            // A central directory that says the data is shorter than it is.
            let mut cut = good.clone();
            let central = e.central_at as usize;
            let less = (e.compressed as u32 - 1000).to_le_bytes();
            cut[central + 20..central + 24].copy_from_slice(&less);
            if method == CompressionMethod::Stored {
                cut[central + 24..central + 28].copy_from_slice(&less);
            }
            let err = error_of(&cut, 2);
            let stops = match method {
                // The bytes stored are there but fewer: the CRC-32 tells.
                CompressionMethod::Stored => err.contains("CRC-32 of its content is"),
                // The deflate stream is cut: the inflater or the size tells.
                _ => err.starts_with("after ") || err.contains("ends after"),
            };
            assert!(stops, "{method:?}: {err}");
        }
        let good = written(false, CompressionMethod::Deflated);
        let (_, e) = data_of(&good, 1);
        let mut moved = good.clone();
        moved[e.header_at as usize] = b'X';
        assert!(error_of(&moved, 1).contains("no local header at offset"));
        let mut bzip2 = good.clone();
        bzip2[e.central_at as usize + 10] = 12;
        assert!(error_of(&bzip2, 1).contains("compression method 12 (bzip2) is not read"));
        let mut past = good.clone();
        let huge = u32::MAX.to_le_bytes();
        past[e.central_at as usize + 20..e.central_at as usize + 24].copy_from_slice(&huge);
        assert!(error_of(&past, 1).contains("run past the end of the archive"));
    }
}
