//! `casa-build commit`: builds, writes out/, and commits the changes under out/ and nothing
//! else, in real git repositories made in temporary folders.

use std::process::Command;

use git2::{Oid, Repository};

use crate::diff_git::{GitSite, schemas};
use crate::support::{Cli, tempdir};

fn commit(site: &GitSite, args: &[&str]) -> Cli {
    Cli::new()
        .arg("commit")
        .args(args)
        .arg("--schemas")
        .arg(schemas())
        .arg("--site")
        .arg(site.path())
}

fn head(repo: &Repository) -> Oid {
    repo.head().unwrap().peel_to_commit().unwrap().id()
}

/// The paths HEAD's commit changes against its parent.
fn changed_paths(repo: &Repository) -> Vec<String> {
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    let parent = commit.parent(0).unwrap().tree().unwrap();
    let diff = repo
        .diff_tree_to_tree(Some(&parent), Some(&commit.tree().unwrap()), None)
        .unwrap();
    diff.deltas()
        .map(|d| {
            d.new_file()
                .path()
                .or(d.old_file().path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// A file's text at HEAD.
fn at_head(repo: &Repository, rel: &str) -> Option<String> {
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    let entry = tree.get_path(std::path::Path::new(rel)).ok()?;
    let blob = repo.find_blob(entry.id()).unwrap();
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

#[test]
fn commits_out_and_nothing_else() {
    let site = GitSite::reference();
    site.write("notes.txt", "committed\n");
    site.commit_all("notes");
    let repo = site.repo();
    let before = head(repo);
    // Work-tree changes outside out/ that must stay out of the commit.
    site.write("notes.txt", "edited, not staged\n");
    site.write("untracked.txt", "new\n");

    commit(&site, &[])
        .code(0)
        .stdout_has("committed ")
        .stdout_has("casa-build: update out/ (")
        .run();
    let paths = changed_paths(repo);
    assert!(paths.len() > 100, "{paths:?}");
    assert!(paths.iter().all(|p| p.starts_with("out/")), "{paths:?}");
    assert!(paths.contains(&"out/instances/cms-prod/helmrelease-jupyterhub.yaml".to_owned()));
    let made = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(made.parent_id(0).unwrap(), before);
    assert_eq!(made.author().name().ok(), Some("Site Tests"));
    let message = made.message().unwrap();
    assert!(
        message.contains("\nadded HelmRelease.helm.toolkit.fluxcd.io cmsaf-prod/jupyterhub\n"),
        "{message}"
    );
    assert_eq!(at_head(repo, "notes.txt").as_deref(), Some("committed\n"));
    assert_eq!(at_head(repo, "untracked.txt"), None);
    // out/ is clean afterwards: committed, and the index agrees.
    let statuses = repo.statuses(None).unwrap();
    let dirty: Vec<_> = statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_owned))
        .filter(|p| p.starts_with("out/"))
        .collect();
    assert!(dirty.is_empty(), "{dirty:?}");

    // Nothing changed: no commit.
    let after = head(repo);
    commit(&site, &[])
        .code(0)
        .stdout_has("nothing to commit")
        .run();
    assert_eq!(head(repo), after);
}

#[test]
fn a_source_change_commits_only_its_object_and_never_the_source() {
    let site = GitSite::reference();
    commit(&site, &[]).code(0).run();
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    commit(&site, &[]).code(0).run();
    let repo = site.repo();
    assert_eq!(
        changed_paths(repo),
        ["out/instances/cms-prod/helmrelease-jupyterhub.yaml"]
    );
    let message = repo
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .message()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        "casa-build: update out/ (1 changed)\n\nchanged HelmRelease.helm.toolkit.fluxcd.io cmsaf-prod/jupyterhub\n"
    );
    // The source edit stays in the work tree, uncommitted.
    assert!(
        at_head(repo, "instances/cms-prod.toml")
            .unwrap()
            .contains("size = \"10Gi\"")
    );

    // A message of one's own.
    site.edit(
        "instances/cms-prod.toml",
        "size = \"20Gi\"",
        "size = \"30Gi\"",
    );
    commit(&site, &["-m", "cms-prod: 30Gi per user"])
        .code(0)
        .run();
    let c = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(c.message().ok(), Some("cms-prod: 30Gi per user"));
}

#[test]
fn refuses_when_paths_outside_out_are_staged() {
    let site = GitSite::reference();
    let repo = site.repo();
    let before = head(repo);
    let text = site.read("site.toml");
    site.write("site.toml", &format!("{text}\n# a staged edit\n"));
    site.stage("site.toml");
    commit(&site, &[])
        .code(3)
        .stderr_has("refusing to commit: paths outside out/ are staged (site.toml)")
        .stderr_has("git restore --staged")
        .run();
    assert_eq!(head(repo), before);
    assert!(!site.path().join("out").exists(), "out/ was written");
}

#[test]
fn an_invalid_site_is_not_committed() {
    let site = GitSite::reference();
    let text = site.read("site.toml");
    site.write(
        "site.toml",
        &text.replacen("[site]", "[site]\nnot_a_field = 1", 1),
    );
    let before = head(site.repo());
    commit(&site, &[]).code(2).stderr_has("not_a_field").run();
    assert_eq!(head(site.repo()), before);
}

#[test]
fn without_a_git_identity_it_says_how_to_set_one() {
    let site = GitSite::reference();
    let config = site.repo().config().unwrap();
    let mut local = config.open_level(git2::ConfigLevel::Local).unwrap();
    local.remove("user.name").unwrap();
    local.remove("user.email").unwrap();
    drop(config);
    // An empty home: no global identity either.
    let home = tempdir();
    let out = Command::new(env!("CARGO_BIN_EXE_casa-build"))
        .arg("commit")
        .arg("--schemas")
        .arg(schemas())
        .arg("--site")
        .arg(site.path())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_COMMITTER_NAME")
        .current_dir(home.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("no git identity to commit as: set one with `git config user.name"),
        "{stderr}"
    );
    assert!(!site.path().join("out").exists(), "out/ was written");
}
