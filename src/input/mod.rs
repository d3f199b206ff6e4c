//! What an input is, decided from its content, never from its name alone.

pub mod refusal;

use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A mounted image or a triage collection.
    Directory,
    /// A registry hive (`regf`).
    RegistryHive,
    /// An Expert Witness (E01) image.
    Ewf,
    /// A bare NTFS volume.
    NtfsVolume,
    /// A whole disk with a GPT.
    GptDisk,
    /// A whole disk with an MBR.
    MbrDisk,
    /// A VHD (fixed, dynamic or differencing).
    Vhd,
    /// A VHDX (fixed, dynamic or differencing).
    Vhdx,
    /// A VMDK: a descriptor file or a sparse extent.
    Vmdk,
    /// A ZIP archive (a Velociraptor collection, a zipped KAPE target folder...).
    Zip,
    /// A tar archive.
    Tar,
    /// A gzip-compressed tar archive.
    TarGz,
    /// A `$MFT` copied out of its volume (a collection's, or `icat IMG 0`).
    CollectedMft,
    /// A Windows event log (EVTX) given on its own.
    EventLog,
    /// An ESE database given on its own (SRUM's `SRUDB.dat`).
    EseDatabase,
    /// A Windows Prefetch file given on its own.
    Prefetch,
}

impl InputKind {
    /// A disk or volume image (raw, E01, virtual disk): its volumes are read by our NTFS
    /// code.
    pub fn is_image(self) -> bool {
        matches!(
            self,
            InputKind::Ewf
                | InputKind::NtfsVolume
                | InputKind::GptDisk
                | InputKind::MbrDisk
                | InputKind::Vhd
                | InputKind::Vhdx
                | InputKind::Vmdk
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            InputKind::Directory => "directory",
            InputKind::RegistryHive => "registry hive",
            InputKind::Ewf => "E01 image",
            InputKind::NtfsVolume => "NTFS volume image",
            InputKind::GptDisk => "disk image (GPT)",
            InputKind::MbrDisk => "disk image (MBR)",
            InputKind::Vhd => "VHD virtual disk",
            InputKind::Vhdx => "VHDX virtual disk",
            InputKind::Vmdk => "VMDK virtual disk",
            InputKind::Zip => "ZIP archive",
            InputKind::Tar => "tar archive",
            InputKind::TarGz => "tar.gz archive",
            InputKind::CollectedMft => "collected NTFS $MFT",
            InputKind::EventLog => "Windows event log (EVTX)",
            InputKind::EseDatabase => "ESE database (SRUM)",
            InputKind::Prefetch => "Windows Prefetch file",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{input}: cannot open: {source}")]
    Open {
        input: String,
        source: std::io::Error,
    },
    #[error(
        "{input}: not a recognised input (expected a directory, a registry hive, an event log, a disk image, a $MFT or a ZIP/tar archive)"
    )]
    Unrecognised { input: String },
    #[error("{input}: {kind} inputs are not supported by this version yet")]
    Unsupported { input: String, kind: &'static str },
    #[error("{input}: cannot open the image: {reason}")]
    Image { input: String, reason: String },
    #[error("{input}: gzip-compressed file, not a tar: decompress it first")]
    GzipNotTar { input: String },
    #[error("{0}")]
    Archive(String),
    /// A format this version knows but does not read, named, with what to do.
    #[error("{input}: {}: not read by this version; {}", refusal.what, refusal.what_to_do)]
    Refused {
        input: String,
        refusal: refusal::Refusal,
    },
}

/// A password for encrypted archive entries; never shown in debug output.
#[derive(Clone, Default)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// An input as the examiner gave it, with its detected kind.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    /// The input as given, for `source` columns and messages.
    pub label: String,
    pub kind: InputKind,
    /// The password for encrypted archive entries, when the examiner gave one.
    pub password: Option<Password>,
}

