//! The pure half of `diff --live`: desired objects + what the cluster answered -> one entry
//! per object (in sync, changed, missing, orphan, not served, error) with its diff. Live
//! objects are normalised first (server-owned metadata and Flux's bookkeeping dropped), then
//! cut down to the fields the desired object sets, so server defaults are not drift.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::manifest::{MANAGED_BY, PART_OF};
use crate::manifest::{Manifest, ResourceId, to_yaml};

/// What the comparison found for one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    InSync,
    Changed,
    Missing,
    Orphan,
    NotServed,
    Error,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::InSync,
        Status::Changed,
        Status::Missing,
        Status::Orphan,
        Status::NotServed,
        Status::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::InSync => "in-sync",
            Status::Changed => "changed",
            Status::Missing => "missing",
            Status::Orphan => "orphan",
            Status::NotServed => "not-served",
            Status::Error => "error",
        }
    }
}

/// Where an orphan was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    /// A label-selected list returned it: it carries the site's labels.
    Label,
    /// A Flux Kustomization of the site lists it in `status.inventory`.
    Inventory,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: ResourceId,
    pub status: Status,
    /// Unified diff of canonical YAML, live (`-`) to tree (`+`); secrets masked.
    pub diff: Option<String>,
    /// Why, where the status alone does not say it (the error, the orphan's source).
    pub detail: Option<String>,
    /// For an orphan: how it was found (never empty then).
    pub found: Vec<Found>,
}

/// What the cluster holds for one desired object.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// Found; with the server-side apply dry-run result when one was asked for.
    Live {
        live: Value,
        dry_run: Option<Value>,
    },
    Missing,
    /// The cluster does not serve this apiVersion and kind (no CRD, no API group).
    NotServed,
    /// A request about it failed; the message names the verb and resource.
    Fault(String),
}

/// Everything the cluster answered, ready to compare. `observed` is aligned with the desired
/// manifests; `ids` holds their identities as the cluster sees them (namespace filled in).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub ids: Vec<ResourceId>,
    pub observed: Vec<Observed>,
    /// Live objects the label-selected lists returned that are not desired objects.
    pub others: Vec<(ResourceId, Value)>,
    /// The inventories of the live Flux Kustomizations the lists returned.
    pub inventories: Vec<Inventory>,
    /// Kinds whose objects could not be searched for orphans, each with why.
    pub unsearched: Vec<String>,
}

/// What one Flux Kustomization applied, from its `status.inventory.entries[].id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// `namespace/name` of the Kustomization.
    pub kustomization: String,
    /// Its labels: only the inventories of the site's own Kustomizations count.
    pub labels: Value,
    /// `spec.prune`: whether Flux deletes what leaves the inventory.
    pub prune: bool,
    /// `spec.suspend`: a suspended Kustomization applies and prunes nothing, and deleting it
    /// deletes nothing it applied.
    pub suspend: bool,
    pub entries: Vec<String>,
}

