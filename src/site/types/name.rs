//! Names the API server checks: DNS-1123 labels (namespaces, most object names), DNS-1123
//! subdomains, hostnames, and label values.

use std::fmt;
use std::str::FromStr;

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

macro_rules! name_type {
    ($ty:ident, $check:expr, $what:literal, $pattern:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(String);

        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(format!(concat!("`{}` is not ", $what), s.escape_debug()))
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        super::string_newtype_serde!($ty, stringify!($ty), $what, pattern = $pattern);
    };
}

name_type!(
    DnsLabel,
    is_label,
    "a DNS-1123 label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)",
    r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
);

name_type!(
    DnsSubdomain,
    |s| s.len() <= 253 && s.split('.').all(is_label),
    "a DNS-1123 subdomain (dot-separated labels of lower-case letters, digits and '-', at most 253 characters)",
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
);

name_type!(
    Hostname,
    |s| s.len() <= 253 && s.contains('.') && s.split('.').all(is_label),
    "a fully qualified host name (RFC 1123: dot-separated lower-case labels, at least two)",
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$"
);

name_type!(
    LabelValue,
    |s| s.len() <= 63
        && (s.is_empty()
            || (s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                && s.as_bytes()[0].is_ascii_alphanumeric()
                && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric())),
    "a Kubernetes label value (at most 63 of [A-Za-z0-9._-], starting and ending with a letter or digit)",
    r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!("cmsaf-prod".parse::<DnsLabel>().is_ok());
        assert!("CMS".parse::<DnsLabel>().is_err());
        assert!("-a".parse::<DnsLabel>().is_err());
        assert!("a".repeat(64).parse::<DnsLabel>().is_err());
    }

    #[test]
    fn hostnames() {
        assert!("coffea.casa".parse::<Hostname>().is_ok());
        assert!("localhost".parse::<Hostname>().is_err());
        assert!("a..b".parse::<Hostname>().is_err());
        assert!(
            "rook-ceph-rgw.rook-ceph.svc"
                .parse::<DnsSubdomain>()
                .is_ok()
        );
    }

    #[test]
    fn label_values() {
        assert!("Tesla-V100S-PCIE-32GB".parse::<LabelValue>().is_ok());
        assert!("".parse::<LabelValue>().is_ok());
        assert!("a b".parse::<LabelValue>().is_err());
    }
}
