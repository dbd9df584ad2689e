//! CB094 rwo-rolling-update (over the rendered objects): a Deployment whose pods mount a
//! ReadWriteOnce volume runs one replica and is replaced with the `Recreate` strategy. Covers Deployments of the
//! tree with a PersistentVolumeClaim of the tree, and the Deployments charts make from their
//! values: Traefik with persistence (its ACME volume) and the JupyterHub hub with its
//! sqlite database volume.
//!
//! Why: a rolling update starts the new pod while the old one still runs (Traefik's chart:
//! maxUnavailable 0, maxSurge 1); on another node the volume is still attached to the old
//! one, so the new pod never starts ("Multi-Attach error") and the rollout hangs until Helm's
//! or Flux's timeout.
//!
//! A second replica has the same problem for good: it can only start on the node that holds
//! the volume (and Traefik's ACME store is one file no two processes may share).
//!
//! Fix: one replica and `strategy.type: Recreate` (Traefik: `deployment.replicas`,
//! `updateStrategy.type`; the hub: `hub.deploymentStrategy.type`, Recreate by default).

use serde_json::Value;

use super::chart_defaults::merged;
use crate::diagnostics::{Diagnostic, RWO_ROLLING_UPDATE};
use crate::manifest::Manifest;
use crate::site::Site;

fn rwo(modes: Option<&Value>) -> bool {
    modes.and_then(Value::as_array).is_some_and(|a| {
        a.iter()
            .any(|m| matches!(m.as_str(), Some("ReadWriteOnce" | "ReadWriteOncePod")))
    })
}

/// Where a finding points: the site's ACME setting for Traefik (it is why Traefik keeps a
/// volume), the instance's name for an object of an instance unit.
fn anchor(
    site: &Site,
    m: &Manifest,
    chart: Option<&str>,
) -> Option<(crate::sources::FileId, std::ops::Range<usize>, &'static str)> {
    if chart == Some("traefik") {
        return super::acme_storage::acme_email(site)
            .map(|e| (site.file, e.span(), "ACME state on a ReadWriteOnce volume"));
    }
    site.instances
        .iter()
        .find(|i| {
            crate::site::components::instance_unit(i.spec.instance.name.get_ref().as_str())
                == m.unit
        })
        .map(|i| (i.file, i.spec.instance.name.span(), "in this instance"))
}

fn at(
    d: Diagnostic,
    place: Option<(crate::sources::FileId, std::ops::Range<usize>, &str)>,
) -> Diagnostic {
    match place {
        Some((file, span, label)) => d.at(file, span, label),
        None => d,
    }
}

fn finding(what: String, fix: &str) -> Diagnostic {
    Diagnostic::new(
        RWO_ROLLING_UPDATE,
        format!(
            "{what}: a second pod, a replica or a rolling update's new one, cannot attach the volume the first one holds"
        ),
    )
    .help(format!("{fix} ({})", RWO_ROLLING_UPDATE.info().fix))
}

