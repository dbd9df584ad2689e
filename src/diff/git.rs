//! The git adapter of `diff --base`: a revision of the repository holding the site -> the
//! site's `Sources` (and the committed `out/` files), read straight from git objects with
//! git2. No checkout, no worktree, no temporary copy: the working tree is never touched.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree, TreeWalkMode, TreeWalkResult};

use crate::sources::{MAX_FILE_BYTES, Name, Read, Refusal, SITE_FILE, SiteRoot, Sources};

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
        Self::open_in(None, site_dir)
    }

    /// The repository at `repo` (or the one holding `site_dir`), with the site inside it.
    pub fn open_in(repo: Option<&Path>, site_dir: &Path) -> Result<Self, GitError> {
        let site =
            site_dir
                .canonicalize()
                .map_err(|source| crate::worktree::WorktreeError::Path {
                    path: site_dir.to_path_buf(),
                    source,
                })?;
        let (repo, prefix) = crate::worktree::locate(repo, &site, &site)?;
        Ok(Self { repo, prefix })
    }

    /// Reads and writes objects through `odb` (so a tree kept in memory by `commit` is
    /// readable here before it is written to disk).
    pub fn share_odb(&self, odb: &git2::Odb<'_>) -> Result<(), GitError> {
        self.repo.set_odb(odb).map_err(|source| GitError::Read {
            rev: "the commit".to_owned(),
            path: self.rel(""),
            source,
        })
    }

    /// One file of the site folder in a tree (the sealing certificate), under the rules
    /// every site file is read by; `None` when there is none.
    pub fn site_file(&self, tree: Oid, rel: &str, label: &str) -> Result<Option<Read>, GitError> {
        self.read_tree(tree, label, |at| at.file(rel))
    }

    /// Reads the site folder of a tree through `read`; `label` names the tree in errors.
    fn read_tree<T>(
        &self,
        tree: Oid,
        label: &str,
        read: impl FnOnce(&At<'_>) -> Result<T, GitError>,
    ) -> Result<T, GitError> {
        let root = self.repo.find_tree(tree).map_err(|source| GitError::Read {
            rev: label.to_owned(),
            path: self.rel(""),
            source,
        })?;
        read(&At {
            repo: &self.repo,
            root: &root,
            prefix: &self.prefix,
            label,
        })
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
    /// `site.toml`, `instances/*.toml` by name, the site's `templates/**`. The same rules as
    /// on disk: a link is followed only while it stays inside the site folder, anything but a
    /// file (a folder, a submodule) is refused rather than skipped, and so are files larger
    /// than `MAX_FILE_BYTES` (by their size in the object database, before they are read)
    /// and sites with too many of them.
    pub fn sources(&self, rev: &Revision) -> Result<Sources, GitError> {
        self.sources_of_tree(rev.tree, &rev.name)
    }

    /// The site's sources in any tree of the repository (a revision's, or one `commit` is
    /// about to make); `label` names it in errors.
    pub fn sources_of_tree(&self, tree: Oid, label: &str) -> Result<Sources, GitError> {
        self.read_tree(tree, label, |at| crate::sources::read_site(at))?
            .ok_or_else(|| GitError::NoSiteFile {
                rev: label.to_owned(),
                path: self.rel(SITE_FILE),
            })
    }

    /// Every file under `dir` (relative to the site folder) at a revision, by path relative
    /// to `dir`; empty when there is no such folder. This is the committed `out/`, compared
    /// byte for byte with a build: an entry that is not a regular file, or is larger than
    /// `MAX_FILE_BYTES`, is given as empty (so it differs) instead of being read.
    pub fn files(&self, rev: &Revision, dir: &str) -> Result<BTreeMap<String, Vec<u8>>, GitError> {
        let read_err = |source| GitError::Read {
            rev: rev.name.clone(),
            path: self.rel(dir),
            source,
        };
        let root = self.repo.find_tree(rev.tree).map_err(read_err)?;
        let full = join(&self.prefix, dir);
        let entry = match root.get_path(Path::new(&full)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(read_err(e)),
        };
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok(BTreeMap::new());
        }
        let tree = self.repo.find_tree(entry.id()).map_err(read_err)?;
        let mut entries = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            if entry.kind() != Some(ObjectType::Tree) {
                let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                entries.push((format!("{parent}{name}"), entry.id(), entry.filemode()));
            }
            TreeWalkResult::Ok
        })
        .map_err(read_err)?;
        let odb = self.repo.odb().map_err(read_err)?;
        let mut files = BTreeMap::new();
        for (path, id, mode) in entries {
            let regular = mode == 0o100644 || mode == 0o100755;
            let small = odb.read_header(id).is_ok_and(|(size, kind)| {
                kind == ObjectType::Blob && size as u64 <= MAX_FILE_BYTES
            });
            let bytes = if regular && small {
                self.repo
                    .find_blob(id)
                    .map(|b| b.content().to_vec())
                    .map_err(read_err)?
            } else {
                Vec::new()
            };
            files.insert(path, bytes);
        }
        Ok(files)
    }

    /// The entries of `instances/` at a revision that are not read as instances (their names
    /// do not end in `.toml`; dot files left out), as `instances/NAME`: a renamed
    /// `cms-dev.tml` is how an instance disappears without a word.
    pub fn unread_instance_files(&self, rev: &Revision) -> Result<Vec<String>, GitError> {
        self.read_tree(rev.tree, &rev.name, |at| {
            crate::sources::unread_instances(at)
        })
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

/// `a/b` from a prefix (possibly empty) and a path.
fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}/{path}"),
    }
}

