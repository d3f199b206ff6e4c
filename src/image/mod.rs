//! Disk images read directly: raw/dd (one file or split `.001`, `.002`, ...) and E01,
//! all as read-only random-access byte sources under a block cache; the partition tables
//! (MBR, GPT) inside them are read by [`crate::partitions`].

pub mod cache;
pub mod e01;
mod file;
pub mod raw;
pub mod source;
pub mod split;