pub(super) fn check(site: &Site, manifests: &[Manifest]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for m in manifests {
        match (m.id.group.as_str(), m.id.kind.as_str()) {
            ("apps", "Deployment") => {
                let strategy = m
                    .value
                    .pointer("/spec/strategy/type")
                    .and_then(Value::as_str)
                    .unwrap_or("RollingUpdate");
                let replicas = m
                    .value
                    .pointer("/spec/replicas")
                    .and_then(Value::as_u64)
                    .unwrap_or(1);
                if strategy == "Recreate" && replicas <= 1 {
                    continue;
                }
                let volumes = m
                    .value
                    .pointer("/spec/template/spec/volumes")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for claim in volumes.iter().filter_map(|v| {
                    v.pointer("/persistentVolumeClaim/claimName")
                        .and_then(Value::as_str)
                }) {
                    let pvc = manifests.iter().find(|p| {
                        p.id.kind == "PersistentVolumeClaim"
                            && p.id.group.is_empty()
                            && p.id.name == claim
                            && p.id.namespace == m.id.namespace
                    });
                    if pvc.is_some_and(|p| rwo(p.value.pointer("/spec/accessModes"))) {
                        out.push(at(
                            finding(
                                format!("{} mounts the ReadWriteOnce claim {claim} with {replicas} replica(s), updated by {strategy}", m.id),
                                "set spec.replicas: 1 and spec.strategy.type: Recreate",
                            ),
                            anchor(site, m, None),
                        ));
                    }
                }
            }
            ("helm.toolkit.fluxcd.io", "HelmRelease") => {
                let Some((chart, v)) = merged(&m.value) else {
                    continue;
                };
                let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
                match chart {
                    "traefik" => {
                        let volume = v.pointer("/persistence/enabled") == Some(&Value::Bool(true))
                            && s("/persistence/existingClaim").is_empty()
                            && matches!(
                                s("/persistence/accessMode"),
                                "ReadWriteOnce" | "ReadWriteOncePod"
                            );
                        let replicas = v
                            .pointer("/deployment/replicas")
                            .and_then(Value::as_u64)
                            .unwrap_or(1);
                        if volume
                            && s("/deployment/kind") == "Deployment"
                            && (s("/updateStrategy/type") != "Recreate" || replicas > 1)
                        {
                            out.push(at(
                                finding(
                                    format!("{} (chart traefik) keeps a ReadWriteOnce volume (persistence) with {replicas} replica(s), updated by {}", m.id, s("/updateStrategy/type")),
                                    "set deployment.replicas: 1 and updateStrategy.type: Recreate",
                                ),
                                anchor(site, m, Some("traefik")),
                            ));
                        }
                    }
                    "jupyterhub" => {
                        let volume = s("/hub/db/type") == "sqlite-pvc"
                            && rwo(v.pointer("/hub/db/pvc/accessModes"));
                        if volume && s("/hub/deploymentStrategy/type") != "Recreate" {
                            out.push(at(
                                finding(
                                    format!("{} (chart jupyterhub) keeps the hub database on a ReadWriteOnce volume and updates the hub by {}", m.id, s("/hub/deploymentStrategy/type")),
                                    "keep hub.deploymentStrategy.type: Recreate",
                                ),
                                anchor(site, m, Some("jupyterhub")),
                            ));
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn site() -> Site {
        crate::validate::testing::site_with(&[], &[]).0
    }

    fn manifest(v: Value) -> Manifest {
        Manifest {
            id: crate::manifest::ResourceId::of(&v).unwrap(),
            unit: "u".into(),
            template: "t".into(),
            value: v,
        }
    }

    fn traefik(values: Value) -> Manifest {
        manifest(
            json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "traefik", "namespace": "traefik"}, "spec": {"chart": {"spec": {"chart": "traefik"}}, "values": values}}),
        )
    }

    #[test]
    fn traefik_with_its_acme_volume_needs_recreate() {
        let found = check(
            &site(),
            &[traefik(json!({"persistence": {"enabled": true}}))],
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("1 replica(s), updated by RollingUpdate"),
            "{}",
            found[0].message
        );
        // Two replicas cannot share it either, Recreate or not.
        assert_eq!(
            check(&site(), &[traefik(
                json!({"persistence": {"enabled": true}, "updateStrategy": {"type": "Recreate"}, "deployment": {"replicas": 2}})
            )])
            .len(),
            1
        );
        // Pointed at the site's ACME setting.
        let (reference, src) = crate::validate::testing::site_with(&[], &[]);
        let found = check(
            &reference,
            &[traefik(json!({"persistence": {"enabled": true}}))],
        );
        let (_, l, c) = found[0].location(&src).unwrap();
        assert_eq!(
            (l, c),
            crate::validate::testing::pos(
                crate::validate::testing::SITE,
                "\"cms-support@cse.unl.edu\""
            )
        );
        assert!(
            check(&site(), &[traefik(
                json!({"persistence": {"enabled": true}, "updateStrategy": {"type": "Recreate"}})
            )])
            .is_empty()
        );
        // No volume, or a shared one: nothing to hold.
        assert!(check(&site(), &[traefik(json!({}))]).is_empty());
        assert!(
            check(
                &site(),
                &[traefik(
                    json!({"persistence": {"enabled": true, "accessMode": "ReadWriteMany"}})
                )]
            )
            .is_empty()
        );
    }

    #[test]
    fn a_hub_kept_on_recreate_passes_and_one_rolled_does_not() {
        let hub = |v: Value| {
            manifest(
                json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "jupyterhub", "namespace": "hub"}, "spec": {"chart": {"spec": {"chart": "jupyterhub"}}, "values": v}}),
            )
        };
        assert!(check(&site(), &[hub(json!({}))]).is_empty());
        assert_eq!(
            check(
                &site(),
                &[hub(
                    json!({"hub": {"deploymentStrategy": {"type": "RollingUpdate"}}})
                )]
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_deployment_of_the_tree_with_a_rwo_claim() {
        let pvc = manifest(
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "models", "namespace": "triton"}, "spec": {"accessModes": ["ReadWriteOnce"]}}),
        );
        let deploy = |strategy: Option<&str>| {
            let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "triton", "namespace": "triton"}, "spec": {"template": {"spec": {"volumes": [{"name": "m", "persistentVolumeClaim": {"claimName": "models"}}]}}}});
            if let Some(s) = strategy {
                d["spec"]["strategy"] = json!({"type": s});
            }
            manifest(d)
        };
        let found = check(&site(), &[pvc.clone(), deploy(None)]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("Deployment.apps triton/triton mounts the ReadWriteOnce claim models")
        );
        assert!(check(&site(), &[pvc.clone(), deploy(Some("Recreate"))]).is_empty());
        let mut two = deploy(Some("Recreate"));
        two.value["spec"]["replicas"] = json!(2);
        assert_eq!(check(&site(), &[pvc.clone(), two]).len(), 1);
        // A claim in another namespace is not this Deployment's.
        let mut other = pvc.clone();
        other.id.namespace = Some("elsewhere".into());
        assert!(check(&site(), &[other, deploy(None)]).is_empty());
    }
}
