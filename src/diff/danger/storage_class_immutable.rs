//! CB123 `storage-class-immutable`: a StorageClass changes a field the API server does not
//! let change: `provisioner`, `parameters`, `reclaimPolicy`, `volumeBindingMode`
//! (kubernetes@v1.33 `pkg/apis/storage/validation/validation.go` ValidateStorageClassUpdate:
//! "updates to parameters are forbidden", and the same for the others).
//!
//! Why: Flux's apply of the whole unit fails on the refused update, so nothing else of the
//! unit is applied until it is undone; deleting and re-creating the class by hand leaves the
//! volumes already provisioned with the old parameters.
//! Fix: give the new settings a StorageClass of a new name and move claims to it.

use serde_json::Value;

use super::{Finding, Review, is, named};
use crate::diagnostics::STORAGE_CLASS_IMMUTABLE;

const IMMUTABLE: [&str; 4] = [
    "provisioner",
    "parameters",
    "reclaimPolicy",
    "volumeBindingMode",
];

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.changed()
        .filter(|(id, _, _)| is(id, "storage.k8s.io", "StorageClass"))
        .filter_map(|(id, old, new)| {
            let fields: Vec<String> = IMMUTABLE
                .iter()
                .filter(|f| old.get(**f) != new.get(**f))
                .map(|f| describe(f, old.get(*f), new.get(*f)))
                .collect();
            (!fields.is_empty()).then(|| {
                Finding::new(
                    STORAGE_CLASS_IMMUTABLE,
                    id,
                    format!("{} changes {}, which the API server refuses to update", named(id), fields.join(", ")),
                    "the Flux unit stops applying (the update is refused); re-creating the class by hand leaves existing volumes on the old settings",
                )
            })
        })
        .collect()
}

/// "`parameters.pool` replicapool -> fastpool", or the field alone when it is a map.
fn describe(field: &str, old: Option<&Value>, new: Option<&Value>) -> String {
    if let (Some(Value::Object(o)), Some(Value::Object(n))) = (old, new) {
        let keys: Vec<String> = o
            .keys()
            .chain(n.keys().filter(|k| !o.contains_key(*k)))
            .filter(|k| o.get(*k) != n.get(*k))
            .map(|k| format!("`{field}.{k}` {} -> {}", show(o.get(k)), show(n.get(k))))
            .collect();
        return keys.join(", ");
    }
    format!("`{field}` {} -> {}", show(old), show(new))
}

pub(super) fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(unset)".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::json;

    fn class(pool: &str, reclaim: &str) -> Value {
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "block"}, "provisioner": "rook-ceph.rbd.csi.ceph.com", "parameters": {"pool": pool}, "reclaimPolicy": reclaim, "allowVolumeExpansion": true})
    }

    #[test]
    fn a_changed_parameter_is_a_finding_and_a_mutable_field_is_not() {
        let found = run(
            check,
            &[("u", class("a", "Delete"))],
            &[("u", class("b", "Retain"))],
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`parameters.pool` a -> b")
                && found[0]
                    .message
                    .contains("`reclaimPolicy` Delete -> Retain"),
            "{found:?}"
        );
        let mut expand = class("a", "Delete");
        expand["allowVolumeExpansion"] = json!(false);
        assert!(run(check, &[("u", class("a", "Delete"))], &[("u", expand)]).is_empty());
    }
}