/// How many links a path may pass through before it is refused, as on disk.
const MAX_LINK_HOPS: usize = 8;

/// One tree of the repository, read the way `Sources::from_dir` reads the site folder.
struct At<'r> {
    repo: &'r Repository,
    root: &'r Tree<'r>,
    /// The site folder inside the repository (`""` at its root).
    prefix: &'r str,
    label: &'r str,
}

/// Where a path of the site leads in a tree, links followed.
enum Found {
    Missing,
    Refused(Refusal),
    /// The entry's id, kind and mode, and its path in the repository.
    Entry(Oid, Option<ObjectType>, i32, String),
}

impl At<'_> {
    fn err(&self, path: &str) -> impl FnOnce(git2::Error) -> GitError + use<> {
        let rev = self.label.to_owned();
        let path = path.to_owned();
        move |source| GitError::Read { rev, path, source }
    }

    /// Follows `rel` (inside the site folder) through links, as the kernel would on a
    /// checkout, as long as they stay inside the site folder.
    fn find(&self, rel: &str) -> Result<Found, GitError> {
        let mut full = join(self.prefix, rel);
        for hop in 0..=MAX_LINK_HOPS {
            let entry = match self.root.get_path(Path::new(&full)) {
                Ok(e) => e,
                Err(e) if e.code() == git2::ErrorCode::NotFound => {
                    return Ok(if hop == 0 {
                        Found::Missing
                    } else {
                        Found::Refused(Refusal::LinkDangling { target: full })
                    });
                }
                Err(e) => return Err(self.err(&full)(e)),
            };
            if entry.filemode() != 0o120000 {
                return Ok(Found::Entry(
                    entry.id(),
                    entry.kind(),
                    entry.filemode(),
                    full,
                ));
            }
            // A link's blob is its target, relative to the folder holding the link.
            let blob = self.repo.find_blob(entry.id()).map_err(self.err(&full))?;
            let target = String::from_utf8_lossy(blob.content()).into_owned();
            let dir = full.rsplit_once('/').map_or("", |(d, _)| d);
            match normalise(dir, &target) {
                Some(next)
                    if self.prefix.is_empty() || next.starts_with(&format!("{}/", self.prefix)) =>
                {
                    full = next;
                }
                _ => return Ok(Found::Refused(Refusal::LinkOutside { target })),
            }
        }
        Ok(Found::Refused(Refusal::LinkLoop))
    }
}

impl<'r> SiteRoot for At<'r> {
    type Error = GitError;
    type Folder = Tree<'r>;

    fn file(&self, rel: &str) -> Result<Option<Read>, GitError> {
        let (id, kind, mode, full) = match self.find(rel)? {
            Found::Missing => return Ok(None),
            Found::Refused(r) => return Ok(Some(Read::Refused(r))),
            Found::Entry(id, kind, mode, full) => (id, kind, mode, full),
        };
        let kind = match (kind, mode) {
            (Some(ObjectType::Blob), _) => None,
            (Some(ObjectType::Tree), _) => Some("a folder"),
            (_, 0o160000) => Some("a submodule"),
            _ => Some("an unknown kind of entry"),
        };
        if let Some(kind) = kind {
            return Ok(Some(Read::Refused(Refusal::NotRegular { kind })));
        }
        let odb = self.repo.odb().map_err(self.err(&full))?;
        let (size, _) = odb.read_header(id).map_err(self.err(&full))?;
        if size as u64 > MAX_FILE_BYTES {
            return Ok(Some(Read::Refused(Refusal::TooLarge {
                bytes: size as u64,
            })));
        }
        let blob = self.repo.find_blob(id).map_err(self.err(&full))?;
        Ok(Some(Read::Bytes(blob.content().to_vec())))
    }

