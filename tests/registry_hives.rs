//! End-to-end: registry hives given directly, and hives found inside a mounted
//! directory, built by `fixtures/registry/make_hives.py` (planted facts and times are
//! listed in `fixtures/registry/README.md`).

mod common;

use common::*;
use std::path::{Path, PathBuf};

const JOSE: &str = "José Müller";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/registry")
        .join(name)
}

fn scan(files: &[&str]) -> (Vec<Row>, String) {
    let paths: Vec<PathBuf> = files.iter().map(|f| fixture(f)).collect();
    let args: Vec<&std::ffi::OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (parse_csv(&out.stdout), stderr(&out))
}

fn all_hives() -> (Vec<Row>, String) {
    scan(&[
        "SYSTEM",
        "SOFTWARE",
        "NTUSER.DAT",
        "UsrClass.dat",
        "Amcache.hve",
    ])
}

fn of<'a>(rows: &'a [Row], artifact: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r["artifact"] == artifact).collect()
}

#[test]
fn services_of_the_current_control_set_only() {
    let (rows, _) = all_hives();
    let services = of(&rows, "registry.service");
    let akamai: Vec<_> = services
        .iter()
        .filter(|r| r["path"] == "SYSTEM\\ControlSet002\\Services\\Akamai")
        .collect();
    assert_eq!(akamai.len(), 1);
    assert_eq!(akamai[0]["datetime"], "2012-02-14T09:30:00.0000000Z");
    assert!(akamai[0]["value"].contains(
        "ServiceDll=C:\\Users\\José Müller\\AppData\\Local\\Akamai\\netsession_win_dbc0250.dll"
    ));
    assert!(akamai[0]["value"].contains("Start=2 (automatic)"));
    assert_eq!(akamai[0]["user"], JOSE);
    assert_eq!(akamai[0]["state"], "live");
    assert!(
        akamai[0]["locator"].starts_with("hive="),
        "{}",
        akamai[0]["locator"]
    );
    assert!(akamai[0]["locator"].contains("offset=0x"));
    let params = services
        .iter()
        .find(|r| r["path"] == "SYSTEM\\ControlSet002\\Services\\Akamai\\Parameters")
        .expect("Parameters row");
    assert_eq!(params["datetime"], "2012-02-14T09:30:00.1234567Z");
    let rswoosh = services
        .iter()
        .find(|r| r["path"] == "SYSTEM\\ControlSet002\\Services\\RSwoosh")
        .expect("Red Swoosh service");
    assert!(rswoosh["message"].contains("Red Swoosh"));
    assert_eq!(rswoosh["datetime"], "2008-05-20T15:45:10.9876543Z");
    for r in &rows {
        assert!(
            !r["path"].contains("ControlSet001"),
            "non-current control set: {r:?}"
        );
        assert!(
            !r["path"].contains("Spooler") && !r["path"].contains("Dhcp"),
            "decoy: {r:?}"
        );
    }
    // svchost: the Akamai group (lists the service) yes; the shared netsvcs group no.
    let groups = of(&rows, "registry.svchost_group");
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["value"], "Akamai = Akamai");
    assert_eq!(groups[0]["datetime"], "2012-02-14T09:30:00.2500000Z");
}

#[test]
fn firewall_decisions_per_profile_and_query_user() {
    let (rows, _) = all_hives();
    let rules = of(&rows, "registry.firewall_rule");
    assert_eq!(rules.len(), 3, "{rules:?}");
    assert!(
        rules
            .iter()
            .all(|r| r["datetime"] == "2012-02-14T09:31:00.0000000Z")
    );
    let find = |needle: &str| {
        rules
            .iter()
            .find(|r| r["value"].contains(needle))
            .unwrap_or_else(|| panic!("no rule with {needle}: {rules:?}"))
    };
    let tcp = find("Rule=TCP Query User");
    assert!(
        tcp["value"]
            .starts_with("Action=Allow; Dir=In; Protocol=TCP (6); Profiles=Private; Active=TRUE"),
        "{}",
        tcp["value"]
    );
    assert!(tcp["value"].contains("QueryUser=yes"));
    assert!(tcp["message"].contains("the user's answer to the Windows Firewall prompt: Allow"));
    assert_eq!(tcp["user"], JOSE, "user spelled as ProfileList spells it");
    let udp = find("Rule=UDP Query User");
    assert!(udp["value"].starts_with("Action=Block; Dir=In; Protocol=UDP (17); Profiles=Public"));
    let plain = find("Name=Akamai NetSession Interface");
    assert!(plain["value"].contains("QueryUser=no") && plain["value"].contains("Profiles=Domain"));
    assert!(rows.iter().all(|r| !r["value"].contains("CoreNet")));

    let xp = of(&rows, "registry.firewall_xp");
    assert_eq!(xp.len(), 1);
    assert_eq!(xp[0]["user"], "Bob");
    assert!(xp[0]["message"].contains("Enabled"));
    assert_eq!(xp[0]["datetime"], "2012-02-14T09:31:30.0000000Z");
}

