//! CB128 `selector-changed`: a Deployment, StatefulSet or DaemonSet changes its
//! `spec.selector` (or a StatefulSet its `volumeClaimTemplates`), which apps/v1 does not let
//! change (kubernetes@v1.33 `pkg/apis/apps/validation/validation.go`: ValidateDeploymentUpdate
//! and ValidateDaemonSetUpdate keep the selector immutable; ValidateStatefulSetUpdate forbids
//! updates to any field but replicas, ordinals, template, updateStrategy,
//! persistentVolumeClaimRetentionPolicy and minReadySeconds).
//!
//! Why: the API server refuses the update and Flux's apply of the unit fails; deleting the
//! workload to get past it stops its pods (and a StatefulSet's new claims start empty).
//! Fix: keep the selector; to change it, create the workload under a new name.

use super::storage_class_immutable::show;
use super::{Finding, Review, named};
use crate::diagnostics::SELECTOR_CHANGED;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.changed()
        .filter(|(id, _, _)| id.group == "apps" && ["Deployment", "StatefulSet", "DaemonSet"].contains(&id.kind.as_str()))
        .filter_map(|(id, old, new)| {
            let mut fields = vec!["/spec/selector"];
            if id.kind == "StatefulSet" {
                fields.push("/spec/volumeClaimTemplates");
            }
            let what: Vec<String> = fields
                .iter()
                .filter(|p| old.pointer(p) != new.pointer(p))
                .map(|p| {
                    format!(
                        "`{}` {} -> {}",
                        p.trim_start_matches('/').replace('/', "."),
                        show(old.pointer(p)),
                        show(new.pointer(p))
                    )
                })
                .collect();
            (!what.is_empty()).then(|| {
                Finding::new(
                    SELECTOR_CHANGED,
                    id,
                    format!("{} changes {}: the API server refuses the update", named(id), what.join(", ")),
                    "the Flux unit stops applying; deleting the workload to get past it stops its pods",
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::{Value, json};

    fn deployment(app: &str, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}, "spec": {"selector": {"matchLabels": {"app": app}}, "template": {"spec": {"containers": [{"image": image}]}}}})
    }

    #[test]
    fn a_new_selector_is_a_finding_and_a_new_image_is_not() {
        let found = run(
            check,
            &[("u", deployment("a", "x:1"))],
            &[("u", deployment("b", "x:1"))],
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("`spec.selector`"), "{found:?}");
        assert!(
            run(
                check,
                &[("u", deployment("a", "x:1"))],
                &[("u", deployment("a", "x:2"))]
            )
            .is_empty()
        );
    }
}
