//! A small EVTX writer for tests: events laid out as Windows lays them out, so that readers
//! take the same paths they take on real logs.
//!
//! - A 4096-byte file header ("ElfFile", chunk count, next record id, CRC32 of its first
//!   120 bytes) and chunks of 64 KiB ("ElfChnk", record numbers and ids, the offsets of the
//!   last record and of the free space, the CRC32 of the records, the CRC32 of the header's
//!   bytes 0..120 and 128..512).
//! - In each chunk the string table (64 buckets of name offsets, chained through each
//!   name's "next" field; a name is written in place at its first use and referred to by
//!   offset afterwards) and the template table (32 buckets, chained likewise).
//! - Records: "**\0\0", size, record id, written time (FILETIME), BinXML, copy of the size;
//!   8-byte aligned.
//! - The BinXML of each record is a fragment holding one TemplateInstance of a System
//!   template (per computer name: the computer is literal text, every other System value a
//!   substitution, as Windows writes them), whose last value is a nested BinXML fragment
//!   (value type 0x21) holding a TemplateInstance of the event's data template
//!   (`<EventData><Data Name=..>%n</Data>..`). A template is defined in place the first
//!   time a chunk uses it; later records refer to it by its offset.
//!
//! Damage helpers flip single bytes in a written file and return the offset they changed.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::HashMap;

/// One substitution value, with the BinXML type it is written as.
#[derive(Clone, Debug, PartialEq)]
pub enum EvtxValue {
    Str(String),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    Hex32(u32),
    Hex64(u64),
    Bool(bool),
    /// "S-1-5-21-..."
    Sid(String),
    /// "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}"
    Guid(String),
    /// 100 ns intervals since 1601-01-01 UTC.
    FileTime(u64),
    Null,
}

#[derive(Clone, Debug)]
pub struct EvtxEvent {
    pub provider: String,
    pub provider_guid: Option<String>,
    pub event_id: u16,
    pub channel: String,
    pub computer: String,
    /// FILETIME (100 ns since 1601) for System/TimeCreated and the record's written time.
    pub time: u64,
    /// System/Security@UserID.
    pub user_sid: Option<String>,
    /// `<EventData><Data Name=..>value</Data>`; a `None` name writes `<Data>` without a
    /// Name, as MsiInstaller's events have.
    pub data: Vec<(Option<String>, EvtxValue)>,
}

#[derive(Clone, Debug)]
pub struct EvtxOptions {
    /// The id (and number) of the first record; the others follow one by one.
    pub first_record_id: u64,
    /// Start a new chunk after this many records (to force several chunks).
    pub records_per_chunk: Option<usize>,
}

impl Default for EvtxOptions {
    fn default() -> Self {
        EvtxOptions {
            first_record_id: 1,
            records_per_chunk: None,
        }
    }
}

pub const FILE_HEADER_SIZE: usize = 4096;
pub const CHUNK_SIZE: usize = 65536;
const CHUNK_HEADER_SIZE: usize = 512;

/// A whole EVTX file holding `events` in order.
pub fn write_evtx(events: &[EvtxEvent], options: &EvtxOptions) -> Vec<u8> {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut chunk = ChunkBuilder::new();
    let mut next_id = options.first_record_id;
    for event in events {
        let full = options
            .records_per_chunk
            .is_some_and(|n| chunk.records == n);
        if full || !chunk.try_add(event, next_id) {
            assert!(chunk.records > 0, "one event does not fit in a chunk");
            chunks.push(chunk.finish());
            chunk = ChunkBuilder::new();
            assert!(
                chunk.try_add(event, next_id),
                "one event does not fit in a chunk"
            );
        }
        next_id += 1;
    }
    if chunk.records > 0 || chunks.is_empty() {
        chunks.push(chunk.finish());
    }

    let mut out = vec![0u8; FILE_HEADER_SIZE];
    out[0..8].copy_from_slice(b"ElfFile\0");
    put_u64(&mut out, 8, 0); // first (oldest) chunk
    put_u64(&mut out, 16, chunks.len() as u64 - 1); // last (current) chunk
    put_u64(&mut out, 24, next_id); // next record id
    put_u32(&mut out, 32, 128); // header size
    put_u16(&mut out, 36, 1); // minor version
    put_u16(&mut out, 38, 3); // major version
    put_u16(&mut out, 40, FILE_HEADER_SIZE as u16); // header block size
    put_u16(&mut out, 42, chunks.len() as u16);
    put_u32(&mut out, 120, 0); // flags: clean
    let crc = crc32(&out[..120]);
    put_u32(&mut out, 124, crc);
    for c in chunks {
        out.extend_from_slice(&c);
    }
    out
}

