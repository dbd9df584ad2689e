//! `casa-build diff --base REV`: real git repositories in temporary folders holding a copy of
//! the reference site, changed in the working tree or in later commits.

use std::path::{Path, PathBuf};

use git2::{IndexAddOption, Oid, Repository, Signature};
use tempfile::TempDir;

use crate::support::{Cli, Run, path, read, tempdir};

pub(crate) fn schemas() -> PathBuf {
    path("../shared/schemas")
}

/// A git repository whose work tree root is a copy of the reference site, committed once.
pub(crate) struct GitSite {
    dir: TempDir,
    repo: Repository,
}

impl GitSite {
    /// The reference site's files (templates are embedded, out/ is left out), committed.
    #[track_caller]
    pub(crate) fn reference() -> Self {
        Self::of(".", &["site.toml", "instances", "kubeseal-flatiron.pem"])
    }

    /// Another site of the repository (`examples/small-site`), committed.
    #[track_caller]
    pub(crate) fn reference_of(site: &str) -> Self {
        let names: Vec<String> = std::fs::read_dir(path(site))
            .expect("the site folder")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| n != "out")
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Self::of(site, &names)
    }

    #[track_caller]
    fn of(site: &str, names: &[&str]) -> Self {
        let dir = tempdir();
        for name in names {
            let from = path(site).join(name);
            let to = dir.path().join(name);
            if from.is_dir() {
                crate::support::copy_dir(&from, &to);
            } else {
                std::fs::copy(&from, &to).expect("copy a site file");
            }
        }
        let repo = Repository::init(dir.path()).expect("git init");
        // Tests must not depend on the machine's identity (CI runners have none).
        let mut config = repo.config().expect("git config");
        config
            .set_str("user.name", "Site Tests")
            .expect("set user.name");
        config
            .set_str("user.email", "site-tests@example.org")
            .expect("set user.email");
        let site = Self { dir, repo };
        site.commit_all("the reference site");
        site
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn repo(&self) -> &Repository {
        &self.repo
    }

    #[track_caller]
    pub(crate) fn read(&self, rel: &str) -> String {
        read(&self.path().join(rel))
    }

    #[track_caller]
    pub(crate) fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("create folders");
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }

    /// Replaces `from` (which must occur exactly once) by `to` in a file.
    #[track_caller]
    pub(crate) fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert_eq!(text.matches(from).count(), 1, "{from:?} in {rel}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    #[track_caller]
    pub(crate) fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path().join(rel)).expect("remove a file");
    }

    #[track_caller]
    pub(crate) fn stage(&self, rel: &str) {
        let mut index = self.repo.index().expect("index");
        index.add_path(Path::new(rel)).expect("stage");
        index.write().expect("write the index");
    }

    /// Stages every change of the work tree (additions, edits, removals) and commits it.
    #[track_caller]
    pub(crate) fn commit_all(&self, message: &str) -> Oid {
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .expect("add");
        index.update_all(["*"], None).expect("update");
        index.write().expect("write the index");
        let tree = self
            .repo
            .find_tree(index.write_tree().expect("write tree"))
            .expect("tree");
        let sig = Signature::now("Site Tests", "site-tests@example.org").expect("signature");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<_> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .expect("commit")
    }

    /// `casa-build diff --base <base> [args] --schemas ... --site <repo>`.
    pub(crate) fn diff(&self, base: &str, args: &[&str]) -> Cli {
        Cli::new()
            .args(["diff", "--base", base])
            .args(args)
            .arg("--schemas")
            .arg(schemas())
            .arg("--site")
            .arg(self.path())
    }

    /// Builds out/ in the work tree.
    #[track_caller]
    pub(crate) fn build(&self) {
        Cli::new()
            .args(["build", "--schemas"])
            .arg(schemas())
            .arg("--site")
            .arg(self.path())
            .code(0)
            .run();
    }
}

/// The first 40 characters of every sealed value in an instance file: none may be printed.
fn ciphertexts(text: &str) -> Vec<String> {
    text.split("sealed = \"")
        .skip(1)
        .map(|rest| rest.chars().take(40).collect())
        .collect()
}

