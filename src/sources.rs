//! The site's source text, read once: from a folder on disk or from a git tree. Every later
//! stage is a function of these strings, so `diff --base` is "run the pipeline twice".

use std::io::Read as _;
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

/// The largest site file read (site.toml, an instance, a template, the sealing certificate).
/// A site file is hand-written text; the largest legitimate one holds a few Secrets of the
/// 1 MiB Kubernetes allows, sealed (about 1.4 MB of base64 each).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// The most instance files a site may have (each is a JupyterHub, a namespace and a Flux
/// unit; the benchmarks build 400).
pub const MAX_INSTANCES: usize = 1_000;
/// The most template files a site's own `templates/` may hold (its folders count too: a
/// tree of empty folders costs a walk as much as files do), and how deep its folders go.
pub const MAX_TEMPLATES: usize = 1_000;
/// The most entries read from one folder of the site: names are kept and sorted before the
/// limits above apply, so a folder of millions of files is refused as it is listed.
pub const MAX_FOLDER_ENTRIES: usize = 10_000;
pub const MAX_TEMPLATE_DEPTH: usize = 8;
/// How many links a path may pass through before it is refused (Linux allows 40).
const MAX_LINK_HOPS: usize = 8;

/// Why a file of the site was not read: it is bad input (exit 2, a located diagnostic), not
/// trouble with the machine. Nothing of its content is kept or shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A symbolic link whose target is outside the site folder (`/proc/self/environ`, a
    /// credentials file, `../../secrets`).
    LinkOutside { target: String },
    /// A symbolic link to nothing.
    LinkDangling { target: String },
    /// Links through links, more than a path may take.
    LinkLoop,
    /// Not a regular file: a folder, a FIFO, a socket, a device.
    NotRegular { kind: &'static str },
    /// `instances/` or `templates/` that is not a folder: a file, a submodule.
    NotAFolder { kind: &'static str },
    /// A name that is not UTF-8: no path of the site can name it.
    NameNotUtf8,
    /// A file of the kernel's own filesystems (`/proc`, `/sys`), whatever its path.
    Special { filesystem: &'static str },
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge { bytes: u64 },
    /// More files of a kind than the site may hold.
    TooMany { what: &'static str, limit: usize },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::LinkOutside { target } => write!(
                f,
                "is a symbolic link to {}, outside the site folder",
                crate::redact::escape_controls(target)
            ),
            Refusal::LinkDangling { target } => write!(
                f,
                "is a symbolic link to {}, which does not exist",
                crate::redact::escape_controls(target)
            ),
            Refusal::LinkLoop => write!(
                f,
                "goes through more than {MAX_LINK_HOPS} symbolic links (a loop?)"
            ),
            Refusal::NotRegular { kind } => write!(f, "is {kind}, not a regular file"),
            Refusal::NotAFolder { kind } => write!(f, "is {kind}, not a folder"),
            Refusal::NameNotUtf8 => write!(f, "has a name that is not UTF-8"),
            Refusal::Special { filesystem } => write!(f, "is a file of {filesystem}"),
            Refusal::TooLarge { bytes } => write!(
                f,
                "is {bytes} bytes; a site file may have at most {MAX_FILE_BYTES}"
            ),
            Refusal::TooMany { what, limit } => {
                write!(f, "holds more than {limit} {what}")
            }
        }
    }
}

impl Refusal {
    /// Whether the refusal is about a size or a count (`limit-exceeded`) rather than about
    /// what the file is (`site-file-refused`).
    pub fn is_limit(&self) -> bool {
        matches!(self, Refusal::TooLarge { .. } | Refusal::TooMany { .. })
    }
}

/// A file (or folder) of the site that was refused, by its path relative to the site folder.
/// A refused `site.toml` or instance has a place in `files` with no text, so a diagnostic can
/// name it.
#[derive(Debug, Clone)]
pub struct RefusedFile {
    pub path: String,
    pub file: Option<FileId>,
    pub reason: Refusal,
}

/// The site's files: `site.toml` first, then `instances/*.toml` sorted by name, then the
/// site's own templates.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
    /// Files that could not be decoded as UTF-8.
    pub binary: Vec<BinaryFile>,
    /// Files that were not read: links out of the site, FIFOs, devices, oversized files.
    pub refused: Vec<RefusedFile>,
    /// Site template overrides: name relative to `templates/` -> text.
    pub templates: Vec<(String, String)>,
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

