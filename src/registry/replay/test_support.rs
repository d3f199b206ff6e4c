//! Synthetic primaries and logs for the replay tests.

use super::new_format::{ENTRY_HEADER_LEN, LOG_ENTRY_SEED, marvin32};
use super::{LogFile, SECTOR};
use crate::registry::base_block::{
    BASE_BLOCK_LEN, BaseBlock, HBIN_START, LOG_BASE_BLOCK_LEN, OFF_CHECKSUM, OFF_DATA_SIZE,
    OFF_FILE_TYPE, OFF_PRIMARY_SEQ, OFF_ROOT_CELL, OFF_SECONDARY_SEQ, checksum, write_u32,
};

pub(super) const BINS: usize = 3; // hive bins of 4096 bytes in the synthetic primary

pub(super) fn set_u32(b: &mut [u8], off: usize, v: u32) {
    assert!(write_u32(b, off, v));
}

pub(super) fn hbin(relative: usize, marker: u8) -> Vec<u8> {
    let mut bin = vec![marker; 4096];
    bin[..4].copy_from_slice(b"hbin");
    set_u32(&mut bin, 4, relative as u32);
    set_u32(&mut bin, 8, 4096);
    bin
}

pub(super) fn synth_hive(primary_seq: u32, secondary_seq: u32) -> Vec<u8> {
    let mut h = vec![0u8; BASE_BLOCK_LEN];
    h[..4].copy_from_slice(b"regf");
    set_u32(&mut h, OFF_PRIMARY_SEQ, primary_seq);
    set_u32(&mut h, OFF_SECONDARY_SEQ, secondary_seq);
    set_u32(&mut h, 0x0C, 0x1234_5678);
    set_u32(&mut h, 0x14, 1);
    set_u32(&mut h, 0x18, 5);
    set_u32(&mut h, 0x20, 1);
    set_u32(&mut h, OFF_ROOT_CELL, 0x20);
    set_u32(&mut h, OFF_DATA_SIZE, (BINS * 4096) as u32);
    set_u32(&mut h, 0x2C, 1);
    let sum = checksum(&h);
    set_u32(&mut h, OFF_CHECKSUM, sum);
    for i in 0..BINS {
        h.extend_from_slice(&hbin(i * 4096, 0x10 + i as u8));
    }
    h
}

pub(super) fn log_base_block(hive: &[u8], file_type: u32, seq: u32) -> Vec<u8> {
    let mut bb = hive[..LOG_BASE_BLOCK_LEN].to_vec();
    set_u32(&mut bb, OFF_FILE_TYPE, file_type);
    set_u32(&mut bb, OFF_PRIMARY_SEQ, seq);
    set_u32(&mut bb, OFF_SECONDARY_SEQ, seq);
    let sum = checksum(&bb);
    set_u32(&mut bb, OFF_CHECKSUM, sum);
    bb
}

pub(super) struct SynthEntry {
    pub(super) seq: u32,
    pub(super) hbs: u32,
    pub(super) pages: Vec<(u32, Vec<u8>)>,
}

fn entry_bytes(e: &SynthEntry) -> Vec<u8> {
    let mut body = Vec::new();
    for (off, data) in &e.pages {
        body.extend_from_slice(&off.to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    }
    for (_, data) in &e.pages {
        body.extend_from_slice(data);
    }
    let size = (ENTRY_HEADER_LEN + body.len()).next_multiple_of(SECTOR);
    body.resize(size - ENTRY_HEADER_LEN, 0);
    let mut out = vec![0u8; ENTRY_HEADER_LEN];
    out[..4].copy_from_slice(b"HvLE");
    set_u32(&mut out, 4, size as u32);
    set_u32(&mut out, 8, 0);
    set_u32(&mut out, 12, e.seq);
    set_u32(&mut out, 16, e.hbs);
    set_u32(&mut out, 20, e.pages.len() as u32);
    out[24..32].copy_from_slice(&marvin32(LOG_ENTRY_SEED, &body).to_le_bytes());
    let h2 = marvin32(LOG_ENTRY_SEED, &out[..32]);
    out[32..40].copy_from_slice(&h2.to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A new-format log; returns the bytes and the offset of each entry.
pub(super) fn synth_new_log(
    hive: &[u8],
    bb_seq: u32,
    entries: &[SynthEntry],
) -> (Vec<u8>, Vec<usize>) {
    let mut log = log_base_block(hive, 6, bb_seq);
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(log.len());
        log.extend_from_slice(&entry_bytes(e));
    }
    log.extend_from_slice(&[0u8; 1024]); // zeros after the last entry, as on disk
    (log, offsets)
}

pub(super) fn page(relative: usize, marker: u8) -> (u32, Vec<u8>) {
    (relative as u32, hbin(relative, marker))
}

pub(super) fn entry(seq: u32, pages: Vec<(u32, Vec<u8>)>) -> SynthEntry {
    SynthEntry {
        seq,
        hbs: (BINS * 4096) as u32,
        pages,
    }
}

pub(super) fn log<'a>(name: &str, bytes: &'a [u8]) -> LogFile<'a> {
    LogFile {
        name: name.into(),
        bytes,
    }
}

pub(super) fn marker_at(image: &[u8], relative: usize) -> u8 {
    image[HBIN_START + relative + 100]
}

pub(super) fn assert_clean(image: &[u8]) {
    let bb = BaseBlock::parse(image).unwrap();
    assert!(!bb.is_dirty() && bb.checksum_ok(), "{bb:?}");
}
