//! The sealing scope of a sealed value: which renames and moves it survives, the OAEP label
//! the controller derives from it, and the annotations that select it on a `SealedSecret`.
//! Part of the site's vocabulary (a sealed value records its scope), so it lives with the
//! other newtypes and the side paths (`seal`, `render`) use it from here.

use std::fmt;
use std::str::FromStr;

/// Annotation that makes a `SealedSecret` cluster-wide when its value is exactly `"true"`.
pub const CLUSTER_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/cluster-wide";
/// Annotation that makes a `SealedSecret` namespace-wide when its value is exactly `"true"`.
pub const NAMESPACE_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/namespace-wide";

/// Which renames and moves a sealed value survives; decides the RSA-OAEP label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Bound to one namespace and name (kubeseal's default).
    #[default]
    Strict,
    /// Bound to one namespace; the object may be renamed.
    NamespaceWide,
    /// Bound to nothing; the object may be renamed and moved.
    ClusterWide,
}

impl Scope {
    /// Every scope, strictest first.
    pub const ALL: [Scope; 3] = [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide];

    /// The RSA-OAEP label the controller derives for an object with this scope.
    ///
    /// `namespace` and `name` are those of the `SealedSecret` object itself, which is what the
    /// controller reads when it unseals.
    pub fn label(&self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// Annotations selecting this scope, for the `SealedSecret`'s own `metadata.annotations`
    /// (the copy the controller reads) and, like kubeseal, its template's.
    ///
    /// Values are the string `"true"`; they must be written as a quoted YAML string, since an
    /// unquoted `true` is a boolean and the API server rejects the object.
    pub fn annotations(&self) -> Vec<(&'static str, &'static str)> {
        match self {
            Scope::Strict => Vec::new(),
            Scope::NamespaceWide => vec![(NAMESPACE_WIDE_ANNOTATION, "true")],
            Scope::ClusterWide => vec![(CLUSTER_WIDE_ANNOTATION, "true")],
        }
    }

    /// The scope the controller would use for an object carrying these annotations.
    ///
    /// Mirrors the controller: only the exact value `"true"` counts, cluster-wide wins over
    /// namespace-wide, and anything else (including `"True"` or a missing annotation) is strict.
    pub fn from_annotations<'a, I>(annotations: I) -> Scope
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut namespace_wide = false;
        for (key, value) in annotations {
            if value != "true" {
                continue;
            }
            if key == CLUSTER_WIDE_ANNOTATION {
                return Scope::ClusterWide;
            }
            if key == NAMESPACE_WIDE_ANNOTATION {
                namespace_wide = true;
            }
        }
        if namespace_wide {
            Scope::NamespaceWide
        } else {
            Scope::Strict
        }
    }

    /// The kebab-case name used by kubeseal's `--scope` flag.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is not one of `strict`, `namespace-wide` or `cluster-wide`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sealing scope {0:?}; expected strict, namespace-wide or cluster-wide")]
pub struct ParseScopeError(String);

impl FromStr for Scope {
    type Err = ParseScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| ParseScopeError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_controller() {
        assert_eq!(Scope::Strict.label("apps", "db"), b"apps/db");
        assert_eq!(Scope::NamespaceWide.label("apps", "db"), b"apps");
        assert_eq!(Scope::ClusterWide.label("apps", "db"), b"");
    }

    #[test]
    fn annotations_per_scope() {
        assert!(Scope::Strict.annotations().is_empty());
        assert_eq!(
            Scope::NamespaceWide.annotations(),
            [("sealedsecrets.bitnami.com/namespace-wide", "true")]
        );
        assert_eq!(
            Scope::ClusterWide.annotations(),
            [("sealedsecrets.bitnami.com/cluster-wide", "true")]
        );
    }

    #[test]
    fn annotations_select_the_same_scope_back() {
        for scope in Scope::ALL {
            assert_eq!(Scope::from_annotations(scope.annotations()), scope);
        }
    }

    #[test]
    fn from_annotations_matches_controller_rules() {
        let cluster = (CLUSTER_WIDE_ANNOTATION, "true");
        let namespace = (NAMESPACE_WIDE_ANNOTATION, "true");
        assert_eq!(
            Scope::from_annotations([namespace, cluster]),
            Scope::ClusterWide
        );
        assert_eq!(
            Scope::from_annotations([cluster, namespace]),
            Scope::ClusterWide
        );
        for value in ["True", "yes", "false", "", " true"] {
            assert_eq!(
                Scope::from_annotations([(CLUSTER_WIDE_ANNOTATION, value)]),
                Scope::Strict,
                "{value:?}"
            );
        }
        assert_eq!(
            Scope::from_annotations([("sealedsecrets.bitnami.com/scope", "cluster-wide")]),
            Scope::Strict
        );
        assert_eq!(Scope::from_annotations([]), Scope::Strict);
    }

    #[test]
    fn names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.to_string().parse::<Scope>(), Ok(scope));
        }
        assert_eq!("namespace-wide".parse(), Ok(Scope::NamespaceWide));
        let err = "Strict".parse::<Scope>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown sealing scope \"Strict\"; expected strict, namespace-wide or cluster-wide"
        );
        assert_eq!(Scope::default(), Scope::Strict);
    }
}
