//! Read-only, random-access byte sources: a raw image (one file), a split raw image
//! (`NAME.001`, `NAME.002`, ...), an E01 image (all its segments), a window of another
//! source (a partition), and a cursor over any of them for code that wants `Read + Seek`.
//!
//! Every source reads at an offset through `&self` (positioned reads, no shared cursor),
//! so one source can serve several threads. Reads are short only at the end of the
//! image; anything else that goes wrong is an error naming the file and the offset.
//!
//! Incomplete images: an E01 missing one run of segments (in the middle or at the end,
//! not the first) is read around the hole: its volume section says how many chunks the
//! missing run held, so every other chunk keeps its place, reads in the hole fail with
//! [`ImageError::InMissingSegment`], and [`ImageSource::known_gaps`] tells the scan. What
//! cannot be placed is refused with [`ImageError::MissingSegment`] naming the file that
//! should be there: the first E01 segment, gaps in two places, any gap in split-raw
//! numbering (split raw has no metadata to size a missing piece). The last segment of a
//! split raw image cannot be known missing; the last E01 segment can, by its closing
//! section.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::host::open_evidence_file;

/// A read-only byte source of known size, read at any offset (no shared cursor, so it
/// can be used from several threads: `&self`).
pub trait ImageSource: Send + Sync {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Read up to `buf.len()` bytes at `offset`; short only at the end of the image
    /// (0 at or past the end). Errors name the offset.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError>;
    /// What the source is, e.g. `raw`, `split raw (3 segments)`, `E01 (2 segments)`.
    fn describe(&self) -> String;
    /// The files the source reads (segments in order), for the scan manifest.
    fn files(&self) -> Vec<PathBuf> {
        Vec::new()
    }
    /// Parts of the image known to be unreadable from the moment it was opened (a
    /// missing E01 segment), as (location, what) for warnings. Reads there fail.
    fn known_gaps(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// A reference, box or shared pointer to a source is a source: the cache, slices and
/// volumes hold whichever the caller has.
macro_rules! forward_image_source {
    ($($wrapper:ty),*) => {$(
        impl<S: ImageSource + ?Sized> ImageSource for $wrapper {
            fn size(&self) -> u64 {
                (**self).size()
            }
            fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
                (**self).read_at(offset, buf)
            }
            fn describe(&self) -> String {
                (**self).describe()
            }
            fn files(&self) -> Vec<PathBuf> {
                (**self).files()
            }
            fn known_gaps(&self) -> Vec<(String, String)> {
                (**self).known_gaps()
            }
        }
    )*};
}

forward_image_source!(&S, Box<S>, Arc<S>);

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    /// A read failed. `offset` is the offset in the image (for a [`Slice`], in the image
    /// it is a window of); `path` is the file read, for a split image the segment.
    #[error("read error in {} at image offset {offset}: {source}", path.display())]
    Io {
        path: PathBuf,
        offset: u64,
        source: io::Error,
    },
    /// A segment of a multi-file image is not there: the image is incomplete.
    #[error("missing image segment {} (the image is incomplete)", expected.display())]
    MissingSegment { expected: PathBuf },
    /// The E01 container cannot be opened (bad structure, inconsistent segments).
    #[error("E01 {}: {message}", path.display())]
    Ewf { path: PathBuf, message: String },
    /// Data inside the E01 cannot be read (a damaged chunk, a short segment).
    #[error("E01 {}: cannot read at image offset {offset}: {message}", path.display())]
    EwfRead {
        path: PathBuf,
        offset: u64,
        message: String,
    },
    /// The bytes at `offset` were in a segment that is missing (the rest of the image is
    /// read).
    #[error("image offset {offset} lies in the missing segment {}", segment.display())]
    InMissingSegment { segment: PathBuf, offset: u64 },
    /// Not something this module reads as an image (a directory, an L01 file, ...).
    #[error("{}: {message}", path.display())]
    Unsupported { path: PathBuf, message: String },
}

