//! A raw (dd) image or a device: one file.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::file::{ended_early, open_sized, pread_full};
use super::source::{ImageError, ImageSource, clamp_len};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