    fn folder(&self, rel: &str) -> Result<Option<Result<Tree<'r>, Refusal>>, GitError> {
        match self.find(rel)? {
            Found::Missing => Ok(None),
            Found::Refused(r) => Ok(Some(Err(r))),
            Found::Entry(id, Some(ObjectType::Tree), _, full) => Ok(Some(Ok(self
                .repo
                .find_tree(id)
                .map_err(self.err(&full))?))),
            Found::Entry(_, _, 0o160000, _) => Ok(Some(Err(Refusal::NotAFolder {
                kind: "a submodule",
            }))),
            Found::Entry(..) => Ok(Some(Err(Refusal::NotAFolder { kind: "a file" }))),
        }
    }

    fn names(&self, tree: &Tree<'r>) -> Result<Vec<Name>, GitError> {
        Ok(tree
            .iter()
            .take(crate::sources::MAX_FOLDER_ENTRIES + 1)
            .map(|e| Name::from_bytes(e.name_bytes()))
            .collect())
    }
}

/// `target` resolved against `dir` (both `/`-separated, relative to the repository's root);
/// `None` when it is absolute or climbs out of the repository.
fn normalise(dir: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
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
        commit_index(repo, &mut index)
    }

    /// Commits the index on HEAD (the first commit when there is none).
    fn commit_index(repo: &Repository, index: &mut git2::Index) -> Oid {
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
        assert_eq!(
            site.unread_instance_files(&rev).unwrap(),
            ["instances/notes.md"]
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

    /// Commits a symbolic link at `path` pointing at `target`.
    fn commit_link(repo: &Repository, path: &str, target: &str) {
        let mut index = repo.index().unwrap();
        let id = repo.blob(target.as_bytes()).unwrap();
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o120000,
            uid: 0,
            gid: 0,
            file_size: 0,
            id,
            flags: path.len() as u16,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry).unwrap();
        commit_index(repo, &mut index);
    }

    #[test]
    fn links_in_git_follow_the_rules_of_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        commit_files(
            &repo,
            &[
                ("site/site.toml", "one"),
                ("site/shared/hub.toml", "inside"),
                ("secrets.env", "TOKEN=x"),
            ],
        );
        commit_link(&repo, "site/instances/a.toml", "../shared/hub.toml");
        commit_link(&repo, "site/instances/b.toml", "/proc/self/environ");
        commit_link(&repo, "site/instances/c.toml", "../../secrets.env");
        commit_link(&repo, "site/instances/d.toml", "gone.toml");
        commit_link(&repo, "site/instances/e.toml", "e.toml");
        let site = SiteRepo::open(&dir.path().join("site")).unwrap();
        let s = site.sources(&site.resolve("HEAD").unwrap()).unwrap();
        let a = s.find("instances/a.toml").unwrap();
        assert_eq!(s.get(a).unwrap().text, "inside");
        let refused: Vec<(String, Refusal)> = s
            .refused
            .iter()
            .map(|r| (r.path.clone(), r.reason.clone()))
            .collect();
        assert_eq!(
            refused,
            [
                (
                    "instances/b.toml".to_owned(),
                    Refusal::LinkOutside {
                        target: "/proc/self/environ".into()
                    }
                ),
                (
                    "instances/c.toml".to_owned(),
                    Refusal::LinkOutside {
                        target: "../../secrets.env".into()
                    }
                ),
                (
                    "instances/d.toml".to_owned(),
                    Refusal::LinkDangling {
                        target: "site/instances/gone.toml".into()
                    }
                ),
                ("instances/e.toml".to_owned(), Refusal::LinkLoop),
            ]
        );
    }

    #[test]
    fn a_large_blob_is_refused_by_its_size_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let big = "#".repeat(MAX_FILE_BYTES as usize + 1);
        commit_files(&repo, &[("site.toml", "s"), ("instances/big.toml", &big)]);
        let site = SiteRepo::open(dir.path()).unwrap();
        let s = site.sources(&site.resolve("HEAD").unwrap()).unwrap();
        assert_eq!(
            s.refused[0].reason,
            Refusal::TooLarge {
                bytes: MAX_FILE_BYTES + 1
            }
        );
    }
}
