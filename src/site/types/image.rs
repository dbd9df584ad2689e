//! A container image reference: `[registry/]repository[:tag][@sha256:digest]`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    text: String,
    tag: Option<String>,
    digest: Option<String>,
    repository: String,
}

impl ImageRef {
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// Everything before the tag and digest.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// Pinned: a digest, or a tag other than `latest`.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some() || self.tag.as_deref().is_some_and(|t| t != "latest")
    }
}

impl FromStr for ImageRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "`{s}` is not an image reference ({why}); expected e.g. `nvcr.io/nvidia/tritonserver:22.08-py3`"
            )
        };
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                let hex = d
                    .strip_prefix("sha256:")
                    .ok_or_else(|| bad("digest must be sha256:<64 hex>"))?;
                if hex.len() != 64
                    || !hex
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                {
                    return Err(bad("digest must be sha256:<64 hex>"));
                }
                (r, Some(d.to_owned()))
            }
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                && !t.starts_with(['.', '-']);
            if !ok {
                return Err(bad("tags are at most 128 of [A-Za-z0-9_.-]"));
            }
        }
        let components_ok = !repository.is_empty()
            && repository.split('/').enumerate().all(|(i, c)| {
                !c.is_empty()
                    && (c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                        // the registry part may carry a port and upper case
                        || (i == 0 && c.contains(['.', ':']) && c.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))))
            });
        if !components_ok {
            return Err(bad(
                "repository names are lower-case letters, digits and ._-, separated by /",
            ));
        }
        Ok(Self {
            text: s.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
            repository: repository.to_owned(),
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

super::string_newtype_serde!(
    ImageRef,
    "ImageRef",
    "a container image reference, e.g. hub.opensciencegrid.org/coffea-casa/cc-ubuntu:2023.10.12"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_pinning() {
        let i: ImageRef = "hub.opensciencegrid.org/coffea-casa/cc-ubuntu:2023.10.12"
            .parse()
            .unwrap();
        assert_eq!(i.tag(), Some("2023.10.12"));
        assert_eq!(
            i.repository(),
            "hub.opensciencegrid.org/coffea-casa/cc-ubuntu"
        );
        assert!(i.is_pinned());
        assert!(
            !"coffeateam/coffea-dask:latest"
                .parse::<ImageRef>()
                .unwrap()
                .is_pinned()
        );
        assert!(!"localhost:5000/x".parse::<ImageRef>().unwrap().is_pinned());
        assert_eq!(
            "localhost:5000/x:1".parse::<ImageRef>().unwrap().tag(),
            Some("1")
        );
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["", "UPPER/case:1", "a:", "a@sha256:xyz", "a//b:1"] {
            assert!(bad.parse::<ImageRef>().is_err(), "{bad}");
        }
    }
}
