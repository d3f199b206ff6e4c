//! Virtual disks (VHD, VHDX, VMDK) against the raw disks they were made from
//! (`fixtures/vdisks`, see its README): every byte (SHA-256 of a full read against the
//! hash the README records and against the raw disk), reads at odd offsets and lengths
//! across block and grain boundaries, `qemu-img convert -O raw` where it is installed,
//! the scan of a VHDX and a VMDK of the case image against the scan of the raw image,
//! damaged and incomplete sets (clear errors naming the file and the offset), and
//! mutated headers and tables (never a panic).
//!
//! The fixtures are stored gzip-compressed and unpacked here with flate2 into a
//! temporary folder.

mod common;

use common::{XorShift, hex, image_sha256, readme_sha256};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use netsession_scan::InputKind;
use netsession_scan::internals::image::cache::BlockCache;
use netsession_scan::internals::image::source::{ImageError, ImageSource, open_image};
use netsession_scan::internals::image::vhdx::VhdxDisk;
use sha2::{Digest, Sha256};

const MIB: u64 = 1 << 20;

fn vdisks() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vdisks")
}

fn gunzip_bytes(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("open fixture"))
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("gunzip {}: {e}", path.display()));
    out
}

/// Every virtual-disk fixture in `dir`: the `.gz` files unpacked, the descriptors copied.
fn unpack_all(dir: &Path) {
    for entry in std::fs::read_dir(vdisks()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if let Some(stem) = name.strip_suffix(".gz") {
            std::fs::write(dir.join(stem), gunzip_bytes(&path)).unwrap();
        } else if name.ends_with(".vmdk") {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
}

/// The raw disks the fixtures were made from, by name.
fn raw_disk(name: &str) -> Vec<u8> {
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images");
    match name {
        "gpt.raw" => gunzip_bytes(&images.join("gpt.raw.gz")),
        "mbr63.raw" => gunzip_bytes(&images.join("mbr63.raw.gz")),
        "case.raw" => gunzip_bytes(&images.join("case/case.raw.gz")),
        "tiny.raw" => gunzip_bytes(&vdisks().join("tiny.raw.gz")),
        other => panic!("no raw disk {other}"),
    }
}

/// `gpt.raw` with the edits `edits.txt` lists for `child`: byte o of an edit with seed S
/// is (o * 131 + S) % 251; `zero` and `unmapped` edits are zeros.
fn edited(child: &str) -> Vec<u8> {
    let mut data = raw_disk("gpt.raw");
    let edits = std::fs::read_to_string(vdisks().join("edits.txt")).unwrap();
    let mut count = 0;
    for line in edits.lines() {
        let words: Vec<&str> = line.split('#').next().unwrap().split_whitespace().collect();
        if words.len() != 4 || words[0] != child {
            continue;
        }
        let offset: usize = words[1].parse().unwrap();
        let length: usize = words[2].parse().unwrap();
        for (o, byte) in data.iter_mut().enumerate().skip(offset).take(length) {
            *byte = match words[3] {
                "zero" | "unmapped" => 0,
                seed => ((o as u64 * 131 + seed.parse::<u64>().unwrap()) % 251) as u8,
            };
        }
        count += 1;
    }
    assert!(count > 0, "edits.txt has no edits for {child}");
    data
}

/// Reads at random offsets and lengths (some past the end), and around every multiple of
/// 64 KiB (grains), 1 MiB and 2 MiB (blocks), give the expected bytes.
fn same_reads(disk: &dyn ImageSource, want: &[u8], seed: u64) {
    let size = want.len() as u64;
    assert_eq!(disk.size(), size, "{}", disk.describe());
    let mut reads: Vec<(u64, usize)> = Vec::new();
    let mut boundary = 65536;
    while boundary < size + 65536 {
        reads.push((boundary - 3, 7));
        reads.push((boundary - 700, 1400));
        reads.push((boundary - 511, 513));
        boundary += 65536;
    }
    let mut rng = XorShift(seed);
    for _ in 0..400 {
        reads.push((rng.below(size + 1000), 1 + rng.below(200_000) as usize));
    }
    let mut buf = vec![0u8; 200_001];
    for (offset, len) in reads {
        let n = disk
            .read_at(offset, &mut buf[..len])
            .unwrap_or_else(|e| panic!("{} at {offset}+{len}: {e}", disk.describe()));
        let expect = size.saturating_sub(offset).min(len as u64) as usize;
        assert_eq!(n, expect, "count at {offset}+{len}");
        let start = (offset as usize).min(want.len());
        assert!(
            buf[..n] == want[start..start + n],
            "{}: bytes at {offset}+{len}",
            disk.describe()
        );
    }
}

/// (fixture, disk it reads as, describe(), files read)
const FIXTURES: &[(&str, &str, &str, usize)] = &[
    (
        "mbr63-fixed.vhd",
        "mbr63.raw",
        "VHD (fixed, made by \"qem2\")",
        1,
    ),
    (
        "gpt-dynamic.vhd",
        "gpt.raw",
        "VHD (dynamic, 2 MiB blocks, made by \"qem2\")",
        1,
    ),
    (
        "gpt-child.vhd",
        "gpt-child.vhd",
        "VHD (differencing, 2 MiB blocks, made by \"nsst\") over VHD (dynamic, 2 MiB blocks, made by \"qem2\")",
        2,
    ),
    ("case.vhdx", "case.raw", "VHDX (dynamic, 1 MiB blocks)", 1),
    ("gpt-fixed.vhdx", "gpt.raw", "VHDX (fixed, 8 MiB blocks)", 1),
    (
        "gpt-child.vhdx",
        "gpt-child.vhdx",
        "VHDX (differencing, 1 MiB blocks) over VHDX (fixed, 8 MiB blocks)",
        2,
    ),
    (
        "gpt-child-dirty.vhdx",
        "gpt-child.vhdx",
        "VHDX (differencing, 1 MiB blocks, log dirty and not replayed) over VHDX (fixed, 8 MiB blocks)",
        2,
    ),
    (
        "case-stream.vmdk",
        "case.raw",
        "VMDK (streamOptimized, 64 KiB grains, compressed)",
        1,
    ),
    (
        "gpt-sparse.vmdk",
        "gpt.raw",
        "VMDK (monolithicSparse, 64 KiB grains)",
        1,
    ),
    (
        "gpt-snap.vmdk",
        "gpt-snap.vmdk",
        "VMDK (monolithicSparse, 64 KiB grains) over VMDK (monolithicSparse, 64 KiB grains)",
        2,
    ),
    ("tiny-flat.vmdk", "tiny.raw", "VMDK (monolithicFlat)", 2),
    (
        "tiny-2gbsparse.vmdk",
        "tiny.raw",
        "VMDK (twoGbMaxExtentSparse, 64 KiB grains)",
        2,
    ),
    (
        "tiny-2gbflat.vmdk",
        "tiny.raw",
        "VMDK (twoGbMaxExtentFlat)",
        2,
    ),
    (
        "tiny-vmware-stream.vmdk",
        "tiny.raw",
        "VMDK (streamOptimized, 64 KiB grains, compressed)",
        1,
    ),
    (
        "tiny-split.vmdk",
        "tiny.raw",
        "VMDK (twoGbMaxExtentFlat, 64 KiB grains, 4 extents)",
        4,
    ),
];

fn expected(disk: &str) -> Vec<u8> {
    if disk.ends_with(".raw") {
        raw_disk(disk)
    } else {
        edited(disk)
    }
}

#[test]
fn every_fixture_reads_byte_for_byte_as_its_raw_disk() {
    let tmp = tempfile::tempdir().unwrap();
    unpack_all(tmp.path());
    for (i, (fixture, disk, describe, files)) in FIXTURES.iter().enumerate() {
        let path = tmp.path().join(fixture);
        let image = open_image(&path).unwrap_or_else(|e| panic!("{fixture}: {e}"));
        assert_eq!(image.describe(), *describe, "{fixture}");
        assert_eq!(
            image.files().len(),
            *files,
            "{fixture}: {:?}",
            image.files()
        );
        assert_eq!(image.files()[0], path);
        let want = expected(disk);
        let want_sha = hex(&Sha256::digest(&want));
        assert_eq!(want_sha, readme(disk), "{disk}: README hash");
        // Odd piece sizes cross block and grain boundaries at every phase.
        assert_eq!(image_sha256(&*image, 100_003), want_sha, "{fixture}");
        same_reads(&*image, &want, 0x9e37_79b9_7f4a_7c15 ^ i as u64);
        let cached = BlockCache::new(&*image);
        assert_eq!(image_sha256(&cached, 4097), want_sha, "{fixture} cached");
        let dirty = image
            .known_gaps()
            .iter()
            .any(|(_, what)| what.contains("log is dirty"));
        assert_eq!(
            dirty,
            fixture.contains("dirty"),
            "{fixture}: {:?}",
            image.known_gaps()
        );
        if !fixture.contains("dirty") {
            assert_eq!(image.known_gaps(), [], "{fixture}");
        }
    }
}

#[test]
fn several_threads_read_one_disk() {
    let tmp = tempfile::tempdir().unwrap();
    unpack_all(tmp.path());
    let want = raw_disk("case.raw");
    for fixture in ["case.vhdx", "case-stream.vmdk"] {
        let image = BlockCache::new(open_image(&tmp.path().join(fixture)).unwrap());
        std::thread::scope(|scope| {
            for t in 0..4u64 {
                let (image, want) = (&image, &want);
                scope.spawn(move || same_reads(image, want, 1000 + t));
            }
        });
    }
}

#[test]
fn qemu_img_reads_the_same_bytes() {
    if Command::new("qemu-img").arg("--version").output().is_err() {
        eprintln!("skipped: qemu-img is not installed (the stored hashes were still checked)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    unpack_all(tmp.path());
    for (fixture, _, _, _) in FIXTURES {
        // QEMU reads neither differencing fixture by the specification (no VHD parent,
        // no sector bitmaps; no differencing VHDX), nor ZERO extents.
        if fixture.starts_with("gpt-child") || *fixture == "tiny-split.vmdk" {
            continue;
        }
        let format = match fixture.rsplit('.').next().unwrap() {
            "vhd" => "vpc",
            other => other,
        };
        let out = tmp.path().join("qemu.raw");
        let status = Command::new("qemu-img")
            .args(["convert", "-f", format, "-O", "raw"])
            .arg(tmp.path().join(fixture))
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "qemu-img convert {fixture}");
        let theirs = hex(&Sha256::digest(std::fs::read(&out).unwrap()));
        let ours = image_sha256(&*open_image(&tmp.path().join(fixture)).unwrap(), 65536);
        assert_eq!(ours, theirs, "{fixture}: ours vs qemu-img");
    }
}

#[test]
fn inputs_are_recognised_by_content() {
    let tmp = tempfile::tempdir().unwrap();
    unpack_all(tmp.path());
    let kind = |name: &str| {
        netsession_scan::internals::input::detect(&tmp.path().join(name))
            .unwrap()
            .kind
    };
    // A fixed VHD starts as an MBR disk: its footer says what it is.
    assert_eq!(kind("mbr63-fixed.vhd"), InputKind::Vhd);
    assert_eq!(kind("gpt-dynamic.vhd"), InputKind::Vhd);
    assert_eq!(kind("case.vhdx"), InputKind::Vhdx);
    assert_eq!(kind("case-stream.vmdk"), InputKind::Vmdk);
    assert_eq!(kind("tiny-split.vmdk"), InputKind::Vmdk);
    // A flat extent is the raw disk.
    std::fs::copy(
        tmp.path().join("tiny-flat-flat.vmdk"),
        tmp.path().join("disk.img"),
    )
    .unwrap();
    assert!(netsession_scan::internals::input::detect(&tmp.path().join("disk.img")).is_err());
    // The manifest lists every file a disk reads: child, parent, extents.
    for (name, files) in [
        ("gpt-snap.vmdk", vec!["gpt-snap.vmdk", "gpt-sparse.vmdk"]),
        (
            "tiny-split.vmdk",
            vec![
                "tiny-split.vmdk",
                "tiny-split-a.bin",
                "tiny-split-b.vmdk",
                "tiny-split-c.bin",
            ],
        ),
    ] {
        let input = netsession_scan::internals::input::detect(&tmp.path().join(name)).unwrap();
        let listed = netsession_scan::manifest::input_files(&input);
        let want: Vec<PathBuf> = files.iter().map(|f| tmp.path().join(f)).collect();
        assert_eq!(listed, want);
    }
}

/// Rows without `source` and `locator`, for comparing the same evidence in two
/// containers.
fn comparable(rows: &[common::Row]) -> Vec<Vec<(String, String)>> {
    let mut all: Vec<Vec<(String, String)>> = rows
        .iter()
        .map(|r| {
            let mut v: Vec<(String, String)> = r
                .iter()
                .filter(|(k, _)| *k != "source" && *k != "locator")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            v.sort();
            v
        })
        .collect();
    all.sort();
    all
}

#[test]
fn scanning_a_vhdx_or_vmdk_of_the_case_image_gives_the_rows_of_the_raw_image() {
    let tmp = tempfile::tempdir().unwrap();
    unpack_all(tmp.path());
    let raw = tmp.path().join("case.raw");
    std::fs::write(&raw, raw_disk("case.raw")).unwrap();
    let raw_rows = common::scan_ok(&raw);
    assert!(raw_rows.len() > 20, "{}", raw_rows.len());
    for fixture in ["case.vhdx", "case-stream.vmdk"] {
        let path = tmp.path().join(fixture);
        let before = common::sha256_file(&path);
        let rows = common::scan_ok(&path);
        assert_eq!(common::sha256_file(&path), before, "{fixture} was modified");
        assert_eq!(comparable(&rows), comparable(&raw_rows), "{fixture}");
        assert!(
            rows.iter()
                .filter(|r| !r["source"].is_empty())
                .all(|r| r["source"].ends_with(&format!("{fixture} p1@1048576"))),
            "{fixture}"
        );
    }
}

/// Copy `names` from the unpacked fixtures into a folder of their own.
fn alone(from: &Path, names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        std::fs::copy(from.join(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn open_err(path: &Path) -> ImageError {
    match open_image(path) {
        Ok(image) => panic!("{} opened as {}", path.display(), image.describe()),
        Err(e) => e,
    }
}

#[test]
fn a_missing_parent_or_extent_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    unpack_all(tmp.path());
    for (child, parent) in [
        ("gpt-child.vhd", "gpt-dynamic.vhd"),
        ("gpt-child.vhdx", "gpt-fixed.vhdx"),
        ("gpt-snap.vmdk", "gpt-sparse.vmdk"),
    ] {
        let dir = alone(tmp.path(), &[child]);
        match open_err(&dir.path().join(child)) {
            ImageError::MissingParent { child: c, expected } => {
                assert_eq!(c, dir.path().join(child));
                assert_eq!(expected, dir.path().join(parent));
            }
            other => panic!("{child}: {other}"),
        }
        // The CLI refuses the input and says which file is missing.
        let out = common::run_on(&dir.path().join(child), &["-q"]);
        assert_eq!(out.status.code(), Some(2), "{child}");
        let err = common::stderr(&out);
        assert!(err.contains(parent) && !err.contains("panicked"), "{err}");
        // The parent found in another case (a copy made on a case-insensitive system).
        std::fs::copy(
            tmp.path().join(parent),
            dir.path().join(parent.to_uppercase()),
        )
        .unwrap();
        let image = open_image(&dir.path().join(child)).unwrap();
        assert_eq!(image.files()[1], dir.path().join(parent.to_uppercase()));
    }
    for (descriptor, extents, missing) in [
        ("tiny-2gbsparse.vmdk", &[][..], "tiny-2gbsparse-s001.vmdk"),
        (
            "tiny-split.vmdk",
            &["tiny-split-a.bin", "tiny-split-b.vmdk"][..],
            "tiny-split-c.bin",
        ),
    ] {
        let mut names = vec![descriptor];
        names.extend(extents);
        let dir = alone(tmp.path(), &names);
        let err = open_err(&dir.path().join(descriptor));
        let text = err.to_string();
        match err {
            ImageError::MissingExtent { expected, .. } => {
                assert_eq!(expected, dir.path().join(missing), "{text}")
            }
            other => panic!("{descriptor}: {other}"),
        }
        assert!(text.contains(missing), "{text}");
    }
}

#[test]
fn a_parent_that_is_not_the_one_the_child_was_made_from_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    unpack_all(tmp.path());
    // Another VHD under the parent's name: its unique id is not the one recorded.
    let dir = alone(tmp.path(), &["gpt-child.vhd"]);
    std::fs::copy(
        tmp.path().join("mbr63-fixed.vhd"),
        dir.path().join("gpt-dynamic.vhd"),
    )
    .unwrap();
    let text = open_err(&dir.path().join("gpt-child.vhd")).to_string();
    assert!(
        text.contains("unique id") && text.contains("gpt-dynamic.vhd"),
        "{text}"
    );
    // Another VHDX under the parent's name: its DataWriteGuid is not parent_linkage.
    let dir = alone(tmp.path(), &["gpt-child.vhdx"]);
    std::fs::copy(
        tmp.path().join("case.vhdx"),
        dir.path().join("gpt-fixed.vhdx"),
    )
    .unwrap();
    let text = open_err(&dir.path().join("gpt-child.vhdx")).to_string();
    assert!(
        text.contains("parent_linkage") && text.contains("gpt-fixed.vhdx"),
        "{text}"
    );
    // A VMDK parent whose CID changed: read, with a note.
    let dir = alone(tmp.path(), &["gpt-snap.vmdk"]);
    let mut parent = std::fs::read(tmp.path().join("gpt-sparse.vmdk")).unwrap();
    let at = parent
        .windows(4)
        .position(|w| w == b"CID=")
        .expect("embedded descriptor");
    parent[at + 4] = if parent[at + 4] == b'0' { b'1' } else { b'0' };
    std::fs::write(dir.path().join("gpt-sparse.vmdk"), parent).unwrap();
    let image = open_image(&dir.path().join("gpt-snap.vmdk")).unwrap();
    let notes = image.known_gaps();
    assert!(
        notes
            .iter()
            .any(|(_, w)| w.contains("changed after the snapshot")),
        "{notes:?}"
    );
}

/// A copy of fixture `name` in its own folder (with `others` beside it), changed by
/// `damage`.
fn damaged(
    from: &Path,
    name: &str,
    others: &[&str],
    damage: impl FnOnce(&mut Vec<u8>),
) -> (tempfile::TempDir, PathBuf) {
    let mut names = others.to_vec();
    names.push(name);
    let dir = alone(from, &names);
    let path = dir.path().join(name);
    let mut bytes = std::fs::read(&path).unwrap();
    damage(&mut bytes);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// Read all of a disk; the first error.
fn read_all(image: &dyn ImageSource) -> Option<ImageError> {
    let mut buf = vec![0u8; 65536];
    let mut offset = 0;
    while offset < image.size() {
        match image.read_at(offset, &mut buf) {
            Ok(0) => return None,
            Ok(n) => offset += n as u64,
            Err(e) => return Some(e),
        }
    }
    None
}

#[test]
fn damaged_files_give_errors_naming_the_file_and_the_offset() {
    let tmp = tempfile::tempdir().unwrap();
    unpack_all(tmp.path());
    let t = tmp.path();

    // A fixed VHD's footer with a flipped byte: its checksum.
    let (_d, path) = damaged(t, "mbr63-fixed.vhd", &[], |b| {
        let n = b.len();
        b[n - 512 + 50] ^= 1;
    });
    let len = std::fs::metadata(&path).unwrap().len();
    let text = open_err(&path).to_string();
    assert!(
        text.contains("checksum") && text.contains(&format!("file offset {}", len - 512)),
        "{text}"
    );

    // A dynamic VHD whose footer copy at 0 is damaged: the one at the end is used.
    let (_d, path) = damaged(t, "gpt-dynamic.vhd", &[], |b| b[100] ^= 0x40);
    let image = open_image(&path).unwrap();
    assert_eq!(image_sha256(&*image, 65536), readme("gpt.raw"));
    assert!(
        image.known_gaps()[0].1.contains("checksum"),
        "{:?}",
        image.known_gaps()
    );

    // A dynamic VHD cut in half: opened from the copy at 0, with a note, and the reads
    // past the cut fail naming the file and both offsets.
    let (_d, path) = damaged(t, "gpt-dynamic.vhd", &[], |b| b.truncate(b.len() / 2));
    let image = open_image(&path).unwrap();
    assert!(image.known_gaps()[0].1.contains("truncated"));
    match read_all(&*image) {
        Some(e @ ImageError::VirtualRead { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("gpt-dynamic.vhd") && text.contains("file offset"),
                "{text}"
            );
            assert!(e.offset().is_some());
        }
        other => panic!("{other:?}"),
    }

    // A VHDX cut before its BAT: the region table says where it should be.
    let (_d, path) = damaged(t, "case.vhdx", &[], |b| b.truncate(3 * MIB as usize / 2));
    let text = open_err(&path).to_string();
    assert!(
        text.contains("case.vhdx") && text.contains("truncated"),
        "{text}"
    );

    // Both VHDX headers damaged: an error naming the first; one damaged: the other, and
    // a note.
    let (_d, path) = damaged(t, "gpt-child.vhdx", &["gpt-fixed.vhdx"], |b| {
        b[64 * 1024 + 200] ^= 1;
        b[128 * 1024 + 200] ^= 1;
    });
    let text = open_err(&path).to_string();
    assert!(
        text.contains("file offset 65536") && text.contains("CRC-32C"),
        "{text}"
    );
    let (_d, path) = damaged(t, "gpt-child.vhdx", &["gpt-fixed.vhdx"], |b| {
        b[128 * 1024 + 200] ^= 1;
    });
    let image = VhdxDisk::open(&path).unwrap();
    assert_eq!(image_sha256(&image, 65536), readme("gpt-child.vhdx"));
    assert!(
        image.known_gaps()[0].0.contains("131072"),
        "{:?}",
        image.known_gaps()
    );
    // The first region table damaged: the second copy.
    let (_d, path) = damaged(t, "gpt-child.vhdx", &["gpt-fixed.vhdx"], |b| {
        b[192 * 1024 + 20] ^= 1;
    });
    let image = open_image(&path).unwrap();
    assert_eq!(image_sha256(&*image, 65536), readme("gpt-child.vhdx"));

    // A compressed grain damaged: the read of its bytes fails, naming the offsets.
    let (_d, path) = damaged(t, "tiny-vmware-stream.vmdk", &[], |b| {
        // The first grain's zlib stream starts 12 bytes into sector 2 (header,
        // descriptor).
        for x in &mut b[1024 + 12 + 20..1024 + 12 + 40] {
            *x ^= 0x5a;
        }
    });
    let image = open_image(&path).unwrap();
    let mut buf = [0u8; 16];
    let err = image.read_at(100, &mut buf).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.offset(), Some(100), "{text}");
    assert!(
        text.contains("file offset 1024") && text.contains("tiny-vmware-stream.vmdk"),
        "{text}"
    );
    // The rest of the disk still reads.
    assert_eq!(image.read_at(MIB, &mut buf).unwrap(), 16);

    // A stream-optimized VMDK whose footer is gone (the GD is at the end).
    let (_d, path) = damaged(t, "tiny-vmware-stream.vmdk", &[], |b| {
        b.truncate(b.len() - 1536)
    });
    let text = open_err(&path).to_string();
    assert!(
        text.contains("footer") && text.contains("tiny-vmware-stream.vmdk"),
        "{text}"
    );

    // A flat extent cut short: a note when opening, reads past the cut fail.
    let (_d, path) = damaged(t, "tiny-flat-flat.vmdk", &["tiny-flat.vmdk"], |b| {
        b.truncate(MIB as usize)
    });
    let image = open_image(&path.with_file_name("tiny-flat.vmdk")).unwrap();
    assert!(
        image.known_gaps()[0].1.contains("truncated"),
        "{:?}",
        image.known_gaps()
    );
    match read_all(&*image) {
        Some(e) => {
            let text = e.to_string();
            assert_eq!(e.offset(), Some(MIB), "{text}");
            assert!(text.contains("tiny-flat-flat.vmdk"), "{text}");
        }
        None => panic!("read past the cut"),
    }

    // A descriptor extent line that makes no sense: the line's offset.
    let (_d, path) = damaged(t, "tiny-split.vmdk", &[], |b| {
        let text = String::from_utf8(b.clone()).unwrap();
        *b = text.replace("RW 1024 ZERO", "RW many ZERO").into_bytes();
    });
    let text = open_err(&path).to_string();
    let at = std::fs::read_to_string(&path)
        .unwrap()
        .find("RW many")
        .unwrap();
    assert!(text.contains(&format!("file offset {at}")), "{text}");
}

/// CRC-32C (Castagnoli), bit by bit, for re-sealing mutated VHDX structures.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Re-seal the checksums a mutation broke, so that parsing goes past them: VHD footers
/// and dynamic header (ones' complement sums), VHDX headers and region tables (CRC-32C).
fn reseal(name: &str, b: &mut [u8]) {
    let ones = |b: &mut [u8], at: usize, len: usize, skip: usize| {
        let sum: u32 = b[at..at + len]
            .iter()
            .enumerate()
            .filter(|(i, _)| !(skip..skip + 4).contains(i))
            .fold(0u32, |a, (_, &x)| a.wrapping_add(u32::from(x)));
        b[at + skip..at + skip + 4].copy_from_slice(&(!sum).to_be_bytes());
    };
    let crc = |b: &mut [u8], at: usize, len: usize| {
        b[at + 4..at + 8].fill(0);
        let sum = crc32c(&b[at..at + len]);
        b[at + 4..at + 8].copy_from_slice(&sum.to_le_bytes());
    };
    if name.ends_with(".vhd") {
        let n = b.len();
        ones(b, 0, 512, 64);
        ones(b, n - 512, 512, 64);
        ones(b, 512, 1024, 36);
    } else if name.ends_with(".vhdx") {
        crc(b, 64 * 1024, 4096);
        crc(b, 128 * 1024, 4096);
        crc(b, 192 * 1024, 65536);
        crc(b, 256 * 1024, 65536);
    }
}

#[test]
fn mutated_headers_and_tables_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    unpack_all(tmp.path());
    // (file, ranges to mutate)
    let targets: &[(&str, &[(usize, usize)])] = &[
        // Footer copy, dynamic header, BAT, locators; the footer at the end.
        ("gpt-child.vhd", &[(0, 4096), (usize::MAX - 512, 512)]),
        // Headers, region tables, metadata table and items, BAT, sector bitmap.
        (
            "gpt-child.vhdx",
            &[
                (64 * 1024, 128),
                (128 * 1024, 128),
                (192 * 1024, 96),
                (1 << 20, 256),
                ((1 << 20) + 65536, 512),
                (2 << 20, 64),
                ((2 << 20) + 4096 * 8, 16),
                (3 << 20, 64),
            ],
        ),
        // Header, embedded descriptor, grain directory and tables (QEMU lays them at the
        // start).
        (
            "tiny-2gbsparse-s001.vmdk",
            &[(0, 96), (512, 512), (10240, 4096)],
        ),
        // Header, descriptor, a grain marker; footer, GD and GT at the end.
        (
            "tiny-vmware-stream.vmdk",
            &[(0, 96), (1024, 64), (usize::MAX - 8192, 8192)],
        ),
        ("tiny-split.vmdk", &[(0, 400)]),
    ];
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    let mut opened = 0;
    let mut refused = 0;
    for (name, ranges) in targets {
        let original = std::fs::read(tmp.path().join(name)).unwrap();
        // The tiny descriptor's extents name files beside it; children name parents.
        let path = tmp.path().join(name);
        let open_name = if name.contains("-s001") {
            "tiny-2gbsparse.vmdk"
        } else {
            name
        };
        for _ in 0..80 {
            let mut bytes = original.clone();
            let n = bytes.len();
            let (start, len) = ranges[rng.below(ranges.len() as u64) as usize];
            let start = if start >= usize::MAX - 65536 {
                n - (usize::MAX - start)
            } else {
                start
            };
            let at = (start + rng.below(len as u64) as usize).min(n - 1);
            match rng.below(4) {
                0 => bytes[at] ^= 1 << rng.below(8),
                1 => bytes[at] = rng.next() as u8,
                2 => {
                    let v: u32 = [0, 1, u32::MAX, 0x8000_0000, 512, rng.next() as u32]
                        [rng.below(6) as usize];
                    let end = (at + 4).min(n);
                    bytes[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
                }
                _ => {
                    let v: u64 = [0, u64::MAX, 1 << 40, rng.next()][rng.below(4) as usize];
                    let end = (at + 8).min(n);
                    bytes[at..end].copy_from_slice(&v.to_be_bytes()[..end - at]);
                }
            }
            if rng.below(4) != 0 {
                reseal(name, &mut bytes);
            }
            std::fs::write(&path, &bytes).unwrap();
            let result =
                std::panic::catch_unwind(|| match open_image(&tmp.path().join(open_name)) {
                    Ok(image) => {
                        let mut buf = vec![0u8; 70_000];
                        let mut r = XorShift(at as u64 + 1);
                        for _ in 0..12 {
                            let offset = r.below(image.size().max(1));
                            let _ = image.read_at(offset, &mut buf);
                        }
                        let _ = (image.describe(), image.files(), image.known_gaps());
                        true
                    }
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        false
                    }
                });
            match result {
                Ok(true) => opened += 1,
                Ok(false) => refused += 1,
                Err(_) => panic!("{name}: a mutation at byte {at} panicked"),
            }
        }
        std::fs::write(&path, &original).unwrap();
    }
    // Mutations both got past the checks and were refused by them.
    assert!(
        opened > 50 && refused > 50,
        "opened {opened}, refused {refused}"
    );
}

/// The SHA-256 the fixtures README records for `name`.
fn readme(name: &str) -> String {
    readme_sha256(&vdisks().join("README.md"), name)
}
