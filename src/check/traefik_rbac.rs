//! Rule `traefik-provider-rbac` (CB080), on the rendered objects: a Traefik Deployment of
//! the tree that runs the kubernetescrd provider may list and watch everything the provider
//! watches, through the Roles and ClusterRoles bound to its ServiceAccount.
//!
//! Why: the provider starts an informer per resource and serves no route until every cache
//! has synced (traefik/traefik@v3.7.9 `pkg/provider/kubernetes/crd/client.go` `WatchAll`);
//! a forbidden list blocks it forever while `/ping` stays healthy. Nodes are watched
//! cluster-wide unless `--providers.kubernetescrd.disableClusterScopeResources=true`.
//!
//! Fix: grant the missing resources (the namespaced Role of traefik/traefik-helm-chart
//! @v41.3.0 `templates/rbac/role.yaml`) or add the flag.

use serde_json::Value;

use crate::diagnostics::{Diagnostic, Diagnostics, TRAEFIK_PROVIDER_RBAC};
use crate::manifest::Manifest;

/// What the v3 kubernetescrd provider lists and watches in each watched namespace.
pub const WATCHED: &[(&str, &str)] = &[
    ("traefik.io", "ingressroutes"),
    ("traefik.io", "middlewares"),
    ("traefik.io", "middlewaretcps"),
    ("traefik.io", "ingressroutetcps"),
    ("traefik.io", "ingressrouteudps"),
    ("traefik.io", "tlsoptions"),
    ("traefik.io", "serverstransports"),
    ("traefik.io", "serverstransporttcps"),
    ("traefik.io", "tlsstores"),
    ("traefik.io", "traefikservices"),
    ("", "services"),
    ("discovery.k8s.io", "endpointslices"),
    ("", "configmaps"),
    ("", "secrets"),
];

fn strs(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether `rules` let list and watch `resource` of `group`.
fn allows(rules: &[&Value], group: &str, resource: &str) -> bool {
    ["list", "watch"].iter().all(|verb| {
        rules.iter().any(|r| {
            let groups = strs(r.get("apiGroups"));
            let resources = strs(r.get("resources"));
            let verbs = strs(r.get("verbs"));
            (groups.contains(&group) || groups.contains(&"*"))
                && (resources.contains(&resource) || resources.contains(&"*"))
                && (verbs.contains(verb) || verbs.contains(&"*"))
        })
    })
}

/// The rules bound to ServiceAccount `sa` of `sa_ns` that apply in `ns` (`None`:
/// cluster-wide, ClusterRoleBindings only).
fn rules_for<'a>(
    manifests: &'a [Manifest],
    sa: &str,
    sa_ns: &str,
    ns: Option<&str>,
) -> Vec<&'a Value> {
    let binds_sa = |b: &Value| {
        b.get("subjects")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter().any(|s| {
                    s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                        && s.get("name").and_then(Value::as_str) == Some(sa)
                        && s.get("namespace").and_then(Value::as_str).unwrap_or(sa_ns) == sa_ns
                })
            })
    };
    let role = |kind: &str, name: &str, in_ns: Option<&str>| {
        manifests
            .iter()
            .find(|m| m.id.kind == kind && m.id.name == name && m.id.namespace.as_deref() == in_ns)
    };
    let mut rules = Vec::new();
    for b in manifests
        .iter()
        .filter(|m| m.id.group == "rbac.authorization.k8s.io")
    {
        let applies = match (b.id.kind.as_str(), ns) {
            ("ClusterRoleBinding", _) => true,
            ("RoleBinding", Some(ns)) => b.id.namespace.as_deref() == Some(ns),
            _ => false,
        };
        if !applies || !binds_sa(&b.value) {
            continue;
        }
        let kind = b
            .value
            .pointer("/roleRef/kind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = b
            .value
            .pointer("/roleRef/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let found = if kind == "Role" {
            role("Role", name, b.id.namespace.as_deref())
        } else {
            role("ClusterRole", name, None)
        };
        if let Some(r) = found
            .and_then(|r| r.value.get("rules"))
            .and_then(Value::as_array)
        {
            rules.extend(r.iter());
        }
    }
    rules
}

