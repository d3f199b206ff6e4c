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
/// A Windows event log (EVTX) file header, at 0.
pub const EVTX_FILE: &[u8; 8] = b"ElfFile\0";
/// Each 64 KiB chunk of an event log.
pub const EVTX_CHUNK: &[u8; 8] = b"ElfChnk\0";
/// An ESE database's header signature (0x89ABCDEF little-endian), at [`ESE_SIGNATURE_AT`].
pub const ESE_SIGNATURE: [u8; 4] = 0x89AB_CDEFu32.to_le_bytes();
pub const ESE_SIGNATURE_AT: usize = 4;
/// A Prefetch file's signature (at [`PREFETCH_SIGNATURE_AT`], after the version).
pub const PREFETCH_SIGNATURE: &[u8; 4] = b"SCCA";
pub const PREFETCH_SIGNATURE_AT: usize = 4;
/// A compressed Prefetch file (Windows 10 and later): `MAM` and the LZXPRESS Huffman
/// format's 4 (the decompressed size follows).
pub const PREFETCH_MAM: &[u8; 4] = b"MAM\x04";
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

/// A ZIP archive's first local file header (`PK\x03\x04` at 0).
pub const ZIP_LOCAL: &[u8; 4] = b"PK\x03\x04";
/// The end of central directory record: at 0 only in an empty ZIP.
pub const ZIP_EMPTY: &[u8; 4] = b"PK\x05\x06";
/// A ustar header's magic (POSIX `ustar\0`, GNU `ustar  \0`), at [`USTAR_AT`].
pub const USTAR: &[u8; 5] = b"ustar";
pub const USTAR_AT: usize = 257;
/// A gzip member's magic.
pub const GZIP: &[u8; 2] = b"\x1f\x8b";
/// A qcow or qcow2 image (QEMU): `QFI\xfb` at 0.
pub const QCOW: &[u8; 4] = b"QFI\xfb";
/// A VirtualBox disk image: its magic at [`VDI_MAGIC_AT`].
pub const VDI_MAGIC: [u8; 4] = 0xBEDA_107Fu32.to_le_bytes();
pub const VDI_MAGIC_AT: usize = 0x40;
/// A 7-Zip archive.
pub const SEVEN_ZIP: &[u8; 6] = b"7z\xbc\xaf\x27\x1c";
/// A RAR archive, version 1.5 to 4 and version 5.
pub const RAR4: &[u8; 7] = b"Rar!\x1a\x07\x00";
pub const RAR5: &[u8; 8] = b"Rar!\x1a\x07\x01\x00";
/// A LUKS (1 or 2) encrypted volume's header.
pub const LUKS: &[u8; 6] = b"LUKS\xba\xbe";
/// OEM ids at [`OEM_ID_AT`] of other boot sectors.
pub const EXFAT_OEM: &[u8; 8] = b"EXFAT   ";
pub const REFS_OEM: &[u8; 8] = b"ReFS\0\0\0\0";
pub const BITLOCKER_OEM: &[u8; 8] = b"-FVE-FS-";
/// FAT file system type labels: FAT32's at 82, FAT12/16's at 54.
pub const FAT32_LABEL: (usize, &[u8; 8]) = (82, b"FAT32   ");
pub const FAT16_LABEL: (usize, &[u8; 8]) = (54, b"FAT16   ");
pub const FAT12_LABEL: (usize, &[u8; 8]) = (54, b"FAT12   ");
/// The ext2/3/4 superblock lives at 1024; its magic 0xEF53 at 0x38 in it.
pub const EXT_SUPERBLOCK_AT: usize = 1024;
pub const EXT_MAGIC: [u8; 2] = 0xEF53u16.to_le_bytes();
/// The HFS+ / HFSX volume header lives at 1024: `H+` version 4, `HX` version 5.
pub const HFS_HEADER_AT: usize = 1024;
pub const HFS_PLUS: [u8; 4] = *b"H+\x00\x04";
pub const HFSX: [u8; 4] = *b"HX\x00\x05";
/// An APFS container superblock: `NXSB` after the 32-byte object header.
pub const APFS: (usize, &[u8; 4]) = (32, b"NXSB");

/// What a volume's first sectors say its file system is (NTFS is read; the others are
/// named so that a refusal or a warning can say what they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeFormat {
    Ntfs,
    ExFat,
    ReFs,
    BitLocker,
    Fat32,
    Fat16,
    Fat12,
    Ext2,
    Ext3,
    Ext4,
    HfsPlus,
    Hfsx,
    Apfs,
    Luks,
}

impl VolumeFormat {
    pub const ALL: [VolumeFormat; 14] = [
        VolumeFormat::Ntfs,
        VolumeFormat::ExFat,
        VolumeFormat::ReFs,
        VolumeFormat::BitLocker,
        VolumeFormat::Fat32,
        VolumeFormat::Fat16,
        VolumeFormat::Fat12,
        VolumeFormat::Ext2,
        VolumeFormat::Ext3,
        VolumeFormat::Ext4,
        VolumeFormat::HfsPlus,
        VolumeFormat::Hfsx,
        VolumeFormat::Apfs,
        VolumeFormat::Luks,
    ];

