//! Print an ESE table as esedbexport writes it (tab-separated, a header line), for
//! comparing by hand and for benches/ese_read.sh.
//!
//! cargo run --release --example ese_dump -- FILE TABLE

use netsession_scan::internals::ese::{EseDatabase, Value};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: ese_dump FILE TABLE");
        std::process::exit(2);
    }
    let data = std::fs::read(&args[1]).expect("read the database");
    let db = match EseDatabase::open(&data) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("{}: {e}", args[1]);
            std::process::exit(1);
        }
    };
    for p in db.problems() {
        eprintln!("warning: {p}");
    }
    let Some(table) = db.table(&args[2]) else {
        eprintln!("no table {}", args[2]);
        std::process::exit(1);
    };
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let mut out = String::new();
    out.push_str(&names.join("\t"));
    out.push('\n');
    for row in db.rows(table) {
        match row {
            Ok(row) => {
                let cells: Vec<String> = row.values.iter().map(show).collect();
                out.push_str(&cells.join("\t"));
                out.push('\n');
            }
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    print!("{out}");
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bit(b) => u8::from(*b).to_string(),
        Value::U8(x) => x.to_string(),
        Value::I16(x) => x.to_string(),
        Value::U16(x) => x.to_string(),
        Value::I32(x) => x.to_string(),
        Value::U32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::F32(x) => x.to_string(),
        Value::F64(x) => x.to_string(),
        Value::DateTime(d) => format!("{d}"),
        Value::Guid(g) => g.iter().map(|b| format!("{b:02x}")).collect(),
        Value::Binary(b) => b.iter().map(|b| format!("{b:02x}")).collect(),
        Value::Text(t) => t.clone(),
        Value::Multi(vs) => vs.iter().map(show).collect::<Vec<_>>().join(";"),
    }
}
