//! The one chain every command runs: load -> validate -> render -> check -> tree. Pure: the
//! sources come in as text, the tree goes out as bytes.

use std::path::Path;

use crate::check::{
    Origin, SchemaError, SchemaLocation, SchemaStore, check_dask_netpol, check_references,
    check_schemas, check_traefik_rbac,
};
use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::manifest::Manifest;
use crate::manifest::Unit;
use crate::render::{render_shared, units};
use crate::site::types::describe_releases;
use crate::site::{Component, Site};
use crate::sources::{SITE_FILE, Sources};
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

/// Loads, validates (the Kubernetes release included), renders and checks the site. Stops
/// between stages on errors.
pub fn build(sources: &Sources, schemas: &SchemaStore) -> Result<Build, Diagnostics> {
    build_with(sources, schemas, crate::site::COMPONENTS)
}

/// The same for a registry of components other than the built-in one.
pub fn build_with(
    sources: &Sources,
    schemas: &SchemaStore,
    registry: &'static [Component],
) -> Result<Build, Diagnostics> {
    // Nothing to share with: the render keeps no context (`render::Shared`'s default).
    let mut alone = Shared {
        render: crate::render::Shared::default(),
    };
    build_in(sources, schemas, registry, &mut alone, None)
}

/// What builds of two revisions of one site share beyond the schema store (`diff --base`):
/// the template environments, their parsed templates and fill skeletons, and the objects of
/// every unit whose templates and context did not change ([`crate::render::Shared`]).
pub struct Shared {
    render: crate::render::Shared,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            render: crate::render::Shared::keeping(),
        }
    }
}

/// [`build`], sharing with the build before it. `previous` is the last successful build made
/// with this `shared` (the objects of unchanged units are copied from it), or `None`.
pub fn build_shared(
    sources: &Sources,
    schemas: &SchemaStore,
    shared: &mut Shared,
    previous: Option<&Build>,
) -> Result<Build, Diagnostics> {
    build_in(sources, schemas, crate::site::COMPONENTS, shared, previous)
}

