//! From an image file to the file system views inside it: open the image (raw, split,
//! E01) under a block cache, read its partition table, and open every NTFS volume.
//! Other file systems are named in a warning and skipped.

use std::path::Path;
use std::sync::Arc;

use super::FileSystem;
use super::ntfs::NtfsFs;
use crate::image::cache::BlockCache;
use crate::image::source::{ImageError, ImageSource, Slice, open_image};
use crate::ntfs::volume::NtfsVolume;
use crate::partitions::{Scheme, read_partitions};
use crate::warning::Warnings;

pub type Shared = Arc<BlockCache<Box<dyn ImageSource>>>;

/// Open the image; `Err` when it cannot be opened at all.
pub fn open(path: &Path) -> Result<Shared, ImageError> {
    Ok(Arc::new(BlockCache::new(open_image(path)?)))
}

/// Every NTFS volume of the image as a view; `source` labels are `<input> p<N>@<offset>`
/// (or the input alone for a bare volume).
pub fn ntfs_views(image: Shared, label: &str, warnings: &Warnings) -> Vec<Box<dyn FileSystem>> {
    for (location, what) in image.known_gaps() {
        warnings.push(label, location, what);
    }
    let size = image.size();
    let reader = {
        let image = image.clone();
        move |offset: u64, buf: &mut [u8]| image.read_at(offset, buf).map_err(|e| e.to_string())
    };
    let table = read_partitions(&reader, size);
    for problem in &table.problems {
        warnings.push(label, "partition table", problem.clone());
    }
    let mut views: Vec<Box<dyn FileSystem>> = Vec::new();
    for partition in &table.partitions {
        if partition.is_extended() {
            continue;
        }
        let bare = table.scheme == Some(Scheme::None);
        let view_label = if bare {
            label.to_string()
        } else {
            format!("{label} p{}@{}", partition.number, partition.start)
        };
        if partition.filesystem != "NTFS" {
            warnings.push(
                label,
                format!("partition {} at byte {}", partition.number, partition.start),
                not_read(&partition.filesystem, &partition.type_name),
            );
            continue;
        }
        let slice = Slice::new(image.clone(), partition.start, partition.length);
        match NtfsVolume::open(slice) {
            Ok(volume) => views.push(Box::new(NtfsFs::new(volume, view_label))),
            Err(e) => warnings.push(
                label,
                format!("partition {} at byte {}", partition.number, partition.start),
                format!("NTFS volume unreadable: {e}"),
            ),
        }
    }
    if views.is_empty() && table.partitions.is_empty() {
        warnings.push(
            label,
            "partition table",
            "no partitions and no file system found",
        );
    }
    views
}

/// Why a partition is not read: its file system, and for an encrypted one what to do.
fn not_read(filesystem: &str, type_name: &str) -> String {
    let mut message = format!("{filesystem} ({type_name}), not read: only NTFS volumes are read");
    if let Some(format) = crate::signature::VolumeFormat::from_name(filesystem)
        && format.is_encrypted()
    {
        message.push_str("; ");
        message.push_str(format.what_to_do());
    }
    message
}
