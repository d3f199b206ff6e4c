//! Collected NTFS metadata: a KAPE-style collection (`fixtures/collections/kape_case.tar.gz`,
//! made by `make_kape.sh` with sleuthkit's icat from the case and uninstalled images)
//! gives the MFT-derived rows and the journal rows the images give: same names, states,
//! times and locators; only `source`, and the hash of data that was not collected,
//! differ. A damaged record is a warning with its byte offset; a `$MFT` given directly
//! is scanned the same way; the reader needs nothing but a sequential stream.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::*;
use netsession_scan::internals::host::collected::{CollectedFile, HostFile};
use netsession_scan::internals::ntfs::collected::{CollectedMft, each_journal_chunk};

/// Unpacks the collection into `into` (`kape/C`, `kape/D`); `None` (saying so) without tar.
fn kape(into: &Path) -> Option<PathBuf> {
    let archive =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/kape_case.tar.gz");
    let Ok(out) = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(into)
        .output()
    else {
        eprintln!("skipped: tar not installed");
        return None;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(into.join("kape"))
}

/// What must be equal between an image's row and the collection's row of the same entry.
fn key(r: &Row) -> (String, String, String, String, String) {
    (
        r["datetime"].clone(),
        r["timestamp_desc"].clone(),
        r["path"].clone(),
        r["state"].clone(),
        r["locator"].clone(),
    )
}

fn mft_rows<'a>(rows: &'a [Row], source_suffix: &str) -> Vec<&'a Row> {
    rows.iter()
        .filter(|r| r["source"].ends_with(source_suffix))
        .collect()
}

#[test]
fn the_kape_folder_gives_the_case_image_s_mft_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let (Some(image), Some(kape)) = (gunzip("case/case.raw.gz", tmp.path()), kape(tmp.path()))
    else {
        return;
    };
    let image_rows = scan_ok(&image);
    let kape_rows = scan_ok(&kape);
    // Entry rows of C's $MFT (its content rows have `line=` locators).
    let c_mft: Vec<&Row> = mft_rows(&kape_rows, "kape/C/$MFT")
        .into_iter()
        .filter(|r| r["locator"].starts_with("mft="))
        .collect();
    assert!(!c_mft.is_empty(), "no rows from C/$MFT");

    // Every row the image's MFT gives (file and folder entries: `mft=` locators) is in
    // the collection's $MFT rows, with the same time, description, path, state, user,
    // size and artifact. Its hash is there when the data was resident and not copied.
    let resident_not_copied = ["readme.txt", "NetSessionSetup.exe:Zone.Identifier"];
    let entry_rows: Vec<&Row> = image_rows
        .iter()
        .filter(|r| r["locator"].starts_with("mft="))
        .collect();
    assert!(entry_rows.len() > 30, "{}", entry_rows.len());
    for want in &entry_rows {
        let got = c_mft
            .iter()
            .find(|r| key(r) == key(want))
            .unwrap_or_else(|| panic!("not in the collection: {want:?}"));
        for column in ["user", "size", "artifact"] {
            assert_eq!(got[column], want[column], "{column} of {want:?}");
        }
        let name = want["path"].rsplit('\\').next().unwrap();
        if resident_not_copied.contains(&name) {
            assert_eq!(got["sha256"], want["sha256"], "{want:?}");
            assert_eq!(got["message"], want["message"]);
        } else if !want["sha256"].is_empty() {
            assert_eq!(got["sha256"], "", "{got:?}");
            assert!(
                got["message"].contains("content not in the collection")
                    || got["message"].contains("the collection's copy"),
                "{got:?}"
            );
        }
    }
    // Nothing more either: the same entries, times and states.
    let want: BTreeSet<_> = entry_rows.iter().map(|r| key(r)).collect();
    let got: BTreeSet<_> = c_mft.iter().map(|r| key(r)).collect();
    assert_eq!(got, want);

    // The deleted DLL with its planted times ($SI and $FN), and the data not collected.
    let dll = rows_for(
        &c_mft.iter().copied().cloned().collect::<Vec<_>>(),
        "netsession_win_a1b2c3d.dll",
    )
    .into_iter()
    .cloned()
    .collect::<Vec<_>>();
    let times: BTreeSet<(&str, &str)> = dll
        .iter()
        .map(|r| (r["datetime"].as_str(), r["timestamp_desc"].as_str()))
        .collect();
    let expected: BTreeSet<(&str, &str)> = [
        (
            "2012-02-14T09:30:02.0000000Z",
            "Created, Modified, MFT Entry Changed ($SI)",
        ),
        (
            "2012-02-14T09:30:02.0000000Z",
            "Created, Modified, MFT Entry Changed ($FN)",
        ),
        ("2012-02-14T09:30:03.0000000Z", "Accessed ($SI)"),
        ("2012-02-14T09:30:03.0000000Z", "Accessed ($FN)"),
    ]
    .into();
    assert_eq!(times, expected, "{dll:#?}");
    for r in &dll {
        assert_eq!(r["state"], "deleted");
        assert_eq!(r["locator"], "mft=75 seq=2");
        assert!(r["message"].contains("40002 bytes of data"), "{r:?}");
    }

    // Content the image gives from data the collection holds elsewhere: the log's lines
    // come from the copied file (directory rows), the readme's copyright from the
    // resident data in $MFT. Each once.
    for want in image_rows
        .iter()
        .filter(|r| r["locator"].starts_with("line="))
    {
        let name = want["path"].rsplit('\\').next().unwrap();
        let got: Vec<&Row> = kape_rows
            .iter()
            .filter(|r| key(r) == key(want) && r["message"] == want["message"])
            .collect();
        assert_eq!(got.len(), 1, "{name}: {want:?} -> {got:?}");
        assert_eq!(got[0]["sha256"], want["sha256"]);
        let from_mft = got[0]["source"].ends_with("C/$MFT");
        assert_eq!(
            from_mft,
            name == "readme.txt" || name.contains(':'),
            "{got:?}"
        );
    }
    // The copied executable: hashed from the copy, as a directory file.
    let exe = rows_for(&kape_rows, "Akamai\\netsession_win.exe");
    assert!(exe.iter().any(|r| r["sha256"]
        == "163caf390d81cefbebceca9a5ba2e7b2295eecf8c3c74e8ecbd79467df355ad0"
        && r["source"].ends_with("root=C")));
    assert!(
        exe.iter()
            .any(|r| r["source"].ends_with("C/$MFT")
                && r["message"].contains("the collection's copy"))
    );
}

