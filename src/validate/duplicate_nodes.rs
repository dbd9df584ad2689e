//! CB010 duplicate-node.
//!
//! What: two nodes with the same name or the same address.
//! Why: node names are Kubernetes node names; addresses are unique on the node network.
//! Fix: rename or renumber one of them.

use std::collections::HashMap;

use crate::diagnostics::{DUPLICATE_NODE, Diagnostic};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut names = HashMap::new();
    let mut ips = HashMap::new();
    for n in &site.nodes {
        if let Some(first) = names.insert(n.name.as_str(), n) {
            out.push(
                Diagnostic::new(
                    DUPLICATE_NODE,
                    format!("node `{}` is defined twice", n.name),
                )
                .at(site.file, n.name_span.clone(), "defined again here")
                .also(site.file, first.name_span.clone(), "first defined here")
                .help("node names must be unique; rename one of them"),
            );
        }
        let Some(ip) = n.ip else {
            continue;
        };
        if let Some(first) = ips.insert(ip, n) {
            out.push(
                Diagnostic::new(
                    DUPLICATE_NODE,
                    format!(
                        "nodes `{}` and `{}` share the address {}",
                        first.name, n.name, ip
                    ),
                )
                .at(site.file, n.ip_span.clone(), "used again here")
                .also(site.file, first.ip_span.clone(), "first used here")
                .help("give each node its own address"),
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
        let (site, _) = site_with(&[], &[]);
        assert!(check(&site).is_empty());
    }

    #[test]
    fn finds_a_shared_address() {
        let (site, src) = site_with(&[("ip = \"192.0.2.42\"", "ip = \"192.0.2.41\"")], &[]);
        let (l, c) = pos(SITE, "\"192.0.2.42\"");
        assert_finds(&check(&site), &src, &[(DUPLICATE_NODE, "site.toml", l, c)]);
    }

    #[test]
    fn finds_a_shared_name() {
        let (site, src) = site_with(&[("name = \"gpu-02\"", "name = \"gpu-01\"")], &[]);
        let (l, c) = pos(SITE, "\"gpu-02\"");
        assert_finds(&check(&site), &src, &[(DUPLICATE_NODE, "site.toml", l, c)]);
    }
}