/// "2019-03-04T05:06:07.1234567Z" (fraction optional, up to 7 digits) to a FILETIME.
pub fn filetime(iso: &str) -> u64 {
    fn bad(iso: &str) -> ! {
        panic!("not an ISO 8601 UTC time: {iso}")
    }
    let num = |p: &str| -> i64 { p.parse().unwrap_or_else(|_| bad(iso)) };
    let s = iso.strip_suffix('Z').unwrap_or_else(|| bad(iso));
    let (date, time) = s.split_once('T').unwrap_or_else(|| bad(iso));
    let d: Vec<i64> = date.split('-').map(num).collect();
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let t: Vec<i64> = hms.split(':').map(num).collect();
    if d.len() != 3 || t.len() != 3 || frac.len() > 7 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        bad(iso);
    }
    let ticks = num(&format!("{frac:0<7}"));
    // Days from 1601-01-01 to the date (proleptic Gregorian).
    let days = days_from_civil(d[0], d[1], d[2]) - days_from_civil(1601, 1, 1);
    let secs = days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2];
    assert!(secs >= 0, "before 1601: {iso}");
    (secs * 10_000_000 + ticks) as u64
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe
}

/// FILETIME to "YYYY-MM-DDTHH:MM:SS.fffffffZ" (the inverse of [`filetime`]).
pub fn iso(filetime: u64) -> String {
    let ticks = filetime % 10_000_000;
    let secs = (filetime / 10_000_000) as i64;
    let days = secs.div_euclid(86_400) + days_from_civil(1601, 1, 1);
    let rem = secs.rem_euclid(86_400);
    // civil_from_days
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ticks:07}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------------------
// Where things are, and damage

/// A record as written: its id, where it starts in the file, its size, and its chunk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecordPos {
    pub record_id: u64,
    pub offset: usize,
    pub size: usize,
    pub chunk: usize,
}

/// The records of a file this writer wrote (walks each chunk's records up to its free
/// space offset).
pub fn record_positions(file: &[u8]) -> Vec<RecordPos> {
    let mut out = Vec::new();
    let chunks = (file.len() - FILE_HEADER_SIZE) / CHUNK_SIZE;
    for chunk in 0..chunks {
        let base = FILE_HEADER_SIZE + chunk * CHUNK_SIZE;
        let free = get_u32(file, base + 48) as usize;
        let mut at = CHUNK_HEADER_SIZE;
        while at + 24 <= free && &file[base + at..base + at + 4] == b"**\0\0" {
            let size = get_u32(file, base + at + 4) as usize;
            out.push(RecordPos {
                record_id: get_u64(file, base + at + 8),
                offset: base + at,
                size,
                chunk,
            });
            at += size;
        }
    }
    out
}

/// Flip one byte inside the BinXML of record `record_id` (in its System template's value
/// area, so the chunk's records checksum no longer matches). Returns the file offset.
pub fn damage_record(file: &mut [u8], record_id: u64) -> usize {
    let pos = record_positions(file)
        .into_iter()
        .find(|r| r.record_id == record_id)
        .unwrap_or_else(|| panic!("no record {record_id}"));
    let at = pos.offset + pos.size - 12; // inside the last values, before the size copy
    file[at] ^= 0xff;
    at
}

/// Overwrite the first bytes of record `record_id`'s BinXML with `0xff` (an unknown token):
/// the BinXML cannot be read. Returns the file offset of the first byte changed.
pub fn break_record_binxml(file: &mut [u8], record_id: u64) -> usize {
    let pos = record_positions(file)
        .into_iter()
        .find(|r| r.record_id == record_id)
        .unwrap_or_else(|| panic!("no record {record_id}"));
    let at = pos.offset + 24;
    file[at..at + 4].fill(0xff);
    at
}