    /// The format [`VolumeFormat::name`] names.
    pub fn from_name(name: &str) -> Option<VolumeFormat> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            VolumeFormat::Ntfs => "NTFS",
            VolumeFormat::ExFat => "exFAT",
            VolumeFormat::ReFs => "ReFS",
            VolumeFormat::BitLocker => "BitLocker",
            VolumeFormat::Fat32 => "FAT32",
            VolumeFormat::Fat16 => "FAT16",
            VolumeFormat::Fat12 => "FAT12",
            VolumeFormat::Ext2 => "ext2",
            VolumeFormat::Ext3 => "ext3",
            VolumeFormat::Ext4 => "ext4",
            VolumeFormat::HfsPlus => "HFS+",
            VolumeFormat::Hfsx => "HFSX",
            VolumeFormat::Apfs => "APFS",
            VolumeFormat::Luks => "LUKS",
        }
    }

    /// What an examiner can do with a volume of this format, which this version does
    /// not read (empty for NTFS).
    pub fn what_to_do(self) -> &'static str {
        match self {
            VolumeFormat::Ntfs => "",
            VolumeFormat::BitLocker => {
                "decrypt it first (e.g. with the recovery key via dislocker or bdemount) and \
                 give the decrypted volume or its mount point"
            }
            VolumeFormat::Luks => {
                "open it first (cryptsetup open --readonly) and give the decrypted device or \
                 its mount point"
            }
            _ => "mount it read-only and give the mount point (a folder)",
        }
    }

    /// Is the volume encrypted (its file system unreadable without a key)?
    pub fn is_encrypted(self) -> bool {
        matches!(self, VolumeFormat::BitLocker | VolumeFormat::Luks)
    }
}

/// The file systems known by their boot sector (the first 512 bytes): NTFS, exFAT,
/// ReFS, BitLocker, FAT32/16/12.
pub fn boot_sector_format(b: &[u8]) -> Option<VolumeFormat> {
    let at = |(off, want): (usize, &[u8; 8])| bytes_eq(b, off, want);
    if bytes_eq(b, OEM_ID_AT, NTFS_OEM) {
        Some(VolumeFormat::Ntfs)
    } else if bytes_eq(b, OEM_ID_AT, EXFAT_OEM) {
        Some(VolumeFormat::ExFat)
    } else if bytes_eq(b, OEM_ID_AT, REFS_OEM) {
        Some(VolumeFormat::ReFs)
    } else if bytes_eq(b, OEM_ID_AT, BITLOCKER_OEM) {
        Some(VolumeFormat::BitLocker)
    } else if at(FAT32_LABEL) {
        Some(VolumeFormat::Fat32)
    } else if at(FAT16_LABEL) {
        Some(VolumeFormat::Fat16)
    } else if at(FAT12_LABEL) {
        Some(VolumeFormat::Fat12)
    } else {
        None
    }
}

/// What a volume's first bytes (2 KiB where it has them) say its file system is: the
/// boot-sector formats, LUKS and APFS (in the first sector), ext2/3/4 and HFS+/HFSX (at
/// 1024).
pub fn volume_format(b: &[u8]) -> Option<VolumeFormat> {
    if let Some(format) = boot_sector_format(b) {
        return Some(format);
    }
    if b.starts_with(LUKS) {
        return Some(VolumeFormat::Luks);
    }
    if bytes_eq(b, APFS.0, APFS.1) {
        return Some(VolumeFormat::Apfs);
    }
    if bytes_eq(b, HFS_HEADER_AT, &HFS_PLUS) {
        return Some(VolumeFormat::HfsPlus);
    }
    if bytes_eq(b, HFS_HEADER_AT, &HFSX) {
        return Some(VolumeFormat::Hfsx);
    }
    if bytes_eq(b, EXT_SUPERBLOCK_AT + 0x38, &EXT_MAGIC) {
        return Some(ext_generation(b));
    }
    None
}

/// ext4 when the superblock asks for an ext4 feature (extents, 64-bit, flex_bg, metadata
/// checksums), else ext3 when it has a journal, else ext2.
fn ext_generation(b: &[u8]) -> VolumeFormat {
    let field = |off: usize| crate::bytes::u32_le(b, EXT_SUPERBLOCK_AT + off).unwrap_or(0);
    let (compat, incompat, ro_compat) = (field(0x5C), field(0x60), field(0x64));
    const INCOMPAT_EXT4: u32 = 0x40 | 0x80 | 0x200; // extents, 64bit, flex_bg
    const RO_COMPAT_EXT4: u32 = 0x8 | 0x400; // huge_file, metadata_csum
    const COMPAT_HAS_JOURNAL: u32 = 0x4;
    if incompat & INCOMPAT_EXT4 != 0 || ro_compat & RO_COMPAT_EXT4 != 0 {
        VolumeFormat::Ext4
    } else if compat & COMPAT_HAS_JOURNAL != 0 {
        VolumeFormat::Ext3
    } else {
        VolumeFormat::Ext2
    }
}

