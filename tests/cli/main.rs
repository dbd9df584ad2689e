//! The integration tests: one binary (one link step), one module per command, every test
//! running the real `casa-build` through `support::Cli`.
//!
//! - `check`: `casa-build check` on valid sites (summary, JSON), on folders that cannot be
//!   read (exit 3), and `explain`.
//! - `build`: `casa-build build`: the generated trees (snapshots, kustomize, freshness of
//!   the committed out/), schema and reference checks, determinism, atomic writes.
//! - `bad_input`: the corpus in `tests/bad-input/`, one site folder per defect; every case
//!   must exit with its code at its location, never panic, never write; snapshots of the
//!   rendered diagnostics.
//! - `schema`: `casa-build schema` and the freshness of the committed `schemas/`.
//! - `seal`: `casa-build secrets list` and `casa-build seal`: the in-place edit, the
//!   ciphertext opening with the fixture keys, refused certificates, no plaintext printed.

mod support;

mod bad_input;
mod build;
mod check;
mod schema;
mod seal;
