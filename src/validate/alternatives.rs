//! CB060 alternatives-conflict.
//!
//! What: two alternatives of one choice are both given: two ingresses (`[traefik]`,
//! `[ingress_nginx]`, `[gateway]`), two CNIs (`[calico]`, `[cilium]`), two LoadBalancer
//! address providers (MetalLB and Cilium LB IPAM pools), two logins for one hub (`dex`,
//! `oidc`, `cilogon`), two sources for one volume (`claim`, `nfs`, `host_path`), Triton's
//! bucket and an outside model repository, a Gateway made here and a parent Gateway, a MIG
//! slice and a time-sliced share for one GPU, two name derivations for one CILogon IdP.
//! Why: the site runs one of each; both would fight over the same objects, or which one a
//! template uses would be left to the order of the code.
//! Fix: keep the one the facility runs.
//!
//! Example: `[traefik]` and `[ingress_nginx]` in one site.toml.

use std::ops::Range;

use crate::diagnostics::{ALTERNATIVES_CONFLICT, Diagnostic};
use crate::site::{Site, Spanned};
use crate::sources::FileId;

/// One alternative that is given: what it is and where.
struct Given {
    what: String,
    file: FileId,
    span: Range<usize>,
}

fn given<T>(what: &str, file: FileId, v: Option<&Spanned<T>>) -> Option<Given> {
    v.map(|v| Given {
        what: what.to_owned(),
        file,
        span: v.span(),
    })
}

