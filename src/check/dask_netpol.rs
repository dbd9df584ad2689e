//! Rule `dask-network-policy` (CB081), on the rendered objects: z2jh's user-pod
//! NetworkPolicy lets through every path the tree declares for user pods: Tier-2 Dask
//! workers in through the instance's Dask Traefik (8786, 8788), the instance's own pool
//! (its workers in on 8786, the session out to its collector, schedd and workers), the
//! notebook out to dask-gateway's Traefik (8000) and to Triton (8001).
//!
//! Why: the policy is on by default and admits only the notebook port from the hub and
//! proxy, and no egress to private addresses, which include every pod (z2jh 4.4.0
//! `templates/singleuser/netpol.yaml`, `values.yaml` `singleuser.networkPolicy`). A blocked
//! path fails only when a user's Dask cluster or inference call times out.
//!
//! Fix: add the `singleuser.networkPolicy.ingress`/`egress` rule the message names, or turn
//! the policy off on purpose (`enabled: false`).

use serde_json::{Value, json};

use crate::diagnostics::{DASK_NETWORK_POLICY, Diagnostic, Diagnostics};
use crate::manifest::Manifest;

/// Whether `rules` (NetworkPolicy ingress or egress rules, peers under `peer_key`) admit
/// `port` from/to a peer that `peer_ok` accepts. A rule without peers or ports admits all.
fn admits(rules: &[Value], peer_key: &str, port: u16, peer_ok: &dyn Fn(&Value) -> bool) -> bool {
    rules.iter().any(|r| {
        let peers = r.get(peer_key).and_then(Value::as_array);
        let ports = r.get("ports").and_then(Value::as_array);
        peers.is_none_or(|p| p.iter().any(peer_ok))
            && ports.is_none_or(|p| p.iter().any(|p| p.get("port") == Some(&json!(port))))
    })
}

