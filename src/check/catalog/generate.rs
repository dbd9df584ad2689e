//! Makes the embedded catalog from a kubeconform-layout tree (`../shared/schemas`): the tool
//! behind `cargo run --release --example catalog`, and what the freshness test compares the
//! committed `catalog/` with.
//!
//! - Input: the tree, and what the templates can emit ([`crate::check::emitted`]).
//! - Output: `index.json` and `schemas.lz4` as bytes; writing them is the caller's business.
//!
//! The files are chosen by the schema store itself, reading the tree as a user location, so
//! the catalog holds exactly the files a build reading the tree would use:
//!
//! - for every release in [`CATALOG_RELEASES`] and every emitted kind, the schema file the
//!   store resolves (it must be a self-contained one: the catalog carries no
//!   `_definitions.json`, which is 1 MB per release), except the kinds the tree is known to
//!   lack ([`crate::kinds::WITHOUT_SCHEMA`]);
//! - for every emitted chart that ships a `values.schema.json` (in its folder or a version
//!   folder), every folder of the chart with its schema and its defaults, `values.yaml`
//!   converted to `values.json` with the parser the check uses. Charts without a schema are
//!   left out: nothing validates against their defaults.
//!
//! Schema files are copied byte for byte (their SHA-256 in the index is the source file's).
//! The output is deterministic: the same tree gives the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{DEFAULTS_JSON, Entry, Index};
use crate::check::emitted::{CATALOG_RELEASES, all_charts, all_kinds};
use crate::check::schema::{Origin, SchemaError, SchemaLocation, SchemaStore, parse_yaml};

/// What `index.json` says made it.
pub const GENERATED_BY: &str =
    "cargo run --release --example catalog -- ../shared/schemas (do not edit: regenerate)";

/// The catalog, ready to be written.
#[derive(Debug, PartialEq, Eq)]
pub struct Generated {
    /// `catalog/index.json`.
    pub index: String,
    /// `catalog/schemas.lz4`.
    pub pack: Vec<u8>,
    /// Emitted charts left out (no values schema in the tree), for the generator to say so.
    pub charts_without_schema: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("{api_version} {kind}: no schema for Kubernetes {release} in {}", .source_dir.display())]
    NoSchema {
        api_version: String,
        kind: String,
        release: String,
        source_dir: PathBuf,
    },
    #[error(
        "{api_version} {kind}: the tree has Kubernetes {release}'s schema only in the -local-strict flavour ({file}); the catalog carries self-contained (-standalone-strict) schemas"
    )]
    NotStandalone {
        api_version: String,
        kind: String,
        release: String,
        file: String,
    },
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid yaml in {}: {message}", .path.display())]
    Defaults { path: PathBuf, message: String },
}

/// Makes the catalog from the tree at `source`.
pub fn generate(source: &Path) -> Result<Generated, GenerateError> {
    let store = SchemaStore::folders_only(&[SchemaLocation {
        dir: source.to_owned(),
        origin: Origin::Flag,
    }])?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for release in CATALOG_RELEASES {
        // Kinds the tree is known to lack (crate::kinds) are left to the site: allowed, or
        // given a schema with --schemas.
        for kind in all_kinds()
            .into_iter()
            .filter(|k| crate::kinds::without_schema(k.api_version, k.kind).is_none())
        {
            let found = store
                .schema_file(release, kind.api_version, kind.kind)
                .map_err(|e| match e {
                    crate::check::Lookup::Schema(e) => GenerateError::Schema(e),
                    other => GenerateError::NoSchema {
                        api_version: kind.api_version.to_owned(),
                        kind: format!("{} ({other})", kind.kind),
                        release: release.to_string(),
                        source_dir: source.to_owned(),
                    },
                })?;
            let Some((shown, rel)) = found else {
                return Err(GenerateError::NoSchema {
                    api_version: kind.api_version.to_owned(),
                    kind: kind.kind.to_owned(),
                    release: release.to_string(),
                    source_dir: source.to_owned(),
                });
            };
            if rel.contains("-local-strict/") {
                return Err(GenerateError::NotStandalone {
                    api_version: kind.api_version.to_owned(),
                    kind: kind.kind.to_owned(),
                    release: release.to_string(),
                    file: shown,
                });
            }
            let bytes = read(&source.join(&rel))?;
            files.insert(rel, bytes);
        }
    }

    let mut charts_without_schema = Vec::new();
    for chart in all_charts() {
        let folders = chart_folders(source, chart)?;
        if !folders
            .iter()
            .any(|rel| source.join(rel).join("values.schema.json").is_file())
        {
            charts_without_schema.push(chart.to_owned());
            continue;
        }
        for rel in folders {
            let dir = source.join(&rel);
            let schema = dir.join("values.schema.json");
            if schema.is_file() {
                files.insert(format!("{rel}/values.schema.json"), read(&schema)?);
            }
            let values = dir.join("values.yaml");
            if values.is_file() {
                let defaults =
                    parse_yaml(&read(&values)?).map_err(|message| GenerateError::Defaults {
                        path: values.clone(),
                        message,
                    })?;
                // SAFETY: a serde_json::Value always serialises.
                let json = serde_json::to_vec(&defaults).expect("a JSON value serialises");
                files.insert(format!("{rel}/{DEFAULTS_JSON}"), json);
            }
        }
    }
    Ok(pack(files, charts_without_schema))
}

