//! The typed model of one analysis facility: `site.toml` (cluster-wide components) and one
//! file per JupyterHub instance. `load` turns source text into these types; `Site` adds what
//! is derived (nodes expanded from ranges, OSD hosts, capacity) so rules and templates read
//! one structure.

mod ceph;
mod cilium;
pub mod components;
mod dex;
mod gpu;
pub mod hook;
mod ingress;
mod instance;
mod load;
mod network;
mod nodes;
mod platform;
pub mod pool;
pub mod secrets;
mod session;
mod storage;
mod structure;
mod tenant;
pub mod types;

use std::collections::BTreeMap;

pub use ceph::*;
pub use cilium::*;
pub use components::{COMPONENTS, Capability, ClusterService, Component};
pub use dex::*;
pub use gpu::*;
pub use ingress::*;
pub use instance::*;
pub use load::{instance_schema, load, load_with, site_schema};
pub use network::*;
pub use nodes::*;
pub use platform::*;
pub use secrets::{SecretSlot, SecretStatus, SecretsBackend, secret_slots};
pub use session::*;
pub use storage::*;
pub use tenant::*;

use crate::sources::FileId;
use types::{DnsLabel, Hostname, KubernetesVersion, SitePath};

/// A value with its byte range in the file it came from.
pub type Spanned<T> = toml::Spanned<T>;

/// `site.toml`. Only `[site]`, `[gitops]`, `[sealing]` and `[charts]` are required; every
/// component's table is optional, and the site runs the components whose tables it has
/// (`README.md`, "The site files", says what each needs).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteFile {
    pub site: SiteMeta,
    pub gitops: GitOps,
    pub sealing: Sealing,
    /// Pinned Helm charts, by chart name.
    #[schemars(with = "BTreeMap<String, Chart>")]
    pub charts: Spanned<BTreeMap<String, Chart>>,
    /// A facility that owns only namespaces on someone else's cluster.
    pub tenant: Option<Tenant>,
    /// The API server endpoint, when the site runs its own control plane.
    pub control_plane: Option<ControlPlane>,
    #[serde(default)]
    pub node_class: Vec<NodeClass>,
    #[serde(default)]
    pub node_range: Vec<NodeRange>,
    #[serde(default)]
    pub node: Vec<NodeSpec>,
    /// The cluster's address ranges (needed by Calico and Cilium; checked against the
    /// nodes and the LoadBalancer pools).
    pub network: Option<Network>,
    /// CNI: Calico's IP pools and BGP (the Calico operator installs Calico itself).
    pub calico: Option<Calico>,
    /// CNI: Cilium (its HelmRelease, LB IPAM pools and BGP control plane).
    pub cilium: Option<Cilium>,
    /// LoadBalancer addresses from MetalLB.
    pub metallb: Option<MetalLb>,
    /// Storage: Rook-Ceph.
    pub ceph: Option<Ceph>,
    /// Storage: StorageClasses that exist on the cluster, named per use (override the
    /// classes `[ceph]` makes).
    pub storage: Option<StorageClasses>,
    /// Ingress: Traefik (IngressRoutes).
    pub traefik: Option<Traefik>,
    /// Ingress: ingress-nginx (Ingress objects with a class).
    pub ingress_nginx: Option<IngressNginx>,
    /// Ingress: Gateway API (HTTPRoutes on a Gateway).
    #[schemars(with = "Option<Gateway>")]
    pub gateway: Option<Spanned<Gateway>>,
    /// Hub login through Dex (instances may log in to an OIDC issuer directly instead).
    pub dex: Option<Dex>,
    pub cvmfs: Option<Cvmfs>,
    /// Dask defaults for instances that run Dask.
    pub dask: Option<Dask>,
    pub xcache: Option<XCache>,
    pub triton: Option<Triton>,
    /// The NVIDIA GPU operator, installed when nodes have GPUs (unless the cluster runs a
    /// device plugin: `[site] cluster_provides = ["gpu-device-plugin"]`).
    pub gpu_operator: Option<GpuOperator>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteMeta {
    /// The site's name: the `part-of` label of every object and the folder under `clusters/`.
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    /// The DNS domain services are published under.
    pub domain: Hostname,
    /// Kubernetes version `major.minor[.patch]`; its minor release selects the built-in
    /// schemas, so it must be one the schemas cover (the embedded catalog: 1.33 to 1.37), and
    /// it must lie within what every pinned component supports (`casa-build check` names the
    /// ranges).
    #[schemars(with = "KubernetesVersion")]
    pub kubernetes_version: Spanned<KubernetesVersion>,
    /// The hosts' operating system, for the summary.
    pub os: Option<String>,
    /// A folder of JSON Schemas (kubeconform layout), relative to the site folder, that
    /// adds to and overrides the embedded catalog; `CASA_SCHEMAS` and `--schemas` take
    /// precedence over it.
    #[schemars(with = "Option<String>")]
    pub schemas: Option<Spanned<String>>,
    /// `apiVersion/Kind` pairs that may be emitted without a schema.
    #[serde(default)]
    pub allowed_kinds: Vec<String>,
    /// Secrets made outside the tree that objects may refer to, as `namespace/name`.
    #[serde(default)]
    pub external_secrets: Vec<String>,
    /// What the cluster's owner runs that the site relies on instead of installing it
    /// (a tenant's Sealed Secrets controller, a GPU device plugin, the Gateway API CRDs).
    #[serde(default)]
    #[schemars(with = "Vec<ClusterService>")]
    pub cluster_provides: Vec<Spanned<ClusterService>>,
}