/// Compares every desired object with the cluster and lists what the cluster has that the
/// tree does not. Entries come sorted by identity.
pub fn compare(desired: &[Manifest], site: &str, snap: &Snapshot, server_side: bool) -> Vec<Entry> {
    let mut out = Vec::with_capacity(desired.len());
    for (i, m) in desired.iter().enumerate() {
        let id = snap.ids.get(i).cloned().unwrap_or_else(|| m.id.clone());
        let observed = snap.observed.get(i).unwrap_or(&Observed::NotServed);
        out.push(compare_one(id, m, observed, server_side));
    }
    let desired_ids: BTreeSet<&ResourceId> = snap
        .ids
        .iter()
        .chain(desired.iter().map(|m| &m.id))
        .collect();
    // The endpoints controller copies a Service's labels onto its Endpoints and sets no
    // owner (kubernetes@v1.33 pkg/controller/endpoint/endpoints_controller.go `syncService`:
    // `newEndpoints.Labels = service.Labels`): those are the Service's, not orphans.
    let services: BTreeSet<(Option<&str>, &str)> = desired_ids
        .iter()
        .copied()
        .chain(snap.others.iter().map(|(id, _)| id))
        .filter(|id| id.group.is_empty() && id.kind == "Service")
        .map(|id| (id.namespace.as_deref(), id.name.as_str()))
        .collect();
    let mirrors_a_service = |id: &ResourceId| {
        id.group.is_empty()
            && id.kind == "Endpoints"
            && services.contains(&(id.namespace.as_deref(), id.name.as_str()))
    };
    let mut orphans: BTreeMap<ResourceId, Sighting<'_>> = BTreeMap::new();
    for (id, live) in &snap.others {
        if !desired_ids.contains(id) && is_orphan_candidate(live, site) && !mirrors_a_service(id) {
            orphans
                .entry(id.clone())
                .or_default()
                .found
                .insert(Found::Label);
        }
    }
    for inv in snap
        .inventories
        .iter()
        .filter(|inv| inv.labels[PART_OF].as_str() == Some(site))
    {
        for entry in &inv.entries {
            let Some(id) = parse_inventory_id(entry) else {
                continue;
            };
            if !desired_ids.contains(&id) {
                let o = orphans.entry(id).or_default();
                o.found.insert(Found::Inventory);
                o.listed_by.push((inv.kustomization.as_str(), inv.prune));
            }
        }
    }
    out.extend(orphans.into_iter().map(|(id, o)| Entry {
        id,
        status: Status::Orphan,
        diff: None,
        detail: Some(orphan_detail(site, &o.found, &o.listed_by)),
        found: o.found.into_iter().collect(),
    }));
    out.sort_by(|a, b| a.id.cmp(&b.id).then(a.status.cmp(&b.status)));
    out
}

/// How one orphan was found, and the Kustomizations (with their `prune`) that still list it.
#[derive(Default)]
struct Sighting<'a> {
    found: BTreeSet<Found>,
    listed_by: Vec<(&'a str, bool)>,
}

/// Where an orphan was found and what Flux will do about it: an object in the inventory of a
/// Kustomization with `prune: true` is deleted when Flux next applies the tree; one that no
/// inventory lists stays until someone deletes it.
fn orphan_detail(site: &str, found: &BTreeSet<Found>, listed_by: &[(&str, bool)]) -> String {
    let names: Vec<&str> = listed_by.iter().map(|(k, _)| *k).collect();
    let inventory = match names.as_slice() {
        [] => String::new(),
        [one] => format!("in the inventory of Kustomization {one}"),
        many => format!("in the inventories of Kustomizations {}", many.join(", ")),
    };
    let labelled = format!("labelled {PART_OF}={site}");
    let fate = if listed_by.iter().any(|(_, prune)| *prune) {
        "Flux deletes it when it next applies the tree (prune)"
    } else if listed_by.is_empty() {
        "no Flux inventory lists it: Flux will not delete it"
    } else {
        "prune is off: Flux leaves it in place"
    };
    let source = match (found.contains(&Found::Label), inventory.is_empty()) {
        (true, true) => labelled,
        (true, false) => format!("{labelled} and {inventory}"),
        (false, _) => format!("{inventory}, without the site's labels"),
    };
    format!("{source}, not in the tree; {fate}")
}

fn compare_one(id: ResourceId, m: &Manifest, observed: &Observed, server_side: bool) -> Entry {
    let entry = |status, diff, detail| Entry {
        id: id.clone(),
        status,
        diff,
        detail,
        found: Vec::new(),
    };
    match observed {
        Observed::NotServed => entry(
            Status::NotServed,
            None,
            Some(format!(
                "the cluster does not serve {} {}",
                m.api_version(),
                m.id.kind
            )),
        ),
        Observed::Fault(message) => entry(Status::Error, None, Some(message.clone())),
        Observed::Missing => {
            let mut desired = m.value.clone();
            mask_secrets(&id, &mut desired, None);
            entry(Status::Missing, Some(unified(&Value::Null, &desired)), None)
        }
        Observed::Live { live, dry_run } => {
            let (mut left, mut right) = match (server_side, dry_run) {
                (true, Some(result)) => (normalise(live), normalise(result)),
                _ => {
                    let desired = m.value.clone();
                    let projected = project(&normalise(live), &desired);
                    (projected, desired)
                }
            };
            mask_pair(&id, &mut left, &mut right);
            if left == right {
                entry(Status::InSync, None, None)
            } else {
                entry(Status::Changed, Some(unified(&left, &right)), None)
            }
        }
    }
}