#[test]
fn the_kape_folder_gives_the_uninstalled_image_s_journal_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let (Some(image), Some(kape)) = (
        gunzip("uninstalled/uninstalled.ntfs.gz", tmp.path()),
        kape(tmp.path()),
    ) else {
        return;
    };
    let journal = |rows: Vec<Row>| -> Vec<Row> {
        rows.into_iter()
            .filter(|r| r["artifact"] == "ntfs.usn_journal")
            .collect()
    };
    let from_image = journal(scan_ok(&image));
    let from_kape = journal(scan_ok(&kape));
    assert_eq!(from_image.len(), 29);
    assert_eq!(from_kape.len(), from_image.len());
    for (got, want) in from_kape.iter().zip(&from_image) {
        assert!(got["source"].ends_with("kape/D/$Extend/$J"), "{got:?}");
        for (column, value) in want {
            if column != "source" {
                assert_eq!(&got[column], value, "{column}: {got:?}");
            }
        }
    }
    // The orphaned DLL of the uninstalled volume comes from D's $MFT as from the image.
    let orphan = |rows: &[Row]| -> Vec<(String, String, String, String)> {
        rows.iter()
            .filter(|r| r["path"] == "$Orphan\\netsession_win_5c7d0e4.dll")
            .map(|r| {
                (
                    r["datetime"].clone(),
                    r["timestamp_desc"].clone(),
                    r["state"].clone(),
                    r["locator"].clone(),
                )
            })
            .collect()
    };
    let kape_rows = scan_ok(&kape);
    let image_rows = scan_ok(&image);
    assert!(!orphan(&image_rows).is_empty());
    assert_eq!(orphan(&kape_rows), orphan(&image_rows));
}

