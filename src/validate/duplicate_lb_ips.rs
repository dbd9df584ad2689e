//! CB018 duplicate-lb-ip.
//!
//! What: two services ask for the same LoadBalancer address.
//! Why: MetalLB gives an address to one Service.
//! Fix: give each its own address.

use std::collections::HashMap;

use crate::diagnostics::{DUPLICATE_LB_IP, Diagnostic};
use crate::site::Site;
use crate::site::components::Address;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for Address { who, file, ip } in site.lb_addresses() {
        if let Some((first_who, first_file, first)) =
            seen.insert(*ip.get_ref(), (who.clone(), file, ip))
        {
            out.push(
                Diagnostic::new(
                    DUPLICATE_LB_IP,
                    format!("{who} and {first_who} both ask for {}", ip.get_ref()),
                )
                .at(file, ip.span(), "again here")
                .also(first_file, first.span(), "first here")
                .help(DUPLICATE_LB_IP.info().fix),
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
    fn finds_a_shared_address() {
        let (site, src) = site_with(&[], &[("\"198.51.100.11\"", "\"198.51.100.10\"")]);
        let (l, c) = pos(INSTANCE, "\"198.51.100.11\"");
        assert_finds(
            &check(&site),
            &src,
            &[(DUPLICATE_LB_IP, "instances/cms-prod.toml", l, c)],
        );
    }
}
