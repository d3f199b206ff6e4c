//! Partition tables (MBR with its EBR chain, GPT) read as pure functions over a byte
//! reader, so they work on any image source (raw, split, E01) and on synthetic disks.
//!
//! Everything read from the disk is data to distrust: every offset is checked against
//! `disk_size`, every multiplication is checked, allocations are bounded by fixed caps
//! (a GPT entries array is at most 1024 entries of at most 4096 bytes), EBR chains are
//! capped and cycle-checked, and nothing panics. What looks wrong is kept where it can be
//! and said in [`PartitionTable::problems`], each as "location: message" with a byte
//! offset, so an examiner can look at the spot with another tool.
//!
//! One file per on-disk structure: `mbr.rs` (the MBR and its chain of extended boot
//! records) and `gpt.rs` (GPT headers, entries arrays, CRC32s, the backup header). This
//! module decides which scheme a disk uses, names the file system a partition holds and
//! does what both share (clipping to the disk end, overlaps).

mod gpt;
mod mbr;
#[cfg(test)]
mod test_disks;

pub use gpt::guid_text;

use crate::{bytes, signature};
use gpt::read_gpt;
use mbr::{MbrSector, read_mbr, try_4kn_mbr};

/// Reads up to `buf.len()` bytes at a byte offset of the disk; returns bytes read (short
/// at the end) or an error message.
pub type ReadAt<'a> = dyn Fn(u64, &mut [u8]) -> Result<usize, String> + 'a;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    Mbr,
    Gpt,
    /// no partition table: the image is one volume
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// MBR: 1-4 for the primary slots, 5 and up for logicals in chain order (as Linux
    /// numbers them); GPT: the entry's 1-based index in the entries array; a bare volume: 1.
    pub number: u32,
    /// Byte offset on the disk.
    pub start: u64,
    /// Bytes; clipped to the disk end (the clipping is said in the problems).
    pub length: u64,
    /// MBR: the type byte as "0x07"; GPT: the type GUID in canonical text form.
    pub type_code: String,
    /// "NTFS/exFAT/HPFS (0x07)", "Microsoft basic data", "EFI system", "extended (0x0f)" ...
    pub type_name: String,
    /// GPT partition name (UTF-16LE), "" for MBR.
    pub name: String,
    /// What the partition's first sectors say: a [`signature::VolumeFormat`]'s name
    /// ("NTFS", "FAT32", "exFAT", "BitLocker", "ext4", "APFS", ...) or "unknown".
    pub filesystem: String,
}

impl Partition {
    /// An MBR extended partition (0x05, 0x0f, 0x85): a container of logicals, not a volume.
    pub fn is_extended(&self) -> bool {
        matches!(self.type_code.as_str(), "0x05" | "0x0f" | "0x85")
    }
}

#[derive(Debug, Clone, Default)]
pub struct PartitionTable {
    /// `None` only when not even the first sector could be read (or the disk is empty).
    pub scheme: Option<Scheme>,
    pub sector_size: u64,
    pub partitions: Vec<Partition>,
    /// problems met, each "location: message" with the byte offset (e.g. "GPT header at
    /// 0x200: CRC32 mismatch; using the backup header at 0x...")
    pub problems: Vec<String>,
}

/// Bytes read from a partition's start to recognise its file system.
const PROBE_BYTES: u64 = 2048;

