//! From an image file to the file system views inside it: open the image (raw, split,
//! E01) under a block cache, read its partition table, and open every NTFS volume, and
//! (unless told not to) every Volume Shadow Copy of each as a view of its own, after the
//! live volume: `source` names it `<volume> vss<N>@<creation time, UTC>`, N counting from
//! the oldest. Stores kept on another volume are looked for among the image's NTFS
//! volumes, then among those of the other images given to the scan ([`store_volumes`]:
//! a server's diff area is often on another disk). Other file systems are named in a
//! warning and skipped.

use std::path::Path;
use std::sync::Arc;

use super::FileSystem;
use super::ntfs::NtfsFs;
use crate::image::cache::BlockCache;
use crate::image::source::{ImageError, ImageSource, Slice, open_image};
use crate::ntfs::volume::NtfsVolume;
use crate::partitions::{Scheme, read_partitions};
use crate::vss::{Guid, Shadows, VolumeHeader, volume_header};
use crate::warning::Warnings;

pub type Shared = Arc<BlockCache<Box<dyn ImageSource>>>;

/// Open the image; `Err` when it cannot be opened at all.
pub fn open(path: &Path) -> Result<Shared, ImageError> {
    Ok(Arc::new(BlockCache::new(open_image(path)?)))
}

/// A volume of the image: its bytes, its view label, where it is (for warnings).
struct Volume {
    bytes: Arc<dyn ImageSource>,
    label: String,
    location: String,
}

/// A volume of an image given to the scan that has shadow copies set up (a VSS volume
/// header): where a volume of another image may keep its stores.
#[derive(Clone)]
pub struct StoreVolume {
    id: Guid,
    bytes: Arc<dyn ImageSource>,
}

/// The NTFS volumes of `image` with a VSS volume header, read quietly (the scan of the
/// image itself says what is wrong with it).
pub fn store_volumes(image: &Shared) -> Vec<StoreVolume> {
    let reader = {
        let image = image.clone();
        move |offset: u64, buf: &mut [u8]| image.read_at(offset, buf).map_err(|e| e.to_string())
    };
    let table = read_partitions(&reader, image.size());
    let mut out = Vec::new();
    for partition in &table.partitions {
        if partition.is_extended() || partition.filesystem != "NTFS" {
            continue;
        }
        let bytes: Arc<dyn ImageSource> =
            Arc::new(Slice::new(image.clone(), partition.start, partition.length));
        if let Ok(Some(header)) = volume_header(bytes.as_ref()) {
            out.push(StoreVolume {
                id: header.volume_id,
                bytes,
            });
        }
    }
    out
}

/// How views and warnings name a volume of the image: the input alone for a bare
/// volume, else `<input> p<N>@<offset>`.
fn view_label(label: &str, bare: bool, partition: &crate::partitions::Partition) -> String {
    if bare {
        label.to_string()
    } else {
        format!("{label} p{}@{}", partition.number, partition.start)
    }
}

/// Every NTFS volume of the image as a view; `source` labels are `<input> p<N>@<offset>`
/// (or the input alone for a bare volume). With `shadow_copies`, each volume's
/// snapshots follow it, oldest first.
pub fn ntfs_views(
    image: Shared,
    label: &str,
    warnings: &Warnings,
    shadow_copies: bool,
) -> Vec<Box<dyn FileSystem>> {
    ntfs_views_with(image, label, warnings, shadow_copies, &[])
}

