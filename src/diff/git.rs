//! The git adapter of `diff --base`: a revision of the repository holding the site -> the
//! site's `Sources` (and the committed `out/` files), read straight from git objects with
//! git2. No checkout, no worktree, no temporary copy: the working tree is never touched.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree, TreeWalkMode, TreeWalkResult};

use crate::sources::{INSTANCES_DIR, SITE_FILE, Sources, TEMPLATES_DIR};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(transparent)]
    Worktree(#[from] crate::worktree::WorktreeError),
    #[error("unknown revision {rev:?}")]
    UnknownRevision {
        rev: String,
        #[source]
        source: git2::Error,
    },
    #[error("revision {rev:?} does not name a commit or tree")]
    NotATree {
        rev: String,
        #[source]
        source: git2::Error,
    },
    #[error("revision {rev} has no {path}")]
    NoSiteFile { rev: String, path: String },
    #[error("{path} at revision {rev} is not a regular file (a folder, a link or a submodule)")]
    NotAFile { rev: String, path: String },
    #[error("cannot read {path} at revision {rev}")]
    Read {
        rev: String,
        path: String,
        #[source]
        source: git2::Error,
    },
}

/// The repository holding a site, and where the site folder is inside it.
pub struct SiteRepo {
    repo: Repository,
    /// The site folder relative to the work tree, with `/`, empty at the root.
    prefix: String,
}

/// A resolved revision: what the user typed and the tree it names.
#[derive(Debug, Clone)]
pub struct Revision {
    pub name: String,
    pub tree: Oid,
    /// The commit, when the revision names one (for short ids in reports).
    pub commit: Option<Oid>,
}

impl Revision {
    /// The revision as the user wrote it, with its abbreviated commit id when that differs.
    pub fn label(&self) -> String {
        match self.commit {
            Some(c) => {
                let short: String = c.to_string().chars().take(7).collect();
                if self.name.starts_with(&short) {
                    self.name.clone()
                } else {
                    format!("{} {short}", self.name)
                }
            }
            None => self.name.clone(),
        }
    }
}

impl SiteRepo {
    /// Finds the repository holding `site_dir` (searching upwards, as git does).
    pub fn open(site_dir: &Path) -> Result<Self, GitError> {
        let site =
            site_dir
                .canonicalize()
                .map_err(|source| crate::worktree::WorktreeError::Path {
                    path: site_dir.to_path_buf(),
                    source,
                })?;
        let (repo, prefix) = crate::worktree::locate(None, &site, &site)?;
        Ok(Self { repo, prefix })
    }

    /// The site folder relative to the work tree (`""` at the root).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Resolves a revision as `git rev-parse` does (`HEAD~1`, `origin/main`, a tag, an id).
    pub fn resolve(&self, rev: &str) -> Result<Revision, GitError> {
        let object =
            self.repo
                .revparse_single(rev)
                .map_err(|source| GitError::UnknownRevision {
                    rev: rev.to_owned(),
                    source,
                })?;
        let commit = object.peel(ObjectType::Commit).ok().map(|c| c.id());
        let tree = object.peel_to_tree().map_err(|source| GitError::NotATree {
            rev: rev.to_owned(),
            source,
        })?;
        Ok(Revision {
            name: rev.to_owned(),
            tree: tree.id(),
            commit,
        })
    }

    /// The site's sources at a revision, laid out as `Sources::from_dir` reads a folder:
    /// `site.toml`, `instances/*.toml` by name, the site's `templates/**`.
    pub fn sources(&self, rev: &Revision) -> Result<Sources, GitError> {
        let root = self.site_tree(rev)?;
        let mut sources = Sources::new();
        let site = root.as_ref().and_then(|t| {
            t.get_name(SITE_FILE)
                .map(|e| (e.id(), e.kind(), e.filemode()))
        });
        let (Some(root), Some(site)) = (root, site) else {
            return Err(GitError::NoSiteFile {
                rev: rev.name.clone(),
                path: self.rel(SITE_FILE),
            });
        };
        sources.add_bytes(SITE_FILE, self.blob(rev, SITE_FILE, site)?);

        if let Some(dir) = self.subtree(&root, INSTANCES_DIR, rev)? {
            // Tree entries come sorted by name; every `*.toml` entry is an instance, and one
            // that is not a file is refused rather than skipped, as on disk.
            for entry in dir.iter() {
                let Ok(name) = entry.name() else { continue };
                if !name.ends_with(".toml") {
                    continue;
                }
                let path = format!("{INSTANCES_DIR}/{name}");
                let bytes = self.blob(rev, &path, (entry.id(), entry.kind(), entry.filemode()))?;
                sources.add_bytes(path, bytes);
            }
        }

        if let Some(dir) = self.subtree(&root, TEMPLATES_DIR, rev)? {
            for (path, bytes) in self.files_under(&dir, rev, TEMPLATES_DIR)? {
                sources
                    .templates
                    .push((path, String::from_utf8_lossy(&bytes).into_owned()));
            }
            sources.templates.sort();
        }
        Ok(sources)
    }

    /// Every file under `dir` (relative to the site folder) at a revision, by path relative
    /// to `dir`; empty when there is no such folder.
    pub fn files(&self, rev: &Revision, dir: &str) -> Result<BTreeMap<String, Vec<u8>>, GitError> {
        let Some(root) = self.site_tree(rev)? else {
            return Ok(BTreeMap::new());
        };
        match self.subtree(&root, dir, rev)? {
            Some(t) => self.files_under(&t, rev, dir),
            None => Ok(BTreeMap::new()),
        }
    }

