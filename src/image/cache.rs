//! A bounded LRU block cache over an [`ImageSource`].
//!
//! File-system code reads small pieces all over an image (boot sector, MFT records,
//! index buffers, runs of data), often the same ones again. `BufReader` would drop its
//! buffer on every seek; this cache keeps the most recently used aligned blocks instead.
//!
//! - A miss reads one whole aligned block (the last block of the image is short) and
//!   keeps it; reads spanning blocks are served block by block.
//! - At most `capacity / block_size` blocks (at least one) are kept, whatever the image
//!   size. A miss is read outside the lock, so threads missing different blocks read in
//!   parallel; each such thread holds one block in flight until it is stored, so memory
//!   stays within capacity plus one block per reading thread.
//! - Errors from the source pass through unchanged (they name the offset) and nothing is
//!   cached for a failed read.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::source::{ImageError, ImageSource};

/// 64 KiB.
pub const DEFAULT_BLOCK_SIZE: usize = 64 * 1024;
/// 32 MiB.
pub const DEFAULT_CAPACITY: usize = 32 * 1024 * 1024;

/// Counters, for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Block lookups served from the cache.
    pub hits: u64,
    /// Block lookups that read the source.
    pub misses: u64,
    /// Blocks dropped to make room.
    pub evictions: u64,
    /// Blocks held now.
    pub cached_blocks: usize,
    /// Bytes held now.
    pub cached_bytes: usize,
    /// The most blocks ever held at once.
    pub peak_blocks: usize,
}

struct Entry {
    data: Vec<u8>,
    /// Recency stamp: a key of `Lru::recency`.
    stamp: u64,
}

#[derive(Default)]
struct Lru {
    blocks: HashMap<u64, Entry>,
    /// Stamp -> block index, oldest first.
    recency: BTreeMap<u64, u64>,
    clock: u64,
    stats: CacheStats,
}

impl Lru {
    fn tick(&mut self) -> u64 {
        self.clock = self.clock.wrapping_add(1);
        self.clock
    }

    /// Copy from a cached block into `dest`, marking it used; `None` on a miss.
    fn copy_from(&mut self, index: u64, within: usize, dest: &mut [u8]) -> Option<usize> {
        let stamp = self.tick();
        let entry = self.blocks.get_mut(&index)?;
        self.recency.remove(&entry.stamp);
        entry.stamp = stamp;
        self.recency.insert(stamp, index);
        self.stats.hits += 1;
        Some(copy_out(&entry.data, within, dest))
    }

    fn insert(&mut self, index: u64, data: Vec<u8>, max_blocks: usize) {
        if self.blocks.contains_key(&index) {
            // Another thread read the same block meanwhile.
            return;
        }
        while self.blocks.len() >= max_blocks {
            let Some((_, oldest)) = self.recency.pop_first() else {
                break;
            };
            if let Some(old) = self.blocks.remove(&oldest) {
                self.stats.cached_bytes = self.stats.cached_bytes.saturating_sub(old.data.len());
                self.stats.evictions += 1;
            }
        }
        let stamp = self.tick();
        self.stats.cached_bytes += data.len();
        self.recency.insert(stamp, index);
        self.blocks.insert(index, Entry { data, stamp });
        self.stats.cached_blocks = self.blocks.len();
        self.stats.peak_blocks = self.stats.peak_blocks.max(self.blocks.len());
    }
}

/// Copy `block[within..]` into `dest` as far as both go.
fn copy_out(block: &[u8], within: usize, dest: &mut [u8]) -> usize {
    let src = block.get(within..).unwrap_or_default();
    let n = src.len().min(dest.len());
    dest[..n].copy_from_slice(&src[..n]);
    n
}

/// A bounded, thread-safe LRU cache of aligned blocks of `S`.
pub struct BlockCache<S: ImageSource> {
    source: S,
    block_size: u64,
    max_blocks: usize,
    lru: Mutex<Lru>,
}

impl<S: ImageSource> BlockCache<S> {
    /// 64 KiB blocks, 32 MiB.
    pub fn new(source: S) -> BlockCache<S> {
        BlockCache::with_capacity(source, DEFAULT_BLOCK_SIZE, DEFAULT_CAPACITY)
    }

    /// `block_size` bytes per block (at least 1), keeping at most `capacity` bytes of
    /// blocks (at least one block).
    pub fn with_capacity(source: S, block_size: usize, capacity: usize) -> BlockCache<S> {
        let block_size = block_size.max(1);
        BlockCache {
            source,
            block_size: block_size as u64,
            max_blocks: (capacity / block_size).max(1),
            lru: Mutex::new(Lru::default()),
        }
    }

    pub fn block_size(&self) -> usize {
        usize::try_from(self.block_size).unwrap_or(usize::MAX)
    }

    /// The most blocks kept at once.
    pub fn max_blocks(&self) -> usize {
        self.max_blocks
    }

    pub fn stats(&self) -> CacheStats {
        self.lock().stats
    }

    /// Drop every cached block (the counters stay).
    pub fn clear(&self) {
        let mut lru = self.lock();
        lru.blocks.clear();
        lru.recency.clear();
        lru.stats.cached_blocks = 0;
        lru.stats.cached_bytes = 0;
    }

    pub fn inner(&self) -> &S {
        &self.source
    }

    pub fn into_inner(self) -> S {
        self.source
    }

