//! CB103 ceph-mon-count.
//!
//! What: `[ceph] mon_count` of 0, an even number, more than 9, more than the site has nodes,
//! or fewer than 3 on a site with a production instance.
//! Why: monitors keep quorum by majority: 2 tolerate no failure (as 1), 4 one (as 3), and a
//! single monitor lost stops every pool of a production hub. Rook replaces 0 by its default
//! of 3 with only a warning in its log (rook/rook@v1.20.6 pkg/operator/ceph/cluster/cluster.go
//! "mon count should be at least 1"), refuses more than 9 (pkg/apis/ceph.rook.io/v1/types.go
//! `MonSpec.Count` `Maximum=9`), and with `allowMultiplePerNode: false`, as the tree sets it,
//! cannot start more monitors than there are nodes (cluster.go "cannot start %d mons on %d
//! node(s)").
//! Fix: 3 monitors (5 on large sites); 1 only on a test site without production instances.

use crate::diagnostics::{CEPH_MON_COUNT, Diagnostic};
use crate::site::{Site, Stage};

/// Rook's largest monitor count.
const MAX_MONS: u32 = 9;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(ceph) = &site.spec.ceph else {
        return Vec::new();
    };
    let count = &ceph.mon_count;
    let n = *count.get_ref();
    let prod = site
        .instances
        .iter()
        .find(|i| i.spec.instance.stage == Stage::Prod);
    let problem = if n == 0 {
        Some("0 monitors: Rook would silently run its default of 3".to_owned())
    } else if n > MAX_MONS {
        Some(format!("{n} monitors: Rook accepts at most {MAX_MONS}"))
    } else if n % 2 == 0 {
        Some(format!(
            "{n} monitors: an even count tolerates no more failures than {}",
            n - 1
        ))
    } else if n as usize > site.nodes.len() {
        Some(format!(
            "{n} monitors on {} node(s): Rook runs one monitor per node",
            site.nodes.len()
        ))
    } else if n < 3
        && let Some(i) = prod
    {
        Some(format!(
            "{n} monitor with a production instance (`{}`): losing it stops every pool",
            i.spec.instance.name.get_ref()
        ))
    } else {
        None
    };
    problem
        .map(|message| {
            Diagnostic::new(CEPH_MON_COUNT, message)
                .at(site.file, count.span(), "monitor count")
                .help(CEPH_MON_COUNT.info().fix)
        })
        .into_iter()
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
    fn zero_even_too_many_and_one_in_production_are_refused() {
        let (l, c) = pos(SITE, "mon_count = 3");
        let c = c + "mon_count = ".len();
        for bad in ["0", "2", "4", "11", "1"] {
            let (site, src) = site_with(&[("mon_count = 3", &format!("mon_count = {bad}"))], &[]);
            assert_finds(&check(&site), &src, &[(CEPH_MON_COUNT, "site.toml", l, c)]);
        }
        // One monitor is fine on a site whose instances are all dev.
        let (site, _) = site_with(
            &[("mon_count = 3", "mon_count = 1")],
            &[("stage = \"prod\"", "stage = \"dev\"")],
        );
        assert!(check(&site).is_empty());
    }
}
