//! A VMDK hosted sparse extent (`KDMV`): monolithic sparse, one piece of a split sparse
//! disk, or stream-optimized (deflate-compressed grains behind markers).
//!
//! The header (512 bytes, little-endian) gives the capacity and grain size in sectors,
//! the grain directory (GD) and the grain table size. A grain's entry in its table
//! (GTE) is its sector in the file; 0 is a grain not in this extent (the parent's, or
//! zeros), 1 a grain of zeros. A GD whose offset is `GD_AT_END` (stream-optimized as
//! VMware writes it) is found in the footer, a copy of the header 1024 bytes before the
//! end of the file. A compressed grain starts with its marker: the grain's sector in the
//! disk (u64) and the compressed size (u32), then a zlib stream.
//!
//! Tables are read entry by entry through the container's cache, never whole. A read of
//! a whole grain (the block cache above reads whole blocks, a grain's size) inflates it
//! straight into place; for reads of part of a grain the last grains inflated are kept
//! (a few, each one grain). A grain's marker and compressed bytes are read together,
//! into a buffer each thread reuses, as is its inflater.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use crate::bytes::{u16_le, u32_le, u64_le};
use crate::image::container::Container;
use crate::image::source::ImageError;
use crate::signature::VMDK_SPARSE;

const GD_AT_END: u64 = u64::MAX;
const FLAG_COMPRESSED: u32 = 1 << 16;
const FLAG_MARKERS: u32 = 1 << 17;
const COMPRESS_DEFLATE: u16 = 1;
/// Largest grain accepted: 16 MiB (VMware writes 64 KiB).
const MAX_GRAIN_SECTORS: u64 = 32 * 1024;
/// Largest grain table accepted (VMware writes 512 entries).
const MAX_GTES: u32 = 1 << 16;
/// Grains kept inflated.
const INFLATED_KEPT: usize = 8;
/// Bytes read at a compressed grain's marker at first: the marker and, most often, all of
/// the compressed grain (the rest is read when it is longer).
const FIRST_READ: u64 = 16 * 1024;

thread_local! {
    /// This thread's buffer of compressed bytes, and its inflater.
    static SCRATCH: RefCell<(Vec<u8>, Option<flate2::Decompress>)> =
        const { RefCell::new((Vec::new(), None)) };
}

/// Where a grain's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grain {
    /// Not in this extent: the parent's, or zeros.
    Absent,
    Zero,
    /// Uncompressed at this file offset.
    At(u64),
    /// Compressed, its marker at this file offset.
    Compressed(u64),
}

#[derive(Debug, Clone)]
pub(super) struct SparseHeader {
    pub(super) version: u32,
    pub(super) flags: u32,
    /// Sectors.
    pub(super) capacity: u64,
    /// Sectors.
    pub(super) grain_size: u64,
    pub(super) descriptor_offset: u64,
    pub(super) descriptor_size: u64,
    pub(super) gtes_per_gt: u32,
    pub(super) gd_offset: u64,
    pub(super) unclean: bool,
    pub(super) compress: u16,
}

impl SparseHeader {
    pub(super) fn compressed(&self) -> bool {
        self.flags & FLAG_COMPRESSED != 0 || self.compress == COMPRESS_DEFLATE
    }
}

