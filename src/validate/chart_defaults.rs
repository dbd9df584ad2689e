//! The few chart defaults the rules on rendered objects read, as the pinned charts ship them,
//! so a release's values can be judged as Helm merges them ([`merged`]). A test holds each
//! against the chart's own `values.yaml` in `../shared/schemas/charts/`.

use serde_json::{Value, json};

use crate::check::schema::merge_helm_values;

/// traefik-helm-chart@v41.3.0:traefik/values.yaml (`persistence`, `updateStrategy`,
/// `deployment.kind`, `podSecurityContext`, `securityContext`).
fn traefik() -> Value {
    json!({
        "deployment": {"kind": "Deployment"},
        "persistence": {"enabled": false, "existingClaim": "", "accessMode": "ReadWriteOnce", "path": "/data"},
        "updateStrategy": {"type": "RollingUpdate"},
        "podSecurityContext": {"runAsGroup": 65532, "runAsUser": 65532},
        "securityContext": {"readOnlyRootFilesystem": true},
    })
}

/// zero-to-jupyterhub-k8s@4.4.0:jupyterhub/values.yaml (`hub.db`, `hub.deploymentStrategy`).
fn jupyterhub() -> Value {
    json!({
        "hub": {
            "db": {"type": "sqlite-pvc", "pvc": {"accessModes": ["ReadWriteOnce"]}},
            "deploymentStrategy": {"type": "Recreate"},
        },
    })
}

/// The defaults of a chart the rules know (by chart name), if any.
pub(super) fn defaults(chart: &str) -> Option<Value> {
    match chart {
        "traefik" => Some(traefik()),
        "jupyterhub" => Some(jupyterhub()),
        _ => None,
    }
}

/// A HelmRelease's chart name and its values merged over the known defaults.
pub(super) fn merged(release: &Value) -> Option<(&str, Value)> {
    let chart = release.pointer("/spec/chart/spec/chart")?.as_str()?;
    let defaults = defaults(chart)?;
    let values = release
        .pointer("/spec/values")
        .cloned()
        .unwrap_or_else(|| json!({}));
    Some((chart, merge_helm_values(&defaults, &values)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every leaf of `ours` has the same value in `chart`.
    fn agree(ours: &Value, chart: &Value, path: &str) {
        match ours {
            Value::Object(m) => {
                for (k, v) in m {
                    agree(v, &chart[k], &format!("{path}/{k}"));
                }
            }
            leaf => assert_eq!(leaf, chart, "{path}"),
        }
    }

    #[test]
    fn the_defaults_are_the_charts_own() {
        for (chart, ours) in [("traefik", traefik()), ("jupyterhub", jupyterhub())] {
            let path = format!(
                "{}/../shared/schemas/charts/{chart}/values.yaml",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).expect("the chart's values.yaml");
            let values: Value = serde_saphyr::from_str(&text).expect("YAML");
            agree(&ours, &values, chart);
        }
    }
}
