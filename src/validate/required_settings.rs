//! CB061 setting-required.
//!
//! What: a component or mode the site chose lacks a setting it cannot work without:
//! - a hub with no login (`[auth] dex`, `oidc` or `cilogon`), CILogon with no IdP, or
//!   `allowed_groups` with a direct login that names no `groups_claim`;
//! - an instance with Dask on a site without `[dask]`; Tier-2 Dask without the instance's
//!   `dask_ip` and `dask_base_domain` or the site's `[dask.htcondor]`; an in-cluster pool
//!   without the instance's or the site's `[dask.pool]`;
//! - Triton with neither `bucket` nor `model_repository`; a volume with no source;
//! - Cilium without `[network]` (its pod CIDR), kube-proxy replacement without
//!   `[control_plane]` (the API server the agents reach), L2-announced pools without
//!   `l2_interfaces` or kube-proxy replacement, BGP-announced pools without `[cilium.bgp]`;
//! - Calico announcing the service CIDR without `[network]`;
//! - `[gateway]` with neither `class` nor `parent`, or a `class` without `namespace`.
//!
//! Why: the objects would be rendered without a value they need, or not work.
//! Fix: add the setting, or choose another alternative.
//!
//! Example: an instance whose `[auth]` has `login_service` and `client_secret` but no `dex`.

use std::ops::Range;

use crate::diagnostics::{Diagnostic, SETTING_REQUIRED};
use crate::site::{CiliumAnnounce, DaskMode, Site};
use crate::sources::FileId;

fn required(file: FileId, span: Range<usize>, what: &str, help: &str) -> Diagnostic {
    Diagnostic::new(SETTING_REQUIRED, what.to_owned())
        .at(file, span, "here")
        .help(help.to_owned())
}

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    site_settings(site, &mut out);
    for i in &site.instances {
        let f = i.file;
        let s = &i.spec;
        let name = s.instance.name.get_ref();
        let a = &s.auth;
        if a.dex.is_none() && a.oidc.is_none() && a.cilogon.is_none() {
            out.push(required(
                f,
                a.login_service.span(),
                &format!("instance `{name}` has no login"),
                "give one of [auth] dex = { connector, client }, [auth.oidc] (any issuer) or [auth.cilogon] (CILogon and its identity providers)",
            ));
        }
        if let Some(c) = &a.cilogon
            && c.idp.get_ref().is_empty()
        {
            out.push(required(
                f,
                c.idp.span(),
                &format!("instance `{name}` logs in to CILogon through no identity provider"),
                "list the IdPs users may choose as [[auth.cilogon.idp]] (CILogonOAuthenticator refuses to start without one: \"One or more idps must be configured\")",
            ));
        }
        let groups_claim = a
            .oidc
            .as_ref()
            .map(|o| (o.groups_claim.is_some(), o.client_id.span()))
            .or(a
                .cilogon
                .as_ref()
                .map(|c| (c.groups_claim.is_some(), c.client_id.span())));
        if let Some((false, span)) = groups_claim
            && !a.allowed_groups.is_empty()
        {
            out.push(required(
                f,
                span,
                &format!("instance `{name}` allows groups but names no claim to read them from"),
                "set groups_claim (the userinfo claim holding the user's groups, `isMemberOf` at CILogon) or drop allowed_groups",
            ));
        }
        if let Some(d) = &s.dask {
            if site.spec.dask.is_none() {
                out.push(required(
                    f,
                    d.mode.span(),
                    &format!("instance `{name}` runs Dask but the site has no [dask] defaults"),
                    "add [dask] to site.toml (worker_image, max_workers, worker_cores, worker_memory)",
                ));
            }
            if *d.mode.get_ref() == DaskMode::Tier2 {
                let mut missing = Vec::new();
                if s.instance.dask_ip.is_none() {
                    missing
                        .push("[instance] dask_ip (the LoadBalancer address of its Dask Traefik)");
                }
                if s.instance.dask_base_domain.is_none() {
                    missing.push(
                        "[instance] dask_base_domain (where `<user>.dask.<base>` names live)",
                    );
                }
                if site
                    .spec
                    .dask
                    .as_ref()
                    .is_some_and(|d| d.htcondor.is_none())
                {
                    missing.push("[dask.htcondor] in site.toml (the pool the workers run in)");
                }
                if !missing.is_empty() {
                    out.push(required(
                        f,
                        d.mode.span(),
                        &format!(
                            "instance `{name}` runs Tier-2 Dask without {}",
                            missing.join(", ")
                        ),
                        "add them, or run Dask in the cluster: mode = \"pool\"",
                    ));
                }
            }
            if *d.mode.get_ref() == DaskMode::Pool {
                let mut missing = Vec::new();
                if d.pool.is_none() {
                    missing.push("[dask.pool] (submitter, execute_nodes, token_days)");
                }
                if site.spec.dask.as_ref().is_some_and(|d| d.pool.is_none()) {
                    missing
                        .push("[dask.pool] image in site.toml (the HTCondor image the pool runs)");
                }
                if !missing.is_empty() {
                    out.push(required(
                        f,
                        d.mode.span(),
                        &format!(
                            "instance `{name}` runs its own HTCondor pool without {}",
                            missing.join(", ")
                        ),
                        "add them, or scale out to the Tier-2: mode = \"tier2\"",
                    ));
                }
            }
        }
        for v in &s.singleuser.volume {
            if v.claim.is_none() && v.nfs.is_none() && v.host_path.is_none() {
                out.push(required(
                    f,
                    v.name.span(),
                    &format!("volume `{}` has no source", v.name.get_ref()),
                    "give one of claim (an existing PersistentVolumeClaim), nfs = { server, path } or host_path",
                ));
            }
        }
    }
    out
}

