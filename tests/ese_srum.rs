//! The ESE reader on real SRUM databases (fixtures/ese, from the MIT-licensed
//! DFIRArtifactMuseum): every cell of the tables SRUM needs equals what Debian's
//! `esedbexport` wrote (stored in fixtures/ese/expected by make_expected.py, checked
//! always), and where esedbexport is installed the stored files are made again and
//! compared. Damage is reported with page numbers and reading goes on.

use std::io::Read;
use std::path::{Path, PathBuf};

use netsession_scan::internals::ese::{
    Column, ColumnType, DatabaseState, EseDatabase, EseError, Value, ole_date_to_timestamp,
};

const NETWORK: &str = "{973F5D5C-1D90-4944-BE8E-24B94231A174}";
const APP_USAGE: &str = "{D10CA2FE-6FCF-4F6D-848E-B2E99266FA89}";
const ID_MAP: &str = "SruDbIdMapTable";

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

fn database(stem: &str) -> Vec<u8> {
    gunzip(&dir().join(format!("{stem}.dat.gz")))
}

/// A cell as esedbexport (libesedb 20181229) writes it.
fn as_esedbexport(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bit(b) => if *b { "true" } else { "false" }.into(),
        Value::U8(x) => x.to_string(),
        Value::I16(x) => x.to_string(),
        Value::U16(x) => x.to_string(),
        Value::I32(x) => x.to_string(),
        Value::U32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::F32(x) => x.to_string(),
        Value::F64(x) => x.to_string(),
        Value::DateTime(d) => libfdatetime_text(*d),
        Value::Guid(g) => hex(g),
        Value::Binary(b) => hex(b),
        Value::Text(t) => t.clone(),
        Value::Multi(vs) => vs.iter().map(as_esedbexport).collect::<Vec<_>>().join(";"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// esedbexport's text of an OLE date: the day from the whole days, the time by taking
/// whole hours, minutes, seconds, milli-, micro- and nanoseconds in turn off the
/// fraction (each truncated, so 22:19:00 may come out as 22:18:59.999...), the three
/// sub-second groups printed as bytes (999 becomes 231). Our reader keeps the double
/// and converts it exactly (see `datetime_cells_convert_to_utc`); this only lets the
/// double be compared with esedbexport's text.
fn libfdatetime_text(days: f64) -> String {
    let date = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()
        + chrono::Duration::days(days.trunc() as i64);
    let mut f = days - days.trunc();
    let mut take = |scale: f64| {
        f *= scale;
        let whole = f.trunc();
        f -= whole;
        whole as u64
    };
    let (h, m, s) = (take(24.0), take(60.0), take(60.0));
    let (ms, us, ns) = (take(1000.0), take(1000.0), take(1000.0));
    format!(
        "{} {h:02}:{m:02}:{s:02}.{:03}{:03}{:03}",
        date.format("%b %d, %Y"),
        ms as u8,
        us as u8,
        ns as u8
    )
}

/// The texts esedbexport may write for a cell. Its SRUM mode (for the SRUM tables it
/// knows) shows a DateTime named TimeStamp as an OLE date (see `libfdatetime_text`) and
/// a LongLong named ConnectStartTime as a FILETIME; elsewhere a DateTime's 8 bytes are
/// shown as a FILETIME (or "(0xhigh 0xlow)" past year 9999) and a LongLong as a number.
/// Every alternative is made from our value's exact bytes.
fn cell_as_esedbexport(col: &Column, v: &Value) -> Vec<String> {
    match v {
        Value::I64(ft) if col.name == "ConnectStartTime" => {
            vec![filetime_text(*ft), ft.to_string()]
        }
        Value::DateTime(d) => vec![as_esedbexport(v), filetime_text(d.to_bits() as i64)],
        _ => vec![as_esedbexport(v)],
    }
}

/// libfdatetime's text of a FILETIME: "Oct 18, 2023 02:48:29.560664900".
fn filetime_text(ft: i64) -> String {
    let bits = ft as u64;
    if bits >= 2_650_467_744_000_000_000 {
        // Past 9999-12-31: libfdatetime shows the two halves.
        return format!("(0x{:08x} 0x{:08x})", bits >> 32, bits & 0xffff_ffff);
    }
    let base = chrono::NaiveDate::from_ymd_opt(1601, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let t = base
        + chrono::Duration::seconds(ft.div_euclid(10_000_000))
        + chrono::Duration::nanoseconds(ft.rem_euclid(10_000_000) * 100);
    t.format("%b %d, %Y %H:%M:%S.%9f").to_string()
}

/// esedbexport prints a fixed column's bytes even where the record's null bitmap marks
/// it null (ESE fills those bytes with 0x2a): the text those filler bytes make.
fn null_filler_text(col: &Column) -> Option<String> {
    let size = col.fixed_size()?;
    let filler = vec![0x2a; size];
    Some(match col.column_type {
        ColumnType::Bit => "true".into(),
        ColumnType::Long => i32::from_le_bytes(filler[..4].try_into().ok()?).to_string(),
        ColumnType::UnsignedLong => u32::from_le_bytes(filler[..4].try_into().ok()?).to_string(),
        ColumnType::LongLong | ColumnType::Currency => {
            i64::from_le_bytes(filler[..8].try_into().ok()?).to_string()
        }
        ColumnType::Short => i16::from_le_bytes(filler[..2].try_into().ok()?).to_string(),
        _ => hex(&filler),
    })
}

/// Compare every cell of `table` in `stem` with esedbexport's stored text.
fn compare(stem: &str, table_name: &str) -> usize {
    let expected_path = dir()
        .join("expected")
        .join(format!("{stem}.{table_name}.tsv.gz"));
    let expected = String::from_utf8(gunzip(&expected_path)).unwrap();
    let data = database(stem);
    let db = EseDatabase::open(&data).unwrap();
    assert!(db.problems().is_empty(), "{stem}: {:?}", db.problems());
    let table = db
        .table(table_name)
        .unwrap_or_else(|| panic!("{stem}: no {table_name}"));
    let mut lines = expected.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, header, "{stem} {table_name}: columns");
    let mut count = 0;
    let mut rows = db.rows(table);
    for (n, line) in lines.enumerate() {
        let row = rows
            .next()
            .unwrap_or_else(|| panic!("{stem} {table_name}: row {n} missing"))
            .unwrap_or_else(|e| panic!("{stem} {table_name}: row {n}: {e}"));
        let cells: Vec<&str> = line.split('\t').collect();
        assert_eq!(cells.len(), row.values.len(), "{stem} {table_name} row {n}");
        for ((want, got), col) in cells.iter().zip(&row.values).zip(&table.columns) {
            let texts = cell_as_esedbexport(col, got);
            if texts[0] != *want && *got == Value::Null && col.is_fixed() {
                assert_eq!(
                    null_filler_text(col).as_deref(),
                    Some(*want),
                    "{stem} {table_name} row {n} column {}: null, esedbexport {want:?}",
                    col.name
                );
                continue;
            }
            // These tables are in esedbexport's SRUM mode: its first text, exactly.
            assert_eq!(
                texts[0], *want,
                "{stem} {table_name} row {n} (page {} tag {}) column {}",
                row.page, row.tag, col.name
            );
            count += 1;
        }
    }
    assert!(
        rows.next().is_none(),
        "{stem} {table_name}: more rows than esedbexport"
    );
    count
}

fn fixtures_with(table: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir().join("expected"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(&format!(".{table}.tsv.gz"))
                .map(str::to_string)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_cell_of_the_srum_tables_equals_esedbexport() {
    let mut total = 0;
    for table in [ID_MAP, NETWORK, APP_USAGE] {
        let stems = fixtures_with(table);
        assert!(stems.len() >= 4, "{table}: {stems:?}");
        for stem in stems {
            total += compare(&stem, table);
        }
    }
    // 17 tables of 6 databases: every one of their cells.
    assert!(total > 60_000, "{total} cells compared");
    eprintln!("{total} cells equal esedbexport's");
}

#[test]
fn stored_expectations_are_what_esedbexport_writes_now() {
    let installed = |tool: &str| std::process::Command::new(tool).arg("-h").output().is_ok();
    if !installed("esedbexport") || !installed("python3") {
        eprintln!("skipped: esedbexport (libesedb-utils) or python3 not installed");
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(dir().join("make_expected.py"))
        .arg("--check")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches("same ").count(), 17, "{text}");
}

#[test]
fn header_states_and_revisions() {
    for (stem, state, revision) in [
        (
            "srudb_win10_clean_rev6e",
            DatabaseState::CleanShutdown,
            0x6e,
        ),
        (
            "srudb_win10_dirty_rev14",
            DatabaseState::DirtyShutdown,
            0x14,
        ),
        (
            "srudb_win11_dirty_revc8_header_past_668",
            DatabaseState::DirtyShutdown,
            0xc8,
        ),
        (
            "srudb_server2022_clean_revb4",
            DatabaseState::CleanShutdown,
            0xb4,
        ),
    ] {
        let data = database(stem);
        let db = EseDatabase::open(&data).unwrap();
        let h = db.header();
        assert_eq!(
            (h.state, h.format_revision, h.page_size),
            (state, revision, 4096),
            "{stem}"
        );
        assert_eq!(h.format_version, 0x620);
    }
}

#[test]
fn datetime_cells_convert_to_utc() {
    // esedbexport shows this cell as "Feb 05, 2022 22:18:59.231231222" (see
    // libfdatetime_text): the double is 22:19:00 to the microsecond.
    let data = database("srudb_win10_clean_rev6e");
    let db = EseDatabase::open(&data).unwrap();
    let table = db.table(NETWORK).unwrap();
    let first = db.rows(table).next().unwrap().unwrap();
    let Value::DateTime(days) = first.values[1] else {
        panic!("{:?}", first.values[1])
    };
    assert_eq!(
        ole_date_to_timestamp(days).unwrap().to_iso8601(),
        "2022-02-05T22:19:00.000000Z"
    );
    assert_eq!(libfdatetime_text(days), "Feb 05, 2022 22:18:59.231231222");
    assert_eq!(first.values[7], Value::I64(11988));
}

#[test]
fn a_damaged_page_is_named_and_the_other_rows_still_come() {
    let mut data = database("srudb_win10_dirty_rev14");
    let clean_rows = {
        let db = EseDatabase::open(&data).unwrap();
        let t = db.table(APP_USAGE).unwrap();
        db.rows(t).filter(|r| r.is_ok()).count()
    };
    // Flip one bit inside a leaf page of the table: its checksum fails, it is named,
    // and its rows are still read (the change is in the page's free space or a cell).
    let (page, offset) = {
        let db = EseDatabase::open(&data).unwrap();
        let t = db.table(APP_USAGE).unwrap();
        let row = db.rows(t).nth(100).unwrap().unwrap();
        (row.page, row.offset)
    };
    data[offset as usize + 2] ^= 0x01;
    let db = EseDatabase::open(&data).unwrap();
    let t = db.table(APP_USAGE).unwrap();
    let results: Vec<_> = db.rows(t).collect();
    let errors: Vec<&EseError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, EseError::Checksum { page: p, .. } if *p == page)),
        "{errors:?}"
    );
    assert!(
        errors[0].to_string().contains(&format!("page {page} ")),
        "{}",
        errors[0]
    );
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), clean_rows);

    // Cut the file in the middle: the pages past the end are named, the rest read.
    let cut = &data[..data.len() / 2];
    let db = EseDatabase::open(cut).unwrap();
    let t = db.table(APP_USAGE).unwrap();
    let results: Vec<_> = db.rows(t).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let bad: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert!(ok > 0 && ok < clean_rows, "{ok} of {clean_rows}");
    assert!(
        bad.iter().any(|e| e.contains("past the end of the file")),
        "{bad:?}"
    );
}

