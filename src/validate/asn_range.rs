//! CB013 asn-range.
//!
//! What: an AS number (Calico, a switch, a MetalLB peer) outside 1..=4294967295.
//! Why: BGP speakers refuse the session.
//! Fix: use the ASN your network team assigned, or a private one.

use crate::diagnostics::{ASN_RANGE, Diagnostic};
use crate::site::Site;
use crate::site::types::Asn;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut asns: Vec<(&str, &toml::Spanned<Asn>)> = Vec::new();
    if let Some(bgp) = site.spec.calico.as_ref().and_then(|c| c.bgp.as_ref()) {
        asns.push(("the cluster ASN", &bgp.asn));
        asns.extend(bgp.peer.iter().map(|p| ("a BGP peer's ASN", &p.asn)));
    }
    if let Some(bgp) = site.spec.cilium.as_ref().and_then(|c| c.bgp.as_ref()) {
        asns.push(("Cilium's ASN", &bgp.asn));
        asns.extend(bgp.peer.iter().map(|p| ("a BGP peer's ASN", &p.asn)));
    }
    for p in site.spec.metallb.iter().flat_map(|m| &m.peer) {
        asns.push(("a MetalLB peer's ASN", &p.asn));
        asns.push(("MetalLB's own ASN", &p.my_asn));
    }
    asns.into_iter()
        .filter(|(_, a)| !a.get_ref().is_valid())
        .map(|(what, a)| {
            Diagnostic::new(
                ASN_RANGE,
                format!("{what} {} is outside 1..=4294967295", a.get_ref()),
            )
            .at(site.file, a.span(), "out of range")
            .help(ASN_RANGE.info().fix)
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
    fn finds_zero_and_too_large() {
        let (site, src) = site_with(
            &[
                ("asn = 64501", "asn = 0"),
                ("asn = 64500", "asn = 4294967296"),
            ],
            &[],
        );
        let (l1, c1) = pos(SITE, "64501");
        let (l2, c2) = pos(SITE, "64500");
        assert_finds(
            &check(&site),
            &src,
            &[
                (ASN_RANGE, "site.toml", l1, c1),
                (ASN_RANGE, "site.toml", l2, c2),
            ],
        );
    }
}