fn parse_header(b: &[u8]) -> Result<SparseHeader, String> {
    if !b.starts_with(VMDK_SPARSE) {
        return Err("no sparse extent header (\"KDMV\")".into());
    }
    let h = SparseHeader {
        version: u32_le(b, 4).unwrap_or(0),
        flags: u32_le(b, 8).unwrap_or(0),
        capacity: u64_le(b, 12).unwrap_or(0),
        grain_size: u64_le(b, 20).unwrap_or(0),
        descriptor_offset: u64_le(b, 28).unwrap_or(0),
        descriptor_size: u64_le(b, 36).unwrap_or(0),
        gtes_per_gt: u32_le(b, 44).unwrap_or(0),
        gd_offset: u64_le(b, 56).unwrap_or(0),
        unclean: b.get(72).is_some_and(|&u| u != 0),
        compress: u16_le(b, 77).unwrap_or(0),
    };
    if !(1..=3).contains(&h.version) {
        return Err(format!(
            "sparse extent version {} (1 to 3 are read)",
            h.version
        ));
    }
    if !h.grain_size.is_power_of_two() || h.grain_size > MAX_GRAIN_SECTORS {
        return Err(format!(
            "grain size {} sectors is not a power of two up to {MAX_GRAIN_SECTORS}",
            h.grain_size
        ));
    }
    if h.gtes_per_gt == 0 || h.gtes_per_gt > MAX_GTES {
        return Err(format!("{} entries per grain table", h.gtes_per_gt));
    }
    if h.capacity > (1u64 << 55) / 512 {
        return Err(format!("capacity {} sectors is not plausible", h.capacity));
    }
    if h.compressed() && h.compress != COMPRESS_DEFLATE {
        return Err(format!(
            "compression algorithm {} (1 = deflate)",
            h.compress
        ));
    }
    Ok(h)
}

/// A sparse extent file.
pub(super) struct SparseExtent {
    pub(super) file: Container,
    pub(super) header: SparseHeader,
    /// Byte offset of the grain directory.
    gd_at: u64,
    gd_entries: u64,
    inflated: Mutex<Vec<(u64, Arc<Vec<u8>>)>>,
}

impl SparseExtent {
    pub(super) fn open(file: Container) -> Result<SparseExtent, ImageError> {
        let mut b = [0u8; 512];
        file.structure(0, &mut b, "sparse extent header")?;
        let header = parse_header(&b).map_err(|why| file.bad(0, why))?;
        let mut gd_offset = header.gd_offset;
        if gd_offset == GD_AT_END {
            // The footer: a copy of the header with the real GD offset, 1024 bytes
            // before the end (then the end-of-stream marker).
            let at = file
                .len()
                .checked_sub(1024)
                .ok_or_else(|| file.bad(0, "the GD is at the end, but the file has no footer"))?;
            file.structure(at, &mut b, "footer")?;
            let footer = parse_header(&b).map_err(|why| {
                file.bad(
                    at,
                    format!("footer (the GD is at the end): {why} (truncated?)"),
                )
            })?;
            gd_offset = footer.gd_offset;
            if gd_offset == GD_AT_END {
                return Err(file.bad(at, "the footer does not say where the GD is"));
            }
        }
        let per_gt = u64::from(header.gtes_per_gt) * header.grain_size;
        let gd_entries = header.capacity.div_ceil(per_gt);
        let gd_at = gd_offset.saturating_mul(512);
        let fits = gd_entries
            .checked_mul(4)
            .and_then(|len| gd_at.checked_add(len))
            .is_some_and(|end| end <= file.len());
        if !fits {
            return Err(file.bad(
                0,
                format!(
                    "the grain directory ({gd_entries} entries at sector {gd_offset}) is not \
                     inside the file of {} bytes (truncated?)",
                    file.len()
                ),
            ));
        }
        Ok(SparseExtent {
            file,
            header,
            gd_at,
            gd_entries,
            inflated: Mutex::new(Vec::new()),
        })
    }

    pub(super) fn grain_bytes(&self) -> u64 {
        self.header.grain_size * 512
    }

    pub(super) fn capacity_bytes(&self) -> u64 {
        self.header.capacity * 512
    }

    /// The embedded descriptor's text, if the extent has one.
    pub(super) fn embedded_descriptor(&self) -> Result<Option<String>, ImageError> {
        let (at, size) = (self.header.descriptor_offset, self.header.descriptor_size);
        if at == 0 || size == 0 {
            return Ok(None);
        }
        let bytes = self.file.structure_vec(
            at.saturating_mul(512),
            size.saturating_mul(512),
            1 << 20,
            "embedded descriptor",
        )?;
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Ok(Some(String::from_utf8_lossy(&bytes[..end]).into_owned()))
    }

