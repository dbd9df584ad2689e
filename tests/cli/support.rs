//! The one way tests run casa-build: the real binary, in an empty temporary working
//! directory, on a copy of a site, with assertions on the exit code and the two streams.
//!
//! ```ignore
//! Cli::new().args(["check"]).site(SMALL_SITE).code(0).stdout_has("valid").run();
//! ```
//!
//! Every run also asserts what must hold for any input: the process exited (no signal), no
//! panic message, and nothing was written into the working directory.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use tempfile::TempDir;

/// The repository root (the reference site lives here).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `examples/small-site`, relative to the repository.
pub const SMALL_SITE: &str = "examples/small-site";

/// `examples/tenant-site`: a facility owning only namespaces of a campus cluster.
pub const TENANT_SITE: &str = "examples/tenant-site";

/// `examples/bare-metal`: Cilium, Gateway API, Rook-Ceph and a GPU node.
pub const BARE_METAL: &str = "examples/bare-metal";

/// The reference site's own files at the repository root (the rest of the root is the tool).
const REFERENCE_FILES: &[&str] = &["site.toml", "instances", "kubeseal-flatiron.pem"];

/// A path inside the repository.
pub fn path(rel: &str) -> PathBuf {
    repo().join(rel)
}

/// A command line to run, with what its run must show.
#[must_use]
pub struct Cli {
    args: Vec<OsString>,
    site: Option<TempDir>,
    stdin: Option<Vec<u8>>,
    code: Option<i32>,
    stdout: Option<String>,
    stdout_has: Vec<String>,
    stderr_has: Vec<String>,
    never: Vec<String>,
    site_unchanged: bool,
    env: Vec<(OsString, OsString)>,
    memory_limit_kib: Option<u64>,
    in_site: Option<PathBuf>,
    cwd: Option<PathBuf>,
    closed_output: bool,
}

impl Cli {
    pub fn new() -> Self {
        Self {
            args: Vec::new(),
            site: None,
            stdin: None,
            code: None,
            stdout: None,
            stdout_has: Vec::new(),
            stderr_has: Vec::new(),
            never: Vec::new(),
            site_unchanged: false,
            env: Vec::new(),
            memory_limit_kib: None,
            in_site: None,
            cwd: None,
            closed_output: false,
        }
    }

    /// Sets an environment variable for the run. `KUBECONFIG`, `KUBERNETES_SERVICE_HOST` and
    /// `CASA_SCHEMAS` are otherwise removed, so that no run finds the machine's own cluster
    /// or the developer's own schemas.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs under `ulimit -v` (address space, KiB): a run that tries to hold more fails.
    pub fn memory_limit_kib(mut self, kib: u64) -> Self {
        self.memory_limit_kib = Some(kib);
        self
    }

    /// Runs in this folder of the site copy (relative to it), without `--site`: the command
    /// must find the site itself. The folder must hold the same entries after the run.
    pub fn in_site_folder(mut self, rel: impl Into<PathBuf>) -> Self {
        self.in_site = Some(rel.into());
        self
    }

