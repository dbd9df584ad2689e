//! `commit`: a built tree and the site's source changes -> one git commit whose `out/` is
//! what its own sources build, so that `build --check` passes on it.
//!
//! The commit's sources are the index (what `git add` staged), or HEAD with the given paths
//! taken from the work tree (as `git commit PATH...`), or the index with every tracked change
//! (as `git commit -a`). casa-build builds the site from those sources (read from git objects,
//! like `diff --base`), puts the built tree as `out/` into the commit's tree, and then lets
//! `git commit` itself make the commit, with a temporary index holding exactly that tree: the
//! repository's hooks run, `commit.gpgsign` and `gpg.format` sign, and the `GIT_AUTHOR_*` /
//! `GIT_COMMITTER_*` variables and `user.*` settings name the author, all as `git commit`
//! does them. git2 can do none of these; reimplementing them is what git is for.
//!
//! Nothing moves before everything that can refuse has been asked: the index lock is taken
//! first (a stale `.git/index.lock` is refused, as git refuses it), conflicts, the identity
//! (`git var`), the build and the output folder come next. Until then every object made (the
//! sources' tree, the built files) is held in memory ([`hold_objects`]); they
//! reach the object database only when the commit is about to be made. When
//! `git commit` refuses (a hook, signing), `out/` is put back as it was and the index is
//! untouched; when it succeeds, the index takes the committed `out/` and paths, under the
//! lock held from the start.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::build::TreeUpdateBuilder;
use git2::{
    FileMode, IndexEntry, IndexTime, ObjectType, Oid, Repository, Status, StatusOptions,
    TreeWalkMode, TreeWalkResult,
};

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
        "refusing to commit: {} exists: another git process is working in this repository, or one was killed; if none is running, remove the file and try again",
        lock.display()
    )]
    IndexLocked { lock: PathBuf },
    #[error(
        "refusing to commit: the index has unresolved conflicts; resolve them (or `git merge --abort`) first"
    )]
    Conflicts,
    #[error(
        "no git identity to commit as: set one with `git config user.name \"Your Name\"` and `git config user.email you@example.org` (add --global for all repositories), or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL"
    )]
    NoIdentity { detail: String },
    #[error(
        "casa-build commit runs `git commit` (so that the repository's hooks and signing apply as they do for git) and cannot run git: install it or put it on PATH"
    )]
    NoGit {
        #[source]
        source: std::io::Error,
    },
    #[error(
        "git commit failed ({status}; its messages are above): nothing was committed, out/ and the index are as they were"
    )]
    GitCommitFailed { status: String },
    #[error(
        "refusing to commit: {} {} changed in the work tree but not staged, and nothing else of the site is: stage the change (`git add {}`), commit everything tracked (`casa-build commit -a`), or name the files (`casa-build commit {}`)",
        list(paths),
        if paths.len() == 1 { "is" } else { "are" },
        paths.join(" "),
        paths.join(" ")
    )]
    Unstaged { paths: Vec<String> },
    #[error("{} is not a file of the work tree (give files; stage folders with `git add`)", path.display())]
    NotAFile { path: PathBuf },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
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

/// Which source changes go into the commit with `out/`.
#[derive(Debug, Clone)]
pub enum Include {
    /// What the index holds (`git commit`).
    Staged,
    /// The index and every change to a tracked file of the work tree (`git commit -a`).
    All,
    /// HEAD and these files as the work tree has them (`git commit PATH...`); other staged
    /// changes stay staged.
    Paths(Vec<PathBuf>),
}