/// What reading one path of the site found.
pub enum Read {
    Bytes(Vec<u8>),
    Refused(Refusal),
}

/// Whether a name in `instances/` is a file that is not read as an instance: not `*.toml`,
/// and not a dot file (`.gitkeep`, an editor's swap file).
pub fn is_unread_instance_name(name: &str) -> bool {
    !name.ends_with(".toml") && !name.starts_with('.')
}

/// The entries of a site folder's `instances/` that are not read as instances, as
/// `instances/NAME`, sorted; empty when the folder cannot be listed (or leads out of the site).
pub fn unread_instance_files(dir: &Path) -> Vec<String> {
    let Ok(canonical) = dir.canonicalize() else {
        return Vec::new();
    };
    unread_instances(&DiskRoot { dir, canonical }).unwrap_or_default()
}

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

    /// Adds what reading a site file found: its bytes, or its refusal with an empty place
    /// in `files` to point at.
    pub fn add_read(&mut self, path: impl Into<String>, read: Read) -> FileId {
        let path = path.into();
        match read {
            Read::Bytes(bytes) => self.add_bytes(path, bytes),
            Read::Refused(reason) => {
                let file = self.add(path.clone(), String::new());
                self.refused.push(RefusedFile {
                    path,
                    file: Some(file),
                    reason,
                });
                file
            }
        }
    }

    /// Records a refusal that has no file of its own (a template, a folder, a count).
    pub fn refuse(&mut self, path: impl Into<String>, reason: Refusal) {
        self.refused.push(RefusedFile {
            path: path.into(),
            file: None,
            reason,
        });
    }

    pub fn is_binary(&self, id: FileId) -> Option<BinaryFile> {
        self.binary.iter().copied().find(|b| b.file == id)
    }

    /// The refusal of a file, when it was not read.
    pub fn refusal(&self, id: FileId) -> Option<&RefusedFile> {
        self.refused.iter().find(|r| r.file == Some(id))
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

    /// Reads a site folder: `site.toml`, `instances/*.toml`, `templates/**`. A missing folder
    /// or `site.toml`, or a file the machine cannot read, is an I/O error (exit 3); a file that
    /// is not a regular file inside the site folder, or too large, is refused (bad input,
    /// reported by `load`), and so is a site with too many files.
    pub fn from_dir(dir: &Path) -> Result<Self, SourcesError> {
        let root = match dir.canonicalize() {
            Ok(r) if r.is_dir() => DiskRoot { dir, canonical: r },
            _ => {
                return Err(SourcesError::NoSiteDir {
                    dir: dir.to_path_buf(),
                });
            }
        };
        read_site(&root)?.ok_or_else(|| SourcesError::NoSiteFile {
            dir: dir.to_path_buf(),
        })
    }
}

/// A site folder as the reader sees it: a folder on disk, or the site's folder in a git tree.
/// [`read_site`] walks it; an implementation answers for one path at a time, and is where the
/// rules of reading are kept: nothing outside the site folder (links are followed only while
/// they stay inside it), nothing but regular files (no folder, FIFO, device, submodule, no
/// file of `/proc` or `/sys`), and no file larger than [`MAX_FILE_BYTES`], refused by its size
/// before it is read.
pub(crate) trait SiteRoot {
    /// Trouble with the machine or the repository (exit 3), never bad input.
    type Error;
    /// A folder found by [`SiteRoot::folder`], to list.
    type Folder;

    /// A file of the site (`rel` with `/`, relative to the site folder): its bytes, its
    /// refusal, or `None` when nothing is there.
    fn file(&self, rel: &str) -> Result<Option<Read>, Self::Error>;

    /// A folder of the site, links followed: `None` when nothing is there, refused when it
    /// is a link out of the site or not a folder.
    fn folder(&self, rel: &str) -> Result<Option<Result<Self::Folder, Refusal>>, Self::Error>;

    /// The names in a folder, in any order, [`MAX_FOLDER_ENTRIES`] + 1 at the most.
    fn names(&self, folder: &Self::Folder) -> Result<Vec<Name>, Self::Error>;
}

/// A name in a folder of the site. One that is not UTF-8 is kept lossily decoded, to be
/// named in its refusal: no path of the site can be written with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Name {
    pub text: String,
    pub utf8: bool,
}

impl Name {
    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self {
                text: text.to_owned(),
                utf8: true,
            },
            Err(_) => Self {
                text: String::from_utf8_lossy(bytes).into_owned(),
                utf8: false,
            },
        }
    }
}

