//! Base block (placeholder: being written).
