//! The typed model of one analysis facility: `site.toml` (cluster-wide components) and one
//! file per JupyterHub instance. `load` turns source text into these types; `Site` adds what
//! is derived (nodes expanded from ranges, OSD hosts, capacity) so rules and templates read
//! one structure.

mod ceph;
pub mod components;
mod dex;
mod instance;
mod load;
mod network;
mod nodes;
mod platform;
pub mod secrets;
pub mod types;

use std::collections::BTreeMap;

pub use ceph::*;
pub use components::{COMPONENTS, Component};
pub use dex::*;
pub use instance::*;
pub use load::{instance_schema, load, load_with, site_schema};
pub use network::*;
pub use nodes::*;
pub use platform::*;
pub use secrets::{SecretSlot, SecretStatus, secret_slots};

use crate::sources::FileId;
use types::{DnsLabel, Hostname};

/// A value with its byte range in the file it came from.
pub type Spanned<T> = toml::Spanned<T>;

/// `site.toml`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteFile {
    pub site: SiteMeta,
    pub gitops: GitOps,
    pub sealing: Sealing,
    /// Pinned Helm charts, by chart name.
    #[schemars(with = "BTreeMap<String, Chart>")]
    pub charts: Spanned<BTreeMap<String, Chart>>,
    pub control_plane: ControlPlane,
    #[serde(default)]
    pub node_class: Vec<NodeClass>,
    #[serde(default)]
    pub node_range: Vec<NodeRange>,
    #[serde(default)]
    pub node: Vec<NodeSpec>,
    pub network: Network,
    pub calico: Calico,
    pub metallb: MetalLb,
    pub ceph: Ceph,
    pub traefik: Traefik,
    pub dex: Dex,
    pub cvmfs: Cvmfs,
    pub dask: Dask,
    pub xcache: Option<XCache>,
    pub triton: Option<Triton>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteMeta {
    /// The site's name: the `part-of` label of every object and the folder under `clusters/`.
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    /// The DNS domain services are published under.
    pub domain: Hostname,
    /// Kubernetes version `major.minor[.patch]`; selects the built-in schemas.
    pub kubernetes_version: String,
    /// The hosts' operating system, for the summary.
    pub os: Option<String>,
    /// Where the JSON Schemas live (kubeconform layout); `--schemas` overrides it.
    pub schemas: Option<String>,
    /// `apiVersion/Kind` pairs that may be emitted without a schema.
    #[serde(default)]
    pub allowed_kinds: Vec<String>,
    /// Secrets made outside the tree that objects may refer to, as `namespace/name`.
    #[serde(default)]
    pub external_secrets: Vec<String>,
}

/// The Flux source this tree is applied from.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitOps {
    /// The repository Flux pulls (ssh:// or https://).
    pub repository: String,
    pub branch: String,
    /// Path of the generated tree inside the repository (the `out/` folder).
    pub path: String,
    /// Reconcile interval, a Go duration such as `10m`.
    pub interval: String,
    /// The deploy-key Secret `flux bootstrap` created (never sealed: it exists before the
    /// sealed-secrets controller does).
    pub secret: Option<String>,
}

/// The Sealed Secrets controller and the certificate the tree is sealed with.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sealing {
    /// Path of the controller's certificate (PEM, as `kubeseal --fetch-cert` saves it),
    /// relative to the site folder.
    #[schemars(with = "String")]
    pub cert: Spanned<String>,
    pub namespace: DnsLabel,
    pub controller: DnsLabel,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    /// Helm repository URL (`https://…`) or OCI repository (`oci://…`).
    pub repository: String,
    /// Chart name in the repository, when it differs from the key.
    pub chart: Option<String>,
    pub version: String,
}

/// The API server endpoint: a VIP held by keepalived, HAProxy in front of the apiservers.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlPlane {
    #[schemars(with = "String")]
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
