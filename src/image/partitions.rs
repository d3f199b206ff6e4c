//! Partition tables (MBR with its EBR chain, GPT) read as pure functions over a byte
//! reader, so they work on any image source (raw, split, E01) and on synthetic disks.
//!
//! Everything read from the disk is data to distrust: every offset is checked against
//! `disk_size`, every multiplication is checked, allocations are bounded by fixed caps
//! (a GPT entries array is at most 1024 entries of at most 4096 bytes), EBR chains are
//! capped and cycle-checked, and nothing panics. What looks wrong is kept where it can be
//! and said in [`PartitionTable::problems`], each as "location: message" with a byte
//! offset, so an examiner can look at the spot with another tool.

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
    /// What the partition's first sectors say: "NTFS", "FAT32", "FAT16", "FAT12",
    /// "exFAT", "ReFS", "BitLocker", "ext" or "unknown".
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

/// At most this many logical partitions are read from EBR chains, all together.
const MAX_LOGICALS: usize = 128;
/// At most this many EBRs are read (EBRs without a data entry count too).
const MAX_EBRS: usize = 2 * MAX_LOGICALS;
/// GPT headers claiming more entries than this are not believed.
const MAX_GPT_ENTRIES: u32 = 1024;
const MIN_GPT_ENTRY_SIZE: u32 = 128;
const MAX_GPT_ENTRY_SIZE: u32 = 4096;
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

/// What the first bytes of a volume at `start` say it is: "NTFS", "exFAT", "ReFS",
/// "BitLocker", "FAT32", "FAT16", "FAT12", "ext" or "unknown". Reads at most 2 KiB, and
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

fn le_u16(b: &[u8], at: usize) -> u16 {
    at.checked_add(2)
        .and_then(|end| b.get(at..end))
        .and_then(|s| s.try_into().ok())
        .map(u16::from_le_bytes)
        .unwrap_or(0)
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    at.checked_add(4)
        .and_then(|end| b.get(at..end))
        .and_then(|s| s.try_into().ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    at.checked_add(8)
        .and_then(|end| b.get(at..end))
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

fn bytes_at(b: &[u8], at: usize, want: &[u8]) -> bool {
    at.checked_add(want.len())
        .and_then(|end| b.get(at..end))
        .is_some_and(|s| s == want)
}

fn has_boot_signature(sector: &[u8]) -> bool {
    bytes_at(sector, 510, &[0x55, 0xAA])
}

// ---------------------------------------------------------------------------------------
// File systems

fn filesystem_name(b: &[u8]) -> &'static str {
    boot_sector_filesystem(b).unwrap_or_else(|| {
        if le_u16(b, 1024 + 56) == 0xEF53 {
            "ext"
        } else {
            "unknown"
        }
    })
}

/// File systems recognised by their boot sector (the first 512 bytes).
fn boot_sector_filesystem(b: &[u8]) -> Option<&'static str> {
    if bytes_at(b, 3, b"NTFS    ") {
        Some("NTFS")
    } else if bytes_at(b, 3, b"EXFAT   ") {
        Some("exFAT")
    } else if bytes_at(b, 3, b"ReFS\0\0\0\0") {
        Some("ReFS")
    } else if bytes_at(b, 3, b"-FVE-FS-") {
        Some("BitLocker")
    } else if bytes_at(b, 82, b"FAT32   ") {
        Some("FAT32")
    } else if bytes_at(b, 54, b"FAT16   ") {
        Some("FAT16")
    } else if bytes_at(b, 54, b"FAT12   ") {
        Some("FAT12")
    } else {
        None
    }
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

// ---------------------------------------------------------------------------------------
// MBR

#[derive(Debug, Clone, Copy, Default)]
struct MbrEntry {
    kind: u8,
    start: u32,
    sectors: u32,
}

impl MbrEntry {
    fn used(&self) -> bool {
        self.kind != 0 && self.sectors != 0
    }
}

struct MbrSector {
    entries: [MbrEntry; 4],
}

impl MbrSector {
    /// The four entries of an MBR or EBR sector: needs the 0x55AA signature and boot
    /// flags of 0x00 or 0x80 only (anything else is boot code or garbage, not a table).
    fn parse(sector: &[u8]) -> Option<MbrSector> {
        if !has_boot_signature(sector) {
            return None;
        }
        let mut entries = [MbrEntry::default(); 4];
        for (slot, e) in entries.iter_mut().enumerate() {
            let at = 446 + 16 * slot;
            let flag = sector.get(at).copied()?;
            if flag != 0x00 && flag != 0x80 {
                return None;
            }
            *e = MbrEntry {
                kind: sector.get(at + 4).copied()?,
                start: le_u32(sector, at + 8),
                sectors: le_u32(sector, at + 12),
            };
        }
        Some(MbrSector { entries })
    }
}

fn is_extended_kind(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0F | 0x85)
}

fn mbr_partition(number: u32, kind: u8, start: u64, length: u64) -> Partition {
    Partition {
        number,
        start,
        length,
        type_code: format!("0x{kind:02x}"),
        type_name: format!("{} (0x{kind:02x})", mbr_type_name(kind)),
        name: String::new(),
        filesystem: "unknown".into(),
    }
}

