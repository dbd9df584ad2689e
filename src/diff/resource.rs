//! The per-resource engine (pure): the rendered objects of two sides -> what was added,
//! removed, changed or renamed, each with a unified diff of its canonical YAML. Secrets are
//! masked before any text is made, so no ciphertext (and no Secret value) reaches a diff.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use similar::TextDiff;

use crate::manifest::{COMPONENT, Layer, Unit};
use crate::manifest::{Manifest, ResourceId, to_yaml};

/// What a sealed value reads as in a diff when it is the same on both sides (or only on one).
pub const SEALED_VALUE: &str = "(sealed value)";
/// What a sealed value reads as when its ciphertext differs between the sides.
pub const SEALED_VALUE_CHANGED: &str = "(sealed value changed)";
/// The same for a plain `Secret`'s data (the build makes none, but a site template could).
pub const SECRET_VALUE: &str = "(secret value)";
pub const SECRET_VALUE_CHANGED: &str = "(secret value changed)";

/// Lines of context around each change, as `git diff` shows them.
const CONTEXT_LINES: usize = 3;

/// One side of a comparison: its rendered objects and the Flux units they belong to.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub manifests: &'a [Manifest],
    pub units: &'a [Unit],
}

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Removed,
    Changed,
    Renamed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Added,
        Status::Removed,
        Status::Changed,
        Status::Renamed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
            Status::Renamed => "renamed",
        }
    }
}

/// One object that differs between the sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The object's identity where it exists: head, or base for a removed object.
    pub id: ResourceId,
    /// A renamed object's name at base.
    pub from: Option<String>,
    pub status: Status,
    /// The Flux Kustomization (unit) the object belongs to.
    pub unit: String,
    /// That unit's layer; `None` only if the unit is unknown (never for a built site).
    pub layer: Option<Layer>,
    /// The object's `app.kubernetes.io/component` label, else its unit's component.
    pub component: String,
    /// Unified diff of the masked canonical YAML, with `a/` and `b/` paths inside `out/`.
    pub diff: String,
}

/// Compares two sides object by object.
///
/// Identity is (group, kind, namespace, name). An object removed at base and one added at head
/// with the same group, kind and namespace and the same content apart from `metadata.name`
/// are one rename; pairs are made one-to-one, in identity order, so the result does not
/// depend on the order objects were rendered in.
pub fn compare(base: Side<'_>, head: Side<'_>) -> Vec<Change> {
    let base_by_id: BTreeMap<&ResourceId, &Manifest> =
        base.manifests.iter().map(|m| (&m.id, m)).collect();
    let head_by_id: BTreeMap<&ResourceId, &Manifest> =
        head.manifests.iter().map(|m| (&m.id, m)).collect();

    let mut changes = Vec::new();
    let mut removed: Vec<&Manifest> = Vec::new();
    for (id, old) in &base_by_id {
        match head_by_id.get(id) {
            None => removed.push(old),
            Some(new) if old.value != new.value || old.unit != new.unit => {
                changes.push(change(Status::Changed, Some((old, base)), (new, head)));
            }
            Some(_) => {}
        }
    }
    let added: Vec<&Manifest> = head_by_id
        .iter()
        .filter(|(id, _)| !base_by_id.contains_key(*id))
        .map(|(_, m)| *m)
        .collect();

    // Candidates for a rename, keyed by their content without the name; BTreeMap order of
    // `added` keeps the pairing deterministic.
    let mut by_content: HashMap<(String, String, Option<String>, String), Vec<usize>> =
        HashMap::new();
    for (i, m) in added.iter().enumerate() {
        by_content.entry(rename_key(m)).or_default().push(i);
    }
    for list in by_content.values_mut() {
        list.reverse(); // popped from the end: the first in identity order pairs first
    }
    let mut paired = vec![false; added.len()];
    for old in removed {
        let partner = by_content
            .get_mut(&rename_key(old))
            .and_then(Vec::pop)
            .and_then(|i| Some((paired.get_mut(i)?, *added.get(i)?)));
        match partner {
            Some((flag, new)) => {
                *flag = true;
                let mut c = change(Status::Renamed, Some((old, base)), (new, head));
                c.from = Some(old.id.name.clone());
                changes.push(c);
            }
            None => changes.push(removed_change(old, base)),
        }
    }
    let unpaired = added
        .iter()
        .zip(&paired)
        .filter(|(_, p)| !**p)
        .map(|(m, _)| *m);
    for new in unpaired {
        changes.push(change(Status::Added, None, (new, head)));
    }
    changes.sort_by(|a, b| {
        (a.layer, &a.unit, &a.component, &a.id, a.status).cmp(&(
            b.layer,
            &b.unit,
            &b.component,
            &b.id,
            b.status,
        ))
    });
    changes
}