/// The names of a folder of the site, sorted (so both roots walk in one order).
/// The names of a folder, sorted; refused when the folder holds more than
/// [`MAX_FOLDER_ENTRIES`] (each root lists at most one more).
fn sorted_names<R: SiteRoot>(
    root: &R,
    folder: &R::Folder,
) -> Result<Result<Vec<Name>, Refusal>, R::Error> {
    let mut names = root.names(folder)?;
    if names.len() > MAX_FOLDER_ENTRIES {
        return Ok(Err(Refusal::TooMany {
            what: "entries in one folder",
            limit: MAX_FOLDER_ENTRIES,
        }));
    }
    names.sort();
    Ok(Ok(names))
}

/// Reads a site from its root: `site.toml`, `instances/*.toml` by name, the site's
/// `templates/**`; `None` when there is no `site.toml`. Every `*.toml` entry of `instances/`
/// is an instance: one that is not a regular file of the site (a folder, a link out of it) is
/// refused, never silently skipped. Too many instances are refused before any is read; too
/// many templates, or folders too deep, are refused where the limit is passed.
pub(crate) fn read_site<R: SiteRoot>(root: &R) -> Result<Option<Sources>, R::Error> {
    let mut sources = Sources::new();
    let Some(site) = root.file(SITE_FILE)? else {
        return Ok(None);
    };
    sources.add_read(SITE_FILE, site);

    match root.folder(INSTANCES_DIR)? {
        Some(Ok(instances)) => {
            let names: Vec<Name> = match sorted_names(root, &instances)? {
                Ok(names) => names
                    .into_iter()
                    .filter(|n| n.text.ends_with(".toml"))
                    .collect(),
                Err(reason) => {
                    sources.refuse(INSTANCES_DIR, reason);
                    Vec::new()
                }
            };
            if names.len() > MAX_INSTANCES {
                sources.refuse(
                    INSTANCES_DIR,
                    Refusal::TooMany {
                        what: "instance files",
                        limit: MAX_INSTANCES,
                    },
                );
            } else {
                for name in names {
                    let rel = format!("{INSTANCES_DIR}/{}", name.text);
                    if !name.utf8 {
                        sources.add_read(rel, Read::Refused(Refusal::NameNotUtf8));
                    } else if let Some(read) = root.file(&rel)? {
                        // `None`: gone since the folder was listed, as if listed a moment later.
                        sources.add_read(rel, read);
                    }
                }
            }
        }
        Some(Err(reason)) => sources.refuse(INSTANCES_DIR, reason),
        None => {}
    }

    match root.folder(TEMPLATES_DIR)? {
        Some(Ok(_)) => {
            let mut stack = vec![(TEMPLATES_DIR.to_owned(), 0usize)];
            let mut found = 0usize;
            while let Some((rel_dir, depth)) = stack.pop() {
                let Some(Ok(folder)) = root.folder(&rel_dir)? else {
                    continue;
                };
                let names = match sorted_names(root, &folder)? {
                    Ok(names) => names,
                    Err(reason) => {
                        sources.refuse(rel_dir, reason);
                        continue;
                    }
                };
                for name in names {
                    let rel = format!("{rel_dir}/{}", name.text);
                    found += 1;
                    if found > MAX_TEMPLATES {
                        sources.refuse(
                            TEMPLATES_DIR,
                            Refusal::TooMany {
                                what: "template files and folders",
                                limit: MAX_TEMPLATES,
                            },
                        );
                        stack.clear();
                        break;
                    }
                    let sub = if name.utf8 { root.folder(&rel)? } else { None };
                    match sub {
                        Some(Ok(_)) if depth + 1 < MAX_TEMPLATE_DEPTH => {
                            stack.push((rel, depth + 1));
                            continue;
                        }
                        Some(Ok(_)) => {
                            sources.refuse(
                                rel,
                                Refusal::TooMany {
                                    what: "levels of folders",
                                    limit: MAX_TEMPLATE_DEPTH,
                                },
                            );
                            continue;
                        }
                        _ => {}
                    }
                    if !name.utf8 {
                        sources.refuse(rel, Refusal::NameNotUtf8);
                        continue;
                    }
                    let name_in = rel
                        .strip_prefix(&format!("{TEMPLATES_DIR}/"))
                        .unwrap_or(&rel)
                        .to_owned();
                    match root.file(&rel)? {
                        Some(Read::Bytes(bytes)) => sources
                            .templates
                            .push((name_in, String::from_utf8_lossy(&bytes).into_owned())),
                        Some(Read::Refused(reason)) => sources.refuse(rel, reason),
                        None => {}
                    }
                }
            }
            sources.templates.sort();
        }
        Some(Err(reason)) => sources.refuse(TEMPLATES_DIR, reason),
        None => {}
    }
    Ok(Some(sources))
}

