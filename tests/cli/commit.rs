//! `casa-build commit`: the staged (or given) source changes and the out/ they build, in one
//! commit made by `git commit`, in real git repositories made in temporary folders. A commit
//! must pass `build --check`; a refusal (stale lock, failing hook, signing, no identity)
//! leaves HEAD, the index and out/ as they were.

use std::path::Path;
use std::process::Command;

use git2::{Oid, Repository};

use crate::diff_git::{GitSite, schemas};
use crate::support::{Cli, fingerprint, tempdir};

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
    let entry = tree.get_path(Path::new(rel)).ok()?;
    let blob = repo.find_blob(entry.id()).unwrap();
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

/// Everything a refused commit must leave alone: HEAD, the index file, and the work tree
/// (out/ included), byte for byte.
struct State {
    head: Oid,
    index: Vec<u8>,
    files: Vec<(String, Vec<u8>)>,
}

fn state(site: &GitSite) -> State {
    let mut files: Vec<(String, Vec<u8>)> = fingerprint(site.path())
        .into_keys()
        .filter(|p| !p.starts_with(".git"))
        .map(|p| {
            let bytes = std::fs::read(site.path().join(&p)).unwrap_or_default();
            (p, bytes)
        })
        .collect();
    files.sort();
    State {
        head: head(site.repo()),
        index: std::fs::read(site.path().join(".git/index")).unwrap(),
        files,
    }
}

#[track_caller]
fn assert_unchanged(site: &GitSite, before: &State) {
    let after = state(site);
    assert_eq!(after.head, before.head, "HEAD moved");
    assert!(after.index == before.index, "the index changed");
    let names = |s: &State| s.files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(before), "files appeared or vanished");
    assert!(
        after.files == before.files,
        "a file of the work tree changed"
    );
    assert!(
        !site.path().join(".git/index.lock").exists(),
        "a lock was left"
    );
}

/// `casa-build build --check` on a fresh clone of HEAD: the commit's out/ is what its own
/// sources build.
#[track_caller]
fn head_passes_build_check(site: &GitSite) {
    let clone = tempdir();
    let url = format!("file://{}", site.path().display());
    git2::Repository::clone(&url, clone.path()).expect("clone");
    Cli::new()
        .args(["build", "--check", "--schemas"])
        .arg(schemas())
        .arg("--site")
        .arg(clone.path())
        .code(0)
        .stdout_has("is up to date")
        .run();
}

#[test]
fn commits_out_with_the_staged_sources_and_nothing_unstaged() {
    let site = GitSite::reference();
    site.write("notes.txt", "committed\n");
    site.commit_all("notes");
    let repo = site.repo();
    let before = head(repo);
    // Work-tree changes outside the site's sources that must stay out of the commit.
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
    assert!(paths.contains(&"out/.casa-build-tree".to_owned()));
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
    head_passes_build_check(&site);

    // Nothing changed: no commit.
    let after = head(repo);
    commit(&site, &[])
        .code(0)
        .stdout_has("nothing to commit")
        .run();
    assert_eq!(head(repo), after);
}

