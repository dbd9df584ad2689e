//! CB023 osds-per-device.
//!
//! What: `osds_per_device` outside 1..=8.
//! Why: zero creates no OSD; more than 8 per drive exhausts memory and CPU.
//! Fix: 1 to 8 (Flatiron runs 5 per 3.2 TB NVMe drive).

use crate::diagnostics::{Diagnostic, OSDS_PER_DEVICE};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(ceph) = &site.spec.ceph else {
        return Vec::new();
    };
    let n = &ceph.osds_per_device;
    if (1..=8).contains(n.get_ref()) {
        return Vec::new();
    }
    vec![
        Diagnostic::new(
            OSDS_PER_DEVICE,
            format!("osds_per_device is {}; it must be from 1 to 8", n.get_ref()),
        )
        .at(site.file, n.span(), "out of range")
        .help(OSDS_PER_DEVICE.info().fix),
    ]
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
    fn finds_nine() {
        let (site, src) = site_with(&[("osds_per_device = 5", "osds_per_device = 9")], &[]);
        let (l, c) = pos(SITE, "5                         # real");
        assert_finds(&check(&site), &src, &[(OSDS_PER_DEVICE, "site.toml", l, c)]);
    }
}
