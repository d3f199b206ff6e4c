//! The NetSession Prefetch fixtures (`fixtures/prefetch/netsession/`): what each file
//! says, written by `prefetch_writer` (and compressed by `xpress_huffman_writer` for
//! versions 30 and 31, `MAM\x04` as Windows 10 and 11 write it).
//!
//! The committed files are this module's output: `tests/prefetch_scan.rs` checks that
//! they are byte for byte, and rewrites them with
//! `REGENERATE_PREFETCH=1 cargo test --test prefetch_scan committed`.
//!
//! Paths follow each Windows: `\DEVICE\HARDDISKVOLUMEn\...` up to 8.1,
//! `\VOLUME{<creation time>-<serial>}\...` from 10 on, upper case throughout; the
//! per-user install lies in `AppData\Local\Akamai` (Vista+) or `Local Settings\Application
//! Data\Akamai` (XP).
#![allow(dead_code)]

use super::prefetch_writer::{PrefetchSpec, VolumeSpec, write_prefetch};
use super::xpress_huffman_writer::mam;

/// FILETIME of a Unix time.
pub fn filetime(unix: i64) -> u64 {
    ((unix + 11_644_473_600) * 10_000_000) as u64
}

/// One fixture file: where it lies below `fixtures/prefetch/netsession/`, what it says,
/// and whether it is MAM-compressed.
pub struct PrefetchFixture {
    pub name: &'static str,
    pub spec: PrefetchSpec,
    pub compressed: bool,
}

impl PrefetchFixture {
    pub fn bytes(&self) -> Vec<u8> {
        let plain = write_prefetch(&self.spec);
        if self.compressed { mam(&plain) } else { plain }
    }
}

/// 2013-05-06T07:08:09Z and later, a few hours apart.
const T0: i64 = 1_367_824_089;

fn windows_files(volume: &str) -> Vec<String> {
    [
        "WINDOWS\\SYSTEM32\\NTDLL.DLL",
        "WINDOWS\\SYSTEM32\\KERNEL32.DLL",
        "WINDOWS\\SYSTEM32\\WS2_32.DLL",
        "WINDOWS\\SYSTEM32\\WININET.DLL",
    ]
    .iter()
    .map(|f| format!("{volume}\\{f}"))
    .collect()
}

fn dirs(volume: &str, list: &[String]) -> Vec<String> {
    list.iter().map(|d| format!("{volume}\\{d}")).collect()
}

/// A NetSession client run from a per-user install at `folder` (below `volume`).
fn client(
    version: u32,
    volume: &str,
    folder: &str,
    profile_dirs: &[&str],
    serial: u32,
    runs: &[i64],
) -> PrefetchSpec {
    let mut files = windows_files(volume);
    files.insert(2, format!("{volume}\\{folder}\\NETSESSION_WIN.EXE"));
    files.push(format!("{volume}\\{folder}\\NETSESSION_WIN_DBC0250.DLL"));
    files.push(format!("{volume}\\{folder}\\LANGUAGES\\DEU.DLL"));
    let mut d: Vec<String> = vec!["WINDOWS".into(), "WINDOWS\\SYSTEM32".into()];
    d.extend(profile_dirs.iter().map(|s| s.to_string()));
    d.push(folder.into());
    d.push(format!("{folder}\\LANGUAGES"));
    PrefetchSpec {
        version,
        executable: "NETSESSION_WIN.EXE".into(),
        hash: 0,
        run_count: runs.len() as u32 * 3 + 2,
        last_runs: runs.iter().map(|&t| filetime(t)).collect(),
        files,
        volumes: vec![VolumeSpec {
            device_path: volume.into(),
            serial,
            created: filetime(T0 - 86_400 * 200),
            directories: dirs(volume, &d),
        }],
    }
}

const WIN10_VOLUME: &str = "\\VOLUME{01d0a1b2c3d4e5f6-9e3c2b1a}";