#[test]
fn an_edit_is_committed_with_the_out_it_builds() {
    let site = GitSite::reference();
    commit(&site, &[]).code(0).run();
    let repo = site.repo();

    // Right after an edit, unstaged: refused, saying how, and nothing moves.
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    let before = state(&site);
    commit(&site, &[])
        .code(3)
        .stderr_has("refusing to commit: instances/cms-prod.toml is changed in the work tree but not staged")
        .stderr_has("git add instances/cms-prod.toml")
        .stderr_has("casa-build commit -a")
        .run();
    assert_unchanged(&site, &before);

    // Staged: the source and its object in one commit whose build --check passes.
    site.stage("instances/cms-prod.toml");
    commit(&site, &[])
        .code(0)
        .stdout_has("with instances/cms-prod.toml")
        .run();
    assert_eq!(
        changed_paths(repo),
        [
            "instances/cms-prod.toml",
            "out/instances/cms-prod/helmrelease-jupyterhub.yaml"
        ]
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
        "casa-build: update out/ (1 changed)\n\nsources: instances/cms-prod.toml\nchanged HelmRelease.helm.toolkit.fluxcd.io cmsaf-prod/jupyterhub\n"
    );
    head_passes_build_check(&site);

    // `-a` takes every tracked change, a message of one's own replaces the summary.
    site.edit(
        "instances/cms-prod.toml",
        "size = \"20Gi\"",
        "size = \"30Gi\"",
    );
    commit(&site, &["-a", "-m", "cms-prod: 30Gi per user"])
        .code(0)
        .run();
    let c = repo.head().unwrap().peel_to_commit().unwrap();
    // git cleans the message as `git commit -m` does: one final newline.
    assert_eq!(c.message().ok(), Some("cms-prod: 30Gi per user\n"));
    assert!(
        at_head(repo, "instances/cms-prod.toml")
            .unwrap()
            .contains("size = \"30Gi\"")
    );
    head_passes_build_check(&site);

    // A file named on the command line is committed as the work tree has it, and a staged
    // change of another file stays staged (as `git commit PATH`).
    site.edit(
        "instances/cms-dev.toml",
        "size = \"10Gi\"",
        "size = \"15Gi\"",
    );
    site.write("notes.txt", "staged, not named\n");
    site.stage("notes.txt");
    let named = site.path().join("instances/cms-dev.toml");
    commit(&site, &[named.to_str().unwrap()]).code(0).run();
    assert_eq!(
        changed_paths(repo),
        [
            "instances/cms-dev.toml",
            "out/instances/cms-dev/helmrelease-jupyterhub.yaml"
        ]
    );
    assert_eq!(at_head(repo, "notes.txt"), None);
    let index = repo.index().unwrap();
    assert!(index.get_path(Path::new("notes.txt"), 0).is_some());
    head_passes_build_check(&site);
}

#[test]
fn staged_changes_outside_the_site_go_in_as_git_would_commit_them() {
    let site = GitSite::reference();
    commit(&site, &[]).code(0).run();
    let text = site.read("site.toml");
    site.write("site.toml", &format!("{text}\n# a staged edit\n"));
    site.stage("site.toml");
    site.write("README.txt", "staged too\n");
    site.stage("README.txt");
    commit(&site, &[]).code(0).run();
    let mut paths = changed_paths(site.repo());
    paths.sort();
    assert_eq!(paths, ["README.txt", "site.toml"]);
}

#[test]
fn an_invalid_staged_site_is_not_committed() {
    let site = GitSite::reference();
    let text = site.read("site.toml");
    site.write(
        "site.toml",
        &text.replacen("[site]", "[site]\nnot_a_field = 1", 1),
    );
    site.stage("site.toml");
    let before = state(&site);
    commit(&site, &[]).code(2).stderr_has("not_a_field").run();
    assert_unchanged(&site, &before);
}

#[test]
fn a_stale_index_lock_is_refused_before_anything_moves() {
    let site = GitSite::reference();
    commit(&site, &[]).code(0).run();
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    site.stage("instances/cms-prod.toml");
    std::fs::write(site.path().join(".git/index.lock"), "").unwrap();
    let mut before = state(&site);
    commit(&site, &[])
        .code(3)
        .stderr_has("refusing to commit: ")
        .stderr_has(".git/index.lock exists: another git process")
        .run();
    // The stale lock is the user's to remove: it is still there, and nothing else moved.
    assert!(site.path().join(".git/index.lock").exists());
    std::fs::remove_file(site.path().join(".git/index.lock")).unwrap();
    before.files.retain(|(p, _)| p != ".git/index.lock");
    assert_unchanged(&site, &before);
    // Without it, the same commit goes through.
    commit(&site, &[]).code(0).run();
}

