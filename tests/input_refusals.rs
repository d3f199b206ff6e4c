//! Inputs this version does not read are named for what they are, with what to do, and
//! exit 2: never "not a recognised input" or a silent "no trace". Synthetic minimal
//! headers (each format's signature where its specification puts it), real file systems
//! made by their tools where the tools are installed, and disk images whose partitions
//! hold other file systems.

mod common;

use std::path::{Path, PathBuf};

use common::run_on;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The error `detect_inputs` gives for one input.
fn refusal(path: &Path) -> String {
    match netsession_scan::detect_inputs(&[path.to_path_buf()]) {
        Ok(inputs) => panic!("{} accepted as {:?}", path.display(), inputs[0].kind),
        Err(e) => e.to_string(),
    }
}

fn assert_says(message: &str, words: &[&str]) {
    for word in words {
        assert!(message.contains(word), "{word:?} not in {message:?}");
    }
}

/// A boot sector: jump, OEM id, the 55 AA signature (so it could pass for an MBR).
fn boot_sector(oem: &[u8; 8]) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    b[..3].copy_from_slice(&[0xEB, 0x58, 0x90]);
    b[3..11].copy_from_slice(oem);
    b[510] = 0x55;
    b[511] = 0xAA;
    b
}

fn fat(label_at: usize, label: &[u8; 8]) -> Vec<u8> {
    let mut b = boot_sector(b"mkfs.fat");
    b[label_at..label_at + 8].copy_from_slice(label);
    b
}

fn ext(compat: u32, incompat: u32) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    b[1024 + 0x38..1024 + 0x3A].copy_from_slice(&0xEF53u16.to_le_bytes());
    b[1024 + 0x5C..1024 + 0x60].copy_from_slice(&compat.to_le_bytes());
    b[1024 + 0x60..1024 + 0x64].copy_from_slice(&incompat.to_le_bytes());
    b
}

fn at(offset: usize, bytes: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    b[offset..offset + bytes.len()].copy_from_slice(bytes);
    b
}

#[test]
fn each_format_is_named_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut qcow = b"QFI\xfb\0\0\0\x03".to_vec();
    qcow.resize(4096, 0);
    let mut vdi = at(0, b"<<< Oracle VM VirtualBox Disk Image >>>\n");
    vdi[0x40..0x44].copy_from_slice(&0xBEDA_107Fu32.to_le_bytes());
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "disk.qcow2",
            qcow,
            &["qcow2", "qemu-img convert -O raw", "VHDX"],
        ),
        ("disk.vdi", vdi, &["VirtualBox VDI", "convert it to raw"]),
        (
            "ext2.img",
            ext(0, 0),
            &["ext2 volume", "mount it read-only"],
        ),
        ("ext3.img", ext(0x4, 0x2), &["ext3 volume"]),
        ("ext4.img", ext(0x4, 0x2 | 0x40), &["ext4 volume"]),
        ("fat12.img", fat(54, b"FAT12   "), &["FAT12 volume"]),
        ("fat16.img", fat(54, b"FAT16   "), &["FAT16 volume"]),
        (
            "fat32.img",
            fat(82, b"FAT32   "),
            &["FAT32 volume", "only NTFS is read"],
        ),
        ("exfat.img", boot_sector(b"EXFAT   "), &["exFAT volume"]),
        ("refs.img", boot_sector(b"ReFS\0\0\0\0"), &["ReFS volume"]),
        ("apfs.img", at(32, b"NXSB"), &["APFS volume"]),
        ("hfs.img", at(1024, b"H+\x00\x04"), &["HFS+ volume"]),
        ("hfsx.img", at(1024, b"HX\x00\x05"), &["HFSX volume"]),
        (
            "bitlocker.img",
            boot_sector(b"-FVE-FS-"),
            &[
                "BitLocker encrypted volume",
                "decrypt it first",
                "recovery key",
            ],
        ),
        (
            "luks.img",
            at(0, b"LUKS\xba\xbe\x00\x02"),
            &["LUKS encrypted volume", "cryptsetup open --readonly"],
        ),
        (
            "case.7z",
            at(0, b"7z\xbc\xaf\x27\x1c\x00\x04"),
            &["7-Zip archive", "unpack it", "convert it to ZIP"],
        ),
        (
            "case.rar",
            at(0, b"Rar!\x1a\x07\x00"),
            &["RAR archive", "ZIP"],
        ),
        (
            "case5.rar",
            at(0, b"Rar!\x1a\x07\x01\x00"),
            &["RAR archive"],
        ),
        ("empty.raw", Vec::new(), &["empty file (0 bytes)"]),
    ];
    for (name, bytes, words) in &cases {
        let path = write(dir, name, bytes);
        let message = refusal(&path);
        assert_says(&message, words);
        assert_says(&message, &[name, "not read by this version"]);
    }
    // Through the CLI: exit status 2, the same words on stderr.
    let out = run_on(&dir.join("fat32.img"), &["-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert_says(&String::from_utf8_lossy(&out.stderr), &["FAT32 volume"]);
    let out = run_on(&dir.join("empty.raw"), &["-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "no evidence file for a refused input"
    );
}

#[test]
fn text_and_unknown_bytes_stay_unrecognised() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "notes.txt", b"just some notes\n");
    assert_says(&refusal(&path), &["not a recognised input"]);
}