/// Every fixture file.
pub fn fixtures() -> Vec<PrefetchFixture> {
    let hours = |n: i64| T0 + 3_600 * n;
    let mut out = Vec::new();
    let mut add = |name, mut spec: PrefetchSpec, compressed| {
        // the hash of the file name, as Windows names it
        let hex = name_hash(name);
        spec.hash = hex;
        out.push(PrefetchFixture {
            name,
            spec,
            compressed,
        });
    };
    add(
        "v17/NETSESSION_WIN.EXE-5D7E1A40.pf",
        client(
            17,
            "\\DEVICE\\HARDDISKVOLUME1",
            "DOCUMENTS AND SETTINGS\\BOB\\LOCAL SETTINGS\\APPLICATION DATA\\AKAMAI",
            &[
                "DOCUMENTS AND SETTINGS",
                "DOCUMENTS AND SETTINGS\\BOB",
                "DOCUMENTS AND SETTINGS\\BOB\\LOCAL SETTINGS",
                "DOCUMENTS AND SETTINGS\\BOB\\LOCAL SETTINGS\\APPLICATION DATA",
            ],
            0x2C4E_11A0,
            &[hours(1)],
        ),
        false,
    );
    add(
        "v23/NETSESSION_WIN.EXE-A3F0C2D1.pf",
        client(
            23,
            "\\DEVICE\\HARDDISKVOLUME2",
            "USERS\\CAROL\\APPDATA\\LOCAL\\AKAMAI",
            &[
                "USERS",
                "USERS\\CAROL",
                "USERS\\CAROL\\APPDATA",
                "USERS\\CAROL\\APPDATA\\LOCAL",
            ],
            0x8A1B_2C3D,
            &[hours(30)],
        ),
        false,
    );
    add(
        "v26/NETSESSION_WIN.EXE-1F00B7E2.pf",
        client(
            26,
            "\\DEVICE\\HARDDISKVOLUME2",
            "USERS\\DAVE.WORK\\APPDATA\\LOCAL\\AKAMAI",
            &[
                "USERS",
                "USERS\\DAVE.WORK",
                "USERS\\DAVE.WORK\\APPDATA",
                "USERS\\DAVE.WORK\\APPDATA\\LOCAL",
            ],
            0x4411_0F0E,
            &[hours(60), hours(58), hours(40)],
        ),
        false,
    );
    let zoe_dirs = [
        "USERS",
        "USERS\\ZOE",
        "USERS\\ZOE\\APPDATA",
        "USERS\\ZOE\\APPDATA\\LOCAL",
    ];
    let zoe_install = "USERS\\ZOE\\APPDATA\\LOCAL\\AKAMAI";
    add(
        "v30/NETSESSION_WIN.EXE-6C1D33F0.pf",
        client(
            30,
            WIN10_VOLUME,
            zoe_install,
            &zoe_dirs,
            0x9E3C_2B1A,
            &(0..8).map(|i| hours(100 - 5 * i)).collect::<Vec<_>>(),
        ),
        true,
    );
    // Windows 11: version 31, compressed; a profile name with a space.
    add(
        "v31/NETSESSION_WIN.EXE-77E0A5C3.pf",
        client(
            31,
            "\\VOLUME{01d8f1e2d3c4b5a6-70c1d2e3}",
            "USERS\\ANNA MARIA\\APPDATA\\LOCAL\\AKAMAI",
            &[
                "USERS",
                "USERS\\ANNA MARIA",
                "USERS\\ANNA MARIA\\APPDATA",
                "USERS\\ANNA MARIA\\APPDATA\\LOCAL",
            ],
            0x70C1_D2E3,
            &(0..5).map(|i| hours(200 - 7 * i)).collect::<Vec<_>>(),
        ),
        true,
    );
    // The uninstaller: its name names nothing, its image lies in the install folder.
    let mut uninstall = client(
        30,
        WIN10_VOLUME,
        zoe_install,
        &zoe_dirs,
        0x9E3C_2B1A,
        &[hours(120)],
    );
    uninstall.executable = "UNINSTALL.EXE".into();
    uninstall.run_count = 1;
    uninstall.files[2] = format!("{WIN10_VOLUME}\\{zoe_install}\\UNINSTALL.EXE");
    add("v30/UNINSTALL.EXE-0B5E9D27.pf", uninstall, true);
    // Explorer showing the install folder: it loaded NetSession's files, it is not
    // NetSession's run.
    let mut explorer = client(
        30,
        WIN10_VOLUME,
        zoe_install,
        &zoe_dirs,
        0x9E3C_2B1A,
        &[hours(119), hours(90)],
    );
    explorer.executable = "EXPLORER.EXE".into();
    explorer.files[2] = format!("{WIN10_VOLUME}\\WINDOWS\\EXPLORER.EXE");
    explorer.files.retain(|f| !f.ends_with("DBC0250.DLL"));
    add("v30/EXPLORER.EXE-D4A1C0A1.pf", explorer, true);
    // Another program entirely, one of whose files is called Akamai-something.
    let mut notepad = client(
        30,
        WIN10_VOLUME,
        "WINDOWS\\SYSTEM32",
        &["USERS", "USERS\\ZOE", "USERS\\ZOE\\DOCUMENTS"],
        0x9E3C_2B1A,
        &[hours(110)],
    );
    notepad.executable = "NOTEPAD.EXE".into();
    notepad.files = windows_files(WIN10_VOLUME);
    notepad
        .files
        .insert(2, format!("{WIN10_VOLUME}\\WINDOWS\\SYSTEM32\\NOTEPAD.EXE"));
    notepad.files.push(format!(
        "{WIN10_VOLUME}\\USERS\\ZOE\\DOCUMENTS\\AKAMAI_INVOICE.TXT"
    ));
    add("v30/NOTEPAD.EXE-D8414F97.pf", notepad, true);
    out
}