fn hook(site: &GitSite, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let dir = site.path().join(".git/hooks");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn the_repositorys_hooks_run_and_a_refusal_leaves_everything_as_it_was() {
    let site = GitSite::reference();
    commit(&site, &[]).code(0).run();
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    site.stage("instances/cms-prod.toml");
    // A pre-commit hook that refuses, after looking at what is staged and at the work tree.
    hook(
        &site,
        "pre-commit",
        "#!/bin/sh\ngit diff --cached --name-only > \"$GIT_DIR/../hook-saw.txt\"\n\
         grep -q '20Gi' out/instances/cms-prod/helmrelease-jupyterhub.yaml && echo 'out/ was written' >> \"$GIT_DIR/../hook-saw.txt\"\n\
         echo 'pre-commit: refused' >&2\nexit 1\n",
    );
    let mut before = state(&site);
    let run = commit(&site, &[])
        .code(3)
        .stderr_has("pre-commit: refused")
        .stderr_has("git commit failed")
        .stderr_has("nothing was committed, out/ and the index are as they were")
        .run();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let saw = site.read("hook-saw.txt");
    assert!(
        saw.contains(
            "instances/cms-prod.toml\nout/instances/cms-prod/helmrelease-jupyterhub.yaml\n"
        ),
        "{saw}"
    );
    assert!(saw.contains("out/ was written"), "{saw}");
    std::fs::remove_file(site.path().join("hook-saw.txt")).unwrap();
    before.files.retain(|(p, _)| p != "hook-saw.txt");
    assert_unchanged(&site, &before);

    // A commit-msg hook sees the message; a passing one lets the commit through.
    hook(&site, "pre-commit", "#!/bin/sh\nexit 0\n");
    hook(
        &site,
        "commit-msg",
        "#!/bin/sh\ngrep -q 'casa-build: update out/' \"$1\" || exit 1\necho 'Signed-off-by: Hook <hook@example.org>' >> \"$1\"\n",
    );
    commit(&site, &[]).code(0).run();
    let message = site
        .repo()
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .message()
        .unwrap()
        .to_owned();
    assert!(
        message.ends_with("Signed-off-by: Hook <hook@example.org>\n"),
        "{message}"
    );
}

#[test]
fn git_identity_variables_name_the_author_and_committer() {
    let site = GitSite::reference();
    commit(&site, &[])
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Carl Committer")
        .env("GIT_COMMITTER_EMAIL", "carl@example.org")
        .code(0)
        .run();
    let c = site.repo().head().unwrap().peel_to_commit().unwrap();
    assert_eq!(c.author().name().ok(), Some("Ada Author"));
    assert_eq!(c.author().email().ok(), Some("ada@example.org"));
    assert_eq!(c.committer().name().ok(), Some("Carl Committer"));
    assert_eq!(c.committer().email().ok(), Some("carl@example.org"));
}

#[test]
fn commits_are_signed_as_the_repository_asks_and_a_signing_failure_commits_nothing() {
    let site = GitSite::reference();
    let key = site.path().join(".git/test-signing-key");
    let keygen = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "casa-build-test",
            "-f",
        ])
        .arg(&key)
        .status()
        .expect("ssh-keygen (openssh-client) for the signing test");
    assert!(keygen.success());
    let mut config = site.repo().config().unwrap();
    config.set_str("gpg.format", "ssh").unwrap();
    config
        .set_str("user.signingkey", key.to_str().unwrap())
        .unwrap();
    config.set_bool("commit.gpgsign", true).unwrap();
    commit(&site, &[]).code(0).run();
    let c = site.repo().head().unwrap().peel_to_commit().unwrap();
    let header = c.raw_header().unwrap();
    assert!(
        header.contains("gpgsig -----BEGIN SSH SIGNATURE-----"),
        "{header}"
    );

    // A signer that fails: git refuses the commit, and so nothing changes.
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    site.stage("instances/cms-prod.toml");
    config.set_str("gpg.format", "openpgp").unwrap();
    config.set_str("gpg.program", "/bin/false").unwrap();
    let before = state(&site);
    commit(&site, &[])
        .code(3)
        .stderr_has("git commit failed")
        .run();
    assert_unchanged(&site, &before);
}

#[test]
fn without_a_git_identity_it_says_how_to_set_one() {
    let site = GitSite::reference();
    let config = site.repo().config().unwrap();
    let mut local = config.open_level(git2::ConfigLevel::Local).unwrap();
    local.remove("user.name").unwrap();
    local.remove("user.email").unwrap();
    local.set_bool("user.useConfigOnly", true).unwrap();
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
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .env_remove("EMAIL")
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
    assert!(!site.path().join(".git/index.lock").exists());
}