/// The entries of a site's `instances/` that are not read as instances, as `instances/NAME`,
/// sorted; empty when there is no such folder (or it is refused).
pub(crate) fn unread_instances<R: SiteRoot>(root: &R) -> Result<Vec<String>, R::Error> {
    let Some(Ok(instances)) = root.folder(INSTANCES_DIR)? else {
        return Ok(Vec::new());
    };
    // A folder refused for its size lists nothing here: the build reports it.
    Ok(sorted_names(root, &instances)?
        .unwrap_or_default()
        .into_iter()
        .filter(|n| is_unread_instance_name(&n.text))
        .map(|n| format!("{INSTANCES_DIR}/{}", n.text))
        .collect())
}

/// Reads one file the site names (its sealing certificate) under the same rules as the site's
/// own files: a regular file inside the site folder, at most [`MAX_FILE_BYTES`].
pub fn read_site_file(dir: &Path, rel: &str) -> Result<Read, SourcesError> {
    let canonical = dir.canonicalize().map_err(|source| SourcesError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    DiskRoot { dir, canonical }.read(rel)
}

/// The site folder as given and as the kernel resolves it: every path read must resolve
/// inside `canonical`.
struct DiskRoot<'a> {
    dir: &'a Path,
    canonical: PathBuf,
}

impl SiteRoot for DiskRoot<'_> {
    type Error = SourcesError;
    /// The folder's canonical path.
    type Folder = PathBuf;

    fn file(&self, rel: &str) -> Result<Option<Read>, SourcesError> {
        if std::fs::symlink_metadata(self.dir.join(rel)).is_err() {
            return Ok(None);
        }
        self.read(rel).map(Some)
    }

    fn folder(&self, rel: &str) -> Result<Option<Result<PathBuf, Refusal>>, SourcesError> {
        if std::fs::symlink_metadata(self.dir.join(rel)).is_err() {
            return Ok(None);
        }
        Ok(Some(match self.resolve(rel)? {
            Ok(p) if p.is_dir() => Ok(p),
            Ok(p) => Err(Refusal::NotAFolder { kind: kind_of(&p) }),
            Err(r) => Err(r),
        }))
    }

    fn names(&self, dir: &PathBuf) -> Result<Vec<Name>, SourcesError> {
        use std::os::unix::ffi::OsStrExt as _;
        let err = |source| SourcesError::Read {
            path: dir.clone(),
            source,
        };
        std::fs::read_dir(dir)
            .map_err(err)?
            .take(MAX_FOLDER_ENTRIES + 1)
            .map(|e| Ok(Name::from_bytes(e.map_err(err)?.file_name().as_bytes())))
            .collect()
    }
}

