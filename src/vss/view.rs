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

    /// Fills `buf` with the snapshot's bytes at `offset` (within its size), block by
    /// block: each block's sectors come from the live volume, a store or are zeros;
    /// runs of sectors that continue each other in the same volume, across blocks too,
    /// are read at once (`through`: past the source's cache, for a large sequential
    /// read such as the `$MFT` walk's).
    fn read_by(&self, offset: u64, buf: &mut [u8], through: bool) -> Result<(), ImageError> {
        // The run read next: (from a store, its offset there, where in `buf`, length).
        let mut pending: Option<(bool, u64, usize, usize)> = None;
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let sectors = self
                .set
                .sectors(self.index, at)
                .map_err(|e| self.error(at, at, e.to_string()))?;
            let block = at - at % BLOCK;
            let block_len = clamp_len(buf.len() - done, block + BLOCK - at);
            let mut in_block = 0usize;
            while in_block < block_len {
                let here = at + in_block as u64;
                let k = ((here - block) / SECTOR) as usize;
                let within = (here - block) % SECTOR;
                let mut end = k + 1;
                while end < SECTORS && continues(sectors[end - 1], sectors[end]) {
                    end += 1;
                }
                let len = clamp_len(block_len - in_block, block + end as u64 * SECTOR - here);
                let start = done + in_block;
                let (stored, from) = match sectors[k] {
                    Source::Zero => {
                        buf[start..start + len].fill(0);
                        in_block += len;
                        continue;
                    }
                    Source::Live(from) => (false, from + within),
                    Source::Stored(from) => (true, from + within),
                };
                match &mut pending {
                    Some((s, f, d, l))
                        if *s == stored
                            && f.checked_add(*l as u64) == Some(from)
                            && *d + *l == start =>
                    {
                        *l += len;
                    }
                    _ => {
                        if let Some(run) = pending.replace((stored, from, start, len)) {
                            self.fill_run(run, offset, buf, through)?;
                        }
                    }
                }
                in_block += len;
            }
            done += block_len;
        }
        if let Some(run) = pending {
            self.fill_run(run, offset, buf, through)?;
        }
        Ok(())
    }

    /// Reads one run of [`Self::read_by`] into its place in `buf`.
    fn fill_run(
        &self,
        (stored, from, start, len): (bool, u64, usize, usize),
        offset: u64,
        buf: &mut [u8],
        through: bool,
    ) -> Result<(), ImageError> {
        let source = if stored {
            &*self.set.storage
        } else {
            &*self.set.volume
        };
        let dest = &mut buf[start..start + len];
        self.fill(source, offset + start as u64, from, dest, through)
    }

    fn fill(
        &self,
        source: &dyn ImageSource,
        offset: u64,
        from: u64,
        dest: &mut [u8],
        through: bool,
    ) -> Result<(), ImageError> {
        let mut done = 0;
        while done < dest.len() {
            let at = from + done as u64;
            let n = if through {
                source.read_through_at(at, &mut dest[done..])?
            } else {
                source.read_at(at, &mut dest[done..])?
            };
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
        self.read_by(offset, &mut buf[..want], false)?;
        Ok(want)
    }

    fn read_through_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let want = clamp_len(buf.len(), self.size.saturating_sub(offset));
        self.read_by(offset, &mut buf[..want], true)?;
        Ok(want)
    }

    fn describe(&self) -> String {
        self.label.clone()
    }

    fn files(&self) -> Vec<PathBuf> {
        self.set.volume.files()
    }
}