/// (group, kind, namespace, content without `metadata.name`): equal keys are a rename.
fn rename_key(m: &Manifest) -> (String, String, Option<String>, String) {
    let mut v = m.value.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("name");
    }
    // serde_json's map is sorted, so equal objects print equally.
    let content = serde_json::to_string(&v).unwrap_or_default();
    (
        m.id.group.clone(),
        m.id.kind.clone(),
        m.id.namespace.clone(),
        content,
    )
}

fn change(
    status: Status,
    old: Option<(&Manifest, Side<'_>)>,
    new: (&Manifest, Side<'_>),
) -> Change {
    let (m, side) = new;
    let unit = find_unit(side, &m.unit);
    let old_text = old.map(|(o, _)| to_yaml(&masked(o, None)));
    let new_text = to_yaml(&masked(m, old.map(|(o, _)| o)));
    let a = old.map_or_else(
        || "/dev/null".to_owned(),
        |(o, s)| format!("a/{}", out_path(o, s)),
    );
    let b = format!("b/{}", out_path(m, side));
    let mut diff = unified(old_text.as_deref().unwrap_or(""), &new_text, &a, &b);
    if let Some((o, _)) = old
        && o.unit != m.unit
    {
        diff.insert_str(
            0,
            &format!("# moved from Flux Kustomization {} to {}\n", o.unit, m.unit),
        );
    }
    Change {
        id: m.id.clone(),
        from: None,
        status,
        unit: m.unit.clone(),
        layer: unit.map(|u| u.layer),
        component: component(m, unit),
        diff,
    }
}

fn removed_change(old: &Manifest, side: Side<'_>) -> Change {
    let unit = find_unit(side, &old.unit);
    let text = to_yaml(&masked(old, None));
    Change {
        id: old.id.clone(),
        from: None,
        status: Status::Removed,
        unit: old.unit.clone(),
        layer: unit.map(|u| u.layer),
        component: component(old, unit),
        diff: unified(
            &text,
            "",
            &format!("a/{}", out_path(old, side)),
            "/dev/null",
        ),
    }
}

fn find_unit<'a>(side: Side<'a>, name: &str) -> Option<&'a Unit> {
    side.units.iter().find(|u| u.name == name)
}

fn component(m: &Manifest, unit: Option<&Unit>) -> String {
    m.value
        .pointer("/metadata/labels")
        .and_then(|l| l.get(COMPONENT))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            unit.and_then(|u| u.components.first())
                .map(|c| (*c).to_owned())
        })
        .unwrap_or_default()
}

/// Where the object's file lives inside `out/` (as `Tree::from_manifests` lays it out).
fn out_path(m: &Manifest, side: Side<'_>) -> String {
    let folder = find_unit(side, &m.unit).map_or(m.unit.as_str(), |u| u.path.as_str());
    format!("{folder}/{}", m.file_name())
}

fn unified(old: &str, new: &str, a: &str, b: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(a, b)
        .to_string()
}

