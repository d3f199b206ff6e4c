//! Volume Shadow Copies read by our reader against the public test sets of
//! msuhanov/dfir_ntfs (GPL-3.0; fixtures/vss/SOURCE.md): the answer keys that come with
//! them (MD5 of every 512-byte sector of 176 blocks of four snapshots of `vss_2003`),
//! the facts its own tests assert for the sets whose stores are on another volume, the
//! whole content of every snapshot `vshadowmount` (libvshadow) reads, stored here as a
//! digest so CI without the tools checks it, and, where installed, `vshadowinfo` and
//! `vshadowmount` themselves.
//!
//! The images are sparse tar members (5 GiB and 128 GiB volumes, a few MiB of data):
//! they are unpacked as sparse files into cargo's temporary folder for integration tests
//! (`target/tmp`), once.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use md5::{Digest as _, Md5};
use sha2::Sha256;

use netsession_scan::internals::bytes::hex;
use netsession_scan::internals::image::raw::RawImage;
use netsession_scan::internals::image::source::{ImageSource, Slice};
use netsession_scan::internals::vss::{Shadows, SnapshotView, Store, VssError};

const BLOCK: u64 = 0x4000;
/// Where the volumes are in the images (from the sets' own tests).
const VOL_2003: u64 = 63 * 512;
const VOL_TWO: u64 = 67584 * 512;
const VOL_3_STORAGE: u64 = 2048 * 512;
const VOL_3_VOLUME: u64 = 4196352 * 512;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/vss")
        .join(name)
}

/// The raw image `member` of the tar.gz `archive`, unpacked (sparse) into cargo's
/// temporary folder for integration tests the first time it is asked for, and kept
/// there for later runs (a marker file says the unpacking finished).
fn image_path(archive: &str, member: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _held = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vss-fixtures");
    let target = dir.join(member);
    let done = dir.join(format!("{member}.complete"));
    if done.exists() && target.exists() {
        return target;
    }
    std::fs::create_dir_all(&dir).expect("fixture folder");
    let file = File::open(fixture(archive)).expect("fixture");
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut found = false;
    for entry in tar.entries().expect("tar") {
        let mut entry = entry.expect("tar entry");
        if entry.path().expect("name").as_os_str() == member {
            let _ = std::fs::remove_file(&target);
            entry.unpack(&target).expect("unpack");
            found = true;
        }
    }
    assert!(found, "{member} not in {archive}");
    File::create(&done).expect("marker");
    target
}

fn raw(archive: &str, member: &str) -> Arc<dyn ImageSource> {
    Arc::new(RawImage::open(&image_path(archive, member)).expect("raw image"))
}

fn volume(image: &Arc<dyn ImageSource>, at: u64) -> Arc<dyn ImageSource> {
    Arc::new(Slice::new(image.clone(), at, image.size() - at))
}

fn vss_2003() -> Shadows {
    let image = raw("vss_2003.tgz", "vss_2003.raw");
    Shadows::open(volume(&image, VOL_2003), "vss_2003")
        .expect("shadow copies read")
        .expect("shadow copies present")
}

fn read(view: &dyn ImageSource, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    let n = view.read_at(offset, &mut buf).expect("snapshot read");
    buf.truncate(n);
    buf
}

fn gunzip(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(File::open(fixture(name)).expect("fixture"))
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}

#[test]
fn every_block_of_the_vss_2003_answer_key_matches_sector_by_sector() {
    let shadows = vss_2003();
    assert_eq!(shadows.len(), 6);
    let key = String::from_utf8(gunzip("vss_2003_all_hashes.txt.gz")).expect("text");
    let mut views: HashMap<usize, SnapshotView> = HashMap::new();
    let (mut blocks, mut sectors) = (0, 0);
    for line in key.lines() {
        let mut fields = line.split('\t');
        let position: usize = fields.next().unwrap().parse().unwrap();
        let offset: u64 = fields.next().unwrap().parse().unwrap();
        let want: Vec<&str> = fields.next().unwrap().split(' ').collect();
        assert_eq!(want.len(), 32);
        // The answer key numbers snapshots by stack position, as we do (1: the oldest).
        assert_eq!(
            shadows.store(position).unwrap().snapshot.stack_position,
            position as u64
        );
        let view = views
            .entry(position)
            .or_insert_with(|| shadows.snapshot(position).expect("snapshot"));
        let got = read(view, offset, BLOCK as usize);
        for (i, sector) in got.chunks(512).enumerate() {
            let md5 = hex(&Md5::digest(sector));
            assert_eq!(
                md5, want[i],
                "snapshot {position} block {offset} sector {i}"
            );
            sectors += 1;
        }
        blocks += 1;
    }
    assert_eq!((blocks, sectors), (176, 176 * 32));
    let mut positions: Vec<_> = views.keys().copied().collect();
    positions.sort();
    assert_eq!(positions, vec![1, 2, 3, 5]);
}

