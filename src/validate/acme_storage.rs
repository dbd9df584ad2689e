//! CB095 acme-storage-unwritable (over the rendered objects): a Traefik release whose
//! certificate resolvers keep ACME state in a file keeps it on the chart's persistent volume,
//! with an fsGroup equal to the group Traefik runs as.
//!
//! Why: the chart mounts the volume at `persistence.path` and runs Traefik as uid/gid 65532
//! with a read-only root filesystem (traefik-helm-chart@v41.3.0:traefik/values.yaml). A fresh
//! block volume belongs to root, so without `podSecurityContext.fsGroup` Traefik cannot create
//! acme.json ("permission denied"); outside the volume it cannot write at all, and a restart
//! would lose the certificates and the Let's Encrypt account. In every case Traefik drops the
//! resolver ("The ACME resolve is skipped from the resolvers list", traefik@v3.7.9:
//! cmd/traefik/traefik.go) and serves its default certificate. With fsGroup the file must still
//! be made mode 600 (pkg/provider/acme/local_store_unix.go `CheckFile`: "permissions ... are
//! too open"), which the template's init container does (traefik-helm-chart issues 164, 396).
//!
//! Fix: storage under `persistence.path`, persistence enabled, `podSecurityContext.fsGroup`
//! the process's group (65532 unless the release sets another).

use serde_json::Value;

use super::chart_defaults::merged;
use crate::diagnostics::{ACME_STORAGE_UNWRITABLE, Diagnostic};
use crate::manifest::Manifest;
use crate::site::Site;

/// Where the site asks for ACME certificates, the setting a finding points at.
pub(super) fn acme_email(site: &Site) -> Option<&crate::site::Spanned<crate::site::types::Email>> {
    site.spec
        .traefik
        .as_ref()
        .and_then(|t| t.tls.acme_email.as_ref())
}

pub(super) fn check(site: &Site, manifests: &[Manifest]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for m in manifests
        .iter()
        .filter(|m| m.id.kind == "HelmRelease" && m.id.group == "helm.toolkit.fluxcd.io")
    {
        let Some(("traefik", v)) = merged(&m.value) else {
            continue;
        };
        let Some(resolvers) = v.get("certificatesResolvers").and_then(Value::as_object) else {
            continue;
        };
        let path = v
            .pointer("/persistence/path")
            .and_then(Value::as_str)
            .unwrap_or("/data");
        let persistent = v.pointer("/persistence/enabled") == Some(&Value::Bool(true));
        // The container's own setting wins over the pod's (Kubernetes SecurityContext).
        let group = v
            .pointer("/securityContext/runAsGroup")
            .or_else(|| v.pointer("/podSecurityContext/runAsGroup"))
            .and_then(Value::as_i64);
        let fs_group = v
            .pointer("/podSecurityContext/fsGroup")
            .and_then(Value::as_i64);
        for (name, r) in resolvers {
            let Some(storage) = r.pointer("/acme/storage").and_then(Value::as_str) else {
                continue;
            };
            let on_volume = persistent
                && storage
                    .strip_prefix(path.trim_end_matches('/'))
                    .is_some_and(|rest| rest.starts_with('/'));
            let problem = if !on_volume {
                Some(format!(
                    "its storage {storage} is not on the persistent volume (persistence.path {path}, enabled: {persistent}): the root filesystem is read-only and a restart would lose the certificates"
                ))
            } else if fs_group.is_none() || fs_group != group {
                Some(format!(
                    "podSecurityContext.fsGroup is {} but Traefik runs as group {}: the volume's root-owned files are not writable to it",
                    fs_group.map_or("unset".to_owned(), |g| g.to_string()),
                    group.map_or("unset".to_owned(), |g| g.to_string())
                ))
            } else {
                None
            };
            if let Some(p) = problem {
                let mut d = Diagnostic::new(
                    ACME_STORAGE_UNWRITABLE,
                    format!(
                        "{}: certificate resolver `{name}` cannot keep its ACME state: {p}",
                        m.id
                    ),
                )
                .help(ACME_STORAGE_UNWRITABLE.info().fix);
                if let Some(email) = acme_email(site) {
                    d = d.at(site.file, email.span(), "certificates by ACME");
                }
                out.push(d);
            }
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

    fn traefik(values: Value) -> Vec<Manifest> {
        let v = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "traefik", "namespace": "traefik"}, "spec": {"chart": {"spec": {"chart": "traefik"}}, "values": values}});
        vec![Manifest {
            id: crate::manifest::ResourceId::of(&v).unwrap(),
            unit: "traefik".into(),
            template: "traefik/helmrelease.yaml.j2".into(),
            value: v,
        }]
    }

    fn acme(storage: &str) -> Value {
        json!({"letsencrypt": {"acme": {"email": "a@example.org", "storage": storage, "tlsChallenge": true}}})
    }

    #[test]
    fn fs_group_of_the_process_on_the_volume_passes() {
        let ok = traefik(
            json!({"certificatesResolvers": acme("/data/acme.json"), "persistence": {"enabled": true}, "podSecurityContext": {"fsGroup": 65532}}),
        );
        assert!(check(&site(), &ok).is_empty());
        // No resolver, nothing to keep.
        assert!(check(&site(), &traefik(json!({}))).is_empty());
    }

    #[test]
    fn without_fs_group_or_off_the_volume_fails() {
        let no_group = traefik(
            json!({"certificatesResolvers": acme("/data/acme.json"), "persistence": {"enabled": true}}),
        );
        let found = check(&site(), &no_group);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("fsGroup is unset but Traefik runs as group 65532"),
            "{}",
            found[0].message
        );
        // Pointed at the site's ACME setting.
        let (reference, src) = crate::validate::testing::site_with(&[], &[]);
        let (_, l, c) = check(&reference, &no_group)[0].location(&src).unwrap();
        assert_eq!(
            (l, c),
            crate::validate::testing::pos(
                crate::validate::testing::SITE,
                "\"cms-support@cse.unl.edu\""
            )
        );
        let other_group = traefik(
            json!({"certificatesResolvers": acme("/data/acme.json"), "persistence": {"enabled": true}, "podSecurityContext": {"fsGroup": 1000}}),
        );
        assert_eq!(check(&site(), &other_group).len(), 1);
        let off = traefik(
            json!({"certificatesResolvers": acme("/acme.json"), "persistence": {"enabled": true}, "podSecurityContext": {"fsGroup": 65532}}),
        );
        assert!(
            check(&site(), &off)[0]
                .message
                .contains("not on the persistent volume")
        );
        let no_volume = traefik(
            json!({"certificatesResolvers": acme("/data/acme.json"), "podSecurityContext": {"fsGroup": 65532}}),
        );
        assert!(
            check(&site(), &no_volume)[0]
                .message
                .contains("enabled: false")
        );
        // `/database/…` is not under `/data`.
        let prefix = traefik(
            json!({"certificatesResolvers": acme("/database/acme.json"), "persistence": {"enabled": true}, "podSecurityContext": {"fsGroup": 65532}}),
        );
        assert_eq!(check(&site(), &prefix).len(), 1);
    }
}
