//! A small volume with two snapshots built here structure by structure (volume header,
//! catalog, store headers, block lists with a full copy, a forwarder and an overlay,
//! bitmaps, copied blocks), read through the on-disk parsing: every block of both
//! snapshots is what the format says it is. Then damage: every byte of every VSS
//! structure changed in turn, and the volume cut short, give errors or other bytes,
//! never a panic. `VSS_SEED_OUT=FILE` writes the volume (the fuzz target's seed).

use std::sync::Arc;

use netsession_scan::internals::image::source::{ImageSource, MemoryImage};
use netsession_scan::internals::vss::Shadows;

const B: usize = 0x4000;
const BLOCKS: usize = 40;
const ID: [u8; 16] = [
    0x6b, 0x87, 0x08, 0x38, 0x76, 0xc1, 0x48, 0x4e, 0xb7, 0xae, 0x04, 0x04, 0x6e, 0x6c, 0xc7, 0x52,
];

fn put(v: &mut [u8], at: usize, bytes: &[u8]) {
    v[at..at + bytes.len()].copy_from_slice(bytes);
}

fn q(v: &mut [u8], at: usize, x: u64) {
    put(v, at, &x.to_le_bytes());
}

/// A 16 KiB VSS block header of `kind` at block `at`.
fn block_header(v: &mut [u8], kind: u32, at: usize) {
    let o = at * B;
    put(v, o, &ID);
    put(v, o + 16, &1u32.to_le_bytes());
    put(v, o + 20, &kind.to_le_bytes());
    q(v, o + 32, (at * B) as u64);
}

/// The fill byte of a block's content: live blocks `0x40 + n`, copies `0x80 + n`.
fn fill(v: &mut [u8], block: usize, byte: u8) {
    v[block * B..(block + 1) * B].fill(byte);
}

/// Store A (oldest, flag 0x400): block 20 copied to 30; block 21 forwarded to 22;
/// sectors 0 and 1 of block 23 in an overlay at 31; block 25 unused in its bitmap.
/// Store B: block 22 copied to 32, block 23 to 33.
pub fn volume() -> Vec<u8> {
    let mut v = vec![0u8; BLOCKS * B];
    put(&mut v, 3, b"NTFS    ");
    // Volume header at 0x1E00: catalog at block 2, stores on this volume.
    let h = 0x1e00;
    put(&mut v, h, &ID);
    put(&mut v, h + 16, &1u32.to_le_bytes());
    put(&mut v, h + 20, &1u32.to_le_bytes());
    q(&mut v, h + 24, 0x1e00);
    q(&mut v, h + 32, 0x1e00);
    q(&mut v, h + 48, (2 * B) as u64);
    put(&mut v, h + 64, &[7; 16]);
    put(&mut v, h + 80, &[7; 16]);
    // Catalog.
    block_header(&mut v, 2, 2);
    let entries: [(u64, u8, [u64; 6]); 4] = [
        (
            2,
            0xa,
            [(BLOCKS * B) as u64, 0, 1, 0x440, 132_041_653_814_843_750, 0],
        ),
        (
            3,
            0xa,
            [(4 * B) as u64, 0, (3 * B) as u64, 0, (5 * B) as u64, 0],
        ),
        (
            3,
            0xb,
            [(7 * B) as u64, 0, (6 * B) as u64, 0, (8 * B) as u64, 0],
        ),
        (
            2,
            0xb,
            [(BLOCKS * B) as u64, 0, 2, 0x40, 132_041_653_814_843_751, 0],
        ),
    ];
    for (i, (kind, guid, f)) in entries.iter().enumerate() {
        let e = 2 * B + 0x80 + i * 0x80;
        q(&mut v, e, *kind);
        put(&mut v, e + 16, &[*guid; 16]);
        if *kind == 2 {
            q(&mut v, e + 8, f[0]);
            q(&mut v, e + 32, f[2]);
            q(&mut v, e + 40, f[3]);
            q(&mut v, e + 48, f[4]);
        } else {
            q(&mut v, e + 8, f[0]);
            q(&mut v, e + 32, f[2]);
            q(&mut v, e + 48, f[4]);
        }
    }
    // Store headers (information: identifiers, no machine names).
    for at in [3, 6] {
        block_header(&mut v, 4, at);
        put(&mut v, at * B + 0x80 + 16, &[at as u8; 16]);
    }
    // Block lists: (original, relative, data, flags, bitmap) in blocks.
    type Descriptor = (usize, usize, usize, u32, u32);
    let lists: [(usize, &[Descriptor]); 2] = [
        (
            4,
            &[(20, 0, 30, 0, 0), (21, 22, 0, 1, 0), (23, 1, 31, 2, 0b11)],
        ),
        (7, &[(22, 0, 32, 0, 0), (23, 0, 33, 0, 0)]),
    ];
    for (at, list) in lists {
        block_header(&mut v, 3, at);
        for (i, (original, relative, data, flags, bitmap)) in list.iter().enumerate() {
            let e = at * B + 0x80 + i * 32;
            q(&mut v, e, (original * B) as u64);
            q(&mut v, e + 8, (relative * B) as u64);
            q(&mut v, e + 16, (data * B) as u64);
            put(&mut v, e + 24, &flags.to_le_bytes());
            put(&mut v, e + 28, &bitmap.to_le_bytes());
        }
    }
    // Bitmaps: block 25 unused for both stores.
    for at in [5, 8] {
        block_header(&mut v, 6, at);
        v[at * B + 0x80 + 25 / 8] |= 1 << (25 % 8);
    }
    for n in 20..=25 {
        fill(&mut v, n, 0x40 + n as u8);
    }
    for n in 30..=33 {
        fill(&mut v, n, 0x80 + n as u8);
    }
    v
}

