//! Transaction-log replay (placeholder: being written).
