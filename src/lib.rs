//! casa-build compiles a typed description of an analysis facility into the Kubernetes
//! manifests Flux applies, sealed and schema-checked, and shows what a change will do.
//!
//! ```text
//! site.toml + instances/*.toml
//!    │ load      parse TOML keeping spans                         site::load
//!    ▼
//! Site ──validate──> Diagnostics                                   validate
//!    │ render    minijinja templates -> objects                   render
//!    ▼
//! Vec<Manifest> ──check──> schemas, references                     check
//!    │ tree      out/ layout, kustomization.yaml per folder        tree
//!    ▼
//! Tree ──emit──> out/ (atomic)                                     emit
//! ```
//!
//! Side paths reuse the pipeline: `diff --base` runs it on a git tree, `seal` writes
//! ciphertext back into the TOML sources.

pub mod bootstrap;
pub mod check;
pub mod cli;
pub mod commit;
pub mod diagnostics;
pub mod diff;
pub mod emit;
pub mod kinds;
pub mod manifest;
pub mod pipeline;
pub mod redact;
pub mod render;
pub mod seal;
pub mod site;
pub mod sources;
pub mod tree;
pub mod validate;
pub mod worktree;

/// The version of every JSON form a command prints (`-o json`: check, build, secrets list,
/// explain, diff --base, diff --live, and the diagnostics of a failed run), all described in
/// the README's "JSON output". Raised when a field changes meaning or goes away; a new
/// field does not raise it.
pub const JSON_SCHEMA_VERSION: u32 = 1;