fn read_mbr(
    disk: &Disk<'_, '_>,
    mbr: &MbrSector,
    ss: u64,
    problems: &mut Vec<String>,
) -> Vec<Partition> {
    let mut parts = Vec::new();
    let mut extended = Vec::new();
    for (slot, e) in mbr.entries.iter().enumerate() {
        if !e.used() {
            continue;
        }
        let number = slot as u32 + 1;
        let location = format!("MBR entry {number} at {:#x}", 446 + 16 * slot);
        if e.start == 0 {
            problems.push(format!(
                "{location}: type 0x{:02x} starts at sector 0 (the MBR itself); ignored",
                e.kind
            ));
            continue;
        }
        let mut p = mbr_partition(
            number,
            e.kind,
            u64::from(e.start) * ss,
            u64::from(e.sectors) * ss,
        );
        if is_extended_kind(e.kind) {
            extended.push((u64::from(e.start), u64::from(e.sectors)));
        }
        finish(disk, &mut p, &location, problems);
        if p.is_extended() {
            // A container: its first sector is an EBR, not a file system.
            p.filesystem = "unknown".into();
        }
        parts.push(p);
    }
    let mut next_number = 5u32;
    let mut ebrs_read = 0usize;
    for (ext_start, ext_sectors) in extended {
        read_ebr_chain(
            disk,
            ss,
            ext_start,
            ext_sectors,
            &mut next_number,
            &mut ebrs_read,
            &mut parts,
            problems,
        );
    }
    parts
}

/// Follow one extended partition's EBR chain. A logical's start is relative to its own
/// EBR; the link to the next EBR is relative to the extended partition's start.
#[allow(clippy::too_many_arguments)]
fn read_ebr_chain(
    disk: &Disk<'_, '_>,
    ss: u64,
    ext_start: u64,
    ext_sectors: u64,
    next_number: &mut u32,
    ebrs_read: &mut usize,
    parts: &mut Vec<Partition>,
    problems: &mut Vec<String>,
) {
    let ext_end = ext_start.saturating_add(ext_sectors);
    let mut visited: Vec<u64> = Vec::new();
    let mut ebr_lba = ext_start;
    loop {
        let ebr_off = ebr_lba.saturating_mul(ss);
        let location = format!("EBR at {ebr_off:#x}");
        if visited.contains(&ebr_lba) {
            problems.push(format!(
                "{location}: the chain loops back to an EBR already read; chain stopped"
            ));
            return;
        }
        if *ebrs_read >= MAX_EBRS || (*next_number as usize) > 4 + MAX_LOGICALS {
            problems.push(format!(
                "{location}: more than {MAX_LOGICALS} logical partitions or {MAX_EBRS} EBRs; \
                 chain stopped"
            ));
            return;
        }
        visited.push(ebr_lba);
        *ebrs_read += 1;
        let sector = match ebr_lba
            .checked_mul(ss)
            .ok_or_else(|| "sector number overflows".to_string())
            .and_then(|off| disk.read_exact(off, 512))
        {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{location}: cannot read: {e}; chain stopped"));
                return;
            }
        };
        let Some(ebr) = MbrSector::parse(&sector) else {
            problems.push(format!(
                "{location}: no valid EBR (0x55AA signature or boot flags); chain stopped"
            ));
            return;
        };
        for (slot, e) in ebr.entries.iter().enumerate() {
            if !e.used() || is_extended_kind(e.kind) {
                continue;
            }
            if (*next_number as usize) > 4 + MAX_LOGICALS {
                problems.push(format!(
                    "{location}: more than {MAX_LOGICALS} logical partitions; the rest ignored"
                ));
                return;
            }
            let entry_location = format!("EBR entry {} at {:#x}", slot + 1, ebr_off + 446);
            let Some(start_lba) = ebr_lba.checked_add(u64::from(e.start)) else {
                continue;
            };
            let (Some(start), Some(length)) = (
                start_lba.checked_mul(ss),
                u64::from(e.sectors).checked_mul(ss),
            ) else {
                problems.push(format!("{entry_location}: offset overflows; ignored"));
                continue;
            };
            let mut p = mbr_partition(*next_number, e.kind, start, length);
            *next_number += 1;
            if e.start == 0 {
                problems.push(format!(
                    "{entry_location}: logical partition {} starts on its own EBR",
                    p.number
                ));
            }
            finish(disk, &mut p, &entry_location, problems);
            parts.push(p);
        }
        let Some(link) = ebr
            .entries
            .iter()
            .find(|e| e.used() && is_extended_kind(e.kind))
        else {
            return; // the chain's end
        };
        let Some(next) = ext_start.checked_add(u64::from(link.start)) else {
            problems.push(format!(
                "{location}: link to the next EBR overflows; chain stopped"
            ));
            return;
        };
        if next < ext_start || next >= ext_end {
            problems.push(format!(
                "{location}: the next EBR (sector {next}) lies outside the extended partition \
                 (sectors {ext_start}..{ext_end})"
            ));
        }
        ebr_lba = next;
    }
}

