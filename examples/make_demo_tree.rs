//! Writes the committed demo input, `fixtures/demo-mounted`, from the fixture spec that
//! the end-to-end tests build from (`fixtures/mounted_tree.rs`).
//!
//!     cargo run --example make_demo_tree
//!
//! Git does not keep file times, so the demo's file-system times are those of the
//! checkout; the tests plant their own.

#[allow(dead_code)] // the tests use the planted times; the demo cannot keep them
#[path = "../fixtures/mounted_tree.rs"]
mod mounted_tree;

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-mounted");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let files = mounted_tree::build(&root)?;
    println!("wrote {} files under {}", files.len(), root.display());
    Ok(())
}