/// The volume boot record of the snapshots the answer key covers (dfir_ntfs asserts it).
#[test]
fn the_boot_sector_of_the_vss_2003_snapshots_is_the_one_the_set_asserts() {
    let shadows = vss_2003();
    for n in [1, 2, 3, 5] {
        let view = shadows.snapshot(n).unwrap();
        let md5 = hex(&Md5::digest(read(&view, 0, 512)));
        assert_eq!(md5, "a316a167c7b099014f7a20d89fb09f73", "snapshot {n}");
    }
}

/// Data regions (SEEK_DATA/SEEK_HOLE) of the image file inside [start, start + len),
/// as 16 KiB block offsets relative to `start`.
#[cfg(target_os = "linux")]
fn data_blocks(path: &Path, start: u64, len: u64) -> Vec<u64> {
    use rustix::fs::{SeekFrom, seek};
    let file = File::open(path).expect("image");
    let end = start + len;
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let Ok(data) = seek(&file, SeekFrom::Data(at)) else {
            break;
        };
        if data >= end {
            break;
        }
        let hole = seek(&file, SeekFrom::Hole(data))
            .expect("SEEK_HOLE")
            .min(end);
        let first = (data - start) / BLOCK;
        let last = (hole - start).div_ceil(BLOCK);
        out.extend((first..last).map(|b| b * BLOCK));
        at = hole;
    }
    out
}

/// The blocks of the snapshot that are not all zeros, as `offset\tsha256` lines (the
/// form `vshadowmount`'s whole snapshot was written in when the expectations were made),
/// their count and the SHA-256 of the lines. A block that no store from the snapshot's to
/// the newest copies reads from the live volume at the same offset (or as zeros):
/// outside the image file's data regions it is zeros, so only the data regions and the
/// copied blocks are read.
///
/// `as_libvshadow`: the one place libvshadow reads otherwise (the newest snapshot's
/// blocks that its store does not copy and its bitmap marks unused, with the store's flag
/// 0x400 clear: libvshadow gives zeros, Windows and we the live bytes): those blocks are
/// counted as libvshadow reads them, and their number is returned.
#[cfg(target_os = "linux")]
fn nonzero_blocks(
    view: &SnapshotView,
    path: &Path,
    start: u64,
    as_libvshadow: Option<&Store>,
) -> (usize, String, usize) {
    let size = view.size();
    let copied = view.copied_blocks();
    let mut candidates = data_blocks(path, start, size);
    candidates.extend(copied.iter().copied());
    candidates.sort_unstable();
    candidates.dedup();
    let mut lines = String::new();
    let (mut count, mut zeroed) = (0, 0);
    for offset in candidates.into_iter().filter(|o| *o < size) {
        let len = BLOCK.min(size - offset) as usize;
        let block = read(view, offset, len);
        if block.iter().all(|b| *b == 0) {
            continue;
        }
        if let Some(store) = as_libvshadow
            && copied.binary_search(&offset).is_err()
            && store.unused(offset).unwrap()
        {
            zeroed += 1;
            continue;
        }
        lines.push_str(&format!("{offset}\t{}\n", hex(&Sha256::digest(&block))));
        count += 1;
    }
    (count, hex(&Sha256::digest(lines.as_bytes())), zeroed)
}

