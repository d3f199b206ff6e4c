//! Prefetch files written by `tests/common/prefetch_writer.rs` (versions 17, 23, 26 and
//! 30) read back to their spec, and sccainfo, where installed, reads the same run count,
//! run times and file names from them. A damaged volume entry is a problem that keeps
//! the run count and run times.

mod common;

use common::prefetch_writer::{PrefetchSpec, VOLUMES_OFFSET_FIELD, VolumeSpec, write_prefetch};
use common::sccainfo::{filetime_text, parse_sccainfo, run_sccainfo};
use netsession_scan::internals::content::prefetch::{Volume, file, parse};

const T0: u64 = 133_000_000_000_000_000;

fn netsession(version: u32) -> PrefetchSpec {
    let vol = r"\VOLUME{01d2b3c4d5e6f708-1234abcd}";
    let slots = if version >= 26 { 8 } else { 1 };
    PrefetchSpec {
        version,
        executable: "NETSESSION_WIN.EXE".into(),
        hash: 0x1A2B_3C4D,
        run_count: 12,
        last_runs: (0..slots).map(|i| T0 - i * 36_000_000_000).collect(),
        files: vec![
            format!(r"{vol}\WINDOWS\SYSTEM32\NTDLL.DLL"),
            format!(r"{vol}\USERS\ZOE\APPDATA\LOCAL\AKAMAI\NETSESSION_WIN.EXE"),
            format!(r"{vol}\USERS\ZOE\APPDATA\LOCAL\AKAMAI\NETSESSION_WIN_1.DLL"),
        ],
        volumes: vec![VolumeSpec {
            device_path: vol.into(),
            serial: 0x1234_ABCD,
            created: T0 - 864_000_000_000,
            directories: vec![
                format!(r"{vol}\USERS"),
                format!(r"{vol}\USERS\ZOE\APPDATA\LOCAL\AKAMAI"),
            ],
        }],
    }
}

#[test]
fn written_files_read_back_and_equal_sccainfo() {
    let dir = std::env::temp_dir().join(format!("pf-written-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for version in [17, 23, 26, 30] {
        let spec = netsession(version);
        let bytes = write_prefetch(&spec);
        let pf = parse(&bytes).unwrap();
        assert_eq!(pf, file::parse_decompressed(&bytes).unwrap());
        assert!(pf.problems.is_empty(), "v{version}: {:?}", pf.problems);
        assert_eq!((pf.version, pf.compressed), (version, false));
        assert_eq!(pf.executable, spec.executable);
        assert_eq!(pf.hash, spec.hash);
        assert_eq!(pf.run_count, spec.run_count);
        assert_eq!(pf.last_runs, spec.last_runs);
        assert_eq!(pf.loaded_files, spec.files);
        let want: Vec<Volume> = spec
            .volumes
            .iter()
            .map(|v| Volume {
                device_path: v.device_path.clone(),
                created: v.created,
                serial: v.serial,
                directories: v.directories.clone(),
            })
            .collect();
        assert_eq!(pf.volumes, want);

        let path = dir.join(format!("NETSESSION_WIN.EXE-1A2B3C4D.v{version}.pf"));
        std::fs::write(&path, &bytes).unwrap();
        match run_sccainfo(&path) {
            None => println!("sccainfo not installed: v{version} checked by our reader only"),
            Some(out) => {
                let theirs = parse_sccainfo(&out.unwrap()).unwrap();
                assert_eq!(theirs.version, version);
                assert_eq!(theirs.executable, spec.executable);
                assert_eq!(theirs.run_count, spec.run_count);
                let runs: Vec<String> = spec.last_runs.iter().map(|&t| filetime_text(t)).collect();
                assert_eq!(theirs.last_runs, runs, "v{version}");
                assert_eq!(theirs.filenames, spec.files, "v{version}");
                assert_eq!(theirs.volumes.len(), 1);
                assert_eq!(theirs.volumes[0].device_path, spec.volumes[0].device_path);
                assert_eq!(theirs.volumes[0].serial, spec.volumes[0].serial);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_volumes_are_a_problem_and_keep_the_runs() {
    for version in [17, 23, 26, 30] {
        let spec = netsession(version);
        let bytes = write_prefetch(&spec);
        let volumes_at =
            u32::from_le_bytes(bytes[VOLUMES_OFFSET_FIELD..][..4].try_into().unwrap()) as usize;
        // The first volume's device path offset points far outside the section, and its
        // directory strings offset too.
        let mut damaged = bytes.clone();
        damaged[volumes_at..volumes_at + 4].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
        damaged[volumes_at + 28..volumes_at + 32].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
        let pf = parse(&damaged).unwrap();
        assert_eq!(pf.run_count, spec.run_count);
        assert_eq!(pf.last_runs, spec.last_runs);
        assert_eq!(pf.loaded_files, spec.files);
        assert_eq!(pf.volumes.len(), 1);
        assert_eq!(pf.volumes[0].serial, spec.volumes[0].serial);
        assert_eq!(pf.problems.len(), 2, "v{version}: {:?}", pf.problems);
        assert!(pf.problems.iter().all(|p| p.offset >= volumes_at as u64));
        // A volumes offset past the end of the file: no volumes, one problem.
        let mut gone = bytes.clone();
        gone[VOLUMES_OFFSET_FIELD..VOLUMES_OFFSET_FIELD + 4]
            .copy_from_slice(&u32::MAX.to_le_bytes());
        let pf = parse(&gone).unwrap();
        assert!(pf.volumes.is_empty());
        assert_eq!(pf.problems.len(), 1);
        assert_eq!(pf.run_count, spec.run_count);
    }
}