/// A 4Kn disk with an MBR counts sectors of 4096 bytes. When no partition shows a known
/// file system with 512-byte sectors but some do with 4096, take 4096.
fn try_4kn_mbr(disk: &Disk<'_, '_>, mbr: &MbrSector, table: &mut PartitionTable) {
    let known = |parts: &[Partition]| parts.iter().filter(|p| p.filesystem != "unknown").count();
    if table.partitions.is_empty() || known(&table.partitions) > 0 {
        return;
    }
    let mut problems = Vec::new();
    let parts = read_mbr(disk, mbr, 4096, &mut problems);
    if known(&parts) > 0 {
        problems.push(
            "MBR at 0x0: no file system found with 512-byte sectors, some with 4096-byte \
             sectors; 4096 used"
                .into(),
        );
        table.sector_size = 4096;
        table.partitions = parts;
        table.problems = problems;
    }
}

fn mbr_type_name(kind: u8) -> &'static str {
    match kind {
        0x01 => "FAT12",
        0x04 => "FAT16 <32M",
        0x05 => "extended",
        0x06 => "FAT16",
        0x07 => "NTFS/exFAT/HPFS",
        0x0B => "FAT32",
        0x0C => "FAT32 (LBA)",
        0x0E => "FAT16 (LBA)",
        0x0F => "extended",
        0x11 => "hidden FAT12",
        0x12 => "OEM diagnostics/recovery",
        0x14 => "hidden FAT16 <32M",
        0x16 => "hidden FAT16",
        0x17 => "hidden NTFS/exFAT/HPFS",
        0x1B => "hidden FAT32",
        0x1C => "hidden FAT32 (LBA)",
        0x1E => "hidden FAT16 (LBA)",
        0x27 => "Windows recovery",
        0x42 => "Windows dynamic disk (LDM)",
        0x82 => "Linux swap / Solaris",
        0x83 => "Linux",
        0x84 => "hibernation",
        0x85 => "Linux extended",
        0x86 | 0x87 => "NTFS volume set",
        0x8E => "Linux LVM",
        0xA5 => "FreeBSD",
        0xA6 => "OpenBSD",
        0xA8 => "Darwin UFS",
        0xA9 => "NetBSD",
        0xAB => "Darwin boot",
        0xAF => "HFS/HFS+",
        0xBF => "Solaris",
        0xDE => "Dell utility",
        0xEE => "GPT protective",
        0xEF => "EFI system",
        0xFB => "VMware VMFS",
        0xFD => "Linux RAID",
        _ => "unknown",
    }
}

// ---------------------------------------------------------------------------------------
// GPT

struct GptHeader {
    /// Byte offset the header was read at.
    offset: u64,
    alternate_lba: u64,
    entries_lba: u64,
    entries: u32,
    entry_size: u32,
    entries_crc: u32,
}

/// The GPT: the sector size it uses and its partitions, or None when no header is usable.
fn read_gpt(disk: &Disk<'_, '_>, problems: &mut Vec<String>) -> Option<(u64, Vec<Partition>)> {
    // The primary header sits at LBA 1, whose offset gives the sector size.
    let primary_ss = [512u64, 4096]
        .into_iter()
        .find(|&ss| has_gpt_signature_at(disk, ss));
    // (sector size, LBA, what it is)
    let mut attempts: Vec<(u64, u64, &str)> = Vec::new();
    match primary_ss {
        Some(ss) => {
            attempts.push((ss, 1, "GPT header"));
            if let Some(last) = last_lba(disk, ss) {
                attempts.push((ss, last, "GPT backup header"));
            }
        }
        None => {
            for ss in [512u64, 4096] {
                if let Some(last) = last_lba(disk, ss)
                    && last > 1
                    && has_gpt_signature_at(disk, last.saturating_mul(ss))
                {
                    attempts.push((ss, last, "GPT backup header"));
                }
            }
            if attempts.is_empty() {
                return None;
            }
        }
    }

    let mut pending: Vec<String> = Vec::new();
    if primary_ss.is_none() {
        pending
            .push("GPT header at 0x200: missing (no \"EFI PART\" at 0x200 or 0x1000)".to_string());
    }
    let mut fallback: Option<(u64, GptHeader, Vec<u8>)> = None;
    let mut tried: Vec<u64> = Vec::new();
    let mut i = 0;
    while let Some(&(ss, lba, what)) = attempts.get(i) {
        i += 1;
        let offset = lba.saturating_mul(ss);
        if tried.contains(&offset) {
            continue;
        }
        tried.push(offset);
        let header = match read_gpt_header(disk, ss, lba) {
            Ok(h) => h,
            Err(e) => {
                pending.push(format!("{what} at {offset:#x}: {e}"));
                continue;
            }
        };
        if lba == 1 {
            let alt_off = header.alternate_lba.saturating_mul(ss);
            if alt_off.saturating_add(ss) > disk.size {
                problems.push(format!(
                    "{what} at {offset:#x}: the backup header's LBA {} ({alt_off:#x}) is past \
                     the disk end ({:#x}); the image may be truncated",
                    header.alternate_lba, disk.size
                ));
            } else if header.alternate_lba != 1 {
                // Prefer the header's own pointer to the backup over the last LBA.
                attempts.insert(i, (ss, header.alternate_lba, "GPT backup header"));
            }
        }
        let array_off = header.entries_lba.saturating_mul(ss);
        let array = match read_gpt_array(disk, ss, &header) {
            Ok(a) => a,
            Err(e) => {
                pending.push(format!("GPT entries at {array_off:#x} (from {what}): {e}"));
                continue;
            }
        };
        if crc32(&array) != header.entries_crc {
            pending.push(format!(
                "GPT entries at {array_off:#x} (from {what} at {offset:#x}): CRC32 mismatch"
            ));
            if fallback.is_none() {
                fallback = Some((ss, header, array));
            }
            continue;
        }
        flush_pending(problems, pending, Some(what), offset);
        return Some((ss, gpt_partitions(disk, ss, &header, &array, problems)));
    }
    if let Some((ss, header, array)) = fallback {
        let offset = header.offset;
        flush_pending(problems, pending, None, offset);
        problems.push(format!(
            "GPT header at {offset:#x}: no entries array with a good CRC32; its entries are \
             listed anyway"
        ));
        return Some((ss, gpt_partitions(disk, ss, &header, &array, problems)));
    }
    problems.append(&mut pending);
    None
}