    fn lock(&self) -> MutexGuard<'_, Lru> {
        // A panic elsewhere while holding the lock leaves consistent data (every update
        // is completed before anything that could panic): keep using it.
        self.lru.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read block `index` from the source (whole, or short at the end of the image).
    fn load(&self, index: u64) -> Result<Vec<u8>, ImageError> {
        let start = index.saturating_mul(self.block_size);
        let len = self
            .block_size
            .min(self.source.size().saturating_sub(start));
        let mut data = vec![0u8; usize::try_from(len).unwrap_or(0)];
        let got = self.source.read_at(start, &mut data)?;
        data.truncate(got);
        Ok(data)
    }
}

impl<S: ImageSource> ImageSource for BlockCache<S> {
    fn size(&self) -> u64 {
        self.source.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let remaining = self.source.size().saturating_sub(offset);
        let want = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
        let mut done = 0usize;
        while done < want {
            let pos = offset.saturating_add(done as u64);
            let index = pos / self.block_size;
            let within = usize::try_from(pos % self.block_size).unwrap_or(0);
            let Some(dest) = buf.get_mut(done..want) else {
                break;
            };
            let hit = self.lock().copy_from(index, within, dest);
            let n = match hit {
                Some(n) => n,
                None => match self.load(index) {
                    Ok(data) => {
                        let n = copy_out(&data, within, dest);
                        let mut lru = self.lock();
                        lru.stats.misses += 1;
                        lru.insert(index, data, self.max_blocks);
                        n
                    }
                    // A bad sector somewhere in the block must not cost the rest of
                    // it: read just the bytes asked for, uncached, so only a read that
                    // touches the bad range fails (and names its offset).
                    Err(_) => {
                        let block_end = (index + 1).saturating_mul(self.block_size);
                        let len = usize::try_from(block_end - pos)
                            .map_or(dest.len(), |l| l.min(dest.len()));
                        self.source.read_at(pos, &mut dest[..len])?
                    }
                },
            };
            if n == 0 {
                // The source gave less than its size promised: stop short.
                break;
            }
            done += n;
        }
        Ok(done)
    }

    /// Straight to the source: the blocks of a large sequential read would only evict
    /// those kept for random reads, and cost a copy.
    fn read_through_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        self.source.read_through_at(offset, buf)
    }

    fn describe(&self) -> String {
        self.source.describe()
    }

    fn known_gaps(&self) -> Vec<(String, String)> {
        self.source.known_gaps()
    }

    fn files(&self) -> Vec<std::path::PathBuf> {
        self.source.files()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::source::MemoryImage;
    use std::sync::Mutex as StdMutex;

    /// Records every read the cache makes of its source.
    struct Recording {
        inner: MemoryImage,
        reads: StdMutex<Vec<(u64, usize)>>,
    }

    impl ImageSource for Recording {
        fn size(&self) -> u64 {
            self.inner.size()
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
            self.reads.lock().unwrap().push((offset, buf.len()));
            self.inner.read_at(offset, buf)
        }
        fn describe(&self) -> String {
            "recording".into()
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 131 % 253) as u8).collect()
    }

    #[test]
    fn misses_read_whole_aligned_blocks() {
        let bytes = data(1000);
        let cache = BlockCache::with_capacity(
            Recording {
                inner: MemoryImage::new(bytes.clone()),
                reads: StdMutex::new(Vec::new()),
            },
            100,
            300,
        );
        let mut buf = [0u8; 150];
        assert_eq!(cache.read_at(250, &mut buf).unwrap(), 150);
        assert_eq!(buf[..], bytes[250..400]);
        assert_eq!(
            *cache.inner().reads.lock().unwrap(),
            [(200, 100), (300, 100)]
        );
        // Hits now, and a read at the end is short with a short last block.
        assert_eq!(cache.read_at(300, &mut buf[..50]).unwrap(), 50);
        assert_eq!(cache.read_at(950, &mut buf).unwrap(), 50);
        assert_eq!(buf[..50], bytes[950..]);
        assert_eq!(cache.read_at(1000, &mut buf).unwrap(), 0);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 3));
        assert_eq!(stats.cached_blocks, 3);
        // The least recently used block (200) goes first.
        cache.read_at(0, &mut buf[..1]).unwrap();
        cache.read_at(300, &mut buf[..1]).unwrap();
        let reads_before = cache.inner().reads.lock().unwrap().len();
        cache.read_at(200, &mut buf[..1]).unwrap();
        assert_eq!(cache.inner().reads.lock().unwrap().len(), reads_before + 1);
        assert!(cache.stats().peak_blocks <= 3);
    }

    #[test]
    fn tiny_and_odd_sizes() {
        let bytes = data(97);
        let cache = BlockCache::with_capacity(MemoryImage::new(bytes.clone()), 0, 0);
        assert_eq!(cache.block_size(), 1);
        assert_eq!(cache.max_blocks(), 1);
        let mut buf = vec![0u8; 200];
        assert_eq!(cache.read_at(0, &mut buf).unwrap(), 97);
        assert_eq!(buf[..97], bytes[..]);
        let empty = BlockCache::new(MemoryImage::new(Vec::new()));
        assert_eq!(empty.read_at(0, &mut buf).unwrap(), 0);
        assert_eq!(empty.read_at(u64::MAX, &mut buf).unwrap(), 0);
    }
}
