//! CB012 cidr-overlap.
//!
//! What: two of the pod CIDR, service CIDR, node subnet, MetalLB pool ranges and Calico IP
//! pools overlap (a Calico IP pool inside the pod CIDR is expected and allowed).
//! Why: each range is routed differently; an overlap blackholes traffic.
//! Fix: shrink or move one of the ranges.

use crate::diagnostics::{CIDR_OVERLAP, Diagnostic};
use crate::site::Site;
use crate::site::types::Cidr;

#[derive(PartialEq)]
enum Kind {
    Pod,
    Other,
    IpPool,
}

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let net = &site.spec.network;
    let mut ranges: Vec<(String, Kind, &toml::Spanned<Cidr>)> = vec![
        ("pod CIDR".into(), Kind::Pod, &net.pod_cidr),
        ("service CIDR".into(), Kind::Other, &net.service_cidr),
        ("node subnet".into(), Kind::Other, &net.node_subnet),
    ];
    for p in &site.spec.metallb.pool {
        for a in &p.addresses {
            ranges.push((format!("MetalLB pool `{}`", p.name), Kind::Other, a));
        }
    }
    for p in &site.spec.calico.ip_pool {
        ranges.push((
            format!("Calico IP pool `{}`", p.name),
            Kind::IpPool,
            &p.cidr,
        ));
    }
    let mut out = Vec::new();
    for (i, (an, ak, a)) in ranges.iter().enumerate() {
        for (bn, bk, b) in &ranges[i + 1..] {
            let allowed = matches!(
                (ak, bk),
                (Kind::Pod, Kind::IpPool) | (Kind::IpPool, Kind::Pod)
            );
            if !allowed && a.get_ref().overlaps(b.get_ref()) {
                out.push(
                    Diagnostic::new(
                        CIDR_OVERLAP,
                        format!("the {bn} {} overlaps the {an} {}", b.get_ref(), a.get_ref()),
                    )
                    .at(site.file, b.span(), "overlaps")
                    .also(site.file, a.span(), an.clone())
                    .help("pod, service, node and LoadBalancer ranges must be disjoint"),
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
    fn finds_a_pool_inside_the_service_cidr() {
        let (site, src) = site_with(
            &[(
                "addresses = [\"203.0.113.0/27\"]",
                "addresses = [\"10.100.0.0/27\"]",
            )],
            &[],
        );
        let (l, c) = pos(SITE, "\"203.0.113.0/27\"");
        assert_finds(&check(&site), &src, &[(CIDR_OVERLAP, "site.toml", l, c)]);
    }
}
