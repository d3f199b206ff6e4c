//! New-format transaction logs (Windows 8.1+, log file type 6): after the base block
//! copy, `HvLE` log entries, each protected by two Marvin32 hashes and carrying a
//! sequence number and the dirty pages it writes.

use super::log_file::UsableLog;
use super::{SECTOR, Work};
use crate::bytes::{array, u32_le, u64_le};
use crate::registry::base_block::{HBIN_ALIGN, HBIN_START, LOG_BASE_BLOCK_LEN};

/// Seed of the Marvin32 hashes in new-format log entries. The specification lists it as
/// "82 EF 4D 88 7A 4E 55 C5": that is the 64-bit value written most significant byte first
/// (checked against real logs: read as little-endian bytes, no entry's hash matches).
pub const LOG_ENTRY_SEED: u64 = 0x82EF_4D88_7A4E_55C5;

/// Marvin32 hash of `data`, returned as `(s1 << 32) | s0` (the 8 bytes stored little-endian
/// in a log entry).
pub fn marvin32(seed: u64, data: &[u8]) -> u64 {
    fn mix(s0: &mut u32, s1: &mut u32) {
        *s1 ^= *s0;
        *s0 = s0.rotate_left(20);
        *s0 = s0.wrapping_add(*s1);
        *s1 = s1.rotate_left(9);
        *s1 ^= *s0;
        *s0 = s0.rotate_left(27);
        *s0 = s0.wrapping_add(*s1);
        *s1 = s1.rotate_left(19);
    }
    let mut s0 = seed as u32;
    let mut s1 = (seed >> 32) as u32;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        // `chunks_exact(4)`: every block holds the four bytes read.
        s0 = s0.wrapping_add(u32_le(block, 0).unwrap_or(0));
        mix(&mut s0, &mut s1);
    }
    // Final block: the 0-3 remaining bytes, then a 0x80 byte, then zero padding.
    let rest = blocks.remainder();
    let mut last = 0x80u32 << (8 * rest.len());
    for (i, &b) in rest.iter().enumerate() {
        last |= u32::from(b) << (8 * i);
    }
    s0 = s0.wrapping_add(last);
    mix(&mut s0, &mut s1);
    mix(&mut s0, &mut s1);
    (u64::from(s1) << 32) | u64::from(s0)
}

const ENTRY_SIGNATURE: &[u8; 4] = b"HvLE";
pub(super) const ENTRY_HEADER_LEN: usize = 40;

/// A new-format log entry that passed every check.
struct LogEntry<'a> {
    offset: usize,
    seq: u32,
    hbs: u32,
    flags: u32,
    /// (offset relative to the hive bins data, page bytes)
    pages: Vec<(u32, &'a [u8])>,
}

/// Why the scan of a log's entries stopped before the end of its entries.
struct EntryProblem {
    offset: usize,
    /// The sequence number the entry claims (untrusted), when its header was readable.
    claimed_seq: Option<u32>,
    message: String,
}

/// Read the valid entries of a new-format log, in file order, up to the first bad one.
fn scan_new_entries(bytes: &[u8]) -> (Vec<LogEntry<'_>>, Option<EntryProblem>) {
    let mut entries = Vec::new();
    let mut offset = LOG_BASE_BLOCK_LEN;
    while let Some(sig) = array::<4>(bytes, offset) {
        if &sig != ENTRY_SIGNATURE {
            break; // end of the entries (zeros or remnants of older data)
        }
        match parse_entry(bytes, offset) {
            Ok((entry, size)) => {
                entries.push(entry);
                match offset.checked_add(size) {
                    Some(next) => offset = next,
                    None => break,
                }
            }
            Err(problem) => return (entries, Some(problem)),
        }
    }
    (entries, None)
}

