//! The embedded schema catalog and the user's schema locations: what the templates emit is
//! declared and carried, builds with the catalog alone match builds with the shared schemas,
//! every release 1.33 to 1.37 needs no schema folder (those the pinned components run on build,
//! the others fail on that alone), `check` and `build` accept and refuse the same releases,
//! and `--schemas` > `CASA_SCHEMAS` > `[site] schemas` > the catalog, file by file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use casa_build::check::emitted::{
    self, CATALOG_RELEASES, Kind, SEALED_SECRET, SEALED_SECRETS_COMPONENT,
};
use casa_build::check::{Lookup, Origin, SchemaLocation, SchemaStore};
use casa_build::manifest::Manifest;
use casa_build::sources::Sources;
use serde_json::Value;

use crate::diff_git::GitSite;
use crate::support::{Cli, SMALL_SITE, copy_dir, path, read, tempdir};
use crate::synthetic::{Shape, files};

fn shared() -> PathBuf {
    path("../shared/schemas")
}

/// The objects of the reference site, the small site and two synthetic sites (GPUs, Triton,
/// many instances), rendered by the library.
fn rendered() -> Vec<Manifest> {
    let mut all = Vec::new();
    // The reference site, and every example site.
    let mut sites = vec![Sources::from_dir(&path(".")).expect("the reference site")];
    for entry in std::fs::read_dir(path("examples")).expect("examples/") {
        let dir = entry.expect("an entry").path();
        if dir.join("site.toml").is_file() {
            sites.push(Sources::from_dir(&dir).expect("an example site"));
        }
    }
    assert!(sites.len() >= 4, "the reference site and three examples");
    for shape in [
        Shape {
            nodes: 12,
            instances: 4,
            nvme: 10,
            gpu_nodes: 2,
        },
        Shape {
            nodes: 7,
            instances: 0,
            nvme: 1,
            gpu_nodes: 0,
        },
    ] {
        let mut s = Sources::new();
        for (p, text) in files(shape) {
            if p.ends_with(".toml") {
                s.add(p, text);
            }
        }
        sites.push(s);
    }
    for sources in sites {
        let (site, diags) = casa_build::site::load(&sources);
        let site = site.unwrap_or_else(|| panic!("loads: {diags:?}"));
        all.extend(casa_build::render::render(&site, &sources).expect("renders"));
    }
    all
}

/// The component a manifest comes from: its template folder, or the sealed-secrets
/// component for the SealedSecrets render builds.
fn component(m: &Manifest) -> &str {
    if m.template == "(sealed secrets)" {
        SEALED_SECRETS_COMPONENT
    } else {
        m.template.split('/').next().expect("a template folder")
    }
}

/// (apiVersion, kind) pairs written literally at the top level of a template's documents.
fn literal_kinds(text: &str, file: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut api_version = None;
    for line in text.lines() {
        if line.starts_with("---") {
            api_version = None;
        } else if let Some(v) = line.strip_prefix("apiVersion: ") {
            assert!(
                !v.contains("{{"),
                "{file}: a computed apiVersion: declare it by hand"
            );
            api_version = Some(v.trim().to_owned());
        } else if let Some(k) = line.strip_prefix("kind: ") {
            assert!(
                !k.contains("{{"),
                "{file}: a computed kind: declare it by hand"
            );
            let v = api_version
                .take()
                .unwrap_or_else(|| panic!("{file}: kind {k} before apiVersion"));
            found.push((v, k.trim().to_owned()));
        }
    }
    found
}

