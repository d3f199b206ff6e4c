//! Helpers for the end-to-end tests: build the fixture tree, run the binary, read its CSV.

#![allow(dead_code)] // each test file uses a different subset

#[path = "../../fixtures/mounted_tree.rs"]
pub mod mounted_tree;

pub mod evtx_writer;
pub mod hive_writer;
pub mod netsession_prefetch;
pub mod prefetch_writer;
pub mod sccainfo;
pub mod xpress_huffman_writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use filetime::FileTime;

pub const BIN: &str = env!("CARGO_BIN_EXE_netsession-scan");

/// Build the mounted-image fixture under `dir/evidence`, with planted times: every file
/// gets its spec's modification and access time, and the Vista install folder was
/// "created" ten seconds before the install.
pub fn build_fixture(dir: &Path) -> PathBuf {
    let root = dir.join("evidence");
    let files = mounted_tree::build(&root).expect("build fixture");
    for f in &files {
        filetime::set_file_times(
            root.join(&f.path),
            FileTime::from_unix_time(f.atime, 0),
            FileTime::from_unix_time(f.mtime, 0),
        )
        .expect("plant times");
    }
    let install = root.join(format!(
        "C/Users/{}/AppData/Local/Akamai",
        mounted_tree::VISTA_USER
    ));
    let t = mounted_tree::T_INSTALL - 10;
    filetime::set_file_times(
        &install,
        FileTime::from_unix_time(t, 0),
        FileTime::from_unix_time(t, 0),
    )
    .expect("plant folder times");
    root
}

pub fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run netsession-scan")
}

pub fn run_on(root: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(|s| s.as_ref()).collect();
    args.push(root.as_os_str());
    run(&args)
}

pub type Row = HashMap<String, String>;

/// Parse the evidence CSV into rows keyed by column name; checks the header.
pub fn parse_csv(bytes: &[u8]) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(
        header,
        [
            "datetime",
            "timestamp_desc",
            "message",
            "artifact",
            "user",
            "path",
            "value",
            "size",
            "sha256",
            "state",
            "source",
            "locator"
        ]
    );
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Rows whose path ends with `suffix` (backslash separated).
pub fn rows_for<'a>(rows: &'a [Row], suffix: &str) -> Vec<&'a Row> {
    rows.iter()
        .filter(|r| r["path"].ends_with(suffix))
        .collect()
}

/// A file under `fixtures/images`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/images")
        .join(name)
}

/// Unpacks `fixtures/images/<name>` (gzip) into `into`; `None` (saying so) without gzip.
pub fn gunzip(name: &str, into: &Path) -> Option<PathBuf> {
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(fixture(name))
        .output();
    let Ok(out) = out else {
        eprintln!("skipped: gzip not installed");
        return None;
    };
    assert!(out.status.success());
    let file_name = Path::new(name)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let target = into.join(file_name.trim_end_matches(".gz"));
    std::fs::write(&target, out.stdout).unwrap();
    Some(target)
}

