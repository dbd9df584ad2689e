//! CB121 `claim-removed`: a PersistentVolumeClaim leaves the tree and Flux prunes it.
//!
//! Why: a dynamically provisioned volume has reclaim policy `Delete` unless its class says
//! otherwise (kubernetes@v1.33 `pkg/apis/storage/v1/defaults.go`: a StorageClass's
//! `reclaimPolicy` defaults to Delete), so deleting the claim deletes the volume and its
//! data.
//! Fix: keep the claim, or set the volume's reclaim policy to Retain before the change.

use super::{Finding, Review, is, named};
use crate::diagnostics::CLAIM_REMOVED;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.deleted()
        .filter(|(id, _)| is(id, "", "PersistentVolumeClaim"))
        .map(|(id, o)| {
            let class = o
                .value
                .and_then(|v| v.pointer("/spec/storageClassName"))
                .and_then(|c| c.as_str())
                .map(|c| format!(" (class {c})"))
                .unwrap_or_default();
            Finding::new(
                CLAIM_REMOVED,
                id,
                format!("{}{class} leaves the tree and Flux deletes it", named(id)),
                "its volume and every byte on it, when the volume's reclaim policy is Delete (the default of dynamically provisioned volumes)",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::json;

    #[test]
    fn a_removed_claim_is_a_finding() {
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "ns"}, "spec": {"storageClassName": "rook-ceph-block"}});
        let found = run(check, &[("u", pvc.clone())], &[]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("class rook-ceph-block"),
            "{found:?}"
        );
        assert!(run(check, &[("u", pvc.clone())], &[("u", pvc)]).is_empty());
    }
}
