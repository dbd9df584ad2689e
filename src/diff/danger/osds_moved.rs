//! CB125 `osds-moved`: the CephCluster's storage changes under existing OSDs: a host leaves
//! the list (or is renamed), a device leaves a host, or `osdsPerDevice` changes.
//!
//! Why: Rook creates OSDs for what the list names and never removes one by itself
//! (rook/rook@v1.20 `Documentation/Storage-Configuration/Advanced/ceph-osd-mgmt.md`, "Remove
//! an OSD": the OSD must be purged by hand, and the operator may try to re-create an OSD it
//! still finds); a renamed host is a new CRUSH host whose OSDs are prepared anew, so Ceph
//! backfills every placement group of the old one onto the rest, and the old OSDs, no longer
//! managed, hold data until they are purged. `osdsPerDevice` applies only when a device is
//! prepared: to take effect every OSD of every device must be purged and re-created, all
//! their data moved (with 3x replication and host failure domain, losing more than one host's
//! OSDs before backfill ends loses data).
//! Fix: change one host at a time and wait for `active+clean`, or keep the layout.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Finding, Review, is, list, named};
use crate::diagnostics::OSDS_MOVED;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.changed()
        .filter(|(id, _, _)| is(id, "ceph.rook.io", "CephCluster"))
        .filter_map(|(id, old, new)| {
            let (o, n) = (layout(old), layout(new));
            let mut what = Vec::new();
            let gone: Vec<String> = o.keys().filter(|h| !n.contains_key(*h)).cloned().collect();
            let came: Vec<String> = n.keys().filter(|h| !o.contains_key(*h)).cloned().collect();
            if !gone.is_empty() {
                let one = gone.len() == 1;
                let verb = match (came.len() == gone.len(), one) {
                    (true, true) => format!("is renamed to {}", list(&came)),
                    (true, false) => format!("are renamed to {}", list(&came)),
                    (false, true) => "leaves the storage list".to_owned(),
                    (false, false) => "leave the storage list".to_owned(),
                };
                let osds: usize = gone.iter().filter_map(|h| o.get(h)).map(Host::osds).sum();
                what.push(format!(
                    "{} host{} {} {verb} ({osds} OSDs)",
                    gone.len(),
                    if gone.len() == 1 { "" } else { "s" },
                    list(&gone)
                ));
            }
            for (host, before) in &o {
                let Some(after) = n.get(host) else { continue };
                let dropped: Vec<String> = before
                    .devices
                    .keys()
                    .filter(|d| !after.devices.contains_key(*d))
                    .cloned()
                    .collect();
                if !dropped.is_empty() {
                    what.push(format!("host `{host}` drops device{} {}", if dropped.len() == 1 { "" } else { "s" }, list(&dropped)));
                }
                let changed: BTreeSet<(u64, u64)> = before
                    .devices
                    .iter()
                    .filter_map(|(d, per)| Some((*per, *after.devices.get(d)?)))
                    .filter(|(a, b)| a != b)
                    .collect();
                for (a, b) in changed {
                    what.push(format!("host `{host}`: osdsPerDevice {a} -> {b}"));
                }
            }
            // One line for a change of the cluster-wide default across every host.
            let defaults = (per_device(old.pointer("/spec/storage/config")), per_device(new.pointer("/spec/storage/config")));
            if defaults.0 != defaults.1 {
                what.retain(|w| !w.contains("osdsPerDevice"));
                what.push(format!("osdsPerDevice {} -> {} on every device", defaults.0.unwrap_or(1), defaults.1.unwrap_or(1)));
            }
            (!what.is_empty()).then(|| {
                Finding::new(
                    OSDS_MOVED,
                    id,
                    format!("{}: {}", named(id), what.join("; ")),
                    "OSDs Rook no longer manages keep their data until purged; new ones are prepared and Ceph moves placement groups onto them (losing a second host before backfill ends loses data)",
                )
            })
        })
        .collect()
}

/// One host of the storage list: its devices, each with its OSD count.
struct Host {
    devices: BTreeMap<String, u64>,
}

impl Host {
    fn osds(&self) -> usize {
        self.devices.values().map(|n| *n as usize).sum()
    }
}

fn per_device(config: Option<&Value>) -> Option<u64> {
    let v = config?.get("osdsPerDevice")?;
    v.as_u64().or_else(|| v.as_str()?.parse().ok())
}

/// Host -> device -> OSDs per device (the device's own config, else the host's, else the
/// cluster's, else 1: Rook's default).
fn layout(cluster: &Value) -> BTreeMap<String, Host> {
    let storage = cluster.pointer("/spec/storage");
    let default = per_device(storage.and_then(|s| s.get("config"))).unwrap_or(1);
    let mut hosts = BTreeMap::new();
    for node in storage
        .and_then(|s| s.get("nodes"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = node.get("name").and_then(Value::as_str) else {
            continue;
        };
        let host_default = per_device(node.get("config")).unwrap_or(default);
        let devices = node
            .get("devices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| {
                let n = d.get("name")?.as_str()?.to_owned();
                Some((n, per_device(d.get("config")).unwrap_or(host_default)))
            })
            .collect();
        hosts.insert(name.to_owned(), Host { devices });
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::json;

    fn cluster(hosts: &[&str], per: &str) -> Value {
        let nodes: Vec<Value> = hosts
            .iter()
            .map(|h| json!({"name": h, "devices": [{"name": format!("/dev/{h}-0")}, {"name": format!("/dev/{h}-1")}]}))
            .collect();
        json!({"apiVersion": "ceph.rook.io/v1", "kind": "CephCluster", "metadata": {"name": "rook-ceph", "namespace": "rook-ceph"}, "spec": {"storage": {"config": {"osdsPerDevice": per}, "nodes": nodes}}})
    }

    #[test]
    fn renamed_hosts_and_a_new_osd_count_are_one_finding() {
        let found = run(
            check,
            &[("u", cluster(&["a", "b"], "5"))],
            &[("u", cluster(&["c", "d"], "4"))],
        );
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(
            m.contains("2 hosts `a` and `b` are renamed to `c` and `d` (20 OSDs)"),
            "{m}"
        );
        assert!(m.contains("osdsPerDevice 5 -> 4 on every device"), "{m}");
    }

    #[test]
    fn an_added_host_is_not_a_finding() {
        assert!(
            run(
                check,
                &[("u", cluster(&["a"], "5"))],
                &[("u", cluster(&["a", "b"], "5"))]
            )
            .is_empty()
        );
    }
}
