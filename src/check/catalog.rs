//! The embedded schema catalog: the JSON Schemas of exactly what the built-in templates can
//! emit ([`super::emitted`]) for every Kubernetes release the binary supports, the CRD schemas
//! at the pinned releases, and the values schemas of the pinned charts with their defaults.
//! It is what makes `casa-build build` work with no schema folder at all.
//!
//! - Stage: read by the schema check ([`super::SchemaStore`]), below any user location.
//! - Input: `catalog/index.json` and `catalog/schemas.lz4`, both compiled into the binary.
//!   `examples/catalog.rs` writes them from a kubeconform-layout tree (`../shared/schemas`);
//!   a test fails when they are stale against it.
//! - Output: the bytes of one schema file, decompressed on first use: a build pays for the
//!   files of the kinds it emits for its own release, not for the whole catalog.
//!
//! Layout: the paths are those of the kubeconform tree (`k8s/v1.33.0-standalone-strict/...`,
//! `crds/<group>/<kind>_<version>.json`, `charts/<chart>[/<version>]/values.schema.json`),
//! except that a chart's `values.yaml` is carried as `values.json`: the same defaults,
//! converted once by the generator with the YAML parser the check uses, so a build parses
//! JSON (several times faster) instead of YAML. Each distinct file is one LZ4 block; files
//! with the same bytes (a schema unchanged between releases) share one.

pub mod generate;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::site::types::KubernetesRelease;

/// Where the generator writes the catalog and where the build reads it from, relative to the
/// repository root.
pub const INDEX_PATH: &str = "catalog/index.json";
pub const PACK_PATH: &str = "catalog/schemas.lz4";

static INDEX: &str = include_str!("../../catalog/index.json");
static PACK: &[u8] = include_bytes!("../../catalog/schemas.lz4");

/// The name a chart's defaults have in the catalog (`values.yaml`, converted to JSON).
pub const DEFAULTS_JSON: &str = "values.json";

/// The catalog does not hold what its index says. A released binary cannot meet this (a test
/// reads every file of the embedded catalog); it is reported, not a panic, all the same.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CatalogError {
    #[error("the embedded schema catalog's index is not valid: {message}")]
    Index { message: String },
    #[error("the embedded schema catalog's {path} does not decompress: {message}")]
    Block { path: String, message: String },
}

/// `catalog/index.json`.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Index {
    /// How the catalog was made (a command line), for whoever reads the file.
    pub generated_by: String,
    /// The Kubernetes minor releases whose built-in schemas are carried, `1.33` and so on.
    pub kubernetes: Vec<String>,
    /// Path -> where its bytes are in `schemas.lz4`.
    pub files: BTreeMap<String, Entry>,
}

/// One file of the catalog: an LZ4 block of `schemas.lz4`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Entry {
    /// Byte offset of the block in the pack.
    pub offset: usize,
    /// Length of the block.
    pub length: usize,
    /// Length of the file once decompressed.
    pub size: usize,
    /// SHA-256 of the decompressed file, hex: checked by the tests, and what a reviewer
    /// compares with the source tree.
    pub sha256: String,
}

/// The parsed catalog: an index over a pack of blocks.
#[derive(Debug)]
pub struct Catalog {
    releases: Vec<KubernetesRelease>,
    files: BTreeMap<String, Entry>,
    pack: &'static [u8],
}

/// The catalog compiled into the binary, parsed on first use (about 100 index entries).
pub fn embedded() -> Result<&'static Catalog, CatalogError> {
    static CATALOG: OnceLock<Result<Catalog, CatalogError>> = OnceLock::new();
    CATALOG
        .get_or_init(|| Catalog::parse(INDEX, PACK))
        .as_ref()
        .map_err(Clone::clone)
}

