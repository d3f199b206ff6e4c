//! A split raw image (`NAME.001`, `NAME.002`, ...): the segments found by name beside the
//! given one and read as one image.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::{Path, PathBuf};

use super::file::{ended_early, open_sized, parent_dir, pread_full, sibling_files, with_extension};
use super::source::{ImageError, ImageSource, clamp_len};

struct Segment {
    path: PathBuf,
    file: File,
    start: u64,
    len: u64,
}

/// A raw image cut into numbered files, `NAME.001`, `NAME.002`, ... (three or more
/// digits; a set may also start at `NAME.000`). Opened from any segment's path; the
/// segments are found by name in the same folder. A gap in the numbering is
/// [`ImageError::MissingSegment`] naming the first missing file.
pub struct SplitRawImage {
    segments: Vec<Segment>,
    size: u64,
}

/// A split-raw segment name: the stem, the number and the digits' width.
fn split_name(path: &Path) -> Option<(OsString, u64, usize)> {
    let stem = path.file_stem()?;
    let ext = path.extension()?.to_str()?;
    if ext.len() < 3 || ext.len() > 19 || !ext.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = ext.parse().ok()?;
    Some((stem.to_os_string(), number, ext.len()))
}

impl SplitRawImage {
    /// The segments of the split image `path` belongs to, in order; `None` when the name
    /// is not a split-raw segment name.
    pub fn discover(path: &Path) -> Result<Option<Vec<PathBuf>>, ImageError> {
        let Some((stem, _, width)) = split_name(path) else {
            return Ok(None);
        };
        let dir = parent_dir(path);
        let mut found: BTreeMap<u64, PathBuf> = BTreeMap::new();
        for file in sibling_files(dir)? {
            let Some((s, n, _)) = split_name(&file) else {
                continue;
            };
            // Same stem and the same numbering (so `x.0001` is not part of `x.001`'s set;
            // `x.1000` follows `x.999`).
            let ext = file.extension().and_then(OsStr::to_str).unwrap_or_default();
            if s == stem && format!("{n:0width$}") == ext {
                found.insert(n, file);
            }
        }
        // The given file itself may be found under another spelling of its folder.
        if let Some((_, n, _)) = split_name(path) {
            found.entry(n).or_insert_with(|| path.to_path_buf());
        }
        let first = if found.contains_key(&0) { 0 } else { 1 };
        let mut paths = Vec::with_capacity(found.len());
        let mut expect = first;
        for (n, p) in found {
            if n != expect {
                return Err(ImageError::MissingSegment {
                    expected: with_extension(dir, &stem, &format!("{expect:0width$}")),
                });
            }
            paths.push(p);
            expect = expect.saturating_add(1);
        }
        Ok(Some(paths))
    }

    /// Open the split image that `path` (any of its segments) belongs to.
    pub fn open(path: &Path) -> Result<SplitRawImage, ImageError> {
        match SplitRawImage::discover(path)? {
            Some(paths) => SplitRawImage::from_paths(&paths),
            None => Err(ImageError::Unsupported {
                path: path.to_path_buf(),
                message: "not a split raw segment name (NAME.001, NAME.002, ...)".into(),
            }),
        }
    }

    /// Open the given segment files, in this order.
    pub fn from_paths(paths: &[PathBuf]) -> Result<SplitRawImage, ImageError> {
        let mut segments = Vec::with_capacity(paths.len());
        let mut start = 0u64;
        for path in paths {
            let (file, len) = open_sized(path)?;
            segments.push(Segment {
                path: path.clone(),
                file,
                start,
                len,
            });
            start = start
                .checked_add(len)
                .ok_or_else(|| ImageError::Unsupported {
                    path: path.clone(),
                    message: "segments add up to more than 2^64 bytes".into(),
                })?;
        }
        Ok(SplitRawImage {
            segments,
            size: start,
        })
    }

    /// The segment files, in order.
    pub fn segment_paths(&self) -> impl Iterator<Item = &Path> {
        self.segments.iter().map(|s| s.path.as_path())
    }
}

impl ImageSource for SplitRawImage {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let want = clamp_len(buf.len(), self.size.saturating_sub(offset));
        let mut done = 0usize;
        // The first segment that ends after `offset` (empty segments are skipped).
        let mut index = self
            .segments
            .partition_point(|s| s.start.saturating_add(s.len) <= offset);
        while done < want {
            let Some(seg) = self.segments.get(index) else {
                break;
            };
            let pos = offset.saturating_add(done as u64);
            let within = pos.saturating_sub(seg.start);
            let n = clamp_len(want - done, seg.len.saturating_sub(within));
            if n > 0 {
                let Some(dest) = buf.get_mut(done..done + n) else {
                    break;
                };
                let got = pread_full(&seg.file, dest, within).map_err(|source| ImageError::Io {
                    path: seg.path.clone(),
                    offset: pos,
                    source,
                })?;
                if got < n {
                    return Err(ended_early(
                        &seg.path,
                        pos.saturating_add(got as u64),
                        got,
                        n,
                    ));
                }
                done += n;
            }
            index += 1;
        }
        Ok(done)
    }

    fn describe(&self) -> String {
        let n = self.segments.len();
        format!("split raw ({n} segment{})", if n == 1 { "" } else { "s" })
    }

    fn files(&self) -> Vec<PathBuf> {
        self.segment_paths().map(Path::to_path_buf).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::source::open_image;

    #[test]
    fn split_names() {
        assert_eq!(
            split_name(Path::new("/x/disk.dd.001")),
            Some(("disk.dd".into(), 1, 3))
        );
        assert_eq!(split_name(Path::new("disk.1000")).map(|s| s.1), Some(1000));
        assert_eq!(split_name(Path::new("disk.01")), None);
        assert_eq!(split_name(Path::new("disk.E01")), None);
        assert_eq!(split_name(Path::new(".001")), None);
    }

    #[test]
    fn split_image_spans_segments_and_names_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 31 % 251) as u8).collect();
        for (i, part) in data.chunks(1024).enumerate() {
            std::fs::write(dir.path().join(format!("d.img.{:03}", i + 1)), part).unwrap();
        }
        std::fs::write(dir.path().join("d.img.0001"), b"other numbering").unwrap();
        std::fs::write(dir.path().join("e.img.004"), b"other stem").unwrap();
        let img = SplitRawImage::open(&dir.path().join("d.img.002")).unwrap();
        assert_eq!(img.size(), 3000);
        assert_eq!(img.describe(), "split raw (3 segments)");
        let mut buf = vec![0u8; 3000];
        assert_eq!(img.read_at(1000, &mut buf).unwrap(), 2000);
        assert_eq!(buf[..2000], data[1000..]);
        assert_eq!(img.read_at(0, &mut buf).unwrap(), 3000);
        assert_eq!(buf, data);
        let boxed = open_image(&dir.path().join("d.img.001")).unwrap();
        assert_eq!(boxed.describe(), "split raw (3 segments)");
        std::fs::remove_file(dir.path().join("d.img.002")).unwrap();
        match open_image(&dir.path().join("d.img.001")) {
            Err(ImageError::MissingSegment { expected }) => {
                assert_eq!(expected, dir.path().join("d.img.002"))
            }
            other => panic!("{:?}", other.map(|s| s.describe())),
        }
    }
}
