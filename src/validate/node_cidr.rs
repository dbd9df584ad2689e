//! CB011 node-in-cluster-cidr.
//!
//! What: a node address or the control-plane VIP inside the pod or the service CIDR, or
//! inside a MetalLB pool (a layer-2 pool may lie in the node subnet, so this is where a
//! clash with the nodes is caught).
//! Why: packets to the node would be routed into the cluster instead, or MetalLB would hand
//! the node's address to a Service.
//! Fix: move the node or the cluster range.

use crate::diagnostics::{Diagnostic, NODE_IN_CLUSTER_CIDR};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut ranges = Vec::new();
    if let Some(net) = &site.spec.network {
        ranges.push(("the pod CIDR".to_owned(), &net.pod_cidr));
        ranges.push(("the service CIDR".to_owned(), &net.service_cidr));
    }
    for p in site.lb_pools() {
        for a in p.addresses {
            ranges.push((p.what.clone(), a));
        }
    }
    let vip = site.spec.control_plane.as_ref().map(|c| &c.vip);
    let addresses = site
        .nodes
        .iter()
        .filter_map(|n| {
            n.ip.map(|ip| (format!("node `{}` address", n.name), ip, n.ip_span.clone()))
        })
        .chain(vip.map(|vip| {
            (
                "the control-plane VIP".to_owned(),
                *vip.get_ref(),
                vip.span(),
            )
        }));
    let mut out = Vec::new();
    for (who, ip, span) in addresses {
        for (what, cidr) in &ranges {
            if cidr.get_ref().contains(&ip) {
                out.push(
                    Diagnostic::new(NODE_IN_CLUSTER_CIDR, format!("{who} {ip} is inside {what} {}", cidr.get_ref()))
                        .at(site.file, span.clone(), "node network address")
                        .also(site.file, cidr.span(), what.clone())
                        .help("node addresses belong to the node subnet, disjoint from the pod and service CIDRs and the LoadBalancer pools"),
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
    fn finds_a_node_in_the_service_cidr() {
        let (site, src) = site_with(&[("ip = \"192.0.2.41\"", "ip = \"10.96.0.41\"")], &[]);
        let (l, c) = pos(SITE, "\"192.0.2.41\"");
        assert_finds(
            &check(&site),
            &src,
            &[(NODE_IN_CLUSTER_CIDR, "site.toml", l, c)],
        );
    }

    #[test]
    fn finds_a_node_and_the_vip_in_a_metallb_pool() {
        let (site, src) = site_with(
            &[
                ("ip = \"192.0.2.41\"", "ip = \"203.0.113.7\""),
                ("vip = \"192.0.2.10\"", "vip = \"203.0.113.8\""),
            ],
            &[],
        );
        let (l1, c1) = pos(SITE, "\"192.0.2.41\"");
        let (l2, c2) = pos(SITE, "\"192.0.2.10\"");
        let mut found = check(&site);
        found.sort_by_key(|d| d.primary.as_ref().map(|p| p.span.start));
        assert_finds(
            &found,
            &src,
            &[
                (NODE_IN_CLUSTER_CIDR, "site.toml", l2, c2),
                (NODE_IN_CLUSTER_CIDR, "site.toml", l1, c1),
            ],
        );
    }
}