fn build_in(
    sources: &Sources,
    schemas: &SchemaStore,
    registry: &'static [Component],
    shared: &mut Shared,
    previous: Option<&Build>,
) -> Result<Build, Diagnostics> {
    let (site, mut diags) = crate::site::load_with(sources, registry);
    let Some(site) = site else {
        return Err(sorted(diags, sources));
    };
    diags.extend(crate::validate::validate(&site));
    diags.extend(check_kubernetes_version(&site, schemas));
    if diags.has_errors() {
        return Err(sorted(diags, sources));
    }
    let previous = previous.map(|b| b.manifests.as_slice());
    let manifests = match render_shared(&site, sources, &mut shared.render, previous) {
        Ok(m) => m,
        Err(d) => {
            diags.extend(d);
            return Err(sorted(diags, sources));
        }
    };
    diags.extend(crate::validate::validate_manifests(&site, &manifests));
    if diags.has_errors() {
        return Err(sorted(diags, sources));
    }
    let units = units(&site);
    diags.extend(check_schemas(&site, schemas, &manifests));
    diags.extend(check_references(&site, &manifests, &units));
    diags.extend(check_traefik_rbac(&manifests));
    diags.extend(check_dask_netpol(&manifests));
    diags.extend(crate::tree::check(&manifests, &units));
    if diags.has_errors() {
        return Err(sorted(diags, sources));
    }
    let mut tree = Tree::from_manifests(&manifests, &units);
    tree.files.insert(
        crate::bootstrap::BOOTSTRAP_FILE.to_owned(),
        crate::bootstrap::notes(&site, &units).into_bytes(),
    );
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

/// Opens the schema store for a site: the user's locations (`--schemas`, then
/// `CASA_SCHEMAS`, as the command line resolved them), then `[site] schemas` (relative to the
/// site folder), then the embedded catalog. A location that cannot be used is a
/// [`diag::SCHEMAS_UNUSABLE`] diagnostic (exit 3), pointing at `[site] schemas` when it came
/// from there.
pub fn open_schemas(
    user: &[SchemaLocation],
    site_dir: &Path,
    sources: &Sources,
) -> Result<SchemaStore, Diagnostics> {
    let locations = schema_locations(user, site_dir, sources);
    SchemaStore::open(&locations).map_err(|e| {
        let mut d = crate::check::schemas_unusable(&e);
        if let (
            SchemaError::Location {
                origin: Origin::SiteFile,
                ..
            },
            Some((_, span)),
            Some(file),
        ) = (&e, site_schemas(sources), sources.find(SITE_FILE))
        {
            d = d.at(file, span, "the schema location");
        }
        Diagnostics::from(vec![d])
    })
}

/// The schema locations a site's build reads, in precedence order, as [`open_schemas`]
/// chooses them: two sides of a diff with the same list can share one store.
pub fn schema_locations(
    user: &[SchemaLocation],
    site_dir: &Path,
    sources: &Sources,
) -> Vec<SchemaLocation> {
    let mut locations = user.to_vec();
    if let Some((rel, _)) = site_schemas(sources) {
        locations.push(SchemaLocation {
            dir: site_dir.join(rel),
            origin: Origin::SiteFile,
        });
    }
    locations
}

/// `[site] schemas` and its span, read leniently before the site loads: the schemas are
/// opened first, and a `site.toml` too broken to say is reported by the load that follows.
fn site_schemas(sources: &Sources) -> Option<(String, std::ops::Range<usize>)> {
    #[derive(serde::Deserialize)]
    struct Head {
        site: Option<HeadSite>,
    }
    #[derive(serde::Deserialize)]
    struct HeadSite {
        schemas: Option<crate::site::Spanned<String>>,
    }
    let text = &sources.get(sources.find(SITE_FILE)?)?.text;
    let schemas = toml::from_str::<Head>(text).ok()?.site?.schemas?;
    let span = schemas.span();
    Some((schemas.into_inner(), span))
}

/// Whether the schemas cover the site's Kubernetes release. `check` and `build` both run it,
/// so they never disagree about a site: a release `check` accepts is one `build` can check.
pub fn check_kubernetes_version(site: &Site, store: &SchemaStore) -> Option<Diagnostic> {
    let version = &site.spec.site.kubernetes_version;
    let release = version.get_ref().release();
    if store.covers(release) {
        return None;
    }
    let covered: Vec<String> = store
        .coverage()
        .into_iter()
        .filter(|c| !c.releases.is_empty())
        .map(|c| format!("{} in {}", describe_releases(&c.releases), c.layer))
        .collect();
    let covered = if covered.is_empty() {
        "no release".to_owned()
    } else {
        covered.join("; ")
    };
    Some(
        Diagnostic::new(
            diag::KUBERNETES_VERSION,
            format!("no schemas for Kubernetes {release}: the schemas cover {covered}"),
        )
        .at(site.file, version.span(), "no built-in schemas for this release")
        .help(format!(
            "target a release listed above, or add the schemas of {release} (k8s/{}-standalone-strict/, kubeconform layout) with --schemas DIR, CASA_SCHEMAS or [site] schemas",
            release.folder()
        )),
    )
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

    /// The shared schemas over the catalog: the tests' templates emit kinds (a ConfigMap)
    /// that the built-in ones do not, so the catalog alone lacks them.
    fn store() -> SchemaStore {
        SchemaStore::open(&[SchemaLocation {
            dir: Path::new(ROOT).join("../shared/schemas"),
            origin: Origin::Flag,
        }])
        .unwrap()
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

    /// `sources` with one instance file's text changed.
    fn with_instance(sources: &Sources, path: &str, from: &str, to: &str) -> Sources {
        let mut other = Sources::new();
        for (_, f) in sources.files() {
            let text = if f.path == path {
                assert!(f.text.contains(from), "{path} has no {from:?}");
                f.text.replacen(from, to, 1)
            } else {
                f.text.clone()
            };
            other.add(f.path.clone(), text);
        }
        other.templates = sources.templates.clone();
        other
    }

    #[test]
    fn a_build_sharing_with_another_revision_copies_only_unchanged_units() {
        let store = store();
        let head = reference_sources(false);
        let base = with_instance(
            &head,
            "instances/cms-dev.toml",
            "login_service = \"CMS SSO\"",
            "login_service = \"CMS login\"",
        );
        let mut shared = Shared::default();
        let h = build_shared(&head, &store, &mut shared, None).unwrap();
        assert_eq!(shared.render.copied(), 0);
        let b = build_shared(&base, &store, &mut shared, Some(&h)).unwrap();
        // Every unit but cms-dev's is copied, and the result is what a build of its own makes.
        assert_eq!(shared.render.copied(), b.units.len() - 1);
        let fresh = build(&base, &store).unwrap();
        assert_eq!(b.manifests, fresh.manifests);
        assert_eq!(b.tree, fresh.tree);
        assert_ne!(b.tree, h.tree);
        // A change of the site's part of the context copies nothing.
        let text = head
            .get(head.find("site.toml").unwrap())
            .unwrap()
            .text
            .clone();
        let renamed = text.replacen("name = \"flatiron\"", "name = \"flatiron-b\"", 1);
        assert_ne!(text, renamed, "the reference site is named flatiron");
        let mut other = Sources::new();
        other.add("site.toml", renamed);
        for (_, f) in head.files().skip(1) {
            other.add(f.path.clone(), f.text.clone());
        }
        let o = build_shared(&other, &store, &mut shared, Some(&b)).unwrap();
        assert_eq!(shared.render.copied(), 0);
        assert_eq!(o.tree, build(&other, &store).unwrap().tree);
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

    /// A component added in a test: its row, its template folder, nothing else. It installs
    /// a chart, needs an ingress, keeps a sealed value (reusing Triton's field) and renders a
    /// ConfigMap; every loop over the registry must pick it up.
    fn toy_secrets<'a>(
        site: &'a Site,
        _: crate::site::components::At<'a>,
        slots: &mut crate::site::secrets::Slots<'a>,
    ) {
        if let Some(t) = &site.spec.triton {
            slots.add(
                &["triton", "access_key"],
                "toy",
                "toy-keys",
                "KEY",
                t.access_key.as_ref(),
                t.gpus.span(),
            );
        }
    }

    fn toy(with_secret: bool) -> Component {
        use crate::manifest::Layer;
        use crate::site::components::{BASE, Capability, Need, UnitOf};
        Component {
            name: "toy",
            unit: UnitOf::Own("toy"),
            layer: Layer::Apps,
            charts: |_, _| vec!["toy-chart"],
            needs: |_, _| {
                vec![Need {
                    capability: Capability::Ingress,
                    at: None,
                    why: "the toy's web page".to_owned(),
                    fix: "run traefik".to_owned(),
                }]
            },
            secrets: if with_secret {
                toy_secrets
            } else {
                BASE.secrets
            },
            ..BASE
        }
    }

    static TOY: std::sync::LazyLock<Vec<Component>> =
        std::sync::LazyLock::new(|| [crate::site::COMPONENTS, &[toy(false)]].concat());
    static TOY_WITH_SECRET: std::sync::LazyLock<Vec<Component>> =
        std::sync::LazyLock::new(|| [crate::site::COMPONENTS, &[toy(true)]].concat());

    #[test]
    fn a_toy_component_is_picked_up_by_every_loop_over_the_registry() {
        let mut s = reference_sources(false);
        s.templates.push((
            "toy/configmap.yaml.j2".into(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: toy\n  namespace: toy\ndata:\n  site: {{ name }}\n".into(),
        ));
        // Its chart is not pinned: the chart rule names it.
        let err = build_with(&s, &store(), &TOY).unwrap_err();
        let msgs: Vec<_> = err.iter().map(|d| (d.code, d.message.clone())).collect();
        assert!(
            msgs.iter().any(|(c, m)| *c == diag::CHART_MISSING
                && m.contains("component `toy` needs the `toy-chart` chart")),
            "{msgs:?}"
        );
        // Its secret field is one of the site's: the identity rule checks where it goes.
        let err = build_with(&s, &store(), &TOY_WITH_SECRET).unwrap_err();
        assert!(
            err.iter().any(|d| d.code == diag::SECRET_MISMATCH
                && d.message.contains("goes to toy/toy-keys key KEY")),
            "{err:?}"
        );
        // Pinned, it builds: its own unit, after what it needs, with its SealedSecret.
        let site = s.get(s.find("site.toml").unwrap()).unwrap().text.replacen(
            "[charts.sealed-secrets]",
            "[charts.toy-chart]\nrepository = \"https://example.org/charts\"\nversion = \"1.0.0\"\n[charts.sealed-secrets]",
            1,
        );
        let mut pinned = Sources::new();
        pinned.add("site.toml", site);
        for (_, f) in s.files().skip(1) {
            pinned.add(f.path.clone(), f.text.clone());
        }
        pinned.templates = s.templates.clone();
        let b = build_with(&pinned, &store(), &TOY).unwrap();
        let toy = b
            .units
            .iter()
            .find(|u| u.name == "toy")
            .expect("a toy unit");
        assert!(
            toy.depends_on.contains(&"traefik".to_owned()),
            "{:?}",
            toy.depends_on
        );
        let objects: Vec<String> = b
            .manifests
            .iter()
            .filter(|m| m.unit == "toy")
            .map(|m| m.id.to_string())
            .collect();
        assert_eq!(objects, ["ConfigMap toy/toy"]);
        let cm = b
            .manifests
            .iter()
            .find(|m| m.id.kind == "ConfigMap" && m.id.name == "toy")
            .unwrap();
        assert_eq!(
            cm.value["metadata"]["labels"]["app.kubernetes.io/component"],
            "toy"
        );
    }

    #[test]
    fn sources_without_a_site_toml_are_no_site_not_a_missing_field() {
        let err = build(&Sources::new(), &store()).unwrap_err();
        assert_eq!(codes(&err), [diag::NO_SITE]);
    }

    #[test]
    fn the_release_is_checked_against_the_store_before_anything_renders() {
        let s = reference_sources(false);
        let text = s.get(s.find("site.toml").unwrap()).unwrap().text.replacen(
            "kubernetes_version = \"1.36\"",
            "kubernetes_version = \"1.38\"",
            1,
        );
        let mut other = Sources::new();
        other.add("site.toml", text);
        for (_, f) in s.files().skip(1) {
            other.add(f.path.clone(), f.text.clone());
        }
        let err = build(&other, &SchemaStore::embedded().unwrap()).unwrap_err();
        // Both wrong at once, both reported: no schemas, and Flux and Rook stop at 1.36.
        assert_eq!(
            codes(&err),
            [
                diag::KUBERNETES_VERSION,
                diag::KUBERNETES_SUPPORT,
                diag::KUBERNETES_SUPPORT
            ]
        );
        let d = err.iter().next().unwrap();
        assert_eq!(
            d.message,
            "no schemas for Kubernetes 1.38: the schemas cover 1.33 to 1.37 in the embedded catalog"
        );
        assert_eq!(d.location(&other).map(|l| (l.1, l.2)), Some((15, 22)));
        // The shared schemas cover 1.38 no more than the catalog, but 1.27 they do: with them
        // the release passes this check and what remains is that Flux and Rook do not run
        // on it (CB090), which no schema folder changes.
        let text = other
            .get(other.find("site.toml").unwrap())
            .unwrap()
            .text
            .replacen("1.38", "1.27", 1);
        let mut old = Sources::new();
        old.add("site.toml", text);
        for (_, f) in s.files().skip(1) {
            old.add(f.path.clone(), f.text.clone());
        }
        let embedded = build(&old, &SchemaStore::embedded().unwrap()).unwrap_err();
        assert_eq!(codes(&embedded)[0], diag::KUBERNETES_VERSION);
        let shared = build(&old, &store()).unwrap_err();
        assert!(!codes(&shared).is_empty());
        assert!(
            codes(&shared)
                .iter()
                .all(|c| *c == diag::KUBERNETES_SUPPORT),
            "{:?}",
            codes(&shared)
        );
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
            "kubernetes_version = \"1.36\"",
            "kubernetes_version = \"1.36\"\nallowed_kinds = [\"example.org/v1/Gizmo\"]",
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

    #[test]
    fn a_custom_kind_its_component_does_not_declare_is_a_broken_reference() {
        // CVMFS's unit does not wait for Traefik: an IngressRoute there would be applied
        // before its CRD exists.
        let mut s = reference_sources(false);
        s.templates.push((
            "cvmfs/route.yaml.j2".into(),
            "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: r\n  namespace: cvmfs\nspec:\n  routes:\n    - kind: Rule\n      match: Host(`c.example.org`)\n      services:\n        - name: s\n          port: 80\n".into(),
        ));
        let err = build(&s, &store()).unwrap_err();
        let msgs: Vec<_> = err.iter().map(|d| (d.code, d.message.clone())).collect();
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert_eq!(msgs[0].0, diag::BROKEN_REFERENCE);
        assert!(
            msgs[0]
                .1
                .contains("IngressRoute.traefik.io cvmfs/r (unit cvmfs) is a kind of traefik.io")
                && msgs[0].1.contains("does not depend on traefik"),
            "{}",
            msgs[0].1
        );
    }

    fn health_kinds(b: &Build, unit: &str) -> Vec<String> {
        let k = b
            .manifests
            .iter()
            .find(|m| m.id.kind == "Kustomization" && m.id.name == unit)
            .unwrap_or_else(|| panic!("no Kustomization {unit}"));
        k.value
            .pointer("/spec/healthCheckExprs")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .map(|e| e["kind"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn each_unit_health_checks_the_custom_kinds_it_holds() {
        let b = build(&reference_sources(false), &store()).unwrap();
        assert_eq!(
            health_kinds(&b, "rook-ceph-cluster"),
            [
                "SealedSecret",
                "CephCluster",
                "CephBlockPool",
                "CephFilesystem",
                "CephObjectStore",
                "CephObjectStoreUser"
            ]
        );
        assert_eq!(
            health_kinds(&b, "triton"),
            ["SealedSecret", "ObjectBucketClaim"]
        );
        assert!(health_kinds(&b, "cvmfs").is_empty());
        let rook = b
            .manifests
            .iter()
            .find(|m| m.id.kind == "Kustomization" && m.id.name == "rook-ceph-cluster")
            .unwrap();
        assert_eq!(rook.value["spec"]["timeout"], "60m");
        assert_eq!(
            rook.value["spec"]["healthCheckExprs"][1]["current"],
            "status.phase == 'Ready' && status.ceph.health in ['HEALTH_OK', 'HEALTH_WARN']"
        );
    }

    /// A second Traefik release as the chart's own examples would write it (ACME on the
    /// volume) but without the fsGroup and the Recreate strategy: CB094 and CB095.
    const BARE_ACME_TRAEFIK: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: traefik-lab\n  namespace: traefik\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: traefik\n      version: \"41.3.0\"\n      sourceRef:\n        kind: HelmRepository\n        name: traefik\n        namespace: flux-system\n  values:\n    persistence:\n      enabled: true\n    certificatesResolvers:\n      le:\n        acme:\n          email: a@example.org\n          storage: /data/acme.json\n          tlsChallenge: true\n";

    #[test]
    fn acme_on_a_volume_without_fs_group_or_recreate_is_refused() {
        // The reference site's own Traefik passes both rules (every build above succeeds).
        let mut s = reference_sources(false);
        s.templates
            .push(("traefik/lab.yaml.j2".into(), BARE_ACME_TRAEFIK.into()));
        let err = build(&s, &store()).unwrap_err();
        let mut got: Vec<_> = err.iter().map(|d| d.code).collect();
        got.sort();
        assert_eq!(
            got,
            [diag::RWO_ROLLING_UPDATE, diag::ACME_STORAGE_UNWRITABLE]
        );
        assert!(err.iter().all(|d| {
            d.message
                .contains("HelmRelease.helm.toolkit.fluxcd.io traefik/traefik-lab")
        }));
    }

    #[test]
    fn a_bucket_claim_key_the_operator_does_not_allow_is_refused() {
        let mut s = reference_sources(false);
        s.templates.push((
            "triton/policy.yaml.j2".into(),
            "apiVersion: objectbucket.io/v1alpha1\nkind: ObjectBucketClaim\nmetadata:\n  name: scratch\n  namespace: triton\nspec:\n  bucketName: scratch\n  storageClassName: rook-ceph-bucket\n  additionalConfig:\n    bucketPolicy: \"{}\"\n".into(),
        ));
        let err = build(&s, &store()).unwrap_err();
        assert_eq!(codes(&err), [diag::OBC_CONFIG_NOT_ALLOWED]);
        assert!(
            err.iter()
                .next()
                .unwrap()
                .message
                .contains("`bucketPolicy`")
        );
    }

    #[test]
    fn the_pod_pool_goes_to_the_installation_and_another_pool_to_flux() {
        let mut s = reference_sources(false);
        let id = s.find("site.toml").unwrap();
        let text = s.get(id).unwrap().text.replacen(
            "[calico.bgp]",
            "[[calico.ip_pool]]\nname = \"batch\"\ncidr = \"10.250.0.0/16\"\nblock_size = 26\nencapsulation = \"VXLAN\"\nnat_outgoing = false\n\n[calico.bgp]",
            1,
        );
        let mut edited = Sources::new();
        edited.add("site.toml", text);
        for (_, f) in s.files().skip(1) {
            edited.add(f.path.clone(), f.text.clone());
        }
        edited.templates = std::mem::take(&mut s.templates);
        let b = build(&edited, &store()).unwrap();
        let pools: Vec<&Manifest> = b
            .manifests
            .iter()
            .filter(|m| m.id.kind == "IPPool")
            .collect();
        assert_eq!(
            pools.len(),
            1,
            "only the pool outside the pod CIDR is Flux's"
        );
        let spec = &pools[0].value["spec"];
        assert_eq!(spec["cidr"], "10.250.0.0/16");
        assert_eq!(spec["vxlanMode"], "Always");
        assert_eq!(spec["ipipMode"], "Never");
        assert_eq!(spec["natOutgoing"], false);
        let notes = String::from_utf8(b.tree.files["BOOTSTRAP.md"].clone()).unwrap();
        assert!(notes.contains("cidr: 10.244.0.0/16") && !notes.contains("10.250.0.0/16"));
    }
}
