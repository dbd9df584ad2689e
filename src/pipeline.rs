//! The one chain every command runs: load -> validate -> render -> check -> tree. Pure: the
//! sources come in as text, the tree goes out as bytes.

use std::path::Path;

use crate::check::{SchemaStore, check_references, check_schemas};
use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::manifest::Manifest;
use crate::manifest::Unit;
use crate::render::{render, units};
use crate::site::Site;
use crate::sources::Sources;
use crate::tree::Tree;

/// What a successful build produced, with any warnings found on the way.
#[derive(Debug)]
pub struct Build {
    pub site: Site,
    pub units: Vec<Unit>,
    pub manifests: Vec<Manifest>,
    pub tree: Tree,
    pub warnings: Diagnostics,
}

/// Loads, validates, renders and checks the site. Stops between stages on errors.
pub fn build(sources: &Sources, schemas: &SchemaStore) -> Result<Build, Diagnostics> {
    let (site, mut diags) = crate::site::load(sources);
    let Some(site) = site else {
        return Err(sorted(diags, sources));
    };
    diags.extend(crate::validate::validate(&site));
    if diags.has_errors() {
        return Err(sorted(diags, sources));
    }
    let manifests = match render(&site, sources) {
        Ok(m) => m,
        Err(d) => {
            diags.extend(d);
            return Err(sorted(diags, sources));
        }
    };
    let units = units(&site);
    diags.extend(check_schemas(&site, schemas, &manifests));
    diags.extend(check_references(&site, &manifests, &units));
    if diags.has_errors() {
        return Err(sorted(diags, sources));
    }
    let tree = Tree::from_manifests(&manifests, &units);
    Ok(Build {
        site,
        units,
        manifests,
        tree,
        warnings: sorted(diags, sources),
    })
}

fn sorted(mut d: Diagnostics, sources: &Sources) -> Diagnostics {
    d.sort(sources);
    d
}

/// Opens the schema store for a site: `--schemas` wins over `[site] schemas` (relative to the
/// site folder). No location at all, or a broken one, is a diagnostic.
pub fn open_schemas(
    flag: Option<&Path>,
    site_dir: &Path,
    sources: &Sources,
) -> Result<SchemaStore, Diagnostics> {
    let (site, diags) = crate::site::load(sources);
    let Some(site) = site else {
        return Err(sorted(diags, sources));
    };
    let location = match (flag, &site.spec.site.schemas) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(p)) => site_dir.join(p),
        (None, None) => {
            return Err(Diagnostics::from(vec![
                Diagnostic::new(diag::UNKNOWN_KIND, "no schema location: every generated object is checked against JSON Schemas before it is written")
                    .help("pass --schemas DIR (kubeconform layout, e.g. ../shared/schemas) or set [site] schemas in site.toml"),
            ]));
        }
    };
    SchemaStore::open(&location, &site.spec.site.kubernetes_version).map_err(|e| {
        Diagnostics::from(vec![
            Diagnostic::new(
                diag::UNKNOWN_KIND,
                format!("schema location {}: {e}", location.display()),
            )
            .help("point --schemas at a folder laid out like kubeconform's (k8s/, crds/, charts/)"),
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;

    const ROOT: &str = env!("CARGO_MANIFEST_DIR");

    fn reference_sources(reverse: bool) -> Sources {
        let mut files = vec![(
            "site.toml".to_owned(),
            std::fs::read(format!("{ROOT}/site.toml")).unwrap(),
        )];
        let mut instances: Vec<_> = std::fs::read_dir(format!("{ROOT}/instances"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        instances.sort();
        if reverse {
            instances.reverse();
        }
        for p in instances {
            files.push((
                format!("instances/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read(&p).unwrap(),
            ));
        }
        let mut s = Sources::new();
        for (p, b) in files {
            s.add_bytes(p, b);
        }
        s
    }

    fn store() -> SchemaStore {
        SchemaStore::open(Path::new(&format!("{ROOT}/../shared/schemas")), "1.33").unwrap()
    }

    fn codes(d: &Diagnostics) -> Vec<Code> {
        d.iter().map(|d| d.code).collect()
    }

    #[test]
    fn the_tree_does_not_depend_on_the_order_files_are_read_in() {
        let store = store();
        let a = build(&reference_sources(false), &store).unwrap();
        let b = build(&reference_sources(true), &store).unwrap();
        assert_eq!(a.tree, b.tree);
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    }

    #[test]
    fn two_objects_with_one_identity_are_an_error() {
        let mut s = reference_sources(false);
        s.templates.push((
            "dex/again.yaml.j2".into(),
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ site.dex.namespace }}\n".into(),
        ));
        let err = build(&s, &store()).unwrap_err();
        assert_eq!(codes(&err), [diag::DUPLICATE_OBJECT]);
    }

    #[test]
    fn a_release_without_its_source_and_an_unknown_secret_are_broken_references() {
        let mut s = reference_sources(false);
        let release = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: stray\n  namespace: dex\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: stray\n      sourceRef:\n        kind: HelmRepository\n        name: nowhere\n        namespace: flux-system\n  values:\n    envFrom:\n      - secretRef:\n          name: not-sealed\n";
        s.templates
            .push(("dex/stray.yaml.j2".into(), release.into()));
        let err = build(&s, &store()).unwrap_err();
        let messages: Vec<_> = err.iter().map(|d| (d.code, d.message.clone())).collect();
        assert!(
            messages.iter().any(|(c, m)| *c == diag::BROKEN_REFERENCE
                && m.contains("HelmRepository flux-system/nowhere")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|(c, m)| *c == diag::BROKEN_REFERENCE && m.contains("Secret dex/not-sealed")),
            "{messages:?}"
        );
    }

    #[test]
    fn an_undefined_template_variable_is_an_error() {
        let mut s = reference_sources(false);
        s.templates.push((
            "dex/typo.yaml.j2".into(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ site.dex.namespce }}\n".into(),
        ));
        let err = build(&s, &store()).unwrap_err();
        assert_eq!(codes(&err), [diag::TEMPLATE_ERROR]);
    }

    #[test]
    fn an_unknown_kind_needs_a_schema_or_an_allowance() {
        let mut s = reference_sources(false);
        s.templates.push((
            "dex/gizmo.yaml.j2".into(),
            "apiVersion: example.org/v1\nkind: Gizmo\nmetadata:\n  name: g\n  namespace: dex\n"
                .into(),
        ));
        let err = build(&s, &store()).unwrap_err();
        assert_eq!(codes(&err), [diag::UNKNOWN_KIND]);
        let site = s.get(s.find("site.toml").unwrap()).unwrap().text.replacen(
            "kubernetes_version = \"1.33\"",
            "kubernetes_version = \"1.33\"\nallowed_kinds = [\"example.org/v1/Gizmo\"]",
            1,
        );
        let mut allowed = Sources::new();
        allowed.add("site.toml", site);
        for (_, f) in s.files().skip(1) {
            allowed.add(f.path.clone(), f.text.clone());
        }
        allowed.templates = s.templates.clone();
        assert!(build(&allowed, &store()).is_ok());
    }
}