/// Read the disk's partition table. A bare volume (a file system boot sector at 0, or no
/// MBR partition entries) gives `Scheme::None` with one partition covering the whole disk.
/// `disk_size` bounds everything.
pub fn read_partitions(read: &ReadAt<'_>, disk_size: u64) -> PartitionTable {
    let disk = Disk {
        read,
        size: disk_size,
    };
    let mut table = PartitionTable {
        scheme: None,
        sector_size: 512,
        partitions: Vec::new(),
        problems: Vec::new(),
    };
    if disk_size == 0 {
        table.problems.push("disk at 0x0: empty (0 bytes)".into());
        return table;
    }
    let sector0 = match disk.read_upto(0, 512) {
        Ok(b) => b,
        Err(e) => {
            table
                .problems
                .push(format!("MBR at 0x0: cannot read the first sector: {e}"));
            return table;
        }
    };
    let mbr = MbrSector::parse(&sector0);
    let protective = mbr
        .as_ref()
        .is_some_and(|m| m.entries.iter().any(|e| e.kind == 0xEE && e.sectors != 0));

    if protective {
        table.scheme = Some(Scheme::Gpt);
        match read_gpt(&disk, &mut table.problems) {
            Some((ss, parts)) => {
                table.sector_size = ss;
                table.partitions = parts;
            }
            None => table.problems.push(
                "MBR at 0x0: protective (0xEE) entry but no usable GPT; no partitions listed"
                    .into(),
            ),
        }
    } else if let Some(fs) = boot_sector_filesystem(&sector0) {
        // A volume boot record at sector 0 (its boot code may look like MBR entries).
        whole_disk(&disk, &mut table, fs);
    } else if let Some(m) = mbr.filter(|m| m.entries.iter().any(|e| e.used())) {
        table.scheme = Some(Scheme::Mbr);
        let mut problems = Vec::new();
        let parts = read_mbr(&disk, &m, 512, &mut problems);
        table.partitions = parts;
        table.problems = problems;
        try_4kn_mbr(&disk, &m, &mut table);
        let mut gpt_problems = Vec::new();
        if read_gpt(&disk, &mut gpt_problems).is_some() {
            table.problems.push(
                "MBR at 0x0: the disk also holds a valid GPT (primary or backup), but the MBR \
                 has no protective (0xEE) entry; the MBR was used"
                    .into(),
            );
        }
    } else {
        let mut gpt_problems = Vec::new();
        if let Some((ss, parts)) = read_gpt(&disk, &mut gpt_problems) {
            table.scheme = Some(Scheme::Gpt);
            table.sector_size = ss;
            table.partitions = parts;
            table.problems = gpt_problems;
            table.problems.push(
                "MBR at 0x0: no protective (0xEE) entry, but a valid GPT was found and used".into(),
            );
        } else {
            let fs = probe_filesystem(read, 0, disk_size);
            whole_disk(&disk, &mut table, fs);
        }
    }
    check_overlaps(&mut table);
    table
}

