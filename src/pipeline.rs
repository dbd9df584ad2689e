//! The one chain every command runs: load -> validate -> render -> check -> tree. Pure: the
//! sources come in as text, the tree goes out as bytes.

use std::path::Path;

use crate::check::{SchemaStore, check_references, check_schemas};
use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::manifest::Manifest;
use crate::render::{Unit, render, units};
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
