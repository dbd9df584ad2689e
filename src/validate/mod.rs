//! Stage `validate`: cross-field rules over the loaded `Site`. Each rule is a pure function
//! in its own file with a stable code; all rules run and every finding is reported.

mod acme_storage;
mod advertise;
mod alternatives;
mod asn_range;
mod bucket_owner;
mod calico_pod_pool;
mod capacity;
mod chart_defaults;
mod charts;
mod cidr_overlap;
mod control_plane;
mod cvmfs_repos;
mod dex_clients;
mod duplicate_instances;
mod duplicate_lb_ips;
mod duplicate_nodes;
mod duplicate_peers;
mod gateway_image;
mod gateway_version;
mod gpu;
mod gpu_capability;
mod gpu_nodes;
mod gpu_profiles;
mod images;
mod ip_pool_blocks;
mod kubernetes_support;
mod lb_ip_pool;
mod limits;
mod mon_count;
mod node_cidr;
mod obc_config;
mod osd_layout;
mod osds_per_device;
mod peer_subnet;
mod prefixed_names;
mod replica_hosts;
mod required_settings;
mod requirements;
mod rwo_rolling;
pub mod sealing_cert;
mod secret_size;
pub use secret_size::MAX_SECRET_BYTES;
mod secrets;
mod tenant_namespaces;
mod tenant_scope;
mod traefik_entry_points;
mod triton_users;
mod xcache_token_lifetime;

pub use kubernetes_support::supported_ranges;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::manifest::Manifest;
use crate::site::Site;

/// A rule: name and check function.
pub struct Rule {
    pub name: &'static str,
    pub check: fn(&Site) -> Vec<Diagnostic>,
}

/// Every rule, in the order they are documented.
pub static RULES: &[Rule] = &[
    Rule {
        name: "duplicate-nodes",
        check: duplicate_nodes::check,
    },
    Rule {
        name: "node-in-cluster-cidr",
        check: node_cidr::check,
    },
    Rule {
        name: "cidr-overlap",
        check: cidr_overlap::check,
    },
    Rule {
        name: "asn-range",
        check: asn_range::check,
    },
    Rule {
        name: "bgp-peer-subnet",
        check: peer_subnet::check,
    },
    Rule {
        name: "duplicate-peers",
        check: duplicate_peers::check,
    },
    Rule {
        name: "lb-ip-in-pool",
        check: lb_ip_pool::check,
    },
    Rule {
        name: "advertise-once",
        check: advertise::check,
    },
    Rule {
        name: "duplicate-lb-ips",
        check: duplicate_lb_ips::check,
    },
    Rule {
        name: "osd-layout",
        check: osd_layout::check,
    },
    Rule {
        name: "replica-hosts",
        check: replica_hosts::check,
    },
    Rule {
        name: "osds-per-device",
        check: osds_per_device::check,
    },
    Rule {
        name: "control-plane-quorum",
        check: control_plane::check,
    },
    Rule {
        name: "gpu-available",
        check: gpu::check,
    },
    Rule {
        name: "gpu-compute-capability",
        check: gpu_capability::check,
    },
    Rule {
        name: "capacity",
        check: capacity::check,
    },
    Rule {
        name: "ip-pool-blocks",
        check: ip_pool_blocks::check,
    },
    Rule {
        name: "duplicate-instances",
        check: duplicate_instances::check,
    },
    Rule {
        name: "dex-clients",
        check: dex_clients::check,
    },
    Rule {
        name: "pinned-images",
        check: images::check,
    },
    Rule {
        name: "cvmfs-repositories",
        check: cvmfs_repos::check,
    },
    Rule {
        name: "xcache-token-lifetime",
        check: xcache_token_lifetime::check,
    },
    Rule {
        name: "triton-not-served",
        check: triton_users::check,
    },
    Rule {
        name: "dask-gateway-image",
        check: gateway_image::check,
    },
    Rule {
        name: "dask-gateway-version",
        check: gateway_version::check,
    },
    Rule {
        name: "secrets",
        check: secrets::check,
    },
    Rule {
        name: "charts-pinned",
        check: charts::check,
    },
    Rule {
        name: "component-requirements",
        check: requirements::check,
    },
    Rule {
        name: "alternatives-conflict",
        check: alternatives::check,
    },
    Rule {
        name: "setting-required",
        check: required_settings::check,
    },
    Rule {
        name: "limit-below-guarantee",
        check: limits::check,
    },
    Rule {
        name: "gpu-profile-unavailable",
        check: gpu_profiles::check,
    },
    Rule {
        name: "gpu-node",
        check: gpu_nodes::check,
    },
    Rule {
        name: "prefixed-names",
        check: prefixed_names::check,
    },
    Rule {
        name: "mon-count",
        check: mon_count::check,
    },
    Rule {
        name: "secret-size",
        check: secret_size::check,
    },
    Rule {
        name: "kubernetes-support",
        check: kubernetes_support::check,
    },
    Rule {
        name: "calico-pod-pool",
        check: calico_pod_pool::check,
    },
    Rule {
        name: "bucket-owner",
        check: bucket_owner::check,
    },
    Rule {
        name: "traefik-entry-points",
        check: traefik_entry_points::check,
    },
];