/// `.git/index.lock`, held from before anything is read until the index is written (or the
/// commit refused, when it is removed): git's own lock protocol, so no git process changes
/// the index under the commit, and a lock left by one that died is refused up front.
pub struct IndexLock {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The repository the site and `out/` are committed to.
pub struct CommitRepo {
    repo: Repository,
    workdir: PathBuf,
    /// `out/` relative to the work tree, with `/`; never empty.
    out: String,
}

impl CommitRepo {
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
        let workdir = repository
            .workdir()
            .unwrap_or(Path::new(""))
            .canonicalize()
            .map_err(|source| CommitError::Path {
                path: out_abs.clone(),
                source,
            })?;
        if out.is_empty() {
            // out/ as the work tree itself would let a commit take the whole repository.
            return Err(crate::worktree::WorktreeError::Outside {
                path: out_abs,
                workdir,
            }
            .into());
        }
        Ok(Self {
            repo: repository,
            workdir,
            out,
        })
    }

    /// `out/` relative to the work tree.
    pub fn out(&self) -> &str {
        &self.out
    }

    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    fn is_under_out(&self, path: &str) -> bool {
        path == self.out
            || path
                .strip_prefix(&self.out)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// The repository's object database.
    pub fn odb(&self) -> Result<git2::Odb<'_>, CommitError> {
        self.repo.odb().map_err(git("open the object database"))
    }

    /// Writes what `tree` needs of the objects held in memory to the repository's object
    /// database (as loose objects, as git writes them): the trees and files it has that the
    /// database lacks. A tree the database has holds nothing new, so it is not walked.
    pub fn write_held(&self, tree: Oid) -> Result<(), CommitError> {
        let disk = Repository::open(self.repo.path()).map_err(git("open the repository"))?;
        let disk_odb = disk.odb().map_err(git("open the object database"))?;
        let held = self.repo.odb().map_err(git("open the object database"))?;
        let mut stack = vec![tree];
        while let Some(id) = stack.pop() {
            if disk_odb.exists(id) {
                continue;
            }
            let object = held.read(id).map_err(git("read a held object"))?;
            if object.kind() == ObjectType::Tree {
                let t = self.repo.find_tree(id).map_err(git("read a held object"))?;
                for e in t.iter() {
                    // Submodule entries name commits of another repository.
                    if matches!(e.kind(), Some(ObjectType::Tree | ObjectType::Blob)) {
                        stack.push(e.id());
                    }
                }
            }
            disk_odb
                .write(object.kind(), object.data())
                .map_err(git("write the commit's objects"))?;
        }
        Ok(())
    }

    /// Takes `.git/index.lock`, or says who holds it.
    pub fn lock_index(&self) -> Result<IndexLock, CommitError> {
        let path = self.repo.path().join("index.lock");
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => Ok(IndexLock {
                path,
                file: Some(file),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(CommitError::IndexLocked { lock: path })
            }
            Err(source) => Err(CommitError::Read { path, source }),
        }
    }

    /// Fails when the index holds unresolved conflicts.
    pub fn check_conflicts(&self) -> Result<(), CommitError> {
        let index = self.repo.index().map_err(git("read the index"))?;
        if index.has_conflicts() {
            return Err(CommitError::Conflicts);
        }
        Ok(())
    }

    /// Asks git who would author and commit, as `git commit` will (environment variables,
    /// `user.*`, `user.useConfigOnly`), so that a missing identity refuses before anything
    /// is written.
    pub fn check_identity(&self) -> Result<(), CommitError> {
        for var in ["GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"] {
            let out = self
                .git()
                .args(["var", var])
                .stdin(Stdio::null())
                .output()
                .map_err(|source| CommitError::NoGit { source })?;
            if !out.status.success() {
                return Err(CommitError::NoIdentity {
                    detail: String::from_utf8_lossy(&out.stderr).into_owned(),
                });
            }
        }
        Ok(())
    }

