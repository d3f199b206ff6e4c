//! What the virtual-disk readers (VHD, VHDX, VMDK) share: the container file (opened
//! read-only, its structures read through a small cache, its data read uncached), the
//! read loop that turns a disk offset into pieces (file bytes, zeros, the parent), and
//! finding a parent or an extent *beside* the file that names it.

use std::path::{Path, PathBuf};

use super::cache::BlockCache;
use super::file::parent_dir;
use super::raw::RawImage;
use super::source::{ImageError, ImageSource, clamp_len};

/// Structures (tables, bitmaps, grain tables) are read through a cache of this many
/// bytes per container file, in blocks of [`META_BLOCK`]: bounded whatever the disk size.
const META_CAPACITY: usize = 2 << 20;
/// The same for each extent of a VMDK split in many files (a 2 TB disk in 2 GB extents
/// has a thousand): 256 KiB each.
const EXTENT_META_CAPACITY: usize = 256 << 10;
const META_BLOCK: usize = 4096;

/// Most levels of parents (differencing disks, snapshots) followed.
pub(super) const MAX_CHAIN: usize = 64;

/// A virtual disk's file, opened read-only.
pub(super) struct Container {
    format: &'static str,
    meta: BlockCache<RawImage>,
}

impl Container {
    pub(super) fn open(path: &Path, format: &'static str) -> Result<Container, ImageError> {
        Container::with_cache(path, format, META_CAPACITY)
    }

    /// One extent of a VMDK listed in a descriptor, with a smaller structure cache.
    pub(super) fn open_extent(path: &Path, format: &'static str) -> Result<Container, ImageError> {
        Container::with_cache(path, format, EXTENT_META_CAPACITY)
    }

    fn with_cache(
        path: &Path,
        format: &'static str,
        capacity: usize,
    ) -> Result<Container, ImageError> {
        let raw = RawImage::open(path)?;
        Ok(Container {
            format,
            meta: BlockCache::with_capacity(raw, META_BLOCK, capacity),
        })
    }

    pub(super) fn path(&self) -> &Path {
        self.meta.inner().path()
    }

    pub(super) fn len(&self) -> u64 {
        self.meta.inner().size()
    }

    /// An error about the file's structure at `offset` in the file.
    pub(super) fn bad(&self, offset: u64, message: impl Into<String>) -> ImageError {
        ImageError::Structure {
            format: self.format,
            path: self.path().to_path_buf(),
            offset,
            message: message.into(),
        }
    }

    /// An error reading the disk at `disk_offset`, whose bytes were to come from
    /// `file_offset` in this file.
    pub(super) fn read_failed(
        &self,
        disk_offset: u64,
        file_offset: u64,
        message: impl Into<String>,
    ) -> ImageError {
        ImageError::VirtualRead {
            format: self.format,
            path: self.path().to_path_buf(),
            offset: disk_offset,
            file_offset,
            message: message.into(),
        }
    }

    /// Fill `buf` from `offset` in the file; the reason when it cannot be (the file ends
    /// first, or the read fails).
    fn exact(&self, offset: u64, buf: &mut [u8], cached: bool) -> Result<(), String> {
        let got = if cached {
            self.meta.read_at(offset, buf)
        } else {
            self.meta.inner().read_at(offset, buf)
        }
        .map_err(|e| e.to_string())?;
        if got < buf.len() {
            return Err(format!(
                "the file ends at byte {} but {} bytes were to be read at {offset} (truncated?)",
                self.len(),
                buf.len()
            ));
        }
        Ok(())
    }

    /// A structure of the file (header, table entries, bitmap): read through the cache;
    /// an error names `what` and the file offset.
    pub(super) fn structure(
        &self,
        offset: u64,
        buf: &mut [u8],
        what: &str,
    ) -> Result<(), ImageError> {
        self.exact(offset, buf, true)
            .map_err(|why| self.bad(offset, format!("cannot read the {what}: {why}")))
    }

    /// A structure of `len` bytes, refused beyond `cap` (a damaged size field must not
    /// allocate without bound).
    pub(super) fn structure_vec(
        &self,
        offset: u64,
        len: u64,
        cap: u64,
        what: &str,
    ) -> Result<Vec<u8>, ImageError> {
        if len > cap {
            return Err(self.bad(
                offset,
                format!("the {what} would be {len} bytes, more than the {cap} accepted"),
            ));
        }
        let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
        self.structure(offset, &mut buf, what)?;
        Ok(buf)
    }

