//! Synthetic disks for the partition table tests: MBR and EBR entries, NTFS boot
//! sectors, GPT disks with every CRC right, and a reader over a byte slice.

use super::{PartitionTable, read_partitions};
use crate::bytes::crc32;

pub(super) const MIB: usize = 1 << 20;

pub(super) fn reader(disk: &[u8]) -> impl Fn(u64, &mut [u8]) -> Result<usize, String> + '_ {
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

pub(super) fn read(disk: &[u8]) -> PartitionTable {
    let r = reader(disk);
    read_partitions(&r, disk.len() as u64)
}

pub(super) fn put_u32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub(super) fn put_u64(d: &mut [u8], at: usize, v: u64) {
    d[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// One MBR/EBR entry in the sector at byte `sector`.
pub(super) fn mbr_entry(
    d: &mut [u8],
    sector: usize,
    slot: usize,
    kind: u8,
    start: u32,
    sectors: u32,
) {
    let at = sector + 446 + 16 * slot;
    d[at] = 0;
    d[at + 4] = kind;
    put_u32(d, at + 8, start);
    put_u32(d, at + 12, sectors);
    d[sector + 510] = 0x55;
    d[sector + 511] = 0xAA;
}

pub(super) fn ntfs_boot(d: &mut [u8], at: usize) {
    d[at..at + 3].copy_from_slice(&[0xEB, 0x52, 0x90]);
    d[at + 3..at + 11].copy_from_slice(b"NTFS    ");
    d[at + 510] = 0x55;
    d[at + 511] = 0xAA;
}

pub(super) fn guid_bytes(text: &str) -> [u8; 16] {
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

pub(super) const BASIC_DATA: &str = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";
pub(super) const EFI_SYSTEM: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
pub(super) const MS_RESERVED: &str = "E3C9E316-0B5C-4DB8-817D-F92DF00215AE";

/// A GPT disk of `sectors` sectors of `ss` bytes, 128 entries of 128 bytes, with a
/// protective MBR, primary and backup headers and arrays, all CRCs right.
pub(super) fn gpt_disk(ss: usize, sectors: usize, parts: &[(&str, u64, u64, &str)]) -> Vec<u8> {
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

pub(super) fn starts_lengths(t: &PartitionTable) -> Vec<(u32, u64, u64)> {
    t.partitions
        .iter()
        .map(|p| (p.number, p.start, p.length))
        .collect()
}

/// Extended partition in slot 2 from sector 8192; three EBRs each 2048 sectors apart,
/// each logical 63 sectors after its EBR (relative to the EBR), links relative to the
/// extended partition's start.
pub(super) fn extended_disk() -> Vec<u8> {
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
