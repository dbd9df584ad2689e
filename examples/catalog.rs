//! Regenerates the embedded schema catalog (`catalog/index.json`, `catalog/schemas.lz4`) from
//! a kubeconform-layout tree, keeping exactly what the built-in templates can emit:
//!
//! ```sh
//! cargo run --release --example catalog -- ../shared/schemas
//! ```
//!
//! Run it after changing what a template emits (`src/check/emitted.rs`) or the tree; a test
//! fails while the committed catalog is stale. The work is `casa_build::check::catalog::generate`.

use std::path::PathBuf;
use std::process::ExitCode;

use casa_build::check::catalog::generate::generate;
use casa_build::check::catalog::{INDEX_PATH, PACK_PATH};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(source), None) = (args.next(), args.next()) else {
        eprintln!(
            "usage: cargo run --release --example catalog -- <schemas folder, kubeconform layout>"
        );
        return ExitCode::from(64);
    };
    let source = PathBuf::from(source);
    let made = match generate(&source) {
        Ok(made) => made,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for (rel, bytes) in [
        (INDEX_PATH, made.index.as_bytes()),
        (PACK_PATH, &made.pack[..]),
    ] {
        let path = root.join(rel);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, bytes));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(3);
        }
    }
    let files = made.index.matches("\"offset\"").count();
    println!(
        "wrote {INDEX_PATH} ({files} files) and {PACK_PATH} ({} bytes) from {}",
        made.pack.len(),
        source.display()
    );
    if !made.charts_without_schema.is_empty() {
        println!(
            "charts left out (no values.schema.json in the tree): {}",
            made.charts_without_schema.join(", ")
        );
    }
    ExitCode::SUCCESS
}
