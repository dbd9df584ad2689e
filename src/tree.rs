//! Stage `tree`: manifests -> the files of `out/` (path -> bytes). One object per file, one
//! folder per Flux unit, each with a `kustomization.yaml` listing its files in order. Pure.

use std::collections::BTreeMap;

use crate::manifest::{Manifest, to_yaml};
use crate::render::Unit;

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
        let mut files = BTreeMap::new();
        for unit in units {
            let mut names: Vec<String> = Vec::new();
            for m in manifests.iter().filter(|m| m.unit == unit.name) {
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