/// Flip a byte of chunk `chunk`'s header (its last record id), so the header checksum
/// fails. Returns the file offset.
pub fn damage_chunk_header(file: &mut [u8], chunk: usize) -> usize {
    let at = FILE_HEADER_SIZE + chunk * CHUNK_SIZE + 32;
    file[at] ^= 0x01;
    at
}

/// Break chunk `chunk`'s signature ("ElfChnk\0"). Returns the file offset.
pub fn damage_chunk_magic(file: &mut [u8], chunk: usize) -> usize {
    let at = FILE_HEADER_SIZE + chunk * CHUNK_SIZE;
    file[at] = b'X';
    at
}

/// Recompute chunk `chunk`'s two checksums (after a deliberate change that should not
/// show as a checksum error, only as bad content).
pub fn fix_chunk_checksums(file: &mut [u8], chunk: usize) {
    let base = FILE_HEADER_SIZE + chunk * CHUNK_SIZE;
    seal_chunk(&mut file[base..base + CHUNK_SIZE]);
}

// ---------------------------------------------------------------------------------------
// BinXML

const TOKEN_EOF: u8 = 0x00;
const TOKEN_OPEN_START: u8 = 0x01;
const TOKEN_CLOSE_START: u8 = 0x02;
const TOKEN_CLOSE_EMPTY: u8 = 0x03;
const TOKEN_END_ELEMENT: u8 = 0x04;
const TOKEN_VALUE: u8 = 0x05;
const TOKEN_ATTRIBUTE: u8 = 0x06;
const TOKEN_TEMPLATE_INSTANCE: u8 = 0x0c;
const TOKEN_NORMAL_SUB: u8 = 0x0d;
const TOKEN_OPTIONAL_SUB: u8 = 0x0e;
const TOKEN_FRAGMENT_HEADER: u8 = 0x0f;
const MORE_FLAG: u8 = 0x40;

const T_NULL: u8 = 0x00;
const T_STRING: u8 = 0x01;
const T_U8: u8 = 0x04;
const T_U16: u8 = 0x06;
const T_U32: u8 = 0x08;
const T_U64: u8 = 0x0a;
const T_BOOL: u8 = 0x0d;
const T_GUID: u8 = 0x0f;
const T_FILETIME: u8 = 0x11;
const T_SID: u8 = 0x13;
const T_HEX32: u8 = 0x14;
const T_HEX64: u8 = 0x15;
const T_BINXML: u8 = 0x21;

/// Template content: an element, literal text, or a substitution.
enum Node {
    Elem {
        name: &'static str,
        attrs: Vec<(&'static str, Node)>,
        children: Vec<Node>,
    },
    Text(String),
    Sub {
        index: u16,
        value_type: u8,
        optional: bool,
    },
}

fn elem(name: &'static str, attrs: Vec<(&'static str, Node)>, children: Vec<Node>) -> Node {
    Node::Elem {
        name,
        attrs,
        children,
    }
}

fn sub(index: u16, value_type: u8) -> Node {
    Node::Sub {
        index,
        value_type,
        optional: false,
    }
}

fn opt(index: u16, value_type: u8) -> Node {
    Node::Sub {
        index,
        value_type,
        optional: true,
    }
}

/// The System template, as Windows lays it out (substitution numbers as Windows numbers
/// them; the computer name is literal text, so there is one template per computer).
fn system_template(computer: &str) -> Node {
    elem(
        "Event",
        vec![(
            "xmlns",
            Node::Text("http://schemas.microsoft.com/win/2004/08/events/event".into()),
        )],
        vec![
            elem(
                "System",
                vec![],
                vec![
                    elem(
                        "Provider",
                        vec![("Name", opt(14, T_STRING)), ("Guid", opt(15, T_GUID))],
                        vec![],
                    ),
                    elem(
                        "EventID",
                        vec![("Qualifiers", opt(4, T_U16))],
                        vec![sub(3, T_U16)],
                    ),
                    elem("Version", vec![], vec![opt(11, T_U8)]),
                    elem("Level", vec![], vec![opt(0, T_U8)]),
                    elem("Task", vec![], vec![opt(2, T_U16)]),
                    elem("Opcode", vec![], vec![opt(1, T_U8)]),
                    elem("Keywords", vec![], vec![opt(5, T_HEX64)]),
                    elem(
                        "TimeCreated",
                        vec![("SystemTime", opt(6, T_FILETIME))],
                        vec![],
                    ),
                    elem("EventRecordID", vec![], vec![opt(10, T_U64)]),
                    elem(
                        "Correlation",
                        vec![
                            ("ActivityID", opt(7, T_GUID)),
                            ("RelatedActivityID", opt(13, T_GUID)),
                        ],
                        vec![],
                    ),
                    elem(
                        "Execution",
                        vec![("ProcessID", opt(8, T_U32)), ("ThreadID", opt(9, T_U32))],
                        vec![],
                    ),
                    elem("Channel", vec![], vec![opt(16, T_STRING)]),
                    elem("Computer", vec![], vec![Node::Text(computer.to_string())]),
                    elem("Security", vec![("UserID", opt(12, T_SID))], vec![]),
                ],
            ),
            opt(17, T_BINXML),
        ],
    )
}

