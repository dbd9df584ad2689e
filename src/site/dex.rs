//! Dex: the OIDC issuer in front of CILogon/COmanage and CERN IAM, for the hubs and for
//! kubectl.

use super::Spanned;
use super::types::{DnsLabel, SealedValue};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dex {
    pub namespace: DnsLabel,
    /// Canonical issuer URL (https); its host is served by the cluster Traefik.
    pub issuer: String,
    #[serde(default)]
    pub connector: Vec<Connector>,
    #[serde(default)]
    pub static_client: Vec<StaticClient>,
}

/// An upstream identity provider (OIDC).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connector {
    #[schemars(with = "DnsLabel")]
    pub id: Spanned<DnsLabel>,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    #[schemars(with = "Option<SealedValue>")]
    pub client_secret: Option<Spanned<SealedValue>>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Claim holding group membership (COmanage: `isMemberOf`).
    pub groups_claim: Option<String>,
    /// Claim used as the user name.
    pub username_claim: Option<String>,
}

/// A client of Dex: one per instance (redirect `https://<host>/hub/oauth_callback`), plus
/// public clients such as kubectl.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaticClient {
    #[schemars(with = "DnsLabel")]
    pub id: Spanned<DnsLabel>,
    pub name: String,
    /// Public clients (kubelogin) have no secret.
    pub public: bool,
    #[schemars(with = "Vec<String>")]
    pub redirect_uris: Vec<Spanned<String>>,
    #[schemars(with = "Option<SealedValue>")]
    pub secret: Option<Spanned<SealedValue>>,
}