fn labels_match(selector: Option<&Value>, labels: &Value) -> bool {
    selector
        .and_then(|s| s.get("matchLabels"))
        .and_then(Value::as_object)
        .is_some_and(|want| want.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

pub fn check_dask_netpol(manifests: &[Manifest]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let triton = manifests.iter().find(|m| {
        m.id.kind == "Deployment"
            && m.value.pointer("/spec/template/metadata/labels/app") == Some(&json!("triton"))
    });
    for hub in manifests.iter().filter(|m| {
        m.id.kind == "HelmRelease"
            && m.value.pointer("/spec/chart/spec/chart") == Some(&json!("jupyterhub"))
    }) {
        let ns = hub.id.namespace.as_deref().unwrap_or("");
        let policy = hub.value.pointer("/spec/values/singleuser/networkPolicy");
        let get = |k: &str| policy.and_then(|p| p.get(k));
        if get("enabled") == Some(&json!(false)) {
            continue;
        }
        let ingress = get("ingress")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let egress = get("egress")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let open_ports: Vec<Value> = get("allowedIngressPorts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let private_ips =
            policy.and_then(|p| p.pointer("/egressAllowRules/privateIPs")) == Some(&json!(true));
        let in_ns = |kind: &str, name: &str| {
            manifests.iter().find(|m| {
                m.id.kind == kind && m.id.name == name && m.id.namespace.as_deref() == Some(ns)
            })
        };
        let mut blocked = Vec::new();

        if let Some(traefik) = in_ns("Deployment", "dask-traefik") {
            let labels = traefik
                .value
                .pointer("/spec/template/metadata/labels")
                .cloned()
                .unwrap_or(Value::Null);
            let from_traefik = |p: &Value| {
                p.get("namespaceSelector").is_none() && labels_match(p.get("podSelector"), &labels)
            };
            for port in [8786u16, 8788] {
                if !open_ports.contains(&json!(port))
                    && !admits(&ingress, "from", port, &from_traefik)
                {
                    blocked.push(format!("Tier-2 workers in through Deployment {ns}/dask-traefik to user pods on {port} (ingress)"));
                }
            }
        }
        // The instance's own HTCondor pool: its workers in to the scheduler, the session out
        // to the collector and schedd (shared port) and to the workers on whatever ports
        // they bound.
        let pod_labels = |m: &Manifest| {
            m.value
                .pointer("/spec/template/metadata/labels")
                .cloned()
                .unwrap_or(Value::Null)
        };
        if let Some(exec) = manifests.iter().find(|m| {
            m.id.kind == "Deployment"
                && m.id.namespace.as_deref() == Some(ns)
                && m.value.pointer("/spec/template/metadata/labels/app")
                    == Some(&json!("htcondor-execute"))
        }) {
            let workers = pod_labels(exec);
            let peer = |labels: &Value| {
                let labels = labels.clone();
                move |p: &Value| {
                    p.get("namespaceSelector").is_none()
                        && labels_match(p.get("podSelector"), &labels)
                }
            };
            if !open_ports.contains(&json!(8786))
                && !admits(&ingress, "from", 8786, &peer(&workers))
            {
                blocked.push(format!(
                    "the pool's workers in {ns} to user pods on 8786 (ingress)"
                ));
            }
            if !private_ips {
                for name in ["htcondor-cm", "htcondor-schedd"] {
                    if let Some(d) = in_ns("Deployment", name)
                        && !admits(&egress, "to", 9618, &peer(&pod_labels(d)))
                    {
                        blocked.push(format!("user pods out to {ns}/{name} on 9618 (egress)"));
                    }
                }
                // a port no rule names: the workers' are chosen when they start
                if !admits(&egress, "to", 40000, &peer(&workers)) {
                    blocked.push(format!(
                        "user pods out to the pool's workers in {ns} on any port (egress)"
                    ));
                }
            }
        }
        if manifests.iter().any(|m| {
            m.id.kind == "HelmRelease"
                && m.id.namespace.as_deref() == Some(ns)
                && m.value.pointer("/spec/chart/spec/chart") == Some(&json!("dask-gateway"))
        }) && !private_ips
        {
            let gw = json!({"app.kubernetes.io/component": "traefik", "gateway.dask.org/instance": "dask-gateway"});
            let to_gw = |p: &Value| {
                p.get("namespaceSelector").is_none() && labels_match(p.get("podSelector"), &gw)
            };
            if !admits(&egress, "to", 8000, &to_gw) {
                blocked.push(format!(
                    "user pods out to dask-gateway's Traefik in {ns} on 8000 (egress)"
                ));
            }
        }
        if let Some(t) = triton.filter(|_| !private_ips) {
            let t_ns = t.id.namespace.clone().unwrap_or_default();
            let to_triton = |p: &Value| {
                labels_match(
                    p.get("namespaceSelector"),
                    &json!({"kubernetes.io/metadata.name": t_ns}),
                ) && p
                    .get("podSelector")
                    .is_none_or(|s| labels_match(Some(s), &json!({"app": "triton"})))
            };
            if !admits(&egress, "to", 8001, &to_triton) {
                blocked.push(format!(
                    "user pods out to Triton in {t_ns} on 8001 (egress)"
                ));
            }
        }
        if !blocked.is_empty() {
            diags.push(
                Diagnostic::new(
                    DASK_NETWORK_POLICY,
                    format!(
                        "{} (from {}): z2jh's user-pod NetworkPolicy blocks {}",
                        hub.id,
                        hub.template,
                        blocked.join("; ")
                    ),
                )
                .help(DASK_NETWORK_POLICY.info().fix),
            );
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ResourceId;

    fn manifest(v: Value) -> Manifest {
        Manifest {
            id: ResourceId::of(&v).unwrap(),
            unit: "u".into(),
            template: "t".into(),
            value: v,
        }
    }

    fn tree(policy: Value) -> Vec<Manifest> {
        vec![
            manifest(
                json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "jupyterhub", "namespace": "hub"},
                "spec": {"chart": {"spec": {"chart": "jupyterhub"}}, "values": {"singleuser": {"networkPolicy": policy}}}}),
            ),
            manifest(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "dask-traefik", "namespace": "hub"},
                "spec": {"template": {"metadata": {"labels": {"app": "dask-traefik"}}}}}),
            ),
            manifest(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "triton", "namespace": "triton"},
                "spec": {"template": {"metadata": {"labels": {"app": "triton"}}}}}),
            ),
        ]
    }

    #[test]
    fn the_rules_the_templates_write_pass() {
        let policy = json!({
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "dask-traefik"}}}], "ports": [{"port": 8786}, {"port": 8788}]}],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "triton"}}, "podSelector": {"matchLabels": {"app": "triton"}}}],
                        "ports": [{"port": 8000}, {"port": 8001}]}],
        });
        assert!(check_dask_netpol(&tree(policy)).is_empty());
        assert!(check_dask_netpol(&tree(json!({"enabled": false}))).is_empty());
    }

    fn pool_tree(policy: Value) -> Vec<Manifest> {
        let mut t = tree(policy);
        for (name, app) in [
            ("htcondor-cm", "htcondor-cm"),
            ("htcondor-schedd", "htcondor-schedd"),
            ("htcondor-execute-1", "htcondor-execute"),
        ] {
            t.push(manifest(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "hub"},
                "spec": {"template": {"metadata": {"labels": {"app": app}}}}}),
            ));
        }
        t
    }

    #[test]
    fn a_pool_needs_its_workers_in_and_the_sessions_out() {
        let sel = |app: &str| json!({"podSelector": {"matchLabels": {"app": app}}});
        let policy = json!({
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "dask-traefik"}}}], "ports": [{"port": 8786}, {"port": 8788}]},
                        {"from": [sel("htcondor-execute")], "ports": [{"port": 8786}]}],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "triton"}}, "podSelector": {"matchLabels": {"app": "triton"}}}],
                        "ports": [{"port": 8001}]},
                       {"to": [sel("htcondor-cm"), sel("htcondor-schedd")], "ports": [{"port": 9618}]},
                       {"to": [sel("htcondor-execute")]}],
        });
        assert!(check_dask_netpol(&pool_tree(policy.clone())).is_empty());
        // the workers' ports limited to the scheduler's: the scheduler cannot call them
        let mut narrow = policy;
        narrow["egress"][2]["ports"] = json!([{"port": 8786}]);
        let d = check_dask_netpol(&pool_tree(narrow));
        let text = &d.iter().next().unwrap().message;
        assert!(
            text.contains("the pool's workers in hub on any port"),
            "{text}"
        );
        assert!(!text.contains("htcondor-cm"), "{text}");
    }

    #[test]
    fn the_chart_default_policy_blocks_dask_and_triton() {
        let d = check_dask_netpol(&tree(json!({})));
        assert_eq!(d.len(), 1);
        let text = &d.iter().next().unwrap().message;
        for want in [
            "on 8786 (ingress)",
            "on 8788 (ingress)",
            "Triton in triton on 8001",
        ] {
            assert!(text.contains(want), "{text}");
        }
    }
}