fn value_type(v: &EvtxValue) -> u8 {
    match v {
        EvtxValue::Str(_) => T_STRING,
        EvtxValue::U8(_) => T_U8,
        EvtxValue::U16(_) => T_U16,
        EvtxValue::U32(_) => T_U32,
        EvtxValue::U64(_) => T_U64,
        EvtxValue::Hex32(_) => T_HEX32,
        EvtxValue::Hex64(_) => T_HEX64,
        EvtxValue::Bool(_) => T_BOOL,
        EvtxValue::Sid(_) => T_SID,
        EvtxValue::Guid(_) => T_GUID,
        EvtxValue::FileTime(_) => T_FILETIME,
        EvtxValue::Null => T_NULL,
    }
}

fn value_bytes(v: &EvtxValue) -> Vec<u8> {
    match v {
        EvtxValue::Str(s) => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        EvtxValue::U8(x) => vec![*x],
        EvtxValue::U16(x) => x.to_le_bytes().to_vec(),
        EvtxValue::U32(x) | EvtxValue::Hex32(x) => x.to_le_bytes().to_vec(),
        EvtxValue::U64(x) | EvtxValue::Hex64(x) | EvtxValue::FileTime(x) => {
            x.to_le_bytes().to_vec()
        }
        EvtxValue::Bool(b) => u32::from(*b).to_le_bytes().to_vec(),
        EvtxValue::Sid(s) => sid_bytes(s),
        EvtxValue::Guid(g) => guid_bytes(g),
        EvtxValue::Null => Vec::new(),
    }
}