/// The Flux source this tree is applied from.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitOps {
    /// The repository Flux pulls (ssh:// or https://).
    pub repository: types::GitUrl,
    /// The branch Flux clones (printed into the bootstrap's `flux bootstrap` command too).
    pub branch: types::GitBranch,
    /// Path of the generated tree inside the repository (the `out/` folder).
    pub path: types::TreePath,
    /// Reconcile interval of the GitRepository and every Kustomization: a Go duration with
    /// the units ms, s, m, h, such as `10m`.
    pub interval: types::FluxInterval,
    /// The deploy-key Secret `flux bootstrap` created (never sealed: it exists before the
    /// sealed-secrets controller does).
    pub secret: Option<String>,
}

/// The Sealed Secrets controller and the certificate the tree is sealed with. Sealed Secrets is
/// the one secrets backend; `site::secrets` and `render::secrets` are the seam another
/// (SOPS, External Secrets) would plug into.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sealing {
    /// Path of the controller's certificate (PEM, as `kubeseal --fetch-cert` saves it),
    /// relative to the site folder.
    #[schemars(with = "SitePath")]
    pub cert: Spanned<SitePath>,
    pub namespace: DnsLabel,
    pub controller: DnsLabel,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    /// Helm repository URL (`https://…`) or OCI repository (`oci://…`).
    pub repository: types::ChartRepositoryUrl,
    /// Chart name in the repository, when it differs from the key.
    pub chart: Option<String>,
    pub version: String,
}

/// The API server endpoint: a VIP held by keepalived, HAProxy in front of the apiservers.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlPlane {
    #[schemars(with = "types::IpAddress")]
    pub vip: Spanned<std::net::IpAddr>,
    /// HAProxy frontend port (must differ from 6443 when HAProxy runs on the masters).
    pub port: u16,
    /// keepalived `virtual_router_id`, unique per subnet.
    pub router_id: u8,
}

/// A whole site: the parsed files plus what is derived from them.
#[derive(Debug, Clone)]
pub struct Site {
    pub file: FileId,
    pub spec: SiteFile,
    pub instances: Vec<Instance>,
    /// Every node, ranges expanded, in definition order.
    pub nodes: Vec<Node>,
    /// The components the site may run (`COMPONENTS` but in tests).
    pub registry: &'static [Component],
}

/// An instance file with where it came from.
#[derive(Debug, Clone)]
pub struct Instance {
    pub file: FileId,
    pub path: String,
    pub spec: InstanceFile,
}

impl Site {
    pub fn name(&self) -> &str {
        self.spec.site.name.get_ref().as_str()
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn nodes_with(&self, role: Role) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.roles.contains(&role))
    }
}
