//! Rook-Ceph: OSD hosts and devices, the block pool, CephFS, and the object store (RGW) with
//! its users and buckets.

use serde_json::{Map, Value, json};

use super::components::{At, Capability, ImageUse, Need};
use super::nodes::Role;
use super::secrets::Slots;
use super::types::{
    DisplayText, DnsLabel, DnsSubdomain, ImageRef, PositiveQuantity, Quantity, SealedValue,
};
use super::{Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ceph {
    pub namespace: DnsLabel,
    #[schemars(with = "ImageRef")]
    pub image: Spanned<ImageRef>,
    /// Monitors: odd, one per node (3, or 5 on large sites; 1 only for a test site).
    #[schemars(with = "u32")]
    pub mon_count: Spanned<u32>,
    pub mgr_count: u32,
    /// OSDs carved out of each NVMe drive (1..=8; 5 at Flatiron).
    #[schemars(with = "u32")]
    pub osds_per_device: Spanned<u32>,
    /// `osd_memory_target` per OSD.
    pub osd_memory: PositiveQuantity,
    /// Nodes with this role are OSD hosts, with all their NVMe drives, unless listed in
    /// `[[ceph.osd_host]]`.
    pub osd_role: Option<Role>,
    #[serde(default)]
    pub osd_host: Vec<OsdHost>,
    /// CRUSH failure domain of the pools: `host` or `rack`.
    pub failure_domain: FailureDomain,
    /// Usable capacity the operators expect (checked against the computed one).
    #[schemars(with = "Option<Quantity>")]
    pub expected_usable: Option<Spanned<Quantity>>,
    pub block_pool: BlockPool,
    pub filesystem: Option<Filesystem>,
    pub object_store: Option<ObjectStore>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum FailureDomain {
    Host,
    Rack,
}

/// Explicit OSD devices of one host.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OsdHost {
    #[schemars(with = "String")]
    pub node: Spanned<String>,
    #[schemars(with = "Vec<String>")]
    pub devices: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockPool {
    pub name: DnsLabel,
    #[schemars(with = "u32")]
    pub replicas: Spanned<u32>,
    pub storage_class: DnsSubdomain,
    /// Mark the StorageClass as the cluster default.
    pub default_class: bool,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filesystem {
    pub name: DnsLabel,
    #[schemars(with = "u32")]
    pub replicas: Spanned<u32>,
    pub storage_class: DnsSubdomain,
    pub active_mds: u32,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectStore {
    /// The store's name; Rook's Service for it is `rook-ceph-rgw-<name>`.
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    pub port: u16,
    pub gateways: u32,
    #[schemars(with = "u32")]
    pub replicas: Spanned<u32>,
    /// StorageClass for ObjectBucketClaims.
    pub bucket_storage_class: DnsSubdomain,
    #[serde(default)]
    pub user: Vec<ObjectUser>,
    #[serde(default)]
    pub bucket: Vec<Bucket>,
}

/// An RGW user whose keys the operators set (sealed), so consumers can be given them.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectUser {
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    pub display_name: DisplayText,
    #[schemars(with = "Option<SealedValue>")]
    pub access_key: Option<Spanned<SealedValue>>,
    #[schemars(with = "Option<SealedValue>")]
    pub secret_key: Option<Spanned<SealedValue>>,
}

/// A bucket, claimed by an ObjectBucketClaim in the namespace that uses it.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Fixed bucket name (so consumers know the URL at build time).
    pub name: DnsSubdomain,
    pub namespace: DnsLabel,
    /// The RGW user that owns it.
    #[schemars(with = "String")]
    pub owner: Spanned<String>,
}

/// One OSD host after selection: the node and the devices it contributes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OsdPlan {
    pub node: String,
    pub devices: Vec<String>,
    pub raw_bytes: f64,
}

/// Ceph's `mon_osd_full_ratio`: writes stop when an OSD reaches it, so usable space is the
/// replicated size times this.
pub const FULL_RATIO: f64 = 0.95;

impl super::Site {
    /// The object store's in-cluster endpoint (`host:port`).
    pub fn object_store_endpoint(&self) -> Option<String> {
        let ceph = self.spec.ceph.as_ref()?;
        let os = ceph.object_store.as_ref()?;
        Some(format!(
            "rook-ceph-rgw-{}.{}.svc:{}",
            os.name, ceph.namespace, os.port
        ))
    }

    /// The OSD hosts and their devices: explicit `[[ceph.osd_host]]` entries, then every
    /// other node with `osd_role` and all its NVMe drives (none without `[ceph]`).
    pub fn osd_plan(&self) -> Vec<OsdPlan> {
        let Some(ceph) = &self.spec.ceph else {
            return Vec::new();
        };
        let mut plan: Vec<OsdPlan> = ceph
            .osd_host
            .iter()
            .map(|h| {
                let node = self.node(h.node.get_ref());
                let devices: Vec<String> = h.devices.iter().map(|d| d.get_ref().clone()).collect();
                let raw_bytes = devices
                    .iter()
                    .filter_map(|d| node.and_then(|n| n.nvme.iter().find(|x| &x.id == d)))
                    .map(|d| d.size.value())
                    .sum();
                OsdPlan {
                    node: h.node.get_ref().clone(),
                    devices,
                    raw_bytes,
                }
            })
            .collect();
        if let Some(role) = ceph.osd_role {
            // A set, not a scan of `plan`: the plan grows with every node, and the scan made
            // this quadratic in the node count.
            let mut planned: std::collections::HashSet<&str> = ceph
                .osd_host
                .iter()
                .map(|h| h.node.get_ref().as_str())
                .collect();
            for n in self.nodes_with(role) {
                if n.nvme.is_empty() || !planned.insert(n.name.as_str()) {
                    continue;
                }
                plan.push(OsdPlan {
                    node: n.name.clone(),
                    devices: n.nvme.iter().map(|d| d.id.clone()).collect(),
                    raw_bytes: n.nvme.iter().map(|d| d.size.value()).sum(),
                });
            }
        }
        plan
    }

    /// Raw bytes of all OSD devices, and usable bytes in the block pool (raw / replicas x
    /// full ratio).
    pub fn ceph_capacity(&self) -> (f64, f64) {
        let raw: f64 = self.osd_plan().iter().map(|p| p.raw_bytes).sum();
        let replicas = f64::from(
            self.spec
                .ceph
                .as_ref()
                .map_or(1, |c| *c.block_pool.replicas.get_ref())
                .max(1),
        );
        (raw, raw / replicas * FULL_RATIO)
    }

    /// OSD daemons: devices x OSDs per device.
    pub fn osd_count(&self) -> usize {
        let per = self
            .spec
            .ceph
            .as_ref()
            .map_or(0, |c| *c.osds_per_device.get_ref() as usize);
        self.osd_plan().iter().map(|p| p.devices.len() * per).sum()
    }
}

/// How long Flux waits for the Ceph cluster unit. The CephCluster reports `Ready` only after
/// the operator has prepared and started every OSD ("Configuring Ceph OSDs" comes before
/// "Cluster created successfully", rook@v1.20.6:pkg/operator/ceph/cluster/cluster.go), which
/// on a new cluster with hundreds of OSDs (Flatiron: 600) takes far longer than the default.
/// A wait that runs out is not destructive (Flux marks the unit not ready and tries again at
/// the next interval), but dependents would then wait a whole interval longer.
pub const TIMEOUT_MINUTES: u32 = 60;

/// The Secret holding an object store user's S3 keys.
pub fn rgw_user_secret(user: &str) -> String {
    format!("rgw-user-{user}")
}

pub(super) fn provides(site: &Site) -> Vec<Capability> {
    let Some(ceph) = &site.spec.ceph else {
        return Vec::new();
    };
    let mut v = vec![Capability::BlockStorage];
    if ceph.filesystem.is_some() {
        v.push(Capability::SharedStorage);
    }
    if ceph.object_store.is_some() {
        v.push(Capability::ObjectStore);
    }
    v
}

pub(super) fn needs<'a>(_: &'a Site, _: At<'a>) -> Vec<Need> {
    vec![Need {
        capability: Capability::CephOperator,
        at: None,
        why: "the Ceph cluster".to_owned(),
        fix: "run the Rook operator (the `rook-ceph-operator` component)".to_owned(),
    }]
}

