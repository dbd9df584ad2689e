//! CB014 bgp-peer-off-subnet.
//!
//! What: a BGP peer (Calico's or MetalLB's) whose address is outside the node subnet.
//! Why: top-of-rack peers are directly connected; another address needs multihop.
//! Fix: use the switch's address on the node subnet.

use crate::diagnostics::{Diagnostic, PEER_OFF_SUBNET};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(net) = &site.spec.network else {
        return Vec::new();
    };
    let subnet = &net.node_subnet;
    let calico = site
        .spec
        .calico
        .iter()
        .flat_map(|c| &c.bgp)
        .flat_map(|b| b.peer.iter().map(|p| (p.name.get_ref().as_str(), &p.ip)));
    let cilium = site
        .spec
        .cilium
        .iter()
        .flat_map(|c| &c.bgp)
        .flat_map(|b| b.peer.iter().map(|p| (p.name.get_ref().as_str(), &p.ip)));
    let metallb = site
        .spec
        .metallb
        .iter()
        .flat_map(|m| &m.peer)
        .map(|p| (p.name.as_str(), &p.ip));
    calico
        .chain(cilium)
        .chain(metallb)
        .filter(|(_, ip)| !subnet.get_ref().contains(ip.get_ref()))
        .map(|(name, ip)| {
            Diagnostic::new(
                PEER_OFF_SUBNET,
                format!(
                    "BGP peer `{name}` at {} is outside the node subnet {}",
                    ip.get_ref(),
                    subnet.get_ref()
                ),
            )
            .at(site.file, ip.span(), "not on the node subnet")
            .also(site.file, subnet.span(), "node subnet")
            .help(PEER_OFF_SUBNET.info().fix)
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
    fn finds_an_off_subnet_peer() {
        let (site, src) = site_with(&[("ip = \"192.0.2.2\"", "ip = \"192.0.3.2\"")], &[]);
        let (l, c) = pos(SITE, "\"192.0.2.2\"");
        assert_finds(&check(&site), &src, &[(PEER_OFF_SUBNET, "site.toml", l, c)]);
    }
}