pub fn sha256_file(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Scans `path` quietly, expecting exit 0, and returns its rows.
pub fn scan_ok(path: &Path) -> Vec<Row> {
    let out = run_on(path, &["-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    parse_csv(&out.stdout)
}

/// Where the case image's NTFS partition starts (`fixtures/images/case`: sector 2048).
pub const CASE_VOLUME: u64 = 2048 * 512;

/// Byte ranges, in the case disk image, of MFT record `number` and of the clusters of
/// its unnamed data (none for resident data): where to inject damage.
pub fn case_record_ranges(
    bytes: &[u8],
    number: u64,
) -> (std::ops::Range<u64>, Vec<std::ops::Range<u64>>) {
    use netsession_scan::internals::image::source::{MemoryImage, Slice};
    use netsession_scan::internals::ntfs::volume::{Extent, NtfsVolume};
    let len = bytes.len() as u64 - CASE_VOLUME - 1024 * 1024;
    let volume = NtfsVolume::open(Slice::new(
        MemoryImage::new(bytes.to_vec()),
        CASE_VOLUME,
        len,
    ))
    .unwrap();
    let cs = volume.boot.cluster_size;
    let record_at = CASE_VOLUME + volume.boot.mft_lcn * cs + number * 1024;
    let record = volume.read_record(number).unwrap().unwrap();
    let runs = record
        .data_attributes("")
        .find_map(|a| Extent::of(&a.body))
        .map(|e| e.runs)
        .unwrap_or_default();
    let data = runs
        .iter()
        .filter_map(|r| {
            let start = CASE_VOLUME + r.lcn? * cs;
            Some(start..start + r.length * cs)
        })
        .collect();
    (record_at..record_at + 1024, data)
}

/// `ntfs/dfir_ntfs` of the shared corpus (`../shared/corpus` or `$NETSESSION_CORPUS`);
/// `None`, saying so, when it is absent.
pub fn corpus_dir() -> Option<PathBuf> {
    let base = std::env::var_os("NETSESSION_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let dir = base.join("ntfs/dfir_ntfs");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: no corpus at {}", dir.display());
        None
    }
}

/// A library scan's rows, read back into memory (test scans are small), and warnings.
#[allow(dead_code)]
pub struct Scanned {
    pub rows: Vec<netsession_scan::EvidenceRow>,
    pub warnings: Vec<netsession_scan::Warning>,
}

#[allow(dead_code)]
impl From<netsession_scan::Report> for Scanned {
    fn from(report: netsession_scan::Report) -> Self {
        Scanned {
            rows: report.rows.to_vec().expect("rows read back"),
            warnings: report.warnings,
        }
    }
}

/// A hive under `fixtures/registry`.
pub fn registry_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/registry")
        .join(name)
}

/// Copies the registry fixture `fixture_name` to `dir/as_name` (folders made).
pub fn place(dir: &Path, fixture_name: &str, as_name: &str) -> PathBuf {
    let target = dir.join(as_name);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(registry_fixture(fixture_name), &target).unwrap();
    target
}

/// Runs the binary on `inputs` (exit 0 expected): its rows and its stderr.
pub fn scan_inputs(inputs: &[&Path]) -> (Vec<Row>, String) {
    let args: Vec<&std::ffi::OsStr> = inputs.iter().map(|p| p.as_os_str()).collect();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (parse_csv(&out.stdout), stderr(&out))
}

/// The hives the summary says were analysed.
pub fn hives_analysed(summary: &str) -> usize {
    let (_, after) = summary.split_once(" file(s) read, ").expect("summary line");
    after.split(' ').next().unwrap().parse().unwrap()
}

/// Everything a row says but where it came from (`source`, `locator`, `size`).
pub fn facts(rows: &[Row]) -> std::collections::BTreeSet<Vec<String>> {
    const KEPT: [&str; 9] = [
        "datetime",
        "timestamp_desc",
        "message",
        "artifact",
        "user",
        "path",
        "value",
        "sha256",
        "state",
    ];
    rows.iter()
        .map(|r| KEPT.iter().map(|k| r[*k].clone()).collect())
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of all bytes of an image source, read in `piece`-sized reads.
pub fn image_sha256(
    src: &dyn netsession_scan::internals::image::source::ImageSource,
    piece: usize,
) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; piece];
    let mut offset = 0u64;
    loop {
        let n = src.read_at(offset, &mut buf).expect("read");
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        offset += n as u64;
    }
    assert_eq!(offset, src.size(), "read all of {}", src.describe());
    hex(&hasher.finalize())
}

/// The SHA-256 a fixtures README records for `name` (`<hash>  <name>` lines).
pub fn readme_sha256(readme: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(readme).expect("README");
    text.lines()
        .find_map(|l| l.strip_suffix(&format!("  {name}")))
        .unwrap_or_else(|| panic!("{} has no SHA-256 for {name}", readme.display()))
        .to_string()
}

/// Deterministic pseudo-random numbers.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