/// Each component's kinds as its templates write them, directly or through a macro of
/// `templates/common/macros.j2`.
fn template_kinds() -> BTreeMap<String, BTreeSet<(String, String)>> {
    let macros_text = read(&path("templates/common/macros.j2"));
    let mut macros = BTreeMap::new();
    for part in macros_text.split("{% macro ").skip(1) {
        let name = part
            .split('(')
            .next()
            .expect("a macro name")
            .trim()
            .to_owned();
        let body = part.split("endmacro").next().expect("a macro body");
        macros.insert(name, literal_kinds(body, "common/macros.j2"));
    }
    let mut out: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for entry in std::fs::read_dir(path("templates")).expect("templates/") {
        let dir = entry.expect("an entry").path();
        let name = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        if !dir.is_dir() || name == "common" {
            continue;
        }
        let kinds = out.entry(name.clone()).or_default();
        for file in std::fs::read_dir(&dir).expect("a template folder") {
            let file = file.expect("an entry").path();
            let text = read(&file);
            let shown = format!(
                "{name}/{}",
                file.file_name().expect("a name").to_string_lossy()
            );
            kinds.extend(literal_kinds(&text, &shown));
            for (macro_name, emitted) in &macros {
                if text.contains(&format!(".{macro_name}(")) {
                    kinds.extend(emitted.iter().cloned());
                }
            }
        }
    }
    out
}

fn pair(k: &Kind) -> (String, String) {
    (k.api_version.to_owned(), k.kind.to_owned())
}

#[test]
fn every_kind_a_template_emits_is_declared_and_every_declared_kind_is_emitted() {
    let mut found = template_kinds();
    let mut charts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in rendered() {
        let c = component(&m).to_owned();
        found
            .entry(c.clone())
            .or_default()
            .insert((m.api_version().to_owned(), m.id.kind.clone()));
        if m.id.kind == "HelmRelease" {
            let chart = m
                .value
                .pointer("/spec/chart/spec/chart")
                .and_then(Value::as_str);
            charts
                .entry(c)
                .or_default()
                .insert(chart.expect("a chart").to_owned());
        }
    }
    for (c, kinds) in &found {
        let declared = emitted::of(c).unwrap_or_else(|| panic!("{c} is not in EMITTED"));
        let listed: BTreeSet<_> = declared.kinds.iter().map(pair).collect();
        assert_eq!(
            kinds, &listed,
            "{c}: what its templates emit (left) differs from src/check/emitted.rs (right); \
             update the table, then regenerate the catalog: \
             cargo run --release --example catalog -- ../shared/schemas"
        );
        // Every chart a rendered HelmRelease installs is listed; every listed chart is one
        // the component's templates name (no example site runs every component).
        let listed: BTreeSet<String> = declared.charts.iter().map(|s| (*s).to_owned()).collect();
        let rendered = charts.get(c).cloned().unwrap_or_default();
        assert!(
            rendered.is_subset(&listed),
            "{c}: its HelmReleases install {rendered:?}, the table lists {listed:?}"
        );
        let texts: String = std::fs::read_dir(path("templates").join(c))
            .map(|d| d.filter_map(Result::ok).map(|e| read(&e.path())).collect())
            .unwrap_or_default();
        for chart in &listed {
            assert!(
                texts.contains(&format!("\"{chart}\"")),
                "{c}: the table lists the chart {chart}, which no template of it names"
            );
        }
    }
    assert!(found[SEALED_SECRETS_COMPONENT].contains(&pair(&SEALED_SECRET)));
}

#[test]
fn every_declared_kind_has_an_embedded_schema_for_every_release() {
    let store = SchemaStore::embedded().expect("the catalog opens");
    for release in CATALOG_RELEASES {
        for kind in emitted::all_kinds() {
            let found = store
                .schema_file(release, kind.api_version, kind.kind)
                .expect("a lookup");
            // A kind the shared tree has no schema for is not carried: the site allows it
            // or adds the schema (`casa_build::kinds::WITHOUT_SCHEMA` says where it is).
            if casa_build::kinds::without_schema(kind.api_version, kind.kind).is_some() {
                assert!(found.is_none(), "{} {}", kind.api_version, kind.kind);
                continue;
            }
            let (shown, _) = found.unwrap_or_else(|| {
                panic!(
                    "{} {} has no schema for {release} in the catalog",
                    kind.api_version, kind.kind
                )
            });
            assert!(shown.starts_with("(embedded catalog)/"), "{shown}");
        }
    }
}

