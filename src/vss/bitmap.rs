//! Store bitmaps (blocks of record type 6): one bit per 16 KiB block of the volume, least
//! significant bit first; a set bit says the block was not in use when the snapshot was
//! taken (the current bitmap) or for the store before it (the previous bitmap).
//!
//! The bits are read from the volume when asked (one bitmap block, 16 KiB, is kept), so
//! memory does not grow with the volume: only the list of bitmap block offsets is held.

use std::sync::{Arc, Mutex};

use super::block::{BLOCK, HEADER_LEN, TYPE_BITMAP, read_block, walk_list};
use super::error::VssError;
use crate::image::source::ImageSource;

/// Bitmap bytes per block.
const PER_BLOCK: u64 = BLOCK - HEADER_LEN as u64;

pub struct Bitmap {
    source: Arc<dyn ImageSource>,
    on: &'static str,
    blocks: Vec<u64>,
    /// Bits that count: one per block of the snapshot's volume.
    bits: u64,
    cached: Mutex<Option<(usize, Vec<u8>)>>,
}

impl Bitmap {
    /// The bitmap whose first block is at `first` (0: none), for a volume of
    /// `volume_size` bytes.
    pub fn read(
        source: Arc<dyn ImageSource>,
        on: &'static str,
        store: &str,
        first: u64,
        volume_size: u64,
    ) -> Result<Option<Bitmap>, VssError> {
        if first == 0 {
            return Ok(None);
        }
        let mut blocks = Vec::new();
        walk_list(
            source.as_ref(),
            on,
            "bitmap",
            first,
            TYPE_BITMAP,
            &|offset, message| VssError::Store {
                store: store.to_string(),
                offset,
                message,
            },
            &mut |at, _| {
                blocks.push(at);
                Ok(())
            },
        )?;
        Ok(Some(Bitmap {
            source,
            on,
            blocks,
            bits: volume_size.div_ceil(BLOCK),
            cached: Mutex::new(None),
        }))
    }

    /// Is the bit of the 16 KiB block at volume offset `offset` set? Bits the bitmap does
    /// not hold are clear.
    pub fn is_set(&self, offset: u64) -> Result<bool, VssError> {
        Ok(self.get(offset)?.unwrap_or(false))
    }

    /// The bit of the 16 KiB block at volume offset `offset`, `None` when the bitmap does
    /// not hold it (past the volume, or past the bitmap's blocks).
    pub fn get(&self, offset: u64) -> Result<Option<bool>, VssError> {
        let bit = offset / BLOCK;
        if bit >= self.bits.next_multiple_of(8) {
            return Ok(None);
        }
        let byte = bit / 8;
        let Ok(index) = usize::try_from(byte / PER_BLOCK) else {
            return Ok(None);
        };
        let Some(&at) = self.blocks.get(index) else {
            return Ok(None);
        };
        let within = HEADER_LEN + (byte % PER_BLOCK) as usize;
        let set = |block: &[u8]| block.get(within).is_some_and(|v| v >> (bit % 8) & 1 == 1);
        {
            let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, block)) = cached.as_ref().filter(|(i, _)| *i == index) {
                return Ok(Some(set(block)));
            }
        }
        // Read without the lock: the source may read ahead on the thread pool, whose
        // workers can meanwhile run another read of this bitmap.
        let block = read_block(self.source.as_ref(), self.on, "bitmap", at)?;
        let value = set(&block);
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some((index, block));
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::source::MemoryImage;
    use crate::vss::guid::VSS_IDENTIFIER;

    #[test]
    fn bits_are_read_across_bitmap_blocks_lsb_first() {
        let mut data = vec![0u8; 4 * BLOCK as usize];
        for (at, next) in [(BLOCK, 3 * BLOCK), (3 * BLOCK, 0)] {
            let b = &mut data[at as usize..(at + BLOCK) as usize];
            b[..16].copy_from_slice(&VSS_IDENTIFIER.0);
            b[20..24].copy_from_slice(&TYPE_BITMAP.to_le_bytes());
            b[32..40].copy_from_slice(&at.to_le_bytes());
            b[40..48].copy_from_slice(&next.to_le_bytes());
        }
        // Block 1 (bit 1 of the first byte) and the first bit of the second bitmap block.
        data[BLOCK as usize + HEADER_LEN] = 0b10;
        data[3 * BLOCK as usize + HEADER_LEN] = 0b1;
        let volume_blocks = PER_BLOCK * 8 + 16;
        let source: Arc<dyn ImageSource> = Arc::new(MemoryImage::new(data));
        let bitmap = Bitmap::read(source, "volume", "s", BLOCK, volume_blocks * BLOCK)
            .unwrap()
            .unwrap();
        assert!(!bitmap.is_set(0).unwrap());
        assert!(bitmap.is_set(BLOCK).unwrap());
        assert!(bitmap.is_set(PER_BLOCK * 8 * BLOCK).unwrap());
        assert!(!bitmap.is_set((PER_BLOCK * 8 + 1) * BLOCK).unwrap());
        assert!(!bitmap.is_set(u64::MAX - BLOCK).unwrap());
        assert_eq!(bitmap.get(u64::MAX - BLOCK).unwrap(), None);
        assert_eq!(bitmap.get(0).unwrap(), Some(false));
        assert!(bitmap.is_set(BLOCK).unwrap());
    }
}
