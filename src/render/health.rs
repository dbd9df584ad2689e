//! What "healthy" means for the custom resources the tree holds, as Flux health-check
//! expressions (CEL). A Kustomization with `wait: true` judges every object it applies with
//! kstatus, and kstatus calls a resource Current as soon as it has no `Ready` or
//! `Reconciling`/`Stalled` condition to read (fluxcd/cli-utils pkg/kstatus/status/status.go
//! `Compute`): a CephCluster still creating its OSDs, a pool, an object store user, a bucket
//! claim still Pending and a SealedSecret the controller could not decrypt all count as
//! healthy at once, so dependents start too early. These expressions replace kstatus for
//! their kinds (`spec.healthCheckExprs`, fluxcd/kustomize-controller@v1.9.4:
//! docs/spec/v1/kustomizations.md "Health check expressions"). The controller evaluates
//! `inProgress`, then `failed`, then `current`, and a resource none of them matches is in
//! progress; an expression that cannot be evaluated (no `status` yet) keeps it in progress
//! too (fluxcd/pkg runtime/v0.110.1:runtime/cel/status_evaluator.go `Evaluate`), so none of
//! them needs a guard. One entry per kind: a second one for the same kind is refused
//! (status_reader.go "duplicate custom health check").

use serde_json::{Value, json};

/// One kind's expressions.
pub struct Health {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub current: &'static str,
    pub failed: Option<&'static str>,
    pub in_progress: Option<&'static str>,
}

/// Ceph pools, filesystems and object stores report their reconcile as `status.phase`
/// Ready/Progressing/Failure (rook@v1.20.6:pkg/apis/ceph.rook.io/v1/types.go `ConditionType`;
/// pkg/operator/ceph/pool/controller.go, file/controller.go, object/status.go `updateStatus`).
const PHASE_READY: &str = "status.phase == 'Ready'";
const PHASE_FAILURE: &str = "status.phase == 'Failure'";
const PHASE_PROGRESSING: &str = "status.phase == 'Progressing'";

pub static HEALTH: &[Health] = &[
    // The controller sets a `Synced` condition (no `Ready`) on every SealedSecret it
    // handles, False when it cannot decrypt (sealed-secrets@v0.36.6:
    // pkg/apis/sealedsecrets/v1alpha1/types.go; pkg/controller/controller.go
    // `updateSealedSecretStatus`); the chart turns status updates on by default
    // (helm/sealed-secrets/values.yaml `updateStatus: true`).
    Health {
        api_version: "bitnami.com/v1alpha1",
        kind: "SealedSecret",
        current: "status.conditions.exists(c, c.type == 'Synced' && c.status == 'True')",
        failed: Some("status.conditions.exists(c, c.type == 'Synced' && c.status == 'False')"),
        in_progress: None,
    },
    // Ready only once mons, mgrs and every OSD are up (rook@v1.20.6:
    // pkg/operator/ceph/cluster/cluster.go, "Cluster created successfully"); a failed step
    // leaves the phase at Progressing (controller/conditions.go), so it keeps waiting rather
    // than failing while the operator retries. HEALTH_ERR is not healthy even when Ready.
    Health {
        api_version: "ceph.rook.io/v1",
        kind: "CephCluster",
        current: "status.phase == 'Ready' && status.ceph.health in ['HEALTH_OK', 'HEALTH_WARN']",
        failed: None,
        in_progress: None,
    },
    Health {
        api_version: "ceph.rook.io/v1",
        kind: "CephBlockPool",
        current: PHASE_READY,
        failed: Some(PHASE_FAILURE),
        in_progress: Some(PHASE_PROGRESSING),
    },
    Health {
        api_version: "ceph.rook.io/v1",
        kind: "CephFilesystem",
        current: PHASE_READY,
        failed: Some(PHASE_FAILURE),
        in_progress: Some(PHASE_PROGRESSING),
    },
    Health {
        api_version: "ceph.rook.io/v1",
        kind: "CephObjectStore",
        current: PHASE_READY,
        failed: Some(PHASE_FAILURE),
        in_progress: Some(PHASE_PROGRESSING),
    },
    // Ready, or ReconcileFailed (rook@v1.20.6:pkg/operator/ceph/object/user/controller.go;
    // pkg/operator/k8sutil/status.go).
    Health {
        api_version: "ceph.rook.io/v1",
        kind: "CephObjectStoreUser",
        current: PHASE_READY,
        failed: Some("status.phase == 'ReconcileFailed'"),
        in_progress: None,
    },
    // Pending until the provisioner made the bucket, then Bound (kube-object-storage/
    // lib-bucket-provisioner@d1a8c34382f1, the version rook v1.20.6 pins:
    // pkg/apis/objectbucket.io/v1alpha1/objectbucketclaim_types.go). A refused claim stays
    // Pending (the library never sets Failed), so only the timeout reports it.
    Health {
        api_version: "objectbucket.io/v1alpha1",
        kind: "ObjectBucketClaim",
        current: "status.phase == 'Bound'",
        failed: Some("status.phase == 'Failed'"),
        in_progress: Some("status.phase == 'Pending'"),
    },
];

fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The `healthCheckExprs` entries for the (group, kind) pairs a unit holds, in table order.
pub fn exprs_for<'a>(kinds: impl Fn(&str, &str) -> bool + 'a) -> Vec<Value> {
    HEALTH
        .iter()
        .filter(|h| kinds(group(h.api_version), h.kind))
        .map(|h| {
            let mut v = json!({"apiVersion": h.api_version, "kind": h.kind, "current": h.current});
            if let Some(f) = h.failed {
                v["failed"] = json!(f);
            }
            if let Some(p) = h.in_progress {
                v["inProgress"] = json!(p);
            }
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_kind_and_every_expression_names_the_status() {
        let mut seen = std::collections::HashSet::new();
        for h in HEALTH {
            assert!(seen.insert((h.api_version, h.kind)), "{} twice", h.kind);
            for e in [Some(h.current), h.failed, h.in_progress]
                .into_iter()
                .flatten()
            {
                assert!(e.starts_with("status."), "{}: {e}", h.kind);
            }
        }
    }

    #[test]
    fn only_the_kinds_asked_for() {
        let v = exprs_for(|g, k| g == "objectbucket.io" && k == "ObjectBucketClaim");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["current"], "status.phase == 'Bound'");
        assert_eq!(v[0]["inProgress"], "status.phase == 'Pending'");
        assert!(exprs_for(|_, _| false).is_empty());
    }
}
