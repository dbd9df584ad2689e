//! Stage `emit`: the only writer of `out/`. The tree is written into a temporary folder next
//! to `out/`, then swapped in with one atomic rename-exchange, so `out/` is at every instant
//! either the old tree or the new one; a failed build never reaches this stage. A build killed
//! mid-write leaves its staging folder beside `out/` (never inside it); the next build removes
//! it.
//!
//! The new tree holds only what changed as new files: every file whose bytes are already in
//! `out/` is a hard link to the file there, so a rebuild leaves unchanged files untouched
//! (same inode, same mtime: editors, `make`-style tools and `git status` see no change) while
//! the swap stays one rename for the tree as a whole.
//!
//! Since the folder is replaced whole, only a folder casa-build owns is replaced
//! ([`check_owned`]): missing, empty, or holding the tree's marker file (or, for a tree
//! written before the marker existed, nothing but casa-build's objects and kustomizations);
//! never a link, a file, the site folder or a folder holding it, or a folder inside `.git`.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::tree::{MARKER, Tree};

/// Why a folder is not one `emit` may replace; each says what would have been lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutRefused {
    #[error(
        "{} is the site folder or a folder holding it; the output folder is replaced whole, so the site would be deleted",
        out.display()
    )]
    HoldsSite { out: PathBuf },
    #[error("{} is inside a git repository's .git folder", out.display())]
    InGitDir { out: PathBuf },
    #[error(
        "{} is a symbolic link (to {}); the output folder must be a real folder, or the link would be replaced and its target keep a stale tree",
        out.display(),
        target.display()
    )]
    Link { out: PathBuf, target: PathBuf },
    #[error("{} is not a folder", out.display())]
    NotAFolder { out: PathBuf },
    #[error(
        "{} holds files casa-build did not write ({}); the output folder is replaced whole, so they would be deleted",
        out.display(),
        examples.join(", ")
    )]
    NotOurs { out: PathBuf, examples: Vec<String> },
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error(transparent)]
    Refused(#[from] OutRefused),
    #[error("cannot write the tree next to {}", out.display())]
    Write {
        out: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How `out/` differs from a tree.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drift {
    pub missing: Vec<String>,
    pub stale: Vec<String>,
    pub extra: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.stale.is_empty() && self.extra.is_empty()
    }
}

/// Writes `tree` as `out` (replacing it whole). Returns whether anything changed.
pub fn write(tree: &Tree, out: &Path) -> Result<bool, EmitError> {
    let replaced = replace(tree, out)?;
    let changed = replaced.changed();
    replaced.finish();
    Ok(changed)
}

/// A tree swapped in as `out/`, with what it replaced kept aside until [`Replaced::finish`]
/// removes it or [`Replaced::undo`] swaps it back (`commit` undoes when `git commit` fails, so
/// that a refused commit leaves the work tree as it was). Dropping it finishes.
pub struct Replaced {
    out: PathBuf,
    parent: PathBuf,
    state: Swap,
    _writer: Option<fs::File>,
}

enum Swap {
    /// `out/` already was the tree.
    Unchanged,
    /// `out/` did not exist; the new tree was moved in.
    Created,
    /// The old tree is in the staging folder (one rename-exchange).
    Exchanged(tempfile::TempDir),
    /// The old tree was moved aside to this path (file systems without rename-exchange).
    MovedAside(PathBuf),
    Done,
}

impl Replaced {
    /// Whether `out/` changed.
    pub fn changed(&self) -> bool {
        !matches!(self.state, Swap::Unchanged | Swap::Done)
    }

    /// Removes the old tree.
    pub fn finish(mut self) {
        self.settle();
    }

    fn settle(&mut self) {
        match std::mem::replace(&mut self.state, Swap::Done) {
            Swap::Exchanged(staging) => {
                sync_dir(&self.parent);
                drop(staging);
            }
            Swap::MovedAside(old) => {
                let _ = fs::remove_dir_all(old);
            }
            Swap::Unchanged | Swap::Created | Swap::Done => {}
        }
    }

    /// Puts the old tree back (or removes the new one when there was none).
    pub fn undo(mut self) -> Result<(), EmitError> {
        let err = |source| EmitError::Write {
            out: self.out.clone(),
            source,
        };
        match std::mem::replace(&mut self.state, Swap::Done) {
            Swap::Exchanged(staging) => {
                rustix::fs::renameat_with(
                    rustix::fs::CWD,
                    staging.path(),
                    rustix::fs::CWD,
                    &self.out,
                    rustix::fs::RenameFlags::EXCHANGE,
                )
                .map_err(|e| err(e.into()))?;
                drop(staging);
            }
            Swap::MovedAside(old) => {
                let _ = fs::remove_dir_all(&self.out);
                fs::rename(&old, &self.out).map_err(err)?;
            }
            Swap::Created => {
                fs::remove_dir_all(&self.out).map_err(err)?;
            }
            Swap::Unchanged | Swap::Done => {}
        }
        sync_dir(&self.parent);
        Ok(())
    }
}

impl Drop for Replaced {
    fn drop(&mut self) {
        self.settle();
    }
}

/// Swaps `tree` in as `out` and keeps the old tree until the result is finished or undone.
pub fn replace(tree: &Tree, out: &Path) -> Result<Replaced, EmitError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let err = |source| EmitError::Write {
        out: out.to_path_buf(),
        source,
    };
    fs::create_dir_all(&parent).map_err(err)?;
    check_owned(out, None)?;
    let base = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    // Held until the swap is done and the old tree removed (or put back).
    let writer = claim(&parent, &base);
    let replaced = |state| Replaced {
        out: out.to_path_buf(),
        parent: parent.clone(),
        state,
        _writer: None,
    };
    let scan = if out.is_dir() {
        Some(scan(tree, out)?)
    } else {
        None
    };
    let mut result = if scan.as_ref().is_some_and(|s| s.drift.is_empty()) {
        replaced(Swap::Unchanged)
    } else {
        let same = scan.map(|s| s.same).unwrap_or_default();
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{base}.new-"))
            .tempdir_in(&parent)
            .map_err(err)?;
        let mut made = BTreeSet::new();
        for (rel, bytes) in &tree.files {
            let path = staging.path().join(rel);
            if let Some(dir) = path.parent()
                && made.insert(dir.to_path_buf())
            {
                fs::create_dir_all(dir).map_err(err)?;
            }
            if let Some(id) = same.get(rel.as_str())
                && link_same(&out.join(rel), &path, *id)
            {
                continue;
            }
            fs::write(&path, bytes).map_err(err)?;
        }
        sync_dir(staging.path());
        if out.exists() {
            // One syscall swaps the two folders; the old tree ends up in the staging path.
            match rustix::fs::renameat_with(
                rustix::fs::CWD,
                staging.path(),
                rustix::fs::CWD,
                out,
                rustix::fs::RenameFlags::EXCHANGE,
            ) {
                Ok(()) => replaced(Swap::Exchanged(staging)),
                Err(_) => {
                    // Filesystems without RENAME_EXCHANGE: move the old tree aside first; a
                    // crash between the two renames leaves it at `.out.old-*` beside out/.
                    let old = parent.join(format!(".{base}.old-{}", std::process::id()));
                    fs::rename(out, &old).map_err(err)?;
                    fs::rename(staging.path(), out).map_err(err)?;
                    replaced(Swap::MovedAside(old))
                }
            }
        } else {
            fs::rename(staging.path(), out).map_err(err)?;
            replaced(Swap::Created)
        }
    };
    result._writer = writer;
    Ok(result)
}

