//! The Kubernetes version a site targets: `<major>.<minor>`, optionally with a patch level
//! (`1.33`, `1.36.2`). The minor release selects the built-in schemas (they exist per minor
//! release); the patch level is kept only so the value reads back as written.
//!
//! Whether a version is *covered* (has schemas) depends on the schema catalog and the user's
//! schema locations, so that is checked where those are known
//! ([`crate::pipeline::check_kubernetes_version`]), under the same code as a malformed value.

use std::fmt;
use std::str::FromStr;

/// A Kubernetes minor release, `1.33`: what the built-in schemas are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KubernetesRelease {
    pub major: u32,
    pub minor: u32,
}

impl fmt::Display for KubernetesRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl KubernetesRelease {
    /// The name of its built-in schema folders in the kubeconform layout, without the flavour:
    /// `v1.33.0`.
    pub fn folder(self) -> String {
        format!("v{}.{}.0", self.major, self.minor)
    }

    /// Reads a kubeconform folder name (`v1.33.0-standalone-strict`) back, for any flavour.
    pub fn from_folder(name: &str) -> Option<Self> {
        let version = name.strip_prefix('v')?;
        let (version, _flavour) = version.split_once('-')?;
        let mut parts = version.split('.');
        let major = number(parts.next()?)?;
        let minor = number(parts.next()?)?;
        (parts.next()? == "0" && parts.next().is_none()).then_some(Self { major, minor })
    }
}

/// Releases as a reader wants them: runs of consecutive minor releases as ranges,
/// `1.27, 1.33 to 1.37`.
pub fn describe_releases(releases: &[KubernetesRelease]) -> String {
    let mut sorted = releases.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut runs: Vec<(KubernetesRelease, KubernetesRelease)> = Vec::new();
    for r in sorted {
        match runs.last_mut() {
            Some((_, last)) if last.major == r.major && last.minor + 1 == r.minor => *last = r,
            _ => runs.push((r, r)),
        }
    }
    runs.iter()
        .map(|(first, last)| {
            if first == last {
                first.to_string()
            } else {
                format!("{first} to {last}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `kubernetes_version` of `[site]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KubernetesVersion {
    release: KubernetesRelease,
    patch: Option<u32>,
}

impl KubernetesVersion {
    pub fn release(self) -> KubernetesRelease {
        self.release
    }

    /// The patch level as written (`1.36` has none): a component's supported range may start
    /// within a minor release (Flux 2.9: 1.34.1).
    pub fn patch(self) -> Option<u32> {
        self.patch
    }
}

/// A decimal without a sign or leading zeros, as Kubernetes versions are written.
fn number(s: &str) -> Option<u32> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let canonical = s == "0" || !s.starts_with('0');
    if digits && canonical {
        s.parse().ok()
    } else {
        None
    }
}

impl FromStr for KubernetesVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split('.');
        let parsed = (|| {
            let major = number(parts.next()?)?;
            let minor = number(parts.next()?)?;
            let patch = match parts.next() {
                None => None,
                Some(p) => Some(number(p)?),
            };
            parts.next().is_none().then_some(Self {
                release: KubernetesRelease { major, minor },
                patch,
            })
        })();
        parsed.ok_or_else(|| {
            let hint = if s.starts_with('v') {
                " (without the leading `v`)"
            } else {
                ""
            };
            format!(
                "`{s}` is not a Kubernetes version: write <major>.<minor> such as `1.33`{hint}, or with a patch level such as `1.33.4`"
            )
        })
    }
}

impl fmt::Display for KubernetesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(patch) => write!(f, "{}.{patch}", self.release),
            None => self.release.fmt(f),
        }
    }
}

super::string_newtype_serde!(
    KubernetesVersion,
    "KubernetesVersion",
    "a Kubernetes version, <major>.<minor> or <major>.<minor>.<patch> (the minor release selects the built-in schemas)",
    pattern = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_and_keep_their_minor_release() {
        for text in ["1.33", "1.36.2", "1.0", "2.10.0"] {
            let v: KubernetesVersion = text.parse().expect(text);
            assert_eq!(v.to_string(), text);
        }
        let v: KubernetesVersion = "1.36.2".parse().expect("parses");
        assert_eq!(
            v.release(),
            KubernetesRelease {
                major: 1,
                minor: 36
            }
        );
        assert_eq!(v.release().to_string(), "1.36");
        assert_eq!(v.release().folder(), "v1.36.0");
    }

    #[test]
    fn other_forms_are_refused_with_the_code_and_the_expected_form() {
        for text in [
            "",
            "1",
            "1.",
            ".33",
            "1.33.",
            "1.33.4.5",
            "v1.33",
            "1.033",
            "1.x",
            "1.33-rc.1",
            " 1.33",
            "1.-3",
        ] {
            let err = text.parse::<KubernetesVersion>().expect_err(text);
            assert!(
                err.starts_with(&format!("`{text}` is not a Kubernetes version")),
                "{err}"
            );
            assert!(err.contains("such as `1.33`"), "{err}");
        }
        let err = "v1.33".parse::<KubernetesVersion>().expect_err("v");
        assert!(err.contains("without the leading `v`"), "{err}");
    }

    #[test]
    fn releases_read_as_ranges() {
        let r = |minor| KubernetesRelease { major: 1, minor };
        assert_eq!(describe_releases(&[r(35), r(33), r(34)]), "1.33 to 1.35");
        assert_eq!(
            describe_releases(&[r(27), r(33), r(34), r(36)]),
            "1.27, 1.33 to 1.34, 1.36"
        );
        assert_eq!(describe_releases(&[r(30)]), "1.30");
        assert_eq!(describe_releases(&[]), "");
    }

    #[test]
    fn folder_names_read_back_for_any_flavour() {
        let r = KubernetesRelease {
            major: 1,
            minor: 33,
        };
        assert_eq!(
            KubernetesRelease::from_folder("v1.33.0-standalone-strict"),
            Some(r)
        );
        assert_eq!(
            KubernetesRelease::from_folder("v1.33.0-local-strict"),
            Some(r)
        );
        assert_eq!(KubernetesRelease::from_folder("v1.33.1-local-strict"), None);
        assert_eq!(KubernetesRelease::from_folder("master-standalone"), None);
        assert_eq!(KubernetesRelease::from_folder("v1.33.0"), None);
    }
}