    /// Disk data from the file (uncached: the image's own block cache is above the
    /// disk), for the disk bytes at `disk_offset`.
    pub(super) fn data(
        &self,
        disk_offset: u64,
        file_offset: u64,
        buf: &mut [u8],
    ) -> Result<(), ImageError> {
        self.exact(file_offset, buf, false)
            .map_err(|why| self.read_failed(disk_offset, file_offset, why))
    }

    /// Disk metadata read while reading data (a sector bitmap, a grain table), cached;
    /// an error names the disk offset being read.
    pub(super) fn lookup(
        &self,
        disk_offset: u64,
        file_offset: u64,
        buf: &mut [u8],
        what: &str,
    ) -> Result<(), ImageError> {
        self.exact(file_offset, buf, true).map_err(|why| {
            self.read_failed(
                disk_offset,
                file_offset,
                format!("cannot read the {what}: {why}"),
            )
        })
    }
}

/// Read `buf` at `offset` of a disk of `size` bytes, piece by piece: `piece(offset,
/// dest)` fills the start of `dest` (at least one byte, as far as one kind of backing
/// goes) and says how much it filled. Short only at the end of the disk.
pub(super) fn read_pieces(
    size: u64,
    offset: u64,
    buf: &mut [u8],
    mut piece: impl FnMut(u64, &mut [u8]) -> Result<usize, ImageError>,
) -> Result<usize, ImageError> {
    let want = clamp_len(buf.len(), size.saturating_sub(offset));
    let mut done = 0usize;
    while done < want {
        let Some(dest) = buf.get_mut(done..want) else {
            break;
        };
        let n = piece(offset.saturating_add(done as u64), dest)?;
        if n == 0 {
            break;
        }
        done = done.saturating_add(n).min(want);
    }
    Ok(done)
}

/// Bytes of the parent at `offset`; what the parent does not have (it is smaller) reads
/// as zeros, as the formats say.
pub(super) fn from_parent(
    parent: Option<&dyn ImageSource>,
    offset: u64,
    dest: &mut [u8],
) -> Result<usize, ImageError> {
    let got = match parent {
        Some(p) => p.read_at(offset, dest)?,
        None => 0,
    };
    if let Some(rest) = dest.get_mut(got..) {
        rest.fill(0);
    }
    Ok(dest.len())
}

/// The last component of a path as Windows or Unix writes it (`C:\VMs\base.vhd` ->
/// `base.vhd`, `./base.vmdk` -> `base.vmdk`).
pub(super) fn file_name_of(stored: &str) -> Option<&str> {
    let name = stored
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(stored)
        .trim_matches(char::from(0))
        .trim();
    let name = name.rsplit(':').next().unwrap_or(name);
    (!name.is_empty() && name != "." && name != "..").then_some(name)
}

/// A file named `name` in the folder of `beside`: the exact name first, then the same
/// name in another case (Windows names ignore case; copies made elsewhere may not keep
/// it). `Err` is the path where the file was expected.
pub(super) fn find_beside(beside: &Path, name: &str) -> Result<PathBuf, PathBuf> {
    let dir = parent_dir(beside);
    let exact = dir.join(name);
    if exact.is_file() {
        return Ok(exact);
    }
    if let Ok(entries) = crate::host::walk::list_dir(dir) {
        for (candidate, _) in entries {
            let path = dir.join(&candidate);
            if candidate.to_string_lossy().eq_ignore_ascii_case(name) && path.is_file() {
                return Ok(path);
            }
        }
    }
    Err(exact)
}

/// The first of `names` (in order of preference) found beside `child`; `Err` names where
/// the first was expected.
pub(super) fn find_first_beside(child: &Path, names: &[String]) -> Result<PathBuf, ImageError> {
    let mut expected = None;
    for name in names {
        let Some(file) = file_name_of(name) else {
            continue;
        };
        match find_beside(child, file) {
            Ok(found) => return Ok(found),
            Err(path) => {
                expected.get_or_insert(path);
            }
        }
    }
    Err(ImageError::MissingParent {
        child: child.to_path_buf(),
        expected: expected.unwrap_or_else(|| parent_dir(child).join("<unnamed parent>")),
    })
}