/// What `vshadowmount` 20190323 (libvshadow) gave for every snapshot of `vss_2003`, each
/// read whole through FUSE (128 GiB): the number of 16 KiB blocks that are not all zeros
/// and the SHA-256 of their `offset\tsha256` lines. (`vss_2_stor` is not here:
/// libvshadow 20190323 reads its snapshot through another volume's store, the last type
/// 3 entry of its catalog; the set's own assertions check it above.)
const WHOLE_SNAPSHOTS: &[(&str, usize, usize, &str)] = &[
    (
        "vss_2003",
        1,
        4691,
        "546a8832d20974b328f171276f8ec509891ccdbc5385f812faded03e51f860da",
    ),
    (
        "vss_2003",
        2,
        4692,
        "38e0ae827cc61aab87fe7d19b99265dee8f6883150882be5d67690bf36ceccb9",
    ),
    (
        "vss_2003",
        3,
        4693,
        "3308ba41d3f5016acb22dcd240d5cd78d67a6ec61c1e104e6a6084cb4d6369df",
    ),
    (
        "vss_2003",
        4,
        4693,
        "242e77f3b6f62649b9d649be469c12a64795247f787c644664f5337daf1252f3",
    ),
    (
        "vss_2003",
        5,
        4694,
        "c32e49320e58d7e7dba40a628d036f27344713111884a043d3ef917f407d8aca",
    ),
    (
        "vss_2003",
        6,
        4140,
        "547f24aaea3bb99ebe487906b59516d46d030c537e2d582163e44740c655028f",
    ),
];

/// Non-zero blocks of the newest `vss_2003` snapshot that we read live and libvshadow
/// zero-fills (see [`nonzero_blocks`]).
const NEWEST_UNUSED_LIVE: usize = 554;

#[cfg(target_os = "linux")]
#[test]
fn every_block_of_every_local_snapshot_equals_what_vshadowmount_read() {
    let mut checked = 0;
    for &(set, n, count, digest) in WHOLE_SNAPSHOTS {
        let (archive, member, start) = match set {
            "vss_2003" => ("vss_2003.tgz", "vss_2003.raw", VOL_2003),
            _ => ("vss_2_stor.tar.gz", "vss_2_stor.raw", VOL_TWO),
        };
        let image = raw(archive, member);
        let shadows = Shadows::open(volume(&image, start), set).unwrap().unwrap();
        let view = shadows.snapshot(n).unwrap();
        let newest = (n == shadows.len()).then(|| shadows.store(n).unwrap());
        let (got, digest_got, zeroed) =
            nonzero_blocks(&view, &image_path(archive, member), start, newest);
        assert_eq!(
            (got, digest_got.as_str()),
            (count, digest),
            "{set} snapshot {n}"
        );
        if newest.is_some() {
            // Blocks of the newest snapshot Windows shows live (its flag 0x400 is clear)
            // where libvshadow gives zeros.
            assert_eq!(zeroed, NEWEST_UNUSED_LIVE, "{set} snapshot {n}");
        }
        checked += 1;
    }
    assert_eq!(checked, 6, "every snapshot of vss_2003");
}

fn two_volumes() -> (Arc<dyn ImageSource>, Arc<dyn ImageSource>) {
    let vol = raw("vss_1_vol.tar.gz", "vss_1_vol.raw");
    let stor = raw("vss_2_stor.tar.gz", "vss_2_stor.raw");
    (volume(&vol, VOL_TWO), volume(&stor, VOL_TWO))
}

/// `vss_2_stor` keeps its own snapshot and those of `vss_1_vol`: its one snapshot has
/// the bytes the set asserts (the live volume has them changed).
#[test]
fn the_storage_volume_s_own_snapshot_has_the_bytes_the_set_asserts() {
    let (_, stor) = two_volumes();
    let shadows = Shadows::open(stor.clone(), "vss_2_stor").unwrap().unwrap();
    assert_eq!(shadows.len(), 1);
    let view = shadows.snapshot(1).unwrap();
    let mut want = b"STORAGE".repeat(1100);
    want.extend([0u8; 492]);
    assert_eq!(read(&view, 40 * 4096, 8192), want);
    let mut live = b"5TORAGE".repeat(1100);
    live.extend([0u8; 492]);
    assert_eq!(read(stor.as_ref(), 40 * 4096, 8192), live);
    assert_eq!(
        hex(&Md5::digest(read(&view, 44 * 4096, 8192))),
        "5149c33b9453e2bf30a5e6ec944654f7"
    );
    assert!(matches!(
        shadows.snapshot(2),
        Err(VssError::NoSuchSnapshot(2))
    ));
}