#[track_caller]
fn entries(run: &Run) -> Vec<serde_json::Value> {
    let j = run.json();
    assert_eq!(j["schema_version"], 1, "{}", run.stdout);
    j["changes"]
        .as_array()
        .expect("a JSON array of changes")
        .clone()
}

#[test]
fn per_user_storage_changes_only_that_instances_helmrelease() {
    let site = GitSite::reference();
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    let run = site
        .diff("HEAD", &["--format", "json"])
        .code(1)
        .site_unchanged()
        .run();
    let e = entries(&run);
    assert_eq!(e.len(), 1, "{}", run.stdout);
    let c = &e[0];
    assert_eq!(c["group"], "helm.toolkit.fluxcd.io");
    assert_eq!(c["kind"], "HelmRelease");
    assert_eq!(c["namespace"], "cmsaf-prod");
    assert_eq!(c["name"], "jupyterhub");
    assert_eq!(c["status"], "changed");
    assert_eq!(c["layer"], "apps");
    assert_eq!(c["kustomization"], "instance-cms-prod");
    let diff = c["diff"].as_str().expect("diff text");
    assert!(
        diff.starts_with(
            "--- a/instances/cms-prod/helmrelease-jupyterhub.yaml\n+++ b/instances/cms-prod/helmrelease-jupyterhub.yaml\n@@ "
        ),
        "{diff}"
    );
    assert!(diff.contains("10Gi") && diff.contains("20Gi"), "{diff}");
    assert_eq!(
        diff.lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .count(),
        1,
        "{diff}"
    );

    let text = site
        .diff("HEAD", &[])
        .code(1)
        .stdout_has("-> head (working tree): 1 object change (1 changed)")
        .stdout_has("instance-cms-prod (apps): 1 changed\n  jupyterhub: 1 changed\n")
        .stdout_has("changed HelmRelease.helm.toolkit.fluxcd.io cmsaf-prod/jupyterhub")
        .run();
    assert!(text.stdout.starts_with("base (HEAD "), "{}", text.stdout);
    assert!(
        !text.stdout.contains("stale"),
        "no out/ committed: {}",
        text.stdout
    );
}

#[test]
fn no_change_exits_0() {
    let site = GitSite::reference();
    site.diff("HEAD", &[])
        .code(0)
        .stdout_has("no changes")
        .site_unchanged()
        .run();
    let json = site.diff("HEAD", &["--format", "json"]).code(0).run();
    assert_eq!(json.json()["changes"], serde_json::json!([]));
    assert_eq!(json.json()["findings"], serde_json::json!([]));
    assert_eq!(json.json()["schema_version"], 1);
    site.diff("HEAD", &["--format", "markdown"])
        .code(0)
        .stdout_has("No changes")
        .run();
}