pub(super) fn secrets<'a>(site: &'a Site, _: At<'a>, slots: &mut Slots<'a>) {
    let Some(ceph) = &site.spec.ceph else {
        return;
    };
    let Some(os) = &ceph.object_store else {
        return;
    };
    let ns = ceph.namespace.as_str();
    for (i, u) in os.user.iter().enumerate() {
        let idx = i.to_string();
        let name = rgw_user_secret(u.name.get_ref().as_str());
        slots.add(
            &["ceph", "object_store", "user", &idx, "access_key"],
            ns,
            &name,
            "access-key",
            u.access_key.as_ref(),
            u.name.span(),
        );
        slots.add(
            &["ceph", "object_store", "user", &idx, "secret_key"],
            ns,
            &name,
            "secret-key",
            u.secret_key.as_ref(),
            u.name.span(),
        );
    }
}

pub(super) fn images<'a>(site: &'a Site, _: At<'a>) -> Vec<ImageUse<'a>> {
    site.spec
        .ceph
        .iter()
        .map(|c| ImageUse {
            image: &c.image,
            file: site.file,
            dev: false,
        })
        .collect()
}

/// The OBC `additionalConfig` keys the Rook operator accepts when nothing says otherwise
/// (rook@v1.20.6:pkg/operator/ceph/controller/controller_utils.go
/// `obcAllowAdditionalConfigFieldsDefaultValue`; the chart sets the same,
/// deploy/charts/rook-ceph/values.yaml `obcAllowAdditionalConfigFields`).
pub const OBC_DEFAULT_FIELDS: &[&str] = &["maxObjects", "maxSize"];