/// The stores of `vss_1_vol` are on `vss_2_stor`: without it they cannot be read (and
/// say so), with it both snapshots read, each with its own version of a file.
#[test]
fn snapshots_whose_stores_are_on_another_volume_read_with_that_volume() {
    let (vol, stor) = two_volumes();
    match Shadows::open(vol.clone(), "vss_1_vol") {
        Err(VssError::StorageElsewhere { storage }) => {
            assert_eq!(storage, "bbaa763c-8204-11eb-90f4-080027768df7")
        }
        other => panic!(
            "expected StorageElsewhere, got {:?}",
            other.map(|s| s.map(|s| s.len()))
        ),
    }
    // The wrong volume as storage is refused too.
    assert!(Shadows::open_with_storage(vol.clone(), vol.clone(), "x").is_err());
    let shadows = Shadows::open_with_storage(vol.clone(), stor, "vss_1_vol")
        .unwrap()
        .unwrap();
    assert_eq!(shadows.len(), 2);
    for (n, fill) in [(1, b'1'), (2, b'2')] {
        let view = shadows.snapshot(n).unwrap();
        let got = read(&view, 1837 * 4096, 172 * 4096);
        assert!(got[..703_800].iter().all(|b| *b == fill), "snapshot {n}");
        assert!(got[703_800..].iter().all(|b| *b == 0), "snapshot {n}");
    }
    let live = read(vol.as_ref(), 1837 * 4096, 172 * 4096);
    assert!(live[..703_800].iter().all(|b| *b == b'3'));
}

/// Every allocated cluster of `vss_1_vol` (by the volume bitmap that comes with the
/// set, the last cluster left out as the set does) hashed in order, per snapshot: the
/// set's MD5s. In the newer snapshot, clusters that begin with the VSS identifier (the
/// volume's own diff area files, which Windows presents as zeros) count as zeros.
#[test]
fn the_allocated_clusters_of_both_remote_snapshots_hash_as_the_set_asserts() {
    let (vol, stor) = two_volumes();
    let shadows = Shadows::open_with_storage(vol, stor, "vss_1_vol")
        .unwrap()
        .unwrap();
    let bitmap = gunzip("vss_1_vol_bm.bin.gz");
    let identifier = [
        0x6b, 0x87, 0x08, 0x38, 0x76, 0xc1, 0x48, 0x4e, 0xb7, 0xae, 0x04, 0x04, 0x6e, 0x6c, 0xc7,
        0x52,
    ];
    for (n, want) in [
        (1, "1c3920a329d6ce78bd6b837fad79e4e4"),
        (2, "2f2e7ea121b37b2d83ff6a86648441fd"),
    ] {
        let view = shadows.snapshot(n).unwrap();
        let mut md5 = Md5::new();
        let bits = bitmap.len() * 8;
        let mut clusters = 0;
        for i in 0..bits - 1 {
            if bitmap[i / 8] >> (i % 8) & 1 == 0 {
                continue;
            }
            let mut cluster = read(&view, i as u64 * 4096, 4096);
            if n == 2 && cluster.starts_with(&identifier) {
                cluster = vec![0; 4096];
            }
            md5.update(&cluster);
            clusters += 1;
        }
        assert!(clusters > 1000);
        assert_eq!(hex(&md5.finalize()), want, "snapshot {n}");
    }
}

