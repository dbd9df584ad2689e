//! Platform services: the cluster Traefik, CVMFS, Dask scale-out, XCache, Triton.

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::components::{Address, At, Capability, DnsName, DnsTarget, ImageUse, Need};
use super::secrets::Slots;
use super::types::{
    CondorValue, CvmfsProxy, DnsLabel, DnsSubdomain, Email, Hostname, ImageRef, LabelValue,
    PositiveQuantity, SealedValue, UidDomain,
};
use super::{Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Traefik {
    pub namespace: DnsLabel,
    /// LoadBalancer address, from a MetalLB pool.
    #[schemars(with = "super::types::IpAddress")]
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

/// A public port of the cluster Traefik besides 80 and 443.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPoint {
    /// Entry point name; also the port name of the pod and the Service, so at most 15
    /// characters (the chart truncates longer ones: traefik-helm-chart@v41.3.0:
    /// traefik/templates/_helpers.tpl `traefik.portname`).
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    /// The port clients connect to (the Service's port).
    #[schemars(with = "u16")]
    pub port: Spanned<u16>,
    pub protocol: Protocol,
}

impl EntryPoint {
    /// The port Traefik binds in its pod. The chart runs Traefik as uid 65532 with every
    /// capability dropped (traefik-helm-chart@v41.3.0:traefik/values.yaml `podSecurityContext`,
    /// `securityContext`), so it cannot bind below 1024 ("binding to ports below 1024 requires
    /// extra privileges", EXAMPLES.md); a privileged public port is served from 10000 + port,
    /// as the chart serves 80 from 8000 and 443 from 8443.
    pub fn container_port(&self) -> u32 {
        let p = u32::from(*self.port.get_ref());
        if p < 1024 { 10_000 + p } else { p }
    }
}

/// The entry points and container ports traefik-helm-chart 41.3.0 defines itself
/// (traefik/values.yaml `ports`): a site entry point may take none of these names or ports.
pub const TRAEFIK_CHART_PORTS: &[(&str, u32)] = &[
    ("traefik", 8080),
    ("web", 8000),
    ("websecure", 8443),
    ("metrics", 9100),
];

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
    /// `CVMFS_HTTP_PROXY`: groups separated by `;` of proxies separated by `|`, each
    /// `http://HOST[:PORT]`, `DIRECT` or `auto`.
    pub http_proxy: CvmfsProxy,
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
    /// The in-cluster HTCondor pools of instances in `pool` mode.
    pub pool: Option<PoolDaemons>,
    /// Worker image used unless a profile names its own.
    #[schemars(with = "ImageRef")]
    pub worker_image: Spanned<ImageRef>,
    /// Per-user limits.
    pub max_workers: u32,
    pub worker_cores: u32,
    pub worker_memory: PositiveQuantity,
}

/// What every in-cluster pool runs its daemons from.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolDaemons {
    /// An HTCondor image with every daemon and no role configuration:
    /// `htcondor/base:<version>-el9` (htcondor/htcondor@v25.13.2
    /// build/docker/services/base/Dockerfile; tags `<version>-<distro>`,
    /// build/docker/services/build-images). The pool's configuration is casa-build's.
    #[schemars(with = "ImageRef")]
    pub image: Spanned<ImageRef>,
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
    /// The pool's TRUST_DOMAIN, the issuer of its IDTOKENS (HTCondor's default is
    /// `$(UID_DOMAIN)`: htcondor/htcondor@v25.13.2 src/condor_utils/param_info.in).
    pub trust_domain: Option<String>,
    /// Who the hub's IDTOKENS say the user is on the pool's schedd (`user@domain`), the
    /// account Dask worker jobs are submitted as.
    #[schemars(with = "String")]
    pub identity: Spanned<String>,
    /// Name of the signing key in the pool's SEC_PASSWORD_DIRECTORY (`POOL`: the pool
    /// signing key, SEC_TOKEN_POOL_SIGNING_KEY_FILE).
    #[serde(default = "pool_key")]
    pub key_id: String,
    /// Authorization levels the token is limited to (`condor:/<LEVEL>` scopes).
    #[serde(default = "submit_scopes")]
    pub scopes: Vec<String>,
    /// Token lifetime in days.
    pub token_days: u32,
}

fn pool_key() -> String {
    "POOL".to_owned()
}

