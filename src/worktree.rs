//! Where a path sits inside a git work tree: the one lookup `diff --base` (the site folder)
//! and `commit` (out/) share.

use std::path::{Path, PathBuf};

use git2::Repository;

#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error("{} is not inside a git repository", path.display())]
    NotARepository {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("the repository at {} is bare: casa-build needs a work tree", path.display())]
    Bare { path: PathBuf },
    #[error("cannot resolve {}", path.display())]
    Path {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is outside the repository at {}", path.display(), workdir.display())]
    Outside { path: PathBuf, workdir: PathBuf },
}

/// Opens the repository (exactly at `open_at`, or discovered upwards from `discover_from`) and
/// returns it with `path` (absolute, canonical) relative to its work tree, `/`-separated
/// (`""` for the work tree itself).
pub fn locate(
    open_at: Option<&Path>,
    discover_from: &Path,
    path: &Path,
) -> Result<(Repository, String), WorktreeError> {
    let start = open_at.unwrap_or(discover_from);
    let opened = match open_at {
        Some(p) => Repository::open(p),
        None => Repository::discover(discover_from),
    };
    let repo = opened.map_err(|source| WorktreeError::NotARepository {
        path: start.to_path_buf(),
        source,
    })?;
    let workdir = repo.workdir().ok_or_else(|| WorktreeError::Bare {
        path: repo.path().to_path_buf(),
    })?;
    let workdir = workdir
        .canonicalize()
        .map_err(|source| WorktreeError::Path {
            path: workdir.to_path_buf(),
            source,
        })?;
    let rel = path
        .strip_prefix(&workdir)
        .map_err(|_| WorktreeError::Outside {
            path: path.to_path_buf(),
            workdir: workdir.clone(),
        })?;
    let rel = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    Ok((repo, rel))
}