/// Say what went wrong before the header finally used, and which header that is.
fn flush_pending(problems: &mut Vec<String>, pending: Vec<String>, used: Option<&str>, at: u64) {
    let n = pending.len();
    for (k, mut msg) in pending.into_iter().enumerate() {
        if k + 1 == n
            && let Some(what) = used
        {
            let what = what.strip_prefix("GPT ").unwrap_or(what);
            msg.push_str(&format!("; using the {what} at {at:#x}"));
        }
        problems.push(msg);
    }
}

fn last_lba(disk: &Disk<'_, '_>, ss: u64) -> Option<u64> {
    (disk.size / ss).checked_sub(1)
}

fn has_gpt_signature_at(disk: &Disk<'_, '_>, offset: u64) -> bool {
    disk.read_exact(offset, 8)
        .is_ok_and(|b| b.as_slice() == b"EFI PART")
}

fn read_gpt_header(disk: &Disk<'_, '_>, ss: u64, lba: u64) -> Result<GptHeader, String> {
    let offset = lba
        .checked_mul(ss)
        .ok_or_else(|| "sector number overflows".to_string())?;
    let b = disk.read_exact(offset, 512)?;
    if !bytes_at(&b, 0, b"EFI PART") {
        return Err("no \"EFI PART\" signature".into());
    }
    let header_size = le_u32(&b, 12);
    if !(92..=512).contains(&header_size) {
        return Err(format!("implausible header size {header_size}"));
    }
    let stored_crc = le_u32(&b, 16);
    let mut copy = b.get(..header_size as usize).unwrap_or_default().to_vec();
    if let Some(field) = copy.get_mut(16..20) {
        field.fill(0);
    }
    let computed = crc32(&copy);
    if computed != stored_crc {
        return Err(format!(
            "CRC32 mismatch (stored {stored_crc:#010x}, computed {computed:#010x})"
        ));
    }
    let my_lba = le_u64(&b, 24);
    if my_lba != lba {
        return Err(format!(
            "header says it is at LBA {my_lba}, but it is at LBA {lba}"
        ));
    }
    let entries = le_u32(&b, 80);
    let entry_size = le_u32(&b, 84);
    if !(MIN_GPT_ENTRY_SIZE..=MAX_GPT_ENTRY_SIZE).contains(&entry_size)
        || !entry_size.is_multiple_of(8)
    {
        return Err(format!("implausible entry size {entry_size}"));
    }
    if entries > MAX_GPT_ENTRIES {
        return Err(format!(
            "implausible number of entries {entries} (more than {MAX_GPT_ENTRIES})"
        ));
    }
    Ok(GptHeader {
        offset,
        alternate_lba: le_u64(&b, 32),
        entries_lba: le_u64(&b, 72),
        entries,
        entry_size,
        entries_crc: le_u32(&b, 88),
    })
}

fn read_gpt_array(disk: &Disk<'_, '_>, ss: u64, h: &GptHeader) -> Result<Vec<u8>, String> {
    if h.entries_lba < 1 {
        return Err(format!("implausible entries LBA {}", h.entries_lba));
    }
    let offset = h
        .entries_lba
        .checked_mul(ss)
        .ok_or_else(|| "entries LBA overflows".to_string())?;
    // Both factors are capped (1024 x 4096), so this is at most 4 MiB.
    let len = h.entries as usize * h.entry_size as usize;
    disk.read_exact(offset, len)
}

