//! CB063 tenant-namespace (over the rendered objects).
//!
//! What: on a tenant site, an object in a namespace that is neither `[tenant] namespace` nor
//! one of `[tenant] namespaces`, or a HelmRelease that installs into one
//! (`spec.targetNamespace`).
//! Why: the tenant's ServiceAccount may write only its own namespaces; the apply is refused.
//! Fix: move the object (an instance's `namespace`, a component's) into a namespace the
//! tenant owns, or list the namespace in `[tenant] namespaces` if the owner gave it.
//!
//! Example: a tenant instance in `cmsaf-prod` when `[tenant] namespaces` lists only `af-hub`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diagnostics::{Diagnostic, TENANT_NAMESPACE};
use crate::manifest::Manifest;
use crate::site::Site;

pub(super) fn check(site: &Site, manifests: &[Manifest]) -> Vec<Diagnostic> {
    let Some(tenant) = site.tenant() else {
        return Vec::new();
    };
    // One finding per namespace, naming the objects in it.
    let mut foreign: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for m in manifests {
        let target = m
            .value
            .pointer("/spec/targetNamespace")
            .and_then(Value::as_str)
            .filter(|_| m.id.kind == "HelmRelease");
        for ns in m.id.namespace.as_deref().into_iter().chain(target) {
            if !tenant.owns(ns) {
                foreign.entry(ns).or_default().push(m.id.to_string());
            }
        }
    }
    foreign
        .into_iter()
        .map(|(ns, objects)| {
            // An instance's own namespace points at the instance file.
            let (file, span, label) = site
                .instances
                .iter()
                .find(|i| i.spec.instance.namespace.get_ref().as_str() == ns)
                .map_or((site.file, tenant.namespace.span(), "a tenant"), |i| {
                    (
                        i.file,
                        i.spec.instance.namespace.span(),
                        "not a namespace of the tenant",
                    )
                });
            let shown: Vec<&str> = objects.iter().take(3).map(String::as_str).collect();
            let more = objects.len().saturating_sub(shown.len());
            Diagnostic::new(
                TENANT_NAMESPACE,
                format!(
                    "namespace `{ns}` is not the tenant's, yet {}{} go there",
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ),
            )
            .at(file, span, label)
            .help(TENANT_NAMESPACE.info().fix)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;

    const TENANT: &str =
        "[tenant]\nnamespace = \"af\"\nnamespaces = [\"af-hub\"]\n\n[control_plane]";

    fn cm(ns: &str) -> Manifest {
        let v = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": ns}});
        Manifest {
            id: crate::manifest::ResourceId::of(&v).unwrap(),
            unit: "u".into(),
            template: "t".into(),
            value: v,
        }
    }

    #[test]
    fn objects_in_the_tenants_namespaces_pass() {
        let (site, _) = site_with(&[("[control_plane]", TENANT)], &[]);
        assert!(check(&site, &[cm("af"), cm("af-hub")]).is_empty());
    }

    #[test]
    fn an_instance_outside_them_is_pointed_at() {
        let (site, src) = site_with(&[("[control_plane]", TENANT)], &[]);
        let (l, c) = pos(INSTANCE, "\"cmsaf-prod\"");
        let found = check(&site, &[cm("cmsaf-prod"), cm("cmsaf-prod")]);
        assert_finds(
            &found,
            &src,
            &[(TENANT_NAMESPACE, "instances/cms-prod.toml", l, c)],
        );
        assert!(
            found[0].message.contains("namespace `cmsaf-prod`"),
            "{}",
            found[0].message
        );
    }
}
