//! Platform services: the cluster Traefik, CVMFS, Dask scale-out, XCache, Triton.

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::components::{Address, At, Capability, ImageUse, Need};
use super::secrets::Slots;
use super::types::{
    CondorValue, DnsLabel, DnsSubdomain, Email, Hostname, ImageRef, LabelValue, PositiveQuantity,
    SealedValue, UidDomain,
};
use super::{Site, Spanned};

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
    #[schemars(with = "Option<Email>")]
    pub acme_email: Option<Spanned<Email>>,
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
    #[schemars(with = "ImageRef")]
    pub worker_image: Spanned<ImageRef>,
    /// Per-user limits.
    pub max_workers: u32,
    pub worker_cores: u32,
    pub worker_memory: PositiveQuantity,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HtCondor {
    pub collector: Hostname,
    /// `COLLECTOR_NAME` of the notebook's HTCondor configuration.
    pub collector_name: CondorValue,
    pub schedd: Hostname,
    /// `UID_DOMAIN` of the notebook's HTCondor configuration (a DNS domain).
    pub uid_domain: UidDomain,
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
    /// The bucket of `[ceph.object_store]` holding the model repository (claimed in
    /// Triton's namespace). Give this or `model_repository`.
    #[schemars(with = "Option<String>")]
    pub bucket: Option<Spanned<String>>,
    /// The model repository in an S3 store outside the site, as Triton takes it
    /// (`s3://host:port/bucket[/path]`).
    #[schemars(with = "Option<String>")]
    pub model_repository: Option<Spanned<String>>,
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

/// The Secret Triton reads its S3 keys from.
pub const TRITON_SECRET: &str = "triton-s3";

pub(super) fn traefik_addresses<'a>(site: &'a Site, _: At<'a>) -> Vec<Address<'a>> {
    site.spec
        .traefik
        .iter()
        .map(|t| Address {
            who: "the cluster Traefik".to_owned(),
            file: site.file,
            ip: &t.lb_ip,
        })
        .collect()
}

pub(super) fn triton_needs<'a>(site: &'a Site, _: At<'a>) -> Vec<Need> {
    let Some(t) = &site.spec.triton else {
        return Vec::new();
    };
    let mut v = vec![super::gpu::device_plugin_need(site.file, &t.gpus, "Triton")];
    if let Some(b) = &t.bucket {
        v.push(Need {
            capability: Capability::ObjectStore,
            at: Some((site.file, b.span())),
            why: "Triton loads its model repository from this S3 bucket".to_owned(),
            fix: "enable [ceph.object_store] with a [[ceph.object_store.bucket]] of this name, or give [triton] model_repository".to_owned(),
        });
    }
    v
}

/// Where Triton's secret fields point when they are missing: the repository setting.
fn triton_anchor(t: &Triton) -> std::ops::Range<usize> {
    t.bucket
        .as_ref()
        .or(t.model_repository.as_ref())
        .map_or_else(|| t.gpu_model.span(), Spanned::span)
}

pub(super) fn triton_secrets<'a>(site: &'a Site, _: At<'a>, slots: &mut Slots<'a>) {
    let Some(t) = &site.spec.triton else {
        return;
    };
    let ns = t.namespace.as_str();
    slots.add(
        &["triton", "access_key"],
        ns,
        TRITON_SECRET,
        "AWS_ACCESS_KEY_ID",
        t.access_key.as_ref(),
        triton_anchor(t),
    );
    slots.add(
        &["triton", "secret_key"],
        ns,
        TRITON_SECRET,
        "AWS_SECRET_ACCESS_KEY",
        t.secret_key.as_ref(),
        triton_anchor(t),
    );
}

pub(super) fn triton_images<'a>(site: &'a Site, _: At<'a>) -> Vec<ImageUse<'a>> {
    site.spec
        .triton
        .iter()
        .map(|t| ImageUse {
            image: &t.image,
            file: site.file,
            dev: false,
        })
        .collect()
}

pub(super) fn triton_addresses<'a>(site: &'a Site, _: At<'a>) -> Vec<Address<'a>> {
    site.spec
        .triton
        .iter()
        .filter_map(|t| t.lb_ip.as_ref())
        .map(|ip| Address {
            who: "Triton".to_owned(),
            file: site.file,
            ip,
        })
        .collect()
}

/// Triton's Secret and its model repository URL: the given one, or the bucket in the site's
/// object store.
pub(super) fn triton_context(site: &Site) -> Map<String, Value> {
    let repository =
        site.spec
            .triton
            .as_ref()
            .and_then(|t| match (&t.model_repository, &t.bucket) {
                (Some(r), _) => Some(r.get_ref().clone()),
                (None, Some(b)) => site
                    .object_store_endpoint()
                    .map(|e| format!("s3://{e}/{}", b.get_ref())),
                (None, None) => None,
            });
    Map::from_iter([
        ("secrets".to_owned(), json!({"triton": TRITON_SECRET})),
        ("triton_repository".to_owned(), json!(repository)),
    ])
}

pub(super) fn traefik_needs<'a>(site: &'a Site, _: At<'a>) -> Vec<Need> {
    let Some(t) = &site.spec.traefik else {
        return Vec::new();
    };
    let mut v = vec![Need {
        capability: Capability::LoadBalancer,
        at: Some((site.file, t.lb_ip.span())),
        why: "Traefik's entry points are a LoadBalancer Service".to_owned(),
        fix: "configure LoadBalancer address pools (the `metallb-config` component)".to_owned(),
    }];
    if let Some(email) = &t.tls.acme_email {
        v.push(Need {
            capability: Capability::BlockStorage,
            at: Some((site.file, email.span())),
            why: "Traefik keeps its ACME certificates on a volume".to_owned(),
            fix: "run a storage provider with a block StorageClass (the `rook-ceph` component) or name one in [storage] block".to_owned(),
        });
    }
    v
}
