//! A minimal registry hive writer for tests: one base block, one hive bin holding `nk`
//! keys (compressed names), `lf` subkey lists, value lists and `vk` values (data of four
//! bytes or less kept in the `vk`, as Windows does). No security cells, no classes.
//! Enough for nt-hive and our reader; not a substitute for the hivex-built fixtures.

/// A key to write: its name, values (name, type, data) and subkeys.
pub struct Key {
    pub name: String,
    pub values: Vec<(String, u32, Vec<u8>)>,
    pub subkeys: Vec<Key>,
}

impl Key {
    pub fn new(name: &str) -> Key {
        Key {
            name: name.into(),
            values: Vec::new(),
            subkeys: Vec::new(),
        }
    }

    pub fn sub(mut self, key: Key) -> Key {
        self.subkeys.push(key);
        self
    }

    pub fn dword(mut self, name: &str, v: u32) -> Key {
        self.values.push((name.into(), 4, v.to_le_bytes().to_vec()));
        self
    }

    pub fn sz(mut self, name: &str, text: &str) -> Key {
        let mut data: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        data.extend_from_slice(&[0, 0]);
        self.values.push((name.into(), 1, data));
        self
    }

    pub fn binary(mut self, name: &str, data: &[u8]) -> Key {
        self.values.push((name.into(), 3, data.to_vec()));
        self
    }
}

/// 2012-02-14T18:00:00Z as a FILETIME: every key's last-write time.
const WRITTEN: u64 = 129_737_160_000_000_000;
const NONE: u32 = u32::MAX;

struct Bins(Vec<u8>);

impl Bins {
    /// A cell of `len` data bytes; its offset (relative to the first hive bin).
    fn alloc(&mut self, len: usize) -> usize {
        let size = (len + 4).next_multiple_of(8);
        let at = self.0.len();
        self.0.resize(at + size, 0);
        self.0[at..at + 4].copy_from_slice(&(-(size as i32)).to_le_bytes());
        at
    }

    fn put(&mut self, cell: usize, off: usize, bytes: &[u8]) {
        self.0[cell + 4 + off..cell + 4 + off + bytes.len()].copy_from_slice(bytes);
    }

    fn u32(&mut self, cell: usize, off: usize, v: u32) {
        self.put(cell, off, &v.to_le_bytes());
    }

    fn key(&mut self, key: &Key, parent: u32, flags: u16) -> usize {
        let nk = self.alloc(76 + key.name.len());
        self.put(nk, 0, b"nk");
        self.put(nk, 2, &flags.to_le_bytes());
        self.put(nk, 4, &WRITTEN.to_le_bytes());
        self.u32(nk, 16, parent);
        self.u32(nk, 28, NONE);
        self.u32(nk, 32, NONE);
        self.u32(nk, 40, NONE);
        self.u32(nk, 44, NONE);
        self.u32(nk, 48, NONE);
        self.put(nk, 72, &(key.name.len() as u16).to_le_bytes());
        self.put(nk, 76, key.name.as_bytes());
        if !key.values.is_empty() {
            let list = self.alloc(4 * key.values.len());
            let mut longest = (0, 0);
            for (i, (name, kind, data)) in key.values.iter().enumerate() {
                let vk = self.alloc(20 + name.len());
                self.put(vk, 0, b"vk");
                self.put(vk, 2, &(name.len() as u16).to_le_bytes());
                self.u32(vk, 12, *kind);
                self.put(vk, 16, &1u16.to_le_bytes());
                self.put(vk, 20, name.as_bytes());
                if data.len() <= 4 {
                    self.u32(vk, 4, data.len() as u32 | 0x8000_0000);
                    self.put(vk, 8, data);
                } else {
                    let cell = self.alloc(data.len());
                    self.put(cell, 0, data);
                    self.u32(vk, 4, data.len() as u32);
                    self.u32(vk, 8, cell as u32);
                }
                self.u32(list, 4 * i, vk as u32);
                longest = (longest.0.max(name.len() * 2), longest.1.max(data.len()));
            }
            self.u32(nk, 36, key.values.len() as u32);
            self.u32(nk, 40, list as u32);
            self.u32(nk, 60, longest.0 as u32);
            self.u32(nk, 64, longest.1 as u32);
        }
        if !key.subkeys.is_empty() {
            let mut subkeys: Vec<&Key> = key.subkeys.iter().collect();
            subkeys.sort_by_key(|k| k.name.to_uppercase());
            let lf = self.alloc(4 + 8 * subkeys.len());
            self.put(lf, 0, b"lf");
            self.put(lf, 2, &(subkeys.len() as u16).to_le_bytes());
            for (i, sub) in subkeys.iter().enumerate() {
                let child = self.key(sub, nk as u32, 0x20);
                self.u32(lf, 4 + 8 * i, child as u32);
                let hint: Vec<u8> = sub.name.bytes().chain([0; 4]).take(4).collect();
                self.put(lf, 8 + 8 * i, &hint);
            }
            let longest = subkeys.iter().map(|k| k.name.len() * 2).max().unwrap_or(0);
            self.u32(nk, 20, subkeys.len() as u32);
            self.u32(nk, 28, lf as u32);
            self.u32(nk, 52, longest as u32);
        }
        nk
    }
}

