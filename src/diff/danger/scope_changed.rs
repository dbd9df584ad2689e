//! CB131 `sealed-scope-changed`: a SealedSecret's scope changes (`strict`, `namespace-wide`,
//! `cluster-wide`: the `sealedsecrets.bitnami.com/namespace-wide` and `/cluster-wide`
//! annotations, bitnami-labs/sealed-secrets@v0.36 `pkg/apis/sealedsecrets/v1alpha1`).
//!
//! Why: a wider scope lets the value be unsealed under other names (namespace-wide) or in
//! any namespace (cluster-wide): whoever may create a SealedSecret there can read it. A
//! narrower scope needs values sealed for it: the controller refuses the old ones and the
//! Secret is no longer updated.
//! Fix: seal for the narrowest scope that works (`strict`); widen only on purpose.

use serde_json::Value;

use super::{Finding, Review, is, named};
use crate::diagnostics::SEALED_SCOPE_CHANGED;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.changed()
        .filter(|(id, _, _)| is(id, "bitnami.com", "SealedSecret"))
        .filter_map(|(id, old, new)| {
            let (a, b) = (scope(old), scope(new));
            (a != b).then(|| {
                let destroys = if rank(b) > rank(a) {
                    "the value's confinement: it can be unsealed under other names or namespaces by whoever may create a SealedSecret there"
                } else {
                    "the Secret's updates, unless every value is sealed again for the narrower scope"
                };
                Finding::new(
                    SEALED_SCOPE_CHANGED,
                    id,
                    format!("{} is sealed {a} at {} and {b} after the change", named(id), r.before_name),
                    destroys,
                )
            })
        })
        .collect()
}

fn scope(v: &Value) -> &'static str {
    let on = |k: &str| {
        v.pointer("/metadata/annotations")
            .and_then(|a| a.get(k))
            .and_then(Value::as_str)
            == Some("true")
    };
    if on("sealedsecrets.bitnami.com/cluster-wide") {
        "cluster-wide"
    } else if on("sealedsecrets.bitnami.com/namespace-wide") {
        "namespace-wide"
    } else {
        "strict"
    }
}

fn rank(scope: &str) -> u8 {
    match scope {
        "cluster-wide" => 2,
        "namespace-wide" => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::json;

    fn sealed(annotations: Value) -> Value {
        json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "s", "namespace": "n", "annotations": annotations}, "spec": {}})
    }

    #[test]
    fn a_widened_scope_is_a_finding() {
        let found = run(
            check,
            &[("u", sealed(json!({})))],
            &[(
                "u",
                sealed(json!({"sealedsecrets.bitnami.com/cluster-wide": "true"})),
            )],
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("sealed strict at base and cluster-wide after"),
            "{found:?}"
        );
        assert!(found[0].destroys.contains("confinement"));
    }
}