#[test]
fn the_catalog_checks_every_object_and_release_values_as_the_shared_schemas_do() {
    let embedded = SchemaStore::embedded().expect("the catalog opens");
    let shared = SchemaStore::folders_only(&[SchemaLocation {
        dir: shared(),
        origin: Origin::Flag,
    }])
    .expect("the shared schemas open");
    let release = CATALOG_RELEASES[0];
    for m in rendered() {
        match (
            embedded.validate(release, &m.value),
            shared.validate(release, &m.value),
        ) {
            (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{}", m.id),
            (Err(Lookup::NoSchema { .. }), Err(Lookup::NoSchema { .. })) => {
                assert!(
                    casa_build::kinds::without_schema(m.api_version(), &m.id.kind).is_some(),
                    "{}",
                    m.id
                );
            }
            (ours, theirs) => panic!("{}: {ours:?} / {theirs:?}", m.id),
        }
        if m.id.kind == "HelmRelease" {
            let spec = &m.value["spec"]["chart"]["spec"];
            let (chart, version) = (
                spec["chart"].as_str().expect("chart"),
                spec["version"].as_str().expect("version"),
            );
            let values = m
                .value
                .pointer("/spec/values")
                .cloned()
                .unwrap_or(Value::Null);
            let ours = embedded.validate_chart_values(chart, version, &values);
            let theirs = shared.validate_chart_values(chart, version, &values);
            match (ours, theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{chart} {version}"),
                // The charts that ship no values schema: the catalog leaves them out, and the
                // shared folder has only their defaults; neither checks anything.
                (Err(Lookup::NoChart { .. }), Ok(b)) => assert_eq!(b, [], "{chart}"),
                // Neither knows the chart (gpu-operator, cilium, ingress-nginx).
                (Err(Lookup::NoChart { .. }), Err(Lookup::NoChart { .. })) => {}
                (a, b) => panic!("{chart} {version}: {a:?} / {b:?}"),
            }
        }
    }
}

/// Every file under `dir`, relative path -> text.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("a folder") {
            let p = e.expect("an entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, read(&p));
            }
        }
    }
    out
}

#[test]
fn both_sites_build_the_same_tree_from_the_catalog_alone_as_from_the_shared_schemas() {
    for site in [None, Some(SMALL_SITE)] {
        let run = |schemas: bool| {
            let mut cli = Cli::new().arg("build");
            if schemas {
                cli = cli.arg("--schemas").arg(shared());
            }
            let cli = match site {
                Some(s) => cli.site(s),
                None => cli.reference_site(),
            };
            cli.code(0).stdout_has("wrote").run()
        };
        let embedded = run(false);
        let with_shared = run(true);
        assert_eq!(
            tree(&embedded.site_dir().join("out")),
            tree(&with_shared.site_dir().join("out")),
            "{site:?}"
        );
    }
}

fn set_version(site: &Path, version: &str) {
    let file = site.join("site.toml");
    let text = read(&file);
    assert!(text.contains("kubernetes_version = \"1.36\""));
    let text = text.replacen(
        "kubernetes_version = \"1.36\"",
        &format!("kubernetes_version = \"{version}\""),
        1,
    );
    std::fs::write(file, text).expect("edit site.toml");
}

/// Refused for the components (CB090), never for want of schemas (CB006).
fn refused_for_the_components_only(cli: Cli) {
    let run = cli.code(2).stderr_has("error[CB090]").run();
    assert!(!run.stderr.contains("CB006"), "{}", run.stderr);
}

#[test]
fn sites_on_every_release_from_1_33_to_1_37_check_and_build_with_no_schema_folder() {
    // Flux 2.9 runs on 1.34.1 to 1.36 (CB090): those build from the catalog alone.
    for version in ["1.34.1", "1.35", "1.36", "1.36.2"] {
        let check = Cli::new().arg("check").site(SMALL_SITE);
        set_version(check.site_dir(), version);
        check.code(0).stdout_has("valid").run();
        let build = Cli::new().arg("build").site(SMALL_SITE);
        set_version(build.site_dir(), version);
        let run = build.code(0).stdout_has("wrote").run();
        assert!(run.site_dir().join("out/clusters/physics-testbed").is_dir());
    }
    // The catalog covers the rest too: what refuses them is the components' range alone.
    for version in ["1.33", "1.34", "1.37"] {
        for command in ["check", "build"] {
            let cli = Cli::new().arg(command).site(SMALL_SITE).site_unchanged();
            set_version(cli.site_dir(), version);
            refused_for_the_components_only(cli);
        }
    }
}

