//! CB062 tenant-cluster-scoped (over the rendered objects).
//!
//! What: on a tenant site, an object of a cluster-scoped kind (kinds::is_cluster_scoped), an
//! object with no namespace, a Namespace the tenant may not create (`create_namespaces` off,
//! or not one of its namespaces), a HelmRelease that installs CRDs, or one whose chart makes
//! cluster-scoped objects with the values given (the table below) or is not known to make
//! only namespaced ones.
//! Why: a tenant owns only namespaces: the API server refuses the apply, and Flux stalls on
//! the whole unit that holds it.
//! Fix: leave the component out (the cluster's owner runs it: `[site] cluster_provides`), or
//! set the chart value the message names.
//!
//! Example: a tenant site with `[calico]` (its IPPools are cluster-scoped).

use serde_json::Value;

use crate::diagnostics::{Diagnostic, TENANT_CLUSTER_SCOPED};
use crate::manifest::Manifest;
use crate::site::Site;

/// A chart value that makes cluster-scoped objects when on: the pointer into the values, the
/// chart's default for it, what it then makes.
type Switch = (&'static str, bool, &'static str);

/// Charts known to make only namespaced objects except under the values listed.
static CHART_SWITCHES: &[(&str, &[Switch])] = &[
    (
        "jupyterhub",
        &[
            // zero-to-jupyterhub-k8s@4.4.0 `jupyterhub/templates/scheduling/user-scheduler/rbac.yaml`
            (
                "/scheduling/userScheduler/enabled",
                true,
                "the user scheduler's ClusterRole and ClusterRoleBinding",
            ),
            // `jupyterhub/templates/scheduling/priorityclass.yaml`, `image-puller/priorityclass.yaml`
            ("/scheduling/podPriority/enabled", false, "PriorityClasses"),
        ],
    ),
    (
        "dask-gateway",
        // dask/dask-gateway@2026.3.0 `resources/helm/dask-gateway/templates/*/rbac.yaml`: the
        // gateway, controller and Traefik each get a ClusterRole.
        &[(
            "/rbac/enabled",
            true,
            "ClusterRoles and ClusterRoleBindings",
        )],
    ),
];

pub(super) fn check(site: &Site, manifests: &[Manifest]) -> Vec<Diagnostic> {
    let Some(tenant) = site.tenant() else {
        return Vec::new();
    };
    let at = tenant.namespace.span();
    let finding = |what: String, help: &str| {
        Diagnostic::new(
            TENANT_CLUSTER_SCOPED,
            format!("the site is a tenant, but {what}"),
        )
        .at(site.file, at.clone(), "a tenant")
        .help(help.to_owned())
    };
    let mut out = Vec::new();
    for m in manifests {
        let origin = format!("{} (from {}, unit {})", m.id, m.template, m.unit);
        if m.id.kind == "Namespace" && m.id.group.is_empty() {
            if !tenant.create_namespaces {
                out.push(finding(
                    format!("{origin} creates a namespace"),
                    "a tenant is given its namespaces: set [tenant] create_namespaces = true if the cluster's owner lets it create them",
                ));
            } else if !tenant.owns(&m.id.name) {
                out.push(finding(
                    format!("{origin} creates a namespace that is not one of [tenant] namespaces"),
                    "add it to [tenant] namespaces, or move what is in it",
                ));
            }
            continue;
        }
        if crate::kinds::is_cluster_scoped(&m.id.group, &m.id.kind) || m.id.namespace.is_none() {
            out.push(finding(
                format!("{origin} is cluster-scoped"),
                &format!(
                    "leave the `{}` component out (the cluster's owner runs it: [site] cluster_provides), or drop the object from the site's templates",
                    component_of(m)
                ),
            ));
            continue;
        }
        if m.id.kind == "HelmRelease" && m.id.group == "helm.toolkit.fluxcd.io" {
            out.extend(
                release(m, &origin)
                    .into_iter()
                    .map(|(what, help)| finding(what, &help)),
            );
        }
    }
    out
}

fn component_of(m: &Manifest) -> String {
    m.template
        .split('/')
        .next()
        .unwrap_or(&m.template)
        .to_owned()
}