impl ImageError {
    /// The image offset the error is about, where it is about one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ImageError::Io { offset, .. }
            | ImageError::EwfRead { offset, .. }
            | ImageError::InMissingSegment { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

impl From<ImageError> for io::Error {
    /// Keeps the `ImageError` inside (`get_ref`/`into_inner` + downcast give it back).
    fn from(err: ImageError) -> io::Error {
        let kind = match &err {
            ImageError::Io { source, .. } | ImageError::Open { source, .. } => source.kind(),
            ImageError::MissingSegment { .. } => io::ErrorKind::NotFound,
            ImageError::EwfRead { .. } => io::ErrorKind::InvalidData,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

/// `buf_len` limited to `remaining` bytes, without a lossy cast.
fn clamp_len(buf_len: usize, remaining: u64) -> usize {
    usize::try_from(remaining).map_or(buf_len, |r| r.min(buf_len))
}

/// Fill `buf` from `file` at `offset`; the count is short only at the file's end.
fn pread_full(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut total = 0usize;
    while total < buf.len() {
        let Some(at) = offset.checked_add(total as u64) else {
            break;
        };
        let Some(rest) = buf.get_mut(total..) else {
            break;
        };
        #[cfg(unix)]
        let res = std::os::unix::fs::FileExt::read_at(file, rest, at);
        #[cfg(windows)]
        let res = std::os::windows::fs::FileExt::seek_read(file, rest, at);
        #[cfg(not(any(unix, windows)))]
        let res: io::Result<usize> = {
            let _ = (file, rest, at);
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "positioned reads are not supported on this platform",
            ))
        };
        match res {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

/// Open an evidence file read-only and take its size (by seeking to the end, which also
/// works for block devices, whose metadata length is 0).
fn open_sized(path: &Path) -> Result<(File, u64), ImageError> {
    let open_err = |source| ImageError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = open_evidence_file(path).map_err(open_err)?;
    let meta = file.metadata().map_err(open_err)?;
    if meta.is_dir() {
        return Err(ImageError::Unsupported {
            path: path.to_path_buf(),
            message: "is a directory, not an image file".into(),
        });
    }
    let size = (&file).seek(SeekFrom::End(0)).map_err(open_err)?;
    Ok((file, size))
}

fn ended_early(path: &Path, offset: u64, got: usize, wanted: usize) -> ImageError {
    ImageError::Io {
        path: path.to_path_buf(),
        offset,
        source: io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("file ended early: {got} of {wanted} bytes (changed since it was opened?)"),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Raw
// ---------------------------------------------------------------------------------------

/// A raw (dd) image or a device: one file, opened read-only (without updating its access
/// time where the system allows). Its size is taken when it is opened.
pub struct RawImage {
    path: PathBuf,
    file: File,
    size: u64,
}

impl RawImage {
    pub fn open(path: &Path) -> Result<RawImage, ImageError> {
        let (file, size) = open_sized(path)?;
        Ok(RawImage {
            path: path.to_path_buf(),
            file,
            size,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ImageSource for RawImage {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let want = clamp_len(buf.len(), self.size.saturating_sub(offset));
        let Some(dest) = buf.get_mut(..want) else {
            return Ok(0);
        };
        if want == 0 {
            return Ok(0);
        }
        let got = pread_full(&self.file, dest, offset).map_err(|source| ImageError::Io {
            path: self.path.clone(),
            offset,
            source,
        })?;
        if got < want {
            return Err(ended_early(
                &self.path,
                offset.saturating_add(got as u64),
                got,
                want,
            ));
        }
        Ok(got)
    }

    fn describe(&self) -> String {
        "raw".into()
    }

    fn files(&self) -> Vec<PathBuf> {
        vec![self.path.clone()]
    }
}

// ---------------------------------------------------------------------------------------
// Split raw
// ---------------------------------------------------------------------------------------

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

fn with_extension(dir: &Path, stem: &OsStr, ext: &str) -> PathBuf {
    let mut name = stem.to_os_string();
    name.push(".");
    name.push(ext);
    dir.join(name)
}

/// The folder a path's siblings are in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Regular files in `dir` (following links), by name.
fn sibling_files(dir: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ImageError::Open {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            files.push(path);
        }
    }
    Ok(files)
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

// ---------------------------------------------------------------------------------------
// E01
// ---------------------------------------------------------------------------------------

/// EWF v1 file signature (E01, S01).
const EVF_SIGNATURE: [u8; 8] = *b"EVF\x09\x0d\x0a\xff\x00";
/// EWF v1 logical evidence (L01).
const LVF_SIGNATURE: [u8; 8] = *b"LVF\x09\x0d\x0a\xff\x00";
/// EWF v2 (Ex01).
const EVF2_SIGNATURE: [u8; 8] = *b"EVF2\x0d\x0a\x81\x00";
/// EWF v2 logical evidence (Lx01).
const LEF2_SIGNATURE: [u8; 8] = *b"LEF2\x0d\x0a\x81\x00";
/// An EWF v1 section descriptor: type (16), next (8), size (8), padding, checksum.
const SECTION_DESCRIPTOR_SIZE: usize = 76;
/// The EWF v1 file header: signature (8), 1, segment number (2), 0 (2).
const FILE_HEADER_SIZE: u64 = 13;

/// How a set's segment files are named: `E01`..`E99`, `EAA`..`EZZ`, `FAA`..`ZZZ`; for
/// EWF2 `Ex01`..`Ex99`, `ExAA`..`EzZZ`. `lead0` is the letter that starts the set
/// (`E`; `X` for EWF2), `first` EWF2's fixed first letter.
#[derive(Debug, Clone, Copy)]
struct EwfNaming {
    v2: bool,
    first: u8,
    lead0: u8,
    /// Letter case of the given file, reused for names we construct.
    first_lower: bool,
    lead_lower: bool,
}

/// An extension split into EWF parts: (v2, first letter, lead letter, two trailing
/// characters), letters upper-cased.
fn ewf_ext_parts(ext: &str) -> Option<(bool, u8, u8, [u8; 2])> {
    let b = ext.as_bytes();
    let (v2, first, lead, two) = match b {
        [lead, t0, t1] => (false, *lead, *lead, [*t0, *t1]),
        [first, lead, t0, t1] => (true, *first, *lead, [*t0, *t1]),
        _ => return None,
    };
    if !first.is_ascii_alphabetic() || !lead.is_ascii_alphabetic() {
        return None;
    }
    let two = [two[0].to_ascii_uppercase(), two[1].to_ascii_uppercase()];
    let digits = two.iter().all(u8::is_ascii_digit);
    let letters = two.iter().all(u8::is_ascii_uppercase);
    if !digits && !letters {
        return None;
    }
    let lead_up = lead.to_ascii_uppercase();
    if v2 && !(b'X'..=b'Z').contains(&lead_up) {
        return None;
    }
    Some((v2, first.to_ascii_uppercase(), lead_up, two))
}

impl EwfNaming {
    /// The naming of the set `ext` belongs to, with `header_number` (the segment number
    /// stored in the file, when known) to place a letter-form name like `EAB`.
    fn of(ext: &str, header_number: Option<u32>) -> Option<EwfNaming> {
        let (v2, first, lead, two) = ewf_ext_parts(ext)?;
        let b = ext.as_bytes();
        let lead_lower = b
            .get(if v2 { 1 } else { 0 })
            .is_some_and(u8::is_ascii_lowercase);
        let first_lower = b.first().is_some_and(u8::is_ascii_lowercase);
        let lead0 = if v2 {
            b'X'
        } else if two[0].is_ascii_digit() {
            lead
        } else {
            // `EAB` is segment 101 of an `E` set, `FAA` segment 776: only the header's
            // number tells (and a name like `disk.raw` is no segment name at all).
            let k = header_number?.checked_sub(100)? / 676;
            u8::try_from(u32::from(lead).checked_sub(k)?).ok()?
        };
        let naming = EwfNaming {
            v2,
            first,
            lead0,
            first_lower,
            lead_lower,
        };
        // The name must say what the header says.
        match header_number {
            Some(h) if naming.number(ext) != Some(h) => None,
            _ => Some(naming),
        }
    }

    /// The segment number of `ext` in this set.
    fn number(&self, ext: &str) -> Option<u32> {
        let (v2, first, lead, two) = ewf_ext_parts(ext)?;
        if v2 != self.v2 || (v2 && first != self.first) || lead < self.lead0 {
            return None;
        }
        if two[0].is_ascii_digit() {
            let n = u32::from(two[0] - b'0') * 10 + u32::from(two[1] - b'0');
            (lead == self.lead0 && n > 0).then_some(n)
        } else {
            let k = u32::from(lead - self.lead0) * 676
                + u32::from(two[0] - b'A') * 26
                + u32::from(two[1] - b'A');
            Some(100 + k)
        }
    }

    /// The extension of segment `n` in this set.
    fn ext(&self, n: u32) -> Option<String> {
        let case = |c: u8, lower: bool| char::from(if lower { c.to_ascii_lowercase() } else { c });
        let (lead, tail) = if (1..=99).contains(&n) {
            (self.lead0, format!("{n:02}"))
        } else {
            let k = n.checked_sub(100)?;
            let lead = u8::try_from(u32::from(self.lead0) + k / 676).ok()?;
            if lead > b'Z' {
                return None;
            }
            let t0 = case(b'A' + u8::try_from(k / 26 % 26).ok()?, self.lead_lower);
            let t1 = case(b'A' + u8::try_from(k % 26).ok()?, self.lead_lower);
            (lead, format!("{t0}{t1}"))
        };
        let mut ext = String::new();
        if self.v2 {
            ext.push(case(self.first, self.first_lower));
        }
        ext.push(case(lead, self.lead_lower));
        ext.push_str(&tail);
        Some(ext)
    }
}

/// The first 13 bytes of a file (fewer if it is shorter).
fn read_head(path: &Path) -> Result<Vec<u8>, ImageError> {
    let file = open_evidence_file(path).map_err(|source| ImageError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut head = Vec::with_capacity(FILE_HEADER_SIZE as usize);
    file.take(FILE_HEADER_SIZE)
        .read_to_end(&mut head)
        .map_err(|source| ImageError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(head)
}

/// The segment number in an EWF v1 file header.
fn v1_segment_number(head: &[u8]) -> Option<u32> {
    if head.get(..8)? != EVF_SIGNATURE {
        return None;
    }
    let n = u16::from_le_bytes([*head.get(9)?, *head.get(10)?]);
    Some(u32::from(n))
}

/// A chunk table section of an EWF v1 segment, as the crate uses it.
#[derive(Debug, Clone)]
struct TableSection {
    /// The global index of its first chunk.
    first_chunk: u64,
    count: u64,
    /// Which segment (index into the set) and where its entries start.
    segment: usize,
    entries_offset: u64,
    /// Whether an Adler-32 of the entries follows them.
    has_checksum: bool,
}

/// What walking one EWF v1 segment's sections found.
struct SegmentWalk {
    /// The last section's type (`done` in the last segment, `next` in the others), or
    /// `None` when the chain breaks off first (a truncated segment).
    last: Option<String>,
    /// The `table` sections, or the `table2` ones where the segment has no `table` (the
    /// crate's choice): (entries offset, entry count, checksum follows).
    tables: Vec<(u64, u64, bool)>,
    /// The chunk count its `volume` (or `disk`) section declares, when trusted (see
    /// [`trusted_chunk_count`]).
    volume_chunks: Option<u64>,
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    if let Some(src) = b.get(at..at + 4) {
        v.copy_from_slice(src);
    }
    u32::from_le_bytes(v)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    if let Some(src) = b.get(at..at + 8) {
        v.copy_from_slice(src);
    }
    u64::from_le_bytes(v)
}

/// An EnCase volume section's body: geometry, then an Adler-32 of the first 1,048 bytes.
const VOLUME_BODY_LEN: usize = 1052;

/// The chunk count of a volume section's body, when two independent fields agree on it
/// (it is ceil(sector count / sectors per chunk)) and the body's Adler-32 holds (where
/// the body is long enough to carry one). Only a count trusted this way sizes a hole
/// left by missing segments: a wrong one would shift every later chunk onto the wrong
/// image offset.
fn trusted_chunk_count(volume: &[u8]) -> Option<u64> {
    if volume.len() < 24 {
        return None;
    }
    if volume.len() >= VOLUME_BODY_LEN
        && ewf::sections::adler32(&volume[..VOLUME_BODY_LEN - 4])
            != le_u32(volume, VOLUME_BODY_LEN - 4)
    {
        return None;
    }
    let chunks = u64::from(le_u32(volume, 4));
    let sectors_per_chunk = u64::from(le_u32(volume, 8));
    let sectors = le_u64(volume, 16);
    (sectors_per_chunk > 0 && sectors.div_ceil(sectors_per_chunk) == chunks).then_some(chunks)
}

/// Walk an EWF v1 segment's section chain, checking every section descriptor's and every
/// table header's Adler-32 (the crate checks neither: a damaged entry count would shift
/// every later chunk onto another chunk's data).
fn walk_v1_segment(file: &File, len: u64, path: &Path) -> Result<SegmentWalk, ImageError> {
    let damaged = |offset: u64, what: &str| ImageError::Ewf {
        path: path.to_path_buf(),
        message: format!("{what} at offset {offset} fails its checksum: the segment is damaged"),
    };
    let io_err = |source| ImageError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut offset = FILE_HEADER_SIZE;
    let mut desc = [0u8; SECTION_DESCRIPTOR_SIZE];
    let mut table = Vec::new();
    let mut table2 = Vec::new();
    let mut last = None;
    let mut volume_chunks = None;
    loop {
        if offset.saturating_add(SECTION_DESCRIPTOR_SIZE as u64) > len
            || pread_full(file, &mut desc, offset).map_err(io_err)? < SECTION_DESCRIPTOR_SIZE
        {
            break;
        }
        if ewf::sections::adler32(&desc[..72]) != le_u32(&desc, 72) {
            return Err(damaged(offset, "section descriptor"));
        }
        let kind: Vec<u8> = desc[..16].iter().copied().take_while(|&b| b != 0).collect();
        let next = le_u64(&desc, 16);
        let size = le_u64(&desc, 24);
        match kind.as_slice() {
            b"done" | b"next" => {
                last = Some(String::from_utf8_lossy(&kind).into_owned());
                break;
            }
            b"volume" | b"disk" => {
                let mut volume = vec![0u8; VOLUME_BODY_LEN];
                let at = offset.saturating_add(SECTION_DESCRIPTOR_SIZE as u64);
                let got = pread_full(file, &mut volume, at).map_err(io_err)?;
                volume.truncate(got);
                volume_chunks = trusted_chunk_count(&volume);
            }
            b"table" | b"table2" => {
                let mut header = [0u8; 24];
                let at = offset.saturating_add(SECTION_DESCRIPTOR_SIZE as u64);
                if pread_full(file, &mut header, at).map_err(io_err)? < header.len() {
                    break;
                }
                if ewf::sections::adler32(&header[..20]) != le_u32(&header, 20) {
                    return Err(damaged(at, "table header"));
                }
                let count = u64::from(le_u32(&header, 0));
                let entries_offset = at.saturating_add(24);
                if entries_offset.saturating_add(count * 4) > len {
                    return Err(ImageError::Ewf {
                        path: path.to_path_buf(),
                        message: format!(
                            "the table at offset {offset} declares {count} entries, more than \
                             the segment holds"
                        ),
                    });
                }
                // Descriptor, header, entries, then (EnCase 2 and later) their Adler-32.
                let has_checksum = size >= 100 + count * 4 + 4;
                let list = if kind == b"table" {
                    &mut table
                } else {
                    &mut table2
                };
                list.push((entries_offset, count, has_checksum));
            }
            _ => {}
        }
        // Offsets only grow along the chain; anything else ends it (and no loop).
        if next <= offset {
            break;
        }
        offset = next;
    }
    Ok(SegmentWalk {
        last,
        tables: if table.is_empty() { table2 } else { table },
        volume_chunks,
    })
}

/// One segment of a set: its file, or, missing, the name it would have.
#[derive(Debug, Clone)]
struct SegmentSlot {
    path: PathBuf,
    present: bool,
}

impl SegmentSlot {
    fn present(path: &Path) -> Self {
        SegmentSlot {
            path: path.to_path_buf(),
            present: true,
        }
    }
}

/// The chunks a run of missing segments held.
#[derive(Debug, Clone)]
struct SegmentGap {
    first_chunk: u64,
    count: u64,
    segments: Vec<PathBuf>,
}

/// The runs of consecutive missing slots, as index ranges.
fn missing_runs(slots: &[SegmentSlot]) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        if slot.present {
            continue;
        }
        match runs.last_mut() {
            Some(run) if run.end == i => run.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

/// Most entries in one stand-in table section (the crate takes up to 4,000,000).
const PLACEHOLDER_TABLE_ENTRIES: u64 = 1 << 21;

/// A stand-in for a missing EWF v1 segment: a file header with its number and table
/// sections declaring `chunks` entries in all, without the entries (never read: reads of
/// those chunks are refused first). The crate then numbers the chunks of later segments
/// as they were.
fn placeholder_segment(number: u16, chunks: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&EVF_SIGNATURE);
    bytes.push(1);
    bytes.extend_from_slice(&number.to_le_bytes());
    bytes.extend_from_slice(&[0, 0]);
    let mut left = chunks;
    while left > 0 {
        let count = left.min(PLACEHOLDER_TABLE_ENTRIES);
        left -= count;
        let at = bytes.len() as u64;
        let section = (SECTION_DESCRIPTOR_SIZE + 24) as u64;
        let next = if left > 0 { at + section } else { 0 };
        let mut desc = [0u8; SECTION_DESCRIPTOR_SIZE];
        desc[..5].copy_from_slice(b"table");
        desc[16..24].copy_from_slice(&next.to_le_bytes());
        desc[24..32].copy_from_slice(&section.to_le_bytes());
        let sum = ewf::sections::adler32(&desc[..72]);
        desc[72..76].copy_from_slice(&sum.to_le_bytes());
        bytes.extend_from_slice(&desc);
        let mut header = [0u8; 24];
        header[..4].copy_from_slice(&(count as u32).to_le_bytes());
        let sum = ewf::sections::adler32(&header[..20]);
        header[20..24].copy_from_slice(&sum.to_le_bytes());
        bytes.extend_from_slice(&header);
    }
    bytes
}

/// Call into the `ewf` crate, turning a panic on data it did not expect (a malformed
/// image) into an error message like its own errors: no input may bring the scan down.
fn guarded<T>(call: impl FnOnce() -> ewf::Result<T>) -> Result<T, String> {
    match crate::guard::call(call) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(what) => Err(format!("malformed EWF data ({what})")),
    }
}

/// Does the file start with an EWF segment signature?
fn is_ewf_segment(path: &Path) -> bool {
    read_head(path).is_ok_and(|head| {
        let sig = head.get(..8).unwrap_or_default();
        [EVF_SIGNATURE, EVF2_SIGNATURE]
            .iter()
            .any(|s| s[..] == *sig)
    })
}

/// An Expert Witness image (E01, or EWF2 Ex01) with all its segments, read through the
/// `ewf` crate.
///
/// Completeness is checked when opening, because the crate alone does not handle an
/// incomplete set well: it finds segments by name and refuses a numbering gap (as bare
/// numbers), and with the *last* segments missing it opens fine and fails only when a
/// read reaches the missing chunks. Here the segments are listed by name (`.E01`..`.E99`,
/// `.EAA`..`.EZZ`, `.FAA`..); the last one present must close with a `done` section (a
/// `next` section means more segments followed). One run of missing segments after the
/// first is read around (see [`EwfImage::from_slots`]); anything else missing is
/// [`ImageError::MissingSegment`] naming the file. The chunk table must cover the media
/// size.
///
/// Damage: the crate (0.4.10) checks none of the EWF v1 checksums. It reports a chunk
/// whose deflate stream does not decode, but it stops inflating once a chunk's worth of
/// bytes is out, so the stream's Adler-32 is never checked; it ignores the Adler-32 stored
/// after an uncompressed chunk; and it trusts section descriptors and chunk tables, so a
/// damaged entry count shifts every later chunk onto another chunk's (valid) data. So,
/// for EWF v1:
/// - opening checks every section descriptor's and table header's Adler-32 (an
///   [`ImageError::Ewf`] naming the segment and offset);
/// - before a chunk is first used, the entries of its chunk table and the chunk itself
///   are checked against their stored Adler-32 (for a compressed chunk, the zlib trailer
///   that ends its bytes); a mismatch is an [`ImageError::EwfRead`] at the chunk's offset.
///   [`EwfImage::set_verify_checksums`] turns this per-chunk check off.
///
/// EWF2 (Ex01) is read as the crate reads it, without these checks. A panic inside the
/// crate on malformed data (it has one on a forged table base offset) becomes an error.
/// Largest E01 chunk accepted (EnCase and ewfacquire write 32 KiB; the format allows
/// more, nothing real comes near this).
const MAX_EWF_CHUNK: u64 = 64 << 20;

pub struct EwfImage {
    reader: ewf::EwfReader,
    /// The first segment, named in errors.
    path: PathBuf,
    /// Every segment of the set in order, a missing one under the name it would have.
    segments: Vec<PathBuf>,
    /// Our own handles on the segments present, for reading chunk checksums (EWF v1
    /// only); `None` for a missing segment.
    segment_files: Vec<Option<File>>,
    /// Chunks that were in missing segments: reads there fail, the rest is read.
    gaps: Vec<SegmentGap>,
    v2: bool,
    size: u64,
    chunk_size: u64,
    /// Check each chunk's Adler-32 before its first use (EWF v1).
    verify: bool,
    /// One bit per chunk: checked and found good.
    verified: Vec<AtomicU64>,
    /// The chunk tables in chunk order, and whether each one's entries were checked.
    tables: Vec<TableSection>,
    tables_verified: Vec<AtomicBool>,
}

impl EwfImage {
    /// Open the E01 that `path` (any of its segments) belongs to, with all its segments.
    pub fn open(path: &Path) -> Result<EwfImage, ImageError> {
        let head = read_head(path)?;
        let sig = head.get(..8).unwrap_or_default();
        let v2 = sig == EVF2_SIGNATURE;
        if sig == LVF_SIGNATURE || sig == LEF2_SIGNATURE {
            return Err(ImageError::Unsupported {
                path: path.to_path_buf(),
                message: "an L01 logical evidence file holds files, not a disk image".into(),
            });
        }
        if !v2 && sig != EVF_SIGNATURE {
            return Err(ImageError::Ewf {
                path: path.to_path_buf(),
                message: "no EWF signature".into(),
            });
        }
        let slots = Self::discover(path, v1_segment_number(&head))?;
        Self::from_slots(slots)
    }

    /// The segments of the set `path` belongs to, in order, a missing one under the name
    /// it would have.
    fn discover(path: &Path, header_number: Option<u32>) -> Result<Vec<SegmentSlot>, ImageError> {
        let naming = path
            .extension()
            .and_then(OsStr::to_str)
            .and_then(|ext| EwfNaming::of(ext, header_number));
        let (Some(naming), Some(stem)) = (naming, path.file_stem()) else {
            // Not named like a segment (`disk.img` holding EWF): the only segment we
            // can find. A set continued elsewhere shows as a `next` section.
            return Ok(vec![SegmentSlot::present(path)]);
        };
        let dir = parent_dir(path);
        let mut found: BTreeMap<u32, PathBuf> = BTreeMap::new();
        for file in sibling_files(dir)? {
            if file.file_stem() != Some(stem) {
                continue;
            }
            if let Some(n) = file
                .extension()
                .and_then(OsStr::to_str)
                .and_then(|e| naming.number(e))
                // `disk.raw` beside `disk.E01` parses as a letter-form segment name:
                // only files that are EWF segments themselves count.
                && is_ewf_segment(&file)
            {
                found.insert(n, file);
            }
        }
        if let Some(n) = path
            .extension()
            .and_then(OsStr::to_str)
            .and_then(|e| naming.number(e))
        {
            found.entry(n).or_insert_with(|| path.to_path_buf());
        }
        let mut slots = Vec::with_capacity(found.len());
        let mut expect = 1u32;
        for (n, p) in found {
            while expect < n {
                match Self::missing(dir, stem, naming, expect, path) {
                    ImageError::MissingSegment { expected } => slots.push(SegmentSlot {
                        path: expected,
                        present: false,
                    }),
                    other => return Err(other),
                }
                expect += 1;
            }
            slots.push(SegmentSlot::present(&p));
            expect = expect.saturating_add(1);
        }
        Ok(slots)
    }

    fn missing(dir: &Path, stem: &OsStr, naming: EwfNaming, n: u32, given: &Path) -> ImageError {
        match naming.ext(n) {
            Some(ext) => ImageError::MissingSegment {
                expected: with_extension(dir, stem, &ext),
            },
            None => ImageError::Ewf {
                path: given.to_path_buf(),
                message: format!("segment {n} is missing"),
            },
        }
    }

    /// Open the given segment files (all of them, in order).
    pub fn from_paths(paths: &[PathBuf]) -> Result<EwfImage, ImageError> {
        Self::from_slots(paths.iter().map(|p| SegmentSlot::present(p)).collect())
    }

    /// Open a set of segments, some perhaps missing. EWF v1 can do without one run of
    /// missing segments (in the middle or at the end) when the first segment is there:
    /// its volume section gives the chunk count, so the missing run held exactly the
    /// chunks the others do not, and every later chunk keeps its place. The crate gets a
    /// stand-in for each missing segment ([`placeholder_segment`]); reads of the missing
    /// chunks fail with [`ImageError::InMissingSegment`] before they reach it.
    fn from_slots(mut slots: Vec<SegmentSlot>) -> Result<EwfImage, ImageError> {
        let Some(first) = slots.first().cloned() else {
            return Err(ImageError::Ewf {
                path: PathBuf::new(),
                message: "no segment files".into(),
            });
        };
        if !first.present {
            // The first segment holds the volume section: nothing can be placed.
            return Err(ImageError::MissingSegment {
                expected: first.path,
            });
        }
        let first = first.path;
        let ewf_err = |message: String| ImageError::Ewf {
            path: first.clone(),
            message,
        };
        let head = read_head(&first)?;
        let v2 = head.get(..8) == Some(&EVF2_SIGNATURE[..]);
        if v2 {
            if let Some(missing) = slots.iter().find(|s| !s.present) {
                return Err(ImageError::MissingSegment {
                    expected: missing.path.clone(),
                });
            }
            let paths: Vec<PathBuf> = slots.iter().map(|s| s.path.clone()).collect();
            // The crate reads EWF2 from paths only.
            let reader = guarded(|| ewf::EwfReader::open_segments(&paths)).map_err(ewf_err)?;
            return Self::checked(reader, slots, Vec::new(), Vec::new(), Vec::new(), true);
        }

        // Walk every segment present: numbering, section checksums, chunk tables.
        let mut walks: Vec<Option<(File, File, SegmentWalk)>> = Vec::with_capacity(slots.len());
        for (i, slot) in slots.iter().enumerate() {
            if !slot.present {
                walks.push(None);
                continue;
            }
            let path = &slot.path;
            let head = read_head(path)?;
            let number = v1_segment_number(&head).ok_or_else(|| ImageError::Ewf {
                path: path.clone(),
                message: "segment file has no EWF signature".into(),
            })?;
            if u32::try_from(i + 1).ok() != Some(number) {
                return Err(ImageError::Ewf {
                    path: path.clone(),
                    message: format!(
                        "segment file {} of the set says it is segment {number}",
                        i + 1
                    ),
                });
            }
            let (file, len) = open_sized(path)?;
            let own = file.try_clone().map_err(|source| ImageError::Open {
                path: path.clone(),
                source,
            })?;
            let walk = walk_v1_segment(&own, len, path)?;
            walks.push(Some((file, own, walk)));
        }
        // A last segment closing with `next`: more segments followed.
        if let (Some(slot), Some(Some((_, _, walk)))) = (slots.last(), walks.last())
            && walk.last.as_deref() == Some("next")
        {
            let number = u32::try_from(slots.len()).unwrap_or(u32::MAX);
            match Self::next_missing(&slot.path, number) {
                ImageError::MissingSegment { expected } => {
                    slots.push(SegmentSlot {
                        path: expected,
                        present: false,
                    });
                    walks.push(None);
                }
                other => return Err(other),
            }
        }
        let runs = missing_runs(&slots);
        let missing_chunks = match runs.as_slice() {
            [] => 0,
            [run] => Self::chunks_of_missing_run(&slots, &walks, run)?,
            [_, second, ..] => {
                return Err(ImageError::Ewf {
                    path: first.clone(),
                    message: format!(
                        "segments are missing in more than one place (also {}): the chunks                          between the gaps cannot be placed",
                        slots[second.start].path.display()
                    ),
                });
            }
        };

        let mut sources = Vec::with_capacity(slots.len());
        let mut segment_files = Vec::with_capacity(slots.len());
        let mut tables = Vec::new();
        let mut gaps = Vec::new();
        let mut next_chunk = 0u64;
        for (i, walk) in walks.into_iter().enumerate() {
            match walk {
                Some((file, own, walk)) => {
                    for (entries_offset, count, has_checksum) in walk.tables {
                        tables.push(TableSection {
                            first_chunk: next_chunk,
                            count,
                            segment: i,
                            entries_offset,
                            has_checksum,
                        });
                        next_chunk = next_chunk.saturating_add(count);
                    }
                    segment_files.push(Some(own));
                    sources.push(ewf::SegmentSource::File(file));
                }
                None => {
                    // The whole run's chunks go to its first segment's stand-in.
                    let run_start = runs.first().is_some_and(|r| r.start == i);
                    let count = if run_start { missing_chunks } else { 0 };
                    if run_start {
                        gaps.push(SegmentGap {
                            first_chunk: next_chunk,
                            count,
                            segments: runs[0].clone().map(|j| slots[j].path.clone()).collect(),
                        });
                        next_chunk = next_chunk.saturating_add(count);
                    }
                    let number = u16::try_from(i + 1)
                        .map_err(|_| ewf_err(format!("segment number {} out of range", i + 1)))?;
                    segment_files.push(None);
                    sources.push(ewf::SegmentSource::Mem(
                        placeholder_segment(number, count).into(),
                    ));
                }
            }
        }
        // The lazy chunk table keeps table sections paged instead of ~32 bytes per
        // chunk resident (1 GiB for a 1 TB image); the bytes read are the same.
        let reader =
            guarded(|| ewf::EwfReader::open_lazy_from_sources(sources)).map_err(ewf_err)?;
        Self::checked(reader, slots, segment_files, tables, gaps, false)
    }

    /// How many chunks a run of missing segments held: the volume's chunk count less the
    /// chunks of the segments present. Refused where it cannot be known or believed.
    fn chunks_of_missing_run(
        slots: &[SegmentSlot],
        walks: &[Option<(File, File, SegmentWalk)>],
        run: &std::ops::Range<usize>,
    ) -> Result<u64, ImageError> {
        let missing = || ImageError::MissingSegment {
            expected: slots[run.start].path.clone(),
        };
        let Some(Some((_, _, first))) = walks.first() else {
            return Err(missing());
        };
        let present: u64 = walks
            .iter()
            .flatten()
            .flat_map(|(_, _, w)| w.tables.iter().map(|t| t.1))
            .sum();
        let declared = first.volume_chunks.ok_or_else(missing)?;
        let held = declared.checked_sub(present).ok_or_else(|| ImageError::Ewf {
            path: slots[0].path.clone(),
            message: format!(
                "the volume section declares {declared} chunks, fewer than the {present} the                  segments present hold"
            ),
        })?;
        // Segments after the run must stay where they were: the run cannot have held more
        // chunks than segments of the size of the largest present one could list.
        if run.end < slots.len() {
            let largest = slots
                .iter()
                .filter(|s| s.present)
                .filter_map(|s| std::fs::metadata(&s.path).ok())
                .map(|m| m.len())
                .max()
                .unwrap_or(0);
            if held > (run.len() as u64).saturating_mul(largest / 4) {
                return Err(ImageError::Ewf {
                    path: slots[0].path.clone(),
                    message: format!(
                        "{held} chunks would have been in the missing segment(s) from {}, more                          than they could hold",
                        slots[run.start].path.display()
                    ),
                });
            }
        }
        Ok(held)
    }

    /// The checks on sizes the evidence declares, then the image.
    fn checked(
        reader: ewf::EwfReader,
        slots: Vec<SegmentSlot>,
        segment_files: Vec<Option<File>>,
        tables: Vec<TableSection>,
        gaps: Vec<SegmentGap>,
        v2: bool,
    ) -> Result<EwfImage, ImageError> {
        let first = slots[0].path.clone();
        let size = reader.total_size();
        let chunk_size = reader.chunk_size();
        // Sizes from the evidence bound what is allocated: a chunk buffer (and each
        // decompressed chunk) is `chunk_size`; per-chunk bookkeeping is the chunks the
        // segments present list.
        if chunk_size == 0 || chunk_size > MAX_EWF_CHUNK {
            return Err(ImageError::Ewf {
                path: first.clone(),
                message: format!(
                    "chunk size {chunk_size} bytes is not plausible (EnCase writes 32 KiB, at \
                     most {MAX_EWF_CHUNK}): refused"
                ),
            });
        }
        let stored: u64 = slots
            .iter()
            .filter(|s| s.present)
            .filter_map(|s| std::fs::metadata(&s.path).ok())
            .map(|m| m.len())
            .sum();
        let in_gaps: u64 = gaps.iter().map(|g| g.count).sum();
        let listed = (reader.chunk_count() as u64).saturating_sub(in_gaps);
        // Every chunk needs at least a 4-byte table entry somewhere in the segments.
        if listed > stored / 4 {
            return Err(ImageError::Ewf {
                path: first.clone(),
                message: format!(
                    "{} chunks declared, more than {stored} bytes of segments can hold",
                    reader.chunk_count()
                ),
            });
        }
        let covered = (reader.chunk_count() as u64).saturating_mul(chunk_size);
        if covered < size {
            let last = slots.last().map_or(&first, |s| &s.path);
            return Err(ImageError::Ewf {
                path: first.clone(),
                message: format!(
                    "chunk table covers {covered} of {size} bytes: segments after {} may \
                     be missing",
                    last.display()
                ),
            });
        }
        // The bitmap of checked chunks reaches the last chunk present (a run missing at
        // the end costs nothing, whatever count the volume declares).
        let present_end = if gaps.is_empty() {
            reader.chunk_count() as u64
        } else {
            tables
                .iter()
                .map(|t| t.first_chunk + t.count)
                .max()
                .unwrap_or(0)
        };
        let words = usize::try_from(present_end.div_ceil(64)).unwrap_or(usize::MAX);
        Ok(EwfImage {
            reader,
            path: first,
            segments: slots.into_iter().map(|s| s.path).collect(),
            segment_files,
            gaps,
            v2,
            size,
            chunk_size: chunk_size.max(1),
            verify: !v2,
            verified: (0..words).map(|_| AtomicU64::new(0)).collect(),
            tables_verified: tables.iter().map(|_| AtomicBool::new(false)).collect(),
            tables,
        })
    }

    /// The missing run that held `chunk`, if any.
    fn gap_of(&self, chunk: u64) -> Option<&SegmentGap> {
        self.gaps
            .iter()
            .find(|g| chunk >= g.first_chunk && chunk - g.first_chunk < g.count)
    }

    /// Check the entries of the table holding `chunk` against their stored Adler-32,
    /// once per table.
    fn verify_table(&self, chunk: u64) -> Result<(), ImageError> {
        let i = self
            .tables
            .partition_point(|t| t.first_chunk.saturating_add(t.count) <= chunk);
        let (Some(table), Some(done)) = (self.tables.get(i), self.tables_verified.get(i)) else {
            return Ok(());
        };
        if done.load(Ordering::Relaxed) || !table.has_checksum {
            return Ok(());
        }
        let (Some(Some(file)), Some(path)) = (
            self.segment_files.get(table.segment),
            self.segments.get(table.segment),
        ) else {
            return Ok(());
        };
        let len =
            usize::try_from(table.count.saturating_mul(4).saturating_add(4)).unwrap_or(usize::MAX);
        let mut entries = vec![0u8; len];
        let got = pread_full(file, &mut entries, table.entries_offset).map_err(|source| {
            ImageError::Io {
                path: path.clone(),
                offset: chunk.saturating_mul(self.chunk_size),
                source,
            }
        })?;
        let body = len.saturating_sub(4);
        if got < len || ewf::sections::adler32(&entries[..body]) != le_u32(&entries, body) {
            return Err(ImageError::EwfRead {
                path: path.clone(),
                offset: chunk.saturating_mul(self.chunk_size),
                message: format!(
                    "the chunk table at offset {} fails its checksum: the segment is damaged",
                    table.entries_offset
                ),
            });
        }
        done.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Check chunk checksums before use (the default for EWF v1), or not.
    pub fn set_verify_checksums(&mut self, verify: bool) {
        self.verify = verify && !self.v2;
    }

    fn is_verified(&self, chunk: u64) -> bool {
        let word = usize::try_from(chunk / 64).ok();
        word.and_then(|w| self.verified.get(w))
            .is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (chunk % 64)) != 0)
    }

    fn mark_verified(&self, chunk: u64) {
        if let Some(w) = usize::try_from(chunk / 64)
            .ok()
            .and_then(|w| self.verified.get(w))
        {
            w.fetch_or(1 << (chunk % 64), Ordering::Relaxed);
        }
    }

    /// Read chunk `chunk` whole and compare its Adler-32 with the one stored for it.
    fn verify_chunk(&self, chunk: u64) -> Result<(), ImageError> {
        let start = chunk.saturating_mul(self.chunk_size);
        let damaged = |message: String| ImageError::EwfRead {
            path: self.path.clone(),
            offset: start,
            message,
        };
        self.verify_table(chunk)?;
        let index = usize::try_from(chunk).map_err(|_| damaged("chunk index overflow".into()))?;
        let len = clamp_len(
            usize::try_from(self.chunk_size).unwrap_or(usize::MAX),
            self.size.saturating_sub(start),
        );
        let mut page = vec![0u8; len];
        guarded(|| self.reader.read_at(&mut page, start)).map_err(damaged)?;
        let (offset, stored_len, compressed, segment) =
            guarded(|| self.reader.debug_chunk(index)).map_err(damaged)?;
        let Some(Some(file)) = self.segment_files.get(segment) else {
            return Ok(());
        };
        let segment_path = self.segments.get(segment).unwrap_or(&self.path);
        let read_tail = |at: u64, buf: &mut [u8]| -> Result<bool, ImageError> {
            let got = pread_full(file, buf, at).map_err(|source| ImageError::Io {
                path: segment_path.clone(),
                offset: start,
                source,
            })?;
            Ok(got == buf.len())
        };
        let sum = ewf::sections::adler32(&page);
        // A writer may compress or store the last chunk padded to a full chunk.
        let padded_sum = || {
            let mut full = page.clone();
            full.resize(usize::try_from(self.chunk_size).unwrap_or(0), 0);
            ewf::sections::adler32(&full)
        };
        let ok = if compressed {
            // The zlib trailer (big-endian Adler-32) closes the chunk's bytes. The crate
            // knows a compressed chunk's exact length from where the next one starts;
            // where it does not (it then assumes a whole chunk), there is nothing to check.
            if stored_len == self.chunk_size || stored_len < 6 {
                true
            } else {
                // Tolerate a few bytes of padding after the stream.
                let tail_len = stored_len.min(16);
                let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
                if !read_tail(offset.saturating_add(stored_len - tail_len), &mut tail)? {
                    return Err(damaged(format!(
                        "chunk {chunk} runs past the end of {}",
                        segment_path.display()
                    )));
                }
                let found = |s: u32| tail.windows(4).any(|w| w == s.to_be_bytes());
                found(sum) || found(padded_sum())
            }
        } else {
            let mut stored = [0u8; 4];
            let at_data_end = read_tail(offset.saturating_add(len as u64), &mut stored)?
                && u32::from_le_bytes(stored) == sum;
            at_data_end
                || (read_tail(offset.saturating_add(self.chunk_size), &mut stored)?
                    && u32::from_le_bytes(stored) == padded_sum())
        };
        if !ok {
            return Err(damaged(format!(
                "chunk {chunk} ({}, {} offset {offset}) fails its Adler-32 check: the image \
                 data is damaged",
                if compressed { "compressed" } else { "stored" },
                segment_path.display()
            )));
        }
        self.mark_verified(chunk);
        Ok(())
    }

    /// The last segment ends with `next`: segment `number + 1` should follow.
    fn next_missing(path: &Path, number: u32) -> ImageError {
        let naming = path
            .extension()
            .and_then(OsStr::to_str)
            .and_then(|ext| EwfNaming::of(ext, Some(number)));
        match (naming, path.file_stem()) {
            (Some(naming), Some(stem)) => Self::missing(
                parent_dir(path),
                stem,
                naming,
                number.saturating_add(1),
                path,
            ),
            _ => ImageError::Ewf {
                path: path.to_path_buf(),
                message: format!(
                    "segment {number} ends with a 'next' section, but segment {} is not there",
                    number.saturating_add(1)
                ),
            },
        }
    }

    /// The segment files present, in order.
    pub fn segment_paths(&self) -> Vec<PathBuf> {
        if self.v2 {
            // EWF2 opens only complete sets, read through the crate's own handles.
            return self.segments.clone();
        }
        self.segments
            .iter()
            .zip(&self.segment_files)
            .filter(|(_, file)| file.is_some())
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The underlying reader, for metadata, stored hashes and acquisition errors.
    pub fn reader(&self) -> &ewf::EwfReader {
        &self.reader
    }
}

impl ImageSource for EwfImage {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let want = clamp_len(buf.len(), self.size.saturating_sub(offset));
        let mut done = 0usize;
        // Chunk by chunk, so an error names the chunk that failed.
        while done < want {
            let pos = offset.saturating_add(done as u64);
            let in_chunk = self.chunk_size - pos % self.chunk_size;
            let n = clamp_len(want - done, in_chunk);
            let chunk = pos / self.chunk_size;
            if let Some(gap) = self.gap_of(chunk) {
                return Err(ImageError::InMissingSegment {
                    segment: gap.segments.first().cloned().unwrap_or_default(),
                    offset: pos,
                });
            }
            if self.verify && !self.is_verified(chunk) {
                self.verify_chunk(chunk)?;
            }
            let Some(dest) = buf.get_mut(done..done + n) else {
                break;
            };
            let got = guarded(|| self.reader.read_at(dest, pos)).map_err(|message| {
                ImageError::EwfRead {
                    path: self.path.clone(),
                    offset: pos,
                    message,
                }
            })?;
            if got < n {
                return Err(ImageError::EwfRead {
                    path: self.path.clone(),
                    offset: pos.saturating_add(got as u64),
                    message: format!("short read: {got} of {n} bytes"),
                });
            }
            done += n;
        }
        Ok(done)
    }

    fn describe(&self) -> String {
        let n = self.segments.len();
        let missing: usize = self.gaps.iter().map(|g| g.segments.len()).sum();
        format!(
            "{} ({n} segment{}{})",
            if self.v2 { "Ex01" } else { "E01" },
            if n == 1 { "" } else { "s" },
            if missing > 0 {
                format!(", {missing} missing")
            } else {
                String::new()
            }
        )
    }

    fn files(&self) -> Vec<PathBuf> {
        self.segment_paths().to_vec()
    }

    fn known_gaps(&self) -> Vec<(String, String)> {
        self.gaps
            .iter()
            .map(|gap| {
                let names: Vec<String> = gap
                    .segments
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                let start = gap.first_chunk.saturating_mul(self.chunk_size);
                let end = (gap.first_chunk + gap.count)
                    .saturating_mul(self.chunk_size)
                    .min(self.size);
                let what = if gap.count == 0 || start >= end {
                    "missing, but it held none of the image's data (the other segments hold \
                     every chunk): nothing is lost"
                        .to_string()
                } else {
                    format!(
                        "missing: image bytes {start}..{end} ({} chunks) cannot be read; the \
                         rest of the image is scanned, and what lies there is named in warnings \
                         as reads fail",
                        gap.count
                    )
                };
                (format!("segment {}", names.join(", ")), what)
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------

/// Open by content: an EWF signature is an [`EwfImage`] (with all its segments); a name
/// ending in a number of three or more digits (`.001`) with sibling segments is a
/// [`SplitRawImage`] (a gap in the set is an error); anything else is a [`RawImage`].
pub fn open_image(path: &Path) -> Result<Box<dyn ImageSource>, ImageError> {
    let head = read_head(path)?;
    let sig = head.get(..8).unwrap_or_default();
    if [EVF_SIGNATURE, EVF2_SIGNATURE, LVF_SIGNATURE, LEF2_SIGNATURE]
        .iter()
        .any(|s| s[..] == *sig)
    {
        return Ok(Box::new(EwfImage::open(path)?));
    }
    if let Some(paths) = SplitRawImage::discover(path)?
        && paths.len() > 1
    {
        return Ok(Box::new(SplitRawImage::from_paths(&paths)?));
    }
    Ok(Box::new(RawImage::open(path)?))
}

// ---------------------------------------------------------------------------------------
// Memory, Slice, Reader
// ---------------------------------------------------------------------------------------

/// An image held in memory (tests, small extracted volumes).
pub struct MemoryImage {
    data: Vec<u8>,
    label: String,
}

impl MemoryImage {
    pub fn new(data: Vec<u8>) -> MemoryImage {
        MemoryImage {
            data,
            label: "memory".into(),
        }
    }

    pub fn with_label(data: Vec<u8>, label: impl Into<String>) -> MemoryImage {
        MemoryImage {
            data,
            label: label.into(),
        }
    }
}

impl ImageSource for MemoryImage {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let src = self.data.get(start..).unwrap_or_default();
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        Ok(n)
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

/// A window of another source, e.g. a partition at (offset, length). Reads past its end
/// are short. A window reaching past the end of its source (a partition table describing
/// more disk than the image holds) is cut to what the source has: see
/// [`Slice::is_truncated`]. Errors name offsets in the underlying source.
pub struct Slice<S> {
    inner: S,
    offset: u64,
    len: u64,
    declared_len: u64,
}

impl<S: ImageSource> Slice<S> {
    pub fn new(inner: S, offset: u64, len: u64) -> Slice<S> {
        let available = inner.size().saturating_sub(offset);
        Slice {
            inner,
            offset,
            len: len.min(available),
            declared_len: len,
        }
    }

    /// Where the window starts in the underlying source.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The length asked for, before cutting to the source's size.
    pub fn declared_len(&self) -> u64 {
        self.declared_len
    }

    /// True when the source ends before the window does.
    pub fn is_truncated(&self) -> bool {
        self.len < self.declared_len
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: ImageSource> ImageSource for Slice<S> {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let want = clamp_len(buf.len(), self.len.saturating_sub(offset));
        if want == 0 {
            return Ok(0);
        }
        // offset < len <= inner.size() - self.offset: no overflow.
        let Some(dest) = buf.get_mut(..want) else {
            return Ok(0);
        };
        self.inner.read_at(self.offset.saturating_add(offset), dest)
    }

    fn describe(&self) -> String {
        format!(
            "{} bytes {}..{}",
            self.inner.describe(),
            self.offset,
            self.offset.saturating_add(self.len)
        )
    }

    fn files(&self) -> Vec<PathBuf> {
        self.inner.files()
    }
}

/// `std::io::Read + Seek` over an [`ImageSource`], with its own cursor (several readers
/// may share one source). Errors are `io::Error`s wrapping the [`ImageError`].
pub struct ImageReader<'a> {
    source: &'a dyn ImageSource,
    position: u64,
}

impl<'a> ImageReader<'a> {
    pub fn new(source: &'a dyn ImageSource) -> ImageReader<'a> {
        ImageReader {
            source,
            position: 0,
        }
    }

    pub fn position(&self) -> u64 {
        self.position
    }
}

impl Read for ImageReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.source.read_at(self.position, buf)?;
        self.position = self.position.saturating_add(n as u64);
        Ok(n)
    }
}

impl Seek for ImageReader<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.source.size().checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        match target {
            Some(p) => {
                self.position = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the image or past 2^64",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_runs_are_told_apart() {
        let slots = |present: &[bool]| -> Vec<SegmentSlot> {
            present
                .iter()
                .map(|&present| SegmentSlot {
                    path: PathBuf::new(),
                    present,
                })
                .collect()
        };
        assert!(missing_runs(&slots(&[true, true])).is_empty());
        assert_eq!(
            missing_runs(&slots(&[true, false, false, true])),
            vec![(1..3)]
        );
        // Two runs: the chunks of segment 3 could sit anywhere between them.
        assert_eq!(
            missing_runs(&slots(&[true, false, true, false])),
            [1..2, 3..4]
        );
    }

    #[test]
    fn placeholder_segments_declare_their_chunks_in_checksummed_sections() {
        let bytes = placeholder_segment(7, PLACEHOLDER_TABLE_ENTRIES + 5);
        assert_eq!(v1_segment_number(&bytes), Some(7));
        let desc = SECTION_DESCRIPTOR_SIZE;
        let first = FILE_HEADER_SIZE as usize;
        let second = first + desc + 24;
        assert_eq!(bytes.len(), second + desc + 24);
        for (at, count) in [(first, PLACEHOLDER_TABLE_ENTRIES), (second, 5)] {
            assert_eq!(&bytes[at..at + 5], b"table");
            assert_eq!(
                ewf::sections::adler32(&bytes[at..at + 72]),
                le_u32(&bytes, at + 72)
            );
            assert_eq!(u64::from(le_u32(&bytes, at + desc)), count);
        }
        assert_eq!(le_u64(&bytes, first + 16), second as u64, "chained");
        assert_eq!(le_u64(&bytes, second + 16), 0, "last");
        assert_eq!(placeholder_segment(2, 0).len(), FILE_HEADER_SIZE as usize);
    }

    #[test]
    fn ewf_names_round_trip() {
        let naming = EwfNaming::of("E01", Some(1)).unwrap();
        assert!(EwfNaming::of("E01", Some(2)).is_none());
        assert!(EwfNaming::of("raw", Some(1)).is_none());
        for (n, ext) in [
            (1, "E01"),
            (99, "E99"),
            (100, "EAA"),
            (101, "EAB"),
            (126, "EBA"),
            (775, "EZZ"),
            (776, "FAA"),
        ] {
            assert_eq!(naming.ext(n).as_deref(), Some(ext), "{n}");
            assert_eq!(naming.number(ext), Some(n), "{ext}");
        }
        assert_eq!(naming.number("E00"), None);
        assert_eq!(naming.number("F01"), None);
        assert_eq!(naming.number("D01"), None);
        let lower = EwfNaming::of("e01", None).unwrap();
        assert_eq!(lower.ext(2).as_deref(), Some("e02"));
        assert_eq!(lower.ext(100).as_deref(), Some("eaa"));
        assert_eq!(lower.number("E02"), Some(2));
        // Given a letter-form segment, the header's number places it.
        let from_fab = EwfNaming::of("FAB", Some(777)).unwrap();
        assert_eq!(from_fab.ext(1).as_deref(), Some("E01"));
        let v2 = EwfNaming::of("Ex01", None).unwrap();
        assert_eq!(v2.ext(3).as_deref(), Some("Ex03"));
        assert_eq!(v2.number("Ex02"), Some(2));
        assert_eq!(v2.number("E02"), None);
        assert!(EwfNaming::of("raw", None).is_none());
        assert!(EwfNaming::of("E1", None).is_none());
    }

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
    fn memory_and_slice_bounds() {
        let mem = MemoryImage::new((0..100u8).collect());
        let slice = Slice::new(&mem, 10, 20);
        assert_eq!(slice.size(), 20);
        let mut buf = [0u8; 50];
        assert_eq!(slice.read_at(0, &mut buf).unwrap(), 20);
        assert_eq!(buf[0], 10);
        assert_eq!(buf[19], 29);
        assert_eq!(slice.read_at(15, &mut buf).unwrap(), 5);
        assert_eq!(buf[..5], [25, 26, 27, 28, 29]);
        assert_eq!(slice.read_at(20, &mut buf).unwrap(), 0);
        assert_eq!(slice.read_at(u64::MAX, &mut buf).unwrap(), 0);
        assert!(!slice.is_truncated());
        let cut = Slice::new(&mem, 90, 20);
        assert!(cut.is_truncated());
        assert_eq!(cut.size(), 10);
        assert_eq!(cut.read_at(5, &mut buf).unwrap(), 5);
        assert_eq!(buf[..5], [95, 96, 97, 98, 99]);
        let beyond = Slice::new(&mem, 1000, 20);
        assert_eq!(beyond.size(), 0);
        assert_eq!(beyond.read_at(0, &mut buf).unwrap(), 0);
        let nested = Slice::new(Slice::new(&mem, 10, 50), 5, 10);
        assert_eq!(nested.read_at(0, &mut buf[..1]).unwrap(), 1);
        assert_eq!(buf[0], 15);
    }

    #[test]
    fn reader_seeks_and_reads() {
        let mem = MemoryImage::new((0..=255u8).collect());
        let mut r = ImageReader::new(&mem);
        assert_eq!(r.seek(SeekFrom::End(-6)).unwrap(), 250);
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(all, [250, 251, 252, 253, 254, 255]);
        assert_eq!(r.seek(SeekFrom::Current(-256)).unwrap(), 0);
        assert!(r.seek(SeekFrom::Current(-1)).is_err());
        assert_eq!(r.position(), 0);
        assert_eq!(r.seek(SeekFrom::Start(1000)).unwrap(), 1000);
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
        let mut b = [0u8; 2];
        r.seek(SeekFrom::Start(7)).unwrap();
        r.read_exact(&mut b).unwrap();
        assert_eq!(b, [7, 8]);
    }

    #[test]
    fn raw_image_reads_and_refuses_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk.raw");
        std::fs::write(&path, (0..=255u8).cycle().take(5000).collect::<Vec<_>>()).unwrap();
        let raw = RawImage::open(&path).unwrap();
        assert_eq!(raw.size(), 5000);
        let mut buf = [0u8; 10];
        assert_eq!(raw.read_at(4995, &mut buf).unwrap(), 5);
        assert_eq!(buf[..5], [(4995 % 256) as u8, 132, 133, 134, 135]);
        assert_eq!(raw.read_at(5000, &mut buf).unwrap(), 0);
        assert_eq!(raw.describe(), "raw");
        // Shrunk after opening: an error naming the offset, not a silent short read.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(3000)
            .unwrap();
        let err = raw.read_at(2995, &mut buf).unwrap_err();
        assert_eq!(err.offset(), Some(3000), "{err}");
        assert!(matches!(
            RawImage::open(dir.path()),
            Err(ImageError::Unsupported { .. })
        ));
        assert!(matches!(
            RawImage::open(&dir.path().join("absent")),
            Err(ImageError::Open { .. })
        ));
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

    #[test]
    fn io_error_keeps_the_image_error() {
        let err = ImageError::Io {
            path: "x".into(),
            offset: 42,
            source: io::Error::new(io::ErrorKind::UnexpectedEof, "boom"),
        };
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::UnexpectedEof);
        let inner = io_err
            .get_ref()
            .and_then(|e| e.downcast_ref::<ImageError>())
            .unwrap();
        assert_eq!(inner.offset(), Some(42));
        assert!(io_err.to_string().contains("offset 42"));
    }
}