#[test]
fn not_a_database_is_an_error_not_a_panic() {
    assert!(matches!(
        EseDatabase::open(b"regf"),
        Err(EseError::NotEse(_))
    ));
    let mut data = database("srudb_win10_clean_rev6e");
    // Both header copies damaged.
    data[100] ^= 1;
    data[4096 + 100] ^= 1;
    let e = EseDatabase::open(&data).unwrap_err();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
}

/// The copy of `data` that libesedb 20181229 accepts: header bytes past 668 zeroed and
/// the header checksum taken over 4..668, as it computes it (see make_expected.py).
/// Nothing else changes.
fn for_libesedb(data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    let page = u32::from_le_bytes(d[236..240].try_into().unwrap()) as usize;
    for copy in [0, page] {
        let xor = |d: &[u8]| {
            d[copy + 4..copy + 668]
                .chunks_exact(4)
                .fold(0x89ab_cdefu32, |x, w| {
                    x ^ u32::from_le_bytes(w.try_into().unwrap())
                })
        };
        if xor(&d) != u32::from_le_bytes(d[copy..copy + 4].try_into().unwrap()) {
            d[copy + 668..copy + page].fill(0);
            let c = xor(&d);
            d[copy..copy + 4].copy_from_slice(&c.to_le_bytes());
        }
    }
    d
}