fn open(v: Vec<u8>) -> Result<Option<Shadows>, netsession_scan::internals::vss::VssError> {
    let source: Arc<dyn ImageSource> = Arc::new(MemoryImage::new(v));
    Shadows::open(source, "synthetic")
}

/// The fill byte of each 512-byte sector of block `n` of a view.
fn sectors(view: &dyn ImageSource, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; B];
    assert_eq!(view.read_at((n * B) as u64, &mut buf).unwrap(), B);
    buf.chunks(512)
        .map(|s| {
            assert!(s.iter().all(|b| *b == s[0]), "one fill per sector");
            s[0]
        })
        .collect()
}

#[test]
fn every_block_of_both_snapshots_is_what_the_stores_say() {
    let v = volume();
    if let Ok(path) = std::env::var("VSS_SEED_OUT") {
        std::fs::write(path, &v).expect("seed written");
    }
    let shadows = open(v.clone()).unwrap().unwrap();
    assert_eq!(shadows.len(), 2);
    let one = shadows.snapshot(1).unwrap();
    let two = shadows.snapshot(2).unwrap();
    let all = |b: u8| vec![b; 32];
    // Snapshot 1: its own copy; the forwarder's target as snapshot 2 has it (store B's
    // copy of 22); the overlay's two sectors over store B's copy of 23; the unused block
    // as zeros (flag 0x400); the rest live.
    assert_eq!(sectors(&one, 20), all(0x80 + 30));
    assert_eq!(sectors(&one, 21), all(0x80 + 32));
    assert_eq!(sectors(&one, 22), all(0x80 + 32));
    let mut overlay = vec![0x80 + 31, 0x80 + 31];
    overlay.extend(vec![0x80 + 33; 30]);
    assert_eq!(sectors(&one, 23), overlay);
    assert_eq!(sectors(&one, 24), all(0x40 + 24));
    assert_eq!(sectors(&one, 25), all(0));
    // Snapshot 2: its copies, the rest live (its store does not zero unused blocks).
    assert_eq!(sectors(&two, 20), all(0x40 + 20));
    assert_eq!(sectors(&two, 21), all(0x40 + 21));
    assert_eq!(sectors(&two, 22), all(0x80 + 32));
    assert_eq!(sectors(&two, 23), all(0x80 + 33));
    assert_eq!(sectors(&two, 25), all(0x40 + 25));
    // Every other block of both is the live volume's.
    for n in (9..BLOCKS).filter(|n| !(20..=25).contains(n)) {
        for view in [&one, &two] {
            assert_eq!(
                sectors(view, n),
                sectors(&MemoryImage::new(v.clone()), n),
                "{n}"
            );
        }
    }
    // Reads across block boundaries and at the end.
    let mut buf = vec![0u8; 3 * B];
    assert_eq!(one.read_at((20 * B + 100) as u64, &mut buf).unwrap(), 3 * B);
    assert_eq!(buf[0], 0x80 + 30);
    assert_eq!(buf[B], 0x80 + 32);
    assert_eq!(buf[2 * B], 0x80 + 32);
    assert_eq!(one.read_at((BLOCKS * B - 10) as u64, &mut buf).unwrap(), 10);
    assert_eq!(one.read_at((BLOCKS * B) as u64, &mut buf).unwrap(), 0);
}

/// Every byte of the header, the catalog block, the store headers, the block lists and
/// the bitmaps (the first 0x180 bytes of each) set to 0xff in turn: opening and reading
/// every block of every snapshot ends in values or errors, never a panic; damage to a
/// block-list header is an error naming that block's volume offset.
#[test]
fn damaged_structures_are_errors_never_panics() {
    let v = volume();
    let mut errors = 0;
    let mut places: Vec<usize> = (0x1e00..0x1e80).collect();
    for block in [2, 3, 4, 5, 6, 7, 8] {
        places.extend(block * B..block * B + 0x180);
    }
    for at in places {
        let mut damaged = v.clone();
        damaged[at] ^= 0xff;
        match open(damaged) {
            Err(_) => errors += 1,
            Ok(None) => {}
            Ok(Some(shadows)) => {
                for n in 1..=shadows.len() {
                    match shadows.snapshot(n) {
                        Err(_) => errors += 1,
                        Ok(view) => {
                            let mut buf = vec![0u8; B];
                            for block in 0..BLOCKS.min((view.size() / B as u64) as usize) {
                                if view.read_at((block * B) as u64, &mut buf).is_err() {
                                    errors += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(errors > 100, "{errors}");
    // The block list of store B says it is elsewhere: both snapshots need store B.
    let mut damaged = v.clone();
    damaged[7 * B + 32] ^= 0x01;
    let shadows = open(damaged).unwrap().unwrap();
    for n in [1, 2] {
        let err = shadows
            .snapshot(n)
            .err()
            .expect("store B is damaged")
            .to_string();
        assert!(err.contains(&format!("{}", 7 * B)), "{err}");
    }
}

#[test]
fn a_volume_cut_short_is_an_error_naming_the_offset() {
    let mut v = volume();
    v.truncate(5 * B);
    let shadows = open(v).unwrap().unwrap();
    let err = shadows.snapshot(1).err().unwrap().to_string();
    assert!(err.contains("past the end"), "{err}");
}
