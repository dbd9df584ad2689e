//! One JupyterHub instance (`instances/<name>.toml`).

use std::net::IpAddr;

use super::Spanned;
use super::types::{DnsLabel, DnsSubdomain, Hostname, ImageRef, Quantity, SealedValue};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceFile {
    pub instance: InstanceMeta,
    pub auth: Auth,
    pub singleuser: SingleUser,
    #[serde(default)]
    pub profile: Vec<Profile>,
    pub dask: InstanceDask,
    pub culling: Culling,
    pub xcache: Option<InstanceXCache>,
    /// Chart version override for this instance (defaults to `[charts.jupyterhub]`).
    pub hub_chart: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Prod,
    Dev,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceMeta {
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    #[schemars(with = "DnsLabel")]
    pub namespace: Spanned<DnsLabel>,
    /// The hub's public host name.
    #[schemars(with = "Hostname")]
    pub host: Spanned<Hostname>,
    pub stage: Stage,
    /// Suspend the instance's Flux Kustomization (dev instances at rest).
    #[serde(default)]
    pub suspend: bool,
    /// Base of the per-user Dask names `<user>.dask.<base>`.
    pub dask_base_domain: Hostname,
    /// LoadBalancer address of the hub's proxy.
    #[schemars(with = "String")]
    pub proxy_ip: Spanned<IpAddr>,
    /// LoadBalancer address of the instance's Dask Traefik.
    #[schemars(with = "String")]
    pub dask_ip: Spanned<IpAddr>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// The Dex connector users log in through (`cern-iam`, `cilogon`).
    #[schemars(with = "String")]
    pub connector: Spanned<String>,
    /// The Dex static client of this hub.
    #[schemars(with = "String")]
    pub client: Spanned<String>,
    /// Text of the login button.
    pub login_service: String,
    #[serde(default)]
    pub admin_users: Vec<String>,
    /// Groups (from the connector's groups claim) allowed to log in; empty: any user.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// The Dex client's secret, sealed for this namespace.
    #[schemars(with = "Option<SealedValue>")]
    pub client_secret: Option<Spanned<SealedValue>>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SingleUser {
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    /// Per-user storage on the Ceph block StorageClass.
    pub storage: Quantity,
    pub cpu_guarantee: f64,
    pub cpu_limit: f64,
    pub memory_guarantee: Quantity,
    pub memory_limit: Quantity,
    /// CVMFS repositories mounted under /cvmfs.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub cvmfs: Vec<Spanned<DnsSubdomain>>,
    /// The Tier-2 `/store/user` area.
    pub store_user: Option<StoreUser>,
}

/// A host path (the Tier-2 storage mounted on every node) shown to users.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreUser {
    pub host_path: String,
    pub mount: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub display_name: String,
    pub description: String,
    #[schemars(with = "ImageRef")]
    pub image: Spanned<ImageRef>,
    #[schemars(with = "Option<ImageRef>")]
    pub worker_image: Option<Spanned<ImageRef>>,
    #[serde(default)]
    pub default: bool,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DaskMode {
    /// Workers are HTCondor jobs on the Tier-2 pool.
    Tier2,
    /// Workers are pods in the instance's namespace.
    InCluster,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceDask {
    #[schemars(with = "DaskMode")]
    pub mode: Spanned<DaskMode>,
    pub accounting_group: Option<String>,
    pub max_workers: Option<u32>,
    /// HTCondor pool password (token signing key), sealed; tier2 mode.
    #[schemars(with = "Option<SealedValue>")]
    pub condor_token: Option<Spanned<SealedValue>>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Culling {
    pub enabled: bool,
    /// Seconds of inactivity before a server is stopped.
    pub timeout: u32,
    /// Seconds after which any server is stopped (0: never).
    pub max_age: u32,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceXCache {
    /// Macaroon root key shared with the XCache server, sealed.
    #[schemars(with = "Option<SealedValue>")]
    pub token: Option<Spanned<SealedValue>>,
    /// Token lifetime in days.
    #[schemars(with = "u32")]
    pub token_days: Spanned<u32>,
}
