//! Hosts: classes of identical hardware, numbered ranges, single nodes; and the expanded
//! `Node` every rule and template reads.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::Spanned;
use super::types::{DnsSubdomain, LabelValue, MigProfile, PositiveQuantity};

/// The most nodes a site may have, ranges expanded: memory and time grow with them, and a
/// typo (`count = 5000000`) must be an error, not sixteen gigabytes.
pub const MAX_NODES: u32 = 10_000;
/// The most NVMe drives of one node (Flatiron's have 10; 24- and 36-bay chassis exist).
pub const MAX_DRIVES: u32 = 48;
/// The most GPUs of one model on one node (HGX boards have 8).
pub const MAX_GPUS: u32 = 16;
/// The most digits of a range's node number (a node name is at most 63 characters).
pub const MAX_WIDTH: usize = 10;

/// What a node does; drives Ceph, GPU scheduling and the control-plane quorum.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    ControlPlane,
    Storage,
    Worker,
    Gpu,
    Desktop,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::ControlPlane,
        Role::Storage,
        Role::Worker,
        Role::Gpu,
        Role::Desktop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ControlPlane => "control-plane",
            Role::Storage => "storage",
            Role::Worker => "worker",
            Role::Gpu => "gpu",
            Role::Desktop => "desktop",
        }
    }
}

/// NVMe drives of a class: `count` drives whose stable ids follow `id`, where `{node}` is the
/// node name and `{n}` the drive's index from 0 (real ids carry serial numbers; list them
/// per node with `[[node]] nvme` when they matter).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NvmeSet {
    /// Drives per node (at most `MAX_DRIVES`).
    #[schemars(with = "u32")]
    pub count: Spanned<u32>,
    pub size: PositiveQuantity,
    /// `/dev/disk/by-id/` name pattern.
    pub id: String,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Drive {
    /// Stable id under `/dev/disk/by-id/`.
    pub id: String,
    pub size: PositiveQuantity,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    /// Model as the device plugin labels it (`nvidia.com/gpu.product`).
    #[schemars(with = "LabelValue")]
    pub model: Spanned<LabelValue>,
    /// GPUs of this model per node (at most `MAX_GPUS`).
    pub count: u32,
    /// CUDA compute capability, e.g. `7.0`.
    pub compute_capability: String,
    /// MIG: every GPU of the node is cut into slices of this profile (the operator's MIG
    /// manager applies `nvidia.com/mig.config=all-<profile>`, a label the node must carry).
    #[schemars(with = "Option<MigProfile>")]
    pub mig: Option<Spanned<MigProfile>>,
    /// Time-slicing: each GPU is offered as this many shares (the device plugin's
    /// `sharing.timeSlicing` config `time-slicing-<n>`, picked by the node label
    /// `nvidia.com/device-plugin.config`).
    #[schemars(with = "Option<u32>")]
    pub time_slicing: Option<Spanned<u32>>,
}

/// Hardware shared by many nodes.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeClass {
    pub name: String,
    /// Physical cores.
    pub cores: u32,
    pub threads: u32,
    pub memory: PositiveQuantity,
    pub nvme: Option<NvmeSet>,
    #[serde(default)]
    pub nics: Vec<String>,
}

/// Hardware and placement fields a range or a single node may set (over its class).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeRange {
    /// Names are `<prefix><number>`, the number zero-padded to `width` digits.
    #[schemars(with = "String")]
    pub prefix: Spanned<String>,
    /// How many nodes (a site has at most `MAX_NODES` in all).
    #[schemars(with = "u32")]
    pub count: Spanned<u32>,
    /// First number (default 1).
    #[schemars(with = "Option<u32>")]
    pub start: Option<Spanned<u32>>,
    /// Digits of the number (default 2, at most `MAX_WIDTH`).
    #[schemars(with = "Option<usize>")]
    pub width: Option<Spanned<usize>>,
    /// Address of the first node; the others follow consecutively. Optional: addresses are
    /// only checked against the cluster's ranges (a tenant may not know them).
    #[schemars(with = "Option<super::types::IpAddress>")]
    pub first_ip: Option<Spanned<IpAddr>>,
    #[schemars(with = "Option<String>")]
    pub class: Option<Spanned<String>>,
    pub roles: Vec<Role>,
    pub cores: Option<u32>,
    pub threads: Option<u32>,
    pub memory: Option<PositiveQuantity>,
    #[serde(default)]
    pub gpus: Vec<Gpu>,
    #[serde(default)]
    pub labels: BTreeMap<String, LabelValue>,
    /// `key=value:Effect`.
    #[serde(default)]
    pub taints: Vec<String>,
    /// Failure domain (rack) for Ceph's CRUSH map and topology labels.
    pub rack: Option<LabelValue>,
}

/// One node.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The Kubernetes node name (`kubernetes.io/hostname`).
    #[schemars(with = "DnsSubdomain")]
    pub name: Spanned<DnsSubdomain>,
    /// Optional: only checked against the cluster's ranges.
    #[schemars(with = "Option<super::types::IpAddress>")]
    pub ip: Option<Spanned<IpAddr>>,
    #[schemars(with = "Option<String>")]
    pub class: Option<Spanned<String>>,
    pub roles: Vec<Role>,
    pub cores: Option<u32>,
    pub threads: Option<u32>,
    pub memory: Option<PositiveQuantity>,
    /// Drives by stable id (replace the class's pattern).
    pub nvme: Option<Vec<Drive>>,
    #[serde(default)]
    pub gpus: Vec<Gpu>,
    #[serde(default)]
    pub labels: BTreeMap<String, LabelValue>,
    #[serde(default)]
    pub taints: Vec<String>,
    pub rack: Option<LabelValue>,
}

/// A node after ranges and classes are expanded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Node {
    pub name: String,
    /// Where the node is defined: its `name` (single node) or its range's `prefix`.
    #[serde(skip)]
    pub name_span: std::ops::Range<usize>,
    pub ip: Option<IpAddr>,
    #[serde(skip)]
    pub ip_span: std::ops::Range<usize>,
    pub roles: Vec<Role>,
    pub cores: u32,
    pub threads: u32,
    pub memory_bytes: f64,
    pub nvme: Vec<Drive>,
    pub gpus: Vec<Gpu>,
    pub labels: BTreeMap<String, LabelValue>,
    pub taints: Vec<String>,
    pub rack: Option<LabelValue>,
}

impl Node {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}