/// "S-1-5-21-1-2-3-1000" to its binary form (revision, count, 48-bit big-endian
/// authority, little-endian sub-authorities).
pub fn sid_bytes(s: &str) -> Vec<u8> {
    let parts: Vec<&str> = s.split('-').collect();
    assert!(parts.len() >= 3 && parts[0] == "S", "not a SID: {s}");
    let revision: u8 = parts[1].parse().expect("SID revision");
    let authority: u64 = parts[2].parse().expect("SID authority");
    let subs: Vec<u32> = parts[3..]
        .iter()
        .map(|p| p.parse().expect("SID sub-authority"))
        .collect();
    let mut out = vec![revision, subs.len() as u8];
    out.extend_from_slice(&authority.to_be_bytes()[2..]);
    for x in subs {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// "{00112233-4455-6677-8899-AABBCCDDEEFF}" to its binary form (mixed endian).
pub fn guid_bytes(g: &str) -> Vec<u8> {
    let hex: String = g.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    assert_eq!(hex.len(), 32, "not a GUID: {g}");
    let b: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut out = vec![b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]];
    out.extend_from_slice(&b[8..]);
    out
}

/// Builds one chunk: its bytes so far (the 512-byte header first), the names and templates
/// it already holds.
struct ChunkBuilder {
    buf: Vec<u8>,
    names: HashMap<String, u32>,
    string_buckets: [u32; 64],
    templates: HashMap<String, (u32, u32)>, // key -> (definition offset, id)
    template_buckets: [u32; 32],
    records: usize,
    first_id: u64,
    last_id: u64,
    last_record_offset: u32,
}

impl ChunkBuilder {
    fn new() -> Self {
        let mut buf = vec![0u8; CHUNK_HEADER_SIZE];
        buf.reserve(CHUNK_SIZE);
        ChunkBuilder {
            buf,
            names: HashMap::new(),
            string_buckets: [0; 64],
            templates: HashMap::new(),
            template_buckets: [0; 32],
            records: 0,
            first_id: 0,
            last_id: 0,
            last_record_offset: 0,
        }
    }

    /// Write the record, or leave the chunk as it was and say false when it does not fit.
    fn try_add(&mut self, event: &EvtxEvent, record_id: u64) -> bool {
        let saved = (
            self.buf.len(),
            self.names.clone(),
            self.string_buckets,
            self.templates.clone(),
            self.template_buckets,
        );
        let start = self.buf.len();
        self.buf.extend_from_slice(b"**\0\0");
        self.buf.extend_from_slice(&[0; 4]); // size, patched
        self.buf.extend_from_slice(&record_id.to_le_bytes());
        self.buf.extend_from_slice(&event.time.to_le_bytes());
        self.event_binxml(event, record_id);
        while !(self.buf.len() - start + 4).is_multiple_of(8) {
            self.buf.push(0);
        }
        let size = (self.buf.len() - start + 4) as u32;
        self.buf.extend_from_slice(&size.to_le_bytes());
        put_u32(&mut self.buf, start + 4, size);
        if self.buf.len() > CHUNK_SIZE {
            self.buf.truncate(saved.0);
            self.names = saved.1;
            self.string_buckets = saved.2;
            self.templates = saved.3;
            self.template_buckets = saved.4;
            return false;
        }
        if self.records == 0 {
            self.first_id = record_id;
        }
        self.records += 1;
        self.last_id = record_id;
        self.last_record_offset = start as u32;
        true
    }

    fn event_binxml(&mut self, event: &EvtxEvent, record_id: u64) {
        let key = format!("system\0{}", event.computer);
        let computer = event.computer.clone();
        let data = event.data.clone();
        let values: Vec<Value> = vec![
            Value::Plain(EvtxValue::U8(4)),  // 0 Level
            Value::Plain(EvtxValue::U8(0)),  // 1 Opcode
            Value::Plain(EvtxValue::U16(0)), // 2 Task
            Value::Plain(EvtxValue::U16(event.event_id)),
            Value::Plain(EvtxValue::Null), // 4 Qualifiers
            Value::Plain(EvtxValue::Hex64(0x8000_0000_0000_0000)),
            Value::Plain(EvtxValue::FileTime(event.time)),
            Value::Plain(EvtxValue::Null),      // 7 ActivityID
            Value::Plain(EvtxValue::U32(1234)), // 8 ProcessID
            Value::Plain(EvtxValue::U32(5678)), // 9 ThreadID
            Value::Plain(EvtxValue::U64(record_id)),
            Value::Plain(EvtxValue::U8(0)), // 11 Version
            Value::Plain(match &event.user_sid {
                Some(s) => EvtxValue::Sid(s.clone()),
                None => EvtxValue::Null,
            }),
            Value::Plain(EvtxValue::Null), // 13 RelatedActivityID
            Value::Plain(EvtxValue::Str(event.provider.clone())),
            Value::Plain(match &event.provider_guid {
                Some(g) => EvtxValue::Guid(g.clone()),
                None => EvtxValue::Null,
            }),
            Value::Plain(EvtxValue::Str(event.channel.clone())),
            Value::EventData(data),
        ];
        self.fragment(|b| {
            b.template_instance(&key, &|| system_template(&computer), &values);
        });
    }

    /// Fragment header, body, end of stream.
    fn fragment(&mut self, body: impl FnOnce(&mut Self)) {
        self.buf
            .extend_from_slice(&[TOKEN_FRAGMENT_HEADER, 1, 1, 0]);
        body(self);
        self.buf.push(TOKEN_EOF);
    }

    fn pos(&self) -> u32 {
        self.buf.len() as u32
    }

    fn template_instance(&mut self, key: &str, template: &dyn Fn() -> Node, values: &[Value]) {
        self.buf.push(TOKEN_TEMPLATE_INSTANCE);
        self.buf.push(1);
        if let Some(&(offset, id)) = self.templates.get(key) {
            self.buf.extend_from_slice(&id.to_le_bytes());
            self.buf.extend_from_slice(&offset.to_le_bytes());
        } else {
            let guid = template_guid(key);
            let id = u32::from_le_bytes([guid[0], guid[1], guid[2], guid[3]]);
            self.buf.extend_from_slice(&id.to_le_bytes());
            let offset = self.pos() + 4;
            self.buf.extend_from_slice(&offset.to_le_bytes());
            // The definition, in place: next template in its bucket, GUID, data size.
            let bucket = (id % 32) as usize;
            self.buf
                .extend_from_slice(&self.template_buckets[bucket].to_le_bytes());
            self.template_buckets[bucket] = offset;
            self.buf.extend_from_slice(&guid);
            let size_at = self.buf.len();
            self.buf.extend_from_slice(&[0; 4]);
            let tree = template();
            self.fragment(|b| b.node(&tree));
            let size = (self.buf.len() - size_at - 4) as u32;
            put_u32(&mut self.buf, size_at, size);
            self.templates.insert(key.to_string(), (offset, id));
        }
        // The values: count, (size, type) descriptors, then the values.
        self.buf
            .extend_from_slice(&(values.len() as u32).to_le_bytes());
        let desc_at = self.buf.len();
        for v in values {
            let t = match v {
                Value::Plain(p) => value_type(p),
                Value::EventData(_) => T_BINXML,
            };
            self.buf.extend_from_slice(&[0, 0, t, 0]);
        }
        for (i, v) in values.iter().enumerate() {
            let start = self.buf.len();
            match v {
                Value::Plain(p) => {
                    let bytes = value_bytes(p);
                    self.buf.extend_from_slice(&bytes);
                }
                Value::EventData(data) => self.event_data(data),
            }
            let size = u16::try_from(self.buf.len() - start).expect("value over 64 KiB");
            self.buf[desc_at + 4 * i..desc_at + 4 * i + 2].copy_from_slice(&size.to_le_bytes());
        }
    }

    /// The nested fragment holding `<EventData>`'s template instance.
    fn event_data(&mut self, data: &[(Option<String>, EvtxValue)]) {
        // One template per list of (name, declared type); a null value declares a string.
        let mut key = String::from("data");
        for (name, v) in data {
            let t = match value_type(v) {
                T_NULL => T_STRING,
                t => t,
            };
            key.push_str(&format!("\0{}:{t}", name.as_deref().unwrap_or("\u{1}")));
        }
        let shape: Vec<(Option<String>, u8)> = data
            .iter()
            .map(|(n, v)| {
                let t = value_type(v);
                (n.clone(), if t == T_NULL { T_STRING } else { t })
            })
            .collect();
        let template = move || {
            let children = shape
                .iter()
                .enumerate()
                .map(|(i, (name, t))| {
                    let attrs = match name {
                        Some(n) => vec![("Name", Node::Text(n.clone()))],
                        None => vec![],
                    };
                    elem("Data", attrs, vec![opt(i as u16, *t)])
                })
                .collect();
            elem("EventData", vec![], children)
        };
        let values: Vec<Value> = data.iter().map(|(_, v)| Value::Plain(v.clone())).collect();
        self.fragment(|b| b.template_instance(&key, &template, &values));
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::Text(s) => self.text(s),
            Node::Sub {
                index,
                value_type,
                optional,
            } => {
                let token = if *optional {
                    TOKEN_OPTIONAL_SUB
                } else {
                    TOKEN_NORMAL_SUB
                };
                self.buf.push(token);
                self.buf.extend_from_slice(&index.to_le_bytes());
                self.buf.push(*value_type);
            }
            Node::Elem {
                name,
                attrs,
                children,
            } => {
                let flag = if attrs.is_empty() { 0 } else { MORE_FLAG };
                self.buf.push(TOKEN_OPEN_START | flag);
                self.buf.extend_from_slice(&0xffffu16.to_le_bytes()); // no dependency
                let size_at = self.buf.len();
                self.buf.extend_from_slice(&[0; 4]);
                self.name(name);
                if !attrs.is_empty() {
                    let list_at = self.buf.len();
                    self.buf.extend_from_slice(&[0; 4]);
                    for (i, (attr, value)) in attrs.iter().enumerate() {
                        let more = if i + 1 < attrs.len() { MORE_FLAG } else { 0 };
                        self.buf.push(TOKEN_ATTRIBUTE | more);
                        self.name(attr);
                        self.node(value);
                    }
                    let list = (self.buf.len() - list_at - 4) as u32;
                    put_u32(&mut self.buf, list_at, list);
                }
                if children.is_empty() {
                    self.buf.push(TOKEN_CLOSE_EMPTY);
                } else {
                    self.buf.push(TOKEN_CLOSE_START);
                    for c in children {
                        self.node(c);
                    }
                    self.buf.push(TOKEN_END_ELEMENT);
                }
                let size = (self.buf.len() - size_at - 4) as u32;
                put_u32(&mut self.buf, size_at, size);
            }
        }
    }

    fn text(&mut self, s: &str) {
        let units: Vec<u16> = s.encode_utf16().collect();
        self.buf.push(TOKEN_VALUE);
        self.buf.push(T_STRING);
        self.buf
            .extend_from_slice(&(units.len() as u16).to_le_bytes());
        for u in units {
            self.buf.extend_from_slice(&u.to_le_bytes());
        }
    }

    /// A name: its offset, and the name itself in place at its first use in the chunk.
    fn name(&mut self, name: &str) {
        if let Some(&offset) = self.names.get(name) {
            self.buf.extend_from_slice(&offset.to_le_bytes());
            return;
        }
        let offset = self.pos() + 4;
        self.buf.extend_from_slice(&offset.to_le_bytes());
        let units: Vec<u16> = name.encode_utf16().collect();
        let hash = units.iter().fold(0u32, |h, &u| {
            h.wrapping_mul(65599).wrapping_add(u32::from(u))
        });
        let bucket = (hash % 64) as usize;
        self.buf
            .extend_from_slice(&self.string_buckets[bucket].to_le_bytes());
        self.string_buckets[bucket] = offset;
        self.buf.extend_from_slice(&(hash as u16).to_le_bytes());
        self.buf
            .extend_from_slice(&(units.len() as u16).to_le_bytes());
        for u in units {
            self.buf.extend_from_slice(&u.to_le_bytes());
        }
        self.buf.extend_from_slice(&[0, 0]);
        self.names.insert(name.to_string(), offset);
    }

    fn finish(mut self) -> Vec<u8> {
        let free = self.buf.len() as u32;
        self.buf.resize(CHUNK_SIZE, 0);
        let b = &mut self.buf;
        b[0..8].copy_from_slice(b"ElfChnk\0");
        put_u64(b, 8, self.first_id); // first record number
        put_u64(b, 16, self.last_id); // last record number
        put_u64(b, 24, self.first_id); // first record id
        put_u64(b, 32, self.last_id); // last record id
        put_u32(b, 40, 128); // header size
        put_u32(b, 44, self.last_record_offset);
        put_u32(b, 48, free);
        for (i, o) in self.string_buckets.iter().enumerate() {
            put_u32(b, 128 + 4 * i, *o);
        }
        for (i, o) in self.template_buckets.iter().enumerate() {
            put_u32(b, 384 + 4 * i, *o);
        }
        seal_chunk(b);
        self.buf
    }
}

enum Value {
    Plain(EvtxValue),
    EventData(Vec<(Option<String>, EvtxValue)>),
}

/// A GUID for a template, derived from its key (FNV-1a over the key, twice).
fn template_guid(key: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (half, seed) in [0xcbf2_9ce4_8422_2325u64, 0x8422_2325_cbf2_9ce4]
        .iter()
        .enumerate()
    {
        let mut h = *seed;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        out[8 * half..8 * half + 8].copy_from_slice(&h.to_le_bytes());
    }
    out
}

/// Set a chunk's records checksum and header checksum from its bytes.
fn seal_chunk(chunk: &mut [u8]) {
    let free = get_u32(chunk, 48) as usize;
    let records = crc32(&chunk[CHUNK_HEADER_SIZE..free.clamp(CHUNK_HEADER_SIZE, CHUNK_SIZE)]);
    put_u32(chunk, 52, records);
    let mut header = chunk[..120].to_vec();
    header.extend_from_slice(&chunk[128..CHUNK_HEADER_SIZE]);
    let crc = crc32(&header);
    put_u32(chunk, 124, crc);
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as EVTX uses.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