/// Files this version knows but does not read as an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherFormat {
    Qcow,
    Vdi,
    SevenZip,
    Rar,
}

impl OtherFormat {
    pub fn name(self) -> &'static str {
        match self {
            OtherFormat::Qcow => "a qcow/qcow2 (QEMU) disk image",
            OtherFormat::Vdi => "a VirtualBox VDI disk image",
            OtherFormat::SevenZip => "a 7-Zip archive",
            OtherFormat::Rar => "a RAR archive",
        }
    }

    pub fn what_to_do(self) -> &'static str {
        match self {
            OtherFormat::Qcow => {
                "convert it to raw (qemu-img convert -O raw IMAGE OUT.raw); raw, E01, VHD, VHDX \
                 and VMDK images are read as they are"
            }
            OtherFormat::Vdi => {
                "convert it to raw (qemu-img convert -O raw IMAGE OUT.raw, or VBoxManage \
                 clonemedium disk IMAGE OUT.raw --format RAW); raw, E01, VHD, VHDX and VMDK \
                 images are read as they are"
            }
            OtherFormat::SevenZip | OtherFormat::Rar => {
                "unpack it outside the evidence folder and give the folder, or convert it to ZIP"
            }
        }
    }
}

/// The segment number in an EWF v1 file header (E01 is 1, E02 is 2, ...).
pub const EWF_SEGMENT_NUMBER_AT: usize = 9;

/// Recognise a file of a format this version does not read, from its first bytes.
pub fn other_format(head: &[u8]) -> Option<OtherFormat> {
    if head.starts_with(QCOW) {
        Some(OtherFormat::Qcow)
    } else if bytes_eq(head, VDI_MAGIC_AT, &VDI_MAGIC) {
        Some(OtherFormat::Vdi)
    } else if head.starts_with(SEVEN_ZIP) {
        Some(OtherFormat::SevenZip)
    } else if head.starts_with(RAR4) || head.starts_with(RAR5) {
        Some(OtherFormat::Rar)
    } else {
        None
    }
}

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
    /// A ZIP archive (or an empty one).
    Zip,
    /// A tar archive (ustar, GNU or pax).
    Tar,
    /// gzip-compressed data: a tar.gz when what it inflates to is a tar ([`is_tar`]).
    Gzip,
    /// MFT records: a `$MFT` copied out of its volume.
    MftFile,
    /// A Windows event log (EVTX).
    EventLog,
    /// An ESE database (SRUM's `SRUDB.dat`, and others).
    EseDatabase,
    /// A Windows Prefetch file (`SCCA`, or `MAM\x04` compressed).
    Prefetch,
}

/// A Prefetch file: `SCCA` after a version Windows wrote, or a MAM header.
pub fn is_prefetch(head: &[u8]) -> bool {
    let scca = bytes_eq(head, PREFETCH_SIGNATURE_AT, PREFETCH_SIGNATURE)
        && matches!(crate::bytes::u32_le(head, 0), Some(17 | 23 | 26 | 30 | 31));
    scca || head.starts_with(PREFETCH_MAM)
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
    if head.starts_with(EVTX_FILE) {
        return Some(Signature::EventLog);
    }
    if bytes_eq(head, ESE_SIGNATURE_AT, &ESE_SIGNATURE) {
        return Some(Signature::EseDatabase);
    }
    if is_prefetch(head) {
        return Some(Signature::Prefetch);
    }
    if head.starts_with(ZIP_LOCAL) || head.starts_with(ZIP_EMPTY) {
        return Some(Signature::Zip);
    }
    if is_tar(head) {
        return Some(Signature::Tar);
    }
    if head.starts_with(GZIP) {
        return Some(Signature::Gzip);
    }
    match boot_sector_format(head) {
        Some(VolumeFormat::Ntfs) => return Some(Signature::NtfsVolume),
        // Another file system's boot sector also ends in 55 AA: it is no MBR.
        Some(_) => return None,
        None => {}
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

/// Does a tar header start here (ustar magic at 257)?
pub fn is_tar(head: &[u8]) -> bool {
    bytes_eq(head, USTAR_AT, USTAR)
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

    #[test]
    fn archives() {
        assert_eq!(of_file(b"PK\x03\x04\x14\0"), Some(Signature::Zip));
        assert_eq!(of_file(b"PK\x05\x06\0\0"), Some(Signature::Zip));
        assert_eq!(of_file(b"PK\x07\x08"), None);
        let mut tar = vec![0u8; 512];
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(of_file(&tar), Some(Signature::Tar));
        assert_eq!(of_file(&tar[..260]), None);
        assert_eq!(of_file(b"\x1f\x8b\x08\0"), Some(Signature::Gzip));
    }
}
