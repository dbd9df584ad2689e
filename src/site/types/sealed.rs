//! A secret in the site: the Sealed Secrets ciphertext plus the identity it was sealed for.
//! A plain string is refused without repeating it: the loader's message and the rendered
//! snippet must never carry the plaintext.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};

pub use crate::seal::Scope;

/// `{ sealed = "AgB…", scope = "strict", namespace = "cmsaf-prod", name = "hub-oauth", key = "OAUTH_CLIENT_SECRET" }`
#[derive(Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedValue {
    /// The ciphertext, as `casa-build seal` (or `kubeseal --raw`) printed it.
    pub sealed: String,
    /// The scope it was sealed with: `strict` (default), `namespace-wide` or `cluster-wide`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub scope: Scope,
    /// The namespace it was sealed for (strict and namespace-wide).
    pub namespace: Option<String>,
    /// The Secret name it was sealed for (strict).
    pub name: Option<String>,
    /// The Secret key it was sealed for.
    pub key: String,
}

// Only the identity is shown: the ciphertext is long and of no use in a log.
impl fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedValue")
            .field("scope", &self.scope)
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    sealed: String,
    #[serde(default)]
    scope: ScopeWire,
    namespace: Option<String>,
    name: Option<String>,
    key: String,
}

#[derive(Default)]
struct ScopeWire(Scope);

impl<'de> serde::Deserialize<'de> for ScopeWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        s.parse().map(ScopeWire).map_err(|_| {
            de::Error::custom(format!(
                "`{s}` is not a scope; expected `strict`, `namespace-wide` or `cluster-wide`"
            ))
        })
    }
}

/// The marker the loader turns into code CB005 and a redacted snippet.
pub const PLAINTEXT_MARKER: &str = "CB005: ";

struct SealedVisitor;

impl SealedVisitor {
    fn plain<E: de::Error>(kind: &str) -> E {
        E::custom(format!(
            "{PLAINTEXT_MARKER}a plain {kind} in a secret field; only a sealed value \
             `{{ sealed = \"…\", namespace = …, name = …, key = … }}` is accepted"
        ))
    }
}

impl<'de> Visitor<'de> for SealedVisitor {
    type Value = SealedValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sealed value table")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<SealedValue, E> {
        Err(Self::plain("string"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<SealedValue, E> {
        Err(Self::plain("number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<SealedValue, E> {
        Err(Self::plain("number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<SealedValue, E> {
        Err(Self::plain("number"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<SealedValue, E> {
        Err(Self::plain("boolean"))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<SealedValue, A::Error> {
        Err(Self::plain("array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SealedValue, A::Error> {
        let w = Wire::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(SealedValue {
            sealed: w.sealed,
            scope: w.scope.0,
            namespace: w.namespace,
            name: w.name,
            key: w.key,
        })
    }
}

use serde::Deserialize as _;

impl<'de> serde::Deserialize<'de> for SealedValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SealedVisitor)
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
