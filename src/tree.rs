//! Stage `tree`: manifests -> the files of `out/` (path -> bytes). One object per file, one
//! folder per Flux unit, each with a `kustomization.yaml` listing its files in order. Pure.

use std::collections::{BTreeMap, HashMap};

use crate::manifest::Unit;
use crate::manifest::{Manifest, to_yaml};

/// The generated tree: relative path (with `/`) -> file content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Tree {
    /// A tree from `(path, text)` pairs, for tests.
    #[cfg(test)]
    pub(crate) fn from_texts(files: &[(&str, &str)]) -> Self {
        let files = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
            .collect();
        Self { files }
    }

    pub fn from_manifests(manifests: &[Manifest], units: &[Unit]) -> Self {
        // Grouped once by unit: filtering all manifests per unit is quadratic in the number
        // of instances (each adds a unit and its objects).
        let mut by_unit: HashMap<&str, Vec<&Manifest>> = HashMap::new();
        for m in manifests {
            by_unit.entry(m.unit.as_str()).or_default().push(m);
        }
        let mut files = BTreeMap::new();
        for unit in units {
            let mut names: Vec<String> = Vec::new();
            for m in by_unit.remove(unit.name.as_str()).unwrap_or_default() {
                let name = m.file_name();
                files.insert(
                    format!("{}/{name}", unit.path),
                    to_yaml(&m.value).into_bytes(),
                );
                names.push(name);
            }
            names.sort();
            names.dedup();
            let kustomization = serde_json::json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": names,
            });
            files.insert(
                format!("{}/kustomization.yaml", unit.path),
                to_yaml(&kustomization).into_bytes(),
            );
        }
        Self { files }
    }
}