/// The object with every secret value replaced by a marker. A value that differs from the
/// same key in `other` (the base side of a change) gets the "changed" marker, so a re-sealed
/// value shows as one changed line and nothing of either ciphertext is printed.
pub fn masked(m: &Manifest, other: Option<&Manifest>) -> Value {
    let mut v = m.value.clone();
    let pointers: &[&str] = match (m.id.group.as_str(), m.id.kind.as_str()) {
        // `spec.data` is the deprecated whole-Secret ciphertext of v1alpha1.
        ("bitnami.com", "SealedSecret") => &["/spec/encryptedData", "/spec/data"],
        ("", "Secret") => &["/data", "/stringData"],
        _ => return v,
    };
    let (same, changed) = if m.id.kind == "SealedSecret" {
        (SEALED_VALUE, SEALED_VALUE_CHANGED)
    } else {
        (SECRET_VALUE, SECRET_VALUE_CHANGED)
    };
    for pointer in pointers {
        let before = other.and_then(|o| o.value.pointer(pointer));
        match v.pointer_mut(pointer) {
            Some(Value::Object(map)) => {
                for (key, value) in map.iter_mut() {
                    let differs = before.and_then(|b| b.get(key)).is_some_and(|b| b != value);
                    *value = Value::String(if differs { changed } else { same }.to_owned());
                }
            }
            Some(value) => {
                let differs = before.is_some_and(|b| b != value);
                *value = Value::String(if differs { changed } else { same }.to_owned());
            }
            None => {}
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Layer;
    use serde_json::json;

    fn unit(name: &str, layer: Layer, path: &str, component: &'static str) -> Unit {
        Unit {
            name: name.to_owned(),
            layer,
            path: path.to_owned(),
            components: vec![component],
            instance: None,
            depends_on: Vec::new(),
            suspend: false,
            entry: false,
            timeout_minutes: 15,
        }
    }

    fn units() -> Vec<Unit> {
        vec![
            unit("dex", Layer::Platform, "dex", "dex"),
            unit(
                "instance-cms-prod",
                Layer::Apps,
                "instances/cms-prod",
                "jupyterhub",
            ),
        ]
    }

    fn object(api: &str, kind: &str, ns: Option<&str>, name: &str, spec: Value) -> Value {
        let mut meta = json!({"name": name, "labels": {COMPONENT: "jupyterhub"}});
        if let Some(ns) = ns {
            meta["namespace"] = json!(ns);
        }
        json!({"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec})
    }

    fn manifest(unit: &str, value: Value) -> Manifest {
        Manifest {
            id: ResourceId::of(&value).unwrap(),
            unit: unit.to_owned(),
            template: "t".to_owned(),
            value,
        }
    }

    fn release(storage: &str) -> Manifest {
        manifest(
            "instance-cms-prod",
            object(
                "helm.toolkit.fluxcd.io/v2",
                "HelmRelease",
                Some("cmsaf-prod"),
                "jupyterhub",
                json!({"values": {"singleuser": {"storage": {"capacity": storage}}}}),
            ),
        )
    }

    fn sealed(name: &str, value: &str) -> Manifest {
        manifest(
            "instance-cms-prod",
            object(
                "bitnami.com/v1alpha1",
                "SealedSecret",
                Some("cmsaf-prod"),
                name,
                json!({"encryptedData": {"token": value, "other": "AgSAME"}}),
            ),
        )
    }

    fn run(base: &[Manifest], head: &[Manifest]) -> Vec<Change> {
        let u = units();
        compare(
            Side {
                manifests: base,
                units: &u,
            },
            Side {
                manifests: head,
                units: &u,
            },
        )
    }

    #[test]
    fn equal_sides_have_no_changes() {
        let side = [release("10Gi"), sealed("s", "AgA")];
        assert!(run(&side, &side).is_empty());
    }

    #[test]
    fn a_changed_value_is_a_three_line_context_diff() {
        let changes = run(&[release("10Gi")], &[release("20Gi")]);
        assert_eq!(changes.len(), 1);
        let c = &changes[0];
        assert_eq!(c.status, Status::Changed);
        assert_eq!(c.id.name, "jupyterhub");
        assert_eq!(c.layer, Some(Layer::Apps));
        assert_eq!(c.component, "jupyterhub");
        assert!(
            c.diff.starts_with(
                "--- a/instances/cms-prod/helmrelease-jupyterhub.yaml\n+++ b/instances/cms-prod/helmrelease-jupyterhub.yaml\n@@"
            ),
            "{}",
            c.diff
        );
        assert!(
            c.diff
                .contains("-        capacity: 10Gi\n+        capacity: 20Gi\n"),
            "{}",
            c.diff
        );
        // Three lines of context before the change: `spec:`, `values:` ... and not the
        // whole object.
        assert!(!c.diff.contains(" apiVersion:"), "{}", c.diff);
    }

    #[test]
    fn added_and_removed_objects_show_their_whole_yaml() {
        let base = [release("10Gi")];
        let other = manifest(
            "dex",
            object("v1", "ConfigMap", Some("dex"), "x", json!({"a": 1})),
        );
        let changes = run(&base, &[other]);
        let statuses: Vec<_> = changes
            .iter()
            .map(|c| (c.status, c.id.kind.as_str()))
            .collect();
        // Sorted by layer: dex (platform) before the instance (apps).
        assert_eq!(
            statuses,
            [
                (Status::Added, "ConfigMap"),
                (Status::Removed, "HelmRelease")
            ]
        );
        assert!(
            changes[0]
                .diff
                .starts_with("--- /dev/null\n+++ b/dex/configmap-x.yaml\n")
        );
        assert!(changes[0].diff.contains("+kind: ConfigMap\n"));
        assert!(changes[1].diff.contains("+++ /dev/null\n"));
        assert!(changes[1].diff.contains("-kind: HelmRelease\n"));
    }

    #[test]
    fn same_content_under_a_new_name_is_a_rename_paired_one_to_one() {
        let cm = |name: &str, data: i64| {
            manifest(
                "dex",
                object("v1", "ConfigMap", Some("dex"), name, json!({"a": data})),
            )
        };
        // Two identical objects renamed, plus one whose content also changed.
        let base = [cm("a1", 1), cm("a2", 1), cm("c", 2)];
        let head = [cm("b1", 1), cm("b2", 1), cm("d", 3)];
        let changes = run(&base, &head);
        let seen: Vec<_> = changes
            .iter()
            .map(|c| (c.status, c.from.as_deref(), c.id.name.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (Status::Renamed, Some("a1"), "b1"),
                (Status::Renamed, Some("a2"), "b2"),
                (Status::Removed, None, "c"),
                (Status::Added, None, "d"),
            ]
        );
        let rename = &changes[0];
        assert!(
            rename.diff.contains("-  name: a1\n+  name: b1\n"),
            "{}",
            rename.diff
        );
        assert!(
            rename
                .diff
                .contains("--- a/dex/configmap-a1.yaml\n+++ b/dex/configmap-b1.yaml\n")
        );
    }

    #[test]
    fn a_rename_needs_the_same_kind_and_namespace() {
        let base = [manifest(
            "dex",
            object("v1", "ConfigMap", Some("a"), "x", json!({})),
        )];
        let head = [manifest(
            "dex",
            object("v1", "ConfigMap", Some("b"), "y", json!({})),
        )];
        let statuses: Vec<_> = run(&base, &head).iter().map(|c| c.status).collect();
        // Sorted by identity: namespace a before b.
        assert_eq!(statuses, [Status::Removed, Status::Added]);
    }

    #[test]
    fn sealed_values_never_reach_the_diff() {
        let old = "AgOLDCIPHERTEXT0123456789";
        let new = "AgNEWCIPHERTEXT9876543210";
        let changes = run(&[sealed("s", old)], &[sealed("s", new)]);
        assert_eq!(changes.len(), 1);
        let d = &changes[0].diff;
        assert!(
            d.contains("-    token: (sealed value)\n+    token: (sealed value changed)\n"),
            "{d}"
        );
        assert!(
            !d.contains("AgOLD") && !d.contains("AgNEW") && !d.contains("AgSAME"),
            "{d}"
        );

        // Added and removed SealedSecrets are masked too.
        for c in run(&[sealed("a", old)], &[sealed("b", new)]) {
            assert!(!c.diff.contains("Ag"), "{}", c.diff);
        }
    }

    #[test]
    fn plain_secret_data_is_masked() {
        let secret = |v: &str| {
            manifest(
                "dex",
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "dex"}, "stringData": {"k": v}, "data": {"d": "c2VjcmV0"}}),
            )
        };
        let changes = run(&[secret("hunter2")], &[secret("hunter3")]);
        let d = &changes[0].diff;
        assert!(d.contains("+  k: (secret value changed)"), "{d}");
        assert!(!d.contains("hunter") && !d.contains("c2VjcmV0"), "{d}");
    }

    #[test]
    fn a_move_between_units_is_a_change() {
        let mut moved = release("10Gi");
        moved.unit = "dex".to_owned();
        let changes = run(&[release("10Gi")], &[moved]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].status, Status::Changed);
        assert!(
            changes[0]
                .diff
                .starts_with("# moved from Flux Kustomization instance-cms-prod to dex\n")
        );
    }

    #[test]
    fn order_of_rendering_does_not_matter() {
        let cm = |name: &str| {
            manifest(
                "dex",
                object("v1", "ConfigMap", Some("dex"), name, json!({})),
            )
        };
        let base = [cm("a"), cm("b")];
        let one = run(&base, &[cm("c"), cm("d")]);
        let two = run(&[cm("b"), cm("a")], &[cm("d"), cm("c")]);
        assert_eq!(one, two);
    }
}
