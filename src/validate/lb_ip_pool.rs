//! CB016 lb-ip-outside-pool.
//!
//! What: a fixed LoadBalancer address (cluster Traefik, Triton, an instance's proxy or Dask
//! Traefik) in no MetalLB or Cilium LB IPAM pool.
//! Why: the LoadBalancer only assigns from its pools; the Service stays pending.
//! Fix: pick an address inside a pool.

use crate::diagnostics::{Diagnostic, LB_IP_OUTSIDE_POOL};
use crate::site::components::Address;
use crate::site::{ClusterService, Site};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let pools = site.lb_pools();
    if pools.is_empty() {
        // The cluster's own LoadBalancer (a cloud's, the owner's MetalLB) hands out its
        // addresses: a fixed one cannot be asked for. With no LoadBalancer at all the
        // addresses have no provider, which CB038 says.
        if !site.cluster_provides(ClusterService::LoadBalancer) {
            return Vec::new();
        }
        return site
            .lb_addresses()
            .into_iter()
            .map(|Address { who, file, ip }| {
                Diagnostic::new(
                    LB_IP_OUTSIDE_POOL,
                    format!(
                        "{who} asks for {}, but the site has no address pool: the cluster's LoadBalancer assigns addresses itself",
                        ip.get_ref()
                    ),
                )
                .at(file, ip.span(), "a fixed address")
                .help("leave the address out (the Service gets one from the cluster), or configure pools ([[metallb.pool]] or [[cilium.lb_pool]])")
            })
            .collect();
    }
    let provider = if site.spec.metallb.is_some() {
        "MetalLB"
    } else {
        "Cilium LB IPAM"
    };
    let listed: Vec<String> = pools
        .iter()
        .map(|p| {
            format!(
                "{} ({})",
                p.what.split('`').nth(1).unwrap_or(&p.what),
                p.addresses
                    .iter()
                    .map(|a| a.get_ref().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let in_a_pool = |ip: &std::net::IpAddr| {
        pools
            .iter()
            .any(|p| p.addresses.iter().any(|c| c.get_ref().contains(ip)))
    };
    site.lb_addresses()
        .into_iter()
        .filter(|a| !in_a_pool(a.ip.get_ref()))
        .map(|Address { who, file, ip }| {
            Diagnostic::new(
                LB_IP_OUTSIDE_POOL,
                format!(
                    "{who} asks for {}, which is in no {provider} pool",
                    ip.get_ref()
                ),
            )
            .at(file, ip.span(), "outside every pool")
            .help(format!(
                "pick an address in one of the pools: {}",
                listed.join("; ")
            ))
        })
        .collect()
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
    fn a_fixed_address_from_the_clusters_own_load_balancer_is_refused() {
        let metallb = &SITE[SITE.find("# Calico announces the LoadBalancer").unwrap()
            ..SITE.find("[ceph]").unwrap()];
        let version = "kubernetes_version = \"1.36\"";
        let provided = "kubernetes_version = \"1.36\"\ncluster_provides = [\"load-balancer\"]";
        let (site, src) = site_with(&[(metallb, ""), (version, provided)], &[]);
        let edited = SITE.replacen(metallb, "", 1).replacen(version, provided, 1);
        let (l, c) = pos(&edited, "\"198.51.100.5\"");
        let found: Vec<_> = check(&site)
            .into_iter()
            .filter(|d| d.message.contains("cluster Traefik"))
            .collect();
        assert_finds(&found, &src, &[(LB_IP_OUTSIDE_POOL, "site.toml", l, c)]);
        assert!(
            found[0].message.contains("assigns addresses itself"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn finds_traefik_and_an_instance_outside_the_pools() {
        let (site, src) = site_with(
            &[("lb_ip = \"198.51.100.5\"", "lb_ip = \"198.51.100.64\"")],
            &[("\"198.51.100.11\"", "\"192.0.2.200\"")],
        );
        let (l1, c1) = pos(SITE, "\"198.51.100.5\"");
        let (l2, c2) = pos(INSTANCE, "\"198.51.100.11\"");
        assert_finds(
            &check(&site),
            &src,
            &[
                (LB_IP_OUTSIDE_POOL, "site.toml", l1, c1),
                (LB_IP_OUTSIDE_POOL, "instances/cms-prod.toml", l2, c2),
            ],
        );
    }
}
