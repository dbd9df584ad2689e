//! The commit the tree was built from: `HEAD` of the repository holding the site folder (the
//! commit Flux fetches once it is pushed), and whether the site's files differ from it.

use std::path::Path;

use git2::{Status, StatusOptions};

use super::flux::Built;

/// What `diff --live` compares Flux's applied revisions with. Never an error: a site outside
/// git is compared without revisions, and the report says why.
pub fn built_from(site_dir: &Path) -> Built {
    let note = |n: String| Built {
        commit: None,
        dirty: false,
        note: Some(n),
    };
    let Ok(site) = site_dir.canonicalize() else {
        return note(format!("cannot resolve {}", site_dir.display()));
    };
    let (repo, prefix) = match crate::worktree::locate(None, &site, &site) {
        Ok(found) => found,
        Err(_) => return note("the site is not in a git repository".to_owned()),
    };
    let commit = match repo.head().and_then(|h| h.peel_to_commit()) {
        Ok(c) => c.id().to_string(),
        Err(_) => return note("the repository has no commit yet".to_owned()),
    };
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    if !prefix.is_empty() {
        options.pathspec(&prefix);
    }
    let dirty = repo.statuses(Some(&mut options)).is_ok_and(|statuses| {
        statuses
            .iter()
            .any(|s| s.status() != Status::CURRENT && !s.status().contains(Status::IGNORED))
    });
    Built {
        commit: Some(commit),
        dirty,
        note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::{Repository, Signature};

    fn commit_all(repo: &Repository) -> String {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::now("t", "t@example.org").unwrap();
        let parents: Vec<git2::Commit> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
            .unwrap()
            .to_string()
    }

    #[test]
    fn head_and_uncommitted_changes_of_the_site() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir(&site).unwrap();
        assert_eq!(
            built_from(&site).note.as_deref(),
            // The temporary folder is not inside a repository on a sane machine.
            Some("the site is not in a git repository")
        );
        let repo = Repository::init(dir.path()).unwrap();
        assert_eq!(
            built_from(&site).note.as_deref(),
            Some("the repository has no commit yet")
        );
        std::fs::write(site.join("site.toml"), "a = 1\n").unwrap();
        let id = commit_all(&repo);
        assert_eq!(
            built_from(&site),
            Built {
                commit: Some(id.clone()),
                dirty: false,
                note: None
            }
        );
        // A change outside the site folder is not the site's.
        std::fs::write(dir.path().join("README"), "x").unwrap();
        assert!(!built_from(&site).dirty);
        std::fs::write(site.join("site.toml"), "a = 2\n").unwrap();
        let b = built_from(&site);
        assert_eq!(b.commit, Some(id));
        assert!(b.dirty);
    }
}