/// What the first bytes of a volume at `start` say it is: a
/// [`signature::VolumeFormat`]'s name or "unknown". Reads at most 2 KiB, and
/// not past `start + length`.
pub fn probe_filesystem(read: &ReadAt<'_>, start: u64, length: u64) -> String {
    let disk = Disk {
        read,
        size: start.saturating_add(length),
    };
    match disk.read_upto(start, PROBE_BYTES.min(length) as usize) {
        Ok(b) => filesystem_name(&b).to_string(),
        Err(_) => "unknown".to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Reading

struct Disk<'r, 'a> {
    read: &'r ReadAt<'a>,
    size: u64,
}

impl Disk<'_, '_> {
    /// Exactly `len` bytes at `off`, all inside the disk.
    fn read_exact(&self, off: u64, len: usize) -> Result<Vec<u8>, String> {
        let end = off
            .checked_add(len as u64)
            .ok_or_else(|| format!("offset {off:#x} + {len} overflows"))?;
        if end > self.size {
            return Err(format!(
                "{len} bytes at {off:#x} run past the disk end ({:#x})",
                self.size
            ));
        }
        let mut buf = vec![0u8; len];
        let mut done = 0usize;
        while done < len {
            let Some(rest) = buf.get_mut(done..) else {
                break;
            };
            let want = rest.len();
            let n = (self.read)(off + done as u64, rest)?.min(want);
            if n == 0 {
                return Err(format!(
                    "short read: {done} of {len} bytes at {off:#x} (the image ends early)"
                ));
            }
            done += n;
        }
        Ok(buf)
    }

    /// Up to `len` bytes at `off`, fewer only where the disk ends.
    fn read_upto(&self, off: u64, len: usize) -> Result<Vec<u8>, String> {
        let avail = self.size.saturating_sub(off);
        let len = (len as u64).min(avail) as usize;
        self.read_exact(off, len)
    }
}
/// Little-endian integers that read as zero where they run past the end of `b`.
fn u16z(b: &[u8], at: usize) -> u16 {
    bytes::u16_le(b, at).unwrap_or(0)
}

fn u32z(b: &[u8], at: usize) -> u32 {
    bytes::u32_le(b, at).unwrap_or(0)
}

fn u64z(b: &[u8], at: usize) -> u64 {
    bytes::u64_le(b, at).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// File systems

fn filesystem_name(b: &[u8]) -> &'static str {
    signature::volume_format(b).map_or("unknown", signature::VolumeFormat::name)
}

/// File systems recognised by their boot sector (the first 512 bytes).
fn boot_sector_filesystem(b: &[u8]) -> Option<&'static str> {
    signature::boot_sector_format(b).map(signature::VolumeFormat::name)
}

fn whole_disk(disk: &Disk<'_, '_>, table: &mut PartitionTable, fs: impl Into<String>) {
    table.scheme = Some(Scheme::None);
    table.sector_size = 512;
    let fs = fs.into();
    if fs == "unknown" {
        table.problems.push(
            "MBR at 0x0: no partition table and no known file system; the disk is taken as \
             one volume"
                .into(),
        );
    }
    table.partitions = vec![Partition {
        number: 1,
        start: 0,
        length: disk.size,
        type_code: String::new(),
        type_name: "whole disk (no partition table)".into(),
        name: String::new(),
        filesystem: fs,
    }];
}

/// Clip a partition to the disk end, saying so, then probe its file system.
fn finish(disk: &Disk<'_, '_>, p: &mut Partition, location: &str, problems: &mut Vec<String>) {
    let end = p.start.saturating_add(p.length);
    if p.start >= disk.size {
        problems.push(format!(
            "{location}: partition {} starts at {:#x}, past the disk end ({:#x}); length \
             {:#x} clipped to 0",
            p.number, p.start, disk.size, p.length
        ));
        p.length = 0;
    } else if end > disk.size {
        let clipped = disk.size - p.start;
        problems.push(format!(
            "{location}: partition {} ({:#x}..{end:#x}) runs past the disk end ({:#x}); \
             length {:#x} clipped to {clipped:#x}",
            p.number, p.start, disk.size, p.length
        ));
        p.length = clipped;
    }
    p.filesystem = if p.length == 0 {
        "unknown".into()
    } else {
        probe_filesystem(disk.read, p.start, p.length)
    };
}

fn check_overlaps(table: &mut PartitionTable) {
    let mut spans: Vec<&Partition> = table
        .partitions
        .iter()
        .filter(|p| p.length > 0 && !p.is_extended())
        .collect();
    spans.sort_by_key(|p| (p.start, p.number));
    let mut widest: Option<&Partition> = None;
    for p in spans {
        if let Some(w) = widest {
            let w_end = w.start.saturating_add(w.length);
            if p.start < w_end {
                table.problems.push(format!(
                    "partition {} at {:#x}: overlaps partition {} ({:#x}..{w_end:#x})",
                    p.number, p.start, w.number, w.start
                ));
            }
            if p.start.saturating_add(p.length) > w_end {
                widest = Some(p);
            }
        } else {
            widest = Some(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gpt::MAX_GPT_ENTRIES;
    use super::mbr::MAX_LOGICALS;
    use super::test_disks::*;
    use super::*;
    use super::{u32z as le_u32, u64z as le_u64};
    use crate::bytes::crc32;

    #[test]
    fn partition_past_the_disk_end_is_kept_and_clipped() {
        let mut d = vec![0u8; MIB];
        mbr_entry(&mut d, 0, 0, 0x07, 1024, 4096);
        mbr_entry(&mut d, 0, 1, 0x07, 5000, 10);
        let t = read(&d);
        assert_eq!(
            starts_lengths(&t),
            vec![(1, 1024 * 512, 1024 * 512), (2, 5000 * 512, 0)]
        );
        assert_eq!(t.problems.len(), 2, "{:?}", t.problems);
        assert!(t.problems[0].starts_with("MBR entry 1 at 0x1be: "));
        assert!(t.problems[0].contains("clipped to 0x80000"));
        assert!(t.problems[1].contains("past the disk end"));
    }

    #[test]
    fn mbr_beside_a_stale_gpt_is_used_and_said() {
        let parts = [(BASIC_DATA, 40, 99, "one")];
        let mut d = gpt_disk(512, 2048, &parts);
        d[..512].fill(0);
        mbr_entry(&mut d, 0, 0, 0x07, 100, 200);
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::Mbr));
        assert_eq!(starts_lengths(&t), vec![(1, 100 * 512, 200 * 512)]);
        assert_eq!(t.problems.len(), 1, "{:?}", t.problems);
        assert!(t.problems[0].contains("also holds a valid GPT"));
    }

    #[test]
    fn overlapping_partitions_are_said() {
        let mut d = vec![0u8; MIB];
        mbr_entry(&mut d, 0, 0, 0x07, 100, 200);
        mbr_entry(&mut d, 0, 1, 0x07, 250, 100);
        let t = read(&d);
        assert_eq!(t.partitions.len(), 2);
        assert_eq!(
            t.problems,
            vec!["partition 2 at 0x1f400: overlaps partition 1 (0xc800..0x25800)"]
        );
    }

    #[test]
    fn protective_mbr_without_any_gpt() {
        let mut d = vec![0u8; MIB];
        mbr_entry(&mut d, 0, 0, 0xEE, 1, 2047);
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::Gpt));
        assert!(t.partitions.is_empty());
        assert!(!t.problems.is_empty());
    }

    #[test]
    fn bare_ntfs_volume_is_one_volume() {
        let mut d = vec![0u8; MIB];
        ntfs_boot(&mut d, 0);
        // NTFS boot code where the MBR entries would be.
        for (i, b) in d[446..510].iter_mut().enumerate() {
            *b = (i * 37) as u8;
        }
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::None));
        assert!(t.problems.is_empty(), "{:?}", t.problems);
        assert_eq!(starts_lengths(&t), vec![(1, 0, MIB as u64)]);
        assert_eq!(t.partitions[0].filesystem, "NTFS");
    }

    #[test]
    fn other_bare_volumes() {
        let mut d = vec![0u8; 64 * 1024];
        d[82..90].copy_from_slice(b"FAT32   ");
        assert_eq!(read(&d).partitions[0].filesystem, "FAT32");
        let mut d = vec![0u8; 64 * 1024];
        d[3..11].copy_from_slice(b"EXFAT   ");
        assert_eq!(read(&d).partitions[0].filesystem, "exFAT");
        let mut d = vec![0u8; 64 * 1024];
        d[1080] = 0x53;
        d[1081] = 0xEF;
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::None));
        assert_eq!(t.partitions[0].filesystem, "ext2");
        let t = read(&[0u8; 100]);
        assert_eq!(t.scheme, Some(Scheme::None));
        assert_eq!(t.partitions[0].filesystem, "unknown");
        assert_eq!(t.problems.len(), 1);
        let t = read(&[]);
        assert_eq!(t.scheme, None);
        assert!(t.partitions.is_empty());
    }

    #[test]
    fn read_errors_become_problems() {
        let failing = |_: u64, _: &mut [u8]| -> Result<usize, String> { Err("I/O error".into()) };
        let t = read_partitions(&failing, 1 << 30);
        assert_eq!(t.scheme, None);
        assert_eq!(t.problems.len(), 1);
        assert!(t.problems[0].contains("I/O error"));
        // A reader that claims more than it was asked for is not believed past the buffer.
        let d = extended_disk();
        let inner = reader(&d);
        let liar = |off: u64, buf: &mut [u8]| inner(off, buf).map(|n| n + 1000);
        let t = read_partitions(&liar, d.len() as u64);
        assert_eq!(t.partitions.len(), 5);
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
        /// Any magnitude from 0 to 2^32: small and huge values alike.
        fn wide(&mut self) -> u32 {
            let bits = self.below(33);
            self.below(1 << bits) as u32
        }
    }

    /// Plant a plausible structure so that random data goes deeper than the signature
    /// checks: boot signatures, EBRs, GPT headers with right CRCs over random fields.
    fn plant(rng: &mut XorShift, d: &mut [u8]) {
        let len = d.len();
        if len < 512 {
            return;
        }
        for _ in 0..rng.below(40) {
            let sector = if rng.below(3) == 0 {
                0
            } else {
                rng.below(len as u64 / 512) as usize * 512
            };
            match rng.below(4) {
                0 | 1 => {
                    for slot in 0..4 {
                        let at = sector + 446 + 16 * slot;
                        d[at] = if rng.below(2) == 0 { 0 } else { 0x80 };
                        d[at + 4] = [0x05, 0x0F, 0x85, 0x07, 0xEE, 0x83, 0][rng.below(7) as usize];
                        put_u32(d, at + 8, rng.wide());
                        put_u32(d, at + 12, rng.wide());
                    }
                    d[sector + 510] = 0x55;
                    d[sector + 511] = 0xAA;
                }
                _ => {
                    let ss = if rng.below(2) == 0 { 512 } else { 4096 };
                    let h = match rng.below(3) {
                        0 => ss,
                        1 => (len / ss).saturating_sub(1) * ss,
                        _ => sector,
                    };
                    if h + 512 > len {
                        continue;
                    }
                    d[h..h + 8].copy_from_slice(b"EFI PART");
                    put_u32(d, h + 12, 92 + rng.below(4) as u32 * 100);
                    put_u64(d, h + 24, (h / ss) as u64);
                    if rng.below(2) == 0 {
                        put_u64(d, h + 72, rng.below((len / ss) as u64 + 2));
                    }
                    put_u32(d, h + 80, rng.below(1300) as u32);
                    put_u32(
                        d,
                        h + 84,
                        [128, 256, 136, 4096, 8, 0][rng.below(6) as usize],
                    );
                    if rng.below(2) == 0 {
                        let entries_lba = le_u64(d, h + 72) as usize;
                        let n = le_u32(d, h + 80) as usize * le_u32(d, h + 84) as usize;
                        if let Some(a) = d.get(entries_lba * ss..entries_lba * ss + n) {
                            let c = crc32(a);
                            put_u32(d, h + 88, c);
                        }
                    }
                    let size = (le_u32(d, h + 12) as usize).min(512);
                    d[h + 16..h + 20].fill(0);
                    let c = crc32(&d[h..h + size]);
                    put_u32(d, h + 16, c);
                }
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for round in 0..3000 {
            let len = match rng.below(4) {
                0 => rng.below(2048),
                1 => rng.below(64 * 1024),
                _ => rng.below(512 * 1024),
            } as usize;
            let mut d = vec![0u8; len];
            if round % 4 == 0 {
                for chunk in d.chunks_mut(8) {
                    let bytes = rng.next().to_le_bytes();
                    chunk.copy_from_slice(&bytes[..chunk.len()]);
                }
            } else {
                // Mostly zeros with structure planted in: closer to real disks.
                plant(&mut rng, &mut d);
            }
            // Sometimes claim a bigger disk than the reader has, sometimes fail reads.
            let claimed = match rng.below(4) {
                0 => len as u64 + rng.below(1 << 40),
                1 => u64::MAX - rng.below(1000),
                _ => len as u64,
            };
            let fail_at = rng.below(len as u64 + 1);
            let flaky = rng.below(3) == 0;
            let inner = reader(&d);
            let r = |off: u64, buf: &mut [u8]| {
                if flaky && off >= fail_at {
                    Err("bad sector".to_string())
                } else {
                    inner(off, buf)
                }
            };
            let t = read_partitions(&r, claimed);
            assert!(t.partitions.len() <= 4 + MAX_LOGICALS + MAX_GPT_ENTRIES as usize);
            for p in &t.partitions {
                assert!(p.start.saturating_add(p.length) <= claimed.max(p.start));
            }
        }
    }

    #[test]
    fn mutated_tables_never_panic() {
        let mut rng = XorShift(42);
        let bases = [
            extended_disk(),
            gpt_disk(
                512,
                4096,
                &[(BASIC_DATA, 40, 99, "a"), (EFI_SYSTEM, 100, 4000, "b")],
            ),
            gpt_disk(4096, 600, &[(BASIC_DATA, 40, 99, "a")]),
        ];
        for _ in 0..1500 {
            let base = &bases[rng.below(bases.len() as u64) as usize];
            let mut d = base.clone();
            for _ in 0..1 + rng.below(8) {
                // Hit the tables' sectors mostly.
                let at = match rng.below(3) {
                    0 => rng.below(1024),
                    1 => 8192 * 512 + rng.below(3 * 2048 * 512),
                    _ => rng.below(d.len() as u64),
                } as usize;
                if let Some(b) = d.get_mut(at) {
                    *b = rng.next() as u8;
                }
            }
            let _ = read(&d);
        }
    }
}