fn site_settings(site: &Site, out: &mut Vec<Diagnostic>) {
    let f = site.file;
    let s = &site.spec;
    if let Some(t) = &s.triton
        && t.bucket.is_none()
        && t.model_repository.is_none()
    {
        out.push(required(
            f,
            t.image.span(),
            "Triton has no model repository",
            "give [triton] bucket (a bucket of [ceph.object_store]) or model_repository (an S3 URL)",
        ));
    }
    if let Some(c) = &s.cilium {
        let at = c.kube_proxy_replacement.span();
        if s.network.is_none() {
            out.push(required(
                f,
                at.clone(),
                "Cilium needs the cluster's pod CIDR",
                "add [network] with node_subnet, pod_cidr and service_cidr",
            ));
        }
        let kpr = *c.kube_proxy_replacement.get_ref();
        if kpr && s.control_plane.is_none() {
            out.push(required(
                f,
                at.clone(),
                "Cilium replaces kube-proxy but the site gives no API server address",
                "add [control_plane] (vip, port): without kube-proxy the agents reach the API server there",
            ));
        }
        let announced = |a: CiliumAnnounce| c.lb_pool.iter().find(|p| *p.announce.get_ref() == a);
        if let Some(p) = announced(CiliumAnnounce::L2) {
            if c.l2_interfaces.is_empty() {
                out.push(required(
                    f,
                    p.announce.span(),
                    &format!("Cilium pool `{}` is announced by L2 on no interface", p.name),
                    "set [cilium] l2_interfaces (regular expressions of the node interfaces on the LoadBalancer subnet, e.g. [\"^eno1$\"])",
                ));
            }
            if !kpr {
                out.push(required(
                    f,
                    p.announce.span(),
                    &format!("Cilium pool `{}` is announced by L2, which needs kube-proxy replacement", p.name),
                    "set [cilium] kube_proxy_replacement = true (docs.cilium.io/en/v1.19/network/l2-announcements/ prerequisites), or announce the pool by BGP",
                ));
            }
        }
        if let Some(p) = announced(CiliumAnnounce::Bgp)
            && c.bgp.is_none()
        {
            out.push(required(
                f,
                p.announce.span(),
                &format!("Cilium pool `{}` is announced by BGP, but [cilium.bgp] is missing", p.name),
                "add [cilium.bgp] with the cluster's ASN and its [[cilium.bgp.peer]] routers, or announce by L2",
            ));
        }
    }
    if let Some(b) = s.calico.as_ref().and_then(|c| c.bgp.as_ref())
        && b.advertise_cluster_ips
        && s.network.is_none()
    {
        out.push(required(
            f,
            b.asn.span(),
            "Calico announces the service CIDR, which the site does not give",
            "add [network] with the service_cidr, or set advertise_cluster_ips = false",
        ));
    }
    if let Some(spanned) = &s.gateway {
        let g = spanned.get_ref();
        match (&g.class, &g.parent) {
            (None, None) => {
                out.push(required(
                    f,
                    spanned.span(),
                    "[gateway] makes no Gateway and names no parent",
                    "give class (make a Gateway of that GatewayClass) or parent = { name, namespace } (an existing Gateway)",
                ));
            }
            (Some(c), _) if g.namespace.is_none() => out.push(required(
                f,
                c.span(),
                "[gateway] makes a Gateway but names no namespace for it",
                "set [gateway] namespace",
            )),
            _ => {}
        }
    }
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
    fn a_hub_without_a_login() {
        let dex = "dex = { connector = \"cern-iam\", client = \"cms-prod\" }\n";
        let (site, src) = site_with(&[], &[(dex, "")]);
        let edited = INSTANCE.replacen(dex, "", 1);
        let (l, c) = pos(&edited, "\"CMS SSO\"");
        assert_finds(
            &check(&site),
            &src,
            &[(SETTING_REQUIRED, "instances/cms-prod.toml", l, c)],
        );
    }

    #[test]
    fn tier2_dask_without_its_address() {
        let ip = INSTANCE.lines().find(|l| l.starts_with("dask_ip")).unwrap();
        let (site, src) = site_with(&[], &[(ip, "")]);
        let found = check(&site);
        let (l, c) = pos(INSTANCE, "\"tier2\"");
        assert_finds(
            &found,
            &src,
            &[(SETTING_REQUIRED, "instances/cms-prod.toml", l, c)],
        );
        assert!(found[0].message.contains("dask_ip"), "{}", found[0].message);
    }

    #[test]
    fn triton_without_a_model_repository() {
        let (site, src) = site_with(&[("bucket = \"triton-models\"\n", "")], &[]);
        let edited = SITE.replacen("bucket = \"triton-models\"\n", "", 1);
        let (l, c) = pos(&edited, "\"nvcr.io/nvidia/tritonserver");
        assert_finds(
            &check(&site),
            &src,
            &[(SETTING_REQUIRED, "site.toml", l, c)],
        );
    }
}