/// A rule over the objects the templates render (what a template would emit, not what the
/// site says): run by `check` and `build` after render.
pub struct ManifestRule {
    pub name: &'static str,
    pub check: fn(&Site, &[Manifest]) -> Vec<Diagnostic>,
}

pub static MANIFEST_RULES: &[ManifestRule] = &[
    ManifestRule {
        name: "tenant-cluster-scoped",
        check: tenant_scope::check,
    },
    ManifestRule {
        name: "tenant-namespace",
        check: tenant_namespaces::check,
    },
    ManifestRule {
        name: "obc-config-allowed",
        check: obc_config::check,
    },
    ManifestRule {
        name: "rwo-recreate",
        check: rwo_rolling::check,
    },
    ManifestRule {
        name: "acme-storage",
        check: acme_storage::check,
    },
];

/// Runs every rule.
pub fn validate(site: &Site) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for rule in RULES {
        diags.extend((rule.check)(site));
    }
    diags
}

/// Runs every rule over the rendered objects.
pub fn validate_manifests(site: &Site, manifests: &[Manifest]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for rule in MANIFEST_RULES {
        diags.extend((rule.check)(site, manifests));
    }
    diags
}

#[cfg(test)]
pub(crate) mod testing {
    //! Rule tests: the reference site (Flatiron, with its CMS-Prod instance), edited by string
    //! replacement, run through `load` and one rule, asserting code and line:column.

    use crate::diagnostics::{Code, Diagnostic};
    use crate::site::{Site, load};
    use crate::sources::Sources;

    pub(crate) const SITE: &str = include_str!("../../site.toml");
    pub(crate) const INSTANCE: &str = include_str!("../../instances/cms-prod.toml");

    /// Loads the reference site with `site.toml` and the instance edited.
    #[track_caller]
    pub(crate) fn site_with(
        site_edit: &[(&str, &str)],
        inst_edit: &[(&str, &str)],
    ) -> (Site, Sources) {
        let mut s = SITE.to_owned();
        for (from, to) in site_edit {
            assert!(s.contains(from), "site.toml has no `{from}`");
            s = s.replacen(from, to, 1);
        }
        let mut i = INSTANCE.to_owned();
        for (from, to) in inst_edit {
            assert!(i.contains(from), "instance has no `{from}`");
            i = i.replacen(from, to, 1);
        }
        let mut sources = Sources::new();
        sources.add("site.toml", s);
        sources.add("instances/cms-prod.toml", i);
        let (site, diags) = load(&sources);
        let site = site.unwrap_or_else(|| panic!("site does not load: {diags:?}"));
        (site, sources)
    }

    /// Asserts the rule finds exactly the given (code, file, line, column) list.
    #[track_caller]
    pub(crate) fn assert_finds(
        found: &[Diagnostic],
        sources: &Sources,
        expected: &[(Code, &str, usize, usize)],
    ) {
        let got: Vec<_> = found
            .iter()
            .map(|d| {
                let (f, l, c) = d.location(sources).unwrap_or_default();
                (d.code, f, l, c)
            })
            .collect();
        let want: Vec<_> = expected
            .iter()
            .map(|(c, f, l, col)| (*c, (*f).to_owned(), *l, *col))
            .collect();
        assert_eq!(got, want, "{found:#?}");
    }

    /// 1-based line and column of the first occurrence of `needle` in `text`.
    #[track_caller]
    pub(crate) fn pos(text: &str, needle: &str) -> (usize, usize) {
        let at = text.find(needle).unwrap_or_else(|| panic!("no `{needle}`"));
        let line = text[..at].matches('\n').count() + 1;
        let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, col)
    }
}