/// A finding when more than one alternative of a choice is given.
fn conflict(choice: &str, given: Vec<Option<Given>>, out: &mut Vec<Diagnostic>) {
    // In source order: the later one is the one pointed at.
    let mut given: Vec<Given> = given.into_iter().flatten().collect();
    given.sort_by_key(|g| (g.file, g.span.start));
    let [first, rest @ ..] = given.as_slice() else {
        return;
    };
    for g in rest {
        out.push(
            Diagnostic::new(
                ALTERNATIVES_CONFLICT,
                format!("{choice}: both {} and {} are given", first.what, g.what),
            )
            .at(g.file, g.span.clone(), "the second")
            .also(first.file, first.span.clone(), "the first")
            .help(ALTERNATIVES_CONFLICT.info().fix),
        );
    }
}

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let f = site.file;
    let s = &site.spec;
    let mut out = Vec::new();
    conflict(
        "the site's ingress",
        vec![
            given("[traefik]", f, s.traefik.as_ref().map(|t| &t.lb_ip)),
            given(
                "[ingress_nginx]",
                f,
                s.ingress_nginx.as_ref().map(|n| &n.class),
            ),
            given("[gateway]", f, s.gateway.as_ref()),
        ],
        &mut out,
    );
    // Calico's table may hold nothing spanned (an empty `[calico]`): its IP pools or BGP
    // ASN stand for it when present.
    let calico = s.calico.as_ref().and_then(|c| {
        c.ip_pool
            .first()
            .map(|p| p.cidr.span())
            .or_else(|| c.bgp.as_ref().map(|b| b.asn.span()))
    });
    if let (Some(_), Some(c)) = (&s.calico, &s.cilium) {
        let mut d = Diagnostic::new(
            ALTERNATIVES_CONFLICT,
            "the site's CNI: both [calico] and [cilium] are given",
        )
        .at(f, c.kube_proxy_replacement.span(), "the second")
        .help(ALTERNATIVES_CONFLICT.info().fix);
        if let Some(span) = calico {
            d = d.also(f, span, "the first");
        }
        out.push(d);
    }
    conflict(
        "LoadBalancer addresses",
        vec![
            given(
                "MetalLB pools",
                f,
                s.metallb
                    .as_ref()
                    .and_then(|m| m.pool.first())
                    .map(|p| &p.advertise),
            ),
            given(
                "Cilium LB IPAM pools",
                f,
                s.cilium
                    .as_ref()
                    .and_then(|c| c.lb_pool.first())
                    .map(|p| &p.announce),
            ),
        ],
        &mut out,
    );
    if let Some(t) = &s.triton {
        conflict(
            "Triton's model repository",
            vec![
                given("`bucket`", f, t.bucket.as_ref()),
                given("`model_repository`", f, t.model_repository.as_ref()),
            ],
            &mut out,
        );
    }
    if let Some(g) = site.gateway() {
        conflict(
            "the Gateway routes attach to",
            vec![
                given("`class` (a Gateway made here)", f, g.class.as_ref()),
                given("`parent`", f, g.parent.as_ref().map(|p| &p.name)),
            ],
            &mut out,
        );
    }
    for n in &site.nodes {
        for g in &n.gpus {
            conflict(
                &format!("how GPUs of node `{}` are shared", n.name),
                vec![
                    given("`mig`", f, g.mig.as_ref()),
                    given("`time_slicing`", f, g.time_slicing.as_ref()),
                ],
                &mut out,
            );
        }
    }
    for i in &site.instances {
        let file = i.file;
        let a = &i.spec.auth;
        conflict(
            "how users log in",
            vec![
                given("`dex`", file, a.dex.as_ref().map(|d| &d.client)),
                given("`oidc`", file, a.oidc.as_ref().map(|o| &o.client_id)),
                given("`cilogon`", file, a.cilogon.as_ref().map(|c| &c.client_id)),
            ],
            &mut out,
        );
        if let Some(c) = &a.cilogon {
            for idp in c.idp.get_ref() {
                if let (Some(_), Some(p)) = (&idp.strip_domain, &idp.prefix) {
                    out.push(
                        Diagnostic::new(
                            ALTERNATIVES_CONFLICT,
                            format!(
                                "user names of CILogon IdP {}: both `strip_domain` and `prefix` are given",
                                idp.entity_id
                            ),
                        )
                        .at(file, p.span(), "one derivation per IdP")
                        .help("CILogonOAuthenticator applies one action per IdP (`strip_idp_domain` or `prefix`); keep one"),
                    );
                }
            }
        }
        for v in &i.spec.singleuser.volume {
            conflict(
                &format!("the source of volume `{}`", v.name.get_ref()),
                vec![
                    given("`claim`", file, v.claim.as_ref()),
                    given("`nfs`", file, v.nfs.as_ref()),
                    given("`host_path`", file, v.host_path.as_ref()),
                ],
                &mut out,
            );
        }
        for p in &i.spec.profile {
            if let Some(g) = &p.gpu
                && g.shared
                && let Some(m) = &g.mig
            {
                out.push(
                    Diagnostic::new(
                        ALTERNATIVES_CONFLICT,
                        format!(
                            "profile `{}` asks for both a MIG slice and a time-sliced share",
                            p.display_name
                        ),
                    )
                    .at(file, m.span(), "a MIG slice")
                    .help("a session gets a MIG slice (`mig`) or a time-sliced share (`shared = true`) of a GPU, not both"),
                );
            }
        }
    }
    out
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
    fn two_ingresses() {
        let (site, src) = site_with(
            &[("[dex]\n", "[ingress_nginx]\nclass = \"nginx\"\n\n[dex]\n")],
            &[],
        );
        let edited = SITE.replacen(
            "[dex]\n",
            "[ingress_nginx]\nclass = \"nginx\"\n\n[dex]\n",
            1,
        );
        let (l, c) = pos(&edited, "\"nginx\"");
        let found = check(&site);
        assert_finds(&found, &src, &[(ALTERNATIVES_CONFLICT, "site.toml", l, c)]);
        assert!(
            found[0].message.contains("[traefik] and [ingress_nginx]"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn two_logins_for_one_hub() {
        let oidc = "[auth.oidc]\nclient_id = \"hub\"\nauthorize_url = \"https://iam.example.org/authorize\"\ntoken_url = \"https://iam.example.org/token\"\nuserdata_url = \"https://iam.example.org/userinfo\"\nscopes = [\"openid\"]\nusername_claim = \"email\"\n\n[singleuser]";
        let (site, src) = site_with(&[], &[("[singleuser]", oidc)]);
        let edited = INSTANCE.replacen("[singleuser]", oidc, 1);
        let (l, c) = pos(&edited, "\"hub\"");
        assert_finds(
            &check(&site),
            &src,
            &[(ALTERNATIVES_CONFLICT, "instances/cms-prod.toml", l, c)],
        );
    }

    #[test]
    fn two_sources_for_one_volume() {
        let (site, src) = site_with(
            &[],
            &[(
                "read_only = true\n",
                "read_only = true\nclaim = \"store\"\n",
            )],
        );
        let edited = INSTANCE.replacen(
            "read_only = true\n",
            "read_only = true\nclaim = \"store\"\n",
            1,
        );
        let (l, c) = pos(&edited, "\"store\"");
        assert_finds(
            &check(&site),
            &src,
            &[(ALTERNATIVES_CONFLICT, "instances/cms-prod.toml", l, c)],
        );
    }
}
