//! CB024 control-plane-quorum.
//!
//! What: fewer than 3 control-plane/etcd nodes (error), or an even number (warning).
//! Why: etcd needs a majority. 1 or 2 members survive no failure; 4 survive one, like 3, so
//! the even count costs a machine and buys nothing, but works: hence only a warning.
//! Fix: run 3 or 5.

use crate::diagnostics::{CONTROL_PLANE_QUORUM, Diagnostic, Severity};
use crate::site::{Role, Site};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    // A site that does not run its control plane (a tenant, a managed cluster) has none to
    // check.
    let Some(cp) = &site.spec.control_plane else {
        return Vec::new();
    };
    let n = site.nodes_with(Role::ControlPlane).count();
    let vip = &cp.vip;
    let d = |sev: Severity, msg: String| {
        Diagnostic::new(CONTROL_PLANE_QUORUM, msg)
            .severity(sev)
            .at(site.file, vip.span(), "the control plane's endpoint")
            .help(CONTROL_PLANE_QUORUM.info().fix)
    };
    if n < 3 {
        vec![d(
            Severity::Error,
            format!("{n} control-plane/etcd node(s): etcd loses quorum on the first failure"),
        )]
    } else if n.is_multiple_of(2) {
        vec![d(
            Severity::Warning,
            format!(
                "{n} control-plane/etcd nodes: an even count tolerates no more failures than {}",
                n - 1
            ),
        )]
    } else {
        Vec::new()
    }
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
    fn two_is_an_error_four_a_warning() {
        let (l, c) = pos(SITE, "\"192.0.2.10\"");
        let (site, src) = site_with(
            &[("prefix = \"cp-\"\ncount = 3", "prefix = \"cp-\"\ncount = 2")],
            &[],
        );
        let found = check(&site);
        assert_finds(&found, &src, &[(CONTROL_PLANE_QUORUM, "site.toml", l, c)]);
        assert!(found[0].is_error());
        let (site, src) = site_with(
            &[("prefix = \"cp-\"\ncount = 3", "prefix = \"cp-\"\ncount = 4")],
            &[],
        );
        let found = check(&site);
        assert_finds(&found, &src, &[(CONTROL_PLANE_QUORUM, "site.toml", l, c)]);
        assert_eq!(found[0].severity, Severity::Warning);
    }
}