    /// A `git` command for this repository, whatever `GIT_DIR` the caller's environment has.
    fn git(&self) -> Command {
        let mut c = Command::new("git");
        c.current_dir(&self.workdir)
            .env("GIT_DIR", self.repo.path())
            .env("GIT_WORK_TREE", &self.workdir)
            .env_remove("GIT_INDEX_FILE");
        c
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

    /// HEAD's tree id, `None` before the first commit.
    pub fn head_tree_id(&self) -> Result<Option<Oid>, CommitError> {
        Ok(self.head_tree()?.map(|t| t.id()))
    }

    fn empty_tree(&self) -> Result<Oid, CommitError> {
        self.repo
            .treebuilder(None)
            .and_then(|b| b.write())
            .map_err(git("make an empty tree"))
    }

    /// The tree of the commit's sources (before `out/` is replaced), and the work-tree paths
    /// it took (relative to the work tree), which the index must take too once committed.
    pub fn source_tree(&self, include: &Include) -> Result<(Oid, Vec<String>), CommitError> {
        let mut index = self.repo.index().map_err(git("read the index"))?;
        let (base, paths) = match include {
            Include::Staged => (
                index.write_tree().map_err(git("read the index"))?,
                Vec::new(),
            ),
            Include::All => {
                let mut opts = StatusOptions::new();
                opts.include_untracked(false).include_ignored(false);
                let statuses = self
                    .repo
                    .statuses(Some(&mut opts))
                    .map_err(git("read the work tree's status"))?;
                let wt = Status::WT_MODIFIED | Status::WT_DELETED | Status::WT_TYPECHANGE;
                let paths: Vec<String> = statuses
                    .iter()
                    .filter(|e| e.status().intersects(wt))
                    .filter_map(|e| e.path().ok().map(str::to_owned))
                    .filter(|p| !self.is_under_out(p))
                    .collect();
                (index.write_tree().map_err(git("read the index"))?, paths)
            }
            Include::Paths(given) => {
                let mut paths = Vec::new();
                for p in given {
                    paths.push(self.work_path(p)?);
                }
                let base = match self.head_tree()? {
                    Some(t) => t.id(),
                    None => self.empty_tree()?,
                };
                (base, paths)
            }
        };
        if paths.is_empty() {
            return Ok((base, paths));
        }
        let base_tree = self
            .repo
            .find_tree(base)
            .map_err(git("read the index's tree"))?;
        let mut update = TreeUpdateBuilder::new();
        for rel in &paths {
            let full = self.workdir.join(rel);
            match std::fs::symlink_metadata(&full) {
                Err(_) => {
                    update.remove(rel);
                }
                Ok(meta) => {
                    let (bytes, mode) = if meta.file_type().is_symlink() {
                        let target =
                            std::fs::read_link(&full).map_err(|source| CommitError::Read {
                                path: full.clone(),
                                source,
                            })?;
                        (
                            target.to_string_lossy().into_owned().into_bytes(),
                            FileMode::Link,
                        )
                    } else if meta.is_file() {
                        use std::os::unix::fs::PermissionsExt;
                        let bytes = std::fs::read(&full).map_err(|source| CommitError::Read {
                            path: full.clone(),
                            source,
                        })?;
                        let exec = meta.permissions().mode() & 0o111 != 0;
                        (
                            bytes,
                            if exec {
                                FileMode::BlobExecutable
                            } else {
                                FileMode::Blob
                            },
                        )
                    } else {
                        return Err(CommitError::NotAFile { path: full });
                    };
                    let id = self.repo.blob(&bytes).map_err(git("write a file"))?;
                    update.upsert(rel, id, mode);
                }
            }
        }
        let tree = update
            .create_updated(&self.repo, &base_tree)
            .map_err(git("make the commit's tree"))?;
        Ok((tree, paths))
    }

    /// A path given on the command line (relative to the current folder) as a path of the
    /// work tree.
    fn work_path(&self, given: &Path) -> Result<String, CommitError> {
        let abs = std::env::current_dir()
            .map_err(|source| CommitError::Path {
                path: given.to_path_buf(),
                source,
            })?
            .join(given);
        // The file may be deleted: resolve its folder.
        let parent = abs.parent().unwrap_or(Path::new("/"));
        let parent = parent.canonicalize().map_err(|source| CommitError::Path {
            path: given.to_path_buf(),
            source,
        })?;
        let full = parent.join(abs.file_name().unwrap_or_default());
        if full.is_dir() {
            return Err(CommitError::NotAFile {
                path: given.to_path_buf(),
            });
        }
        let rel = full.strip_prefix(&self.workdir).map_err(|_| {
            crate::worktree::WorktreeError::Outside {
                path: full.clone(),
                workdir: self.workdir.clone(),
            }
        })?;
        Ok(rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"))
    }

    /// `source` with `out/` replaced by the built tree.
    pub fn commit_tree(&self, source: Oid, built: &Tree) -> Result<Oid, CommitError> {
        let mut base = self
            .repo
            .find_tree(source)
            .map_err(git("read the sources' tree"))?;
        // Whatever the sources' tree has at out/ goes first (an update cannot both remove a
        // folder and add into it).
        if base.get_path(Path::new(&self.out)).is_ok() {
            let mut remove = TreeUpdateBuilder::new();
            remove.remove(&self.out);
            let without = remove
                .create_updated(&self.repo, &base)
                .map_err(git("make the commit's tree"))?;
            base = self
                .repo
                .find_tree(without)
                .map_err(git("make the commit's tree"))?;
        }
        let mut update = TreeUpdateBuilder::new();
        for (path, bytes) in &built.files {
            let id = self.repo.blob(bytes).map_err(git("write a file"))?;
            update.upsert(self.full(path), id, FileMode::Blob);
        }
        update
            .create_updated(&self.repo, &base)
            .map_err(git("make the commit's tree"))
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

    /// The paths outside `out/` whose content differs between HEAD and `tree`.
    pub fn source_changes(&self, tree: Oid) -> Result<Vec<String>, CommitError> {
        let new = self
            .repo
            .find_tree(tree)
            .map_err(git("read the commit's tree"))?;
        let head = self.head_tree()?;
        let diff = self
            .repo
            .diff_tree_to_tree(head.as_ref(), Some(&new), None)
            .map_err(git("compare the commit with HEAD"))?;
        let mut paths: Vec<String> = diff
            .deltas()
            .filter_map(|d| d.new_file().path().or(d.old_file().path()))
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| !self.is_under_out(p))
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    /// Runs `git commit` on a temporary index holding exactly `tree`, with the message, the
    /// repository's hooks and signing. Returns the new commit and the tree git committed
    /// (a pre-commit hook may have changed what is staged).
    pub fn run_git_commit(&self, tree: Oid, message: &str) -> Result<(Oid, Oid), CommitError> {
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(git("read the commit's tree"))?;
        let dir = self.repo.path();
        let index_path = dir.join(format!("casa-build-index.{}", std::process::id()));
        let _cleanup = Removes(vec![
            index_path.clone(),
            dir.join(format!("casa-build-index.{}.lock", std::process::id())),
        ]);
        let mut index = git2::Index::open(&index_path).map_err(git("make the commit's index"))?;
        index
            .read_tree(&tree)
            .map_err(git("make the commit's index"))?;
        index.write().map_err(git("write the commit's index"))?;
        let mut msg = tempfile::NamedTempFile::new_in(dir).map_err(|source| CommitError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        msg.write_all(message.as_bytes())
            .and_then(|()| msg.flush())
            .map_err(|source| CommitError::Read {
                path: msg.path().to_path_buf(),
                source,
            })?;
        let head_before = self.repo.head().ok().and_then(|h| h.target());
        // Hooks print on standard output too; casa-build's own output is its summary, so
        // everything git and the hooks say goes to standard error. (The child gets the
        // descriptor itself: nothing is written through it here, so `cli::stderr` has no say.)
        #[allow(clippy::disallowed_methods)]
        let child_stdout = Stdio::from(std::io::stderr());
        let status = self
            .git()
            .arg("commit")
            .arg("--quiet")
            .arg("--file")
            .arg(msg.path())
            .env("GIT_INDEX_FILE", &index_path)
            .stdin(Stdio::inherit())
            .stdout(child_stdout)
            .stderr(Stdio::inherit())
            .status()
            .map_err(|source| CommitError::NoGit { source })?;
        let head = self.repo.head().ok().and_then(|h| h.target());
        if !status.success() || head == head_before {
            return Err(CommitError::GitCommitFailed {
                status: status.to_string(),
            });
        }
        let id = head.ok_or_else(|| CommitError::GitCommitFailed {
            status: "no HEAD after the commit".to_owned(),
        })?;
        let committed = self
            .repo
            .find_commit(id)
            .map_err(git("read the new commit"))?
            .tree_id();
        Ok((id, committed))
    }

    /// Writes the index once the commit is made: `out/` and `paths` as the commit has them,
    /// every other entry (other staged changes, flags) as it was. The new index is made in a
    /// copy and moved into place through the lock taken at the start.
    pub fn write_index(
        &self,
        mut lock: IndexLock,
        commit: Oid,
        paths: &[String],
    ) -> Result<(), CommitError> {
        let commit = self
            .repo
            .find_commit(commit)
            .map_err(git("read the new commit"))?;
        let tree = commit.tree().map_err(git("read the new commit"))?;
        let dir = self.repo.path();
        let copy = dir.join(format!("casa-build-index.{}.next", std::process::id()));
        let _cleanup = Removes(vec![
            copy.clone(),
            dir.join(format!("casa-build-index.{}.next.lock", std::process::id())),
        ]);
        let real = dir.join("index");
        if real.exists() {
            std::fs::copy(&real, &copy).map_err(|source| CommitError::Read {
                path: real.clone(),
                source,
            })?;
        }
        let mut index = git2::Index::open(&copy).map_err(git("read the index"))?;
        index
            .remove_dir(Path::new(&self.out), 0)
            .map_err(git("update the index"))?;
        let mut set = |path: &str| -> Result<(), CommitError> {
            match tree.get_path(Path::new(path)) {
                Ok(e) if e.kind() != Some(ObjectType::Tree) => index
                    .add(&entry(path, e.id(), e.filemode() as u32))
                    .map_err(git("update the index")),
                Ok(_) => Ok(()),
                Err(_) => {
                    let _ = index.remove_path(Path::new(path));
                    Ok(())
                }
            }
        };
        for p in paths {
            set(p)?;
        }
        let mut under_out = Vec::new();
        if let Ok(e) = tree.get_path(Path::new(&self.out))
            && let Ok(t) = self.repo.find_tree(e.id())
        {
            t.walk(TreeWalkMode::PreOrder, |parent, e| {
                if e.kind() != Some(ObjectType::Tree) {
                    under_out.push(format!(
                        "{}/{parent}{}",
                        self.out,
                        String::from_utf8_lossy(e.name_bytes())
                    ));
                }
                TreeWalkResult::Ok
            })
            .map_err(git("read out/ of the new commit"))?;
        }
        for p in &under_out {
            set(p)?;
        }
        index.write().map_err(git("write the index"))?;
        let bytes = std::fs::read(&copy).map_err(|source| CommitError::Read {
            path: copy.clone(),
            source,
        })?;
        let mut file = lock.file.take().ok_or_else(|| CommitError::IndexLocked {
            lock: lock.path.clone(),
        })?;
        let written = file
            .write_all(&bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&lock.path, &real));
        if let Err(source) = written {
            let _ = std::fs::remove_file(&lock.path);
            return Err(CommitError::Read { path: real, source });
        }
        Ok(())
    }

    fn full(&self, path: &str) -> String {
        if path.is_empty() {
            self.out.clone()
        } else {
            format!("{}/{path}", self.out)
        }
    }
}

/// Puts an in-memory store in front of `odb` that takes every object written from now on,
/// until [`CommitRepo::write_held`] packs them into the repository: a refused commit leaves
/// no object behind.
pub fn hold_objects<'o>(odb: &'o git2::Odb<'_>) -> Result<git2::Mempack<'o>, CommitError> {
    // Above the loose and pack stores (priorities 1 and 2), so writes go here first.
    odb.add_new_mempack_backend(1000)
        .map_err(git("hold the commit's objects"))
}

/// An index entry for a path of a tree, with no stat data (git refreshes it on its next look).
fn entry(path: &str, id: Oid, mode: u32) -> IndexEntry {
    let zero = IndexTime::new(0, 0);
    IndexEntry {
        ctime: zero,
        mtime: zero,
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

/// Removes files when dropped (the temporary index and its lock, whatever happened).
struct Removes(Vec<PathBuf>);

impl Drop for Removes {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The default commit message: a subject with the counts, the source files the commit
/// changes, then one line per changed object.
///
/// `objects` maps a file of `out/` to the object it holds (the built side); a removed file's
/// object is read back from its YAML at HEAD by the caller when it can be.
pub fn message(
    plan: &Plan,
    objects: &BTreeMap<String, ResourceId>,
    removed: &BTreeMap<String, ResourceId>,
    sources: &[String],
) -> String {
    // kustomization.yaml files list the objects; they change with them and say nothing more,
    // and neither does the tree's marker.
    let is_object = |p: &&String| {
        (p.rsplit('/').next() != Some("kustomization.yaml") && p.as_str() != crate::tree::MARKER)
            || objects.contains_key(*p)
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
    let mut body = Vec::new();
    if !sources.is_empty() {
        body.push(format!("sources: {}", list(sources)));
    }
    body.extend(lines.iter().take(LISTED).cloned());
    if lines.len() > LISTED {
        body.push(format!("and {} more", lines.len() - LISTED));
    }
    if body.is_empty() {
        format!("{subject}\n")
    } else {
        format!("{subject}\n\n{}\n", body.join("\n"))
    }
}

impl CommitRepo {
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

    fn setup() -> (tempfile::TempDir, CommitRepo) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut config = repo.config().unwrap();
        config.set_str("user.name", "Test").unwrap();
        config.set_str("user.email", "test@example.org").unwrap();
        std::fs::write(dir.path().join("site.toml"), "x").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("site.toml")).unwrap();
        index.write().unwrap();
        let t = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("Test", "test@example.org").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "init", &t, &[])
            .unwrap();
        let out = CommitRepo::open(None, &dir.path().join("out")).unwrap();
        (dir, out)
    }

    fn head_files(r: &CommitRepo) -> Vec<String> {
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
    fn commits_the_staged_sources_with_out_and_leaves_the_rest() {
        let (dir, r) = setup();
        assert_eq!(r.out(), "out");
        let t1 = tree(&[("a/x.yaml", "1\n")]);
        // A staged edit goes in; an unstaged one stays out.
        std::fs::write(dir.path().join("site.toml"), "staged").unwrap();
        let mut index = r.repo.index().unwrap();
        index.add_path(Path::new("site.toml")).unwrap();
        index.write().unwrap();
        std::fs::write(dir.path().join("site.toml"), "unstaged").unwrap();
        let lock = r.lock_index().unwrap();
        assert!(matches!(
            r.lock_index(),
            Err(CommitError::IndexLocked { .. })
        ));
        let (source, paths) = r.source_tree(&Include::Staged).unwrap();
        assert!(paths.is_empty());
        assert_eq!(r.source_changes(source).unwrap(), ["site.toml"]);
        let tree_id = r.commit_tree(source, &t1).unwrap();
        crate::emit::write(&t1, &dir.path().join("out")).unwrap();
        let (commit, committed) = r.run_git_commit(tree_id, "m\n").unwrap();
        assert_eq!(committed, tree_id);
        r.write_index(lock, commit, &paths).unwrap();
        assert_eq!(
            head_files(&r),
            [".casa-build-tree", "a/x.yaml", "site.toml"].map(|p| if p == "site.toml" {
                p.to_owned()
            } else {
                format!("out/{p}")
            })
        );
        let head = r.repo.head().unwrap().peel_to_tree().unwrap();
        let site = head.get_path(Path::new("site.toml")).unwrap();
        assert_eq!(r.repo.find_blob(site.id()).unwrap().content(), b"staged");
        assert!(r.plan(&t1).unwrap().is_empty());
        // The index matches HEAD for out/; the unstaged edit is still only in the work tree.
        let statuses = r.repo.statuses(None).unwrap();
        let dirty: Vec<(String, Status)> = statuses
            .iter()
            .map(|s| (s.path().unwrap().to_owned(), s.status()))
            .collect();
        assert_eq!(dirty, [("site.toml".to_owned(), Status::WT_MODIFIED)]);
        assert!(!r.repo.path().join("index.lock").exists());
    }

    #[test]
    fn a_failing_hook_commits_nothing_and_releases_the_lock() {
        let (dir, r) = setup();
        let hooks = r.repo.path().join("hooks");
        std::fs::create_dir_all(&hooks).unwrap();
        std::fs::write(
            hooks.join("pre-commit"),
            "#!/bin/sh\necho refused by the hook >&2\nexit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            hooks.join("pre-commit"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let index_before = std::fs::read(r.repo.path().join("index")).unwrap();
        let head = r.repo.head().unwrap().target();
        let lock = r.lock_index().unwrap();
        let (source, _) = r.source_tree(&Include::Staged).unwrap();
        let t = tree(&[("a/x.yaml", "1\n")]);
        let id = r.commit_tree(source, &t).unwrap();
        let err = r.run_git_commit(id, "m\n").unwrap_err();
        assert!(matches!(err, CommitError::GitCommitFailed { .. }), "{err}");
        drop(lock);
        assert_eq!(r.repo.head().unwrap().target(), head);
        assert_eq!(
            std::fs::read(r.repo.path().join("index")).unwrap(),
            index_before
        );
        assert!(!r.repo.path().join("index.lock").exists());
        let left: Vec<_> = std::fs::read_dir(r.repo.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("casa-build") || n.starts_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        let _ = dir;
    }

    #[test]
    fn out_outside_the_repository_is_refused() {
        let other = tempfile::tempdir().unwrap();
        let repo_dir = tempfile::tempdir().unwrap();
        Repository::init(repo_dir.path()).unwrap();
        let err = CommitRepo::open(Some(repo_dir.path()), &other.path().join("out"))
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
            message(&plan, &objects, &removed, &[]),
            "casa-build: update out/ (1 added, 1 changed, 1 removed)\n\nadded ConfigMap ns/x\nchanged Service ns/y\nremoved c/z.yaml\n"
        );
        assert_eq!(
            message(
                &Plan::default(),
                &objects,
                &removed,
                &["instances/cms-prod.toml".to_owned()]
            ),
            "casa-build: update out/\n\nsources: instances/cms-prod.toml\n"
        );
    }
}
#[cfg(test)]
mod held_tests {
    use super::*;

    #[test]
    fn held_objects_reach_the_disk_when_written() {
        let dir = tempfile::tempdir().unwrap();
        Repository::init(dir.path()).unwrap();
        let r = CommitRepo::open(None, &dir.path().join("out")).unwrap();
        let odb = r.odb().unwrap();
        let _held = hold_objects(&odb).unwrap();
        let id = r.repo.blob(b"held\n").unwrap();
        let other = Repository::open(dir.path()).unwrap();
        assert!(other.find_blob(id).is_err(), "written before it was asked");
        let mut update = TreeUpdateBuilder::new();
        update.upsert("a/held.txt", id, FileMode::Blob);
        let empty = r.empty_tree().unwrap();
        let base = r.repo.find_tree(empty).unwrap();
        let tree = update.create_updated(&r.repo, &base).unwrap();
        let other = Repository::open(dir.path()).unwrap();
        assert!(other.find_tree(tree).is_err());
        r.write_held(tree).unwrap();
        let other = Repository::open(dir.path()).unwrap();
        assert_eq!(other.find_blob(id).unwrap().content(), b"held\n");
        let t = other.find_tree(tree).unwrap();
        assert!(t.get_path(Path::new("a/held.txt")).is_ok());
    }
}
