//! Dex: the OIDC issuer in front of CILogon/COmanage and CERN IAM, for the hubs and for
//! kubectl.

use serde_json::{Map, Value, json};

use super::components::{At, Capability, DnsName, DnsTarget, Need};
use super::secrets::Slots;
use super::types::{ClaimName, ClientId, DisplayText, DnsLabel, HttpsUrl, OAuthScope, SealedValue};
use super::{Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dex {
    pub namespace: DnsLabel,
    /// Canonical issuer URL (https); its host is served by the cluster Traefik.
    pub issuer: HttpsUrl,
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
    /// The name on Dex's login button.
    pub name: DisplayText,
    /// The upstream issuer URL (https).
    pub issuer: HttpsUrl,
    /// The client id registered with the upstream issuer.
    pub client_id: ClientId,
    #[schemars(with = "Option<SealedValue>")]
    pub client_secret: Option<Spanned<SealedValue>>,
    #[serde(default)]
    pub scopes: Vec<OAuthScope>,
    /// Claim holding group membership (COmanage: `isMemberOf`).
    pub groups_claim: Option<ClaimName>,
    /// Claim used as the user name.
    pub username_claim: Option<ClaimName>,
    /// Accept users whose upstream token carries no `email_verified` claim, as if their
    /// e-mail were verified (Dex `insecureSkipEmailVerified`). Off by default: with the
    /// `email` scope Dex refuses such a login ("missing \"email_verified\" claim",
    /// dex@v2.44.0:connector/oidc/oidc.go), which is the safe failure. Turn it on only for an
    /// issuer that does not send the claim and whose e-mail addresses you trust, since
    /// hubs and the API server then take the address as proven.
    #[serde(default)]
    pub insecure_skip_email_verified: bool,
}

/// A client of Dex: one per instance (redirect `https://<host>/hub/oauth_callback`), plus
/// public clients such as kubectl.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaticClient {
    #[schemars(with = "DnsLabel")]
    pub id: Spanned<DnsLabel>,
    pub name: DisplayText,
    /// Public clients (kubelogin) have no secret.
    pub public: bool,
    #[schemars(with = "Vec<String>")]
    pub redirect_uris: Vec<Spanned<String>>,
    #[schemars(with = "Option<SealedValue>")]
    pub secret: Option<Spanned<SealedValue>>,
}

/// The issuer's host, served by the cluster ingress.
pub(super) fn dns<'a>(site: &'a Site, _: At<'a>) -> Vec<DnsName> {
    site.spec
        .dex
        .iter()
        .map(|d| DnsName {
            name: issuer_host(d.issuer.as_str()).to_owned(),
            target: DnsTarget::Ingress,
            what: "Dex, the OIDC issuer (hubs, kubectl, the API server)".to_owned(),
        })
        .collect()
}

/// The Secret Dex's pod takes its environment from: every connector's and client's secret.
pub const DEX_SECRET: &str = "dex-env";

/// Environment variable name Dex reads a connector's secret from.
pub fn connector_secret_env(id: &str) -> String {
    format!("{}_CLIENT_SECRET", env_name(id))
}

/// Environment variable name Dex reads a static client's secret from.
pub fn client_secret_env(id: &str) -> String {
    format!("CLIENT_{}_SECRET", env_name(id))
}

fn env_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The host of an issuer URL.
pub fn issuer_host(issuer: &str) -> &str {
    let issuer = issuer.trim_end_matches('/');
    issuer
        .split("://")
        .nth(1)
        .unwrap_or(issuer)
        .split(['/', ':'])
        .next()
        .unwrap_or("")
}

pub(super) fn needs<'a>(_: &'a Site, _: At<'a>) -> Vec<Need> {
    vec![Need {
        capability: Capability::Ingress,
        at: None,
        why: "Dex's public issuer URL".to_owned(),
        fix: "run an ingress ([traefik], [ingress_nginx] or [gateway])".to_owned(),
    }]
}

pub(super) fn secrets<'a>(site: &'a Site, _: At<'a>, slots: &mut Slots<'a>) {
    let Some(dex) = &site.spec.dex else {
        return;
    };
    let ns = dex.namespace.as_str();
    for (i, con) in dex.connector.iter().enumerate() {
        let idx = i.to_string();
        slots.add(
            &["dex", "connector", &idx, "client_secret"],
            ns,
            DEX_SECRET,
            &connector_secret_env(con.id.get_ref().as_str()),
            con.client_secret.as_ref(),
            con.id.span(),
        );
    }
    for (i, cl) in dex.static_client.iter().enumerate() {
        if cl.public {
            continue;
        }
        let idx = i.to_string();
        slots.add(
            &["dex", "static_client", &idx, "secret"],
            ns,
            DEX_SECRET,
            &client_secret_env(cl.id.get_ref().as_str()),
            cl.secret.as_ref(),
            cl.id.span(),
        );
    }
}

/// The issuer without a trailing slash and its host, the connectors and clients with the
/// environment variable each secret is read from.
pub(super) fn context(site: &Site) -> Map<String, Value> {
    let Some(dex) = &site.spec.dex else {
        return Map::new();
    };
    let issuer = dex.issuer.as_str().trim_end_matches('/');
    let with_env = |v: Value, env: String| {
        let mut v = v;
        v["secret_env"] = json!(env);
        v
    };
    let connectors: Vec<Value> = dex
        .connector
        .iter()
        .map(|c| with_env(json!(c), connector_secret_env(c.id.get_ref().as_str())))
        .collect();
    let clients: Vec<Value> = dex
        .static_client
        .iter()
        .map(|c| with_env(json!(c), client_secret_env(c.id.get_ref().as_str())))
        .collect();
    let host = issuer_host(issuer);
    Map::from_iter([(
        "dex".to_owned(),
        json!({
            "issuer": issuer,
            "host": host,
            "connectors": connectors,
            "static_clients": clients,
            "secret": DEX_SECRET,
            // No connector or confidential client, no secret: the Secret would not exist.
            "has_secrets": dex.connector.iter().any(|c| c.client_secret.is_some())
                || dex.static_client.iter().any(|c| !c.public && c.secret.is_some()),
            "env_checksum": env_checksum(dex),
        }),
    )])
}

/// A digest of the sealed values of Dex's environment Secret. The chart restarts Dex when its
/// config changes (pod annotation `checksum/config` over the config Secret only, dexidp/
/// helm-charts@dex-0.24.0:charts/dex/templates/deployment.yaml), not when the Secret it takes
/// its environment from does, and environment variables are read at start: a re-sealed
/// client secret would reach Dex only at its next restart. The digest, as a pod annotation,
/// changes with any re-sealed value. Ciphertext only: nothing here is secret.
fn env_checksum(dex: &Dex) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let sealed = dex
        .connector
        .iter()
        .filter_map(|c| c.client_secret.as_ref())
        .chain(dex.static_client.iter().filter_map(|c| c.secret.as_ref()));
    for v in sealed {
        h.update(v.get_ref().key.as_bytes());
        h.update([0]);
        h.update(v.get_ref().sealed.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
