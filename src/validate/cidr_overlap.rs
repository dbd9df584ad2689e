//! CB012 cidr-overlap.
//!
//! What: two of the pod CIDR, service CIDR, node subnet, MetalLB pool ranges and Calico IP
//! pools overlap. Two nestings are expected and allowed: a Calico IP pool inside the pod
//! CIDR, and a MetalLB layer-2 pool inside the node subnet (the speaker answers ARP for its
//! addresses, so they must be on the nodes' segment; node_cidr.rs keeps the nodes out of it).
//! Why: each range is routed differently; an overlap blackholes traffic.
//! Fix: shrink or move one of the ranges.

use crate::diagnostics::{CIDR_OVERLAP, Diagnostic};
use crate::site::types::Cidr;
use crate::site::{Advertiser, CiliumAnnounce, Site};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Pod,
    NodeSubnet,
    Other,
    IpPool,
    L2Pool,
}

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut ranges: Vec<(String, Kind, &toml::Spanned<Cidr>)> = Vec::new();
    if let Some(net) = &site.spec.network {
        ranges.extend([
            ("pod CIDR".into(), Kind::Pod, &net.pod_cidr),
            ("service CIDR".into(), Kind::Other, &net.service_cidr),
            ("node subnet".into(), Kind::NodeSubnet, &net.node_subnet),
        ]);
    }
    for p in site.spec.metallb.iter().flat_map(|m| &m.pool) {
        let kind = if *p.advertise.get_ref() == Advertiser::MetallbL2 {
            Kind::L2Pool
        } else {
            Kind::Other
        };
        for a in &p.addresses {
            ranges.push((format!("MetalLB pool `{}`", p.name), kind, a));
        }
    }
    for p in site.spec.cilium.iter().flat_map(|c| &c.lb_pool) {
        // An L2-announced pool answers ARP on the node segment, like MetalLB's L2 pools.
        let kind = if *p.announce.get_ref() == CiliumAnnounce::L2 {
            Kind::L2Pool
        } else {
            Kind::Other
        };
        for a in &p.addresses {
            ranges.push((format!("Cilium LB IPAM pool `{}`", p.name), kind, a));
        }
    }
    for p in site.spec.calico.iter().flat_map(|c| &c.ip_pool) {
        ranges.push((
            format!("Calico IP pool `{}`", p.name),
            Kind::IpPool,
            &p.cidr,
        ));
    }
    let mut out = Vec::new();
    for (i, (an, ak, a)) in ranges.iter().enumerate() {
        for (bn, bk, b) in &ranges[i + 1..] {
            let inside = |outer: &Cidr, inner: &Cidr| outer.net().contains(&inner.net());
            let allowed = match (ak, bk) {
                (Kind::Pod, Kind::IpPool) | (Kind::IpPool, Kind::Pod) => true,
                (Kind::NodeSubnet, Kind::L2Pool) => inside(a.get_ref(), b.get_ref()),
                (Kind::L2Pool, Kind::NodeSubnet) => inside(b.get_ref(), a.get_ref()),
                _ => false,
            };
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

    #[test]
    fn allows_a_layer2_pool_inside_the_node_subnet_only() {
        let l2 = |range: &str| {
            site_with(
                &[
                    (
                        "addresses = [\"203.0.113.0/27\"]",
                        &format!("addresses = [\"{range}\"]"),
                    ),
                    (
                        "auto_assign = true\nadvertise = \"calico\"",
                        "auto_assign = true\nadvertise = \"metallb-l2\"",
                    ),
                ],
                &[],
            )
        };
        assert!(check(&l2("192.0.2.224/28").0).is_empty());
        // The same range announced by BGP must stay out of the node subnet.
        let (site, src) = site_with(
            &[(
                "addresses = [\"203.0.113.0/27\"]",
                "addresses = [\"192.0.2.224/28\"]",
            )],
            &[],
        );
        let (l, c) = pos(SITE, "\"203.0.113.0/27\"");
        assert_finds(&check(&site), &src, &[(CIDR_OVERLAP, "site.toml", l, c)]);
        // A layer-2 pool wider than the node subnet is not a slice of it.
        let (site, src) = l2("192.0.0.0/16");
        assert_finds(&check(&site), &src, &[(CIDR_OVERLAP, "site.toml", l, c)]);
    }
}