impl DiskRoot<'_> {
    /// Where a relative path of the site really is, following links only while they stay
    /// inside the site folder; `Ok(Err(_))` when it leads out of it or nowhere.
    fn resolve(&self, rel: &str) -> Result<Result<PathBuf, Refusal>, SourcesError> {
        let mut path = self.dir.join(rel);
        for _ in 0..=MAX_LINK_HOPS {
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(source) => return Err(SourcesError::Read { path, source }),
            };
            if !meta.file_type().is_symlink() {
                // The folders on the way may be links too: the canonical path says where it
                // is.
                return Ok(match path.canonicalize() {
                    Ok(c) if c.starts_with(&self.canonical) => Ok(c),
                    Ok(c) => Err(Refusal::LinkOutside {
                        target: c.display().to_string(),
                    }),
                    Err(source) => return Err(SourcesError::Read { path, source }),
                });
            }
            let target = std::fs::read_link(&path).map_err(|source| SourcesError::Read {
                path: path.clone(),
                source,
            })?;
            let next = path.parent().unwrap_or(Path::new(".")).join(&target);
            match next.canonicalize() {
                Ok(c) if !c.starts_with(&self.canonical) => {
                    return Ok(Err(Refusal::LinkOutside {
                        target: target.display().to_string(),
                    }));
                }
                Ok(_) => path = next,
                Err(_) if std::fs::symlink_metadata(&next).is_err() => {
                    // Nothing there: where would it have been?
                    let outside = next
                        .parent()
                        .and_then(|p| p.canonicalize().ok())
                        .is_none_or(|p| !p.starts_with(&self.canonical));
                    let target = target.display().to_string();
                    return Ok(Err(if outside {
                        Refusal::LinkOutside { target }
                    } else {
                        Refusal::LinkDangling { target }
                    }));
                }
                Err(_) => return Ok(Err(Refusal::LinkLoop)),
            }
        }
        Ok(Err(Refusal::LinkLoop))
    }

    /// Reads a regular file of the site, at most [`MAX_FILE_BYTES`] of it. The file is opened
    /// without following a last link and without blocking (a FIFO swapped in after the check
    /// is not waited on), then checked again on the open descriptor, so what is read is what
    /// was checked.
    fn read(&self, rel: &str) -> Result<Read, SourcesError> {
        let path = match self.resolve(rel)? {
            Ok(p) => p,
            Err(r) => return Ok(Read::Refused(r)),
        };
        let err = |source: std::io::Error| SourcesError::Read {
            path: self.dir.join(rel),
            source,
        };
        use rustix::fs::{Mode, OFlags};
        let fd = match rustix::fs::open(
            &path,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(e) if e == rustix::io::Errno::ISDIR => {
                return Ok(Read::Refused(Refusal::NotRegular { kind: "a folder" }));
            }
            Err(e) => return Err(err(e.into())),
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| err(e.into()))?;
        let file_type = rustix::fs::FileType::from_raw_mode(stat.st_mode);
        if file_type != rustix::fs::FileType::RegularFile {
            return Ok(Read::Refused(Refusal::NotRegular {
                kind: kind_name(file_type),
            }));
        }
        if let Ok(fs) = rustix::fs::fstatfs(&fd) {
            if fs.f_type == rustix::fs::PROC_SUPER_MAGIC {
                return Ok(Read::Refused(Refusal::Special {
                    filesystem: "/proc",
                }));
            }
            // SYSFS_MAGIC, from linux/magic.h.
            if fs.f_type as u64 == 0x6265_6572 {
                return Ok(Read::Refused(Refusal::Special { filesystem: "/sys" }));
            }
        }
        let size = u64::try_from(stat.st_size).unwrap_or(0);
        if size > MAX_FILE_BYTES {
            return Ok(Read::Refused(Refusal::TooLarge { bytes: size }));
        }
        // The size the kernel reports may be wrong (a file that grows); never read past the cap.
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let file = std::fs::File::from(fd);
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(err)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Ok(Read::Refused(Refusal::TooLarge {
                bytes: bytes.len() as u64,
            }));
        }
        Ok(Read::Bytes(bytes))
    }
}

fn kind_of(path: &Path) -> &'static str {
    match std::fs::metadata(path) {
        Ok(m) => {
            use std::os::unix::fs::FileTypeExt;
            let t = m.file_type();
            if t.is_dir() {
                "a folder"
            } else if t.is_fifo() {
                "a FIFO"
            } else if t.is_socket() {
                "a socket"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else {
                "a file"
            }
        }
        Err(_) => "nothing",
    }
}