fn parse_entry(bytes: &[u8], offset: usize) -> Result<(LogEntry<'_>, usize), EntryProblem> {
    let problem = |claimed_seq: Option<u32>, message: String| EntryProblem {
        offset,
        claimed_seq,
        message,
    };
    let header = offset
        .checked_add(ENTRY_HEADER_LEN)
        .and_then(|end| bytes.get(offset..end))
        .ok_or_else(|| {
            problem(
                None,
                format!(
                    "truncated log entry: its 40-byte header is cut off by the end of the file ({} bytes)",
                    bytes.len()
                ),
            )
        })?;
    let field = |off: usize| u32_le(header, off).unwrap_or(0);
    let size = field(4);
    let flags = field(8);
    let seq = field(12);
    let hbs = field(16);
    let count = field(20);
    let hash1 = u64_le(header, 24).unwrap_or(0);
    let hash2 = u64_le(header, 32).unwrap_or(0);
    let claimed = Some(seq);

    let computed2 = marvin32(LOG_ENTRY_SEED, header.get(..32).unwrap_or(header));
    if computed2 != hash2 {
        return Err(problem(
            claimed,
            format!(
                "log entry header hash (Hash-2) mismatch: stored {hash2:#018x}, computed {computed2:#018x}"
            ),
        ));
    }
    let size_usize = size as usize;
    if size_usize < ENTRY_HEADER_LEN || !size_usize.is_multiple_of(SECTOR) {
        return Err(problem(
            claimed,
            format!("log entry size {size:#x} is not a multiple of 512 of at least 512"),
        ));
    }
    let body = offset
        .checked_add(size_usize)
        .and_then(|end| bytes.get(offset + ENTRY_HEADER_LEN..end))
        .ok_or_else(|| {
            problem(
                claimed,
                format!(
                    "truncated log entry: size {size:#x} runs past the end of the file ({} bytes)",
                    bytes.len()
                ),
            )
        })?;
    let computed1 = marvin32(LOG_ENTRY_SEED, body);
    if computed1 != hash1 {
        return Err(problem(
            claimed,
            format!(
                "log entry data hash (Hash-1) mismatch: stored {hash1:#018x}, computed {computed1:#018x}"
            ),
        ));
    }
    if hbs == 0 || !hbs.is_multiple_of(HBIN_ALIGN) {
        return Err(problem(
            claimed,
            format!("log entry hive bins data size {hbs:#x} is not a multiple of 4096"),
        ));
    }
    let refs_len = (count as usize)
        .checked_mul(8)
        .filter(|&len| len <= body.len())
        .ok_or_else(|| {
            problem(
                claimed,
                format!("log entry dirty page count {count} does not fit in the entry"),
            )
        })?;
    let mut pages = Vec::new();
    let mut data_pos = refs_len;
    for i in 0..count as usize {
        let page_offset = u32_le(body, 8 * i).unwrap_or(0);
        let page_size = u32_le(body, 8 * i + 4).unwrap_or(0);
        if u64::from(page_offset) + u64::from(page_size) > u64::from(hbs) {
            return Err(problem(
                claimed,
                format!(
                    "dirty page {i} (offset {page_offset:#x}, size {page_size:#x}) lies outside the hive bins data size {hbs:#x}"
                ),
            ));
        }
        let data = data_pos
            .checked_add(page_size as usize)
            .and_then(|end| body.get(data_pos..end).map(|d| (d, end)));
        let Some((data, end)) = data else {
            return Err(problem(
                claimed,
                format!("dirty page {i} (size {page_size:#x}) runs past the end of the entry"),
            ));
        };
        pages.push((page_offset, data));
        data_pos = end;
    }
    Ok((
        LogEntry {
            offset,
            seq,
            hbs,
            flags,
            pages,
        },
        size_usize,
    ))
}