#[test]
fn an_instance_added_and_one_removed() {
    let site = GitSite::reference();
    let cms_dev = site.read("instances/cms-dev.toml");
    site.remove("instances/cms-dev.toml");
    site.commit_all("without cms-dev");
    site.write("instances/cms-dev.toml", &cms_dev);
    site.remove("instances/opendata-dev.toml");
    let run = site.diff("HEAD", &["--format", "json"]).code(1).run();
    let e = entries(&run);
    let with = |status: &str, unit: &str| {
        e.iter()
            .filter(|c| c["status"] == status && c["kustomization"] == unit)
            .count()
    };
    assert!(with("added", "instance-cms-dev") > 3, "{}", run.stdout);
    assert!(
        with("removed", "instance-opendata-dev") > 3,
        "{}",
        run.stdout
    );
    assert_eq!(with("added", "instance-opendata-dev"), 0);
    assert_eq!(with("removed", "instance-cms-dev"), 0);
    // The Flux entry point gains one Kustomization and loses the other.
    let flux: Vec<_> = e
        .iter()
        .filter(|c| c["kind"] == "Kustomization")
        .map(|c| (c["status"].as_str().unwrap(), c["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        flux,
        [
            ("added", "instance-cms-dev"),
            ("removed", "instance-opendata-dev")
        ]
    );
    for c in &e {
        assert!(
            !c["diff"].as_str().unwrap().contains("AgA"),
            "{}",
            c["diff"]
        );
    }

    let text = site.diff("HEAD", &[]).code(1).run();
    assert!(
        text.stdout.contains("instance-cms-dev (apps): "),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("added Namespace cmsaf-dev"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("removed Namespace opendataaf-dev"),
        "{}",
        text.stdout
    );
}

#[test]
fn diff_between_two_revisions_ignores_the_work_tree() {
    let site = GitSite::reference();
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    site.commit_all("more storage");
    // A work-tree change that must not show.
    site.edit(
        "instances/cms-prod.toml",
        "max_workers = 200",
        "max_workers = 300",
    );
    let run = site
        .diff("HEAD~1", &["--head", "HEAD", "--format", "json"])
        .code(1)
        .run();
    let e = entries(&run);
    assert_eq!(e.len(), 1, "{}", run.stdout);
    let diff = e[0]["diff"].as_str().unwrap();
    assert!(diff.contains("20Gi") && !diff.contains("300"), "{diff}");
    site.diff("HEAD", &["--head", "HEAD"])
        .code(0)
        .stdout_has("no changes: base (HEAD ")
        .stdout_has("and head (HEAD ")
        .run();
}

#[test]
fn an_invalid_base_is_named_and_exits_2() {
    let site = GitSite::reference();
    let good = site.read("site.toml");
    site.write(
        "site.toml",
        &good.replacen("[site]", "[site]\nnot_a_field = 1", 1),
    );
    site.commit_all("broken");
    site.write("site.toml", &good);
    site.diff("HEAD", &[])
        .code(2)
        .stderr_has("error: the site at base (HEAD ")
        .stderr_has("is invalid")
        .stderr_has("site.toml")
        .run();
    site.diff("HEAD", &["--format", "markdown"])
        .code(2)
        .stdout_has("**The site at <code>base (HEAD ")
        .stdout_has("is invalid**")
        .run();
    // The other way round: the head is named.
    site.write(
        "site.toml",
        &good.replacen("[site]", "[site]\nnot_a_field = 1", 1),
    );
    site.diff("HEAD~1", &[])
        .code(2)
        .stderr_has("error: the site at head (working tree) is invalid")
        .run();
}

#[test]
fn git_trouble_exits_3() {
    let site = GitSite::reference();
    site.diff("no-such-branch", &[])
        .code(3)
        .stderr_has("unknown revision \"no-such-branch\"")
        .run();
    site.diff("HEAD~5", &[])
        .code(3)
        .stderr_has("unknown revision")
        .run();

    let plain = tempdir();
    crate::support::copy_dir(
        &site.path().join("instances"),
        &plain.path().join("instances"),
    );
    std::fs::copy(
        site.path().join("site.toml"),
        plain.path().join("site.toml"),
    )
    .unwrap();
    Cli::new()
        .args(["diff", "--base", "HEAD", "--schemas"])
        .arg(schemas())
        .arg("--site")
        .arg(plain.path())
        .code(3)
        .stderr_has("is not inside a git repository")
        .run();

    // A revision without the site.
    let empty_parent = GitSite::reference();
    empty_parent.remove("site.toml");
    empty_parent.commit_all("no site");
    empty_parent.write("site.toml", &site.read("site.toml"));
    empty_parent
        .diff("HEAD", &[])
        .code(3)
        .stderr_has("revision HEAD has no site.toml")
        .run();
}

#[test]
fn resealed_values_are_masked() {
    let site = GitSite::reference();
    let before = site.read("instances/cms-prod.toml");
    Cli::new()
        .args(["seal", "--site"])
        .arg(site.path())
        .arg("instances/cms-prod.toml#auth.client_secret")
        .stdin("newvalue")
        .code(0)
        .run();
    let after = site.read("instances/cms-prod.toml");
    assert_ne!(before, after);
    let mut cli = site.diff("HEAD", &[]).code(1).never_prints("newvalue");
    for c in ciphertexts(&before).into_iter().chain(ciphertexts(&after)) {
        cli = cli.never_prints(c);
    }
    let run = cli
        .stdout_has("changed SealedSecret.bitnami.com cmsaf-prod/hub-oauth")
        .stdout_has("-    OAUTH_CLIENT_SECRET: (sealed value)\n+    OAUTH_CLIENT_SECRET: (sealed value changed)\n")
        .run();
    assert_eq!(
        run.stdout.matches("\nchanged ").count(),
        1,
        "{}",
        run.stdout
    );

    for format in ["json", "markdown"] {
        let mut cli = site
            .diff("HEAD", &["--format", format])
            .code(1)
            .never_prints("newvalue");
        for c in ciphertexts(&after) {
            cli = cli.never_prints(c);
        }
        cli.stdout_has("(sealed value changed)").run();
    }
}

#[test]
fn a_stale_out_is_reported_without_changing_the_exit_code() {
    let site = GitSite::reference();
    site.build();
    site.commit_all("with out/");
    site.diff("HEAD", &[]).code(0).run();
    assert!(!site.diff("HEAD", &[]).run().stdout.contains("stale"));

    // Sources change, out/ not rebuilt: a change, and out/ is stale by one file.
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    site.diff("HEAD", &[])
        .code(1)
        .stdout_has("out/ is stale: 1 file differs; run casa-build build")
        .run();
    site.diff("HEAD", &["--format", "markdown"])
        .code(1)
        .stdout_has("out/ is stale: 1 file differs; run `casa-build build`")
        .run();
    let json = site
        .diff("HEAD", &["-o", "json"])
        .code(1)
        .stderr_has("out/ is stale: 1 file differs")
        .run();
    assert!(
        json.json()["stale"]["message"]
            .as_str()
            .is_some_and(|s| s.starts_with("out/ is stale: 1 file differs")),
        "{}",
        json.stdout
    );

    // Committed like that, the head revision's own out/ is what is checked.
    site.commit_all("sources only");
    site.diff("HEAD~1", &["--head", "HEAD"])
        .code(1)
        .stdout_has("out/ is stale: 1 file differs")
        .run();
    // Rebuilt: nothing stale, and no object changed against HEAD.
    site.build();
    let run = site
        .diff("HEAD", &[])
        .code(0)
        .stdout_has("no changes")
        .run();
    assert!(!run.stdout.contains("stale"), "{}", run.stdout);
}

#[test]
fn markdown_is_capped_and_the_full_report_goes_to_output() {
    let site = GitSite::reference();
    // Every object carries the site name (labels, the Flux source), so renaming the site
    // changes all of them: a report well over the cap.
    site.edit(
        "site.toml",
        "name = \"flatiron\"",
        "name = \"flatiron-two\"",
    );
    for i in ["cms-prod", "cms-dev", "opendata-prod", "opendata-dev"] {
        let rel = format!("instances/{i}.toml");
        let text = site.read(&rel);
        site.write(&rel, &text.replace("size = \"10Gi\"", "size = \"11Gi\""));
    }
    let out = tempdir();
    let full_path = out.path().join("diff.md");
    let full_arg = full_path.to_str().expect("a UTF-8 temporary path");
    let run = site
        .diff("HEAD", &["-o", "markdown", "--out-file", full_arg])
        .code(1)
        .run();
    let full = read(&full_path);
    let shown = run.stdout.chars().count();
    assert!(shown <= 60_000, "{shown}");
    if full.chars().count() > 60_000 {
        assert!(
            run.stdout.contains("**Not shown**"),
            "{}",
            &run.stdout[run.stdout.len() - 2000..]
        );
        assert!(run.stdout.contains(&format!(
            "The full report is in <code>{}</code>.",
            full_path.display()
        )));
        assert!(!full.contains("**Not shown**"));
        assert!(full.matches("<details>").count() > run.stdout.matches("<details>").count());
    } else {
        panic!(
            "the report is only {} characters: make the change bigger",
            full.chars().count()
        );
    }
    assert!(run.stdout.starts_with("### casa-build diff\n"));
    assert!(
        run.stdout
            .contains("| Flux Kustomization | layer | component |")
    );
}
