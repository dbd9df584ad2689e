//! `commit`: a built tree -> one git commit that changes `out/` and nothing else (git2).
//!
//! The commit's tree is HEAD's tree with the files under `out/` replaced by the built tree,
//! made with a tree update rather than from the index: whatever else the index or the work
//! tree holds cannot reach the commit. The index is then brought in line for `out/` only, so
//! `git status` shows the commit as clean. Refuses while paths outside `out/` are staged,
//! since the operator meant those for a commit of their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, ObjectType, Oid, Repository, Signature, TreeWalkMode, TreeWalkResult};

use crate::manifest::ResourceId;
use crate::tree::Tree;

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Worktree(#[from] crate::worktree::WorktreeError),
    #[error("cannot resolve {}", path.display())]
    Path {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "refusing to commit: paths outside {out}/ are staged ({}); commit them separately or unstage them with `git restore --staged <path>`",
        list(paths)
    )]
    StagedOutside { out: String, paths: Vec<String> },
    #[error(
        "refusing to commit: the index has unresolved conflicts; resolve them (or `git merge --abort`) first"
    )]
    Conflicts,
    #[error(
        "no git identity to commit as: set one with `git config user.name \"Your Name\"` and `git config user.email you@example.org` (add --global for all repositories)"
    )]
    NoIdentity {
        #[source]
        source: git2::Error,
    },
    #[error("git: cannot {action}")]
    Git {
        action: &'static str,
        #[source]
        source: git2::Error,
    },
}

fn list(paths: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut s = paths
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        s.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    s
}

fn git(action: &'static str) -> impl FnOnce(git2::Error) -> CommitError {
    move |source| CommitError::Git { action, source }
}

/// The files under `out/` that a commit changes, by path relative to `out/`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// The repository `out/` is committed to, and where `out/` is inside its work tree.
pub struct OutRepo {
    repo: Repository,
    /// `out/` relative to the work tree, with `/`; never empty.
    out: String,
}

impl OutRepo {
    /// Opens the repository at `repo` (or the one holding `out_dir`) and locates `out_dir`,
    /// which need not exist yet, inside its work tree.
    pub fn open(repo: Option<&Path>, out_dir: &Path) -> Result<Self, CommitError> {
        let parent = out_dir.parent().unwrap_or(Path::new("."));
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let canonical_parent = parent.canonicalize().map_err(|source| CommitError::Path {
            path: parent.to_path_buf(),
            source,
        })?;
        let out_abs = canonical_parent.join(out_dir.file_name().unwrap_or("out".as_ref()));
        // out/ itself may not exist yet: the lookup goes through its parent.
        let (repository, out) = crate::worktree::locate(repo, &canonical_parent, &out_abs)?;
        if out.is_empty() {
            // out/ as the work tree itself would let a commit take the whole repository.
            let workdir = repository.workdir().unwrap_or(Path::new("")).to_path_buf();
            return Err(crate::worktree::WorktreeError::Outside {
                path: out_abs,
                workdir,
            }
            .into());
        }
        Ok(Self {
            repo: repository,
            out,
        })
    }

    /// `out/` relative to the work tree.
    pub fn out(&self) -> &str {
        &self.out
    }

    fn is_under_out(&self, path: &str) -> bool {
        path.strip_prefix(&self.out)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Fails when the index holds staged changes outside `out/`, or conflicts.
    pub fn check_staged(&self) -> Result<(), CommitError> {
        let index = self.repo.index().map_err(git("read the index"))?;
        if index.has_conflicts() {
            return Err(CommitError::Conflicts);
        }
        let head = self.head_tree()?;
        let diff = self
            .repo
            .diff_tree_to_index(head.as_ref(), Some(&index), None)
            .map_err(git("compare the index with HEAD"))?;
        let mut outside: Vec<String> = diff
            .deltas()
            .flat_map(|d| [d.old_file().path(), d.new_file().path()])
            .flatten()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .filter(|p| !self.is_under_out(p))
            .collect();
        outside.sort();
        outside.dedup();
        if outside.is_empty() {
            Ok(())
        } else {
            Err(CommitError::StagedOutside {
                out: self.out.clone(),
                paths: outside,
            })
        }
    }

    /// The author and committer from git config (`user.name`, `user.email`).
    pub fn signature(&self) -> Result<Signature<'static>, CommitError> {
        self.repo
            .signature()
            .map_err(|source| CommitError::NoIdentity { source })
    }