#[test]
fn a_later_split_segment_given_alone_asks_for_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Raw: the middle of a disk, named as the second piece.
    let noise: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
    let second = write(dir, "disk.raw.002", &noise);
    assert_says(
        &refusal(&second),
        &[
            "named as segment 2 of a split raw image",
            "give the first segment",
            "disk.raw.001",
            "not beside",
        ],
    );
    // With the first segment beside it, the message says it is there.
    write(dir, "disk.raw.001", &noise);
    assert_says(&refusal(&second), &["disk.raw.001; it is there"]);
    // EWF: the header's segment number says 2, and no E01 is beside it.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images/gpt.E02");
    let e02 = dir.join("gpt.E02");
    std::fs::copy(&fixture, &e02).unwrap();
    let message = refusal(&e02);
    assert_says(
        &message,
        &[
            "segment 2 of an EWF (E01) image, given alone",
            "gpt.E01",
            "first segment",
        ],
    );
    let out = run_on(&e02, &["-q"]);
    assert_eq!(out.status.code(), Some(2));
    // With its first segment, the later one opens the whole set as before.
    std::fs::copy(fixture.with_extension("E01"), dir.join("gpt.E01")).unwrap();
    std::fs::copy(fixture.with_extension("E03"), dir.join("gpt.E03")).unwrap();
    netsession_scan::detect_inputs(&[e02]).expect("E02 with its set beside it");
}

/// An MBR disk in memory: `parts` are (type byte, start sector, sectors, contents).
fn mbr_disk(parts: &[(u8, u32, u32, &[u8])], sectors: u32) -> Vec<u8> {
    let mut disk = vec![0u8; sectors as usize * 512];
    for (i, (kind, start, count, content)) in parts.iter().enumerate() {
        let e = 446 + i * 16;
        disk[e + 4] = *kind;
        disk[e + 8..e + 12].copy_from_slice(&start.to_le_bytes());
        disk[e + 12..e + 16].copy_from_slice(&count.to_le_bytes());
        let at = *start as usize * 512;
        disk[at..at + content.len()].copy_from_slice(content);
    }
    disk[510] = 0x55;
    disk[511] = 0xAA;
    disk
}