impl Catalog {
    /// Reads an index and the pack it describes; every block must lie inside the pack.
    pub fn parse(index: &str, pack: &'static [u8]) -> Result<Self, CatalogError> {
        let bad = |message: String| CatalogError::Index { message };
        let index: Index = serde_json::from_str(index).map_err(|e| bad(e.to_string()))?;
        let mut releases = index
            .kubernetes
            .iter()
            .map(|text| {
                text.parse::<crate::site::types::KubernetesVersion>()
                    .map(|v| v.release())
                    .map_err(|_| bad(format!("{text:?} is not a Kubernetes release")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        releases.sort();
        for (path, entry) in &index.files {
            if entry
                .offset
                .checked_add(entry.length)
                .is_none_or(|end| end > pack.len())
            {
                return Err(bad(format!("{path} lies outside the pack")));
            }
        }
        Ok(Self {
            releases,
            files: index.files,
            pack,
        })
    }

    /// The Kubernetes releases whose built-in schemas the catalog carries, in order.
    pub fn releases(&self) -> &[KubernetesRelease] {
        &self.releases
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Every path the catalog holds, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.files.get(path)
    }

    /// The file at `path`, decompressed; `None` when the catalog has no such file.
    pub fn read(&self, path: &str) -> Option<Result<Vec<u8>, CatalogError>> {
        let entry = self.files.get(path)?;
        let block = &self.pack[entry.offset..entry.offset + entry.length];
        Some(
            lz4_flex::block::decompress(block, entry.size)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    if bytes.len() == entry.size {
                        Ok(bytes)
                    } else {
                        Err(format!("{} bytes instead of {}", bytes.len(), entry.size))
                    }
                })
                .map_err(|message| CatalogError::Block {
                    path: path.to_owned(),
                    message,
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn every_embedded_file_decompresses_to_the_bytes_its_index_names() {
        let catalog = embedded().expect("the embedded catalog parses");
        assert!(catalog.paths().count() > 50);
        for path in catalog.paths() {
            let bytes = catalog
                .read(path)
                .expect("listed")
                .unwrap_or_else(|e| panic!("{e}"));
            let entry = catalog.entry(path).expect("listed");
            let sha: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(sha, entry.sha256, "{path}");
            // Every file is JSON: schemas, and the chart defaults converted from YAML.
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }

    #[test]
    fn the_embedded_catalog_covers_kubernetes_1_33_to_1_37() {
        let catalog = embedded().expect("parses");
        let releases: Vec<String> = catalog.releases().iter().map(ToString::to_string).collect();
        assert_eq!(releases, ["1.33", "1.34", "1.35", "1.36", "1.37"]);
        for release in catalog.releases() {
            let path = format!(
                "k8s/{}-standalone-strict/deployment-apps-v1.json",
                release.folder()
            );
            assert!(catalog.contains(&path), "{path}");
        }
        assert!(
            catalog
                .read("k8s/v1.27.0-standalone-strict/deployment-apps-v1.json")
                .is_none()
        );
    }

    #[test]
    fn a_damaged_index_or_block_is_an_error_not_a_panic() {
        static PACK: [u8; 4] = [0xf0, 1, 2, 3];
        let index = |entry: &str| {
            format!(
                r#"{{"generated-by": "test", "kubernetes": ["1.33"], "files": {{"a.json": {entry}}}}}"#
            )
        };
        let outside = index(r#"{"offset": 2, "length": 9, "size": 4, "sha256": ""}"#);
        assert!(matches!(
            Catalog::parse(&outside, &PACK),
            Err(CatalogError::Index { .. })
        ));
        let garbage = index(r#"{"offset": 0, "length": 4, "size": 400, "sha256": ""}"#);
        let catalog = Catalog::parse(&garbage, &PACK).expect("the index itself is fine");
        let error = catalog
            .read("a.json")
            .expect("listed")
            .expect_err("garbage");
        assert!(error.to_string().contains("a.json"), "{error}");
        assert!(matches!(
            Catalog::parse(r#"{"kubernetes": []}"#, &PACK),
            Err(CatalogError::Index { .. })
        ));
        let bad_release = r#"{"generated-by": "t", "kubernetes": ["one"], "files": {}}"#;
        assert!(Catalog::parse(bad_release, &PACK).is_err());
    }
}
