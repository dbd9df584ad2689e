//! Stage `emit`: the only writer of `out/`. The tree is written into a temporary folder next
//! to `out/`, then swapped in with one atomic rename-exchange, so `out/` is at every instant
//! either the old tree or the new one; a failed build never reaches this stage. A build killed
//! mid-write leaves its staging folder beside `out/` (never inside it); the next build removes
//! it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::tree::Tree;

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
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
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let err = |source| EmitError::Write {
        out: out.to_path_buf(),
        source,
    };
    fs::create_dir_all(&parent).map_err(err)?;
    let base = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    // Held until the swap is done and the old tree removed.
    let _writer = claim(&parent, &base);
    if out.is_dir() && compare(tree, out)?.is_empty() {
        return Ok(false);
    }
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{base}.new-"))
        .tempdir_in(&parent)
        .map_err(err)?;
    for (rel, bytes) in &tree.files {
        let path = staging.path().join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(err)?;
        }
        fs::write(&path, bytes).map_err(err)?;
    }
    sync_dir(staging.path());
    if out.exists() {
        // One syscall swaps the two folders; the old tree ends up in the staging path and is
        // removed with it.
        match rustix::fs::renameat_with(
            rustix::fs::CWD,
            staging.path(),
            rustix::fs::CWD,
            out,
            rustix::fs::RenameFlags::EXCHANGE,
        ) {
            Ok(()) => {}
            Err(_) => {
                // Filesystems without RENAME_EXCHANGE: move the old tree aside first; a crash
                // between the two renames leaves it at `.out.old-*` beside out/.
                let old = parent.join(format!(".{base}.old-{}", std::process::id()));
                fs::rename(out, &old).map_err(err)?;
                fs::rename(staging.path(), out).map_err(err)?;
                let _ = fs::remove_dir_all(&old);
                return Ok(true);
            }
        }
    } else {
        fs::rename(staging.path(), out).map_err(err)?;
        return Ok(true);
    }
    sync_dir(&parent);
    drop(staging);
    Ok(true)
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

/// Compares `out/` with a tree, file by file.
pub fn compare(tree: &Tree, out: &Path) -> Result<Drift, EmitError> {
    let mut on_disk = BTreeSet::new();
    if out.is_dir() {
        list(out, out, &mut on_disk)?;
    }
    let mut drift = Drift::default();
    for (rel, bytes) in &tree.files {
        if !on_disk.contains(rel) {
            drift.missing.push(rel.clone());
            continue;
        }
        let path = out.join(rel);
        let disk = fs::read(&path).map_err(|source| EmitError::Read {
            path: path.clone(),
            source,
        })?;
        if &disk != bytes {
            drift.stale.push(rel.clone());
        }
    }
    drift.extra = on_disk
        .into_iter()
        .filter(|p| !tree.files.contains_key(p))
        .collect();
    Ok(drift)
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
        if path.is_dir() {
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