/// A chart's folder and its version folders that hold either of its files, as layout paths.
fn chart_folders(source: &Path, chart: &str) -> Result<Vec<String>, GenerateError> {
    let rel = format!("charts/{chart}");
    let dir = source.join(&rel);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let has_files =
        |d: &Path| d.join("values.yaml").is_file() || d.join("values.schema.json").is_file();
    let mut folders = Vec::new();
    if has_files(&dir) {
        folders.push(rel.clone());
    }
    let entries = fs::read_dir(&dir).map_err(|source| GenerateError::Read {
        path: dir.clone(),
        source,
    })?;
    let mut versions: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| has_files(&e.path()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    versions.sort();
    folders.extend(versions.into_iter().map(|v| format!("{rel}/{v}")));
    Ok(folders)
}

/// Compresses each distinct file once, in path order, and indexes every path.
fn pack(files: BTreeMap<String, Vec<u8>>, charts_without_schema: Vec<String>) -> Generated {
    let mut blob = Vec::new();
    let mut by_hash: HashMap<String, Entry> = HashMap::new();
    let mut index = BTreeMap::new();
    for (path, bytes) in files {
        let sha256: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let entry = by_hash
            .entry(sha256.clone())
            .or_insert_with(|| {
                let block = lz4_flex::block::compress(&bytes);
                let entry = Entry {
                    offset: blob.len(),
                    length: block.len(),
                    size: bytes.len(),
                    sha256,
                };
                blob.extend_from_slice(&block);
                entry
            })
            .clone();
        index.insert(path, entry);
    }
    let index = Index {
        generated_by: GENERATED_BY.to_owned(),
        kubernetes: CATALOG_RELEASES.iter().map(ToString::to_string).collect(),
        files: index,
    };
    // SAFETY: the index is strings and numbers, which always serialise.
    let text = serde_json::to_string_pretty(&index).expect("the index serialises") + "\n";
    Generated {
        index: text,
        pack: blob,
        charts_without_schema,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, GenerateError> {
    fs::read(path).map_err(|source| GenerateError::Read {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::catalog::{INDEX_PATH, PACK_PATH};

    fn shared() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas")
    }

    #[test]
    fn the_committed_catalog_is_what_the_generator_makes_from_the_shared_schemas() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let made = generate(&shared()).unwrap_or_else(|e| panic!("{e}"));
        let index = fs::read_to_string(root.join(INDEX_PATH)).expect("catalog/index.json");
        let pack = fs::read(root.join(PACK_PATH)).expect("catalog/schemas.lz4");
        let fix = "regenerate it: cargo run --release --example catalog -- ../shared/schemas";
        assert!(made.index == index, "catalog/index.json is stale; {fix}");
        assert!(made.pack == pack, "catalog/schemas.lz4 is stale; {fix}");
        assert_eq!(
            made.charts_without_schema,
            [
                "ceph-csi-drivers",
                "cilium",
                "cvmfs-csi",
                "dex",
                "gpu-operator",
                "ingress-nginx",
                "rook-ceph",
                "sealed-secrets"
            ]
        );
    }

    #[test]
    fn the_same_file_in_two_releases_is_stored_once() {
        let made = generate(&shared()).expect("generates");
        let index: Index = serde_json::from_str(&made.index).expect("parses");
        let namespace = |minor: u32| {
            index.files[&format!("k8s/v1.{minor}.0-standalone-strict/namespace-v1.json")].clone()
        };
        // Unchanged from 1.34 to 1.37 in the shared tree (1.33's differs by a description).
        assert_eq!(namespace(34), namespace(37));
        assert_ne!(namespace(33).sha256, namespace(34).sha256);
        let blocks: std::collections::BTreeSet<usize> =
            index.files.values().map(|e| e.offset).collect();
        assert!(blocks.len() < index.files.len());
    }

    #[test]
    fn a_tree_without_an_emitted_kind_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir_all(dir.path().join("k8s/v1.33.0-standalone-strict")).expect("mkdir");
        let error = generate(dir.path()).expect_err("nothing there");
        let text = error.to_string();
        assert!(text.contains("no schema for Kubernetes 1.33"), "{text}");
        // Only the -local-strict flavour: refused too, since it needs _definitions.json.
        let local = dir.path().join("k8s/v1.33.0-local-strict");
        fs::create_dir_all(&local).expect("mkdir");
        let first = crate::check::emitted::all_kinds()[0];
        let name = match first.api_version.split_once('/') {
            Some((group, version)) => format!(
                "{}-{}-{version}.json",
                first.kind.to_ascii_lowercase(),
                group.split('.').next().unwrap_or(group)
            ),
            None => format!(
                "{}-{}.json",
                first.kind.to_ascii_lowercase(),
                first.api_version
            ),
        };
        fs::write(local.join(name), "{}").expect("write");
        let error = generate(dir.path()).expect_err("local only");
        assert!(
            matches!(error, GenerateError::NotStandalone { .. }),
            "{error}"
        );
    }
}
