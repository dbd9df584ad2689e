//! What a user's session gets: CPU and memory (guarantee and limit), GPUs (whole, a MIG
//! slice or a time-sliced share), where it may run (node selector, tolerations), its home
//! volume and extra volumes. The instance's `[singleuser]` sets the defaults, each
//! `[[profile]]` may override them.

use super::Spanned;
use super::types::{
    Cores, DnsLabel, DnsSubdomain, LabelValue, MigProfile, PodPath, PositiveCores,
    PositiveQuantity, Quantity,
};

/// CPU in cores: finite, a guarantee 0 or more, a limit above 0 (`nan` or `inf` would be
/// rendered `null`, which the spawner reads as no limit).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cpu {
    #[schemars(with = "Cores")]
    pub guarantee: Spanned<Cores>,
    #[schemars(with = "PositiveCores")]
    pub limit: Spanned<PositiveCores>,
}

/// Memory as Kubernetes quantities (`4Gi`); rendered for the spawner, which takes K/M/G/T
/// only.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    #[schemars(with = "Quantity")]
    pub guarantee: Spanned<Quantity>,
    /// Above zero: a zero limit kills the session at its start.
    #[schemars(with = "PositiveQuantity")]
    pub limit: Spanned<PositiveQuantity>,
}

/// GPUs of one product for a session.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileGpu {
    /// How many (whole GPUs, MIG slices or shares).
    #[serde(default = "one")]
    #[schemars(with = "u32")]
    pub count: Spanned<u32>,
    /// The product as GPU feature discovery labels it (`nvidia.com/gpu.product`), as in the
    /// nodes' `gpus`.
    #[schemars(with = "LabelValue")]
    pub product: Spanned<LabelValue>,
    /// A MIG slice (`1g.10gb`) instead of a whole GPU: resource `nvidia.com/mig-<profile>`.
    #[schemars(with = "Option<MigProfile>")]
    pub mig: Option<Spanned<MigProfile>>,
    /// A time-sliced share of a GPU (nodes with `time_slicing`) instead of a whole one.
    #[serde(default)]
    pub shared: bool,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

/// A Kubernetes toleration.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Toleration {
    pub key: String,
    #[serde(default)]
    pub operator: TolerationOperator,
    pub value: Option<String>,
    pub effect: Option<TaintEffect>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
pub enum TolerationOperator {
    #[default]
    Equal,
    Exists,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

/// The user's home: a volume per user, or none (`[singleuser.home]` left out).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Home {
    /// Where it is mounted (the notebook's working directory; `{username}`-style
    /// placeholders allowed).
    #[schemars(with = "PodPath")]
    pub mount: Spanned<PodPath>,
    /// Size of each user's volume (above zero).
    pub size: PositiveQuantity,
    /// Default `ReadWriteOnce`.
    #[schemars(with = "Option<AccessMode>")]
    pub access_mode: Option<Spanned<AccessMode>>,
    /// StorageClass; default: the site's class for the access mode (`[storage]` or Ceph's).
    pub storage_class: Option<DnsSubdomain>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadWriteMany,
}

impl Home {
    pub fn access(&self) -> AccessMode {
        self.access_mode
            .as_ref()
            .map_or(AccessMode::ReadWriteOnce, |a| *a.get_ref())
    }

    /// Where the access mode is set, or the home table's mount when it is left to default.
    pub fn access_span(&self) -> std::ops::Range<usize> {
        self.access_mode
            .as_ref()
            .map_or_else(|| self.mount.span(), Spanned::span)
    }
}

/// An extra volume in every session: an existing claim, an NFS export or a host path
/// (EOS, a Tier-2 `/store`); exactly one of `claim`, `nfs`, `host_path`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    pub mount: PodPath,
    #[serde(default)]
    pub read_only: bool,
    /// An existing PersistentVolumeClaim in the instance's namespace.
    #[schemars(with = "Option<DnsSubdomain>")]
    pub claim: Option<Spanned<DnsSubdomain>>,
    /// An NFS export.
    #[schemars(with = "Option<Nfs>")]
    pub nfs: Option<Spanned<Nfs>>,
    /// A directory on every node (type Directory: it must exist).
    #[schemars(with = "Option<PodPath>")]
    pub host_path: Option<Spanned<PodPath>>,
    /// `HostToContainer` for mounts that appear later on the host (autofs, EOS fuse).
    #[serde(default)]
    pub propagate_host_mounts: bool,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nfs {
    pub server: String,
    pub path: PodPath,
}
