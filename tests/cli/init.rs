//! `casa-build init DIR`: a new site from flags (stdin is not a terminal in tests, so no
//! question is asked): it checks and builds at once, its `#:schema` lines resolve, its
//! example instance is one seal away from a valid instance; bad answers are exit 2, a folder
//! that is not empty exit 3.

use std::path::Path;

use crate::support::{Cli, path, read, tempdir};

fn init(dir: &Path, extra: &[&str]) -> Cli {
    Cli::new()
        .arg("init")
        .arg(dir)
        .args([
            "--name",
            "physics-af",
            "--domain",
            "af.example.org",
            "--repository",
            "https://git.example.org/af/flux-config.git",
            "--cert",
        ])
        .arg(path("examples/small-site/kubeseal-testbed.pem"))
        .arg("--schemas")
        .arg(path("../shared/schemas"))
        .args(extra)
}

/// Every `#:schema` line of the site's TOML files names a file that exists.
fn schema_lines_resolve(dir: &Path) {
    let mut files = vec![dir.join("site.toml")];
    for e in std::fs::read_dir(dir.join("instances")).unwrap() {
        files.push(e.unwrap().path());
    }
    for f in files {
        let text = read(&f);
        let target = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("#:schema "))
            .unwrap_or_else(|| panic!("{} has no #:schema line", f.display()));
        let resolved = f.parent().unwrap().join(target);
        assert!(
            resolved.is_file(),
            "{}: {} does not resolve",
            f.display(),
            target
        );
        let schema: serde_json::Value = serde_json::from_str(&read(&resolved)).unwrap();
        assert!(schema.get("properties").is_some(), "{}", resolved.display());
    }
}

#[test]
fn a_new_site_checks_and_builds_at_once() {
    let tmp = tempdir();
    let dir = tmp.path().join("af");
    init(
        &dir,
        &[
            "--components",
            "traefik,dex,cvmfs",
            "--lb-pool",
            "10.40.0.240/28",
        ],
    )
    .code(0)
    .stdout_has("created the site physics-af")
    .stdout_has("site physics-af (af.example.org): valid")
    .stdout_has("wrote")
    .run();
    for f in [
        "site.toml",
        "README.md",
        "kubeseal.pem",
        ".github/workflows/casa-build.yml",
        "instances/hub.toml.example",
        "out/clusters/physics-af/kustomization.yaml",
        "out/traefik/helmrelease-traefik.yaml",
        "out/metallb-config/ipaddresspool-lan.yaml",
        "out/dex/helmrelease-dex.yaml",
        "out/cvmfs/helmrelease-cvmfs-csi.yaml",
    ] {
        assert!(dir.join(f).is_file(), "no {f}");
    }
    let site = read(&dir.join("site.toml"));
    assert!(site.contains("lb_ip = \"10.40.0.241\""), "{site}");
    schema_lines_resolve(&dir);
    let workflow = read(&dir.join(".github/workflows/casa-build.yml"));
    assert!(workflow.contains("casa-build build --check"), "{workflow}");
    // The committed tree is what the sources build.
    Cli::new()
        .args(["build", "--check", "--schemas"])
        .arg(path("../shared/schemas"))
        .arg("--site")
        .arg(&dir)
        .code(0)
        .stdout_has("is up to date")
        .run();
}

#[test]
fn the_example_instance_is_valid_once_named_and_sealed() {
    let tmp = tempdir();
    let dir = tmp.path().join("tenant");
    init(
        &dir,
        &[
            "--tenant",
            "af-hub",
            "--components",
            "ingress-nginx",
            "--storage-class",
            "standard",
        ],
    )
    .code(0)
    .run();
    let site = read(&dir.join("site.toml"));
    assert!(site.contains("[tenant]\nnamespace = \"af-hub\""), "{site}");
    assert!(!site.contains("[charts.sealed-secrets]"), "{site}");
    std::fs::copy(
        dir.join("instances/hub.toml.example"),
        dir.join("instances/hub.toml"),
    )
    .unwrap();
    Cli::new()
        .args(["seal", "instances/hub.toml#auth.client_secret", "--site"])
        .arg(&dir)
        .stdin("a client secret")
        .code(0)
        .run();
    schema_lines_resolve(&dir);
    Cli::new()
        .args(["build", "--schemas"])
        .arg(path("../shared/schemas"))
        .arg("--site")
        .arg(&dir)
        .code(0)
        .stdout_has("wrote")
        .run();
    assert!(
        dir.join("out/instances/hub/ingress-jupyterhub.yaml")
            .is_file()
    );
}

#[test]
fn missing_and_bad_answers_are_listed_and_nothing_is_written() {
    let tmp = tempdir();
    let dir = tmp.path().join("bad");
    Cli::new()
        .arg("init")
        .arg(&dir)
        .args(["--domain", "localhost", "--components", "traefik"])
        .code(2)
        .stderr_has("no site name: pass --name")
        .stderr_has("--domain: `localhost` is not a fully qualified host name")
        .stderr_has("no LoadBalancer pool: pass --lb-pool")
        .stderr_has("no sealing certificate: pass --cert PEM")
        .run();
    assert!(!dir.exists());
    init(
        &dir,
        &[
            "--tenant",
            "af",
            "--components",
            "metallb",
            "--lb-pool",
            "10.0.0.0/28",
        ],
    )
    .code(2)
    .stderr_has("a tenant runs no cluster-wide component")
    .run();
    assert!(!dir.exists());
}

#[test]
fn a_folder_that_is_not_empty_is_refused() {
    let tmp = tempdir();
    std::fs::write(tmp.path().join("keep"), "mine").unwrap();
    init(tmp.path(), &[])
        .code(3)
        .stderr_has("exists and is not empty")
        .run();
    assert_eq!(read(&tmp.path().join("keep")), "mine");
    assert!(!tmp.path().join("site.toml").exists());
}
