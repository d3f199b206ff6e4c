//! The one list of file signatures: what the first bytes of a file, a volume or a disk
//! say it is. Input detection, the image readers, the partition reader, content
//! sniffing and the hive reader all test these constants, so a format is recognised the
//! same way everywhere.

use crate::bytes::bytes_eq;

/// A registry hive or transaction log (`regf` at 0).
pub const REGF: &[u8; 4] = b"regf";
/// A Windows executable (`MZ` at 0).
pub const MZ: &[u8; 2] = b"MZ";
/// EWF v1 file signature (E01, S01).
pub const EVF: [u8; 8] = *b"EVF\x09\x0d\x0a\xff\x00";
/// EWF v1 logical evidence (L01).
pub const LVF: [u8; 8] = *b"LVF\x09\x0d\x0a\xff\x00";
/// EWF v2 (Ex01).
pub const EVF2: [u8; 8] = *b"EVF2\x0d\x0a\x81\x00";
/// EWF v2 logical evidence (Lx01).
pub const LEF2: [u8; 8] = *b"LEF2\x0d\x0a\x81\x00";
/// An NTFS boot sector's OEM id, at [`OEM_ID_AT`].
pub const NTFS_OEM: &[u8; 8] = b"NTFS    ";
/// Where a boot sector keeps its OEM id.
pub const OEM_ID_AT: usize = 3;
/// The boot signature of an MBR or boot sector, at [`BOOT_SIGNATURE_AT`].
pub const BOOT_SIGNATURE: [u8; 2] = [0x55, 0xAA];
pub const BOOT_SIGNATURE_AT: usize = 510;
/// A GPT header's signature (at LBA 1).
pub const GPT: &[u8; 8] = b"EFI PART";

/// What the first bytes of an input file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    Hive,
    /// An E01 or Ex01 disk image.
    Ewf,
    /// An L01 or Lx01 logical evidence file (files, not a disk).
    EwfLogical,
    NtfsVolume,
    GptDisk,
    MbrDisk,
}

/// Recognise a file from its first bytes (at least 1024 where the file has them).
pub fn of_file(head: &[u8]) -> Option<Signature> {
    if head.starts_with(REGF) {
        return Some(Signature::Hive);
    }
    if head.starts_with(&EVF) || head.starts_with(&EVF2) {
        return Some(Signature::Ewf);
    }
    if head.starts_with(&LVF) || head.starts_with(&LEF2) {
        return Some(Signature::EwfLogical);
    }
    if bytes_eq(head, OEM_ID_AT, NTFS_OEM) {
        return Some(Signature::NtfsVolume);
    }
    let boot = bytes_eq(head, BOOT_SIGNATURE_AT, &BOOT_SIGNATURE);
    if boot && bytes_eq(head, 512, GPT) {
        return Some(Signature::GptDisk);
    }
    if boot {
        // An MBR: four partition entries at 446, each with status 0x00 or 0x80.
        let entries_ok = (0..4).all(|i| matches!(head[446 + i * 16], 0x00 | 0x80));
        let any_type = (0..4).any(|i| head[446 + i * 16 + 4] != 0);
        if entries_ok && any_type {
            return Some(Signature::MbrDisk);
        }
    }
    None
}

/// Is this an EWF segment of any kind (disk or logical, v1 or v2)?
pub fn is_ewf(head: &[u8]) -> bool {
    matches!(
        of_file(head.get(..8).unwrap_or_default()),
        Some(Signature::Ewf | Signature::EwfLogical)
    )
}
