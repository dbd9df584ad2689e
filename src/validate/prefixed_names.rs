//! CB102 flux-label-length.
//!
//! What: a name that is longer than 63 characters once the prefix added to it: an instance's
//! Flux unit `instance-<name>`, an object store's Service `rook-ceph-rgw-<name>`.
//! Why: kustomize-controller labels every object it applies with its Kustomization's name
//! (`kustomize.toolkit.fluxcd.io/name`; fluxcd/kustomize-controller@v1.9.4
//! internal/controller/kustomization_controller.go `SetOwnerLabels(objects, obj.GetName(),
//! obj.GetNamespace())`), and a label value has at most 63 characters: with a 55-character
//! instance name every object of the instance fails to apply. Rook names the object store's
//! Service `rook-ceph-rgw-<store>` (rook/rook@v1.20.6 pkg/operator/ceph/object/rgw.go
//! `instanceName`, spec.go), a DNS label of at most 63 characters.
//! Example: `name = "a-very-long-instance-name-that-goes-on-and-on-and-on-and-on"`.
//! Fix: shorten the name (an instance name to 54 characters, a store name to 49).

use crate::diagnostics::{Diagnostic, FLUX_LABEL_LENGTH};
use crate::site::Site;
use crate::site::components::instance_unit;

/// The longest label value or DNS label the API server accepts.
pub const MAX_LABEL: usize = 63;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for i in &site.instances {
        let name = i.spec.instance.name.get_ref().as_str();
        let unit = instance_unit(name);
        if unit.len() > MAX_LABEL {
            out.push(too_long(
                &unit,
                "Flux labels every object of the instance with its unit's name (kustomize.toolkit.fluxcd.io/name)",
                MAX_LABEL - (unit.len() - name.len()),
            )
            .at(i.file, i.spec.instance.name.span(), "the instance name"));
        }
    }
    if let Some(os) = site
        .spec
        .ceph
        .as_ref()
        .and_then(|c| c.object_store.as_ref())
    {
        let name = os.name.get_ref().as_str();
        let service = format!("rook-ceph-rgw-{name}");
        if service.len() > MAX_LABEL {
            out.push(
                too_long(
                    &service,
                    "Rook names the store's Service after it, and a Service name is a DNS label",
                    MAX_LABEL - (service.len() - name.len()),
                )
                .at(site.file, os.name.span(), "the object store's name"),
            );
        }
    }
    out
}

fn too_long(full: &str, why: &str, max: usize) -> Diagnostic {
    Diagnostic::new(
        FLUX_LABEL_LENGTH,
        format!(
            "`{full}` has {} characters, more than {MAX_LABEL}: {why}",
            full.len()
        ),
    )
    .help(format!("shorten the name to at most {max} characters"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;

    #[test]
    fn passes_on_the_reference_site() {
        assert!(check(&site_with(&[], &[]).0).is_empty());
    }

    #[test]
    fn an_instance_name_of_54_fits_and_55_does_not() {
        let fits = "a".repeat(54);
        let (site, _) = site_with(
            &[],
            &[("name = \"cms-prod\"", &format!("name = \"{fits}\""))],
        );
        assert!(check(&site).is_empty());
        let long = "a".repeat(55);
        let (site, src) = site_with(
            &[],
            &[("name = \"cms-prod\"", &format!("name = \"{long}\""))],
        );
        let (l, c) = pos(INSTANCE, "\"cms-prod\"");
        let found = check(&site);
        assert_finds(
            &found,
            &src,
            &[(FLUX_LABEL_LENGTH, "instances/cms-prod.toml", l, c)],
        );
        assert!(
            found[0].message.contains("64 characters"),
            "{}",
            found[0].message
        );
        assert_eq!(
            found[0].help.as_deref(),
            Some("shorten the name to at most 54 characters")
        );
    }

    #[test]
    fn an_object_store_name_past_49_is_refused() {
        let long = "s".repeat(50);
        let (site, src) = site_with(
            &[("name = \"my-store\"", &format!("name = \"{long}\""))],
            &[],
        );
        let (l, c) = pos(SITE, "\"my-store\"");
        assert_finds(
            &check(&site),
            &src,
            &[(FLUX_LABEL_LENGTH, "site.toml", l, c)],
        );
    }
}
