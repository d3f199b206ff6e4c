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
/// An MFT record's signature: a `$MFT` copied out of its volume starts with one.
pub const MFT_RECORD: &[u8; 4] = b"FILE";
/// An NTFS boot sector's OEM id, at [`OEM_ID_AT`].
pub const NTFS_OEM: &[u8; 8] = b"NTFS    ";
/// Where a boot sector keeps its OEM id.
pub const OEM_ID_AT: usize = 3;
/// The boot signature of an MBR or boot sector, at [`BOOT_SIGNATURE_AT`].
pub const BOOT_SIGNATURE: [u8; 2] = [0x55, 0xAA];
pub const BOOT_SIGNATURE_AT: usize = 510;
/// A GPT header's signature (at LBA 1).
pub const GPT: &[u8; 8] = b"EFI PART";

/// A VHD footer's cookie: the last 512 bytes of every VHD, and a copy in the first 512
/// bytes of a dynamic or differencing one.
pub const VHD_FOOTER: &[u8; 8] = b"conectix";
/// A dynamic VHD's header cookie.
pub const VHD_DYNAMIC_HEADER: &[u8; 8] = b"cxsparse";
/// A VHDX file's identifier (at 0).
pub const VHDX: &[u8; 8] = b"vhdxfile";
/// A VMDK sparse extent (hosted sparse, stream-optimized): `KDMV` at 0.
pub const VMDK_SPARSE: &[u8; 4] = b"KDMV";
/// An ESX (COWD) sparse extent, a format this version does not read.
pub const VMDK_COWD: &[u8; 4] = b"COWD";
/// The first line of a VMDK descriptor file.
pub const VMDK_DESCRIPTOR: &[u8] = b"# Disk DescriptorFile";

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
    /// A VHD (Virtual PC, Hyper-V); a fixed VHD is known by its last bytes only
    /// ([`is_vhd_footer`]).
    Vhd,
    /// A VHDX (Hyper-V).
    Vhdx,
    /// A VMDK (VMware): a sparse extent or a descriptor file.
    Vmdk,
    /// MFT records: a `$MFT` copied out of its volume.
    MftFile,
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
    if head.starts_with(VHDX) {
        return Some(Signature::Vhdx);
    }
    if head.starts_with(VHD_FOOTER) {
        return Some(Signature::Vhd);
    }
    if head.starts_with(VMDK_SPARSE) || is_vmdk_descriptor(head) {
        return Some(Signature::Vmdk);
    }
    if head.starts_with(MFT_RECORD) {
        return Some(Signature::MftFile);
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

/// Are these the last 512 bytes of a VHD (its footer; a fixed VHD has no other mark)?
pub fn is_vhd_footer(tail: &[u8]) -> bool {
    tail.len() == 512 && tail.starts_with(VHD_FOOTER)
}

/// Does the text start as a VMDK descriptor file does (after blank space)?
pub fn is_vmdk_descriptor(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    head.get(start..)
        .is_some_and(|h| h.starts_with(VMDK_DESCRIPTOR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_disks() {
        assert_eq!(of_file(b"vhdxfile\x00"), Some(Signature::Vhdx));
        assert_eq!(of_file(b"conectix\x00"), Some(Signature::Vhd));
        assert_eq!(of_file(b"KDMV\x01\x00\x00\x00"), Some(Signature::Vmdk));
        assert_eq!(of_file(b"  # Disk DescriptorFile\n"), Some(Signature::Vmdk));
        assert_eq!(of_file(b"COWD"), None);
        let mut tail = vec![0u8; 512];
        assert!(!is_vhd_footer(&tail));
        tail[..8].copy_from_slice(VHD_FOOTER);
        assert!(is_vhd_footer(&tail));
        assert!(!is_vhd_footer(&tail[..511]));
        assert!(!is_vmdk_descriptor(b"# Disk"));
        assert!(!is_vmdk_descriptor(b""));
    }
}
