//! CB091 calico-pod-pool.
//!
//! What: no `[[calico.ip_pool]]` lies inside `[network] pod_cidr`, or a pool overlaps the pod
//! CIDR without lying inside it.
//! Why: the pools inside the pod CIDR are the pods' own and go into the Calico operator's
//! `Installation` at bootstrap (out/BOOTSTRAP.md), where each must lie inside kubeadm's
//! podSubnet ("IPPool ... is not within the platform's configured pod network CIDR(s)",
//! tigera/operator@v1.42.3:pkg/controller/ippool/defaults.go `mergePlatformPodCIDRs`). With
//! none, the operator makes its own pool over the whole pod CIDR with its defaults (IPIP,
//! not what the site describes), and a pool Flux applies later over the same addresses is
//! refused for the overlap (calico@v3.32.1:libcalico-go/lib/clientv3/ippool.go). A pool
//! half inside fits neither place.
//! Fix: a pool whose cidr lies inside the pod CIDR (usually equal to it); every other pool
//! outside it.

use crate::diagnostics::{CALICO_POD_POOL, Diagnostic};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    // Without Calico, or without a pod CIDR to hold its pools to, there is nothing to match.
    let (Some(calico), Some(net)) = (&site.spec.calico, &site.spec.network) else {
        return Vec::new();
    };
    let pod = net.pod_cidr.get_ref();
    let mut out = Vec::new();
    for p in &calico.ip_pool {
        if !p.is_pod_pool(Some(net)) && p.cidr.get_ref().overlaps(pod) {
            out.push(
                Diagnostic::new(
                    CALICO_POD_POOL,
                    format!(
                        "Calico IP pool `{}` ({}) straddles the pod CIDR {pod}: it is neither the pods' pool nor apart from it",
                        p.name,
                        p.cidr.get_ref()
                    ),
                )
                .at(site.file, p.cidr.span(), "partly inside the pod CIDR")
                .also(site.file, net.pod_cidr.span(), "the pod CIDR")
                .help(CALICO_POD_POOL.info().fix),
            );
        }
    }
    if site.calico_pod_pools().next().is_none() {
        out.push(
            Diagnostic::new(
                CALICO_POD_POOL,
                format!(
                    "no Calico IP pool lies inside the pod CIDR {pod}: the operator would make its own default pool (IPIP) for the pods"
                ),
            )
            .at(site.file, net.pod_cidr.span(), "no pool inside")
            .help(CALICO_POD_POOL.info().fix),
        );
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
    fn a_pool_beside_the_pod_cidr_leaves_the_pods_without_one() {
        let (site, src) = site_with(
            &[("\ncidr = \"10.244.0.0/16\"", "\ncidr = \"10.245.0.0/16\"")],
            &[],
        );
        let (l, c) = pos(SITE, "\"10.244.0.0/16\"\nservice_cidr");
        assert_finds(&check(&site), &src, &[(CALICO_POD_POOL, "site.toml", l, c)]);
    }

    #[test]
    fn a_pool_straddling_the_pod_cidr() {
        let (site, src) = site_with(
            &[("\ncidr = \"10.244.0.0/16\"", "\ncidr = \"10.244.0.0/15\"")],
            &[],
        );
        let (l, c) = pos(SITE, "\"10.244.0.0/16\"\nblock_size");
        let (pl, pc) = pos(SITE, "\"10.244.0.0/16\"\nservice_cidr");
        let found = check(&site);
        // The straddling pool, and then no pod pool at all.
        assert_finds(
            &found,
            &src,
            &[
                (CALICO_POD_POOL, "site.toml", l, c),
                (CALICO_POD_POOL, "site.toml", pl, pc),
            ],
        );
    }
}
