//! Parsers of the artifact families, one module each.

pub mod appcompatcache;