fn gpt_partitions(
    disk: &Disk<'_, '_>,
    ss: u64,
    h: &GptHeader,
    array: &[u8],
    problems: &mut Vec<String>,
) -> Vec<Partition> {
    let mut parts = Vec::new();
    let esz = h.entry_size as usize;
    let array_off = h.entries_lba.saturating_mul(ss);
    for (index, entry) in array.chunks_exact(esz).enumerate() {
        let Some(type_guid) = entry.get(0..16) else {
            continue;
        };
        if type_guid.iter().all(|&b| b == 0) {
            continue;
        }
        let number = index as u32 + 1;
        let location = format!(
            "GPT entry {number} at {:#x}",
            array_off.saturating_add((index * esz) as u64)
        );
        let first = le_u64(entry, 32);
        let last = le_u64(entry, 40);
        if last < first {
            problems.push(format!(
                "{location}: last LBA {last} before first LBA {first}; ignored"
            ));
            continue;
        }
        let (Some(start), Some(length)) = (
            first.checked_mul(ss),
            (last - first)
                .checked_add(1)
                .and_then(|n| n.checked_mul(ss)),
        ) else {
            problems.push(format!(
                "{location}: LBAs {first}..={last} overflow; ignored"
            ));
            continue;
        };
        let type_code = guid_text(type_guid);
        let type_name = gpt_type_name(&type_code).to_string();
        let name_bytes = entry.get(56..128).unwrap_or_default();
        let units: Vec<u16> = name_bytes
            .chunks_exact(2)
            .map(|c| le_u16(c, 0))
            .take_while(|&u| u != 0)
            .collect();
        let name = char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        let mut p = Partition {
            number,
            start,
            length,
            type_code,
            type_name,
            name,
            filesystem: "unknown".into(),
        };
        finish(disk, &mut p, &location, problems);
        parts.push(p);
    }
    parts
}

/// A GUID in the mixed-endian text form Windows prints:
/// `EBD0A0A2-B9E5-4433-87C0-68B6B72699C7`.
pub fn guid_text(b: &[u8]) -> String {
    let d1 = le_u32(b, 0);
    let d2 = le_u16(b, 4);
    let d3 = le_u16(b, 6);
    let tail: String = (8..16)
        .map(|i| format!("{:02X}", b.get(i).copied().unwrap_or(0)))
        .collect();
    let (d4, d5) = tail.split_at(4);
    format!("{d1:08X}-{d2:04X}-{d3:04X}-{d4}-{d5}")
}

fn gpt_type_name(guid: &str) -> &'static str {
    match guid {
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" => "EFI system",
        "E3C9E316-0B5C-4DB8-817D-F92DF00215AE" => "MS reserved",
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" => "Microsoft basic data",
        "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC" => "Windows recovery",
        "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3" => "LDM metadata",
        "AF9B60A0-1431-4F62-BC68-3311714A69AD" => "LDM data",
        "E75CAF8F-F680-4CEE-AFA3-B001E56EFC2D" => "Storage Spaces",
        "558D43C5-A1AC-43C0-AAC8-D1472B2923D1" => "Storage Replica",
        "024DEE41-33E7-11D3-9D69-0008C781F39F" => "MBR partition scheme",
        "21686148-6449-6E6F-744E-656564454649" => "BIOS boot",
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4" => "Linux filesystem",
        "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" => "Linux swap",
        "E6D6D379-F507-44C2-A23C-238F2A3DF928" => "Linux LVM",
        "A19D880F-05FC-4D3B-A006-743F0F84911E" => "Linux RAID",
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" => "Linux root (x86-64)",
        "933AC7E1-2EB4-4F13-B844-0E14E2AEF915" => "Linux home",
        "BC13C2FF-59E6-4262-A352-B275FD6F7172" => "Linux extended boot",
        "CA7D7CCB-63ED-4C53-861C-1742536059CC" => "Linux LUKS",
        "48465300-0000-11AA-AA11-00306543ECAC" => "Apple HFS+",
        "7C3457EF-0000-11AA-AA11-00306543ECAC" => "Apple APFS",
        "516E7CB6-6ECF-11D6-8FF8-00022D09712B" => "FreeBSD UFS",
        "6A898CC3-1DD2-11B2-99A6-080020736631" => "Solaris /usr or Apple ZFS",
        _ => "unknown",
    }
}

// ---------------------------------------------------------------------------------------
// CRC32 (IEEE 802.3, reflected polynomial 0xEDB88320), as GPT uses it