#[test]
fn check_and_build_refuse_the_same_releases_and_name_the_range() {
    for version in ["1.32", "1.38", "2.0"] {
        for command in [&["check"][..], &["build"], &["build", "--check"]] {
            let cli = Cli::new().args(command).site(SMALL_SITE).site_unchanged();
            set_version(cli.site_dir(), version);
            let release = version.split('.').take(2).collect::<Vec<_>>().join(".");
            cli.code(2)
                .stderr_has("error[CB006]")
                .stderr_has(format!("no schemas for Kubernetes {release}"))
                .stderr_has("the schemas cover 1.33 to 1.37 in the embedded catalog")
                .stderr_has("site.toml:15:22")
                .run();
        }
    }
}

/// A schema folder holding Kubernetes 1.38: the shared 1.37 built-ins under 1.38's name.
fn schemas_for_1_38() -> tempfile::TempDir {
    let dir = tempdir();
    copy_dir(
        &shared().join("k8s/v1.37.0-standalone-strict"),
        &dir.path().join("k8s/v1.38.0-standalone-strict"),
    );
    dir
}

#[test]
fn a_user_folder_with_another_release_makes_check_and_build_accept_it_from_any_origin() {
    let extra = schemas_for_1_38();
    // --schemas, CASA_SCHEMAS, and [site] schemas (relative to the site folder).
    for origin in ["flag", "env", "site"] {
        for command in ["check", "build"] {
            let mut cli = Cli::new().arg(command);
            cli = match origin {
                "flag" => cli.arg("--schemas").arg(extra.path()),
                "env" => cli.env("CASA_SCHEMAS", extra.path()),
                _ => cli,
            };
            let cli = cli.site(SMALL_SITE);
            set_version(cli.site_dir(), "1.38");
            if origin == "site" {
                copy_dir(extra.path(), &cli.site_dir().join("more-schemas"));
                let file = cli.site_dir().join("site.toml");
                let text = read(&file).replacen(
                    "kubernetes_version = \"1.38\"",
                    "kubernetes_version = \"1.38\"\nschemas = \"more-schemas\"",
                    1,
                );
                std::fs::write(file, text).expect("edit site.toml");
            }
            // The folder covers 1.38, so no CB006; Flux and Rook stop at 1.36 all the same.
            refused_for_the_components_only(cli);
        }
    }
    // The release the folder adds is named when another is refused.
    let cli = Cli::new()
        .arg("check")
        .env("CASA_SCHEMAS", extra.path())
        .site(SMALL_SITE);
    set_version(cli.site_dir(), "1.39");
    cli.code(2)
        .stderr_has("the schemas cover 1.38 in ")
        .stderr_has("(from CASA_SCHEMAS); 1.33 to 1.37 in the embedded catalog")
        .run();
}

