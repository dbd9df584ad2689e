//! Platform services: the cluster Traefik, CVMFS, Dask scale-out, XCache, Triton.

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::components::{Address, At, Capability, ImageUse, Need};
use super::secrets::Slots;
use super::types::{DnsLabel, DnsSubdomain, Hostname, ImageRef, LabelValue, Quantity, SealedValue};
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
    #[schemars(with = "ImageRef")]
    pub worker_image: Spanned<ImageRef>,
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

/// The Secret Triton reads its S3 keys from.
pub const TRITON_SECRET: &str = "triton-s3";

pub(super) fn traefik_addresses<'a>(site: &'a Site, _: At<'a>) -> Vec<Address<'a>> {
    vec![Address {
        who: "the cluster Traefik".to_owned(),
        file: site.file,
        ip: &site.spec.traefik.lb_ip,
    }]
}

pub(super) fn triton_needs<'a>(site: &'a Site, _: At<'a>) -> Vec<Need> {
    let Some(t) = &site.spec.triton else {
        return Vec::new();
    };
    vec![Need {
        capability: Capability::ObjectStore,
        at: Some((site.file, t.bucket.span())),
        why: "Triton loads its model repository from this S3 bucket".to_owned(),
        fix: "enable [ceph.object_store] with a [[ceph.object_store.bucket]] of this name"
            .to_owned(),
    }]
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
        t.bucket.span(),
    );
    slots.add(
        &["triton", "secret_key"],
        ns,
        TRITON_SECRET,
        "AWS_SECRET_ACCESS_KEY",
        t.secret_key.as_ref(),
        t.bucket.span(),
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

pub(super) fn triton_context(_: &Site) -> Map<String, Value> {
    Map::from_iter([("secrets".to_owned(), json!({"triton": TRITON_SECRET}))])
}

pub(super) fn traefik_needs<'a>(site: &'a Site, _: At<'a>) -> Vec<Need> {
    let t = &site.spec.traefik;
    let mut v = vec![Need {
        capability: Capability::LoadBalancer,
        at: Some((site.file, t.lb_ip.span())),
        why: "Traefik's entry points are a LoadBalancer Service".to_owned(),
        fix: "configure LoadBalancer address pools (the `metallb-config` component)".to_owned(),
    }];
    if t.tls.acme_email.is_some() {
        v.push(Need {
            capability: Capability::BlockStorage,
            at: None,
            why: "Traefik keeps its ACME certificates on a volume".to_owned(),
            fix: "run a storage provider with a block StorageClass (the `rook-ceph` component)"
                .to_owned(),
        });
    }
    v
}