/// A live object is an orphan candidate when it is labelled part of this site and no
/// controller owns it: the Secret the Sealed Secrets controller makes from a SealedSecret
/// copies the template's labels, but it is the SealedSecret's, not ours.
fn is_orphan_candidate(live: &Value, site: &str) -> bool {
    let meta = &live["metadata"];
    let labels = &meta["labels"];
    let ours =
        labels[MANAGED_BY].as_str() == Some("casa-build") && labels[PART_OF].as_str() == Some(site);
    let owned = meta["ownerReferences"]
        .as_array()
        .is_some_and(|refs| refs.iter().any(|r| r["controller"].as_bool() == Some(true)));
    ours && !owned
}

/// Parses a Flux inventory id, `<namespace>_<name>_<group>_<kind>` (cli-utils' ObjMetadata:
/// a colon in a name, as RBAC names have, is written `__`).
pub fn parse_inventory_id(entry: &str) -> Option<ResourceId> {
    let parts: Vec<&str> = entry.split('_').collect();
    if parts.len() < 4 {
        return None;
    }
    let namespace = parts[0];
    let kind = parts[parts.len() - 1];
    let group = parts[parts.len() - 2];
    let name = parts[1..parts.len() - 2].join("_").replace("__", ":");
    if name.is_empty() || kind.is_empty() {
        return None;
    }
    Some(ResourceId {
        group: group.to_owned(),
        kind: kind.to_owned(),
        namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
        name,
    })
}

/// Metadata the server owns, dropped from every live object before comparing.
const SERVER_METADATA: [&str; 7] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionGracePeriodSeconds",
];

/// Label and annotation prefixes that other tools write on our objects.
const FOREIGN_KEYS: [&str; 2] = ["kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/"];
/// Flux settings the tree itself writes on objects (data that must never be pruned): ours,
/// not stamped by Flux, so compared like any other annotation.
const OWN_FLUX_KEYS: [&str; 1] = ["kustomize.toolkit.fluxcd.io/prune"];
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops `status`, the metadata the server owns, kubectl's last-applied annotation and
/// Flux's labels and annotations; empty label and annotation maps go too.
pub fn normalise(live: &Value) -> Value {
    let mut v = live.clone();
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    obj.remove("status");
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in SERVER_METADATA {
            meta.remove(key);
        }
        for field in ["labels", "annotations"] {
            if let Some(map) = meta.get_mut(field).and_then(Value::as_object_mut) {
                map.retain(|k, _| {
                    k != LAST_APPLIED
                        && (OWN_FLUX_KEYS.contains(&k.as_str())
                            || !FOREIGN_KEYS.iter().any(|p| k.starts_with(p)))
                });
                if map.is_empty() {
                    meta.remove(field);
                }
            }
        }
    }
    v
}

/// The live value cut down to what `desired` sets. Maps keep the desired keys; lists whose
/// desired items all have a `name` pair items by name (items only the live list has belong
/// to someone else: a webhook, another field manager); other lists pair by position and keep
/// extra live items (their order and length are part of the value). Values the server writes
/// in another spelling (quantities, `1.0` for `1`) and Go's omitted zero values count as
/// what the tree says.
pub fn project(live: &Value, desired: &Value) -> Value {
    project_at(live, desired, false, false)
}

/// `holds`: the values of this map are resource quantities; `quantity`: this value is one.
fn project_at(live: &Value, desired: &Value, holds: bool, quantity: bool) -> Value {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => {
            let mut out = Map::new();
            for (k, dv) in d {
                match l.get(k) {
                    Some(lv) => {
                        out.insert(k.clone(), project_at(lv, dv, holds_quantities(k), holds));
                    }
                    // Go omits zero values (`false`, `0`, `""`, empty maps and lists) when it
                    // writes an object back: absent on the server is what the tree says.
                    None if is_zero(dv) => {
                        out.insert(k.clone(), dv.clone());
                    }
                    None => {}
                }
            }
            Value::Object(out)
        }
        (Value::Array(d), Value::Array(l)) if is_named_list(d) => {
            let by_name: BTreeMap<&str, &Value> = l
                .iter()
                .filter_map(|item| Some((item.get("name")?.as_str()?, item)))
                .collect();
            Value::Array(
                d.iter()
                    .filter_map(|item| {
                        let name = item.get("name")?.as_str()?;
                        by_name
                            .get(name)
                            .map(|lv| project_at(lv, item, false, false))
                    })
                    .collect(),
            )
        }
        (Value::Array(d), Value::Array(l)) => Value::Array(
            l.iter()
                .enumerate()
                .map(|(i, lv)| match d.get(i) {
                    Some(dv) => project_at(lv, dv, false, false),
                    None => lv.clone(),
                })
                .collect(),
        ),
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => desired.clone(),
        (d, l) if quantity && same_quantity(d, l) => desired.clone(),
        _ => live.clone(),
    }
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn is_named_list(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.get("name").is_some_and(Value::is_string))
}

