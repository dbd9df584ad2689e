//! CB028 ip-pool-blocks.
//!
//! What: a Calico IP pool whose block size is outside 20..=32 (IPv4) or that holds fewer
//! blocks than the site has nodes.
//! Why: Calico refuses the size; a node without a block gets no pod addresses.
//! Fix: a larger pool or a larger block prefix.

use crate::diagnostics::{Diagnostic, IP_POOL_BLOCKS};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let nodes = site.nodes.len() as u128;
    let mut out = Vec::new();
    for p in site.spec.calico.iter().flat_map(|c| &c.ip_pool) {
        let bs = *p.block_size.get_ref();
        let max = if p.cidr.get_ref().net().addr().is_ipv4() {
            32
        } else {
            128
        };
        let min = if max == 32 { 20 } else { 116 };
        if !(min..=max).contains(&bs) || bs < p.cidr.get_ref().prefix_len() {
            out.push(
                Diagnostic::new(
                    IP_POOL_BLOCKS,
                    format!(
                        "block size /{bs} is outside /{min}../{max} or larger than the pool {}",
                        p.cidr.get_ref()
                    ),
                )
                .at(site.file, p.block_size.span(), "block size")
                .help("Calico's default is 26 for IPv4, 122 for IPv6"),
            );
            continue;
        }
        let blocks = 1u128 << (bs - p.cidr.get_ref().prefix_len()).min(127);
        if blocks < nodes {
            out.push(
                Diagnostic::new(
                    IP_POOL_BLOCKS,
                    format!(
                        "pool {} holds {blocks} blocks of /{bs} for {nodes} nodes",
                        p.cidr.get_ref()
                    ),
                )
                .at(site.file, p.cidr.span(), "too small")
                .help(IP_POOL_BLOCKS.info().fix),
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
    fn finds_a_bad_size_and_too_few_blocks() {
        let (site, src) = site_with(&[("block_size = 26", "block_size = 19")], &[]);
        let (l, c) = pos(SITE, "block_size = 26");
        assert_finds(
            &check(&site),
            &src,
            &[(IP_POOL_BLOCKS, "site.toml", l, c + "block_size = ".len())],
        );
        let (site, src) = site_with(&[("block_size = 26", "block_size = 20")], &[]);
        let (l, c) = pos(SITE, "\"10.244.0.0/16\"\nblock");
        assert_finds(&check(&site), &src, &[(IP_POOL_BLOCKS, "site.toml", l, c)]);
    }
}
