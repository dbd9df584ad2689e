//! Stage `emit`: the only writer of `out/`. The tree is written into a temporary folder next
//! to `out/`, then swapped in with one atomic rename-exchange, so `out/` is at every instant
//! either the old tree or the new one; a failed build never reaches this stage.

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
    if out.is_dir() && compare(tree, out)?.is_empty() {
        return Ok(false);
    }
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
}
