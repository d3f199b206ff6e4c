//! Our own NTFS layer: pure functions over bytes, written from the on-disk format.
//!
//! The `ntfs` crate re-walks $MFT's data runs for every record, fails on records that
//! straddle a data-run boundary and does not support an $MFT with an attribute list
//! (see `../shared/corpus/SOURCES.md`). The scanner reads $MFT sequentially in large
//! chunks instead and parses each record with [`record::parse_record`].

pub mod attribute;
pub mod boot;
pub mod collected;
pub mod extensions;
pub mod index;
pub mod record;
pub mod runs;
pub mod usn;
pub mod volume;

pub use attribute::{AttrBody, Attribute, AttributeListEntry, FileName, StandardInformation};
pub use boot::BootSector;
pub use record::{MftRecord, NtfsError, RecordHeader, apply_fixups, parse_record};
pub use runs::{Run, decode_runs};