/// `vss_3_volstor`: one disk, the volume at sector 4196352 keeps its stores on the
/// volume at sector 2048 (which has none of its own).
#[test]
fn snapshots_kept_on_another_volume_of_the_same_disk_read() {
    let image = raw("vss_3_volstor.tar.gz", "vss_3_volstor.raw");
    let storage = volume(&image, VOL_3_STORAGE);
    let vol = volume(&image, VOL_3_VOLUME);
    let own = Shadows::open(storage.clone(), "storage").unwrap();
    assert_eq!(own.map(|s| s.len()), Some(0));
    let shadows = Shadows::open_with_storage(vol.clone(), storage, "volume")
        .unwrap()
        .unwrap();
    assert_eq!(shadows.len(), 2);
    for (n, fill) in [(1, b'1'), (2, b'2')] {
        let got = read(&shadows.snapshot(n).unwrap(), 261_856 * 4096, 52_272);
        assert!(got.iter().all(|b| *b == fill), "snapshot {n}");
    }
    assert!(
        read(vol.as_ref(), 261_856 * 4096, 52_272)
            .iter()
            .all(|b| *b == b'3')
    );
}

/// Is the program there (it runs and prints its version)?
fn tool(name: &str) -> bool {
    Command::new(name).arg("-V").output().is_ok()
}

/// Our creation time as vshadowinfo writes it: `Jun 04, 2019 23:43:01.484375000 UTC`.
fn as_vshadowinfo(view: &SnapshotView) -> String {
    let t = view.created().expect("creation time");
    chrono::DateTime::from_timestamp(t.unix_seconds(), t.subsec_nanos())
        .expect("time")
        .format("%b %d, %Y %H:%M:%S%.9f UTC")
        .to_string()
}

/// `vshadowinfo`'s stores: per store its fields by name.
fn vshadowinfo(path: &Path, offset: u64) -> Vec<HashMap<String, String>> {
    let out = Command::new("vshadowinfo")
        .arg("-o")
        .arg(offset.to_string())
        .arg(path)
        .output()
        .expect("vshadowinfo runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut stores: Vec<HashMap<String, String>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("Store: ") {
            stores.push(HashMap::new());
        } else if let (Some(store), Some((key, value))) = (stores.last_mut(), line.split_once(':'))
        {
            store.insert(key.trim().to_string(), value.trim().to_string());
        }
    }
    stores
}

