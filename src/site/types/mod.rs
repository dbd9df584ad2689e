//! Checked newtypes for the domain values of a site. Each owns its grammar: `FromStr` with an
//! error naming the value and what is accepted, a `Display` that round-trips, serde through
//! those two (so the TOML loader points at the bad value), and a JSON Schema for editors.

mod asn;
mod cidr;
pub mod ciphertext;
mod cores;
mod duration;
mod git;
pub mod grammar;
mod image;
mod kubernetes;
mod mig;
mod name;
mod path;
mod proxy;
mod quantity;
pub mod scope;
pub(crate) mod sealed;
mod text;
mod url;

pub use asn::Asn;
pub use cidr::Cidr;
pub use ciphertext::{SealedBytes, SealedFormatError, parse_sealed};
pub use cores::{Cores, MAX_CORES, PositiveCores};
pub use duration::FluxInterval;
pub use git::{GitBranch, TreePath};
pub use grammar::IpAddress;
pub use image::ImageRef;
pub use kubernetes::{KubernetesRelease, KubernetesVersion, describe_releases};
pub use mig::MigProfile;
pub use name::{DnsLabel, DnsSubdomain, Hostname, LabelValue};
pub use path::SitePath;
pub use proxy::CvmfsProxy;
pub use quantity::{ByteSpec, PositiveQuantity, Quantity, human_bytes};
pub use scope::Scope;
pub use sealed::SealedValue;
pub use text::{
    ClaimName, ClientId, CondorValue, DisplayText, Email, HttpsUrl, OAuthScope, PodPath,
    ProfileText, UidDomain,
};
pub use url::{ChartRepositoryUrl, GitUrl};

/// Implements `Serialize` (via `Display`), `Deserialize` (via `FromStr`) and `JsonSchema`
/// (a string with the given description and optional pattern) for a string newtype.
macro_rules! string_newtype_serde {
    ($ty:ty, $name:expr, $desc:expr $(, pattern = $pat:literal)?) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                #[allow(unused_mut)]
                let mut schema = schemars::json_schema!({ "type": "string", "description": $desc });
                $(schema.insert("pattern".into(), $pat.into());)?
                schema
            }
        }
    };
}
pub(crate) use string_newtype_serde;
