//! A path inside the site folder, as `[sealing] cert` names the controller's certificate:
//! relative, of plain segments, never `..`. The site is read from pull requests as well as by
//! its operators, and a path out of the folder (`/home/ci/.ssh/id_ed25519`, `../../.env`) is
//! a file the build has no business reading; the reader also refuses a link out of it.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SitePath(String);

impl SitePath {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SitePath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            Err(format!(
                "`{}` is not a path inside the site folder: {why}",
                s.escape_debug()
            ))
        };
        if s.is_empty() || s.len() > 255 {
            return bad("it must have 1 to 255 characters");
        }
        if s.starts_with('/') {
            return bad("it is absolute; give it relative to the site folder");
        }
        for segment in s.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return bad("its segments may not be empty, `.` or `..`");
            }
            if let Some(c) = segment
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || "-._+@".contains(*c)))
            {
                return bad(&format!(
                    "`{}` is not allowed (letters, digits and -._+@ between slashes)",
                    c.escape_debug()
                ));
            }
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for SitePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

super::string_newtype_serde!(
    SitePath,
    "SitePath",
    "a path relative to the site folder, without `..`",
    pattern = r"^[A-Za-z0-9._+@-]+(/[A-Za-z0-9._+@-]+)*$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_site() {
        for ok in ["kubeseal-flatiron.pem", "certs/sealing.pem"] {
            assert_eq!(ok.parse::<SitePath>().unwrap().to_string(), ok);
        }
        for bad in [
            "/etc/shadow",
            "../../.env",
            "certs/../../x",
            "a//b",
            "./a",
            "",
            "a b",
            "a\nb",
        ] {
            assert!(bad.parse::<SitePath>().is_err(), "{bad:?}");
        }
    }
}
