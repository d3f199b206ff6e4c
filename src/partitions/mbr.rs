//! The MBR and the chain of extended boot records (EBRs) behind an extended partition:
//! primary slots 1-4, logicals numbered from 5 in chain order, 512- or 4096-byte sectors.

use super::{Disk, Partition, PartitionTable, finish, u32z};
use crate::{bytes, signature};

/// At most this many logical partitions are read from EBR chains, all together.
pub(super) const MAX_LOGICALS: usize = 128;
/// At most this many EBRs are read (EBRs without a data entry count too).
const MAX_EBRS: usize = 2 * MAX_LOGICALS;

fn has_boot_signature(sector: &[u8]) -> bool {
    bytes::bytes_eq(
        sector,
        signature::BOOT_SIGNATURE_AT,
        &signature::BOOT_SIGNATURE,
    )
}

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct MbrEntry {
    pub(super) kind: u8,
    start: u32,
    pub(super) sectors: u32,
}

impl MbrEntry {
    pub(super) fn used(&self) -> bool {
        self.kind != 0 && self.sectors != 0
    }
}

pub(super) struct MbrSector {
    pub(super) entries: [MbrEntry; 4],
}

impl MbrSector {
    /// The four entries of an MBR or EBR sector: needs the 0x55AA signature and boot
    /// flags of 0x00 or 0x80 only (anything else is boot code or garbage, not a table).
    pub(super) fn parse(sector: &[u8]) -> Option<MbrSector> {
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
                start: u32z(sector, at + 8),
                sectors: u32z(sector, at + 12),
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

pub(super) fn read_mbr(
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
pub(super) fn try_4kn_mbr(disk: &Disk<'_, '_>, mbr: &MbrSector, table: &mut PartitionTable) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partitions::Scheme;
    use crate::partitions::test_disks::*;

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
        assert_eq!(p[1].filesystem, "ext2");
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
}