/// The hash in a fixture's file name (`NAME-<8 hex>.pf`).
fn name_hash(name: &str) -> u32 {
    let hex = name.rsplit('-').next().unwrap().trim_end_matches(".pf");
    u32::from_str_radix(hex, 16).unwrap()
}

/// The fixtures of the mounted tree (`fixtures/mounted_tree.rs`), written to
/// `fixtures/prefetch/netsession/tree/`: the Vista+ volume's client (Windows 7, version
/// 23) and notepad, the XP volume's admintool (version 17).
pub fn tree_fixtures(vista_user_upper: &str) -> Vec<PrefetchFixture> {
    let t = 1_329_211_800; // mounted_tree::T_INSTALL
    let v = "\\DEVICE\\HARDDISKVOLUME2";
    let profile = format!("USERS\\{vista_user_upper}");
    let folder = format!("{profile}\\APPDATA\\LOCAL\\AKAMAI");
    let appdata = format!("{profile}\\APPDATA");
    let local = format!("{profile}\\APPDATA\\LOCAL");
    let client_spec = client(
        23,
        v,
        &folder,
        &["USERS", &profile, &appdata, &local],
        0x5A5A_0102,
        &[t + 7_190],
    );
    let mut notepad = client(23, v, "WINDOWS\\SYSTEM32", &[], 0x5A5A_0102, &[t]);
    notepad.executable = "NOTEPAD.EXE".into();
    notepad.files = windows_files(v);
    notepad
        .files
        .insert(2, format!("{v}\\WINDOWS\\SYSTEM32\\NOTEPAD.EXE"));
    let xp = "\\DEVICE\\HARDDISKVOLUME1";
    let xp_folder = "DOCUMENTS AND SETTINGS\\BOB\\LOCAL SETTINGS\\APPLICATION DATA\\AKAMAI";
    let mut admintool = client(
        17,
        xp,
        xp_folder,
        &[
            "DOCUMENTS AND SETTINGS",
            "DOCUMENTS AND SETTINGS\\BOB",
            "DOCUMENTS AND SETTINGS\\BOB\\LOCAL SETTINGS",
            "DOCUMENTS AND SETTINGS\\BOB\\LOCAL SETTINGS\\APPLICATION DATA",
        ],
        0x2C4E_11A0,
        &[t - 7_000_010],
    );
    admintool.executable = "ADMINTOOL.EXE".into();
    admintool.run_count = 2;
    admintool.files[2] = format!("{xp}\\{xp_folder}\\ADMINTOOL.EXE");
    let mut out = Vec::new();
    for (name, mut spec) in [
        ("tree/NETSESSION_WIN.EXE-1A2B3C4D.pf", client_spec),
        ("tree/ADMINTOOL.EXE-0F1E2D3C.pf", admintool),
        ("tree/NOTEPAD.EXE-D8414F97.pf", notepad),
    ] {
        spec.hash = name_hash(name);
        out.push(PrefetchFixture {
            name,
            spec,
            compressed: false,
        });
    }
    out
}
