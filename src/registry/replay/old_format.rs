//! Old-format transaction logs (Windows XP..8, log file type 1): after the base block
//! copy, a `DIRT` bitmap of the dirty 512-byte pages of the hive bins data, then those
//! pages in order.

use std::ops::Range;

use super::log_file::UsableLog;
use super::{SECTOR, Work};
use crate::bytes::{array, u32_le};
use crate::registry::base_block::{HBIN_ALIGN, HBIN_START, OFF_DATA_SIZE, OFF_PRIMARY_SEQ};

const DIRT_SIGNATURE: &[u8; 4] = b"DIRT";

impl Work<'_> {
    /// Apply an old-format log: its dirty vector and dirty pages.
    pub(super) fn replay_old(&mut self, log: &UsableLog<'_>) {
        let name = log.name;
        let bytes = log.bytes;
        if array::<4>(bytes, SECTOR).as_ref() != Some(DIRT_SIGNATURE) {
            self.warn_log(
                name,
                SECTOR,
                "no DIRT signature where the dirty vector should start: log not used".into(),
            );
            return;
        }
        let hbs = log.bb.hive_bins_data_size;
        if let Err(message) = self.grow_to(hbs) {
            self.warn_log(name, OFF_DATA_SIZE, format!("{message}: log not used"));
            return;
        }
        let bits = hbs as usize / SECTOR;
        let bitmap_start = SECTOR + 4;
        let bitmap_len = bits.div_ceil(8);
        let Some(bitmap) = bytes.get(bitmap_start..bitmap_start + bitmap_len) else {
            self.warn_log(
                name,
                bitmap_start,
                format!(
                    "dirty vector ({bitmap_len} bytes) cut off by the end of the file ({} bytes): log not used",
                    bytes.len()
                ),
            );
            return;
        };
        let is_dirty = |bit: usize| {
            bitmap
                .get(bit / 8)
                .is_some_and(|b| b & (1 << (bit % 8)) != 0)
        };
        let total_pages: usize = bitmap.iter().map(|b| b.count_ones() as usize).sum();
        let pages_start = (bitmap_start + bitmap_len).next_multiple_of(SECTOR);

        let mut bit = 0usize;
        let mut pages_done = 0usize;
        let mut runs = 0usize;
        while bit < bits {
            if !is_dirty(bit) {
                bit += 1;
                continue;
            }
            let run_first = bit;
            while bit < bits && is_dirty(bit) {
                bit += 1;
            }
            let run_pages = bit - run_first;
            let src_start = pages_start + pages_done * SECTOR;
            let Some(src) = bytes.get(src_start..src_start + run_pages * SECTOR) else {
                self.warn_log(
                    name,
                    src_start,
                    format!(
                        "dirty pages cut off by the end of the file ({} bytes): truncated log, {pages_done} of {total_pages} pages applied",
                        bytes.len()
                    ),
                );
                break;
            };
            let dst_start = HBIN_START + run_first * SECTOR;
            let dst_range = dst_start..dst_start + src.len();
            let Some(dst) = self.image.get_mut(dst_range.clone()) else {
                break; // cannot happen: the image holds HBIN_START + hbs bytes
            };
            let saved = dst.to_vec();
            dst.copy_from_slice(src);
            if let Err((bin_offset, why)) = verify_bins(&self.image, hbs, &dst_range) {
                if let Some(dst) = self.image.get_mut(dst_range.clone()) {
                    dst.copy_from_slice(&saved);
                }
                self.warn_log(
                    name,
                    src_start,
                    format!(
                        "dirty hive bin at hive bins offset {bin_offset:#x} is invalid ({why}): recovery stops here, {pages_done} of {total_pages} pages applied"
                    ),
                );
                break;
            }
            self.written.push(dst_range);
            pages_done += run_pages;
            runs += 1;
        }
        self.applied.push(format!(
            "{name}: old format (DIRT), applied {pages_done} of {total_pages} dirty 512-byte pages in {runs} runs, log sequence {}",
            log.bb.primary_seq
        ));
        if pages_done > 0 || total_pages == 0 {
            self.final_hbs = Some(hbs);
            // The primary's sequence number is kept; mark_clean makes the secondary equal.
            self.final_seq = u32_le(&self.image, OFF_PRIMARY_SEQ);
        }
    }
}