pub fn check_traefik_rbac(manifests: &[Manifest]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for m in manifests.iter().filter(|m| m.id.kind == "Deployment") {
        let Some(ns) = m.id.namespace.as_deref() else {
            continue;
        };
        let pod = m.value.pointer("/spec/template/spec");
        let Some(pod) = pod else { continue };
        let sa = pod
            .get("serviceAccountName")
            .and_then(Value::as_str)
            .unwrap_or("default");
        for c in pod
            .get("containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let repo = image.split(['@', ':']).next().unwrap_or("");
            let args = strs(c.get("args"));
            if !(repo == "traefik" || repo.ends_with("/traefik"))
                || !args.contains(&"--providers.kubernetescrd")
            {
                continue;
            }
            let namespaces: Vec<&str> = args
                .iter()
                .filter_map(|a| a.strip_prefix("--providers.kubernetescrd.namespaces="))
                .flat_map(|v| v.split(','))
                .collect();
            let mut missing = Vec::new();
            for watched in &namespaces {
                let rules = rules_for(manifests, sa, ns, Some(watched));
                for (group, resource) in WATCHED {
                    if !allows(&rules, group, resource) {
                        let g = if group.is_empty() { "core" } else { group };
                        missing.push(format!("{g}/{resource} in {watched}"));
                    }
                }
            }
            if namespaces.is_empty() {
                missing.push("(no --providers.kubernetescrd.namespaces: every namespace, which needs a ClusterRole)".to_owned());
            }
            let cluster_scope =
                !args.contains(&"--providers.kubernetescrd.disableClusterScopeResources=true");
            if cluster_scope && !allows(&rules_for(manifests, sa, ns, None), "", "nodes") {
                missing.push("core/nodes cluster-wide".to_owned());
            }
            if !missing.is_empty() {
                diags.push(
                    Diagnostic::new(
                        TRAEFIK_PROVIDER_RBAC,
                        format!(
                            "{} (from {}): Traefik's kubernetescrd provider watches what ServiceAccount {ns}/{sa} may not list and watch: {}",
                            m.id,
                            m.template,
                            missing.join(", ")
                        ),
                    )
                    .help(TRAEFIK_PROVIDER_RBAC.info().fix),
                );
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ResourceId;
    use serde_json::json;

    fn manifest(v: Value) -> Manifest {
        Manifest {
            id: ResourceId::of(&v).unwrap(),
            unit: "u".into(),
            template: "t".into(),
            value: v,
        }
    }

    fn tree(resources: Vec<&str>, flag: bool) -> Vec<Manifest> {
        let mut args = vec![
            "--providers.kubernetescrd",
            "--providers.kubernetescrd.namespaces=hub",
        ];
        if flag {
            args.push("--providers.kubernetescrd.disableClusterScopeResources=true");
        }
        vec![
            manifest(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "t", "namespace": "hub"},
                "spec": {"template": {"spec": {"serviceAccountName": "t", "containers": [{"name": "traefik", "image": "docker.io/traefik:v3.7.11", "args": args}]}}}}),
            ),
            manifest(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "t", "namespace": "hub"},
                "rules": [{"apiGroups": ["", "discovery.k8s.io", "traefik.io"], "resources": resources, "verbs": ["get", "list", "watch"]}]}),
            ),
            manifest(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "t", "namespace": "hub"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "t"},
                "subjects": [{"kind": "ServiceAccount", "name": "t", "namespace": "hub"}]}),
            ),
        ]
    }

    #[test]
    fn the_full_role_with_the_flag_passes() {
        let all: Vec<&str> = WATCHED.iter().map(|(_, r)| *r).collect();
        assert!(check_traefik_rbac(&tree(all, true)).is_empty());
    }

    #[test]
    fn a_partial_role_and_no_flag_name_what_is_missing() {
        let d = check_traefik_rbac(&tree(
            vec!["services", "secrets", "endpointslices", "ingressroutetcps"],
            false,
        ));
        let text = d
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d.iter().next().unwrap().code, TRAEFIK_PROVIDER_RBAC);
        for want in [
            "traefik.io/ingressroutes in hub",
            "core/configmaps in hub",
            "core/nodes cluster-wide",
        ] {
            assert!(text.contains(want), "{text}");
        }
        assert!(!text.contains("ingressroutetcps"), "{text}");
    }
}