/// How many entries of a folder are looked at to decide whether casa-build wrote it: a
/// tree that large is already 100 times the 1,000-node benchmark's.
const MAX_OWNED_ENTRIES: usize = 200_000;

/// Whether `out` is a folder `emit` may replace whole, and if not, why. With `site`, the
/// site folder and its ancestors are refused by name as well (they also hold files casa-build
/// did not write, which the content check would refuse anyway).
pub fn check_owned(out: &Path, site: Option<&Path>) -> Result<(), OutRefused> {
    let refused_out = out.to_path_buf();
    let meta = fs::symlink_metadata(out).ok();
    if let Some(m) = &meta {
        if m.file_type().is_symlink() {
            return Err(OutRefused::Link {
                out: refused_out,
                target: fs::read_link(out).unwrap_or_default(),
            });
        }
        if !m.is_dir() {
            return Err(OutRefused::NotAFolder { out: refused_out });
        }
    }
    // Where the folder is (or would be): its parent resolved, so links on the way count.
    let resolved = match (out.parent(), out.file_name()) {
        (Some(p), Some(name)) => {
            let p = if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            };
            p.canonicalize().ok().map(|p| p.join(name))
        }
        _ => out.canonicalize().ok(),
    };
    if let Some(r) = &resolved {
        if r.components().any(|c| c.as_os_str() == ".git") {
            return Err(OutRefused::InGitDir { out: refused_out });
        }
        if let Some(site) = site.and_then(|s| s.canonicalize().ok())
            && site.starts_with(r)
        {
            return Err(OutRefused::HoldsSite { out: refused_out });
        }
    }
    if meta.is_none() {
        return Ok(());
    }
    if fs::symlink_metadata(out.join(MARKER)).is_ok_and(|m| m.is_file()) {
        return Ok(());
    }
    // No marker: empty, or a tree written before the marker existed.
    let mut foreign = Vec::new();
    let mut stack = vec![out.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            foreign.push(rel(out, &dir));
            break;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > MAX_OWNED_ENTRIES || foreign.len() >= 3 {
                break;
            }
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() && is_ours(&path) => {}
                _ => foreign.push(rel(out, &path)),
            }
        }
        if seen > MAX_OWNED_ENTRIES || foreign.len() >= 3 {
            break;
        }
    }
    if seen > MAX_OWNED_ENTRIES && foreign.is_empty() {
        foreign.push(format!("more than {MAX_OWNED_ENTRIES} entries"));
    }
    if foreign.is_empty() {
        Ok(())
    } else {
        foreign.sort();
        Err(OutRefused::NotOurs {
            out: refused_out,
            examples: foreign,
        })
    }
}