/// Store count, identifiers, creation times and volume sizes as `vshadowinfo` reads
/// them (and for `vss_2003` the shadow copy and set identifiers of the store
/// information). For `vss_2_stor` vshadowinfo 20190323 shows the shadow copy identifiers
/// of another volume's store (the last type 3 entry of the catalog, one of
/// `vss_1_vol`'s), so they are not compared there; the set's own assertions above
/// check that snapshot's bytes.
#[test]
fn the_stores_are_the_ones_vshadowinfo_lists() {
    if !tool("vshadowinfo") {
        println!("vshadowinfo not installed: comparison skipped");
        return;
    }
    /// (archive, image, volume offset, where the stores are when elsewhere)
    type Set<'a> = (&'a str, &'a str, u64, Option<(&'a str, u64)>);
    let sets: [Set; 4] = [
        ("vss_2003.tgz", "vss_2003.raw", VOL_2003, None),
        ("vss_2_stor.tar.gz", "vss_2_stor.raw", VOL_TWO, None),
        (
            "vss_1_vol.tar.gz",
            "vss_1_vol.raw",
            VOL_TWO,
            Some(("vss_2_stor.tar.gz", VOL_TWO)),
        ),
        (
            "vss_3_volstor.tar.gz",
            "vss_3_volstor.raw",
            VOL_3_VOLUME,
            Some(("vss_3_volstor.tar.gz", VOL_3_STORAGE)),
        ),
    ];
    let mut compared = 0;
    for (archive, member, start, storage) in sets {
        let image = raw(archive, member);
        let shadows = match storage {
            None => Shadows::open(volume(&image, start), member),
            Some((storage_archive, storage_start)) => {
                let storage_member =
                    storage_archive.split('.').next().unwrap().to_string() + ".raw";
                let storage_image = raw(storage_archive, &storage_member);
                Shadows::open_with_storage(
                    volume(&image, start),
                    volume(&storage_image, storage_start),
                    member,
                )
            }
        }
        .unwrap()
        .unwrap();
        let theirs = vshadowinfo(&image_path(archive, member), start);
        assert_eq!(theirs.len(), shadows.len(), "{member}: number of stores");
        for (i, store) in theirs.iter().enumerate() {
            let n = i + 1;
            let ours = shadows.store(n).unwrap();
            let view = shadows.snapshot(n).unwrap();
            assert_eq!(
                store["Identifier"],
                ours.snapshot.store_id.to_string(),
                "{member} {n}"
            );
            assert_eq!(
                store["Creation time"],
                as_vshadowinfo(&view),
                "{member} {n}"
            );
            let size = format!("({} bytes)", ours.snapshot.volume_size);
            assert!(store["Volume size"].ends_with(&size), "{member} {n}");
            if member == "vss_2003.raw" {
                let info = ours.information.as_ref().unwrap();
                assert_eq!(store["Shadow copy ID"], info.shadow_copy_id.to_string());
                assert_eq!(
                    store["Shadow copy set ID"],
                    info.shadow_copy_set_id.to_string()
                );
                assert_eq!(
                    store["Attribute flags"],
                    format!("0x{:08x}", info.attribute_flags)
                );
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 6 + 1 + 2 + 2);
}

/// Where `vshadowmount` works (FUSE), every `vss_2003` snapshot compared with it block
/// by block: the blocks that are not zeros in the image file and the copied blocks, and
/// 2000 others spread over the volume.
#[cfg(target_os = "linux")]
#[test]
fn the_vss_2003_snapshots_equal_vshadowmount_where_it_runs() {
    if !tool("vshadowmount") || !Path::new("/dev/fuse").exists() {
        println!("vshadowmount or FUSE not available: comparison skipped");
        return;
    }
    let path = image_path("vss_2003.tgz", "vss_2003.raw");
    let mount = tempfile::tempdir().expect("mount point");
    let status = Command::new("vshadowmount")
        .arg("-o")
        .arg(VOL_2003.to_string())
        .arg(&path)
        .arg(mount.path())
        .output();
    if !status.as_ref().is_ok_and(|o| o.status.success()) || !mount.path().join("vss1").exists() {
        println!("vshadowmount could not mount ({status:?}): comparison skipped");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let shadows = vss_2003();
        let (mut blocks, mut differing) = (0, 0);
        for n in 1..=shadows.len() {
            let view = shadows.snapshot(n).unwrap();
            let theirs = File::open(mount.path().join(format!("vss{n}"))).expect("vssN");
            let size = view.size();
            let mut offsets = data_blocks(&path, VOL_2003, size);
            offsets.extend(view.copied_blocks());
            offsets.extend((0..2000u64).map(|k| (k * 7_919 * 509 % (size / BLOCK)) * BLOCK));
            offsets.sort_unstable();
            offsets.dedup();
            let copied = view.copied_blocks();
            let store = shadows.store(n).unwrap();
            for offset in offsets.into_iter().filter(|o| *o < size) {
                let len = BLOCK.min(size - offset) as usize;
                let mut want = vec![0u8; len];
                std::os::unix::fs::FileExt::read_exact_at(&theirs, &mut want, offset)
                    .expect("vshadowmount read");
                let ours = read(&view, offset, len);
                if ours != want {
                    // Only where the two are known to differ: the newest snapshot's
                    // uncopied blocks its bitmap marks unused (flag 0x400 clear), which
                    // libvshadow zero-fills and we read live, as Windows does.
                    let live = read(
                        volume(&raw("vss_2003.tgz", "vss_2003.raw"), VOL_2003).as_ref(),
                        offset,
                        len,
                    );
                    assert!(
                        n == shadows.len()
                            && copied.binary_search(&offset).is_err()
                            && store.unused(offset).unwrap()
                            && want.iter().all(|b| *b == 0)
                            && ours == live,
                        "snapshot {n} block {offset}"
                    );
                    differing += 1;
                }
                blocks += 1;
            }
        }
        println!(
            "{blocks} blocks of 6 snapshots compared with vshadowmount's: {differing} of the \
             newest read live where libvshadow zero-fills, the rest equal"
        );
        assert!(blocks > 6 * 4000);
    });
    let _ = Command::new("umount").arg(mount.path()).status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// An image's views: each NTFS volume followed by its snapshots, named by number and
/// creation time; stores on another volume of the same image are found there; stores
/// on a volume the image does not hold are a warning naming its identifier.
#[test]
fn an_image_gives_a_view_per_snapshot_after_its_volume() {
    use netsession_scan::Warnings;
    use netsession_scan::internals::fs::volumes::{ntfs_views, open};

    let path = image_path("vss_3_volstor.tar.gz", "vss_3_volstor.raw");
    let warnings = Warnings::new();
    let views = ntfs_views(open(&path).unwrap(), "disk", &warnings, true);
    let sources: Vec<&str> = views.iter().map(|v| v.source()).collect();
    assert_eq!(
        sources,
        [
            "disk p1@1048576",
            "disk p2@2148532224",
            "disk p2@2148532224 vss1@2021-03-13T22:13:17Z",
            "disk p2@2148532224 vss2@2021-03-13T22:13:30Z",
        ]
    );
    assert_eq!(views[2].snapshot_of(), Some("disk p2@2148532224"));
    assert_eq!(views[1].snapshot_of(), None);
    let without = ntfs_views(open(&path).unwrap(), "disk", &warnings, false);
    assert_eq!(without.len(), 2);

    let path = image_path("vss_1_vol.tar.gz", "vss_1_vol.raw");
    let warnings = Warnings::new();
    let views = ntfs_views(open(&path).unwrap(), "vol", &warnings, true);
    assert_eq!(views.len(), 1);
    let said: Vec<String> = warnings
        .snapshot()
        .iter()
        .map(|w| w.message.clone())
        .collect();
    assert!(
        said.iter()
            .any(|m| m.contains("bbaa763c-8204-11eb-90f4-080027768df7")
                && m.contains("not in this image")),
        "{said:?}"
    );
}

/// The stores of `vss_1_vol`'s snapshots are on the volume of `vss_2_stor`, another disk
/// image: given both, the scan reads those snapshots through it (their `test.txt`
/// differs in each), and given `vss_1_vol` alone it says which volume is missing.
#[test]
fn a_scan_of_two_images_reads_snapshots_whose_stores_are_on_the_other() {
    use netsession_scan::{AnalysisOptions, Catalog, Warnings, detect_inputs, scan};

    let vol = image_path("vss_1_vol.tar.gz", "vss_1_vol.raw");
    let stor = image_path("vss_2_stor.tar.gz", "vss_2_stor.raw");
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[file]]\nid = \"case.test\"\npaths = [\"test.txt\"]\nwhat = \"t\"\n\
         proves = \"nothing\"\nconfidence = \"G\"\nsource = \"test\"\n",
    )
    .unwrap();
    let catalog = Catalog::with_extra_files(&[rules]).unwrap();
    let run = |paths: &[PathBuf]| {
        let inputs = detect_inputs(paths).unwrap();
        let warnings = Warnings::new();
        let report = scan(&inputs, &catalog, &AnalysisOptions::default(), &warnings);
        let rows = report.rows.to_vec().unwrap();
        let said: Vec<String> = report.warnings.iter().map(|w| w.message.clone()).collect();
        (rows, said, report.rows.snapshots())
    };
    let missing = |said: &[String]| {
        said.iter().any(|m| {
            m.contains("bbaa763c-8204-11eb-90f4-080027768df7") && m.contains("not in this image")
        })
    };

    let (rows, said, snapshots) = run(&[vol.clone(), stor.clone()]);
    assert!(!missing(&said), "{said:?}");
    // Each snapshot's test.txt, by snapshot.
    let hash_in = |tag: &str| -> Vec<String> {
        let mut hashes: Vec<String> = rows
            .iter()
            .filter(|r| {
                r.path == "test.txt" && r.source.contains("vss_1_vol") && r.source.ends_with(tag)
            })
            .map(|r| r.sha256.clone())
            .collect();
        hashes.dedup();
        hashes
    };
    let first = hash_in("vss1@2021-03-10T22:44:18Z");
    let second = hash_in("vss2@2021-03-10T22:45:23Z");
    let live = hash_in("p2@34603008");
    assert_eq!(first.len(), 1, "{rows:#?}");
    assert_eq!(second.len(), 1);
    assert_eq!(live.len(), 1);
    assert!(first != second && first != live && second != live);
    // Both snapshots of vss_1_vol and the one of vss_2_stor were read.
    let of_vol = snapshots
        .iter()
        .filter(|s| s.source.contains("vss_1_vol") && s.live.ends_with("p2@34603008"))
        .count();
    assert_eq!((of_vol, snapshots.len()), (2, 3), "{snapshots:?}");
    assert!(snapshots.iter().all(|s| s.warnings == 0), "{snapshots:?}");

    let (rows, said, snapshots) = run(&[vol]);
    assert!(missing(&said), "{said:?}");
    assert!(snapshots.is_empty());
    assert!(rows.iter().all(|r| !r.source.contains(" vss")));
}

