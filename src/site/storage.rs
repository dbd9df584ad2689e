//! Which StorageClass serves which use: the classes `[ceph]` makes, or classes that exist on
//! the cluster, named in `[storage]` (which wins, so a Ceph site may still put homes on NFS).

use super::Site;
use super::types::DnsSubdomain;

/// StorageClasses of the cluster, by what they are used for.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageClasses {
    /// ReadWriteOnce volumes: hub databases, Traefik's ACME store, homes by default.
    pub block: Option<DnsSubdomain>,
    /// ReadWriteMany volumes: homes with `access_mode = "ReadWriteMany"`.
    pub shared: Option<DnsSubdomain>,
}

/// A use of persistent storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageUse {
    /// One pod at a time (RWO).
    Block,
    /// Many pods at once (RWX).
    Shared,
}

impl Site {
    /// The StorageClass for a use: `[storage]` first, then the class Ceph makes for it.
    pub fn storage_class(&self, usage: StorageUse) -> Option<String> {
        let named = self.spec.storage.as_ref().and_then(|s| match usage {
            StorageUse::Block => s.block.as_ref(),
            StorageUse::Shared => s.shared.as_ref(),
        });
        if let Some(n) = named {
            return Some(n.to_string());
        }
        let ceph = self.spec.ceph.as_ref()?;
        match usage {
            StorageUse::Block => Some(ceph.block_pool.storage_class.to_string()),
            StorageUse::Shared => ceph
                .filesystem
                .as_ref()
                .map(|f| f.storage_class.to_string()),
        }
    }

    /// Whether `[storage]` names a class for the use (the cluster provides it).
    pub(super) fn cluster_storage(&self, usage: StorageUse) -> bool {
        self.spec.storage.as_ref().is_some_and(|s| match usage {
            StorageUse::Block => s.block.is_some(),
            StorageUse::Shared => s.shared.is_some(),
        })
    }
}
