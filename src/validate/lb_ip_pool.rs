//! CB016 lb-ip-outside-pool.
//!
//! What: a fixed LoadBalancer address (cluster Traefik, Triton, an instance's proxy or Dask
//! Traefik) in no MetalLB pool.
//! Why: MetalLB only assigns from its pools; the Service stays pending.
//! Fix: pick an address inside a pool.

use crate::diagnostics::{Diagnostic, LB_IP_OUTSIDE_POOL};
use crate::site::Site;
use crate::site::components::Address;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let pools: Vec<String> = site
        .spec
        .metallb
        .pool
        .iter()
        .map(|p| {
            format!(
                "{} ({})",
                p.name,
                p.addresses
                    .iter()
                    .map(|a| a.get_ref().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    site.lb_addresses()
        .into_iter()
        .filter(|a| site.spec.metallb.pool_of(a.ip.get_ref()).is_none())
        .map(|Address { who, file, ip }| {
            Diagnostic::new(
                LB_IP_OUTSIDE_POOL,
                format!(
                    "{who} asks for {}, which is in no MetalLB pool",
                    ip.get_ref()
                ),
            )
            .at(file, ip.span(), "outside every pool")
            .help(format!(
                "pick an address in one of the pools: {}",
                pools.join("; ")
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
