//! CB011 node-in-cluster-cidr.
//!
//! What: a node address inside the pod or the service CIDR.
//! Why: packets to the node would be routed into the cluster instead.
//! Fix: move the node or the cluster range.

use crate::diagnostics::{Diagnostic, NODE_IN_CLUSTER_CIDR};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let net = &site.spec.network;
    let mut out = Vec::new();
    for n in &site.nodes {
        for (what, cidr) in [("pod", &net.pod_cidr), ("service", &net.service_cidr)] {
            if cidr.get_ref().contains(&n.ip) {
                out.push(
                    Diagnostic::new(NODE_IN_CLUSTER_CIDR, format!("node `{}` address {} is inside the {what} CIDR {}", n.name, n.ip, cidr.get_ref()))
                        .at(site.file, n.ip_span.clone(), "node address")
                        .also(site.file, cidr.span(), format!("{what} CIDR"))
                        .help("node addresses belong to the node subnet, disjoint from the pod and service CIDRs"),
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
}
