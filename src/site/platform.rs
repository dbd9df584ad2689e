//! Platform services: the cluster Traefik, CVMFS, Dask scale-out, XCache, Triton.

use std::net::IpAddr;

use super::Spanned;
use super::types::{DnsLabel, DnsSubdomain, Hostname, ImageRef, LabelValue, Quantity, SealedValue};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Traefik {
    pub namespace: DnsLabel,
    /// LoadBalancer address, from a MetalLB pool.
    #[schemars(with = "String")]
    pub lb_ip: Spanned<IpAddr>,
    pub replicas: u32,
    pub tls: Tls,
    /// Entry points besides `web` (80) and `websecure` (443).
    #[serde(default)]
    pub entry_point: Vec<EntryPoint>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Let's Encrypt account e-mail; certificates by TLS-ALPN challenge when set.
    pub acme_email: Option<String>,
    /// Use Let's Encrypt staging (for test sites).
    #[serde(default)]
    pub acme_staging: bool,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPoint {
    pub name: DnsLabel,
    pub port: u16,
    pub protocol: Protocol,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
pub enum Protocol {
    TCP,
    UDP,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cvmfs {
    pub namespace: DnsLabel,
    pub http_proxy: String,
    /// Local cache quota per node, in MiB.
    pub cache_mib: u32,
    /// OSG's configuration repository, when used.
    pub config_repository: Option<DnsSubdomain>,
    pub repositories: Vec<DnsSubdomain>,
    pub storage_class: DnsSubdomain,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dask {
    /// The HTCondor pool on the Tier-2, when instances scale out there.
    pub htcondor: Option<HtCondor>,
    /// Worker image used unless a profile names its own.
    pub worker_image: ImageRef,
    /// Per-user limits.
    pub max_workers: u32,
    pub worker_cores: u32,
    pub worker_memory: Quantity,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HtCondor {
    pub collector: Hostname,
    pub collector_name: String,
    pub schedd: Hostname,
    pub uid_domain: String,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct XCache {
    pub host: Hostname,
    /// CMS site name written into tokens.
    pub location: String,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Triton {
    pub namespace: DnsLabel,
    /// `nvcr.io/nvidia/tritonserver:<NGC release>-py3` (22.08 = Triton 2.25.0).
    #[schemars(with = "ImageRef")]
    pub image: Spanned<ImageRef>,
    pub replicas: u32,
    #[schemars(with = "u32")]
    pub gpus: Spanned<u32>,
    #[schemars(with = "LabelValue")]
    pub gpu_model: Spanned<LabelValue>,
    /// The object store bucket holding the model repository.
    #[schemars(with = "String")]
    pub bucket: Spanned<String>,
    pub model_control_mode: ModelControl,
    #[serde(default)]
    pub load_models: Vec<String>,
    /// gRPC LoadBalancer address and DNS name.
    #[schemars(with = "Option<String>")]
    pub lb_ip: Option<Spanned<IpAddr>>,
    pub hostname: Option<Hostname>,
    /// S3 keys of the bucket owner (sealed for this namespace).
    #[schemars(with = "Option<SealedValue>")]
    pub access_key: Option<Spanned<SealedValue>>,
    #[schemars(with = "Option<SealedValue>")]
    pub secret_key: Option<Spanned<SealedValue>>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ModelControl {
    None,
    Poll,
    Explicit,
}