/// Maps of resource quantities, which the server rewrites in canonical form (`cpu: 0.5` comes
/// back as `500m`, `memory: 1024Mi` as `1Gi`): requests and limits, a PVC's capacity, a
/// quota's hard limits.
fn holds_quantities(key: &str) -> bool {
    matches!(
        key,
        "requests" | "limits" | "capacity" | "hard" | "allocatable" | "overhead"
    )
}

fn same_quantity(a: &Value, b: &Value) -> bool {
    match (quantity(a), quantity(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()).max(1.0) * 4.0,
        _ => false,
    }
}

/// The value of a Kubernetes quantity (`500m`, `1.5Gi`, `2e3`, `4`), or None.
fn quantity(v: &Value) -> Option<f64> {
    let text = match v {
        Value::Number(n) => return n.as_f64(),
        Value::String(s) => s.trim(),
        _ => return None,
    };
    const SUFFIXES: [(&str, f64); 14] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    for (suffix, scale) in SUFFIXES {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<f64>().ok().map(|n| n * scale);
        }
    }
    if let Some(number) = text.strip_suffix('E') {
        return number.parse::<f64>().ok().map(|n| n * 1e18);
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Replaces secret values on both sides of a comparison by placeholders: SealedSecret
/// ciphertexts and Secret data compare by key and by equality of the strings, and are never
/// shown. A value that differs reads "(sealed value differs)" on the tree's side.
fn mask_pair(id: &ResourceId, live: &mut Value, desired: &mut Value) {
    let live_copy = live.clone();
    mask_secrets(id, live, None);
    mask_secrets(id, desired, Some(&live_copy));
}

/// Masks the secret values of `v`; with `other`, a value that differs from the same key there
/// gets the "differs" placeholder.
fn mask_secrets(id: &ResourceId, v: &mut Value, other: Option<&Value>) {
    let (pointers, same, differs): (&[&str], &str, &str) =
        match (id.group.as_str(), id.kind.as_str()) {
            // `spec.data` is v1alpha1's deprecated whole-Secret ciphertext, a single string.
            ("bitnami.com", "SealedSecret") => (
                &["/spec/encryptedData", "/spec/data"],
                "(sealed value)",
                "(sealed value differs)",
            ),
            ("", "Secret") => (
                &["/data", "/stringData"],
                "(secret value)",
                "(secret value differs)",
            ),
            _ => return,
        };
    let placeholder =
        |differs_there: bool| Value::String(if differs_there { differs } else { same }.to_owned());
    for pointer in pointers {
        let theirs = other.and_then(|o| o.pointer(pointer)).cloned();
        match v.pointer_mut(pointer) {
            Some(Value::Object(map)) => {
                for (key, value) in map.iter_mut() {
                    let differs_there = theirs
                        .as_ref()
                        .and_then(|t| t.get(key))
                        .is_some_and(|t| t != value);
                    *value = placeholder(differs_there);
                }
            }
            Some(value) => {
                let differs_there = theirs.as_ref().is_some_and(|t| t != value);
                *value = placeholder(differs_there);
            }
            None => {}
        }
    }
}

/// Unified diff of the canonical YAML of two values, live (`-`) to tree (`+`).
fn unified(live: &Value, desired: &Value) -> String {
    let left = if live.is_null() {
        String::new()
    } else {
        to_yaml(live)
    };
    let right = to_yaml(desired);
    similar::TextDiff::from_lines(&left, &right)
        .unified_diff()
        .context_radius(3)
        .header("live", "tree")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(v: Value) -> Manifest {
        Manifest {
            id: ResourceId::of(&v).unwrap(),
            unit: "u".into(),
            template: "t".into(),
            value: v,
        }
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "triton", "namespace": "triton", "labels": {MANAGED_BY: "casa-build", PART_OF: "flatiron"}},
            "spec": {"replicas": 1, "template": {"spec": {
                "hostNetwork": false,
                "containers": [{"name": "triton", "image": "nvcr.io/triton:24.01", "resources": {"limits": {"cpu": 0.5, "memory": "1024Mi"}}, "args": ["a", "b"]}],
            }}}
        })
    }

    /// The deployment as the recordings show the server returns it: defaults filled in,
    /// metadata added, quantities canonical, `false` omitted, status present.
    fn served(mut v: Value) -> Value {
        let meta = v["metadata"].as_object_mut().unwrap();
        meta.insert("uid".into(), json!("952db708-108f-45c4-998b-aa197a7dd71d"));
        meta.insert("resourceVersion".into(), json!("478"));
        meta.insert("generation".into(), json!(1));
        meta.insert("creationTimestamp".into(), json!("2026-06-15T04:14:45Z"));
        meta.insert(
            "managedFields".into(),
            json!([{"manager": "kustomize-controller", "operation": "Apply"}]),
        );
        meta["labels"]["kustomize.toolkit.fluxcd.io/name"] = json!("triton");
        meta.insert(
            "annotations".into(),
            json!({"deployment.kubernetes.io/revision": "1", LAST_APPLIED: "{}"}),
        );
        let spec = &mut v["spec"];
        spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}});
        spec["revisionHistoryLimit"] = json!(10);
        let pod = spec["template"]["spec"].as_object_mut().unwrap();
        pod.remove("hostNetwork");
        pod.insert("dnsPolicy".into(), json!("ClusterFirst"));
        let c = &mut pod.get_mut("containers").unwrap()[0];
        c["imagePullPolicy"] = json!("IfNotPresent");
        c["terminationMessagePath"] = json!("/dev/termination-log");
        c["resources"]["limits"] = json!({"cpu": "500m", "memory": "1Gi"});
        let containers = pod.get_mut("containers").unwrap().as_array_mut().unwrap();
        containers.insert(0, json!({"name": "istio-proxy", "image": "proxy"}));
        v["status"] = json!({"replicas": 1});
        v
    }

    fn snapshot(m: &Manifest, observed: Observed) -> Snapshot {
        Snapshot {
            ids: vec![m.id.clone()],
            observed: vec![observed],
            ..Snapshot::default()
        }
    }

    #[test]
    fn server_defaults_and_metadata_are_not_drift() {
        let m = manifest(deployment());
        let snap = snapshot(
            &m,
            Observed::Live {
                live: served(deployment()),
                dry_run: None,
            },
        );
        let entries = compare(std::slice::from_ref(&m), "flatiron", &snap, false);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].status, Status::InSync, "{:?}", entries[0].diff);
    }

    #[test]
    fn a_changed_field_shows_in_a_unified_diff() {
        let m = manifest(deployment());
        let mut live = served(deployment());
        live["spec"]["template"]["spec"]["containers"][1]["image"] = json!("nvcr.io/triton:23.01");
        let snap = snapshot(
            &m,
            Observed::Live {
                live,
                dry_run: None,
            },
        );
        let e = &compare(std::slice::from_ref(&m), "flatiron", &snap, false)[0];
        assert_eq!(e.status, Status::Changed);
        let diff = e.diff.as_deref().unwrap();
        assert!(diff.starts_with("--- live\n+++ tree\n"), "{diff}");
        assert!(
            diff.contains("-      - image: nvcr.io/triton:23.01")
                || diff.contains("-        image: nvcr.io/triton:23.01"),
            "{diff}"
        );
        assert!(
            diff.contains("+") && diff.contains("triton:24.01"),
            "{diff}"
        );
    }

    #[test]
    fn positional_lists_keep_their_length_and_order() {
        let d = json!({"args": ["a", "b"]});
        assert_eq!(
            project(&json!({"args": ["a", "b", "c"]}), &d),
            json!({"args": ["a", "b", "c"]})
        );
        assert_eq!(
            project(&json!({"args": ["b", "a"]}), &d),
            json!({"args": ["b", "a"]})
        );
    }

    #[test]
    fn named_lists_pair_by_name_in_any_order() {
        let d = json!({"ports": [{"name": "http", "port": 80}, {"name": "grpc", "port": 81}]});
        let l = json!({"ports": [{"name": "grpc", "port": 81, "protocol": "TCP"}, {"name": "http", "port": 80, "protocol": "TCP"}]});
        assert_eq!(project(&l, &d), d);
        let missing = json!({"ports": [{"name": "grpc", "port": 81}]});
        assert_ne!(project(&missing, &d), d);
    }

    #[test]
    fn quantities_compare_by_value_only_where_they_are_quantities() {
        assert!(same_quantity(&json!(0.5), &json!("500m")));
        assert!(same_quantity(&json!("1024Mi"), &json!("1Gi")));
        assert!(same_quantity(&json!("2k"), &json!("2000")));
        assert!(!same_quantity(&json!("1G"), &json!("1Gi")));
        let d = json!({"labels": {"cpu": "1"}, "resources": {"requests": {"cpu": "1"}}});
        let l = json!({"labels": {"cpu": "1000m"}, "resources": {"requests": {"cpu": "1000m"}}});
        assert_eq!(
            project(&l, &d),
            json!({"labels": {"cpu": "1000m"}, "resources": {"requests": {"cpu": "1"}}})
        );
    }

    #[test]
    fn missing_objects_show_whole() {
        let m = manifest(deployment());
        let e = &compare(
            std::slice::from_ref(&m),
            "flatiron",
            &snapshot(&m, Observed::Missing),
            false,
        )[0];
        assert_eq!(e.status, Status::Missing);
        assert!(e.diff.as_deref().unwrap().contains("+kind: Deployment"));
    }

    fn sealed(values: [&str; 2]) -> Value {
        json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
               "metadata": {"name": "dex-env", "namespace": "dex"},
               "spec": {"encryptedData": {"A": values[0], "B": values[1]}, "template": {"type": "Opaque"}}})
    }

    #[test]
    fn sealed_secrets_compare_by_key_and_never_print_ciphertext() {
        let m = manifest(sealed(["AgAAAA1", "AgBBBB1"]));
        let same = snapshot(
            &m,
            Observed::Live {
                live: sealed(["AgAAAA1", "AgBBBB1"]),
                dry_run: None,
            },
        );
        assert_eq!(
            compare(std::slice::from_ref(&m), "s", &same, false)[0].status,
            Status::InSync
        );

        let other = snapshot(
            &m,
            Observed::Live {
                live: sealed(["AgAAAA1", "AgZZZZ9"]),
                dry_run: None,
            },
        );
        let e = &compare(std::slice::from_ref(&m), "s", &other, false)[0];
        assert_eq!(e.status, Status::Changed);
        let diff = e.diff.as_deref().unwrap();
        assert!(diff.contains("+    B: (sealed value differs)"), "{diff}");
        assert!(diff.contains("-    B: (sealed value)"), "{diff}");
        assert!(!diff.contains("Ag"), "ciphertext printed:\n{diff}");

        let missing = snapshot(&m, Observed::Missing);
        let diff = compare(std::slice::from_ref(&m), "s", &missing, false)[0]
            .diff
            .clone()
            .unwrap();
        assert!(!diff.contains("Ag"), "{diff}");
    }

    #[test]
    fn server_side_compares_live_with_the_dry_run() {
        let m = manifest(deployment());
        let live = served(deployment());
        let mut dry = live.clone();
        dry["metadata"]["resourceVersion"] = json!("999");
        dry["metadata"]["managedFields"] = json!([{"manager": "casa-build", "operation": "Apply"}]);
        let snap = snapshot(
            &m,
            Observed::Live {
                live: live.clone(),
                dry_run: Some(dry.clone()),
            },
        );
        assert_eq!(
            compare(std::slice::from_ref(&m), "flatiron", &snap, true)[0].status,
            Status::InSync
        );
        dry["spec"]["replicas"] = json!(3);
        let snap = snapshot(
            &m,
            Observed::Live {
                live,
                dry_run: Some(dry),
            },
        );
        let e = &compare(std::slice::from_ref(&m), "flatiron", &snap, true)[0];
        assert_eq!(e.status, Status::Changed);
        assert!(e.diff.as_deref().unwrap().contains("+  replicas: 3"));
    }

    #[test]
    fn orphans_come_from_labels_and_flux_inventories() {
        let m = manifest(deployment());
        let mut snap = snapshot(
            &m,
            Observed::Live {
                live: served(deployment()),
                dry_run: None,
            },
        );
        let labelled = |name: &str, site: &str| json!({"metadata": {"name": name, "namespace": "triton", "labels": {MANAGED_BY: "casa-build", PART_OF: site}}});
        let mut owned = labelled("from-sealed-secret", "flatiron");
        owned["metadata"]["ownerReferences"] =
            json!([{"kind": "SealedSecret", "controller": true}]);
        let id = |name: &str| ResourceId {
            group: String::new(),
            kind: "Service".into(),
            namespace: Some("triton".into()),
            name: name.into(),
        };
        snap.others = vec![
            (id("old"), labelled("old", "flatiron")),
            (id("stray"), labelled("stray", "flatiron")),
            // What the endpoints controller makes of Service `old`: the Service's, not an orphan.
            (
                ResourceId {
                    kind: "Endpoints".into(),
                    ..id("old")
                },
                labelled("old", "flatiron"),
            ),
            (id("elsewhere"), labelled("elsewhere", "other-site")),
            (id("from-sealed-secret"), owned),
        ];
        snap.inventories = vec![
            Inventory {
                kustomization: "flux-system/triton".into(),
                labels: json!({PART_OF: "flatiron"}),
                prune: true,
                suspend: false,
                entries: vec![
                    "triton_triton_apps_Deployment".into(),
                    "triton_old__Service".into(),
                    "_system__admin_rbac.authorization.k8s.io_ClusterRole".into(),
                ],
            },
            Inventory {
                kustomization: "flux-system/other".into(),
                labels: json!({PART_OF: "other-site"}),
                prune: true,
                suspend: false,
                entries: vec!["triton_other__Service".into()],
            },
        ];
        let entries = compare(std::slice::from_ref(&m), "flatiron", &snap, false);
        let orphans: Vec<String> = entries
            .iter()
            .filter(|e| e.status == Status::Orphan)
            .map(|e| {
                format!(
                    "{} {:?} ({})",
                    e.id,
                    e.found,
                    e.detail.as_deref().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(
            orphans,
            [
                "Service triton/old [Label, Inventory] (labelled app.kubernetes.io/part-of=flatiron and in the inventory of Kustomization flux-system/triton, not in the tree; Flux deletes it when it next applies the tree (prune))",
                "Service triton/stray [Label] (labelled app.kubernetes.io/part-of=flatiron, not in the tree; no Flux inventory lists it: Flux will not delete it)",
                "ClusterRole.rbac.authorization.k8s.io system:admin [Inventory] (in the inventory of Kustomization flux-system/triton, without the site's labels, not in the tree; Flux deletes it when it next applies the tree (prune))",
            ],
        );
    }

    #[test]
    fn inventory_ids_parse() {
        assert_eq!(
            parse_inventory_id("flux-system_dex_source.toolkit.fluxcd.io_HelmRepository")
                .unwrap()
                .to_string(),
            "HelmRepository.source.toolkit.fluxcd.io flux-system/dex"
        );
        assert_eq!(
            parse_inventory_id("_dex__Namespace").unwrap().to_string(),
            "Namespace dex"
        );
        assert!(parse_inventory_id("nonsense").is_none());
        assert!(parse_inventory_id("___").is_none());
    }

    #[test]
    fn normalise_drops_what_the_server_and_flux_own() {
        let n = normalise(&served(deployment()));
        let meta = &n["metadata"];
        for k in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
        ] {
            assert!(meta.get(k).is_none(), "{k}");
        }
        assert!(n.get("status").is_none());
        assert_eq!(
            meta["annotations"],
            json!({"deployment.kubernetes.io/revision": "1"})
        );
        assert!(
            meta["labels"]
                .get("kustomize.toolkit.fluxcd.io/name")
                .is_none()
        );
    }

    #[test]
    fn normalise_keeps_the_prune_setting_the_tree_writes() {
        let mut live = served(deployment());
        live["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/prune"] = json!("disabled");
        live["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/checksum"] = json!("x");
        let n = normalise(&live);
        assert_eq!(
            n["metadata"]["annotations"],
            json!({"deployment.kubernetes.io/revision": "1", "kustomize.toolkit.fluxcd.io/prune": "disabled"})
        );
    }
}
