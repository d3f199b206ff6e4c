//! The GUID partition table: the primary header at LBA 1 (512- or 4096-byte sectors),
//! the backup header at the disk's last LBA, the entries arrays, and the CRC32s that
//! decide which of them is believed.

use super::{Disk, Partition, finish, u16z, u32z, u64z};
use crate::bytes::{self, crc32};

/// GPT headers claiming more entries than this are not believed.
pub(super) const MAX_GPT_ENTRIES: u32 = 1024;
const MIN_GPT_ENTRY_SIZE: u32 = 128;
const MAX_GPT_ENTRY_SIZE: u32 = 4096;

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
pub(super) fn read_gpt(
    disk: &Disk<'_, '_>,
    problems: &mut Vec<String>,
) -> Option<(u64, Vec<Partition>)> {
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
        .is_ok_and(|b| b.as_slice() == crate::signature::GPT)
}

fn read_gpt_header(disk: &Disk<'_, '_>, ss: u64, lba: u64) -> Result<GptHeader, String> {
    let offset = lba
        .checked_mul(ss)
        .ok_or_else(|| "sector number overflows".to_string())?;
    let b = disk.read_exact(offset, 512)?;
    if !bytes::bytes_eq(&b, 0, crate::signature::GPT) {
        return Err("no \"EFI PART\" signature".into());
    }
    let header_size = u32z(&b, 12);
    if !(92..=512).contains(&header_size) {
        return Err(format!("implausible header size {header_size}"));
    }
    let stored_crc = u32z(&b, 16);
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
    let my_lba = u64z(&b, 24);
    if my_lba != lba {
        return Err(format!(
            "header says it is at LBA {my_lba}, but it is at LBA {lba}"
        ));
    }
    let entries = u32z(&b, 80);
    let entry_size = u32z(&b, 84);
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
        alternate_lba: u64z(&b, 32),
        entries_lba: u64z(&b, 72),
        entries,
        entry_size,
        entries_crc: u32z(&b, 88),
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
        let first = u64z(entry, 32);
        let last = u64z(entry, 40);
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
        let name = bytes::utf16_until_nul(name_bytes);
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
    let d1 = u32z(b, 0);
    let d2 = u16z(b, 4);
    let d3 = u16z(b, 6);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partitions::Scheme;
    use crate::partitions::test_disks::*;
    use crate::partitions::u32z as le_u32;

    #[test]
    fn guid_text_is_mixed_endian() {
        assert_eq!(guid_text(&guid_bytes(BASIC_DATA)), BASIC_DATA);
        assert_eq!(gpt_type_name(BASIC_DATA), "Microsoft basic data");
        assert_eq!(guid_text(&[]), "00000000-0000-0000-0000-000000000000");
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
}