    fn head_tree(&self) -> Result<Option<git2::Tree<'_>>, CommitError> {
        match self.repo.head() {
            Ok(head) => head
                .peel_to_tree()
                .map(Some)
                .map_err(git("read HEAD's tree")),
            // A repository without commits yet: everything is new.
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(git("read HEAD")(e)),
        }
    }

    /// The blobs under `out/` at HEAD: path relative to `out/` -> (id, mode).
    fn committed(&self) -> Result<BTreeMap<String, (Oid, i32)>, CommitError> {
        let mut files = BTreeMap::new();
        let Some(head) = self.head_tree()? else {
            return Ok(files);
        };
        let entry = match head.get_path(Path::new(&self.out)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(files),
            Err(e) => return Err(git("read out/ at HEAD")(e)),
        };
        if entry.kind() != Some(ObjectType::Tree) {
            // out/ is a file at HEAD: the commit replaces it.
            files.insert(String::new(), (entry.id(), entry.filemode()));
            return Ok(files);
        }
        let tree = self
            .repo
            .find_tree(entry.id())
            .map_err(git("read out/ at HEAD"))?;
        tree.walk(TreeWalkMode::PreOrder, |parent, e| {
            if e.kind() != Some(ObjectType::Tree) {
                let name = String::from_utf8_lossy(e.name_bytes());
                files.insert(format!("{parent}{name}"), (e.id(), e.filemode()));
            }
            TreeWalkResult::Ok
        })
        .map_err(git("read out/ at HEAD"))?;
        Ok(files)
    }

    /// What committing `tree` as `out/` would change against HEAD.
    pub fn plan(&self, tree: &Tree) -> Result<Plan, CommitError> {
        let committed = self.committed()?;
        let mut plan = Plan::default();
        for (path, bytes) in &tree.files {
            let id = Oid::hash_object(ObjectType::Blob, bytes).map_err(git("hash a file"))?;
            match committed.get(path) {
                None => plan.added.push(path.clone()),
                Some((old, mode)) if *old != id || *mode != i32::from(FileMode::Blob) => {
                    plan.changed.push(path.clone());
                }
                Some(_) => {}
            }
        }
        plan.removed = committed
            .keys()
            .filter(|p| !tree.files.contains_key(*p))
            .cloned()
            .collect();
        Ok(plan)
    }

    /// Commits `tree` as `out/` on top of HEAD (which moves, with its branch) and returns the
    /// new commit. Only paths under `out/` differ between HEAD and the commit.
    pub fn commit(
        &self,
        plan: &Plan,
        tree: &Tree,
        message: &str,
        signature: &Signature<'_>,
    ) -> Result<Oid, CommitError> {
        let head = self.head_tree()?;
        let mut update = TreeUpdateBuilder::new();
        for path in plan.removed.iter() {
            update.remove(self.full(path));
        }
        for path in plan.added.iter().chain(&plan.changed) {
            let bytes = tree.files.get(path).map_or(&[][..], Vec::as_slice);
            let id = self.repo.blob(bytes).map_err(git("write a file"))?;
            update.upsert(self.full(path), id, FileMode::Blob);
        }
        let base = match &head {
            Some(t) => t.clone(),
            None => {
                let empty = self
                    .repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(git("make an empty tree"))?;
                self.repo
                    .find_tree(empty)
                    .map_err(git("make an empty tree"))?
            }
        };
        let new_tree = update
            .create_updated(&self.repo, &base)
            .map_err(git("make the commit's tree"))?;
        let new_tree = self
            .repo
            .find_tree(new_tree)
            .map_err(git("make the commit's tree"))?;
        let parent = match self.repo.head() {
            Ok(h) => Some(h.peel_to_commit().map_err(git("read HEAD"))?),
            Err(_) => None,
        };
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo
            .commit(
                Some("HEAD"),
                signature,
                signature,
                message,
                &new_tree,
                &parents,
            )
            .map_err(git("write the commit"))
    }

    /// Makes the index hold exactly `tree` under `out/` (the files `emit` just wrote), and
    /// leaves every other index entry alone.
    pub fn sync_index(&self, tree: &Tree) -> Result<(), CommitError> {
        let mut index = self.repo.index().map_err(git("read the index"))?;
        let prefix = format!("{}/", self.out);
        let stale: Vec<PathBuf> = index
            .iter()
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .filter(|p| {
                p.strip_prefix(&prefix)
                    .is_some_and(|rel| !tree.files.contains_key(rel))
            })
            .map(PathBuf::from)
            .collect();
        for p in stale {
            index.remove_path(&p).map_err(git("update the index"))?;
        }
        for (path, bytes) in &tree.files {
            let full = self.full(path);
            let id = Oid::hash_object(ObjectType::Blob, bytes).map_err(git("hash a file"))?;
            let current = index.get_path(Path::new(&full), 0);
            if current.is_none_or(|e| e.id != id || e.mode != u32::from(FileMode::Blob)) {
                index
                    .add_path(Path::new(&full))
                    .map_err(git("update the index"))?;
            }
        }
        index.write().map_err(git("write the index"))
    }

    fn full(&self, path: &str) -> String {
        if path.is_empty() {
            self.out.clone()
        } else {
            format!("{}/{path}", self.out)
        }
    }
}