    /// Runs in `dir` (a folder the test holds, such as a repository), without `--site`.
    pub fn in_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Standard output and standard error are a pipe whose reader has gone (as in
    /// `casa-build check 2>&1 | head -0`): every write meets EPIPE.
    pub fn closed_output(mut self) -> Self {
        self.closed_output = true;
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Runs on a fresh copy of the site folder `dir` (relative to the repository, or
    /// absolute), passed as `--site <copy>` after the other arguments.
    #[track_caller]
    pub fn site(mut self, dir: impl AsRef<Path>) -> Self {
        let tmp = tempdir();
        copy_dir(&repo().join(dir), tmp.path());
        self.site = Some(tmp);
        self
    }

    /// Runs on a copy of the reference site (the site files at the repository root).
    #[track_caller]
    pub fn reference_site(mut self) -> Self {
        let tmp = tempdir();
        for name in REFERENCE_FILES {
            let from = repo().join(name);
            if from.is_dir() {
                copy_dir(&from, &tmp.path().join(name));
            } else {
                copy_file(&from, &tmp.path().join(name));
            }
        }
        self.site = Some(tmp);
        self
    }

    /// The copied site folder, to edit before the run.
    #[track_caller]
    pub fn site_dir(&self) -> &Path {
        self.site.as_ref().expect("no site given").path()
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn code(mut self, code: i32) -> Self {
        self.code = Some(code);
        self
    }

    /// Standard output must be exactly this.
    pub fn stdout(mut self, text: impl Into<String>) -> Self {
        self.stdout = Some(text.into());
        self
    }

    pub fn stdout_has(mut self, text: impl Into<String>) -> Self {
        self.stdout_has.push(text.into());
        self
    }

    pub fn stderr_has(mut self, text: impl Into<String>) -> Self {
        self.stderr_has.push(text.into());
        self
    }

    /// Neither stream may contain this (a secret's plaintext).
    pub fn never_prints(mut self, text: impl Into<String>) -> Self {
        self.never.push(text.into());
        self
    }

    /// Every file of the site copy must be byte for byte, size and mtime the same after the
    /// run, and no file may appear or disappear.
    pub fn site_unchanged(mut self) -> Self {
        self.site_unchanged = true;
        self
    }

    #[track_caller]
    pub fn run(self) -> Run {
        let tmp = tempdir();
        let mut args = self.args.clone();
        let cwd = match (&self.cwd, &self.site, &self.in_site) {
            (Some(dir), _, _) => dir.clone(),
            (None, Some(site), Some(rel)) => site.path().join(rel),
            (None, Some(site), None) => {
                args.push("--site".into());
                args.push(site.path().into());
                tmp.path().to_owned()
            }
            (None, None, _) => tmp.path().to_owned(),
        };
        // The site's root is where a build writes out/: only other folders must stay as
        // they were.
        let check_cwd = self.cwd.is_none() && self.in_site.as_deref() != Some(Path::new("."));
        let cwd_before = check_cwd.then(|| fingerprint(&cwd));
        let before = self.site.as_ref().map(|s| fingerprint(s.path()));
        let shown = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");

        let bin = env!("CARGO_BIN_EXE_casa-build");
        let mut command = match self.memory_limit_kib {
            Some(kib) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        command
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("CASA_SCHEMAS");
        for (k, v) in &self.env {
            command.env(k, v);
        }
        command
            .args(&args)
            .current_dir(&cwd)
            .env_remove("RUST_BACKTRACE")
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        if self.closed_output {
            let (reader, writer) = std::io::pipe().expect("a pipe");
            drop(reader);
            let second = writer.try_clone().expect("a second writer");
            command.stdout(writer).stderr(second);
        } else {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run casa-build {shown}: {e}"));
        // The parent's copies of the pipe's write end go with `command`.
        drop(command);
        if let Some(bytes) = &self.stdin {
            let mut stdin = child.stdin.take().expect("stdin is piped");
            // A command refused before it reads its input (an unknown flag, a bad scope)
            // closes the pipe first: that is its answer, not the test's failure.
            match stdin.write_all(bytes) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                r => r.expect("write stdin"),
            }
        }
        let out = child.wait_with_output().expect("wait for casa-build");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let context = format!(
            "casa-build {shown}\n--- exit: {:?}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
            out.status.code()
        );

        let Some(code) = out.status.code() else {
            panic!("killed by a signal\n{context}");
        };
        assert!(!stderr.contains("panicked"), "a panic\n{context}");
        assert!(
            cwd_before.is_none_or(|before| before == fingerprint(&cwd)),
            "wrote into the working directory\n{context}"
        );
        if let Some(want) = self.code {
            assert_eq!(code, want, "exit code\n{context}");
        }
        if let Some(want) = &self.stdout {
            assert_eq!(&stdout, want, "stdout\n{context}");
        }
        for s in &self.stdout_has {
            assert!(stdout.contains(s.as_str()), "stdout lacks {s:?}\n{context}");
        }
        for s in &self.stderr_has {
            assert!(stderr.contains(s.as_str()), "stderr lacks {s:?}\n{context}");
        }
        for s in &self.never {
            assert!(
                !stdout.contains(s.as_str()) && !stderr.contains(s.as_str()),
                "printed the secret {s:?}\n{context}"
            );
        }
        if self.site_unchanged
            && let (Some(site), Some(before)) = (&self.site, before)
        {
            let after = fingerprint(site.path());
            assert!(
                before == after,
                "the run changed the site folder: {}\n{context}",
                describe_changes(&before, &after)
            );
        }
        Run {
            code,
            stdout,
            stderr,
            site: self.site,
        }
    }
}

/// What a run printed, and the site copy it ran on.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    site: Option<TempDir>,
}

impl Run {
    #[track_caller]
    pub fn site_dir(&self) -> &Path {
        self.site.as_ref().expect("no site given").path()
    }

    /// Standard output as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// A file of the site copy, as text.
    #[track_caller]
    pub fn read(&self, rel: &str) -> String {
        read(&self.site_dir().join(rel))
    }
}

#[track_caller]
pub fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("casa-build-test")
        .tempdir()
        .expect("create a temporary directory")
}

#[track_caller]
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Copies a folder recursively: folders, regular files, and symbolic links as links (the
/// bad-input corpus holds links out of the site, which must stay links).
#[track_caller]
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let path = entry.path();
        let dest = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_symlink() {
            let target = std::fs::read_link(&path).expect("read a link");
            std::os::unix::fs::symlink(&target, &dest)
                .unwrap_or_else(|e| panic!("link {}: {e}", dest.display()));
        } else if kind.is_dir() {
            copy_dir(&path, &dest);
        } else {
            copy_file(&path, &dest);
        }
    }
}

#[track_caller]
fn copy_file(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
}

/// One file's state: bytes, length, modification time.
#[derive(PartialEq, Eq)]
pub struct FileState {
    bytes: Vec<u8>,
    len: u64,
    mtime: Option<SystemTime>,
}

/// Every file and folder under `dir` (relative path -> state; folders have no bytes).
#[track_caller]
pub fn fingerprint(dir: &Path) -> BTreeMap<String, FileState> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let rel = path
                .strip_prefix(dir)
                .expect("inside the folder")
                .to_string_lossy()
                .into_owned();
            let bytes = if meta.is_file() {
                std::fs::read(&path).unwrap_or_default()
            } else if meta.file_type().is_symlink() {
                std::fs::read_link(&path)
                    .map(|t| t.as_os_str().as_encoded_bytes().to_vec())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            if meta.is_dir() {
                stack.push(path);
            }
            // Inside .git only content counts: git (and libgit2) freshen the mtime of an
            // object written again, and a lock taken and released touches the folder.
            let mtime = if rel == ".git" || rel.starts_with(".git/") {
                None
            } else {
                meta.modified().ok()
            };
            out.insert(
                rel,
                FileState {
                    bytes,
                    len: if meta.is_dir() { 0 } else { meta.len() },
                    mtime,
                },
            );
        }
    }
    out
}

fn describe_changes(
    before: &BTreeMap<String, FileState>,
    after: &BTreeMap<String, FileState>,
) -> String {
    let mut v = Vec::new();
    for (k, b) in before {
        match after.get(k) {
            None => v.push(format!("{k} removed")),
            Some(a) if a != b => v.push(format!("{k} changed")),
            Some(_) => {}
        }
    }
    for k in after.keys().filter(|k| !before.contains_key(*k)) {
        v.push(format!("{k} added"));
    }
    v.join(", ")
}