/// What a HelmRelease would make outside the tenant's namespaces.
fn release(m: &Manifest, origin: &str) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for phase in ["install", "upgrade"] {
        let crds = m
            .value
            .pointer(&format!("/spec/{phase}/crds"))
            .and_then(Value::as_str);
        if crds != Some("Skip") {
            v.push((
                format!("{origin} may {phase} the chart's CRDs ({phase}.crds is not Skip)"),
                "set spec.install.crds and spec.upgrade.crds to Skip; the cluster's owner installs CRDs".to_owned(),
            ));
        }
    }
    let chart = m
        .value
        .pointer("/spec/chart/spec/chart")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some((_, switches)) = CHART_SWITCHES.iter().find(|(c, _)| *c == chart) else {
        v.push((
            format!("{origin} installs the `{chart}` chart, which is not known to make only namespaced objects"),
            format!("leave the `{}` component out: the cluster's owner runs it", component_of(m)),
        ));
        return v;
    };
    let values = m.value.pointer("/spec/values");
    for (pointer, default, makes) in switches.iter() {
        let on = values
            .and_then(|vals| vals.pointer(pointer))
            .and_then(Value::as_bool)
            .unwrap_or(*default);
        if on {
            let key = pointer.trim_start_matches('/').replace('/', ".");
            v.push((
                format!("{origin} makes {makes} (chart value {key})"),
                format!("set {key} to false in the release's values"),
            ));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;

    fn manifest(v: Value) -> Manifest {
        Manifest {
            id: crate::manifest::ResourceId::of(&v).unwrap(),
            unit: "u".into(),
            template: "jupyterhub/x.yaml.j2".into(),
            value: v,
        }
    }

    const TENANT: &str =
        "[tenant]\nnamespace = \"af\"\nnamespaces = [\"cmsaf-prod\"]\n\n[control_plane]";

    #[test]
    fn a_site_that_is_no_tenant_may_emit_anything() {
        let (site, _) = site_with(&[], &[]);
        let cr = manifest(
            serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}}),
        );
        assert!(check(&site, &[cr]).is_empty());
    }

    #[test]
    fn a_tenant_may_not_emit_a_cluster_role_nor_a_namespace() {
        let (site, src) = site_with(&[("[control_plane]", TENANT)], &[]);
        let edited = SITE.replacen("[control_plane]", TENANT, 1);
        let (l, c) = pos(&edited, "\"af\"");
        let cr = manifest(
            serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}}),
        );
        let ns = manifest(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cmsaf-prod"}}),
        );
        let cm = manifest(
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "cmsaf-prod"}}),
        );
        let found = check(&site, &[cr, ns, cm]);
        assert_finds(
            &found,
            &src,
            &[
                (TENANT_CLUSTER_SCOPED, "site.toml", l, c),
                (TENANT_CLUSTER_SCOPED, "site.toml", l, c),
            ],
        );
        assert!(
            found[0]
                .message
                .contains("ClusterRole.rbac.authorization.k8s.io x"),
            "{}",
            found[0].message
        );
        assert!(
            found[1].message.contains("creates a namespace"),
            "{}",
            found[1].message
        );
    }

    #[test]
    fn a_hub_release_needs_the_user_scheduler_off_and_no_crds() {
        let (site, _) = site_with(&[("[control_plane]", TENANT)], &[]);
        let release = |values: Value, crds: &str| {
            manifest(serde_json::json!({
                "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                "metadata": {"name": "jupyterhub", "namespace": "cmsaf-prod"},
                "spec": {"chart": {"spec": {"chart": "jupyterhub"}}, "install": {"crds": crds}, "upgrade": {"crds": crds}, "values": values},
            }))
        };
        let off = serde_json::json!({"scheduling": {"userScheduler": {"enabled": false}}});
        assert!(check(&site, &[release(off.clone(), "Skip")]).is_empty());
        let found = check(&site, &[release(serde_json::json!({}), "Skip")]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("scheduling.userScheduler.enabled"),
            "{}",
            found[0].message
        );
        assert_eq!(check(&site, &[release(off, "CreateReplace")]).len(), 2);
    }
}