/// Open the input far enough to tell what it is.
pub fn detect(path: &Path) -> Result<Input, InputError> {
    let label = crate::host::display_name(path.as_os_str());
    let meta = std::fs::metadata(path).map_err(|source| InputError::Open {
        input: label.clone(),
        source,
    })?;
    let kind = if meta.is_dir() {
        // A directory we cannot list is as unusable as a file we cannot open.
        std::fs::read_dir(path).map_err(|source| InputError::Open {
            input: label.clone(),
            source,
        })?;
        InputKind::Directory
    } else {
        let refused = |refusal| InputError::Refused {
            input: label.clone(),
            refusal,
        };
        if meta.len() == 0 {
            return Err(refused(refusal::empty_file()));
        }
        // 2 KiB: ext and HFS+ keep their superblocks at 1024.
        let mut head = Vec::with_capacity(2048);
        crate::host::open_evidence_file(path)
            .and_then(|f| f.take(2048).read_to_end(&mut head))
            .map_err(|source| InputError::Open {
                input: label.clone(),
                source,
            })?;
        // A fixed VHD starts as the disk it holds: its footer at the end says what it is.
        let virtual_disk = match crate::image::virtual_disk::detect(path) {
            Ok(Some(signature)) => detect_signature(signature),
            _ => None,
        };
        let kind = virtual_disk.or_else(|| detect_bytes(&head));
        if let Some(why) = refusal::later_segment(path, &head, kind.is_some()) {
            return Err(refused(why));
        }
        let kind = match kind {
            Some(kind) => kind,
            None => {
                return Err(match refusal::of_content(&head) {
                    Some(why) => refused(why),
                    None => InputError::Unrecognised {
                        input: label.clone(),
                    },
                });
            }
        };
        if kind == InputKind::TarGz && !gzip_holds_tar(path).unwrap_or(false) {
            return Err(InputError::GzipNotTar { input: label });
        }
        kind
    };
    Ok(Input {
        path: path.to_path_buf(),
        label,
        kind,
        password: None,
    })
}

/// Does the gzip file inflate to a tar (a ustar header first)?
fn gzip_holds_tar(path: &Path) -> std::io::Result<bool> {
    let file = crate::host::open_evidence_file(path)?;
    let mut head = Vec::with_capacity(512);
    flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file))
        .take(512)
        .read_to_end(&mut head)?;
    Ok(crate::signature::is_tar(&head))
}

/// Recognise a file input from its first bytes (at least 1024 where the file has them).
pub fn detect_bytes(head: &[u8]) -> Option<InputKind> {
    detect_signature(crate::signature::of_file(head)?)
}

fn detect_signature(signature: crate::signature::Signature) -> Option<InputKind> {
    use crate::signature::Signature;
    match signature {
        Signature::Hive => Some(InputKind::RegistryHive),
        Signature::Ewf => Some(InputKind::Ewf),
        Signature::NtfsVolume => Some(InputKind::NtfsVolume),
        Signature::GptDisk => Some(InputKind::GptDisk),
        Signature::MbrDisk => Some(InputKind::MbrDisk),
        Signature::Vhd => Some(InputKind::Vhd),
        Signature::Vhdx => Some(InputKind::Vhdx),
        Signature::Vmdk => Some(InputKind::Vmdk),
        Signature::Zip => Some(InputKind::Zip),
        Signature::Tar => Some(InputKind::Tar),
        // Checked by inflating its start ([`detect`]): a gzip that is not a tar is refused.
        Signature::Gzip => Some(InputKind::TarGz),
        Signature::MftFile => Some(InputKind::CollectedMft),
        Signature::EventLog => Some(InputKind::EventLog),
        Signature::EseDatabase => Some(InputKind::EseDatabase),
        Signature::Prefetch => Some(InputKind::Prefetch),
        // Files, not a disk: not an input this version reads.
        Signature::EwfLogical => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        assert_eq!(
            detect_bytes(b"regf\x01\0\0\0"),
            Some(InputKind::RegistryHive)
        );
        assert_eq!(
            detect_bytes(b"EVF\x09\x0d\x0a\xff\x00\x01"),
            Some(InputKind::Ewf)
        );
        let mut ntfs = vec![0u8; 512];
        ntfs[3..11].copy_from_slice(b"NTFS    ");
        assert_eq!(detect_bytes(&ntfs), Some(InputKind::NtfsVolume));
        let mut mbr = vec![0u8; 1024];
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        mbr[446 + 4] = 0x07;
        assert_eq!(detect_bytes(&mbr), Some(InputKind::MbrDisk));
        mbr[512..520].copy_from_slice(b"EFI PART");
        assert_eq!(detect_bytes(&mbr), Some(InputKind::GptDisk));
        assert_eq!(detect_bytes(b"vhdxfile\0\0"), Some(InputKind::Vhdx));
        assert_eq!(detect_bytes(b"conectix\0\0"), Some(InputKind::Vhd));
        assert_eq!(detect_bytes(b"KDMV\x01\0\0\0"), Some(InputKind::Vmdk));
        assert_eq!(
            detect_bytes(b"\n# Disk DescriptorFile\nversion=1\n"),
            Some(InputKind::Vmdk)
        );
        assert_eq!(
            detect_bytes(b"FILE0\0\x03\0"),
            Some(InputKind::CollectedMft)
        );
        assert_eq!(detect_bytes(b"# Disk Descriptor"), None);
        assert_eq!(detect_bytes(b"just some text"), None);
        assert_eq!(detect_bytes(b""), None);
    }
}
