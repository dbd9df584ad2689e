//! CB026 capacity-mismatch (warning).
//!
//! What: the usable Ceph capacity computed from the OSD devices (raw / replicas x full
//! ratio 0.95) differs from `expected_usable` by more than 10%.
//! Why: a declared figure far from the hardware usually means a wrong device list or size.
//! Fix: check devices, replicas and the declared figure.

use crate::diagnostics::{CAPACITY_MISMATCH, Diagnostic};
use crate::site::Site;
use crate::site::types::human_bytes;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(expected) = site
        .spec
        .ceph
        .as_ref()
        .and_then(|c| c.expected_usable.as_ref())
    else {
        return Vec::new();
    };
    let (_, usable) = site.ceph_capacity();
    let want = expected.get_ref().value();
    if want > 0.0 && ((usable - want) / want).abs() <= 0.10 {
        return Vec::new();
    }
    vec![
        Diagnostic::new(
            CAPACITY_MISMATCH,
            format!(
                "the OSD devices give {} usable, but {} is expected",
                human_bytes(usable),
                expected.get_ref()
            ),
        )
        .at(site.file, expected.span(), "declared here")
        .help(CAPACITY_MISMATCH.info().fix),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;

    #[test]
    fn the_talks_106_tib_matches_the_hardware() {
        let (site, _) = site_with(&[], &[]);
        assert!(check(&site).is_empty());
        let (raw, usable) = site.ceph_capacity();
        assert_eq!(raw, 12.0 * 10.0 * 3.2e12);
        assert!((usable / 1024f64.powi(4) - 110.6).abs() < 0.1, "{usable}");
    }

    #[test]
    fn warns_on_a_far_figure() {
        let (site, src) = site_with(
            &[("expected_usable = \"106Ti\"", "expected_usable = \"200Ti\"")],
            &[],
        );
        let (l, c) = pos(SITE, "\"106Ti\"");
        assert_finds(
            &check(&site),
            &src,
            &[(CAPACITY_MISMATCH, "site.toml", l, c)],
        );
    }
}