#[test]
fn execution_evidence_bam_userassist_shimcache_muicache_amcache() {
    let (rows, _) = all_hives();
    let bam = of(&rows, "execution.bam");
    assert_eq!(bam.len(), 1, "notepad is a decoy");
    assert_eq!(bam[0]["datetime"], "2012-02-14T11:00:00.1234567Z");
    assert_eq!(bam[0]["timestamp_desc"], "Last Executed");
    assert_eq!(
        bam[0]["user"], JOSE,
        "SID resolved through SOFTWARE's ProfileList"
    );

    let ua = of(&rows, "execution.userassist");
    assert_eq!(ua.len(), 1);
    assert_eq!(ua[0]["datetime"], "2012-02-14T12:00:00.0000000Z");
    assert!(ua[0]["value"].starts_with("%LocalAppData%\\Akamai\\netsession_win.exe"));
    assert!(ua[0]["value"].contains("run count 5"));
    assert_eq!(ua[0]["user"], JOSE);

    let shim = of(&rows, "execution.appcompatcache");
    assert_eq!(shim.len(), 1);
    assert_eq!(shim[0]["datetime"], "2012-02-10T18:22:01.0000000Z");
    assert!(shim[0]["message"].contains("not an execution time"));

    // One row per program: the XP-style value in NTUSER, and the two values of the
    // Vista-style key in UsrClass together.
    let mui = of(&rows, "execution.muicache");
    assert_eq!(mui.len(), 2, "{mui:?}");
    let vista = mui
        .iter()
        .find(|r| r["value"].contains(".FriendlyAppName"))
        .unwrap();
    assert!(
        vista["value"].contains(".ApplicationCompany = Akamai Technologies, Inc"),
        "{}",
        vista["value"]
    );
    assert!(
        vista["message"].contains("FriendlyAppName \"Akamai NetSession Interface\", ApplicationCompany \"Akamai Technologies, Inc\""),
        "{}",
        vista["message"]
    );
    assert!(!vista["message"].contains(".exe.ApplicationCompany"));
    assert!(mui.iter().all(|r| r["user"] == JOSE));
    assert!(
        mui.iter()
            .all(|r| !r["value"].contains("mspaint") && !r["value"].contains("notepad"))
    );

    let amcache = of(&rows, "execution.amcache");
    let new = amcache
        .iter()
        .find(|r| r["path"].contains("InventoryApplicationFile"))
        .unwrap();
    assert!(new["value"].contains("SHA-1=9f2b2c3d4e5f60718293a4b5c6d7e8f901234567"));
    assert_eq!(new["datetime"], "2012-02-14T09:30:10.0000000Z");
    let old: Vec<_> = amcache
        .iter()
        .filter(|r| r["path"].contains("Root\\File"))
        .collect();
    let descs: Vec<&str> = old.iter().map(|r| r["timestamp_desc"].as_str()).collect();
    assert!(
        descs.contains(&"Modified (Amcache)") && descs.contains(&"Created (Amcache)"),
        "{descs:?}"
    );
    assert!(old.iter().all(|r| r["user"] == "Bob"));
    assert!(
        rows.iter()
            .all(|r| !r["value"].to_lowercase().contains("calc.exe"))
    );
}

