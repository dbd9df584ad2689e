//! CB022 replica-exceeds-hosts.
//!
//! What: a pool (block, CephFS, object store) with more replicas than failure domains
//! (hosts or racks) holding OSDs.
//! Why: each replica must sit in a different failure domain; the pool never becomes healthy.
//! Fix: lower the replica size or add OSD hosts.

use std::collections::{HashMap, HashSet};

use crate::diagnostics::{Diagnostic, REPLICA_EXCEEDS_HOSTS};
use crate::site::types::LabelValue;
use crate::site::{FailureDomain, Site};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(ceph) = &site.spec.ceph else {
        return Vec::new();
    };
    let plan = site.osd_plan();
    // Rack of each node by name, built once: a `site.node()` scan per OSD host is quadratic in
    // the node count. The first definition wins, as with `site.node()`.
    let mut racks: HashMap<&str, Option<&LabelValue>> = HashMap::new();
    for n in &site.nodes {
        racks.entry(n.name.as_str()).or_insert(n.rack.as_ref());
    }
    let domains: HashSet<String> = plan
        .iter()
        .filter(|p| !p.devices.is_empty())
        .map(|p| match ceph.failure_domain {
            FailureDomain::Host => p.node.clone(),
            FailureDomain::Rack => racks
                .get(p.node.as_str())
                .copied()
                .flatten()
                .map_or_else(|| p.node.clone(), |r| r.to_string()),
        })
        .collect();
    let what = match ceph.failure_domain {
        FailureDomain::Host => "OSD hosts",
        FailureDomain::Rack => "racks with OSDs",
    };
    let mut pools = vec![(
        format!("block pool `{}`", ceph.block_pool.name),
        &ceph.block_pool.replicas,
    )];
    if let Some(fs) = &ceph.filesystem {
        pools.push((format!("filesystem `{}`", fs.name), &fs.replicas));
    }
    if let Some(os) = &ceph.object_store {
        pools.push((
            format!("object store `{}`", os.name.get_ref()),
            &os.replicas,
        ));
    }
    // No OSD host at all: no replica count can help, so say what makes one.
    if domains.is_empty() {
        let role = ceph.osd_role.map_or_else(
            || "no `osd_role` is set".to_owned(),
            |r| format!("no node with the `{}` role has NVMe drives", r.as_str()),
        );
        return vec![
            Diagnostic::new(
                REPLICA_EXCEEDS_HOSTS,
                format!("Ceph has no OSD host: {role} and no [[ceph.osd_host]] is listed"),
            )
            .at(site.file, ceph.block_pool.replicas.span(), "no failure domain holds this pool")
            .help("give the storage nodes their role and `nvme` drives, list [[ceph.osd_host]] entries, or leave [ceph] out and name the cluster's StorageClasses in [storage]"),
        ];
    }
    pools
        .into_iter()
        .filter(|(_, r)| *r.get_ref() as usize > domains.len())
        .map(|(name, r)| {
            Diagnostic::new(
                REPLICA_EXCEEDS_HOSTS,
                format!(
                    "the {name} keeps {} replicas but the site has {} {what}",
                    r.get_ref(),
                    domains.len()
                ),
            )
            .at(site.file, r.span(), "replica size")
            .help(REPLICA_EXCEEDS_HOSTS.info().fix)
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
    fn finds_three_replicas_on_two_hosts() {
        let (site, src) = site_with(
            &[(
                "prefix = \"r750-\"\ncount = 12",
                "prefix = \"r750-\"\ncount = 2",
            )],
            &[],
        );
        let mut found: Vec<_> = check(&site);
        found.truncate(1);
        let (l, c) = pos(SITE, "replicas = 3");
        assert_finds(
            &found,
            &src,
            &[(
                REPLICA_EXCEEDS_HOSTS,
                "site.toml",
                l,
                c + "replicas = ".len(),
            )],
        );
    }

    #[test]
    fn no_osd_host_at_all_asks_for_hosts_not_fewer_replicas() {
        let (site, src) = site_with(
            &[("roles = [\"worker\", \"storage\"]", "roles = [\"worker\"]")],
            &[],
        );
        let found = check(&site);
        let (l, c) = pos(SITE, "replicas = 3");
        assert_finds(
            &found,
            &src,
            &[(
                REPLICA_EXCEEDS_HOSTS,
                "site.toml",
                l,
                c + "replicas = ".len(),
            )],
        );
        assert!(
            found[0].message.contains("Ceph has no OSD host"),
            "{}",
            found[0].message
        );
        assert!(
            !found[0].help.as_deref().unwrap_or("").contains("lower"),
            "{:?}",
            found[0].help
        );
    }

    #[test]
    fn counts_racks_when_the_failure_domain_is_the_rack() {
        // Every OSD host of the reference site is in rack-a: one failure domain for three
        // replicas.
        let (site, _) = site_with(
            &[("failure_domain = \"host\"", "failure_domain = \"rack\"")],
            &[],
        );
        let found = check(&site);
        assert!(!found.is_empty());
        assert!(
            found.iter().all(|d| d.code == REPLICA_EXCEEDS_HOSTS
                && d.message.contains("but the site has 1 racks with OSDs")),
            "{found:?}"
        );
    }
}