/// A schema folder whose Namespace schema for 1.36 requires a property named `marker`, so a
/// build that uses it fails saying so.
fn marking_schemas(marker: &str) -> tempfile::TempDir {
    let dir = tempdir();
    let k8s = dir.path().join("k8s/v1.36.0-standalone-strict");
    std::fs::create_dir_all(&k8s).expect("mkdir");
    std::fs::write(
        k8s.join("namespace-v1.json"),
        format!(r#"{{"type": "object", "required": ["{marker}"]}}"#),
    )
    .expect("write a schema");
    dir
}

#[test]
fn schema_locations_take_precedence_flag_then_environment_then_site_file_then_catalog() {
    let flag = marking_schemas("from-the-flag");
    let env = marking_schemas("from-the-environment");
    let run = |use_flag: bool, use_env: bool, use_site: bool| {
        let mut cli = Cli::new().arg("build");
        if use_flag {
            cli = cli.arg("--schemas").arg(flag.path());
        }
        if use_env {
            cli = cli.env("CASA_SCHEMAS", env.path());
        }
        let cli = cli.site(SMALL_SITE);
        if use_site {
            let site_schemas = marking_schemas("from-the-site-file");
            copy_dir(site_schemas.path(), &cli.site_dir().join("schemas-here"));
            let file = cli.site_dir().join("site.toml");
            let text = read(&file).replacen(
                "kubernetes_version = \"1.36\"",
                "kubernetes_version = \"1.36\"\nschemas = \"schemas-here\"",
                1,
            );
            std::fs::write(file, text).expect("edit site.toml");
        }
        cli.run()
    };
    let winner = |r: &crate::support::Run| {
        [
            "from-the-flag",
            "from-the-environment",
            "from-the-site-file",
        ]
        .into_iter()
        .find(|m| {
            r.stderr
                .contains(&format!("\"{m}\" is a required property"))
        })
    };
    let all = run(true, true, true);
    assert_eq!(
        (all.code, winner(&all)),
        (2, Some("from-the-flag")),
        "{}",
        all.stderr
    );
    let no_flag = run(false, true, true);
    assert_eq!(
        (no_flag.code, winner(&no_flag)),
        (2, Some("from-the-environment"))
    );
    let site_only = run(false, false, true);
    assert_eq!(
        (site_only.code, winner(&site_only)),
        (2, Some("from-the-site-file"))
    );
    let none = run(false, false, false);
    assert_eq!((none.code, winner(&none)), (0, None), "{}", none.stderr);
}

#[test]
fn a_user_folder_adds_the_schema_of_a_kind_a_site_template_emits() {
    let gizmo = b"apiVersion: example.org/v1\nkind: Gizmo\nmetadata:\n  name: g\n  namespace: dex\nspec:\n  size: 3\n";
    let with_template = |cli: Cli| {
        let dir = cli.site_dir().join("templates/dex");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("gizmo.yaml.j2"), gizmo).expect("write a template");
        cli
    };
    with_template(Cli::new().arg("build").site(SMALL_SITE))
        .code(2)
        .stderr_has("error[CB053]")
        .stderr_has("(embedded catalog)/crds/example.org/gizmo_v1.json")
        .run();
    let extra = tempdir();
    let crds = extra.path().join("crds/example.org");
    std::fs::create_dir_all(&crds).expect("mkdir");
    std::fs::write(
        crds.join("gizmo_v1.json"),
        r#"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer", "maximum": 2}}}}}"#,
    )
    .expect("write a schema");
    // The folder's schema is used: the Gizmo is checked, and its size is too big.
    with_template(
        Cli::new()
            .arg("build")
            .arg("--schemas")
            .arg(extra.path())
            .site(SMALL_SITE),
    )
    .code(2)
    .stderr_has("error[CB052]")
    .stderr_has("Gizmo.example.org dex/g")
    .stderr_has("/spec/size")
    .run();
}

#[test]
fn a_site_repository_with_nothing_beside_it_builds_diffs_and_commits_with_no_flag() {
    // The reference site alone in a git repository in a temporary folder: no ../shared, no
    // schema folder, no flag; commands run from the site folder and from instances/.
    let site = GitSite::reference();
    Cli::new()
        .arg("build")
        .in_dir(site.path())
        .code(0)
        .stdout_has("wrote ")
        .run();
    Cli::new()
        .args(["build", "--check"])
        .in_dir(site.path().join("instances"))
        .code(0)
        .stdout_has("is up to date")
        .run();
    site.commit_all("out/ as built");
    Cli::new()
        .args(["diff", "--base", "HEAD"])
        .in_dir(site.path())
        .code(0)
        .run();
    site.edit(
        "instances/cms-prod.toml",
        "limit = \"16Gi\"",
        "limit = \"32Gi\"",
    );
    Cli::new()
        .args(["diff", "--base", "HEAD"])
        .in_dir(site.path().join("instances"))
        .code(1)
        .stdout_has("changed")
        .run();
    // The edit and the out/ it builds, in one commit.
    Cli::new()
        .args(["commit", "-a"])
        .in_dir(site.path())
        .code(0)
        .stdout_has("committed")
        .stdout_has("with instances/cms-prod.toml")
        .run();
}
