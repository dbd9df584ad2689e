//! CB127 `pool-removed`: a Ceph pool, filesystem, object store or bucket claim leaves the
//! tree and Flux prunes it.
//!
//! Why: Rook deletes the Ceph pools of a deleted CephBlockPool, CephFilesystem (unless
//! `preserveFilesystemOnDelete`) or CephObjectStore (unless `preservePoolsOnDelete`), and a
//! bucket claim's bucket with its `Delete` reclaim policy (rook/rook@v1.20
//! `Documentation/CRDs/`): every image, file and object in them goes. Preserved pools keep
//! the data, but the metadata servers and object gateways Rook runs for the object are owned
//! by it and deleted with it: its volumes and buckets stop being served.
//! Fix: keep the object, or set the preserve flag and check nothing uses the pool first.

use serde_json::Value;

use super::{Finding, Review, named};
use crate::diagnostics::POOL_REMOVED;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.deleted()
        .filter_map(|(id, o)| {
            let what = match (id.group.as_str(), id.kind.as_str()) {
                ("ceph.rook.io", "CephBlockPool") => "every RBD image in the pool: the block volumes of every claim of its StorageClass",
                ("ceph.rook.io", "CephFilesystem") => "every file of the filesystem: the shared volumes of its StorageClass",
                ("ceph.rook.io", "CephObjectStore") => "every bucket and object of the store",
                ("objectbucket.io", "ObjectBucketClaim") => "the bucket and every object in it",
                _ => return None,
            };
            let preserved = o.value.is_some_and(|v| {
                ["/spec/preserveFilesystemOnDelete", "/spec/preservePoolsOnDelete"]
                    .iter()
                    .any(|p| v.pointer(p).and_then(Value::as_bool) == Some(true))
            });
            Some(if preserved {
                // The pools stay, but what Rook runs for the object (metadata servers, object
                // gateways) is owned by it and goes with it.
                Finding::new(
                    POOL_REMOVED,
                    id,
                    format!("{} leaves the tree and Flux deletes it; its Ceph pools are preserved, the daemons Rook runs for it are not", named(id)),
                    "the service of its data: Rook removes the metadata servers or gateways it owns, so the volumes or buckets of it stop being served; the pools stay in Ceph, managed by nothing, until the object is re-created",
                )
            } else {
                Finding::new(
                    POOL_REMOVED,
                    id,
                    format!("{} leaves the tree and Flux deletes it; Rook then deletes its Ceph pools", named(id)),
                    what,
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::json;

    #[test]
    fn a_removed_filesystem_loses_its_data_or_its_service_when_preserved() {
        let fs = json!({"apiVersion": "ceph.rook.io/v1", "kind": "CephFilesystem", "metadata": {"name": "cephfs", "namespace": "rook-ceph"}, "spec": {}});
        let found = run(check, &[("u", fs.clone())], &[]);
        assert_eq!(found.len(), 1);
        assert!(found[0].destroys.starts_with("every file"), "{found:?}");
        let mut kept = fs;
        kept["spec"]["preserveFilesystemOnDelete"] = json!(true);
        let found = run(check, &[("u", kept.clone())], &[]);
        assert!(
            found[0].message.contains("pools are preserved"),
            "{found:?}"
        );
        assert!(run(check, &[("u", kept.clone())], &[("u", kept)]).is_empty());
    }
}
