//! Disk images read directly: raw/dd (one file or split `.001`, `.002`, ...), E01, and
//! virtual disks (VHD, VHDX, VMDK, with their parents and extents), all as read-only
//! random-access byte sources under a block cache; the partition tables (MBR, GPT)
//! inside them are read by [`crate::partitions`].

pub mod cache;
mod container;
pub mod e01;
mod file;
pub mod raw;
pub mod source;
pub mod split;
pub mod vhd;
pub mod vhdx;
pub mod virtual_disk;
pub mod vmdk;
