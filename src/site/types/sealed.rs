//! A secret in the site: the Sealed Secrets ciphertext plus the identity it was sealed for.
//! A plain string is refused without repeating it: the loader's message and the rendered
//! snippet must never carry the plaintext.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::Scope;

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

struct SealedVisitor;

impl SealedVisitor {
    fn plain<E: de::Error>(kind: &str) -> E {
        E::custom(format!(
            "a plain {kind} in a secret field; only a sealed value \
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

    // Field by field rather than through a derived struct, so that nothing inside the table
    // can reach a message or a snippet: an unknown key or a mistyped `sealed` may hold the
    // plaintext (`{ value = "…" }`, `{ sealed = 1234 }`), and is reported masked like a
    // plain value.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SealedValue, A::Error> {
        let mut sealed = None;
        let mut scope = None;
        let mut namespace = None;
        let mut name = None;
        let mut key = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "sealed" => {
                    let v = map.next_value::<String>().map_err(|_| {
                        <A::Error as de::Error>::custom(
                            "`sealed` holds something other than a string; \
                             it takes the ciphertext `casa-build seal` writes",
                        )
                    })?;
                    sealed = Some(v);
                }
                "scope" => scope = Some(map.next_value::<ScopeWire>()?.0),
                "namespace" => namespace = Some(map.next_value::<String>()?),
                "name" => name = Some(map.next_value::<String>()?),
                "key" => key = Some(map.next_value::<String>()?),
                _ => {
                    return Err(<A::Error as de::Error>::custom(format!(
                        "`{}` is not a key of a sealed value (sealed, scope, \
                         namespace, name, key); the table is masked in case it holds a secret",
                        k.escape_debug()
                    )));
                }
            }
        }
        Ok(SealedValue {
            sealed: sealed.ok_or_else(|| <A::Error as de::Error>::missing_field("sealed"))?,
            scope: scope.unwrap_or_default(),
            namespace,
            name,
            key: key.ok_or_else(|| <A::Error as de::Error>::missing_field("key"))?,
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Holder {
        #[allow(dead_code)]
        secret: toml::Spanned<SealedValue>,
    }

    fn load(text: &str) -> Result<Holder, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn reads_the_sealed_form() {
        let h = load(r#"secret = { sealed = "AgB=", scope = "namespace-wide", namespace = "ns", key = "k" }"#)
            .unwrap();
        let v = h.secret.get_ref();
        assert_eq!(
            (
                v.scope,
                v.namespace.as_deref(),
                v.name.as_deref(),
                v.key.as_str()
            ),
            (Scope::NamespaceWide, Some("ns"), None, "k")
        );
    }

    #[test]
    fn refuses_plain_values_without_repeating_them() {
        for text in [
            r#"secret = "hunter2""#,
            r#"secret = { value = "hunter2", key = "k" }"#,
            r#"secret = { sealed = 12345678, key = "k" }"#,
        ] {
            let e = load(text).unwrap_err();
            assert!(
                !e.message().contains("hunter2") && !e.message().contains("12345678"),
                "{e}"
            );
            // The whole value is the span, so the masked snippet hides all of it.
            assert_eq!(e.span(), Some(9..text.len()), "{text}");
        }
    }

    #[test]
    fn names_a_missing_key() {
        let e = load(r#"secret = { sealed = "AgB=" }"#).unwrap_err();
        assert_eq!(e.message(), "missing field `key`");
    }
}