/// The default commit message: a subject with the counts, then one line per changed object.
///
/// `objects` maps a file of `out/` to the object it holds (the built side); a removed file's
/// object is read back from its YAML at HEAD by the caller when it can be.
pub fn message(
    plan: &Plan,
    objects: &BTreeMap<String, ResourceId>,
    removed: &BTreeMap<String, ResourceId>,
) -> String {
    // kustomization.yaml files list the objects; they change with them and say nothing more.
    let is_object = |p: &&String| {
        p.rsplit('/').next() != Some("kustomization.yaml") || objects.contains_key(*p)
    };
    let describe = |p: &String, ids: &BTreeMap<String, ResourceId>| {
        ids.get(p).map_or_else(|| p.clone(), ToString::to_string)
    };
    let mut lines = Vec::new();
    let mut counts = Vec::new();
    for (word, paths, ids) in [
        ("added", &plan.added, objects),
        ("changed", &plan.changed, objects),
        ("removed", &plan.removed, removed),
    ] {
        let shown: Vec<_> = paths.iter().filter(is_object).collect();
        if !shown.is_empty() {
            counts.push(format!("{} {word}", shown.len()));
        }
        for p in shown {
            lines.push(format!("{word} {}", describe(p, ids)));
        }
    }
    let subject = if counts.is_empty() {
        "casa-build: update out/".to_owned()
    } else {
        format!("casa-build: update out/ ({})", counts.join(", "))
    };
    const LISTED: usize = 100;
    let mut body = lines.iter().take(LISTED).cloned().collect::<Vec<_>>();
    if lines.len() > LISTED {
        body.push(format!("and {} more", lines.len() - LISTED));
    }
    if body.is_empty() {
        format!("{subject}\n")
    } else {
        format!("{subject}\n\n{}\n", body.join("\n"))
    }
}

impl OutRepo {
    /// The identities of objects removed from `out/`, read from their files at HEAD.
    pub fn removed_objects(&self, plan: &Plan) -> BTreeMap<String, ResourceId> {
        let mut ids = BTreeMap::new();
        let Ok(Some(head)) = self.head_tree() else {
            return ids;
        };
        for path in &plan.removed {
            let Ok(entry) = head.get_path(Path::new(&self.full(path))) else {
                continue;
            };
            let Ok(blob) = self.repo.find_blob(entry.id()) else {
                continue;
            };
            let text = String::from_utf8_lossy(blob.content());
            if let Ok(value) = serde_saphyr::from_str::<serde_json::Value>(&text)
                && let Some(id) = ResourceId::of(&value)
            {
                ids.insert(path.clone(), id);
            }
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree::from_texts(files)
    }

    fn sig() -> Signature<'static> {
        Signature::now("Test", "test@example.org").unwrap()
    }

