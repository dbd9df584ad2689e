//! CB017 double-advertised.
//!
//! What: MetalLB speaks BGP on a site where Calico holds the BGP sessions, or a pool is left
//! to Calico on a site where Calico has no BGP.
//! Why: Calico and MetalLB's speaker both want the one BGP session per node and switch; a
//! range neither announces is never routed.
//! Fix: let Calico announce (`advertise = "calico"`) and keep MetalLB to allocation, or use L2.

use crate::diagnostics::{DOUBLE_ADVERTISED, Diagnostic};
use crate::site::{Advertiser, Site};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(metallb) = &site.spec.metallb else {
        return Vec::new();
    };
    let calico_bgp = site
        .spec
        .calico
        .as_ref()
        .and_then(|c| c.bgp.as_ref())
        .is_some_and(|b| !b.peer.is_empty());
    let mut out = Vec::new();
    for p in &metallb.pool {
        match p.advertise.get_ref() {
            Advertiser::MetallbBgp if calico_bgp => out.push(
                Diagnostic::new(DOUBLE_ADVERTISED, format!("MetalLB pool `{}` is announced by MetalLB over BGP, but Calico already peers with the switches", p.name))
                    .at(site.file, p.advertise.span(), "MetalLB BGP")
                    .help(DOUBLE_ADVERTISED.info().fix),
            ),
            Advertiser::Calico if !calico_bgp => out.push(
                Diagnostic::new(DOUBLE_ADVERTISED, format!("MetalLB pool `{}` is left to Calico, but Calico has no BGP peers: nobody announces it", p.name))
                    .at(site.file, p.advertise.span(), "nobody announces this")
                    .help("add [calico.bgp] peers, or use advertise = \"metallb-l2\""),
            ),
            _ => {}
        }
    }
    if calico_bgp && !metallb.peer.is_empty() {
        out.push(
            Diagnostic::new(
                DOUBLE_ADVERTISED,
                "MetalLB has its own BGP peers beside Calico's BGP sessions",
            )
            .at(site.file, metallb.peer[0].ip.span(), "MetalLB peer")
            .help(DOUBLE_ADVERTISED.info().fix),
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
    fn finds_metallb_bgp_beside_calico() {
        let (site, src) = site_with(
            &[("advertise = \"calico\"", "advertise = \"metallb-bgp\"")],
            &[],
        );
        let (l, c) = pos(SITE, "\"calico\"\n");
        assert_finds(
            &check(&site),
            &src,
            &[(DOUBLE_ADVERTISED, "site.toml", l, c)],
        );
    }
}