/// Check the hive bins overlapping `dirty` (file offsets) in `image`: signature, offset
/// field, size (multiple of 4096, inside the hive bins data). Walks the chain of bins from
/// the start; a chain broken before `dirty` cannot be blamed on it and is not reported.
/// Returns the offending bin's offset (relative to the hive bins data) and why.
fn verify_bins(image: &[u8], hbs: u32, dirty: &Range<usize>) -> Result<(), (usize, String)> {
    let bins_end = HBIN_START.saturating_add(hbs as usize);
    let mut offset = HBIN_START;
    while offset < dirty.end && offset < bins_end {
        let relative = offset - HBIN_START;
        let problem = match array::<4>(image, offset) {
            Some(sig) if &sig == b"hbin" => {
                let field = u32_le(image, offset + 4).unwrap_or(u32::MAX);
                let size = u32_le(image, offset + 8).unwrap_or(0);
                if field as usize != relative {
                    Some(format!("offset field {field:#x}"))
                } else if size < HBIN_ALIGN
                    || !size.is_multiple_of(HBIN_ALIGN)
                    || offset.saturating_add(size as usize) > bins_end
                {
                    Some(format!("size {size:#x}"))
                } else {
                    offset += size as usize;
                    None
                }
            }
            Some(sig) => Some(format!("signature {sig:02x?}")),
            None => Some("cut off".into()),
        };
        if let Some(why) = problem {
            return if offset >= dirty.start {
                Err((relative, why))
            } else {
                Ok(())
            };
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one expected range is a normal outcome
mod tests {
    use super::super::replay;
    use super::super::test_support::*;
    use super::*;
    use crate::registry::base_block::{OFF_CHECKSUM, checksum};

    fn sectors(data: &[u8]) -> Vec<Vec<u8>> {
        data.chunks(SECTOR).map(<[u8]>::to_vec).collect()
    }

    fn synth_old_log(hive: &[u8], bits: &[usize], pages: &[Vec<u8>]) -> Vec<u8> {
        let mut log = log_base_block(hive, 1, 5);
        let hbs = u32::from_le_bytes(hive[OFF_DATA_SIZE..OFF_DATA_SIZE + 4].try_into().unwrap());
        let bitmap_len = (hbs as usize / SECTOR).div_ceil(8);
        let mut vector = b"DIRT".to_vec();
        let mut bitmap = vec![0u8; bitmap_len];
        for &b in bits {
            bitmap[b / 8] |= 1 << (b % 8);
        }
        vector.extend_from_slice(&bitmap);
        log.extend_from_slice(&vector);
        log.resize(log.len().next_multiple_of(SECTOR), 0);
        for p in pages {
            log.extend_from_slice(p);
        }
        log
    }

    #[test]
    fn old_format_log_is_applied_and_bad_bins_stop_it() {
        let hive = synth_hive(5, 4);

        // Bin 1 (pages 8..16) and bin 2 (pages 16..24) dirty.
        let bits: Vec<usize> = (8..24).collect();
        let mut pages = sectors(&hbin(0x1000, 0xD1));
        pages.extend(sectors(&hbin(0x2000, 0xD2)));
        let old = synth_old_log(&hive, &bits, &pages);
        let out = replay(&hive, &[log("T.LOG", &old)]).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(marker_at(&out.hive, 0x1000), 0xD1);
        assert_eq!(marker_at(&out.hive, 0x2000), 0xD2);
        assert_eq!(out.recovered, [HBIN_START + 0x1000..HBIN_START + 0x3000]);
        assert_clean(&out.hive);

        // Two runs; the second (pages 17..24) carries the body of a bin whose header
        // (page 16, clean) stays the primary's: valid, both runs apply.
        let mut bad = hbin(0x2000, 0xD2);
        set_u32(&mut bad, 4, 0x7000); // wrong offset field
        let bits: Vec<usize> = (8..16).chain(17..24).collect();
        let mut pages = sectors(&hbin(0x1000, 0xD1));
        pages.extend(sectors(&bad).into_iter().skip(1));
        let old = synth_old_log(&hive, &bits, &pages);
        let out = replay(&hive, &[log("T.LOG", &old)]).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.hive[HBIN_START + 0x2000 + 100], 0x12); // page 16: the primary's
        assert_eq!(out.hive[HBIN_START + 0x2000 + 600], 0xD2); // page 17: from the log

        // One run of 16 pages whose second bin has the wrong offset field: the run is
        // rolled back, replay stops with a warning naming the log offset of the run.
        let bits: Vec<usize> = (8..24).collect();
        let mut pages = sectors(&hbin(0x1000, 0xD1));
        pages.extend(sectors(&bad));
        let old = synth_old_log(&hive, &bits, &pages);
        let out = replay(&hive, &[log("T.LOG", &old)]).unwrap();
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        assert_eq!(out.warnings[0].0, "T.LOG offset 0x400");
        assert!(out.warnings[0].1.contains("0x2000"), "{:?}", out.warnings);
        assert_eq!(marker_at(&out.hive, 0x1000), 0x11);

        // A log for another state of the hive (timestamp differs) is not used.
        let mut other = synth_old_log(&hive, &[8], &[vec![0u8; SECTOR]]);
        set_u32(&mut other, 0x0C, 0x9999);
        let sum = checksum(&other);
        set_u32(&mut other, OFF_CHECKSUM, sum);
        let out = replay(&hive, &[log("T.LOG", &other)]).unwrap();
        assert!(
            out.warnings[0].0 == "T.LOG offset 0xc",
            "{:?}",
            out.warnings
        );
        assert_eq!(&out.hive[HBIN_START..], &hive[HBIN_START..]);
    }
}
