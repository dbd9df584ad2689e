//! A BGP autonomous system number. Any integer loads, so that an out-of-range number is
//! reported by the `asn-range` rule at its location rather than as a type error.

use std::fmt;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Asn(pub i64);

impl Asn {
    pub const MAX: i64 = 4_294_967_295;

    pub fn is_valid(self) -> bool {
        (1..=Self::MAX).contains(&self.0)
    }

    /// RFC 6996 private ranges and the RFC 5398 documentation ranges.
    pub fn is_private_or_documentation(self) -> bool {
        matches!(self.0, 64496..=64511 | 64512..=65534 | 65536..=65551 | 4_200_000_000..=4_294_967_294)
    }
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl schemars::JsonSchema for Asn {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Asn".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "integer", "minimum": 1, "maximum": Self::MAX, "description": "a BGP AS number" })
    }
}