#[test]
fn a_disk_without_ntfs_names_each_partition() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = mbr_disk(
        &[
            (0x0C, 2048, 2048, &fat(82, b"FAT32   ")),
            (0x83, 4096, 2048, &ext(0x4, 0x40)),
            (0x07, 6144, 2048, &boot_sector(b"-FVE-FS-")),
        ],
        8192,
    );
    let path = write(tmp.path(), "usb.raw", &disk);
    let message = refusal(&path);
    assert_says(
        &message,
        &[
            "no readable NTFS volume",
            "partition 1 at byte 1048576: FAT32",
            "partition 2 at byte 2097152: ext4",
            "partition 3 at byte 3145728: BitLocker",
            "decrypt it first",
        ],
    );
}

/// `gzip -dc` of a fixture, or `None` (saying so) without gzip.
fn gunzip(path: &Path) -> Option<Vec<u8>> {
    match std::process::Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
    {
        Ok(out) if out.status.success() => Some(out.stdout),
        _ => {
            eprintln!(
                "skipped: gzip is not available to unpack {}",
                path.display()
            );
            None
        }
    }
}

#[test]
fn a_scan_warns_of_each_partition_it_does_not_read() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images/mbr63.raw.gz");
    let Some(mut disk) = gunzip(&fixture) else {
        return;
    };
    // Two more partitions after the NTFS one: FAT32 and LUKS.
    let end = disk.len() as u32 / 512;
    disk.resize(disk.len() + 2 * 1024 * 1024, 0);
    for (slot, (kind, start, content)) in [
        (0x0Cu8, end, fat(82, b"FAT32   ")),
        (0x83, end + 2048, at(0, b"LUKS\xba\xbe\x00\x01")),
    ]
    .into_iter()
    .enumerate()
    {
        let e = 446 + (slot + 1) * 16;
        disk[e + 4] = kind;
        disk[e + 8..e + 12].copy_from_slice(&start.to_le_bytes());
        disk[e + 12..e + 16].copy_from_slice(&2048u32.to_le_bytes());
        let at = start as usize * 512;
        disk[at..at + content.len()].copy_from_slice(&content);
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "mixed.raw", &disk);
    let inputs = netsession_scan::detect_inputs(std::slice::from_ref(&path)).expect("NTFS is read");
    let warnings = netsession_scan::Warnings::new();
    let report = netsession_scan::scan(
        &inputs,
        &netsession_scan::Catalog::embedded().unwrap(),
        &netsession_scan::AnalysisOptions::default(),
        &warnings,
    );
    let said: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
    let all = said.join("\n");
    assert_says(
        &all,
        &["partition 2", "FAT32", "partition 3", "LUKS", "cryptsetup"],
    );
    assert!(!report.rows.is_empty(), "the NTFS volume is still scanned");
}

/// Real file systems made by their tools, where the tools are installed (skipped one by
/// one otherwise): the refusal names them as the synthetic headers above do.
#[test]
fn real_file_systems_made_by_their_tools_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let tools: [(&str, &[&str], &str); 6] = [
        ("mke2fs", &["-q", "-F", "-t", "ext2"], "ext2 volume"),
        ("mke2fs", &["-q", "-F", "-t", "ext3"], "ext3 volume"),
        ("mke2fs", &["-q", "-F", "-t", "ext4"], "ext4 volume"),
        ("mkfs.vfat", &["-F", "32"], "FAT32 volume"),
        ("mkfs.vfat", &["-F", "16"], "FAT16 volume"),
        ("mkfs.exfat", &[], "exFAT volume"),
    ];
    for (i, (tool, args, expected)) in tools.iter().enumerate() {
        let path = tmp.path().join(format!("fs{i}.img"));
        std::fs::write(&path, vec![0u8; 40 * 1024 * 1024]).unwrap();
        let made = std::process::Command::new(tool)
            .args(*args)
            .arg(&path)
            .output();
        match made {
            Ok(out) if out.status.success() => assert_says(&refusal(&path), &[expected]),
            _ => eprintln!("skipped: {tool} {args:?} is not available"),
        }
    }
}
