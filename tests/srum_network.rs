//! SRUM network usage on a real database: the records of one application, with their
//! ids resolved, equal what esedbexport's stored text of the same tables gives when
//! joined here independently (fixtures/ese/expected).

use std::io::Read;
use std::path::{Path, PathBuf};

use netsession_scan::internals::content::srum::{SrumIds, network_usage, sid_text};
use netsession_scan::internals::ese::EseDatabase;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ese")
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn tsv(stem: &str, table: &str) -> Vec<Vec<String>> {
    let text = String::from_utf8(gunzip(
        &dir().join(format!("expected/{stem}.{table}.tsv.gz")),
    ))
    .unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// esedbexport's "Aug 04, 2020 17:40:07.231231076" as Unix seconds (whole seconds).
fn seconds_of(text: &str) -> i64 {
    let t = chrono::NaiveDateTime::parse_from_str(&text[..21], "%b %d, %Y %H:%M:%S").unwrap();
    t.and_utc().timestamp()
}

#[test]
fn thunderbird_traffic_in_a_real_dirty_database() {
    let stem = "srudb_win10_dirty_rev14";
    let wanted = |app: &str| app.ends_with("\\thunderbird.exe");

    // Expected, from esedbexport's text: the id map joined by hand.
    let mut apps = std::collections::HashMap::new();
    let mut users = std::collections::HashMap::new();
    for r in tsv(stem, "SruDbIdMapTable") {
        let blob = unhex(&r[2]);
        let id: i32 = r[1].parse().unwrap();
        if r[0] == "3" {
            // Some SID entries are empty.
            if let Some(sid) = sid_text(&blob) {
                users.insert(id, sid);
            }
        } else {
            let units: Vec<u16> = blob
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            apps.insert(
                id,
                String::from_utf16(&units)
                    .unwrap()
                    .trim_end_matches('\0')
                    .to_string(),
            );
        }
    }
    let expected: Vec<_> = tsv(stem, "{973F5D5C-1D90-4944-BE8E-24B94231A174}")
        .into_iter()
        .filter(|r| {
            apps.get(&r[2].parse::<i32>().unwrap())
                .is_some_and(|a| wanted(a))
        })
        .collect();
    assert_eq!(expected.len(), 20);

    let data = gunzip(&dir().join(format!("{stem}.dat.gz")));
    let db = EseDatabase::open(&data).unwrap();
    let (ids, problems) = SrumIds::read(&db);
    assert!(problems.is_empty(), "{problems:?}");
    let (usage, problems) = network_usage(&db, &ids, &wanted);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(usage.len(), expected.len());
    let mut sent = 0;
    for (u, e) in usage.iter().zip(&expected) {
        assert_eq!(u.auto_inc_id.to_string(), e[0]);
        assert_eq!(
            u.app.as_deref(),
            apps.get(&e[2].parse::<i32>().unwrap()).map(String::as_str)
        );
        assert_eq!(
            u.user.as_deref(),
            users.get(&e[3].parse::<i32>().unwrap()).map(String::as_str)
        );
        assert_eq!(u.interface_luid.to_string(), e[4]);
        assert_eq!(u.bytes_sent.to_string(), e[7]);
        assert_eq!(u.bytes_received.to_string(), e[8]);
        // esedbexport truncates the time (22:19:00 shows as 22:18:59.23...).
        let ours = u.time.unwrap().unix_seconds();
        let theirs = seconds_of(&e[1]);
        assert!((0..=1).contains(&(ours - theirs)), "{ours} vs {}", e[1]);
        assert!(u.time.unwrap().to_iso8601().ends_with('Z'));
        sent += u.bytes_sent;
    }
    assert!(sent > 0);
    assert!(
        usage[0]
            .app
            .as_deref()
            .unwrap()
            .starts_with("\\device\\harddiskvolume2\\")
    );
}

#[test]
fn a_database_without_the_network_table_gives_nothing_and_no_problem() {
    let data = gunzip(&dir().join("srudb_server2022_clean_revb4.dat.gz"));
    let db = EseDatabase::open(&data).unwrap();
    let (ids, _) = SrumIds::read(&db);
    assert!(ids.apps().count() > 10);
    let (usage, problems) = network_usage(&db, &ids, &|_| true);
    assert!(usage.is_empty() && problems.is_empty());
}