/// Whether a file is one casa-build writes into a tree: a `kustomization.yaml` listing the
/// folder, or an object labelled `app.kubernetes.io/managed-by: casa-build`.
fn is_ours(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.ends_with(".yaml") {
        return false;
    }
    let Some(text) = read_regular(path, crate::sources::MAX_FILE_BYTES) else {
        return false;
    };
    let text = String::from_utf8_lossy(&text);
    if name == "kustomization.yaml" {
        text.contains("kind: Kustomization") && text.contains("resources:")
    } else {
        text.contains("app.kubernetes.io/managed-by: casa-build")
    }
}

/// A regular file's bytes, at most `cap` (a link, a FIFO or a device is not read).
fn read_regular(path: &Path, cap: u64) -> Option<Vec<u8>> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let stat = rustix::fs::fstat(&fd).ok()?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return None;
    }
    // The file's own size bounds the buffer (the cap bounds the read).
    let want = u64::try_from(stat.st_size).unwrap_or(0).min(cap);
    let mut bytes = Vec::with_capacity(usize::try_from(want).unwrap_or(0) + 1);
    fs::File::from(fd)
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// Whether `path` is a regular file holding exactly `bytes`, and its identity as it was read.
/// A file of another size is not read: only a file that may be the same costs its bytes.
fn holds(path: &Path, bytes: &[u8]) -> Option<FileId> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let stat = rustix::fs::fstat(&fd).ok()?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile
        || u64::try_from(stat.st_size).ok()? != bytes.len() as u64
    {
        return None;
    }
    // One byte past the size: a file that grew since the fstat is not the same.
    let mut disk = Vec::with_capacity(bytes.len() + 1);
    fs::File::from(fd)
        .take(bytes.len() as u64 + 1)
        .read_to_end(&mut disk)
        .ok()?;
    (disk == bytes).then(|| FileId::of(&stat))
}

fn rel(root: &Path, path: &Path) -> String {
    let r = path.strip_prefix(root).unwrap_or(path);
    let s = r.display().to_string();
    crate::redact::escape_controls(if s.is_empty() { "." } else { &s }).into_owned()
}