#[test]
fn autostart_and_uninstall_per_user_and_machine() {
    let (rows, _) = all_hives();
    let run = of(&rows, "registry.run");
    assert_eq!(run.len(), 2, "{run:?}");
    let hkcu = run
        .iter()
        .find(|r| r["path"].starts_with("NTUSER\\"))
        .unwrap();
    assert_eq!(hkcu["user"], JOSE, "user from the hive's Shell Folders");
    assert_eq!(hkcu["datetime"], "2012-02-14T09:30:05.0000000Z");
    assert!(hkcu["value"].starts_with("Akamai NetSession Interface = \"C:\\Users\\José Müller\\AppData\\Local\\Akamai\\netsession_win.exe\""));
    let hklm = run
        .iter()
        .find(|r| r["path"].starts_with("SOFTWARE\\WOW6432Node"))
        .unwrap();
    assert_eq!(hklm["datetime"], "2012-02-14T09:30:02.0000000Z");
    for decoy in [
        "OneDrive",
        "SecurityHealth",
        "iTunesHelper",
        "7-Zip",
        "mlcfg32",
    ] {
        assert!(
            rows.iter().all(|r| !r["value"].contains(decoy)),
            "decoy {decoy}"
        );
    }
    let uninstall = of(&rows, "registry.uninstall");
    assert_eq!(uninstall.len(), 2);
    let per_user = uninstall
        .iter()
        .find(|r| r["path"].starts_with("NTUSER\\"))
        .unwrap();
    assert_eq!(per_user["datetime"], "2012-02-14T09:30:04.0000001Z");
    assert!(
        per_user["value"]
            .contains("InstallLocation=C:\\Users\\José Müller\\AppData\\Local\\Akamai")
    );
    assert!(per_user["value"].contains("DisplayVersion=1.9.2.3"));
    let machine = uninstall
        .iter()
        .find(|r| r["path"].starts_with("SOFTWARE\\"))
        .unwrap();
    assert!(machine["message"].contains("Akamai NetSession Interface Service"));
    let cpl = of(&rows, "registry.cpl");
    assert_eq!(cpl.len(), 1);
    // Every row carries the hash of the hive it came from.
    let ntuser_sha = rows_for(&rows, "CurrentVersion\\Run")
        .iter()
        .find(|r| r["path"].starts_with("NTUSER"))
        .unwrap()["sha256"]
        .clone();
    assert_eq!(ntuser_sha.len(), 64);
}

#[test]
fn windows7_shimcache_and_hive_renamed_by_a_collector() {
    let tmp = tempfile::tempdir().unwrap();
    // Collectors rename hives; the kind is read from the content.
    let renamed = tmp.path().join("reg_sys_2012.bin");
    std::fs::copy(fixture("SYSTEM_win7"), &renamed).unwrap();
    let out = run_on(&renamed, &["-q"]);
    assert_eq!(out.status.code(), Some(0));
    let rows = parse_csv(&out.stdout);
    let shim = of(&rows, "execution.appcompatcache");
    assert_eq!(shim.len(), 1, "{rows:?}");
    assert!(shim[0]["value"].contains("netsession_win.exe"));
    assert!(
        shim[0]["message"].contains("Win7x64"),
        "{}",
        shim[0]["message"]
    );
    assert!(shim[0]["message"].contains("marked executed"));
    // Without SOFTWARE there is no ProfileList: the BAM user stays a SID.
    let bam = of(&rows, "execution.bam");
    assert_eq!(
        bam[0]["user"],
        "S-1-5-21-1111111111-2222222222-3333333333-1001"
    );
}

#[test]
fn format_1_3_hive_with_a_20000_byte_single_cell_value() {
    use netsession_scan::internals::registry::hive::{HiveInput, OpenedHive, RegKey};
    let bytes = std::fs::read(fixture("NTUSER_Bob.DAT")).unwrap();
    let input = HiveInput {
        bytes,
        logs: Vec::new(),
        evidence_path: "NTUSER_Bob.DAT".into(),
        source: "test".into(),
        user_hint: None,
        sha256: String::new(),
    };
    let opened = OpenedHive::open(&input).unwrap();
    assert_eq!(opened.base.minor, 3);
    let nt = opened.nt_hive().unwrap();
    let root = RegKey::root(&nt, &opened.bytes).unwrap();
    let mut problems = Vec::new();
    let key = root
        .path_to(
            "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StreamMRU",
            &mut problems,
        )
        .expect("StreamMRU");
    let value = key.value("Akamai blob", &mut problems).expect("value");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(value.data.len(), 20_000);
    let text: String = netsession_scan::internals::bytes::utf16_until_nul(&value.data);
    assert!(text.ends_with("Akamai\\netsession_win.exe"), "{text}");
    // And the binary reports Bob's Run entry from this 1.3 hive.
    let (rows, _) = scan(&["NTUSER_Bob.DAT"]);
    let run = of(&rows, "registry.run");
    assert_eq!(run.len(), 1);
    assert_eq!(run[0]["user"], "Bob");
    assert_eq!(run[0]["datetime"], "2011-11-14T18:03:00.0000000Z");
}