/// [`ntfs_views`], with the volumes of other images where stores may be kept
/// (`elsewhere`: see [`store_volumes`]).
pub fn ntfs_views_with(
    image: Shared,
    label: &str,
    warnings: &Warnings,
    shadow_copies: bool,
    elsewhere: &[StoreVolume],
) -> Vec<Box<dyn FileSystem>> {
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
    let mut volumes: Vec<Volume> = Vec::new();
    for partition in &table.partitions {
        if partition.is_extended() {
            continue;
        }
        let bare = table.scheme == Some(Scheme::None);
        let view_label = view_label(label, bare, partition);
        if partition.filesystem != "NTFS" {
            warnings.push(
                label,
                format!("partition {} at byte {}", partition.number, partition.start),
                not_read(&partition.filesystem, &partition.type_name),
            );
            continue;
        }
        let location = format!("partition {} at byte {}", partition.number, partition.start);
        let bytes: Arc<dyn ImageSource> =
            Arc::new(Slice::new(image.clone(), partition.start, partition.length));
        match NtfsVolume::open(bytes.clone()) {
            Ok(volume) => views.push(Box::new(NtfsFs::new(volume, view_label.clone()))),
            Err(e) => warnings.push(label, &location, format!("NTFS volume unreadable: {e}")),
        }
        volumes.push(Volume {
            bytes,
            label: view_label,
            location,
        });
    }
    if shadow_copies {
        views = with_snapshots(views, &volumes, elsewhere, label, warnings);
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

/// The views with each volume's snapshots after it (views and volumes are in the same
/// order, a volume whose NTFS did not open has no view but may keep others' stores).
fn with_snapshots(
    views: Vec<Box<dyn FileSystem>>,
    volumes: &[Volume],
    elsewhere: &[StoreVolume],
    label: &str,
    warnings: &Warnings,
) -> Vec<Box<dyn FileSystem>> {
    let headers: Vec<Option<VolumeHeader>> = volumes
        .iter()
        .map(|v| match volume_header(v.bytes.as_ref()) {
            Ok(header) => header,
            Err(e) => {
                warnings.push(label, &v.location, e.to_string());
                None
            }
        })
        .collect();
    let mut out = Vec::new();
    let mut views = views.into_iter().peekable();
    for (volume, header) in volumes.iter().zip(&headers) {
        // A volume whose live file system does not open still has its snapshots read.
        if views.peek().is_some_and(|v| v.source() == volume.label) {
            out.extend(views.next());
        }
        let Some(header) = header else { continue };
        // Stores on another volume: one of this image's, else one of another image
        // given to the scan; else the error naming the volume that is missing.
        let storage = (!header.storage_is_local())
            .then(|| {
                headers
                    .iter()
                    .position(|h| h.as_ref().is_some_and(|h| h.volume_id == header.storage_id))
                    .map(|at| volumes[at].bytes.clone())
                    .or_else(|| {
                        elsewhere
                            .iter()
                            .find(|s| s.id == header.storage_id)
                            .map(|s| s.bytes.clone())
                    })
            })
            .flatten();
        let opened = match storage {
            Some(storage) => {
                Shadows::open_with_storage(volume.bytes.clone(), storage, &volume.label)
            }
            None => Shadows::open(volume.bytes.clone(), &volume.label),
        };
        let shadows = match opened {
            Ok(Some(shadows)) => shadows,
            Ok(None) => continue,
            Err(e) => {
                warnings.push(label, &volume.location, e.to_string());
                continue;
            }
        };
        for n in 1..=shadows.len() {
            let where_ = format!("{}: shadow copy {n}", volume.location);
            let snapshot = match shadows.snapshot(n) {
                Ok(snapshot) => snapshot,
                Err(e) => {
                    warnings.push(label, where_, e.to_string());
                    continue;
                }
            };
            let source = snapshot_source(&volume.label, n, &snapshot);
            match NtfsVolume::open(snapshot) {
                Ok(ntfs) => out.push(Box::new(
                    NtfsFs::new(ntfs, source).with_snapshot_of(volume.label.clone()),
                )),
                Err(e) => warnings.push(
                    label,
                    where_,
                    format!("NTFS in the snapshot unreadable: {e}"),
                ),
            }
        }
    }
    out.extend(views);
    out
}

/// `<volume> vss<N>@<creation time to the second, UTC>`.
fn snapshot_source(volume: &str, n: usize, snapshot: &crate::vss::SnapshotView) -> String {
    let created = snapshot
        .created()
        .and_then(|t| chrono::DateTime::from_timestamp(t.unix_seconds(), 0))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "unknown-time".into());
    format!("{volume} vss{n}@{created}")
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