/// Takes the writers' lock on the folder holding `out/`, then removes the staging folders
/// (`.out.new-*`) and moved-aside trees (`.out.old-*`) that killed builds left beside it.
///
/// The lock is what makes the removal safe: every build that writes here holds it from
/// before its staging folder exists until that folder is gone, so whatever matches those
/// names while we hold it belongs to a process that died (flock locks go with the process).
/// A second build beside the same `out/` waits for the first. Without the lock (a filesystem
/// without flock) nothing is removed: leftovers are only clutter outside `out/`, never part
/// of it.
fn claim(parent: &Path, base: &str) -> Option<fs::File> {
    let dir = fs::File::open(parent).ok()?;
    dir.lock().ok()?;
    let prefixes = [format!(".{base}.new-"), format!(".{base}.old-")];
    if let Ok(entries) = fs::read_dir(parent) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let ours = name
                .to_str()
                .is_some_and(|n| prefixes.iter().any(|p| n.starts_with(p.as_str())));
            if ours && entry.file_type().is_ok_and(|t| t.is_dir()) {
                // Best effort: one that cannot be removed now is tried again next build.
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    Some(dir)
}

fn sync_dir(dir: &Path) {
    // Best effort: the rename is atomic either way; this only orders it after the writes on
    // power loss.
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Compares `out/` with a tree, file by file. Nothing is followed or waited on: a link or a
/// FIFO where a file of the tree belongs is stale, a link to a folder is an extra entry.
pub fn compare(tree: &Tree, out: &Path) -> Result<Drift, EmitError> {
    Ok(scan(tree, out)?.drift)
}

/// A file's identity on disk: which inode, and the size and modification time it had when
/// its bytes were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    size: i64,
    mtime: (i64, i64),
}

impl FileId {
    fn of(stat: &rustix::fs::Stat) -> Self {
        Self {
            dev: stat.st_dev,
            ino: stat.st_ino,
            size: stat.st_size,
            mtime: (stat.st_mtime, stat.st_mtime_nsec as i64),
        }
    }
}

/// What [`compare`] finds, with the identity of every file of `out/` that already holds its
/// tree file's bytes (those are linked into the new tree, not written again).
struct Scan<'t> {
    drift: Drift,
    same: std::collections::HashMap<&'t str, FileId>,
}

fn scan<'t>(tree: &'t Tree, out: &Path) -> Result<Scan<'t>, EmitError> {
    let mut on_disk = BTreeSet::new();
    if fs::symlink_metadata(out).is_ok_and(|m| m.is_dir()) {
        list(out, out, &mut on_disk)?;
    }
    let mut drift = Drift::default();
    let mut same = std::collections::HashMap::new();
    for (rel, bytes) in &tree.files {
        if !on_disk.contains(rel) {
            drift.missing.push(rel.clone());
            continue;
        }
        match holds(&out.join(rel), bytes) {
            Some(id) => {
                same.insert(rel.as_str(), id);
            }
            None => drift.stale.push(rel.clone()),
        }
    }
    drift.extra = on_disk
        .into_iter()
        .filter(|p| !tree.files.contains_key(p))
        .collect();
    Ok(Scan { drift, same })
}

/// Links `from` (a file of the current `out/`) as `to` in the staging tree, if it still is the
/// regular file whose bytes were compared (`id`): the link is checked after it is made, so a
/// file replaced or edited in between is written afresh rather than carried over.
fn link_same(from: &Path, to: &Path, id: FileId) -> bool {
    if fs::hard_link(from, to).is_err() {
        // A file system without hard links (or a file at its link limit): written anew.
        return false;
    }
    let linked = rustix::fs::lstat(to).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
            && FileId::of(&st) == id
    });
    if !linked {
        let _ = fs::remove_file(to);
    }
    linked
}