#[test]
fn dirty_hive_is_replayed_from_its_log_and_rows_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["NTUSER.DAT", "NTUSER.DAT.LOG1"] {
        // Lower-case log name, as some collectors write it.
        let target = if f.ends_with("LOG1") {
            "ntuser.dat.log1"
        } else {
            f
        };
        std::fs::copy(fixture(&format!("dirty/{f}")), tmp.path().join(target)).unwrap();
    }
    let hive = tmp.path().join("NTUSER.DAT");
    let before = std::fs::read(&hive).unwrap();
    let out = run_on(&hive, &["-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&hive).unwrap(),
        before,
        "evidence never written"
    );
    let rows = parse_csv(&out.stdout);
    let run = of(&rows, "registry.run");
    assert_eq!(
        run.len(),
        1,
        "the Run value exists only in the log: {rows:?}"
    );
    assert_eq!(run[0]["state"], "from-log");
    assert_eq!(run[0]["datetime"], "2012-02-14T09:30:05.0000000Z");
    // Rows from pages the log did not touch stay live.
    assert!(
        of(&rows, "registry.uninstall")
            .iter()
            .all(|r| r["state"] == "live")
    );

    // Without its log, the dirty hive is read as it is, with a warning.
    std::fs::remove_file(tmp.path().join("ntuser.dat.log1")).unwrap();
    let out = run_on(&hive, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("no usable transaction log"),
        "{}",
        stderr(&out)
    );
    assert!(of(&parse_csv(&out.stdout), "registry.run").is_empty());
}

#[test]
fn hives_inside_a_mounted_directory_are_found_with_their_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("C");
    let place = |from: &str, to: &str| {
        let target = root.join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixture(from), target).unwrap();
    };
    place("SYSTEM", "Windows/System32/config/SYSTEM");
    place("SOFTWARE", "Windows/System32/config/SOFTWARE");
    place("dirty/NTUSER.DAT", "Users/José Müller/NTUSER.DAT");
    place("dirty/NTUSER.DAT.LOG1", "Users/José Müller/NTUSER.DAT.LOG1");
    place(
        "UsrClass.dat",
        "Users/José Müller/AppData/Local/Microsoft/Windows/UsrClass.dat",
    );
    place("Amcache.hve", "Windows/AppCompat/Programs/Amcache.hve");
    std::fs::create_dir_all(root.join("Program Files")).unwrap();
    let out = run_on(tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("5 hive(s) analysed"),
        "{}",
        stderr(&out)
    );
    let rows = parse_csv(&out.stdout);
    let run = of(&rows, "registry.run");
    let hkcu = run
        .iter()
        .find(|r| r["path"].starts_with("NTUSER\\"))
        .expect("replayed Run value");
    assert_eq!(hkcu["state"], "from-log");
    assert_eq!(hkcu["user"], JOSE, "user from the hive's location");
    assert_eq!(hkcu["source"], format!("{} root=C", tmp.path().display()));
    assert!(
        hkcu["locator"].starts_with("hive=Users\\José Müller\\NTUSER.DAT offset=0x"),
        "{}",
        hkcu["locator"]
    );
    assert_eq!(of(&rows, "execution.bam")[0]["user"], JOSE);
    assert_eq!(of(&rows, "registry.firewall_rule").len(), 3);
    // The hive files themselves are not evidence rows.
    assert!(rows.iter().all(|r| r["artifact"] != "registry.hive"));
}