fn submit_scopes() -> Vec<String> {
    vec!["READ".to_owned(), "WRITE".to_owned()]
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct XCache {
    pub host: Hostname,
    /// CMS site name written into tokens: the servers' `all.sitename`, which XrdMacaroons
    /// compares with a macaroon's location.
    pub location: String,
    /// The namespace prefix tokens are limited to (`path:` caveat).
    #[serde(default = "store_path")]
    pub path: String,
    /// Activities tokens allow (`activity:` caveat: READ_METADATA, UPDATE_METADATA, LIST,
    /// DOWNLOAD, UPLOAD, MANAGE, DELETE).
    #[serde(default = "download")]
    pub activities: Vec<XCacheActivity>,
    /// The servers' `macaroons.maxduration`, in days: XrdMacaroons refuses a token whose
    /// expiry lies further ahead (default 24 hours, xrootd/xrootd@v6.1.0
    /// src/XrdMacaroons/XrdMacaroonsConfigure.cc) when not given.
    #[schemars(with = "Option<u32>")]
    pub max_token_days: Option<Spanned<u32>>,
}

/// An XRootD macaroon activity (xrootd/xrootd@v6.1.0 src/XrdMacaroons/README.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum XCacheActivity {
    ReadMetadata,
    UpdateMetadata,
    List,
    Download,
    Upload,
    Manage,
    Delete,
}

fn store_path() -> String {
    "/store".to_owned()
}

fn download() -> Vec<XCacheActivity> {
    vec![XCacheActivity::Download]
}

impl XCache {
    /// `macaroons.maxduration` in days (XrdMacaroons' default: one day).
    pub fn max_days(&self) -> u32 {
        self.max_token_days.as_ref().map_or(1, |d| *d.get_ref())
    }
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
    #[schemars(with = "Option<super::types::IpAddress>")]
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
    if let Some(ip) = &t.lb_ip {
        v.push(Need {
            capability: Capability::LoadBalancer,
            at: Some((site.file, ip.span())),
            why: "Triton's gRPC endpoint is a LoadBalancer Service".to_owned(),
            fix: "configure LoadBalancer address pools (the `metallb-config` component)".to_owned(),
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

/// The bucket claims Triton's unit holds (those of its namespace) are Rook's kind.
pub(super) fn triton_kinds(site: &Site, _: At<'_>) -> Vec<&'static str> {
    let (Some(t), Some(os)) = (
        &site.spec.triton,
        site.spec
            .ceph
            .as_ref()
            .and_then(|c| c.object_store.as_ref()),
    ) else {
        return Vec::new();
    };
    if os.bucket.iter().any(|b| b.namespace == t.namespace) {
        vec!["objectbucket.io"]
    } else {
        Vec::new()
    }
}

/// Triton's gRPC name, on its own LoadBalancer address.
pub(super) fn triton_dns<'a>(site: &'a Site, _: At<'a>) -> Vec<DnsName> {
    let Some(t) = &site.spec.triton else {
        return Vec::new();
    };
    match (&t.hostname, &t.lb_ip) {
        (Some(h), Some(ip)) => vec![DnsName {
            name: h.to_string(),
            target: DnsTarget::Address(*ip.get_ref()),
            what: "Triton (HTTP 8000, gRPC 8001)".to_owned(),
        }],
        _ => Vec::new(),
    }
}

/// The entry points with the port each listens on in the pod.
pub(super) fn traefik_context(site: &Site) -> Map<String, Value> {
    let eps: Vec<Value> = site
        .spec
        .traefik
        .iter()
        .flat_map(|t| &t.entry_point)
        .map(|e| {
            json!({
                "name": e.name,
                "port": e.container_port(),
                "exposed_port": e.port,
                "protocol": e.protocol,
            })
        })
        .collect();
    Map::from_iter([("traefik_entry_points".to_owned(), json!(eps))])
}

/// The directory of the configuration repository's public key. CVMFS keeps one directory
/// per domain (`/etc/cvmfs/keys/<domain>/`, as the cvmfs-config packages install them), and
/// the config repository is signed with its domain's key: config-osg.opensciencegrid.org
/// with `/etc/cvmfs/keys/opensciencegrid.org`.
pub(super) fn cvmfs_context(site: &Site) -> Map<String, Value> {
    let keys = site
        .spec
        .cvmfs
        .as_ref()
        .and_then(|c| c.config_repository.as_ref())
        .map(|r| {
            let domain = r.as_str().split_once('.').map_or(r.as_str(), |(_, d)| d);
            format!("/etc/cvmfs/keys/{domain}")
        });
    Map::from_iter([("cvmfs_keys_dir".to_owned(), json!(keys))])
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
    // The hubs whose users call Triton (templates/triton/hub-access.yaml.j2 lets them read
    // its bucket keys).
    let hubs: Vec<String> = site
        .instances
        .iter()
        .filter(|i| super::hook::uses_triton(site, i))
        .map(|i| i.spec.instance.namespace.get_ref().to_string())
        .collect();
    Map::from_iter([
        ("secrets".to_owned(), json!({"triton": TRITON_SECRET})),
        ("triton_repository".to_owned(), json!(repository)),
        ("triton_hubs".to_owned(), json!(hubs)),
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