    /// Where grain `index` of this extent is.
    fn grain(&self, index: u64, disk_offset: u64) -> Result<Grain, ImageError> {
        let per_gt = u64::from(self.header.gtes_per_gt);
        let gdi = index / per_gt;
        if gdi >= self.gd_entries {
            return Ok(Grain::Absent);
        }
        let mut e = [0u8; 4];
        let gde_at = self.gd_at + gdi * 4;
        self.file
            .lookup(disk_offset, gde_at, &mut e, "grain directory entry")?;
        let gt = u64::from(u32::from_le_bytes(e));
        if gt == 0 {
            return Ok(Grain::Absent);
        }
        let gte_at = gt * 512 + (index % per_gt) * 4;
        self.file
            .lookup(disk_offset, gte_at, &mut e, "grain table entry")?;
        Ok(match u32::from_le_bytes(e) {
            0 => Grain::Absent,
            1 => Grain::Zero,
            sector if self.header.compressed() => Grain::Compressed(u64::from(sector) * 512),
            sector => Grain::At(u64::from(sector) * 512),
        })
    }

    /// Fill the start of `dest` with bytes at `offset` in the extent, within one grain;
    /// `Ok(None)` when the grain is not in this extent (the caller reads the parent).
    pub(super) fn piece(
        &self,
        offset: u64,
        disk_offset: u64,
        dest: &mut [u8],
    ) -> Result<Option<usize>, ImageError> {
        let grain_bytes = self.grain_bytes();
        let index = offset / grain_bytes;
        let within = offset % grain_bytes;
        let run = usize::try_from(grain_bytes - within).map_or(dest.len(), |r| r.min(dest.len()));
        let dest = &mut dest[..run];
        match self.grain(index, disk_offset)? {
            Grain::Absent => return Ok(None),
            Grain::Zero => dest.fill(0),
            Grain::At(at) => self
                .file
                .data(disk_offset, at.saturating_add(within), dest)?,
            Grain::Compressed(at) if within == 0 && run as u64 == grain_bytes => {
                self.inflate_into(index, at, disk_offset, dest)?;
            }
            Grain::Compressed(at) => {
                let grain = self.inflate(index, at, disk_offset)?;
                let start = usize::try_from(within).unwrap_or(usize::MAX);
                let src = grain.get(start..start.saturating_add(run)).ok_or_else(|| {
                    self.file
                        .read_failed(disk_offset, at, "the inflated grain is too short")
                })?;
                dest.copy_from_slice(src);
            }
        }
        Ok(Some(run))
    }

