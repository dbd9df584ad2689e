//! CB124 `claim-immutable`: a PersistentVolumeClaim changes what cannot change after it is
//! made: its class, access modes, volume mode, volume name, selector or data source, or it
//! asks for less storage (kubernetes@v1.33 `pkg/apis/core/validation/validation.go`
//! ValidatePersistentVolumeClaimUpdate: "spec is immutable after creation except
//! resources.requests and volumeAttributesClassName for bound claims", and a smaller request
//! "field can not be less than status.capacity").
//!
//! Why: the API server refuses the update and Flux's apply of the unit fails; the way
//! through, deleting and re-creating the claim, deletes its volume's data.
//! Fix: make a new claim (a new name) and copy the data, or keep the old settings.

use serde_json::Value;

use super::storage_class_immutable::show;
use super::{Finding, Review, is, named};
use crate::diagnostics::CLAIM_IMMUTABLE;
use crate::site::types::Quantity;

const IMMUTABLE: [&str; 6] = [
    "storageClassName",
    "accessModes",
    "volumeMode",
    "volumeName",
    "selector",
    "dataSource",
];

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.changed()
        .filter(|(id, _, _)| is(id, "", "PersistentVolumeClaim"))
        .filter_map(|(id, old, new)| {
            let (o, n) = (old.get("spec")?, new.get("spec")?);
            let mut what: Vec<String> = IMMUTABLE
                .iter()
                .filter(|f| o.get(**f) != n.get(**f))
                .map(|f| format!("`spec.{f}` {} -> {}", show(o.get(*f)), show(n.get(*f))))
                .collect();
            let size = |v: &Value| {
                v.pointer("/resources/requests/storage")
                    .and_then(quantity)
                    .map(|q| (q.value(), q.to_string()))
            };
            if let (Some((was, was_text)), Some((now, now_text))) = (size(o), size(n))
                && now < was
            {
                what.push(format!("shrinks its request {was_text} -> {now_text}"));
            }
            (!what.is_empty()).then(|| {
                Finding::new(
                    CLAIM_IMMUTABLE,
                    id,
                    format!("{} {}: the API server refuses the update", named(id), what.join(", ")),
                    "the Flux unit stops applying; re-creating the claim to get past it deletes its volume's data",
                )
            })
        })
        .collect()
}

fn quantity(v: &Value) -> Option<Quantity> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::json;

    fn claim(class: &str, size: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c", "namespace": "n"}, "spec": {"storageClassName": class, "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}})
    }

    #[test]
    fn class_and_shrink_are_findings_and_growth_is_not() {
        let found = run(
            check,
            &[("u", claim("a", "10Gi"))],
            &[("u", claim("b", "5Gi"))],
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`spec.storageClassName` a -> b")
                && found[0].message.contains("shrinks its request 10Gi -> 5Gi"),
            "{found:?}"
        );
        assert!(
            run(
                check,
                &[("u", claim("a", "10Gi"))],
                &[("u", claim("a", "20Gi"))]
            )
            .is_empty()
        );
    }
}
