//! CB015 duplicate-bgp-peer.
//!
//! What: two Calico BGP peers with the same name or address.
//! Why: one session per peer; duplicates flap.
//! Fix: remove one entry.

use std::collections::HashMap;

use crate::diagnostics::{DUPLICATE_PEER, Diagnostic};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(bgp) = site.spec.calico.as_ref().and_then(|c| c.bgp.as_ref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut names = HashMap::new();
    let mut ips = HashMap::new();
    for p in &bgp.peer {
        if let Some(first) = names.insert(p.name.get_ref().as_str(), p.name.span()) {
            out.push(
                Diagnostic::new(
                    DUPLICATE_PEER,
                    format!("BGP peer `{}` is defined twice", p.name.get_ref()),
                )
                .at(site.file, p.name.span(), "again here")
                .also(site.file, first, "first here")
                .help("remove one of the entries"),
            );
        }
        if let Some(first) = ips.insert(*p.ip.get_ref(), p.ip.span()) {
            out.push(
                Diagnostic::new(
                    DUPLICATE_PEER,
                    format!("two BGP peers share the address {}", p.ip.get_ref()),
                )
                .at(site.file, p.ip.span(), "again here")
                .also(site.file, first, "first here")
                .help("remove one of the entries"),
            );
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
    fn finds_a_repeated_peer_address() {
        let (site, src) = site_with(&[("ip = \"192.0.2.2\"", "ip = \"192.0.2.1\"")], &[]);
        let (l, c) = pos(SITE, "\"192.0.2.2\"");
        assert_finds(&check(&site), &src, &[(DUPLICATE_PEER, "site.toml", l, c)]);
    }
}