/// Beyond the stored SRUM tables: every table (catalog, SRUM's timeline, energy and push
/// notification tables, long-text tables) of every fixture, exported by esedbexport
/// now, equals our reading cell for cell.
#[test]
fn every_table_of_every_fixture_equals_esedbexport_where_installed() {
    if std::process::Command::new("esedbexport")
        .arg("-h")
        .output()
        .is_err()
    {
        eprintln!("skipped: esedbexport (libesedb-utils) not installed");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let mut tables = 0;
    let mut cells = 0;
    for stem in fixtures_with(ID_MAP) {
        let data = database(&stem);
        let path = work.path().join(format!("{stem}.dat"));
        std::fs::write(&path, for_libesedb(&data)).unwrap();
        let target = work.path().join(&stem);
        let out = std::process::Command::new("esedbexport")
            .arg("-t")
            .arg(&target)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let db = EseDatabase::open(&data).unwrap();
        let export = work.path().join(format!("{stem}.export"));
        for entry in std::fs::read_dir(&export).unwrap() {
            let entry = entry.unwrap();
            let file = entry.file_name().into_string().unwrap();
            let name = file.rsplit_once('.').unwrap().0;
            let table = db
                .table(name)
                .unwrap_or_else(|| panic!("{stem}: no table {name}"));
            let text = std::fs::read(entry.path()).unwrap();
            let text = String::from_utf8_lossy(&text);
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
            let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, header, "{stem} {name}");
            let rows: Vec<_> = db.rows(table).map(|r| r.unwrap()).collect();
            let lines: Vec<&str> = lines.collect();
            assert_eq!(rows.len(), lines.len(), "{stem} {name}: rows");
            for (n, (row, line)) in rows.iter().zip(lines).enumerate() {
                for ((want, got), col) in line.split('\t').zip(&row.values).zip(&table.columns) {
                    let ours = cell_as_esedbexport(col, got);
                    if !ours.iter().any(|t| t == want) && *got == Value::Null && col.is_fixed() {
                        assert_eq!(
                            null_filler_text(col).as_deref(),
                            Some(want),
                            "{stem} {name} {n}"
                        );
                        continue;
                    }
                    assert!(
                        ours.iter().any(|t| t == want),
                        "{ours:?} vs {want:?}: {stem} {name} row {n} column {}",
                        col.name
                    );
                    cells += 1;
                }
            }
            tables += 1;
        }
    }
    eprintln!("{tables} tables, {cells} cells equal esedbexport's");
    assert!(tables >= 60, "{tables}");
}

/// Random damage to a real database (bytes flipped, the file cut) ends in `Err` items,
/// never a panic, and reading stays bounded.
#[test]
fn random_damage_never_panics() {
    let data = database("srudb_win10_clean_rev6e");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..200 {
        let mut d = data.clone();
        for _ in 0..1 + round % 20 {
            let at = (next() % d.len() as u64) as usize;
            d[at] ^= (next() % 255 + 1) as u8;
        }
        if round % 10 == 9 {
            let cut = (next() % d.len() as u64) as usize;
            d.truncate(cut);
        }
        let Ok(db) = EseDatabase::open(&d) else {
            continue;
        };
        for t in db.tables() {
            assert!(db.rows(t).count() < 100_000);
        }
    }
}
