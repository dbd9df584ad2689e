//! CB122 `instance-removed`: an instance's Flux Kustomization (`instance-<name>`, path
//! `…/instances/<name>`) leaves the tree: the instance file is gone, or no longer read.
//!
//! Why: Flux deletes a pruning Kustomization's objects with it (kustomize-controller@v1.7
//! `internal/controller/kustomization_controller.go` finalize garbage-collects the inventory
//! of a deleted Kustomization when `spec.prune` is true): the hub, its users' sessions, and
//! with its Namespace their home volumes. A suspended one deletes nothing
//! (finalizerShouldDeleteResources returns false): its objects are left behind, no longer
//! managed by anything, and the hub keeps running unseen by the tree.
//! Example: `git rm instances/cms-dev.toml`, or renaming it `cms-dev.tml`.
//! Fix: keep the file (named `*.toml`), or suspend the instance (`suspend = true`) instead.

use serde_json::Value;

use super::{Finding, Review, UnitFlags, is_kustomization};
use crate::diagnostics::INSTANCE_REMOVED;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.deleted()
        .filter(|(id, _)| is_kustomization(id))
        .filter_map(|(id, o)| {
            let path = o
                .value
                .and_then(|v| v.pointer("/spec/path"))
                .and_then(Value::as_str);
            let name = match path {
                Some(path) => path
                    .trim_end_matches('/')
                    .rsplit_once("instances/")?
                    .1
                    .to_owned(),
                None => id.name.strip_prefix("instance-")?.to_owned(),
            };
            let unread = r
                .unread_instance_files
                .iter()
                .find(|f| {
                    f.strip_prefix("instances/")
                        .is_some_and(|f| f.split('.').next() == Some(name.as_str()))
                })
                .map(|f| format!("; {f} is not read: instance files end in .toml"))
                .unwrap_or_default();
            let flags = o.value.map(UnitFlags::of).unwrap_or_default();
            let (fate, destroys) = if flags.suspend {
                (
                    "its Kustomization is suspended, so Flux deletes it and leaves everything it applied in the cluster, managed by nothing".to_owned(),
                    format!("the management of instance {name}: its hub, Namespace and volumes stay, unseen by the tree and never updated or pruned again"),
                )
            } else if flags.prune {
                (
                    "Flux deletes its Kustomization and, with prune, everything it applied".to_owned(),
                    format!("the hub of instance {name}, its users' running sessions, and with its Namespace their home volumes"),
                )
            } else {
                (
                    "Flux deletes its Kustomization; prune is off, so what it applied stays, managed by nothing".to_owned(),
                    format!("the management of instance {name}: its objects stay, never updated again"),
                )
            };
            Some(Finding::new(
                INSTANCE_REMOVED,
                id,
                format!(
                    "instance `{name}` is removed (instances/{name}.toml is not read at head{unread}): {fate} ({})",
                    id.name
                ),
                destroys,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::{Side, testing::Fixture};
    use serde_json::json;

    fn unit(suspend: bool) -> serde_json::Value {
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": "instance-cms-dev", "namespace": "flux-system"}, "spec": {"path": "./out/instances/cms-dev", "prune": true, "suspend": suspend}})
    }

    fn found(suspend: bool, unread: &[String]) -> Vec<Finding> {
        let before = Fixture::new(&[("flux", unit(suspend))]);
        let side = before.side();
        check(&Review {
            before: &side,
            after: &Side::default(),
            before_name: "base",
            unread_instance_files: unread,
        })
    }

    #[test]
    fn a_removed_instance_unit_is_a_finding_naming_the_unread_file() {
        let found = found(false, &["instances/cms-dev.tml".to_owned()]);
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(
            m.contains("instance `cms-dev` is removed")
                && m.contains("instances/cms-dev.tml is not read")
                && m.contains("with prune, everything it applied"),
            "{found:?}"
        );
        assert!(found[0].destroys.contains("home volumes"));
    }

    #[test]
    fn a_suspended_instance_leaves_its_objects_behind() {
        let found = found(true, &[]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("suspended") && found[0].destroys.contains("management"),
            "{found:?}"
        );
    }
}
