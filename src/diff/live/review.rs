//! The danger review of `diff --live` (pure): the cluster is the side before the change and
//! the tree the side after it, so the findings say what applying the tree would destroy in
//! this cluster (a Namespace the tree dropped that Flux still manages, a claim whose class the
//! tree changed, OSD hosts Rook runs that the tree renamed, ...).
//!
//! A live object is cut down to the fields the tree sets (`compare::project`), as for the
//! comparison, so that what the server fills in (a claim's `volumeName`, a class's
//! `volumeBindingMode`) is not read as a change; the fields whose *removal* a rule must see
//! are kept whole from the live object.

use std::collections::BTreeMap;

use serde_json::Value;

use super::compare::{Observed, Snapshot, normalise, parse_inventory_id, project};
use crate::diff::danger::{self, Finding, Object, Review, Side, UnitFlags};
use crate::manifest::{Manifest, ResourceId, Unit};

/// The label Flux puts on what a Kustomization applies (kustomize-controller@v1.7
/// `internal/controller/kustomization_controller.go`: `kustomize.toolkit.fluxcd.io/name`).
const FLUX_NAME: &str = "kustomize.toolkit.fluxcd.io/name";

/// Fields a rule reads for what goes away: sealing-scope annotations, the CephCluster's
/// storage hosts and devices and its `osdsPerDevice`. Projection would keep only what the
/// tree still names.
const WHOLE: [&str; 3] = [
    "/metadata/annotations",
    "/spec/storage/nodes",
    "/spec/storage/config",
];

/// The cluster's objects as the side before the change.
struct Before {
    objects: Vec<(ResourceId, Option<Value>, Option<String>)>,
    units: Vec<(String, UnitFlags)>,
}

/// Reviews applying `desired` (the tree, in `units`) to the cluster `snap` describes.
pub fn review(desired: &[Manifest], units: &[Unit], snap: &Snapshot) -> Vec<Finding> {
    let before = before(desired, units, snap);
    let mut side = Side::default();
    for (id, value, unit) in &before.objects {
        side.objects.insert(
            id,
            Object {
                value: value.as_ref(),
                unit: unit.as_deref(),
            },
        );
    }
    for (name, flags) in &before.units {
        side.units.insert(name.as_str(), *flags);
    }
    let after = Side::of_tree(desired, units);
    danger::review(&Review {
        before: &side,
        after: &after,
        before_name: "the cluster",
        unread_instance_files: &[],
    })
}

fn before(desired: &[Manifest], units: &[Unit], snap: &Snapshot) -> Before {
    // `flux bootstrap` names its own Kustomization (`flux-system` by default), the tree
    // names the entry unit after its component: what the cluster's label says of the entry
    // unit's objects is the entry unit.
    let entry = units.iter().find(|u| u.entry).map(|u| u.name.as_str());
    let bootstrap: Option<String> = desired
        .iter()
        .zip(&snap.observed)
        .filter(|(m, _)| Some(m.unit.as_str()) == entry)
        .find_map(|(_, o)| match o {
            Observed::Live { live, .. } => flux_unit(live),
            _ => None,
        });
    let unit_of = |label: Option<String>| match (label, &bootstrap, entry) {
        (Some(l), Some(b), Some(e)) if l == *b => Some(e.to_owned()),
        (l, _, _) => l,
    };

    // What applies an object: the Kustomization whose inventory lists it (what Flux prunes
    // from), else the label Flux put on it.
    let mut flags = Vec::new();
    let mut listed: BTreeMap<ResourceId, String> = BTreeMap::new();
    for inv in &snap.inventories {
        let name = inv
            .kustomization
            .rsplit_once('/')
            .map_or(inv.kustomization.as_str(), |(_, n)| n);
        let name = unit_of(Some(name.to_owned())).unwrap_or_default();
        flags.push((
            name.clone(),
            UnitFlags {
                prune: inv.prune,
                suspend: inv.suspend,
            },
        ));
        for id in inv.entries.iter().filter_map(|e| parse_inventory_id(e)) {
            listed.entry(id).or_insert_with(|| name.clone());
        }
    }
    let unit = |id: &ResourceId, live: &Value| {
        listed.get(id).cloned().or_else(|| unit_of(flux_unit(live)))
    };

    let mut objects: BTreeMap<ResourceId, (Option<Value>, Option<String>)> = BTreeMap::new();
    for (i, m) in desired.iter().enumerate() {
        let Some(Observed::Live { live, .. }) = snap.observed.get(i) else {
            continue;
        };
        let id = snap.ids.get(i).cloned().unwrap_or_else(|| m.id.clone());
        let u = unit(&id, live);
        objects.insert(id, (Some(reviewed(live, &m.value)), u));
    }
    for (id, live) in &snap.others {
        objects
            .entry(id.clone())
            .or_insert_with(|| (Some(normalise(live)), unit(id, live)));
    }
    for (id, name) in &listed {
        objects
            .entry(id.clone())
            .or_insert_with(|| (None, Some(name.clone())));
    }
    if let Some(e) = entry
        && !flags.iter().any(|(n, _)| n == e)
    {
        // The bootstrap Kustomization is `flux bootstrap`'s, not the site's: its inventory is
        // not read, and it prunes (flux2 `pkg/manifestgen/sync` writes `prune: true`).
        flags.push((
            e.to_owned(),
            UnitFlags {
                prune: true,
                suspend: false,
            },
        ));
    }
    Before {
        objects: objects.into_iter().map(|(id, (v, u))| (id, v, u)).collect(),
        units: flags,
    }
}

