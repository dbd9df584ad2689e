//! CB120 `namespace-removed`: a Namespace leaves the tree and Flux prunes it.
//!
//! Why: deleting a Namespace deletes everything in it, whoever made it: the hub's database,
//! the users' home volumes (the `claim-<user>` PVCs KubeSpawner makes, which the tree never
//! lists), the Secrets the Sealed Secrets controller unsealed there.
//! Example: `git rm instances/cms-dev.toml`.
//! Fix: keep the Namespace (or the instance), or back up the volumes first.

use super::{Finding, Review, is, named};
use crate::diagnostics::NAMESPACE_REMOVED;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.deleted()
        .filter(|(id, _)| is(id, "", "Namespace"))
        .map(|(id, o)| {
            let by = o
                .unit
                .map(|u| format!(", and Flux Kustomization {u} prunes it"))
                .unwrap_or_default();
            Finding::new(
                NAMESPACE_REMOVED,
                id,
                format!("{} leaves the tree{by}", named(id)),
                format!(
                    "every object in namespace {}: the users' home volumes (PVCs the hub made), the hub's database, unsealed Secrets",
                    id.name
                ),
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
    fn a_pruned_namespace_is_a_finding_and_a_kept_one_is_not() {
        let ns =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cmsaf-dev"}});
        let found = run(check, &[("instance-cms-dev", ns.clone())], &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, NAMESPACE_REMOVED);
        assert!(found[0].destroys.contains("home volumes"), "{found:?}");
        assert!(run(check, &[("u", ns.clone())], &[("u", ns)]).is_empty());
    }
}
