//! A generated Kubernetes object, its identity, and its canonical YAML: `apiVersion`, `kind`,
//! `metadata` first, every other key sorted, LF, one trailing newline. Two builds of the same
//! input are byte-identical because nothing here depends on order of arrival. Also the
//! vocabulary every stage shares about where objects go: Flux units, layers, labels.

use std::fmt;

use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

/// A resource's identity: diffs, checks and the out/ layout all key on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ResourceId {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ResourceId {
    pub fn of(v: &Value) -> Option<Self> {
        let api = v.get("apiVersion")?.as_str()?;
        let group = api.rsplit_once('/').map_or("", |(g, _)| g).to_owned();
        let meta = v.get("metadata")?;
        Some(Self {
            group,
            kind: v.get("kind")?.as_str()?.to_owned(),
            namespace: meta
                .get("namespace")
                .and_then(Value::as_str)
                .map(str::to_owned),
            name: meta.get("name")?.as_str()?.to_owned(),
        })
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        match &self.namespace {
            Some(ns) => write!(f, "{kind} {ns}/{}", self.name),
            None => write!(f, "{kind} {}", self.name),
        }
    }
}

/// One generated object and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub id: ResourceId,
    /// The Flux Kustomization (folder) it belongs to.
    pub unit: String,
    /// The template that produced it (for error messages).
    pub template: String,
    pub value: Value,
}

impl Manifest {
    pub fn api_version(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// File name inside its folder: `<kind>-<name>.yaml`, the kind lower case. Whatever the
    /// name holds, the result is one path segment: a `/`, `\\`, `%` or control character is
    /// written `%XX` (the tree stage refuses such names, CB055; this only makes sure that no
    /// caller can be led out of the folder).
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}.yaml",
            segment(&self.id.kind.to_ascii_lowercase()),
            segment(&self.id.name)
        )
    }
}

/// `text` with every character that could end or escape a path segment percent-encoded.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '/' || c == '\\' || c == '%' || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The labels every generated object carries; the live diff finds what the tree no longer
/// has by them.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const PART_OF: &str = "app.kubernetes.io/part-of";
pub const COMPONENT: &str = "app.kubernetes.io/component";
pub const INSTANCE: &str = "app.kubernetes.io/instance";

/// What a Flux unit is, in the order units are listed: CRDs and operators, cluster
/// configuration, platform services, applications and instances. A label only
/// (`casa-build/layer`): the apply order comes from each unit's `dependsOn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Controllers,
    Config,
    Platform,
    Apps,
}

/// One folder of `out/` and the Flux Kustomization that applies it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unit {
    pub name: String,
    pub layer: Layer,
    /// Folder under `out/`.
    pub path: String,
    /// Template folders rendered into this unit.
    pub components: Vec<&'static str>,
    pub instance: Option<String>,
    pub depends_on: Vec<String>,
    pub suspend: bool,
    /// The Flux entry point (`clusters/<site>`): applied by `flux bootstrap`'s own
    /// Kustomization, so it has none of its own.
    pub entry: bool,
    /// How long Flux waits for the unit's objects to be healthy (the longest its components
    /// ask for).
    pub timeout_minutes: u32,
}

const FIRST_KEYS: [&str; 3] = ["apiVersion", "kind", "metadata"];

struct Canonical<'a>(&'a Value);

impl serde::Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for k in FIRST_KEYS {
                    if let Some(v) = map.get(k) {
                        m.serialize_entry(k, &Sorted(v))?;
                    }
                }
                // serde_json's Map is a BTreeMap here (no preserve_order): sorted by key.
                for (k, v) in map
                    .iter()
                    .filter(|(k, _)| !FIRST_KEYS.contains(&k.as_str()))
                {
                    m.serialize_entry(k, &Sorted(v))?;
                }
                m.end()
            }
            other => Sorted(other).serialize(s),
        }
    }
}

struct Sorted<'a>(&'a Value);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The canonical YAML text of one object.
pub fn to_yaml(v: &Value) -> String {
    let mut text = serde_saphyr::to_string(&Canonical(v)).unwrap_or_default();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_and_display() {
        let v = json!({"apiVersion": "ceph.rook.io/v1", "kind": "CephCluster", "metadata": {"name": "rook-ceph", "namespace": "rook-ceph"}});
        let id = ResourceId::of(&v).unwrap();
        assert_eq!(id.group, "ceph.rook.io");
        assert_eq!(
            id.to_string(),
            "CephCluster.ceph.rook.io rook-ceph/rook-ceph"
        );
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dex"}});
        assert_eq!(ResourceId::of(&ns).unwrap().to_string(), "Namespace dex");
    }

    #[test]
    fn file_names_are_one_path_segment() {
        let m = |name: &str| Manifest {
            id: ResourceId {
                group: String::new(),
                kind: "ConfigMap".into(),
                namespace: Some("ns".into()),
                name: name.into(),
            },
            unit: "u".into(),
            template: "t".into(),
            value: Value::Null,
        };
        assert_eq!(m("hub").file_name(), "configmap-hub.yaml");
        assert_eq!(m("system:auth").file_name(), "configmap-system:auth.yaml");
        assert_eq!(
            m("/../../../x").file_name(),
            "configmap-%2F..%2F..%2F..%2Fx.yaml"
        );
        assert_eq!(m("a\nb%").file_name(), "configmap-a%0Ab%25.yaml");
    }

    #[test]
    fn canonical_order_and_ambiguous_scalars_round_trip() {
        let v = json!({
            "spec": {"z": 1, "a": {"osdsPerDevice": "5", "flag": "true", "nothing": "null", "ver": "1.0", "yes": "yes", "multi": "a\nb: c\n", "empty": "", "hash": "# x", "tpl": "{{ x }}", "colon": "a: b"}},
            "metadata": {"name": "n"},
            "kind": "K",
            "apiVersion": "v1",
        });
        let text = to_yaml(&v);
        assert!(
            text.starts_with("apiVersion: v1\nkind: K\nmetadata:\n"),
            "{text}"
        );
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, v, "{text}");
    }
}