fn flux_unit(live: &Value) -> Option<String> {
    live.pointer("/metadata/labels")
        .and_then(|l| l.get(FLUX_NAME))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The live object as the review reads it: cut down to what the tree sets, with the
/// [`WHOLE`] fields as the cluster has them.
fn reviewed(live: &Value, desired: &Value) -> Value {
    let whole = normalise(live);
    let mut v = project(&whole, desired);
    for pointer in WHOLE {
        let Some(from) = whole.pointer(pointer) else {
            continue;
        };
        let Some((parent, key)) = pointer.rsplit_once('/') else {
            continue;
        };
        if let Some(Value::Object(map)) = v.pointer_mut(parent) {
            map.insert(key.to_owned(), from.clone());
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::{CLAIM_IMMUTABLE, NAMESPACE_REMOVED, OSDS_MOVED, UNIT_MOVED};
    use crate::diff::live::compare::Inventory;
    use crate::manifest::Layer;
    use serde_json::json;

    fn unit(name: &str, entry: bool) -> Unit {
        Unit {
            name: name.to_owned(),
            layer: Layer::Apps,
            path: name.to_owned(),
            components: Vec::new(),
            instance: None,
            depends_on: Vec::new(),
            suspend: false,
            entry,
            timeout_minutes: 5,
        }
    }

    fn manifest(unit: &str, value: Value) -> Manifest {
        Manifest {
            id: ResourceId::of(&value).unwrap(),
            unit: unit.to_owned(),
            template: "t".to_owned(),
            value,
        }
    }

    fn live(mut v: Value, unit: &str) -> Value {
        v["metadata"]["labels"] = json!({FLUX_NAME: unit, "app.kubernetes.io/part-of": "flatiron"});
        v["metadata"]["uid"] = json!("1234");
        v
    }

    fn kustomization(name: &str) -> Value {
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": name, "namespace": "flux-system"}, "spec": {"prune": true}})
    }

    #[test]
    fn the_cluster_is_the_side_before_and_server_defaults_are_no_change() {
        let claim = |class: &str| json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c", "namespace": "n"}, "spec": {"storageClassName": class, "resources": {"requests": {"storage": "1Gi"}}}});
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}});
        let units = [unit("flux", true), unit("hub", false)];
        let desired = [
            manifest("flux", kustomization("hub")),
            manifest("hub", claim("new")),
        ];
        let mut live_claim = live(claim("old"), "hub");
        // What the server fills in is not the tree's change.
        live_claim["spec"]["volumeName"] = json!("pvc-1234");
        live_claim["spec"]["volumeMode"] = json!("Filesystem");
        let snap = Snapshot {
            ids: desired.iter().map(|m| m.id.clone()).collect(),
            observed: vec![
                Observed::Live {
                    live: live(kustomization("hub"), "flux-system"),
                    dry_run: None,
                },
                Observed::Live {
                    live: live_claim,
                    dry_run: None,
                },
            ],
            others: vec![(ResourceId::of(&ns).unwrap(), live(ns, "hub"))],
            inventories: vec![Inventory {
                kustomization: "flux-system/hub".to_owned(),
                labels: json!({}),
                prune: true,
                suspend: false,
                entries: vec!["_gone__Namespace".to_owned()],
            }],
            unsearched: Vec::new(),
        };
        let found = review(&desired, &units, &snap);
        let codes: Vec<_> = found.iter().map(|f| f.code).collect();
        assert_eq!(codes, [NAMESPACE_REMOVED, CLAIM_IMMUTABLE], "{found:#?}");
        assert!(
            found[1]
                .message
                .contains("`spec.storageClassName` old -> new")
                && !found[1].message.contains("volumeName")
                && !found[1].message.contains("volumeMode"),
            "{found:#?}"
        );
        // The bootstrap Kustomization's name is the entry unit's: no move.
        assert!(!codes.contains(&UNIT_MOVED));
    }

    #[test]
    fn hosts_the_tree_no_longer_names_are_read_from_the_cluster() {
        let cluster = |hosts: &[&str]| {
            let nodes: Vec<Value> = hosts
                .iter()
                .map(|h| json!({"name": h, "devices": [{"name": "/dev/nvme0n1"}]}))
                .collect();
            json!({"apiVersion": "ceph.rook.io/v1", "kind": "CephCluster", "metadata": {"name": "rook-ceph", "namespace": "rook-ceph"}, "spec": {"storage": {"nodes": nodes}}})
        };
        let units = [unit("flux", true), unit("ceph", false)];
        let desired = [manifest("ceph", cluster(&["new-1"]))];
        let snap = Snapshot {
            ids: vec![desired[0].id.clone()],
            observed: vec![Observed::Live {
                live: live(cluster(&["old-1"]), "ceph"),
                dry_run: None,
            }],
            ..Snapshot::default()
        };
        let found = review(&desired, &units, &snap);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, OSDS_MOVED);
        assert!(
            found[0]
                .message
                .contains("1 host `old-1` is renamed to `new-1` (1 OSDs)"),
            "{}",
            found[0].message
        );
    }
}