fn kind_name(t: rustix::fs::FileType) -> &'static str {
    use rustix::fs::FileType;
    match t {
        FileType::Directory => "a folder",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Symlink => "a symbolic link",
        _ => "an unknown kind of file",
    }
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

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SITE_FILE), "site").unwrap();
        std::fs::create_dir(dir.path().join(INSTANCES_DIR)).unwrap();
        dir
    }

    fn refusals(s: &Sources) -> Vec<(String, Refusal)> {
        s.refused
            .iter()
            .map(|r| (r.path.clone(), r.reason.clone()))
            .collect()
    }

    #[test]
    fn links_are_followed_only_inside_the_site() {
        use std::os::unix::fs::symlink;
        let dir = site();
        let inst = dir.path().join(INSTANCES_DIR);
        std::fs::create_dir(dir.path().join("shared")).unwrap();
        std::fs::write(dir.path().join("shared/hub.toml"), "inside").unwrap();
        symlink("../shared/hub.toml", inst.join("a.toml")).unwrap();
        symlink("/proc/self/environ", inst.join("b.toml")).unwrap();
        symlink("../../elsewhere.toml", inst.join("c.toml")).unwrap();
        symlink("missing.toml", inst.join("d.toml")).unwrap();
        symlink("e.toml", inst.join("e.toml")).unwrap();
        let s = Sources::from_dir(dir.path()).unwrap();
        let a = s.find("instances/a.toml").unwrap();
        assert_eq!(s.get(a).unwrap().text, "inside");
        assert_eq!(
            refusals(&s),
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
                        target: "../../elsewhere.toml".into()
                    }
                ),
                (
                    "instances/d.toml".to_owned(),
                    Refusal::LinkDangling {
                        target: "missing.toml".into()
                    }
                ),
                ("instances/e.toml".to_owned(), Refusal::LinkLoop),
            ]
        );
        // A refused file has a place, with no text, and nothing of the target is kept.
        let b = s.find("instances/b.toml").unwrap();
        assert_eq!(s.get(b).unwrap().text, "");
    }

    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let dir = site();
        let inst = dir.path().join(INSTANCES_DIR);
        std::fs::create_dir(inst.join("folder.toml")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(inst.join("pipe.toml"))
            .status()
            .unwrap();
        assert!(fifo.success());
        let big = vec![b'#'; MAX_FILE_BYTES as usize + 1];
        std::fs::write(inst.join("z-big.toml"), big).unwrap();
        std::fs::write(inst.join("y-max.toml"), vec![b'#'; MAX_FILE_BYTES as usize]).unwrap();
        let s = Sources::from_dir(dir.path()).unwrap();
        assert_eq!(
            refusals(&s),
            [
                (
                    "instances/folder.toml".to_owned(),
                    Refusal::NotRegular { kind: "a folder" }
                ),
                (
                    "instances/pipe.toml".to_owned(),
                    Refusal::NotRegular { kind: "a FIFO" }
                ),
                (
                    "instances/z-big.toml".to_owned(),
                    Refusal::TooLarge {
                        bytes: MAX_FILE_BYTES + 1
                    }
                ),
            ]
        );
        assert!(
            s.find("instances/y-max.toml")
                .is_some_and(|f| s.refusal(f).is_none())
        );
    }

    #[test]
    fn too_many_instances_are_refused_before_any_is_read() {
        let dir = site();
        for i in 0..=MAX_INSTANCES {
            std::fs::write(dir.path().join(format!("instances/{i}.toml")), "").unwrap();
        }
        let s = Sources::from_dir(dir.path()).unwrap();
        assert_eq!(s.files().count(), 1);
        assert_eq!(
            refusals(&s),
            [(
                "instances".to_owned(),
                Refusal::TooMany {
                    what: "instance files",
                    limit: MAX_INSTANCES
                }
            )]
        );
    }

    #[test]
    fn a_tree_of_empty_folders_counts_against_the_template_limit() {
        let dir = site();
        for i in 0..=MAX_TEMPLATES {
            std::fs::create_dir_all(dir.path().join(format!("templates/{i}"))).unwrap();
        }
        let s = Sources::from_dir(dir.path()).unwrap();
        assert_eq!(
            refusals(&s),
            [(
                "templates".to_owned(),
                Refusal::TooMany {
                    what: "template files and folders",
                    limit: MAX_TEMPLATES
                }
            )]
        );
    }

    #[test]
    fn a_folder_of_too_many_entries_is_refused_as_it_is_listed() {
        let dir = site();
        for i in 0..=MAX_FOLDER_ENTRIES {
            std::fs::write(dir.path().join(format!("instances/{i}.txt")), "").unwrap();
        }
        let s = Sources::from_dir(dir.path()).unwrap();
        assert_eq!(s.files().count(), 1, "only site.toml is read");
        assert_eq!(
            refusals(&s),
            [(
                "instances".to_owned(),
                Refusal::TooMany {
                    what: "entries in one folder",
                    limit: MAX_FOLDER_ENTRIES
                }
            )]
        );
    }

    /// A path in the site (bytes, to plant a name that is not UTF-8) and what is there: a file
    /// (`Ok(text)`) or a symbolic link (`Err(target)`).
    type Planted<'a> = (Vec<u8>, Result<Vec<u8>, &'a str>);

    /// A hostile site, written to a folder inside a git repository and its tree written: the
    /// site as read from the folder and as read from the tree.
    fn site_on_disk_and_in_git(entries: &[Planted<'_>]) -> (Sources, Sources) {
        use std::os::unix::ffi::OsStrExt as _;
        let repo_dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(repo_dir.path()).unwrap();
        let site = repo_dir.path().join("site");
        std::fs::create_dir(&site).unwrap();
        std::fs::write(repo_dir.path().join("secrets.env"), "TOKEN=x").unwrap();
        for (rel, what) in entries {
            let path = site.join(std::ffi::OsStr::from_bytes(rel));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            match what {
                Ok(text) => std::fs::write(&path, text).unwrap(),
                Err(target) => std::os::unix::fs::symlink(target, &path).unwrap(),
            }
        }
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        let tree = index.write_tree().unwrap();
        let site_repo = crate::diff::git::SiteRepo::open(&site).unwrap();
        let in_git = site_repo.sources_of_tree(tree, "the test").unwrap();
        (Sources::from_dir(&site).unwrap(), in_git)
    }

    fn read_of(s: &Sources) -> Vec<(String, String)> {
        s.files()
            .map(|(_, f)| (f.path.clone(), f.text.clone()))
            .chain(s.templates.iter().cloned())
            .collect()
    }

    #[test]
    fn a_hostile_site_is_refused_alike_on_disk_and_in_git() {
        let file = |rel: &str, text: &[u8]| (rel.as_bytes().to_vec(), Ok(text.to_vec()));
        let link = |rel: &str, target| (rel.as_bytes().to_vec(), Err(target));
        let big = vec![b'#'; MAX_FILE_BYTES as usize + 1];
        let mut bad_name = b"instances/caf".to_vec();
        bad_name.extend(b"\xff.toml");
        let (disk, git) = site_on_disk_and_in_git(&[
            file("site.toml", b"site"),
            file("instances/a.toml", b"a"),
            link("instances/b.toml", "../../secrets.env"),
            link("instances/c.toml", "/etc/passwd"),
            file("instances/d.toml", &big),
            (bad_name, Ok(b"x".to_vec())),
            file("templates/ok.yaml.j2", b"t"),
            link("templates/dex/leak.yaml.j2", "../../../secrets.env"),
            file("templates/dex/big.yaml.j2", &big),
        ]);
        let expected = [
            (
                "instances/b.toml".to_owned(),
                Refusal::LinkOutside {
                    target: "../../secrets.env".into(),
                },
            ),
            (
                "instances/c.toml".to_owned(),
                Refusal::LinkOutside {
                    target: "/etc/passwd".into(),
                },
            ),
            (
                "instances/caf\u{fffd}.toml".to_owned(),
                Refusal::NameNotUtf8,
            ),
            (
                "instances/d.toml".to_owned(),
                Refusal::TooLarge {
                    bytes: MAX_FILE_BYTES + 1,
                },
            ),
            (
                "templates/dex/big.yaml.j2".to_owned(),
                Refusal::TooLarge {
                    bytes: MAX_FILE_BYTES + 1,
                },
            ),
            (
                "templates/dex/leak.yaml.j2".to_owned(),
                Refusal::LinkOutside {
                    target: "../../../secrets.env".into(),
                },
            ),
        ];
        assert_eq!(refusals(&disk), expected);
        assert_eq!(refusals(&git), expected);
        assert_eq!(read_of(&disk), read_of(&git));
        assert!(read_of(&disk).contains(&("ok.yaml.j2".to_owned(), "t".to_owned())));
        assert!(
            !read_of(&disk)
                .iter()
                .any(|(_, text)| text.contains("TOKEN"))
        );

        let mut crowded = vec![file("site.toml", b"site"), file("templates", b"a file")];
        crowded.extend((0..=MAX_INSTANCES).map(|i| file(&format!("instances/{i}.toml"), b"")));
        let (disk, git) = site_on_disk_and_in_git(&crowded);
        let expected = [
            (
                "instances".to_owned(),
                Refusal::TooMany {
                    what: "instance files",
                    limit: MAX_INSTANCES,
                },
            ),
            (
                "templates".to_owned(),
                Refusal::NotAFolder { kind: "a file" },
            ),
        ];
        assert_eq!(refusals(&disk), expected);
        assert_eq!(refusals(&git), expected);
        assert_eq!(
            read_of(&disk),
            [("site.toml".to_owned(), "site".to_owned())]
        );
        assert_eq!(read_of(&git), read_of(&disk));
    }
}