    /// The grains kept inflated (a panic elsewhere leaves the list usable).
    fn kept(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Arc<Vec<u8>>)>> {
        self.inflated.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The bytes of compressed grain `index`, its marker at `at` (kept for the next
    /// reads of part of it).
    fn inflate(&self, index: u64, at: u64, disk_offset: u64) -> Result<Arc<Vec<u8>>, ImageError> {
        if let Some((_, g)) = self.kept().iter().find(|(i, _)| *i == index) {
            return Ok(g.clone());
        }
        let mut out = vec![0u8; usize::try_from(self.grain_bytes()).unwrap_or(0)];
        self.inflate_into(index, at, disk_offset, &mut out)?;
        let grain = Arc::new(out);
        let mut kept = self.kept();
        if kept.len() >= INFLATED_KEPT {
            kept.remove(0);
        }
        kept.push((index, grain.clone()));
        Ok(grain)
    }

    /// Inflate compressed grain `index`, its marker at `at`, into `out` (one grain long,
    /// or what is left of the extent's capacity); what it does not fill is zeros.
    fn inflate_into(
        &self,
        index: u64,
        at: u64,
        disk_offset: u64,
        out: &mut [u8],
    ) -> Result<(), ImageError> {
        SCRATCH.with(|scratch| {
            let (packed, inflater) = &mut *scratch.borrow_mut();
            let data = self.compressed_bytes(index, at, disk_offset, packed)?;
            let z = inflater.get_or_insert_with(|| flate2::Decompress::new(true));
            z.reset(true);
            self.inflate_grain(index, at, disk_offset, z, &packed[data], out)
        })
    }

    /// Read the compressed bytes of grain `index` (its marker at `at`) into `packed`;
    /// where they are in it.
    fn compressed_bytes(
        &self,
        index: u64,
        at: u64,
        disk_offset: u64,
        packed: &mut Vec<u8>,
    ) -> Result<std::ops::Range<usize>, ImageError> {
        let grain_bytes = self.grain_bytes();
        let fail = |why: String| self.file.read_failed(disk_offset, at, why);
        let longest = grain_bytes.saturating_mul(2).saturating_add(4096);
        let rest = self.file.len().saturating_sub(at);
        if self.header.flags & FLAG_MARKERS == 0 {
            let len = usize::try_from(rest.min(longest)).unwrap_or(0);
            packed.resize(len, 0);
            self.file.data(disk_offset, at, packed)?;
            return Ok(0..len);
        }
        let first = usize::try_from(rest.min(FIRST_READ)).unwrap_or(0);
        if first < 12 {
            return Err(fail(
                "the grain marker is cut off by the end of the file".into(),
            ));
        }
        packed.resize(first, 0);
        self.file.data(disk_offset, at, packed)?;
        let lba = u64::from_le_bytes(packed[..8].try_into().unwrap_or_default());
        let size = u64::from(u32::from_le_bytes(
            packed[8..12].try_into().unwrap_or_default(),
        ));
        if lba != index * self.header.grain_size {
            return Err(fail(format!(
                "the grain marker says sector {lba}, the grain table sector {}",
                index * self.header.grain_size
            )));
        }
        if size == 0 || size > longest {
            return Err(fail(format!("compressed grain of {size} bytes")));
        }
        let end = 12 + usize::try_from(size).unwrap_or(usize::MAX);
        if end > first {
            packed.resize(end, 0);
            self.file
                .data(disk_offset, at + first as u64, &mut packed[first..])?;
        }
        Ok(12..end)
    }

    /// Inflate one grain's zlib stream into `out`.
    fn inflate_grain(
        &self,
        index: u64,
        at: u64,
        disk_offset: u64,
        z: &mut flate2::Decompress,
        packed: &[u8],
        out: &mut [u8],
    ) -> Result<(), ImageError> {
        let fail = |why: String| self.file.read_failed(disk_offset, at, why);
        let grain_bytes = self.grain_bytes();
        let status = z
            .decompress(packed, out, flate2::FlushDecompress::Finish)
            .map_err(|e| fail(format!("the compressed grain does not inflate: {e}")))?;
        let got = usize::try_from(z.total_out()).unwrap_or(0);
        // The last grain of an extent may hold less than a grain of the disk.
        let need = usize::try_from(
            grain_bytes.min(self.capacity_bytes().saturating_sub(index * grain_bytes)),
        )
        .unwrap_or(0)
        .min(out.len());
        if got < need || status != flate2::Status::StreamEnd {
            return Err(fail(format!(
                "the compressed grain inflates to {got} bytes, not {need} (damaged)"
            )));
        }
        out[got..].fill(0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[..4].copy_from_slice(VMDK_SPARSE);
        b[4..8].copy_from_slice(&1u32.to_le_bytes());
        b[12..20].copy_from_slice(&2048u64.to_le_bytes());
        b[20..28].copy_from_slice(&128u64.to_le_bytes());
        b[44..48].copy_from_slice(&512u32.to_le_bytes());
        b
    }

    #[test]
    fn header_checks() {
        let h = parse_header(&header()).unwrap();
        assert_eq!((h.capacity, h.grain_size, h.gtes_per_gt), (2048, 128, 512));
        assert!(!h.compressed());
        let mut b = header();
        b[20..28].copy_from_slice(&100u64.to_le_bytes());
        assert!(parse_header(&b).unwrap_err().contains("grain size"));
        let mut b = header();
        b[44..48].copy_from_slice(&0u32.to_le_bytes());
        assert!(parse_header(&b).is_err());
        let mut b = header();
        b[4] = 9;
        assert!(parse_header(&b).unwrap_err().contains("version"));
        let mut b = header();
        b[77] = 2;
        b[10] = 1; // compressed grains flag (bit 16)
        assert!(parse_header(&b).unwrap_err().contains("compression"));
        assert!(parse_header(b"COWD").is_err());
    }
}