impl Work<'_> {
    /// Apply new-format entries in sequence order. `logs` are sorted, earlier entries
    /// first; `min_seq` is the first sequence number the hive needs.
    pub(super) fn replay_new(&mut self, logs: &[UsableLog<'_>], min_seq: u32) {
        let mut next: Option<u32> = None;
        for log in logs {
            let (entries, problem) = scan_new_entries(log.bytes);
            let mut applied = 0usize;
            let mut skipped_old = 0usize;
            let mut first_applied = None;
            let mut last_applied = None;
            let mut stopped = false;
            for (i, entry) in entries.iter().enumerate() {
                let expected = next.unwrap_or(min_seq);
                if entry.seq < expected {
                    skipped_old += 1; // already in the hive, or an older remnant
                    continue;
                }
                // The first entry applied overall may also be the first entry of a log
                // whose base block carries that sequence number (the log was restarted
                // after the hive's last complete write).
                let starts_here = next.is_none() && i == 0 && entry.seq == log.bb.primary_seq;
                if entry.seq != expected && !starts_here {
                    self.warn_log(
                        log.name,
                        entry.offset,
                        format!(
                            "sequence gap: log entry has sequence number {}, expected {expected}; replay of this log stops here",
                            entry.seq
                        ),
                    );
                    stopped = true;
                    break;
                }
                if let Err(message) = self.apply_entry(entry) {
                    self.warn_log(
                        log.name,
                        entry.offset,
                        format!(
                            "log entry {}: {message}; replay of this log stops here",
                            entry.seq
                        ),
                    );
                    stopped = true;
                    break;
                }
                applied += 1;
                first_applied.get_or_insert(entry.seq);
                last_applied = Some(entry.seq);
                next = entry.seq.checked_add(1);
                if next.is_none() {
                    stopped = true;
                    break;
                }
            }

            if let Some(p) = problem
                && !stopped
            {
                let last_valid = entries.last().map(|e| e.seq);
                let remnant = matches!((p.claimed_seq, last_valid), (Some(c), Some(l)) if c <= l);
                if remnant {
                    self.applied.push(format!(
                        "{}: damaged remnant of an older log entry at offset {:#x} ignored ({})",
                        log.name, p.offset, p.message
                    ));
                } else {
                    self.warn_log(
                        log.name,
                        p.offset,
                        format!("{}; replay of this log stops here", p.message),
                    );
                }
            }

            let valid_range = match (entries.first(), entries.last()) {
                (Some(a), Some(b)) => format!("sequence {}..={}", a.seq, b.seq),
                _ => "none".to_string(),
            };
            let line = match (first_applied, last_applied) {
                (Some(a), Some(b)) => format!(
                    "{}: new format (HvLE), applied {applied} of {} valid entries, sequence {a}..={b}{}",
                    log.name,
                    entries.len(),
                    if skipped_old > 0 {
                        format!(" ({skipped_old} older entries skipped)")
                    } else {
                        String::new()
                    }
                ),
                _ if entries.is_empty() => {
                    format!("{}: new format (HvLE), no valid log entries", log.name)
                }
                _ if skipped_old == entries.len() => format!(
                    "{}: new format (HvLE), {} valid entries ({valid_range}), all older than sequence {}: nothing to apply",
                    log.name,
                    entries.len(),
                    next.unwrap_or(min_seq)
                ),
                _ => format!(
                    "{}: new format (HvLE), {} valid entries ({valid_range}), none applied",
                    log.name,
                    entries.len()
                ),
            };
            self.applied.push(line);
        }
    }

    fn apply_entry(&mut self, entry: &LogEntry<'_>) -> Result<(), String> {
        self.grow_to(entry.hbs)?;
        for &(page_offset, data) in &entry.pages {
            let start = HBIN_START + page_offset as usize;
            let end = start + data.len();
            // In bounds: page_offset + len <= hbs (checked when parsing) and the image
            // holds HBIN_START + hbs bytes (grow_to).
            let dst = self
                .image
                .get_mut(start..end)
                .ok_or_else(|| format!("dirty page at {page_offset:#x} outside the image"))?;
            dst.copy_from_slice(data);
            self.written.push(start..end);
        }
        self.final_seq = Some(entry.seq);
        self.final_hbs = Some(entry.hbs);
        self.final_flags = Some(entry.flags);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one expected range is a normal outcome
mod tests {
    use super::super::replay;
    use super::super::test_support::*;
    use super::*;
    use crate::registry::base_block::BaseBlock;

    #[test]
    fn marvin32_known_vectors() {
        // Public Marvin32 test vectors (the .NET runtime's MarvinTests, also used by the
        // SymCrypt and other ports), result as (s1 << 32) | s0.
        let seed = 0x004F_B61A_001B_DBCC;
        let cases: [(&[u8], u64); 8] = [
            (&[], 0x30ED_35C1_00CD_3C7D),
            (&[0xAF], 0x48E7_3FC7_7D75_DDC1),
            (&[0xE7, 0x0F], 0xB5F6_E1FC_485D_BFF8),
            (&[0x37, 0xF4, 0x95], 0xF0B0_7C78_9B8C_F7E8),
            (&[0x86, 0x42, 0xDC, 0x59], 0x7008_F2E8_7E9C_F556),
            (&[0x15, 0x3F, 0xB7, 0x98, 0x26], 0xE6C0_8C6D_A2AF_A997),
            (&[0x09, 0x32, 0xE6, 0x24, 0x6C, 0x47], 0x6F04_BF1A_5EA2_4060),
            (
                &[0xAB, 0x42, 0x7E, 0xA8, 0xD1, 0x0F, 0xC7],
                0xE118_47E4_F067_8C41,
            ),
        ];
        for (data, expected) in cases {
            assert_eq!(marvin32(seed, data), expected, "data {data:02x?}");
        }
        assert_eq!(marvin32(0x804F_B61A_001B_DBCC, &[]), 0x10A9_D5D3_996F_D65D);
    }

    #[test]
    fn log_entry_seed_matches_a_real_entry() {
        // The first 32 bytes of the first entry of yarp's NewDirtyHive1/NewDirtyHive.LOG1
        // (written by Windows 10), rebuilt from its field values: HvLE, size 0x5e00,
        // flags 0, sequence 2, hive bins data size 0x5000, 1 dirty page, Hash-1.
        // Its stored Hash-2 is 0xcd44f3cfa7657f02.
        let mut header = Vec::new();
        header.extend_from_slice(b"HvLE");
        for field in [0x5e00u32, 0, 2, 0x5000, 1] {
            header.extend_from_slice(&field.to_le_bytes());
        }
        header.extend_from_slice(&0x6786_6c66_1807_e431u64.to_le_bytes());
        assert_eq!(marvin32(LOG_ENTRY_SEED, &header), 0xcd44_f3cf_a765_7f02);
    }

    /// Primary 3/2; LOG1 holds entry 2, LOG2 entries 3 and 4 (the layout of yarp's
    /// NewDirtyHive1).
    fn two_logs() -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<usize>) {
        let hive = synth_hive(3, 2);
        let (log1, _) = synth_new_log(&hive, 2, &[entry(2, vec![page(0x1000, 0xA2)])]);
        let (log2, offs) = synth_new_log(
            &hive,
            3,
            &[
                entry(3, vec![page(0x1000, 0xA3), page(0x2000, 0xB3)]),
                entry(4, vec![page(0x1000, 0xA4)]),
            ],
        );
        (hive, log1, log2, offs)
    }

    #[test]
    fn applies_entries_in_sequence_across_logs_in_any_order() {
        let (hive, log1, log2, _) = two_logs();
        for logs in [
            vec![log("T.LOG1", &log1), log("T.LOG2", &log2)],
            vec![log("T.LOG2", &log2), log("T.LOG1", &log1)],
        ] {
            let out = replay(&hive, &logs).unwrap();
            assert!(out.warnings.is_empty(), "{:?}", out.warnings);
            assert_eq!(marker_at(&out.hive, 0x1000), 0xA4);
            assert_eq!(marker_at(&out.hive, 0x2000), 0xB3);
            assert_eq!(marker_at(&out.hive, 0), 0x10);
            assert_eq!(out.recovered, [HBIN_START + 0x1000..HBIN_START + 0x3000]);
            let bb = BaseBlock::parse(&out.hive).unwrap();
            assert_eq!((bb.primary_seq, bb.secondary_seq), (4, 4));
            assert!(bb.checksum_ok());
            assert!(
                out.applied
                    .iter()
                    .any(|l| l.contains("T.LOG1") && l.contains("2..=2"))
            );
            assert!(
                out.applied
                    .iter()
                    .any(|l| l.contains("T.LOG2") && l.contains("3..=4"))
            );
        }
    }

    #[test]
    fn corrupted_entry_data_stops_replay_with_warning() {
        let (hive, log1, mut log2, offs) = two_logs();
        // Flip a byte in the page data of the second entry of LOG2 (sequence 4).
        log2[offs[1] + 1000] ^= 0x55;
        let out = replay(&hive, &[log("T.LOG1", &log1), log("T.LOG2", &log2)]).unwrap();
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        let (loc, msg) = &out.warnings[0];
        assert_eq!(loc, &format!("T.LOG2 offset {:#x}", offs[1]));
        assert!(msg.contains("Hash-1"), "{msg}");
        // Entries 2 and 3 applied, 4 not.
        assert_eq!(marker_at(&out.hive, 0x1000), 0xA3);
        let bb = BaseBlock::parse(&out.hive).unwrap();
        assert_eq!((bb.primary_seq, bb.secondary_seq), (3, 3));
    }

    #[test]
    fn corrupted_entry_header_stops_replay_with_warning() {
        let (hive, log1, mut log2, offs) = two_logs();
        // The sequence number of LOG2's first entry: covered by Hash-2.
        log2[offs[0] + 12] ^= 0x01;
        let out = replay(&hive, &[log("T.LOG1", &log1), log("T.LOG2", &log2)]).unwrap();
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert_eq!(out.warnings[0].0, "T.LOG2 offset 0x200");
        assert!(out.warnings[0].1.contains("Hash-2"), "{:?}", out.warnings);
        assert_eq!(marker_at(&out.hive, 0x1000), 0xA2);
        assert_clean(&out.hive);
    }

    #[test]
    fn truncated_log_stops_replay_with_warning() {
        let (hive, log1, log2, offs) = two_logs();
        let cut = &log2[..offs[1] + 600];
        let out = replay(&hive, &[log("T.LOG1", &log1), log("T.LOG2", cut)]).unwrap();
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert_eq!(out.warnings[0].0, format!("T.LOG2 offset {:#x}", offs[1]));
        assert!(
            out.warnings[0].1.contains("truncated"),
            "{:?}",
            out.warnings
        );
        assert_eq!(marker_at(&out.hive, 0x1000), 0xA3);
    }

    #[test]
    fn sequence_gap_stops_replay() {
        let hive = synth_hive(3, 2);
        let (log1, _) = synth_new_log(&hive, 2, &[entry(2, vec![page(0x1000, 0xA2)])]);
        let (log2, _) = synth_new_log(&hive, 4, &[entry(4, vec![page(0x1000, 0xA4)])]);
        let out = replay(&hive, &[log("T.LOG1", &log1), log("T.LOG2", &log2)]).unwrap();
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert_eq!(out.warnings[0].0, "T.LOG2 offset 0x200");
        assert!(out.warnings[0].1.contains("sequence gap"));
        assert_eq!(marker_at(&out.hive, 0x1000), 0xA2);
    }

    #[test]
    fn older_log_is_skipped_without_warning() {
        // Primary 4/3: LOG1's entry 2 is already in the hive (NewDirtyHive2's layout).
        let hive = synth_hive(4, 3);
        let (log1, _) = synth_new_log(&hive, 2, &[entry(2, vec![page(0x1000, 0xA2)])]);
        let (log2, _) = synth_new_log(&hive, 3, &[entry(3, vec![page(0x2000, 0xB3)])]);
        let out = replay(&hive, &[log("T.LOG1", &log1), log("T.LOG2", &log2)]).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(marker_at(&out.hive, 0x1000), 0x11);
        assert_eq!(marker_at(&out.hive, 0x2000), 0xB3);
        assert!(
            out.applied
                .iter()
                .any(|l| l.contains("T.LOG1") && l.contains("nothing to apply"))
        );
    }

    #[test]
    fn growth_follows_entry_and_is_capped() {
        let hive = synth_hive(3, 2);
        let grown = SynthEntry {
            seq: 2,
            hbs: 0x4000,
            pages: vec![page(0x3000, 0xC2)],
        };
        let (log1, _) = synth_new_log(&hive, 2, &[grown]);
        let out = replay(&hive, &[log("T.LOG1", &log1)]).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.hive.len(), HBIN_START + 0x4000);
        assert_eq!(marker_at(&out.hive, 0x3000), 0xC2);
        assert_eq!(
            BaseBlock::parse(&out.hive).unwrap().hive_bins_data_size,
            0x4000
        );
        assert_eq!(out.recovered, [HBIN_START + 0x3000..HBIN_START + 0x4000]);

        // A (validly hashed) entry claiming a 2 GiB hive is not believed.
        let huge = SynthEntry {
            seq: 2,
            hbs: 0x8000_0000,
            pages: vec![page(0x1000, 0xC2)],
        };
        let (log1, offs) = synth_new_log(&hive, 2, &[huge]);
        let out = replay(&hive, &[log("T.LOG1", &log1)]).unwrap();
        assert_eq!(out.hive.len(), hive.len());
        assert!(out.warnings.iter().any(
            |(l, m)| l == &format!("T.LOG1 offset {:#x}", offs[0]) && m.contains("not trusted")
        ));
    }
}