/// The hive's bytes: `root` and everything below it. `file_name` goes into the base
/// block (the tail of the path Windows loaded the hive from).
pub fn hive(root: &Key, file_name: &str) -> Vec<u8> {
    let mut bins = Bins(vec![0; 32]);
    let root_cell = bins.key(root, NONE, 0x2C);
    // The rest of the bin is one free cell.
    let size = bins.0.len().next_multiple_of(4096).max(4096);
    let free = size - bins.0.len();
    if free > 0 {
        let at = bins.0.len();
        bins.0.resize(size, 0);
        bins.0[at..at + 4].copy_from_slice(&(free as i32).to_le_bytes());
    }
    bins.0[..4].copy_from_slice(b"hbin");
    bins.0[8..12].copy_from_slice(&(size as u32).to_le_bytes());
    bins.0[20..28].copy_from_slice(&WRITTEN.to_le_bytes());

    let mut base = vec![0u8; 4096];
    base[..4].copy_from_slice(b"regf");
    let mut set = |off: usize, v: u32| base[off..off + 4].copy_from_slice(&v.to_le_bytes());
    set(4, 1);
    set(8, 1);
    set(0x14, 1);
    set(0x18, 5);
    set(0x20, 1);
    set(0x24, root_cell as u32);
    set(0x28, size as u32);
    set(0x2C, 1);
    base[0x0C..0x14].copy_from_slice(&WRITTEN.to_le_bytes());
    let name: Vec<u8> = file_name
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .take(64)
        .collect();
    base[0x30..0x30 + name.len()].copy_from_slice(&name);
    let mut sum = base[..0x1FC].chunks(4).fold(0u32, |x, c| {
        x ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]])
    });
    if sum == u32::MAX {
        sum = u32::MAX - 1;
    } else if sum == 0 {
        sum = 1;
    }
    base[0x1FC..0x200].copy_from_slice(&sum.to_le_bytes());
    base.extend_from_slice(&bins.0);
    base
}

/// A `SYSTEMTIME` transition rule: (month, day of week, nth (5 = last), hour).
pub fn systemtime(month: u16, day_of_week: u16, nth: u16, hour: u16) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, w) in [0, month, day_of_week, nth, hour, 0, 0, 0]
        .iter()
        .enumerate()
    {
        out[i * 2..i * 2 + 2].copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// A SYSTEM hive (`Select\Current` = 1) whose `ControlSet001\Control\TimeZoneInformation`
/// holds `zone`'s values.
pub fn system_hive(zone: Key) -> Vec<u8> {
    let root = Key::new("CMI-CreateHive{2A7FB991-7BBE-4F9D-B91E-7CB51D4737F5}")
        .sub(Key::new("Select").dword("Current", 1).dword("Default", 1))
        .sub(
            Key::new("ControlSet001")
                .sub(Key::new("Control").sub(zone))
                .sub(Key::new("Services")),
        );
    hive(&root, "\\SystemRoot\\System32\\Config\\SYSTEM")
}

/// `TimeZoneInformation` as Windows 10 writes it for W. Europe Standard Time (Berlin).
pub fn w_europe() -> Key {
    Key::new("TimeZoneInformation")
        .dword("ActiveTimeBias", (-60i32) as u32)
        .dword("Bias", (-60i32) as u32)
        .dword("DaylightBias", (-60i32) as u32)
        .sz("DaylightName", "@tzres.dll,-321")
        .binary("DaylightStart", &systemtime(3, 0, 5, 2))
        .dword("DynamicDaylightTimeDisabled", 0)
        .dword("StandardBias", 0)
        .sz("StandardName", "@tzres.dll,-322")
        .binary("StandardStart", &systemtime(10, 0, 5, 3))
        .sz("TimeZoneKeyName", "W. Europe Standard Time")
}