/// plaso's `vsstest.qcow2` (Apache-2.0; fixtures/vss/SOURCE.md), converted to raw: a
/// 1 GiB bare NTFS volume with two snapshots made by Windows whose stores hold real
/// overlay descriptors (17 each: only some 512-byte sectors of a block in the copy).
/// Every non-zero block of both snapshots equals what `vshadowmount` 20190323 read
/// (digests made with it; the newest snapshot's unused blocks counted as libvshadow
/// reads them, see [`nonzero_blocks`]).
#[cfg(target_os = "linux")]
#[test]
fn the_plaso_vsstest_snapshots_with_overlays_equal_what_vshadowmount_read() {
    let image = raw("vsstest.tar.gz", "vsstest.raw");
    let shadows = Shadows::open(volume(&image, 0), "vsstest")
        .unwrap()
        .unwrap();
    assert_eq!(shadows.len(), 2);
    for n in 1..=2 {
        let overlays = shadows
            .store(n)
            .unwrap()
            .descriptors()
            .iter()
            .filter(|d| d.is_overlay())
            .count();
        assert_eq!(overlays, 17, "store {n}");
    }
    // The overlays matter: in the oldest snapshot, some overlaid sector reads other
    // bytes than the live volume has there.
    let oldest = shadows.snapshot(1).unwrap();
    let differs = shadows.store(1).unwrap().descriptors().iter().any(|d| {
        d.is_overlay()
            && (0..32).any(|i| {
                let at = d.original + i * 512;
                d.bitmap & (1 << i) != 0 && read(&oldest, at, 512) != read(image.as_ref(), at, 512)
            })
    });
    assert!(differs, "no overlaid sector differs from the live volume");
    let expected = [
        (
            1,
            1461,
            "3c46e7e5525b8af45d819b2e630e0665dc5c4e1f945343f665e195edf889c09b",
        ),
        (
            2,
            497,
            "23d3dcdbbf258776a4c437fc8578bf3146816961cf4c35f2c1d57ebe39b941b6",
        ),
    ];
    for (n, count, digest) in expected {
        let view = shadows.snapshot(n).unwrap();
        // A large read past the caches (the `$MFT` walk's) gives the same bytes, in
        // runs that cross blocks, as reads block by block, over every copied block.
        for &at in view.copied_blocks().iter().step_by(16) {
            let start = at.saturating_sub(3 * BLOCK + 512);
            let mut through = vec![0u8; (8 * BLOCK) as usize];
            let got = view.read_through_at(start, &mut through).unwrap();
            let by_block: Vec<u8> = (0..got as u64)
                .step_by(BLOCK as usize)
                .flat_map(|o| read(&view, start + o, BLOCK.min(got as u64 - o) as usize))
                .collect();
            assert!(through[..got] == by_block[..], "snapshot {n} at {start}");
        }
        let newest = (n == shadows.len()).then(|| shadows.store(n).unwrap());
        let path = image_path("vsstest.tar.gz", "vsstest.raw");
        let (got, digest_got, zeroed) = nonzero_blocks(&view, &path, 0, newest);
        println!(
            "vsstest snapshot {n}: {got} blocks, {zeroed} read live where libvshadow zero-fills"
        );
        assert_eq!((got, digest_got.as_str()), (count, digest), "snapshot {n}");
    }
}