fn list(root: &Path, dir: &Path, out: &mut BTreeSet<String>) -> Result<(), EmitError> {
    let entries = fs::read_dir(dir).map_err(|source| EmitError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in entries {
        let e = e.map_err(|source| EmitError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            list(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.insert(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree::from_texts(files)
    }

    #[test]
    fn writes_replaces_and_compares() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t1 = tree(&[("a/x.yaml", "1\n"), ("b/y.yaml", "2\n")]);
        assert!(write(&t1, &out).unwrap());
        assert!(compare(&t1, &out).unwrap().is_empty());
        assert!(
            !write(&t1, &out).unwrap(),
            "an unchanged tree is not rewritten"
        );
        let t2 = tree(&[("a/x.yaml", "1b\n"), ("c/z.yaml", "3\n")]);
        assert_eq!(
            compare(&t2, &out).unwrap(),
            Drift {
                missing: vec!["c/z.yaml".into()],
                stale: vec!["a/x.yaml".into()],
                extra: vec!["b/y.yaml".into()]
            }
        );
        assert!(write(&t2, &out).unwrap());
        assert!(compare(&t2, &out).unwrap().is_empty());
        // Nothing but out/ is left beside it.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out")]);
    }

    fn identity(path: &Path) -> (u64, std::time::SystemTime) {
        use std::os::unix::fs::MetadataExt;
        let m = fs::symlink_metadata(path).unwrap();
        (m.ino(), m.modified().unwrap())
    }

    #[test]
    fn a_rebuild_leaves_unchanged_files_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t1 = tree(&[
            ("a/x.yaml", "1\n"),
            ("a/y.yaml", "2\n"),
            ("b/z.yaml", "3\n"),
        ]);
        write(&t1, &out).unwrap();
        let before: Vec<_> = ["a/x.yaml", "a/y.yaml", "b/z.yaml", MARKER]
            .iter()
            .map(|p| identity(&out.join(p)))
            .collect();
        // Coarse file-system clocks: make a rewrite visible in the mtime.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let t2 = tree(&[
            ("a/x.yaml", "1\n"),
            ("a/y.yaml", "2b\n"),
            ("b/z.yaml", "3\n"),
        ]);
        assert!(write(&t2, &out).unwrap());
        assert!(compare(&t2, &out).unwrap().is_empty());
        assert_eq!(identity(&out.join("a/x.yaml")), before[0]);
        assert_eq!(identity(&out.join("b/z.yaml")), before[2]);
        assert_eq!(identity(&out.join(MARKER)), before[3]);
        assert_ne!(identity(&out.join("a/y.yaml")).0, before[1].0);
        // The links of the old tree are gone with it: one name per file again.
        use std::os::unix::fs::MetadataExt;
        assert_eq!(fs::metadata(out.join("a/x.yaml")).unwrap().nlink(), 1);
        assert_eq!(names_beside(&out), ["out"]);
        // Undone, the old tree is back, its unchanged files still the same files.
        let t3 = tree(&[("a/x.yaml", "1c\n"), ("b/z.yaml", "3\n")]);
        let r = replace(&t3, &out).unwrap();
        assert_eq!(identity(&out.join("b/z.yaml")), before[2]);
        r.undo().unwrap();
        assert!(compare(&t2, &out).unwrap().is_empty());
        assert_eq!(identity(&out.join("a/x.yaml")), before[0]);
    }

    #[test]
    fn a_link_or_fifo_with_the_right_name_is_replaced_not_carried_over() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t1 = tree(&[("a/x.yaml", "1\n"), ("a/y.yaml", "2\n")]);
        write(&t1, &out).unwrap();
        // x.yaml becomes a link to a file with the same bytes elsewhere, y.yaml a FIFO.
        let elsewhere = dir.path().join("elsewhere.yaml");
        fs::write(&elsewhere, "1\n").unwrap();
        fs::remove_file(out.join("a/x.yaml")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("a/x.yaml")).unwrap();
        fs::remove_file(out.join("a/y.yaml")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(out.join("a/y.yaml"))
            .status()
            .unwrap();
        assert!(status.success());
        assert!(write(&t1, &out).unwrap());
        for p in ["a/x.yaml", "a/y.yaml"] {
            assert!(fs::symlink_metadata(out.join(p)).unwrap().is_file(), "{p}");
        }
        assert!(compare(&t1, &out).unwrap().is_empty());
        assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "1\n");
    }

    fn names_beside(out: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(out.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn removes_what_killed_builds_left_beside_out() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t = tree(&[("a/x.yaml", "1\n")]);
        assert!(write(&t, &out).unwrap());
        // A staging folder and a moved-aside tree of builds that died, and a folder that is
        // not ours.
        for leftover in [".out.new-Ab12Cd/a", ".out.old-4242/a", ".outside/a"] {
            fs::create_dir_all(dir.path().join(leftover)).unwrap();
            fs::write(dir.path().join(leftover).join("x.yaml"), "partial").unwrap();
        }
        // Even a build that changes nothing cleans up.
        assert!(!write(&t, &out).unwrap());
        assert_eq!(names_beside(&out), [".outside", "out"]);
        assert!(compare(&t, &out).unwrap().is_empty());
    }

    #[test]
    fn refuses_every_folder_it_does_not_own_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let t = tree(&[("a/x.yaml", "1\n")]);
        // A link to another folder: the link stays, and so does what it points at.
        let target = dir.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        let link = dir.path().join("linked");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            write(&t, &link),
            Err(EmitError::Refused(OutRefused::Link { .. }))
        ));
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // A file.
        let file = dir.path().join("file");
        fs::write(&file, "mine").unwrap();
        assert!(matches!(
            write(&t, &file),
            Err(EmitError::Refused(OutRefused::NotAFolder { .. }))
        ));
        assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
        // A folder of other files, such as a site or a checkout.
        let site = dir.path().join("site");
        fs::create_dir_all(site.join("instances")).unwrap();
        fs::write(site.join("site.toml"), "x").unwrap();
        let err = write(&t, &site).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} holds files casa-build did not write (site.toml); the output folder is replaced whole, so they would be deleted",
                site.display()
            )
        );
        assert!(site.join("site.toml").is_file());
        // The site folder and its ancestors by name, even empty-looking ones.
        assert!(matches!(
            check_owned(dir.path(), Some(&site)),
            Err(OutRefused::HoldsSite { .. })
        ));
        assert!(matches!(
            check_owned(&site, Some(&site)),
            Err(OutRefused::HoldsSite { .. })
        ));
        check_owned(&site.join("out"), Some(&site)).unwrap();
        // Inside .git.
        fs::create_dir_all(dir.path().join(".git/objects")).unwrap();
        assert!(matches!(
            write(&t, &dir.path().join(".git/objects/out")),
            Err(EmitError::Refused(OutRefused::InGitDir { .. }))
        ));
        assert!(!dir.path().join(".git/objects/out").exists());
        // Empty, missing and own folders are fine.
        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        assert!(write(&t, &empty).unwrap());
        assert!(!write(&t, &empty).unwrap());
    }

    #[test]
    fn a_replacement_can_be_undone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t1 = tree(&[("a/x.yaml", "1\n")]);
        let t2 = tree(&[("b/y.yaml", "2\n")]);
        // Nothing there before: undone, nothing there after.
        replace(&t1, &out).unwrap().undo().unwrap();
        assert!(!out.exists());
        assert_eq!(names_beside(&out), Vec::<String>::new());
        write(&t1, &out).unwrap();
        let r = replace(&t2, &out).unwrap();
        assert!(r.changed());
        assert!(compare(&t2, &out).unwrap().is_empty());
        r.undo().unwrap();
        assert!(compare(&t1, &out).unwrap().is_empty());
        assert_eq!(names_beside(&out), ["out"]);
        // Finished, the old tree is gone.
        replace(&t2, &out).unwrap().finish();
        assert!(compare(&t2, &out).unwrap().is_empty());
        assert_eq!(names_beside(&out), ["out"]);
    }

    #[test]
    fn a_tree_from_before_the_marker_is_still_ours() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir_all(out.join("dex")).unwrap();
        fs::write(
            out.join("dex/namespace-dex.yaml"),
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  labels:\n    app.kubernetes.io/managed-by: casa-build\n  name: dex\n",
        )
        .unwrap();
        fs::write(
            out.join("dex/kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- namespace-dex.yaml\n",
        )
        .unwrap();
        check_owned(&out, None).unwrap();
        fs::write(out.join("dex/notes.txt"), "mine").unwrap();
        assert!(matches!(
            check_owned(&out, None),
            Err(OutRefused::NotOurs { .. })
        ));
    }

    #[test]
    fn compare_follows_no_link_and_waits_on_no_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t = tree(&[("a/x.yaml", "1\n"), ("a/y.yaml", "2\n")]);
        write(&t, &out).unwrap();
        fs::remove_file(out.join("a/x.yaml")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", out.join("a/x.yaml")).unwrap();
        fs::remove_file(out.join("a/y.yaml")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(out.join("a/y.yaml"))
            .status()
            .unwrap();
        assert!(status.success());
        std::os::unix::fs::symlink("/", out.join("root")).unwrap();
        let drift = compare(&t, &out).unwrap();
        assert_eq!(drift.stale, ["a/x.yaml", "a/y.yaml"]);
        assert_eq!(drift.extra, ["root"]);
    }

    #[test]
    fn a_second_writer_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        // Stand in for a build that is writing: it holds the lock and has a staging folder.
        let live = claim(dir.path(), "out").expect("flock on a temporary folder");
        fs::create_dir_all(dir.path().join(".out.new-live/a")).unwrap();
        let t = tree(&[("a/x.yaml", "1\n")]);
        let writer = std::thread::spawn({
            let out = out.clone();
            move || write(&t, &out).unwrap()
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(
            !writer.is_finished(),
            "wrote while another build held the lock"
        );
        assert!(
            dir.path().join(".out.new-live").is_dir(),
            "removed a live staging folder"
        );
        drop(live);
        assert!(writer.join().unwrap());
        assert_eq!(names_beside(&out), ["out"]);
    }
}