    /// The site folder's tree at a revision; `None` when the folder does not exist there.
    fn site_tree(&self, rev: &Revision) -> Result<Option<Tree<'_>>, GitError> {
        let read = |source| GitError::Read {
            rev: rev.name.clone(),
            path: self.rel(""),
            source,
        };
        let tree = self.repo.find_tree(rev.tree).map_err(read)?;
        if self.prefix.is_empty() {
            return Ok(Some(tree));
        }
        let entry = match tree.get_path(Path::new(&self.prefix)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(read(e)),
        };
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok(None);
        }
        self.repo.find_tree(entry.id()).map(Some).map_err(read)
    }

    fn subtree(
        &self,
        root: &Tree<'_>,
        name: &str,
        rev: &Revision,
    ) -> Result<Option<Tree<'_>>, GitError> {
        let Some(entry) = root.get_name(name) else {
            return Ok(None);
        };
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok(None);
        }
        self.repo
            .find_tree(entry.id())
            .map(Some)
            .map_err(|source| GitError::Read {
                rev: rev.name.clone(),
                path: self.rel(name),
                source,
            })
    }

    /// Every blob under a tree, by `/` path relative to it.
    fn files_under(
        &self,
        tree: &Tree<'_>,
        rev: &Revision,
        dir: &str,
    ) -> Result<BTreeMap<String, Vec<u8>>, GitError> {
        let mut entries = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            if entry.kind() != Some(ObjectType::Tree) {
                let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                entries.push((
                    format!("{parent}{name}"),
                    entry.id(),
                    entry.kind(),
                    entry.filemode(),
                ));
            }
            TreeWalkResult::Ok
        })
        .map_err(|source| GitError::Read {
            rev: rev.name.clone(),
            path: self.rel(dir),
            source,
        })?;
        let mut files = BTreeMap::new();
        for (path, id, kind, mode) in entries {
            let bytes = self.blob(rev, &format!("{dir}/{path}"), (id, kind, mode))?;
            files.insert(path, bytes);
        }
        Ok(files)
    }

    fn blob(
        &self,
        rev: &Revision,
        path: &str,
        entry: (Oid, Option<ObjectType>, i32),
    ) -> Result<Vec<u8>, GitError> {
        let (id, kind, mode) = entry;
        // 0o120000 is a symbolic link and 0o160000 a submodule: git stores a link's target,
        // not the file it points to, so following it would read something else than disk.
        if kind != Some(ObjectType::Blob) || mode == 0o120000 {
            return Err(GitError::NotAFile {
                rev: rev.name.clone(),
                path: self.rel(path),
            });
        }
        let blob = self.repo.find_blob(id).map_err(|source| GitError::Read {
            rev: rev.name.clone(),
            path: self.rel(path),
            source,
        })?;
        Ok(blob.content().to_vec())
    }

    /// A path inside the site folder, as it is named in the repository.
    fn rel(&self, path: &str) -> String {
        match (self.prefix.is_empty(), path.is_empty()) {
            (true, true) => ".".to_owned(),
            (true, false) => path.to_owned(),
            (false, true) => self.prefix.clone(),
            (false, false) => format!("{}/{path}", self.prefix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::Signature;

    fn commit_files(repo: &Repository, files: &[(&str, &str)]) -> Oid {
        let mut index = repo.index().unwrap();
        for (path, text) in files {
            let full = repo.workdir().unwrap().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, text).unwrap();
            index.add_path(Path::new(path)).unwrap();
        }
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::now("t", "t@example.org").unwrap();
        let parents: Vec<_> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let refs: Vec<_> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &refs)
            .unwrap()
    }

    #[test]
    fn reads_the_site_at_a_revision_without_touching_the_work_tree() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        commit_files(
            &repo,
            &[
                ("site/site.toml", "one"),
                ("site/instances/b.toml", "b"),
                ("site/instances/a.toml", "a"),
                ("site/instances/notes.md", "x"),
                ("site/templates/dex/x.yaml.j2", "t"),
                ("site/out/a/k.yaml", "k1"),
                ("other.txt", "o"),
            ],
        );
        commit_files(
            &repo,
            &[("site/site.toml", "two"), ("site/out/a/k.yaml", "k2")],
        );
        std::fs::write(dir.path().join("site/site.toml"), "work tree").unwrap();

        let site = SiteRepo::open(&dir.path().join("site")).unwrap();
        assert_eq!(site.prefix(), "site");
        let rev = site.resolve("HEAD~1").unwrap();
        let sources = site.sources(&rev).unwrap();
        let files: Vec<_> = sources
            .files()
            .map(|(_, f)| (f.path.as_str(), f.text.as_str()))
            .collect();
        assert_eq!(
            files,
            [
                ("site.toml", "one"),
                ("instances/a.toml", "a"),
                ("instances/b.toml", "b")
            ]
        );
        assert_eq!(
            sources.templates,
            [("dex/x.yaml.j2".to_owned(), "t".to_owned())]
        );
        let out = site.files(&site.resolve("HEAD").unwrap(), "out").unwrap();
        assert_eq!(out.get("a/k.yaml").map(Vec::as_slice), Some(&b"k2"[..]));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("site/site.toml")).unwrap(),
            "work tree"
        );
    }

    #[test]
    fn git_trouble_is_an_error_naming_what_failed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            SiteRepo::open(dir.path()),
            Err(GitError::Worktree(
                crate::worktree::WorktreeError::NotARepository { .. }
            ))
        ));
        let repo = Repository::init(dir.path()).unwrap();
        commit_files(&repo, &[("README", "r")]);
        let site = SiteRepo::open(dir.path()).unwrap();
        let err = site.resolve("no-such-branch").err().unwrap();
        assert_eq!(err.to_string(), "unknown revision \"no-such-branch\"");
        let head = site.resolve("HEAD").unwrap();
        assert!(matches!(
            site.sources(&head),
            Err(GitError::NoSiteFile { .. })
        ));
    }
}
