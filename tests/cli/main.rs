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
//! - `diff_live`: `casa-build diff --live` against an in-process replay of kube-apiserver
//!   (`diff_live/apiserver.rs`): sync, drift, missing, orphans, faults, server-side dry run.
//! - `diff_git`: `casa-build diff --base REV` on real git repositories in temporary folders:
//!   changed, added, removed objects, invalid sides, git trouble, masked secrets, the cap.
//! - `diff_danger`: the danger review of `diff --base`, one test per class of danger made
//!   in a real git repository, and `--fail-on danger`.
//! - `commit`: `casa-build commit`: only out/ is committed, refusals, no identity.
//! - `catalog`: the embedded schema catalog and the user's schema locations: declared and
//!   emitted kinds agree, the catalog checks as the shared schemas do, releases 1.33 to 1.37,
//!   `check` and `build` agree on releases, precedence flag > environment > site file.
//! - `conventions`: `-o/--output` and `--out-file`, `--color` and `NO_COLOR`, one JSON
//!   object with `schema_version` per command, completions, the man page, examples in
//!   `--help`, `explain` listing every code.
//! - `exit_codes`: one test per exit code, `--help`, a closed standard output, finding the
//!   site from below it.
//! - `corpus`: bad input for every command but `check` (`build`, `seal`, `secrets list`,
//!   `diff --base`, `diff --live`, `commit`, `explain`, `schema`): exit code and message per
//!   case, no panic, nothing written.
//! - `init`: `casa-build init`: a new site that checks and builds at once, its schema
//!   lines, its example instance, refused answers and folders.
//! - `secret_scan`: secrets planted where a pull request or a careless edit puts them (broken
//!   secret lines, a base commit, the environment behind a link, a template linked to a
//!   credentials file, kubeconfig credentials): no command prints one, no report file or
//!   out/ holds one.
//! - `crash`: builds killed with SIGKILL while writing out/: old tree or new, never a mix.
//! - `properties`: proptest over generated sites: determinism, the diff of a build with itself.

mod support;

mod bad_input;
mod build;
mod catalog;
mod check;
mod commit;
mod conventions;
mod corpus;
mod crash;
mod diff_danger;
mod diff_git;
mod diff_live;
mod exit_codes;
mod init;
mod properties;
mod schema;
mod seal;
mod secret_scan;
// The synthetic-site generator shared with `gen-site` and the benchmarks.
#[allow(dead_code)]
#[path = "../../examples/synthetic/mod.rs"]
mod synthetic;