/// The library's scan of `paths`, with its warnings.
fn scan_lib(paths: &[PathBuf]) -> Scanned {
    let inputs = netsession_scan::detect_inputs(paths).expect("inputs");
    let catalog = netsession_scan::Catalog::embedded().unwrap();
    let warnings = netsession_scan::Warnings::new();
    netsession_scan::scan(&inputs, &catalog, &Default::default(), &warnings).into()
}

#[test]
fn a_damaged_record_is_a_warning_with_its_offset_and_the_rest_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(kape) = kape(tmp.path()) else {
        return;
    };
    let mft = kape.join("C/$MFT");
    let mut bytes = std::fs::read(&mft).unwrap();
    // Record 76 (netsession_win.exe): its first sector's last two bytes no longer match
    // the update sequence number, as after a torn write.
    let at = 76 * 1024 + 510;
    bytes[at] ^= 0xFF;
    bytes[at + 1] ^= 0x5A;
    std::fs::write(&mft, &bytes).unwrap();

    let scanned = scan_lib(std::slice::from_ref(&kape));
    let warning = scanned
        .warnings
        .iter()
        .find(|w| w.location.contains("MFT record 76"))
        .unwrap_or_else(|| panic!("{:#?}", scanned.warnings));
    assert!(warning.input.ends_with("C/$MFT"), "{warning:?}");
    assert!(
        warning.location.contains("byte offset 77824"),
        "{warning:?}"
    );
    let from_mft: Vec<_> = scanned
        .rows
        .iter()
        .filter(|r| r.source.ends_with("C/$MFT"))
        .collect();
    assert!(!from_mft.iter().any(|r| r.locator.starts_with("mft=76 ")));
    for kept in ["mft=75 seq=2", "mft=77 seq=1", "mft=81 seq=1"] {
        assert!(
            from_mft.iter().any(|r| r.locator == kept),
            "{kept} lost after a damaged record"
        );
    }
    // The copied executable is still read from the folder.
    assert!(
        scanned
            .rows
            .iter()
            .any(|r| r.path.ends_with("netsession_win.exe") && !r.sha256.is_empty())
    );
}

#[test]
fn a_mft_given_directly_is_scanned_with_the_journal_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(kape) = kape(tmp.path()) else {
        return;
    };
    let c = kape.join("C/$MFT");
    let rows = scan_ok(&c);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["source"] == c.to_string_lossy()));
    // Given alone, nothing is read from the folder: the copy is not named, the data is
    // said not to be in the collection.
    let exe = rows_for(&rows, "Akamai\\netsession_win.exe");
    assert!(!exe.is_empty());
    assert!(
        exe.iter()
            .all(|r| r["sha256"].is_empty()
                && r["message"].contains("content not in the collection"))
    );
    let d = kape.join("D/$MFT");
    let rows = scan_ok(&d);
    let journal: Vec<&Row> = rows
        .iter()
        .filter(|r| r["artifact"] == "ntfs.usn_journal")
        .collect();
    assert_eq!(journal.len(), 29);

    // A file named $MFT that is not one: given directly, an error naming it; met in a
    // folder, a warning, and the folder is scanned.
    let fake = tmp.path().join("fake");
    std::fs::create_dir(&fake).unwrap();
    let mut record = vec![0u8; 1024];
    record[..4].copy_from_slice(b"FILE");
    std::fs::write(fake.join("$MFT"), &record).unwrap();
    let out = run_on(&fake.join("$MFT"), &["-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not an NTFS $MFT"),
        "{}",
        stderr(&out)
    );
    let scanned = scan_lib(std::slice::from_ref(&fake));
    assert!(
        scanned
            .warnings
            .iter()
            .any(|w| w.input.ends_with("fake/$MFT") && w.message.contains("not an NTFS $MFT")),
        "{:#?}",
        scanned.warnings
    );
}

/// A collected file that is nothing but a sequential stream in small, uneven reads (as
/// an archive entry is): the reader must not seek or expect full reads.
struct Trickle {
    bytes: Vec<u8>,
    /// Zeros before the bytes, produced on the fly (a `$J` copy's sparse head).
    zeros: u64,
}

struct TrickleReader<'a> {
    inner: std::io::Chain<std::io::Take<std::io::Repeat>, &'a [u8]>,
    step: usize,
}