const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC32_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn reader(disk: &[u8]) -> impl Fn(u64, &mut [u8]) -> Result<usize, String> + '_ {
        move |off, buf| {
            let Ok(off) = usize::try_from(off) else {
                return Ok(0);
            };
            let Some(src) = disk.get(off..) else {
                return Ok(0);
            };
            let n = src.len().min(buf.len());
            buf[..n].copy_from_slice(&src[..n]);
            Ok(n)
        }
    }

    fn read(disk: &[u8]) -> PartitionTable {
        let r = reader(disk);
        read_partitions(&r, disk.len() as u64)
    }

    fn put_u32(d: &mut [u8], at: usize, v: u32) {
        d[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn put_u64(d: &mut [u8], at: usize, v: u64) {
        d[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// One MBR/EBR entry in the sector at byte `sector`.
    fn mbr_entry(d: &mut [u8], sector: usize, slot: usize, kind: u8, start: u32, sectors: u32) {
        let at = sector + 446 + 16 * slot;
        d[at] = 0;
        d[at + 4] = kind;
        put_u32(d, at + 8, start);
        put_u32(d, at + 12, sectors);
        d[sector + 510] = 0x55;
        d[sector + 511] = 0xAA;
    }

    fn ntfs_boot(d: &mut [u8], at: usize) {
        d[at..at + 3].copy_from_slice(&[0xEB, 0x52, 0x90]);
        d[at + 3..at + 11].copy_from_slice(b"NTFS    ");
        d[at + 510] = 0x55;
        d[at + 511] = 0xAA;
    }

    fn guid_bytes(text: &str) -> [u8; 16] {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        let mut raw = [0u8; 16];
        for (i, b) in raw.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        // Mixed endian: the first three groups are little-endian on disk.
        raw[0..4].reverse();
        raw[4..6].reverse();
        raw[6..8].reverse();
        raw
    }

    const BASIC_DATA: &str = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";
    const EFI_SYSTEM: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    const MS_RESERVED: &str = "E3C9E316-0B5C-4DB8-817D-F92DF00215AE";

    /// A GPT disk of `sectors` sectors of `ss` bytes, 128 entries of 128 bytes, with a
    /// protective MBR, primary and backup headers and arrays, all CRCs right.
    fn gpt_disk(ss: usize, sectors: usize, parts: &[(&str, u64, u64, &str)]) -> Vec<u8> {
        let mut d = vec![0u8; ss * sectors];
        mbr_entry(&mut d, 0, 0, 0xEE, 1, (sectors - 1) as u32);
        let mut array = vec![0u8; 128 * 128];
        for (i, (guid, first, last, name)) in parts.iter().enumerate() {
            let e = &mut array[i * 128..(i + 1) * 128];
            e[0..16].copy_from_slice(&guid_bytes(guid));
            e[16] = i as u8 + 1; // unique GUID, anything
            e[32..40].copy_from_slice(&first.to_le_bytes());
            e[40..48].copy_from_slice(&last.to_le_bytes());
            for (k, u) in name.encode_utf16().enumerate() {
                e[56 + 2 * k..58 + 2 * k].copy_from_slice(&u.to_le_bytes());
            }
        }
        let array_sectors = array.len().div_ceil(ss);
        let last = sectors - 1;
        let backup_array = last - array_sectors;
        d[2 * ss..2 * ss + array.len()].copy_from_slice(&array);
        d[backup_array * ss..backup_array * ss + array.len()].copy_from_slice(&array);
        let array_crc = crc32(&array);
        for (lba, alt, entries_lba) in [(1, last, 2), (last, 1, backup_array)] {
            let h = lba * ss;
            d[h..h + 8].copy_from_slice(b"EFI PART");
            put_u32(&mut d, h + 8, 0x0001_0000);
            put_u32(&mut d, h + 12, 92);
            put_u64(&mut d, h + 24, lba as u64);
            put_u64(&mut d, h + 32, alt as u64);
            put_u64(&mut d, h + 40, (2 + array_sectors) as u64);
            put_u64(&mut d, h + 48, (backup_array - 1) as u64);
            put_u64(&mut d, h + 72, entries_lba as u64);
            put_u32(&mut d, h + 80, 128);
            put_u32(&mut d, h + 84, 128);
            put_u32(&mut d, h + 88, array_crc);
            let crc = crc32(&d[h..h + 92]);
            put_u32(&mut d, h + 16, crc);
        }
        d
    }

    fn starts_lengths(t: &PartitionTable) -> Vec<(u32, u64, u64)> {
        t.partitions
            .iter()
            .map(|p| (p.number, p.start, p.length))
            .collect()
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn guid_text_is_mixed_endian() {
        assert_eq!(guid_text(&guid_bytes(BASIC_DATA)), BASIC_DATA);
        assert_eq!(gpt_type_name(BASIC_DATA), "Microsoft basic data");
        assert_eq!(guid_text(&[]), "00000000-0000-0000-0000-000000000000");
    }

    #[test]
    fn mbr_two_primaries() {
        let mut d = vec![0u8; 4 * MIB];
        mbr_entry(&mut d, 0, 0, 0x07, 2048, 2048);
        mbr_entry(&mut d, 0, 1, 0x83, 4096, 4096);
        ntfs_boot(&mut d, 2048 * 512);
        d[4096 * 512 + 1080] = 0x53;
        d[4096 * 512 + 1081] = 0xEF;
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::Mbr));
        assert_eq!(t.sector_size, 512);
        assert!(t.problems.is_empty(), "{:?}", t.problems);
        assert_eq!(
            starts_lengths(&t),
            vec![(1, 2048 * 512, 2048 * 512), (2, 4096 * 512, 4096 * 512)]
        );
        let p = &t.partitions;
        assert_eq!(p[0].type_code, "0x07");
        assert_eq!(p[0].type_name, "NTFS/exFAT/HPFS (0x07)");
        assert_eq!(p[0].filesystem, "NTFS");
        assert_eq!(p[0].name, "");
        assert_eq!(p[1].type_name, "Linux (0x83)");
        assert_eq!(p[1].filesystem, "ext");
    }

    /// Extended partition in slot 2 from sector 8192; three EBRs each 2048 sectors apart,
    /// each logical 63 sectors after its EBR (relative to the EBR), links relative to the
    /// extended partition's start.
    fn extended_disk() -> Vec<u8> {
        let mut d = vec![0u8; 8 * MIB];
        mbr_entry(&mut d, 0, 0, 0x0C, 2048, 6144);
        mbr_entry(&mut d, 0, 1, 0x0F, 8192, 8192);
        for k in 0..3u32 {
            let ebr = 8192 + 2048 * k;
            mbr_entry(&mut d, ebr as usize * 512, 0, 0x07, 63, 1000);
            if k < 2 {
                mbr_entry(&mut d, ebr as usize * 512, 1, 0x05, 2048 * (k + 1), 2048);
            }
        }
        ntfs_boot(&mut d, (8192 + 2048 + 63) * 512);
        d
    }

    #[test]
    fn mbr_extended_with_three_logicals() {
        let t = read(&extended_disk());
        assert_eq!(t.scheme, Some(Scheme::Mbr));
        assert!(t.problems.is_empty(), "{:?}", t.problems);
        assert_eq!(
            starts_lengths(&t),
            vec![
                (1, 2048 * 512, 6144 * 512),
                (2, 8192 * 512, 8192 * 512),
                (5, (8192 + 63) * 512, 1000 * 512),
                (6, (8192 + 2048 + 63) * 512, 1000 * 512),
                (7, (8192 + 4096 + 63) * 512, 1000 * 512),
            ]
        );
        assert!(t.partitions[1].is_extended());
        assert_eq!(t.partitions[1].type_name, "extended (0x0f)");
        assert!(!t.partitions[2].is_extended());
        assert_eq!(t.partitions[3].filesystem, "NTFS");
        assert_eq!(t.partitions[2].filesystem, "unknown");
    }

    #[test]
    fn old_sector_63_alignment() {
        let mut d = vec![0u8; MIB];
        mbr_entry(&mut d, 0, 0, 0x07, 63, 2048 - 63);
        ntfs_boot(&mut d, 63 * 512);
        let t = read(&d);
        assert_eq!(starts_lengths(&t), vec![(1, 63 * 512, (2048 - 63) * 512)]);
        assert_eq!(t.partitions[0].filesystem, "NTFS");
        assert!(t.problems.is_empty(), "{:?}", t.problems);
    }

    #[test]
    fn ebr_loop_terminates_with_a_problem() {
        let mut d = extended_disk();
        // The third EBR links back to the second.
        mbr_entry(&mut d, (8192 + 4096) * 512, 1, 0x05, 2048, 2048);
        let t = read(&d);
        assert_eq!(t.partitions.len(), 5, "{:?}", t.partitions);
        assert!(
            t.problems
                .iter()
                .any(|p| p.starts_with("EBR at 0x") && p.contains("loops back")),
            "{:?}",
            t.problems
        );
        // An EBR that links to itself.
        let mut d = extended_disk();
        mbr_entry(&mut d, 8192 * 512, 1, 0x05, 0, 2048);
        let t = read(&d);
        assert_eq!(t.partitions.len(), 3);
        assert!(t.problems.iter().any(|p| p.contains("loops back")));
    }

    #[test]
    fn long_ebr_chain_is_capped() {
        // 300 EBRs, 2 sectors apart: a logical of 1 sector after each.
        let mut d = vec![0u8; MIB];
        mbr_entry(&mut d, 0, 0, 0x05, 10, 700);
        for k in 0..300u32 {
            let ebr = (10 + 2 * k) as usize * 512;
            mbr_entry(&mut d, ebr, 0, 0x83, 1, 1);
            mbr_entry(&mut d, ebr, 1, 0x05, 2 * (k + 1), 2);
        }
        let t = read(&d);
        assert_eq!(t.partitions.len(), 1 + MAX_LOGICALS);
        assert_eq!(t.partitions.last().map(|p| p.number), Some(132));
        assert!(t.problems.iter().any(|p| p.contains("more than 128")));
    }

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
    fn gpt_with_three_entries() {
        let d = gpt_disk(
            512,
            8192,
            &[
                (EFI_SYSTEM, 2048, 4095, "EFI system partition"),
                (MS_RESERVED, 4096, 4127, "Microsoft reserved partition"),
                (BASIC_DATA, 4128, 8127, "Basic data partition"),
            ],
        );
        let mut d = d;
        ntfs_boot(&mut d, 4128 * 512);
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::Gpt));
        assert_eq!(t.sector_size, 512);
        assert!(t.problems.is_empty(), "{:?}", t.problems);
        assert_eq!(
            starts_lengths(&t),
            vec![
                (1, 2048 * 512, 2048 * 512),
                (2, 4096 * 512, 32 * 512),
                (3, 4128 * 512, 4000 * 512)
            ]
        );
        let p = &t.partitions;
        assert_eq!(p[0].type_name, "EFI system");
        assert_eq!(p[1].type_name, "MS reserved");
        assert_eq!(p[2].type_name, "Microsoft basic data");
        assert_eq!(p[2].type_code, BASIC_DATA);
        assert_eq!(p[2].name, "Basic data partition");
        assert_eq!(p[2].filesystem, "NTFS");
    }

    #[test]
    fn gpt_on_4kn_sectors() {
        let mut d = gpt_disk(4096, 1024, &[(BASIC_DATA, 256, 1015, "data")]);
        ntfs_boot(&mut d, 256 * 4096);
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::Gpt));
        assert_eq!(t.sector_size, 4096);
        assert!(t.problems.is_empty(), "{:?}", t.problems);
        assert_eq!(starts_lengths(&t), vec![(1, 256 * 4096, 760 * 4096)]);
        assert_eq!(t.partitions[0].filesystem, "NTFS");
    }

    #[test]
    fn gpt_bad_primary_header_crc_uses_the_backup() {
        let parts = [
            (BASIC_DATA, 40, 99, "one"),
            (BASIC_DATA, 100, 199, "two"),
            (EFI_SYSTEM, 200, 2000, "three"),
        ];
        let good = read(&gpt_disk(512, 2048, &parts));
        let mut d = gpt_disk(512, 2048, &parts);
        d[512 + 40] ^= 0xFF; // first usable LBA, covered by the header CRC
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::Gpt));
        assert_eq!(t.partitions, good.partitions);
        assert_eq!(t.partitions.len(), 3);
        assert_eq!(
            t.problems,
            vec![format!(
                "GPT header at 0x200: CRC32 mismatch (stored {:#010x}, computed {:#010x}); \
                 using the backup header at {:#x}",
                le_u32(&d, 512 + 16),
                {
                    let mut h = d[512..512 + 92].to_vec();
                    h[16..20].fill(0);
                    crc32(&h)
                },
                2047 * 512
            )]
        );
    }

    #[test]
    fn gpt_bad_primary_entries_use_the_backup() {
        let parts = [(BASIC_DATA, 40, 99, "one")];
        let mut d = gpt_disk(512, 2048, &parts);
        d[2 * 512 + 56] ^= 0x01; // the name of entry 1 in the primary array
        let t = read(&d);
        assert_eq!(t.partitions.len(), 1);
        assert_eq!(t.partitions[0].name, "one");
        assert_eq!(t.problems.len(), 1, "{:?}", t.problems);
        assert!(t.problems[0].starts_with("GPT entries at 0x400"));
        assert!(t.problems[0].contains("using the backup header at 0xffe00"));
    }

    #[test]
    fn gpt_missing_primary_uses_the_backup() {
        let parts = [(BASIC_DATA, 40, 99, "one")];
        let mut d = gpt_disk(512, 2048, &parts);
        d[512..1024].fill(0);
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::Gpt));
        assert_eq!(starts_lengths(&t), vec![(1, 40 * 512, 60 * 512)]);
        assert_eq!(
            t.problems,
            vec![
                "GPT header at 0x200: missing (no \"EFI PART\" at 0x200 or 0x1000); using \
                 the backup header at 0xffe00"
            ]
        );
        // Without the protective MBR too: still found, and said.
        d[..512].fill(0);
        let t = read(&d);
        assert_eq!(t.scheme, Some(Scheme::Gpt));
        assert_eq!(t.partitions.len(), 1);
        assert!(t.problems.iter().any(|p| p.contains("no protective")));
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
    fn mbr_on_4kn_sectors() {
        let mut d = vec![0u8; 2 * MIB];
        mbr_entry(&mut d, 0, 0, 0x07, 256, 256);
        ntfs_boot(&mut d, 256 * 4096);
        let t = read(&d);
        assert_eq!(t.sector_size, 4096);
        assert_eq!(starts_lengths(&t), vec![(1, 256 * 4096, 256 * 4096)]);
        assert_eq!(t.partitions[0].filesystem, "NTFS");
        assert_eq!(t.problems.len(), 1);
    }

    #[test]
    fn gpt_both_arrays_bad_lists_entries_anyway() {
        let parts = [(BASIC_DATA, 40, 99, "one")];
        let mut d = gpt_disk(512, 2048, &parts);
        d[2 * 512 + 56] ^= 0x01;
        let backup_array = (2047 - 32) * 512;
        d[backup_array + 56] ^= 0x01;
        let t = read(&d);
        assert_eq!(starts_lengths(&t), vec![(1, 40 * 512, 60 * 512)]);
        assert!(t.problems.iter().any(|p| p.contains("listed anyway")));
    }

    #[test]
    fn truncated_gpt_image_says_so() {
        let parts = [(BASIC_DATA, 40, 1999, "one")];
        let d = gpt_disk(512, 2048, &parts);
        let t = read(&d[..1024 * 512]);
        assert_eq!(t.scheme, Some(Scheme::Gpt));
        assert_eq!(starts_lengths(&t), vec![(1, 40 * 512, (1024 - 40) * 512)]);
        assert!(t.problems.iter().any(|p| p.contains("may be truncated")));
        assert!(t.problems.iter().any(|p| p.contains("clipped")));
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
        assert_eq!(t.partitions[0].filesystem, "ext");
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
