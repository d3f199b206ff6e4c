//! Registry analysis: hive bytes plus provenance in, evidence rows out.
//!
//! The same code serves exported hives given on the command line, hives found in a
//! mounted directory and (later) hives inside disk images: it never opens files by path.

pub mod artifacts;
pub mod base_block;
pub mod replay;