impl Read for TrickleReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = buf.len().min(self.step * 1000);
        self.inner.read(&mut buf[..n])
    }
}

impl CollectedFile for Trickle {
    fn len(&self) -> u64 {
        self.zeros + self.bytes.len() as u64
    }
    fn open(&self) -> std::io::Result<Box<dyn Read + Send + '_>> {
        let inner = std::io::repeat(0).take(self.zeros).chain(&self.bytes[..]);
        Ok(Box::new(TrickleReader { inner, step: 0 }))
    }
    fn name(&self) -> String {
        "trickle".into()
    }
}

#[test]
fn the_readers_need_only_a_sequential_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(kape) = kape(tmp.path()) else {
        return;
    };
    let host = CollectedMft::open(Box::new(HostFile::new(&kape.join("C/$MFT")).unwrap())).unwrap();
    let stream = CollectedMft::open(Box::new(Trickle {
        bytes: std::fs::read(kape.join("C/$MFT")).unwrap(),
        zeros: 0,
    }))
    .unwrap();
    assert_eq!(host.record_size, 1024);
    let names = |mft: &CollectedMft| {
        let (kept, stopped) = mft.map_records(|_, r| {
            r.ok()
                .flatten()
                .and_then(|r| r.parse().0.best_file_name())
                .map(|f| f.name)
        });
        assert!(stopped.is_none());
        kept
    };
    let from_host = names(&host);
    assert_eq!(from_host, names(&stream));
    assert!(
        from_host
            .iter()
            .any(|(n, name)| *n == 75 && name == "netsession_win_a1b2c3d.dll")
    );

    // A $J whose copy starts with 64 MiB of zeros: the same records, 64 MiB further on.
    let j = std::fs::read(kape.join("D/$Extend/$J")).unwrap();
    let usns = |file: &dyn CollectedFile| {
        let mut seen = Vec::new();
        let skipped = each_journal_chunk(file, |records| {
            seen.extend(records.iter().map(|r| (r.offset, r.usn, r.name.clone())))
        })
        .unwrap();
        assert_eq!(skipped, 0);
        seen
    };
    let plain = usns(&Trickle {
        bytes: j.clone(),
        zeros: 0,
    });
    let padded = usns(&Trickle {
        bytes: j,
        zeros: 64 << 20,
    });
    assert_eq!(plain.len(), 336, "the fixture's journal holds 336 records");
    assert_eq!(padded.len(), plain.len());
    for (a, b) in plain.iter().zip(&padded) {
        assert_eq!(b.0, a.0 + (64 << 20));
        assert_eq!((a.1, &a.2), (b.1, &b.2));
    }
}

