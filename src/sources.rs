//! The site's source text, read once: from a folder on disk or from a git tree. Every later
//! stage is a function of these strings, so `diff --base` is "run the pipeline twice".

use std::path::{Path, PathBuf};

/// Index of a file in `Sources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub usize);

/// One source file: its path relative to the site root (with `/`), and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self
            .line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    pub fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }
}

/// A file of the site that is not UTF-8 text: reported as a diagnostic, not an I/O error,
/// since it is bad input like any other. Its text is kept lossily decoded so the diagnostic
/// can point at the first bad byte.
#[derive(Debug, Clone, Copy)]
pub struct BinaryFile {
    pub file: FileId,
    pub valid_up_to: usize,
}

/// The site's files: `site.toml` first, then `instances/*.toml` sorted by name, then the
/// site's own templates.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
    /// Files that could not be decoded as UTF-8.
    pub binary: Vec<BinaryFile>,
    /// Site template overrides: name relative to `templates/` -> text.
    pub templates: Vec<(String, String)>,
    /// Other files the site refers to by path (the sealing certificate), by relative path.
    pub extra: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error("no site folder at {} (give the folder holding site.toml with --site)", dir.display())]
    NoSiteDir { dir: PathBuf },
    #[error("no site.toml in {}", dir.display())]
    NoSiteFile { dir: PathBuf },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub const SITE_FILE: &str = "site.toml";
pub const INSTANCES_DIR: &str = "instances";
pub const TEMPLATES_DIR: &str = "templates";

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file from raw bytes; non-UTF-8 content is recorded as binary.
    pub fn add_bytes(&mut self, path: impl Into<String>, bytes: Vec<u8>) -> FileId {
        match String::from_utf8(bytes) {
            Ok(text) => self.add(path, text),
            Err(e) => {
                let valid_up_to = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let file = self.add(path, text);
                self.binary.push(BinaryFile { file, valid_up_to });
                file
            }
        }
    }

    pub fn is_binary(&self, id: FileId) -> Option<BinaryFile> {
        self.binary.iter().copied().find(|b| b.file == id)
    }

    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(path, text));
        FileId(self.files.len() - 1)
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0)
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i), f))
    }

    pub fn find(&self, path: &str) -> Option<FileId> {
        self.files.iter().position(|f| f.path == path).map(FileId)
    }

    /// Reads a site folder: `site.toml`, `instances/*.toml`, `templates/**`. Missing
    /// `site.toml` or an unreadable file is an I/O error (exit 3); bad content is not.
    pub fn from_dir(dir: &Path) -> Result<Self, SourcesError> {
        let mut sources = Self::new();
        if !dir.is_dir() {
            return Err(SourcesError::NoSiteDir {
                dir: dir.to_path_buf(),
            });
        }
        let site = dir.join(SITE_FILE);
        if !site.is_file() {
            return Err(SourcesError::NoSiteFile {
                dir: dir.to_path_buf(),
            });
        }
        sources.add_bytes(SITE_FILE, read(&site)?);

        let instances = dir.join(INSTANCES_DIR);
        if instances.is_dir() {
            // Every `*.toml` entry is an instance: one that is not a readable file (a folder,
            // a dangling link) is an I/O error, never silently skipped.
            for path in sorted_files_and_dirs(&instances)? {
                if path.extension().is_some_and(|e| e == "toml") {
                    let name = rel_name(&path, dir);
                    sources.add_bytes(name, read(&path)?);
                }
            }
        }

        let templates = dir.join(TEMPLATES_DIR);
        if templates.is_dir() {
            let mut stack = vec![templates.clone()];
            while let Some(d) = stack.pop() {
                for path in sorted_files_and_dirs(&d)? {
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        let name = rel_name(&path, &templates);
                        let bytes = read(&path)?;
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        sources.templates.push((name, text));
                    }
                }
            }
            sources.templates.sort();
        }
        Ok(sources)
    }

    /// Reads a file the site names (relative to the site root) into `extra`.
    pub fn load_extra(&mut self, dir: &Path, rel: &str) -> Result<(), SourcesError> {
        if self.extra.iter().any(|(p, _)| p == rel) {
            return Ok(());
        }
        let bytes = read(&dir.join(rel))?;
        self.extra.push((rel.to_owned(), bytes));
        Ok(())
    }

    pub fn extra(&self, rel: &str) -> Option<&[u8]> {
        self.extra
            .iter()
            .find(|(p, _)| p == rel)
            .map(|(_, b)| b.as_slice())
    }
}

fn read(path: &Path) -> Result<Vec<u8>, SourcesError> {
    std::fs::read(path).map_err(|source| SourcesError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn sorted_files_and_dirs(dir: &Path) -> Result<Vec<PathBuf>, SourcesError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SourcesError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut v = Vec::new();
    for e in entries {
        let e = e.map_err(|source| SourcesError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        v.push(e.path());
    }
    v.sort();
    Ok(v)
}

fn rel_name(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_in_characters() {
        let f = SourceFile::new("a", "ab\nçd\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.line_col(100), (3, 1));
    }
}