#[test]
fn damaged_hives_are_warnings_and_nothing_else_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A truncated SYSTEM, a garbage hive with a valid-looking header, a dirty hive whose
    // log lies (one flipped byte in the entry), beside good SOFTWARE and NTUSER hives.
    let system = std::fs::read(fixture("SYSTEM")).unwrap();
    std::fs::write(dir.join("SYSTEM"), &system[..system.len() / 2 + 100]).unwrap();
    let mut garbage = system[..4096].to_vec();
    let mut x: u32 = 7;
    for _ in 0..8192 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(x as u8);
    }
    std::fs::write(dir.join("garbage.hiv"), &garbage).unwrap();
    std::fs::create_dir(dir.join("dirty")).unwrap();
    std::fs::copy(fixture("dirty/NTUSER.DAT"), dir.join("dirty/NTUSER.DAT")).unwrap();
    let mut log = std::fs::read(fixture("dirty/NTUSER.DAT.LOG1")).unwrap();
    log[512 + 0x100] ^= 0xFF;
    std::fs::write(dir.join("dirty/NTUSER.DAT.LOG1"), &log).unwrap();
    std::fs::copy(fixture("SOFTWARE"), dir.join("SOFTWARE")).unwrap();
    std::fs::copy(fixture("NTUSER.DAT"), dir.join("NTUSER.DAT")).unwrap();

    let args: Vec<PathBuf> = [
        "SYSTEM",
        "garbage.hiv",
        "dirty/NTUSER.DAT",
        "SOFTWARE",
        "NTUSER.DAT",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|p| p.as_os_str()).collect();
    let out = run(&args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("NTUSER.DAT.LOG1") && w.contains("offset 0x")),
        "{err}"
    );
    assert!(warnings.iter().any(|w| w.contains("SYSTEM")), "{err}");
    let rows = parse_csv(&out.stdout);
    // The good hives' findings are all there (the dirty hive, read as it was before the
    // log, holds the per-user uninstall entry too).
    assert_eq!(of(&rows, "registry.uninstall").len(), 3);
    assert!(
        of(&rows, "registry.run")
            .iter()
            .any(|r| r["path"].starts_with("SOFTWARE\\"))
    );
    assert_eq!(of(&rows, "execution.userassist").len(), 2);
    // The lying log was not applied: the dirty hive adds no Run row of its own.
    assert!(
        of(&rows, "registry.run")
            .iter()
            .all(|r| r["state"] == "live")
    );
}

/// Bit flips and truncations of every fixture hive, analysed in-process: no panic may
/// escape (nt-hive's asserts are caught and become warnings), whatever the damage.
#[test]
fn random_damage_never_panics() {
    use netsession_scan::internals::registry::{analyze_hives, hive::HiveInput};
    let catalog = netsession_scan::Catalog::embedded().unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for name in [
        "SYSTEM",
        "SOFTWARE",
        "NTUSER.DAT",
        "NTUSER_Bob.DAT",
        "UsrClass.dat",
        "Amcache.hve",
        "SYSTEM_win7",
    ] {
        let original = std::fs::read(fixture(name)).unwrap();
        for round in 0..60 {
            let mut bytes = original.clone();
            if round % 5 == 4 {
                let cut = (next() as usize) % bytes.len();
                bytes.truncate(cut);
            } else {
                for _ in 0..(1 + round % 8) {
                    // Damage the hive bins more often than the header.
                    let at = 4096 + (next() as usize) % (bytes.len() - 4096);
                    bytes[at] ^= 1 << (next() % 8);
                }
            }
            let input = HiveInput {
                bytes,
                logs: Vec::new(),
                evidence_path: format!("{name} round {round}"),
                source: "fuzz".into(),
                user_hint: None,
                sha256: String::new(),
            };
            let warnings = netsession_scan::Warnings::new();
            let _ = analyze_hives(&[input], &catalog, &warnings);
        }
    }
}

#[test]
fn catalog_with_a_misspelt_registry_family_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = tmp.path().join("case-rules.toml");
    std::fs::write(
        &catalog,
        r#"[[registry]]
id = "case.firewall_rules"
family = "firewal"
hives = ["SOFTWARE"]
keys = ["Policies\\Microsoft\\WindowsFirewall\\FirewallRules"]
what = "firewall rule set by policy"
proves = "a NetSession firewall rule was pushed by policy"
confidence = "G"
source = "case 17"
"#,
    )
    .unwrap();
    let system = fixture("SYSTEM");
    let out = run(&[
        "--catalog".as_ref(),
        catalog.as_os_str(),
        system.as_os_str(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "no rows from a refused catalog");
    assert!(
        err.contains("rule \"case.firewall_rules\"")
            && err.contains("field `family`")
            && err.contains("unknown registry family \"firewal\"")
            && err.contains("known families: run, uninstall, service"),
        "{err}"
    );
}
