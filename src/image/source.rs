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
//!
//! This module has what every source shares: the [`ImageSource`] trait, [`ImageError`],
//! [`open_image`] (the format by content), and the sources that are not files
//! ([`MemoryImage`], [`Slice`]) and [`ImageReader`]. The formats are in
//! [`super::raw`], [`super::split`], [`super::e01`], and the virtual disks in
//! [`super::vhd`], [`super::vhdx`] and [`super::vmdk`] (parents and extents found beside
//! the file that names them: [`ImageError::MissingParent`], [`ImageError::MissingExtent`]).

use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::e01::EwfImage;
use super::e01::sections::read_head;
use super::raw::RawImage;
use super::split::SplitRawImage;

/// A read-only byte source of known size, read at any offset (no shared cursor, so it
/// can be used from several threads: `&self`).
pub trait ImageSource: Send + Sync {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Read up to `buf.len()` bytes at `offset`; short only at the end of the image
    /// (0 at or past the end). Errors name the offset.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError>;
    /// [`Self::read_at`] for a large sequential read whose bytes will not be asked for
    /// again soon (the `$MFT` walk): a cache hands it straight to its source instead of
    /// copying it through blocks it would keep.
    fn read_through_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        self.read_at(offset, buf)
    }
    /// What the source is, e.g. `raw`, `split raw (3 segments)`, `E01 (2 segments)`.
    fn describe(&self) -> String;
    /// The files the source reads (segments in order), for the scan manifest.
    fn files(&self) -> Vec<PathBuf> {
        Vec::new()
    }
    /// Parts of the image known to be unreadable from the moment it was opened (a
    /// missing E01 segment; reads there fail), and what is known from the moment it was
    /// opened to make the bytes read doubtful (a VHDX log not replayed, a damaged copy
    /// of a header read from the other copy, a snapshot's parent changed since), as
    /// (location, what) for warnings.
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
            fn read_through_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
                (**self).read_through_at(offset, buf)
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
    /// A virtual disk's structure (VHD, VHDX, VMDK) is damaged or not one this module
    /// reads: `offset` is in the file `path` (a header, a table, a descriptor line).
    #[error("{format} {}: at file offset {offset}: {message}", path.display())]
    Structure {
        format: &'static str,
        path: PathBuf,
        offset: u64,
        message: String,
    },
    /// Bytes of a virtual disk cannot be read: `offset` is in the disk, `file_offset` in
    /// `path` (the child, a parent or an extent) where they were to come from.
    #[error(
        "{format} {}: cannot read at image offset {offset} (file offset {file_offset}): {message}",
        path.display()
    )]
    VirtualRead {
        format: &'static str,
        path: PathBuf,
        offset: u64,
        file_offset: u64,
        message: String,
    },
    /// A differencing disk or snapshot whose parent is not beside it.
    #[error(
        "{} is a differencing disk (snapshot) and its parent {} is not there: the parent \
         holds the data the child does not (copy it beside the child)",
        child.display(),
        expected.display()
    )]
    MissingParent { child: PathBuf, expected: PathBuf },
    /// A VMDK descriptor lists an extent file that is not there.
    #[error(
        "VMDK descriptor {} lists the extent {}, which is not there (the image is incomplete)",
        descriptor.display(),
        expected.display()
    )]
    MissingExtent {
        descriptor: PathBuf,
        expected: PathBuf,
    },
}

impl ImageError {
    /// The image offset the error is about, where it is about one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ImageError::Io { offset, .. }
            | ImageError::EwfRead { offset, .. }
            | ImageError::InMissingSegment { offset, .. }
            | ImageError::VirtualRead { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

impl From<ImageError> for io::Error {
    /// Keeps the `ImageError` inside (`get_ref`/`into_inner` + downcast give it back).
    fn from(err: ImageError) -> io::Error {
        let kind = match &err {
            ImageError::Io { source, .. } | ImageError::Open { source, .. } => source.kind(),
            ImageError::MissingSegment { .. }
            | ImageError::MissingParent { .. }
            | ImageError::MissingExtent { .. } => io::ErrorKind::NotFound,
            ImageError::EwfRead { .. }
            | ImageError::VirtualRead { .. }
            | ImageError::Structure { .. } => io::ErrorKind::InvalidData,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

/// `buf_len` limited to `remaining` bytes, without a lossy cast.
pub(super) fn clamp_len(buf_len: usize, remaining: u64) -> usize {
    usize::try_from(remaining).map_or(buf_len, |r| r.min(buf_len))
}

// ---------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------

/// Open by content: an EWF signature is an [`EwfImage`] (with all its segments); a VHD
/// (its footer at the end, or the copy at the start), a VHDX (`vhdxfile`) or a VMDK
/// (`KDMV`, or a descriptor file) is read as the disk it holds, with its parents and
/// extents ([`super::vhd`], [`super::vhdx`], [`super::vmdk`]); a name ending in a number
/// of three or more digits (`.001`) with sibling segments is a [`SplitRawImage`] (a gap
/// in the set is an error); anything else is a [`RawImage`].
pub fn open_image(path: &Path) -> Result<Box<dyn ImageSource>, ImageError> {
    open_in_chain(path, &[])
}

/// [`open_image`] for a file that is the parent of the files in `chain` (child first):
/// a loop or a chain too deep is refused.
pub(super) fn open_in_chain(
    path: &Path,
    chain: &[PathBuf],
) -> Result<Box<dyn ImageSource>, ImageError> {
    let head = read_head(path)?;
    if crate::signature::is_ewf(&head) {
        return Ok(Box::new(EwfImage::open(path)?));
    }
    if let Some(disk) = super::virtual_disk::open_by_content(path, chain)? {
        return Ok(disk);
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

    fn read_through_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let want = clamp_len(buf.len(), self.len.saturating_sub(offset));
        let Some(dest) = buf.get_mut(..want).filter(|d| !d.is_empty()) else {
            return Ok(0);
        };
        self.inner
            .read_through_at(self.offset.saturating_add(offset), dest)
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
