//! PLACEHOLDER (helper B replaces this file): the Prefetch file header and sections.

use super::{Prefetch, PrefetchError};

pub fn parse(_bytes: &[u8]) -> Result<Prefetch, PrefetchError> {
    Err(PrefetchError::NotPrefetch)
}
