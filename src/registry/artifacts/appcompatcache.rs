//! AppCompatCache (placeholder: being written).
