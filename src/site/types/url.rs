//! The URLs Flux's sources fetch from. Their CRDs admit a scheme from a short list
//! (fluxcd/source-controller@v1.9.1: api/v1/gitrepository_types.go `URL` carries
//! `+kubebuilder:validation:Pattern="^(http|https|ssh)://.*$"`, api/v1/helmrepository_types.go
//! `^(http|https|oci)://.*$`), and the controller then parses the rest with Go's `net/url`
//! and dials its host. Checked here, so that a repository written without its scheme is one
//! error at its line instead of a schema violation of the rendered source.

use std::fmt;
use std::str::FromStr;

/// `scheme://[user@]host[:port][/path]`, with a host of letters, digits, `.` and `-` (or a
/// bracketed IPv6 address), no whitespace and no control character anywhere.
fn check(s: &str, schemes: &[&str]) -> Result<(), String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        // `git@host:org/repo.git` is git's scp form, which Go's net/url cannot parse.
        let scp = s
            .split_once('@')
            .is_some_and(|(_, rest)| rest.contains(':'));
        return Err(if scp && schemes.contains(&"ssh") {
            "it is git's scp form, which Flux does not read; write it as ssh:// with `/` after the host".to_owned()
        } else {
            format!("it has no scheme; write it as {}://HOST/PATH", schemes[0])
        });
    };
    if !schemes.contains(&scheme) {
        return Err(format!(
            "the scheme `{}` is not one Flux fetches from here ({})",
            scheme.escape_debug(),
            schemes.join(", ")
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "it holds `{}`; a URL has no spaces",
            c.escape_debug()
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']').map(|(h, _)| h).unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let ok_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if !ok_host {
        return Err("it has no host after `://`".to_owned());
    }
    if let Some(port) = host_port
        .strip_prefix('[')
        .and_then(|v| v.split_once(']'))
        .map_or_else(
            || host_port.split_once(':').map(|(_, p)| p),
            |(_, p)| p.strip_prefix(':'),
        )
        && !port.parse::<u16>().is_ok_and(|p| p != 0)
    {
        return Err(format!(
            "the port `{}` is not a number from 1 to 65535",
            port.escape_debug()
        ));
    }
    Ok(())
}

macro_rules! url_type {
    ($(#[$doc:meta])* $ty:ident, $schemes:expr, $what:literal, $pattern:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty(String);

        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                check(s, $schemes).map(|()| Self(s.to_owned())).map_err(|why| {
                    format!("`{}` is not {}: {why}", s.escape_debug(), $what)
                })
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

        super::string_newtype_serde!($ty, stringify!($ty), $what, pattern = $pattern);
    };
}

url_type!(
    /// The repository of `[gitops]`: what the GitRepository's `spec.url` holds.
    GitUrl,
    &["https", "ssh", "http"],
    "a git repository URL Flux can fetch (https://HOST/PATH or ssh://HOST/PATH, a user before the host if needed)",
    r"^(http|https|ssh)://[^\s]+$"
);

url_type!(
    /// A chart repository of `[charts.*]`: a HelmRepository's `spec.url`, or an OCI
    /// repository (`oci://`).
    ChartRepositoryUrl,
    &["https", "oci", "http"],
    "a Helm chart repository URL (https://HOST/PATH, or oci://HOST/PATH for an OCI registry)",
    r"^(http|https|oci)://[^\s]+$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_urls_the_sites_use() {
        for u in [
            "https://git.physics.example.org/testbed/flux-config.git",
            "ssh://git@github.com/CoffeaTeam/flatiron.git",
            "ssh://git@[2001:db8::1]:2222/site.git",
            "http://gitea.local:3000/x",
        ] {
            assert_eq!(u.parse::<GitUrl>().unwrap().to_string(), u);
        }
        for u in [
            "https://charts.rook.io/release",
            "oci://registry.cern.ch/kubernetes/charts",
        ] {
            assert!(u.parse::<ChartRepositoryUrl>().is_ok(), "{u}");
        }
    }

    #[test]
    fn refuses_what_the_crd_pattern_or_the_controller_refuses() {
        for (u, why) in [
            ("git@github.com:org/repo.git", "scp form"),
            ("github.com/org/repo", "no scheme"),
            ("oci://registry.example.org/x", "the scheme `oci`"),
            ("https://", "no host"),
            ("https://exa mple.org/x", "no spaces"),
            ("https://example.org:99999/x", "the port `99999`"),
        ] {
            let e = u.parse::<GitUrl>().unwrap_err();
            assert!(e.contains(why), "{u}: {e}");
        }
        let e = "ssh://git@example.org/x"
            .parse::<ChartRepositoryUrl>()
            .unwrap_err();
        assert!(e.contains("the scheme `ssh`"), "{e}");
    }
}