/// The chain of files opened so far (child first), to refuse a parent that loops back
/// or a chain deeper than [`MAX_CHAIN`].
pub(super) fn check_chain(
    chain: &[PathBuf],
    next: &Path,
    child: &Container,
) -> Result<(), ImageError> {
    if chain.len() >= MAX_CHAIN {
        return Err(child.bad(
            0,
            format!("more than {MAX_CHAIN} levels of parents: refused"),
        ));
    }
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let next = canon(next);
    if chain.iter().any(|p| canon(p) == next) {
        return Err(child.bad(
            0,
            format!(
                "its parent {} is already in the chain (a loop)",
                next.display()
            ),
        ));
    }
    Ok(())
}

/// Big-endian fields (VHD is big-endian), bounds-checked like [`crate::bytes`].
pub(super) fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    crate::bytes::array(b, at).map(u32::from_be_bytes)
}

pub(super) fn u64_be(b: &[u8], at: usize) -> Option<u64> {
    crate::bytes::array(b, at).map(u64::from_be_bytes)
}

/// A GUID as Windows writes it (first three fields little-endian), upper case, no braces.
pub(super) fn guid_text(g: &[u8; 16]) -> String {
    let d1 = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    let d2 = u16::from_le_bytes([g[4], g[5]]);
    let d3 = u16::from_le_bytes([g[6], g[7]]);
    format!(
        "{d1:08X}-{d2:04X}-{d3:04X}-{}-{}",
        crate::bytes::hex(&g[8..10]).to_uppercase(),
        crate::bytes::hex(&g[10..16]).to_uppercase()
    )
}

/// Size in words: `1 MiB`, `2 MiB`, `64 KiB`, `512 bytes`.
pub(super) fn size_words(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_guids() {
        assert_eq!(file_name_of("C:\\VMs\\base.vhd"), Some("base.vhd"));
        assert_eq!(file_name_of(".\\base.vhdx"), Some("base.vhdx"));
        assert_eq!(file_name_of("../x/base.vmdk"), Some("base.vmdk"));
        assert_eq!(file_name_of("base.vmdk"), Some("base.vmdk"));
        assert_eq!(file_name_of("C:base.vhd"), Some("base.vhd"));
        assert_eq!(file_name_of("C:\\"), None);
        assert_eq!(file_name_of(""), None);
        let g = [
            0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6, 0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD,
            0x4A, 0x08,
        ];
        assert_eq!(guid_text(&g), "2DC27766-F623-4200-9D64-115E9BFD4A08");
        assert_eq!(size_words(2 << 20), "2 MiB");
        assert_eq!(size_words(65536), "64 KiB");
        assert_eq!(size_words(1000), "1000 bytes");
    }

    #[test]
    fn finds_beside_ignoring_case() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Base.VHD"), b"x").unwrap();
        let child = dir.path().join("child.vhd");
        assert_eq!(
            find_beside(&child, "base.vhd").unwrap(),
            dir.path().join("Base.VHD")
        );
        assert_eq!(
            find_beside(&child, "other.vhd").unwrap_err(),
            dir.path().join("other.vhd")
        );
        match find_first_beside(&child, &["C:\\x\\gone.vhd".into(), "base.vhd".into()]) {
            Ok(p) => assert_eq!(p, dir.path().join("Base.VHD")),
            Err(e) => panic!("{e}"),
        }
        match find_first_beside(&child, &["C:\\x\\gone.vhd".into()]) {
            Err(ImageError::MissingParent { expected, .. }) => {
                assert_eq!(expected, dir.path().join("gone.vhd"))
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn pieces_stop_at_the_end() {
        let mut buf = [9u8; 10];
        let n = read_pieces(25, 20, &mut buf, |_, dest| {
            let n = dest.len().min(2);
            dest[..n].fill(1);
            Ok(n)
        })
        .unwrap();
        assert_eq!(n, 5);
        assert_eq!(buf[..6], [1, 1, 1, 1, 1, 9]);
        assert_eq!(read_pieces(25, 30, &mut buf, |_, _| Ok(1)).unwrap(), 0);
    }
}
