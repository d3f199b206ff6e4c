//! A snapshot as a read-only volume: an [`ImageSource`] of the snapshot's volume size
//! whose bytes are the volume as it was when the snapshot was taken, so the NTFS reader
//! reads it as it reads the live volume.

use std::path::PathBuf;
use std::sync::Arc;

use super::block::BLOCK;
use super::set::{SECTOR, SECTORS, ShadowSet, Source};
use crate::image::source::{ImageError, ImageSource};
use crate::time::Timestamp;

pub struct SnapshotView {
    set: Arc<ShadowSet>,
    /// 0: the oldest store.
    index: usize,
    size: u64,
    label: String,
}

impl SnapshotView {
    pub(super) fn new(set: Arc<ShadowSet>, index: usize, size: u64, label: String) -> SnapshotView {
        SnapshotView {
            set,
            index,
            size,
            label,
        }
    }

    /// The snapshot's number (1: the oldest).
    pub fn number(&self) -> usize {
        self.index + 1
    }

    /// The blocks where this snapshot may differ from the live volume other than by
    /// unused blocks read as zeros (see [`ShadowSet::copied_blocks`]).
    pub fn copied_blocks(&self) -> Vec<u64> {
        self.set.copied_blocks(self.index)
    }

    /// When the snapshot was taken.
    pub fn created(&self) -> Option<Timestamp> {
        match self.set.stores.get(self.index) {
            Some(Ok(store)) => store.snapshot.created(),
            _ => None,
        }
    }

    fn error(&self, offset: u64, file_offset: u64, message: String) -> ImageError {
        ImageError::VirtualRead {
            format: "VSS snapshot",
            path: PathBuf::from(&self.label),
            offset,
            file_offset,
            message,
        }
    }

    /// Fills `buf` (inside one 16 KiB block) with the snapshot's bytes at `offset`.
    fn read_in_block(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        let sectors = self
            .set
            .sectors(self.index, offset)
            .map_err(|e| self.error(offset, offset, e.to_string()))?;
        let block = offset - offset % BLOCK;
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let k = ((at - block) / SECTOR) as usize;
            let within = (at - block) % SECTOR;
            // Extend over the following sectors that continue the same source.
            let mut end = k + 1;
            while end < SECTORS && continues(sectors[end - 1], sectors[end]) {
                end += 1;
            }
            let run_end = block + end as u64 * SECTOR;
            let len = clamp_len(buf.len() - done, run_end - at);
            let dest = &mut buf[done..done + len];
            match sectors[k] {
                Source::Zero => dest.fill(0),
                Source::Live(from) => self.fill(&*self.set.volume, at, from + within, dest)?,
                Source::Stored(from) => self.fill(&*self.set.storage, at, from + within, dest)?,
            }
            done += len;
        }
        Ok(())
    }

    fn fill(
        &self,
        source: &dyn ImageSource,
        offset: u64,
        from: u64,
        dest: &mut [u8],
    ) -> Result<(), ImageError> {
        let mut done = 0;
        while done < dest.len() {
            let n = source.read_at(from + done as u64, &mut dest[done..])?;
            if n == 0 {
                return Err(self.error(
                    offset,
                    from + done as u64,
                    "the bytes of the snapshot lie past the end of the volume they are in".into(),
                ));
            }
            done += n;
        }
        Ok(())
    }
}

/// `buf_len` limited to `remaining` bytes.
fn clamp_len(buf_len: usize, remaining: u64) -> usize {
    usize::try_from(remaining).map_or(buf_len, |r| r.min(buf_len))
}

/// Does sector source `b` follow `a` directly (the same volume, the next 512 bytes)?
fn continues(a: Source, b: Source) -> bool {
    match (a, b) {
        (Source::Zero, Source::Zero) => true,
        (Source::Live(x), Source::Live(y)) | (Source::Stored(x), Source::Stored(y)) => {
            x.checked_add(SECTOR) == Some(y)
        }
        _ => false,
    }
}

impl ImageSource for SnapshotView {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let want = clamp_len(buf.len(), self.size.saturating_sub(offset));
        let mut done = 0usize;
        while done < want {
            let at = offset + done as u64;
            let block_end = at - at % BLOCK + BLOCK;
            let len = clamp_len(want - done, block_end - at);
            self.read_in_block(at, &mut buf[done..done + len])?;
            done += len;
        }
        Ok(want)
    }

    fn describe(&self) -> String {
        self.label.clone()
    }

    fn files(&self) -> Vec<PathBuf> {
        self.set.volume.files()
    }
}