/// Rows of `input` with a catalog that matches every entry of a volume (hashes off).
fn every_entry(
    input: &Path,
    catalog: &Path,
) -> BTreeSet<(String, String, String, String, String, String)> {
    let out = run(&[
        "-q".as_ref(),
        "--no-hash".as_ref(),
        "--catalog".as_ref(),
        catalog.as_os_str(),
        input.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Names left in folder-index slack are read from the volume's clusters, which a
    // collected `$MFT` does not have.
    parse_csv(&out.stdout)
        .into_iter()
        .filter(|r| r["locator"].starts_with("mft=") && !r["locator"].contains("$I30 slack"))
        .map(|r| {
            let (a, b, c, d, e) = key(&r);
            (a, b, c, d, e, r["size"].clone())
        })
        .collect()
}

/// `$MFT` of a bare NTFS volume image, read through our volume reader: record 0 with its
/// extension records merged (a fragmented `$MFT` lists its pieces there), then its data.
fn extract_mft(volume: &Path) -> Vec<u8> {
    use netsession_scan::internals::image::source::open_image;
    use netsession_scan::internals::ntfs::volume::{Extent, NtfsVolume, StreamReader};
    let volume = NtfsVolume::open(open_image(volume).unwrap()).unwrap();
    let record = volume.read_record(0).unwrap().unwrap();
    let (record, problems) = volume.with_extensions(record);
    assert!(problems.is_empty(), "{problems:?}");
    let data = record.data_attributes("").next().unwrap();
    let mut bytes = Vec::new();
    StreamReader::new(&volume, Extent::of(&data.body).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

#[test]
fn every_entry_of_an_image_is_the_same_from_its_collected_mft() {
    let tmp = tempfile::tempdir().unwrap();
    let (Some(case), Some(uninstalled), Some(fragmented), Some(kape)) = (
        gunzip("case/case.raw.gz", tmp.path()),
        gunzip("uninstalled/uninstalled.ntfs.gz", tmp.path()),
        gunzip("fragmented/fragmented.ntfs.gz", tmp.path()),
        kape(tmp.path()),
    ) else {
        return;
    };
    let catalog = tmp.path().join("every_entry.toml");
    std::fs::write(
        &catalog,
        "[[file]]\nid = \"test.every_entry\"\nscope = \"tree\"\npaths = [\"*\"]\n\
         what = \"entry\"\nproves = \"nothing\"\nconfidence = \"G\"\nsource = \"test\"\n",
    )
    .unwrap();
    // The fragmented volume's $MFT keeps its run list and its own $FILE_NAME in
    // extension records named by a non-resident attribute list.
    let fragmented_mft = tmp.path().join("fragmented_MFT");
    std::fs::write(&fragmented_mft, extract_mft(&fragmented)).unwrap();
    for (image, mft, at_least) in [
        (case, kape.join("C/$MFT"), 60),
        (uninstalled, kape.join("D/$MFT"), 50),
        (fragmented, fragmented_mft, 10_000),
    ] {
        let want = every_entry(&image, &catalog);
        let got = every_entry(&mft, &catalog);
        assert!(
            want.len() >= at_least,
            "{}: {}",
            image.display(),
            want.len()
        );
        let missing: Vec<_> = want.difference(&got).take(5).collect();
        let extra: Vec<_> = got.difference(&want).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: missing {missing:#?}, extra {extra:#?}",
            mft.display()
        );
    }
}

/// The walk of a collected `$MFT` (with `$J`) in memory: rows are not needed, only that
/// it ends; returns the candidates' count and the warnings' count.
fn walk_memory(mft: Vec<u8>, journal: Vec<u8>) -> Option<(usize, usize)> {
    use netsession_scan::internals::catalog::Matcher;
    use netsession_scan::internals::fs::FileSystem;
    use netsession_scan::internals::fs::collected::collected_view;
    use netsession_scan::internals::host::collected::MemoryFile;
    let file = |name: &str, bytes: Vec<u8>| MemoryFile {
        name: name.into(),
        bytes,
    };
    let mft = CollectedMft::open(Box::new(file("$MFT", mft))).ok()?;
    let journal: Box<dyn CollectedFile> = Box::new(file("$J", journal));
    let view = collected_view(mft, Some(journal), None);
    let catalog = netsession_scan::Catalog::embedded().unwrap();
    let matcher = Matcher::new(&catalog);
    let warnings = netsession_scan::Warnings::new();
    let mut journal_hits = 0;
    let walk = view.walk(&matcher, &warnings, &mut |hits| journal_hits += hits.len());
    for candidate in &walk.candidates {
        if let Ok(mut reader) = view.open(candidate) {
            std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        }
    }
    Some((
        walk.candidates.len() + journal_hits,
        warnings.snapshot().len(),
    ))
}

#[test]
fn random_damage_to_a_collected_mft_and_j_ends_in_warnings_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(kape) = kape(tmp.path()) else {
        return;
    };
    let mft = std::fs::read(kape.join("D/$MFT")).unwrap();
    let journal = std::fs::read(kape.join("D/$Extend/$J")).unwrap();
    let (intact, warned) = walk_memory(mft.clone(), journal.clone()).unwrap();
    assert!(intact > 29, "{intact}");
    assert_eq!(warned, 0);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    for round in 0..60 {
        let (mut m, mut j) = (mft.clone(), journal.clone());
        for _ in 0..1 + next(40) {
            let at = next(m.len());
            m[at] = next(256) as u8;
            let at = (1 << 20) + next(j.len() - (1 << 20));
            j[at] = next(256) as u8;
        }
        if round % 5 == 0 {
            m.truncate(next(m.len()));
            j.truncate(next(j.len()));
        }
        // An unreadable record 0 refuses the file; anything else is walked to its end.
        let _ = walk_memory(m, j);
    }
}
