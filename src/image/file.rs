//! Evidence files on the host as the image readers use them: opened read-only and
//! sized, read at an offset (a short count only at the file's end), and the files
//! beside a segment, where the rest of its set is.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::source::ImageError;
use crate::host::open_evidence_file;

/// Fill `buf` from `file` at `offset`; the count is short only at the file's end.
pub(super) fn pread_full(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
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
pub(super) fn open_sized(path: &Path) -> Result<(File, u64), ImageError> {
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

pub(super) fn ended_early(path: &Path, offset: u64, got: usize, wanted: usize) -> ImageError {
    ImageError::Io {
        path: path.to_path_buf(),
        offset,
        source: io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("file ended early: {got} of {wanted} bytes (changed since it was opened?)"),
        ),
    }
}

pub(super) fn with_extension(dir: &Path, stem: &OsStr, ext: &str) -> PathBuf {
    let mut name = stem.to_os_string();
    name.push(".");
    name.push(ext);
    dir.join(name)
}

/// The folder a path's siblings are in (`.` for a bare file name).
pub(super) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Regular files in `dir` (following links), by name.
pub(super) fn sibling_files(dir: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let entries = crate::host::walk::list_dir(dir).map_err(|source| ImageError::Open {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for (name, _) in entries {
        let path = dir.join(name);
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            files.push(path);
        }
    }
    Ok(files)
}