/// The keys the site's bucket claims set: `bucketOwner` makes the bucket belong to the
/// site's object store user, whose keys the consumers hold (rook@v1.20.6:
/// Documentation/Storage-Configuration/Object-Storage-RGW/ceph-object-bucket-claim.md).
pub fn obc_fields_used(site: &Site) -> Vec<&'static str> {
    match site
        .spec
        .ceph
        .as_ref()
        .and_then(|c| c.object_store.as_ref())
    {
        Some(os) if !os.bucket.is_empty() => vec!["bucketOwner"],
        _ => Vec::new(),
    }
}

/// What the operator must accept: its defaults and the keys the claims set.
pub(super) fn operator_context(site: &Site) -> Map<String, Value> {
    let mut fields: Vec<&str> = OBC_DEFAULT_FIELDS.to_vec();
    fields.extend(obc_fields_used(site));
    Map::from_iter([("obc_allowed_fields".to_owned(), json!(fields))])
}

/// The OSD hosts with their device paths, and the object store's endpoint and users.
pub(super) fn context(site: &Site) -> Map<String, Value> {
    let Some(ceph) = &site.spec.ceph else {
        return Map::new();
    };
    let osd_nodes: Vec<Value> = site
        .osd_plan()
        .iter()
        .map(|p| json!({"name": p.node, "devices": p.devices.iter().map(|d| json!({"name": format!("/dev/disk/by-id/{d}")})).collect::<Vec<_>>()}))
        .collect();
    let object_store = ceph.object_store.as_ref().map(|os| {
        json!({
            "endpoint": site.object_store_endpoint(),
            "users": os.user.iter().map(|u| json!({"name": u.name, "display_name": u.display_name, "secret": rgw_user_secret(u.name.get_ref().as_str()), "has_keys": u.access_key.is_some() && u.secret_key.is_some()})).collect::<Vec<_>>(),
        })
    });
    Map::from_iter([
        ("osd_nodes".to_owned(), json!(osd_nodes)),
        ("object_store".to_owned(), json!(object_store)),
    ])
}