    fn setup() -> (tempfile::TempDir, OutRepo) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        std::fs::write(dir.path().join("site.toml"), "x").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("site.toml")).unwrap();
        index.write().unwrap();
        let t = repo.find_tree(index.write_tree().unwrap()).unwrap();
        repo.commit(Some("HEAD"), &sig(), &sig(), "init", &t, &[])
            .unwrap();
        let out = OutRepo::open(None, &dir.path().join("out")).unwrap();
        (dir, out)
    }

    fn write(dir: &Path, t: &Tree) {
        crate::emit::write(t, &dir.join("out")).unwrap();
    }

    fn head_files(r: &OutRepo) -> Vec<String> {
        let mut v = Vec::new();
        let head = r.repo.head().unwrap().peel_to_tree().unwrap();
        head.walk(TreeWalkMode::PreOrder, |parent, e| {
            if e.kind() == Some(ObjectType::Blob) {
                v.push(format!("{parent}{}", e.name().unwrap()));
            }
            TreeWalkResult::Ok
        })
        .unwrap();
        v
    }

    #[test]
    fn commits_only_out_and_nothing_when_unchanged() {
        let (dir, r) = setup();
        assert_eq!(r.out(), "out");
        let t1 = tree(&[("a/x.yaml", "1\n"), ("a/kustomization.yaml", "k\n")]);
        write(dir.path(), &t1);
        // An unstaged change outside out/ must not reach the commit.
        std::fs::write(dir.path().join("site.toml"), "changed").unwrap();
        r.check_staged().unwrap();
        let plan = r.plan(&t1).unwrap();
        assert_eq!(plan.added, ["a/kustomization.yaml", "a/x.yaml"]);
        r.commit(&plan, &t1, "m", &sig()).unwrap();
        r.sync_index(&t1).unwrap();
        assert_eq!(
            head_files(&r),
            ["out/a/kustomization.yaml", "out/a/x.yaml", "site.toml"]
        );
        let head = r.repo.head().unwrap().peel_to_tree().unwrap();
        let site = head.get_path(Path::new("site.toml")).unwrap();
        assert_eq!(r.repo.find_blob(site.id()).unwrap().content(), b"x");
        assert!(r.plan(&t1).unwrap().is_empty());
        // The index matches HEAD: nothing is staged after the commit.
        r.check_staged().unwrap();

        // A removal empties a folder, which disappears from the tree.
        let t2 = tree(&[("b/y.yaml", "2\n")]);
        write(dir.path(), &t2);
        let plan = r.plan(&t2).unwrap();
        assert_eq!(plan.removed, ["a/kustomization.yaml", "a/x.yaml"]);
        r.commit(&plan, &t2, "m2", &sig()).unwrap();
        r.sync_index(&t2).unwrap();
        assert_eq!(head_files(&r), ["out/b/y.yaml", "site.toml"]);
    }

    #[test]
    fn refuses_staged_paths_outside_out() {
        let (dir, r) = setup();
        std::fs::write(dir.path().join("notes.txt"), "n").unwrap();
        let mut index = r.repo.index().unwrap();
        index.add_path(Path::new("notes.txt")).unwrap();
        index.write().unwrap();
        let err = r.check_staged().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("refusing to commit: paths outside out/ are staged (notes.txt)"),
            "{err}"
        );
        // Staged paths inside out/ are fine: the commit replaces them anyway.
        let mut index = r.repo.index().unwrap();
        index.remove_path(Path::new("notes.txt")).unwrap();
        std::fs::create_dir_all(dir.path().join("out")).unwrap();
        std::fs::write(dir.path().join("out/z.yaml"), "z").unwrap();
        index.add_path(Path::new("out/z.yaml")).unwrap();
        index.write().unwrap();
        r.check_staged().unwrap();
    }

    #[test]
    fn out_outside_the_repository_is_refused() {
        let (_dir, _r) = setup();
        let other = tempfile::tempdir().unwrap();
        let repo_dir = tempfile::tempdir().unwrap();
        Repository::init(repo_dir.path()).unwrap();
        let err = OutRepo::open(Some(repo_dir.path()), &other.path().join("out"))
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                CommitError::Worktree(crate::worktree::WorktreeError::Outside { .. })
            ),
            "{err}"
        );
    }

    #[test]
    fn message_lists_objects_and_skips_kustomization_files() {
        let plan = Plan {
            added: vec!["a/kustomization.yaml".into(), "a/x.yaml".into()],
            changed: vec!["b/y.yaml".into()],
            removed: vec!["c/z.yaml".into()],
        };
        let id = |kind: &str, name: &str| ResourceId {
            group: String::new(),
            kind: kind.into(),
            namespace: Some("ns".into()),
            name: name.into(),
        };
        let objects: BTreeMap<_, _> = [
            ("a/x.yaml".to_owned(), id("ConfigMap", "x")),
            ("b/y.yaml".to_owned(), id("Service", "y")),
        ]
        .into();
        let removed: BTreeMap<_, _> = BTreeMap::new();
        assert_eq!(
            message(&plan, &objects, &removed),
            "casa-build: update out/ (1 added, 1 changed, 1 removed)\n\nadded ConfigMap ns/x\nchanged Service ns/y\nremoved c/z.yaml\n"
        );
    }
}
