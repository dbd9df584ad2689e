//! CB129 `crd-removed`: a CustomResourceDefinition leaves the tree and Flux prunes it while
//! objects of its kind remain (in the tree, or in the cluster).
//!
//! Why: the API server deletes every object of a kind when its CRD is deleted
//! (kubernetes@v1.33 `staging/src/k8s.io/apiextensions-apiserver/pkg/controller/finalizer/crd_finalizer.go`:
//! the CRD's finalizer deletes all its instances first); objects the tree still renders then
//! fail to apply.
//! Fix: remove the objects of the kind first (or with it), or keep the CRD.

use serde_json::Value;

use super::{Finding, Review, is, named};
use crate::diagnostics::CRD_REMOVED;
use crate::manifest::ResourceId;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.deleted()
        .filter(|(id, _)| is(id, "apiextensions.k8s.io", "CustomResourceDefinition"))
        .filter_map(|(id, o)| {
            let (plural, group) = id.name.split_once('.')?;
            let kind = o
                .value
                .and_then(|v| v.pointer("/spec/names/kind"))
                .and_then(Value::as_str);
            let of_kind = |other: &ResourceId| {
                other.group == group
                    && match kind {
                        Some(k) => other.kind == k,
                        None => plural_of(&other.kind) == plural,
                    }
            };
            let mut left: Vec<String> = r
                .after
                .objects
                .keys()
                .chain(r.before.objects.keys())
                .filter(|other| of_kind(other))
                .map(|other| named(other))
                .collect();
            left.sort();
            left.dedup();
            (!left.is_empty()).then(|| {
                Finding::new(
                    CRD_REMOVED,
                    id,
                    format!(
                        "{} leaves the tree and Flux deletes it while {} object{} of its kind remain ({})",
                        named(id),
                        left.len(),
                        if left.len() == 1 { "" } else { "s" },
                        super::list(&left)
                    ),
                    "every object of the kind in the cluster: the API server deletes them with their CRD",
                )
            })
        })
        .collect()
}

/// The lower-case plural the API server names a kind's resource by (most CRDs follow it).
fn plural_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.ends_with('s') || lower.ends_with('x') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::json;

    #[test]
    fn a_crd_removed_under_its_objects_is_a_finding() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.org"}, "spec": {"group": "example.org", "names": {"kind": "Widget", "plural": "widgets"}}});
        let widget = json!({"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "n"}});
        let found = run(
            check,
            &[("u", crd.clone()), ("u", widget.clone())],
            &[("u", widget)],
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("1 object of its kind remain (`Widget n/w`)"),
            "{found:?}"
        );
        assert!(run(check, &[("u", crd)], &[]).is_empty());
        assert_eq!(plural_of("Policy"), "policies");
    }
}
