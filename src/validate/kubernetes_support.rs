//! CB090 kubernetes-support.
//!
//! What: `[site] kubernetes_version` lies outside the Kubernetes releases a component the site
//! runs supports at its pinned version: Flux 2.9 (whose API versions and health-check
//! expressions the tree is written for), the Rook release, and each chart's `kubeVersion`
//! constraint, which Helm enforces before rendering anything.
//! Why: Flux refuses older clusters, Rook is not tested outside its range, Helm refuses the
//! chart; the tree would never reconcile.
//! Fix: target a version inside every range named (1.36 suits the pinned set), or pin
//! releases that support the cluster's version.
//!
//! A chart pinned at a version the table does not know is not judged (its range is not
//! known here); the table grows with the releases the project pins.

use crate::diagnostics::{Diagnostic, KUBERNETES_SUPPORT};
use crate::site::Site;

/// A Kubernetes version as `major.minor.patch`.
type Version = (u32, u32, u32);

/// What one component supports at one pinned release.
struct Support {
    component: &'static str,
    /// The chart key of `[charts]` and the versions the row is about (a prefix ending in `.`
    /// matches a release line); `None`: the row is about the tree itself (Flux).
    chart: Option<(&'static str, &'static str)>,
    what: &'static str,
    min: Version,
    /// The last supported minor release, when the upstream names one.
    max: Option<(u32, u32)>,
    source: &'static str,
}

static SUPPORT: &[Support] = &[
    Support {
        component: "flux",
        chart: None,
        what: "Flux 2.9, whose API versions and health-check expressions the tree uses",
        min: (1, 34, 1),
        max: Some((1, 36)),
        source: "fluxcd/flux2@v2.9.0 release notes, \"Kubernetes compatibility\" (conformance: .github/workflows/conformance.yaml)",
    },
    Support {
        component: "rook-ceph-operator",
        chart: Some(("rook-ceph", "v1.20.")),
        what: "Rook 1.20",
        min: (1, 31, 0),
        max: Some((1, 36)),
        source: "rook@v1.20.6:Documentation/Getting-Started/Prerequisites/prerequisites.md",
    },
    Support {
        component: "traefik",
        chart: Some(("traefik", "41.3.0")),
        what: "the traefik chart 41.3.0",
        min: (1, 25, 0),
        max: None,
        source: "traefik-helm-chart@v41.3.0:traefik/Chart.yaml kubeVersion",
    },
    Support {
        component: "jupyterhub",
        chart: Some(("jupyterhub", "4.4.0")),
        what: "the jupyterhub chart 4.4.0",
        min: (1, 28, 0),
        max: None,
        source: "zero-to-jupyterhub-k8s@4.4.0:jupyterhub/Chart.yaml kubeVersion",
    },
    Support {
        component: "dask",
        chart: Some(("dask-gateway", "2026.3.0")),
        what: "the dask-gateway chart 2026.3.0",
        min: (1, 30, 0),
        max: None,
        source: "dask-gateway@2026.3.0:resources/helm/dask-gateway/Chart.yaml kubeVersion",
    },
    Support {
        component: "metallb",
        chart: Some(("metallb", "0.16.1")),
        what: "the metallb chart 0.16.1",
        min: (1, 19, 0),
        max: None,
        source: "metallb@v0.16.1:charts/metallb/Chart.yaml kubeVersion",
    },
    Support {
        component: "dex",
        chart: Some(("dex", "0.24.0")),
        what: "the dex chart 0.24.0",
        min: (1, 14, 0),
        max: None,
        source: "dexidp/helm-charts@dex-0.24.0:charts/dex/Chart.yaml kubeVersion",
    },
    Support {
        component: "sealed-secrets",
        chart: Some(("sealed-secrets", "2.18.5")),
        what: "the sealed-secrets chart 2.18.5",
        min: (1, 16, 0),
        max: None,
        source: "sealed-secrets@helm-v2.18.5:helm/sealed-secrets/Chart.yaml kubeVersion",
    },
];

fn range(s: &Support) -> String {
    let (a, b, c) = s.min;
    let min = if c == 0 {
        format!("{a}.{b}")
    } else {
        format!("{a}.{b}.{c}")
    };
    match s.max {
        Some((x, y)) => format!("{min} to {x}.{y}"),
        None => format!("{min} or later"),
    }
}

/// The versions of a chart the site runs: the pinned one, and an instance's own for the hub.
fn versions_in_use<'a>(site: &'a Site, component: &str, chart: &str) -> Vec<&'a str> {
    let Some(c) = site.component(component).filter(|c| c.is_enabled(site)) else {
        return Vec::new();
    };
    let mut v: Vec<&str> = Vec::new();
    for at in c.targets(site) {
        if !(c.charts)(site, at).contains(&chart) {
            continue;
        }
        let own = at
            .instance()
            .and_then(|i| i.spec.hub_chart.as_deref())
            .filter(|_| chart == "jupyterhub");
        let pinned = site
            .spec
            .charts
            .get_ref()
            .get(chart)
            .map(|p| p.version.as_str());
        if let Some(version) = own.or(pinned)
            && !v.contains(&version)
        {
            v.push(version);
        }
    }
    v
}

/// Whether a row is about something the site runs at that release.
fn applies(site: &Site, s: &Support) -> bool {
    match s.chart {
        None => site.component(s.component).is_some(),
        Some((chart, release)) => versions_in_use(site, s.component, chart).iter().any(|v| {
            match release.strip_suffix('.') {
                Some(line) => v.starts_with(&format!("{line}.")),
                None => *v == release,
            }
        }),
    }
}

/// The supported ranges that bind the site, as `(component, what, range, source)`, for the
/// bootstrap notes.
pub fn supported_ranges(site: &Site) -> Vec<(&'static str, &'static str, String, &'static str)> {
    SUPPORT
        .iter()
        .filter(|s| applies(site, s))
        .map(|s| (s.component, s.what, range(s), s.source))
        .collect()
}

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let written = &site.spec.site.kubernetes_version;
    let v = *written.get_ref();
    let version = (v.release().major, v.release().minor, v.patch().unwrap_or(0));
    let mut out = Vec::new();
    for s in SUPPORT {
        let applies = applies(site, s);
        let above = s.max.is_some_and(|(x, y)| (version.0, version.1) > (x, y));
        if !applies || (version >= s.min && !above) {
            continue;
        }
        let mut help = format!("target Kubernetes {} (source: {})", range(s), s.source);
        if version.0 == s.min.0 && version.1 == s.min.1 && s.min.2 > 0 {
            help = format!(
                "{help}; a version without a patch level counts as .0: write the patch level, {}.{}.{} or later",
                s.min.0, s.min.1, s.min.2
            );
        }
        out.push(
            Diagnostic::new(
                KUBERNETES_SUPPORT,
                format!(
                    "component `{}` supports Kubernetes {}, not {}: {}",
                    s.component,
                    range(s),
                    written.get_ref(),
                    s.what
                ),
            )
            .at(site.file, written.span(), "the cluster's version")
            .help(help),
        );
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
    fn the_talks_1_27_is_too_old_for_flux_rook_and_the_hub_chart() {
        let (site, src) = site_with(
            &[(
                "kubernetes_version = \"1.36\"",
                "kubernetes_version = \"1.27.6\"",
            )],
            &[],
        );
        let (l, c) = pos(SITE, "\"1.36\"");
        let found = check(&site);
        let names: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        // The instance of the fixture runs no dask-gateway, so its chart is not judged.
        assert_eq!(found.len(), 3, "{names:?}");
        assert_finds(
            &found[..1],
            &src,
            &[(KUBERNETES_SUPPORT, "site.toml", l, c)],
        );
        assert_eq!(
            names,
            [
                "component `flux` supports Kubernetes 1.34.1 to 1.36, not 1.27.6: Flux 2.9, whose API versions and health-check expressions the tree uses",
                "component `rook-ceph-operator` supports Kubernetes 1.31 to 1.36, not 1.27.6: Rook 1.20",
                "component `jupyterhub` supports Kubernetes 1.28 or later, not 1.27.6: the jupyterhub chart 4.4.0",
            ]
        );
    }

    #[test]
    fn newer_than_flux_and_rook_support() {
        let (site, _) = site_with(
            &[(
                "kubernetes_version = \"1.36\"",
                "kubernetes_version = \"1.37\"",
            )],
            &[],
        );
        let found = check(&site);
        assert_eq!(found.len(), 2);
        assert!(found[0].message.starts_with("component `flux`"));
        assert!(
            found[1]
                .message
                .starts_with("component `rook-ceph-operator`")
        );
    }

    #[test]
    fn flux_needs_the_patch_level_on_1_34() {
        let (site, _) = site_with(
            &[(
                "kubernetes_version = \"1.36\"",
                "kubernetes_version = \"1.34\"",
            )],
            &[],
        );
        let found = check(&site);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("1.34.1 or later")
        );
        let (site, _) = site_with(
            &[(
                "kubernetes_version = \"1.36\"",
                "kubernetes_version = \"1.34.1\"",
            )],
            &[],
        );
        assert!(check(&site).is_empty());
    }

    #[test]
    fn a_release_the_table_does_not_know_is_not_judged() {
        let (site, _) = site_with(
            &[
                (
                    "kubernetes_version = \"1.36\"",
                    "kubernetes_version = \"1.27\"",
                ),
                ("version = \"v1.20.6\"", "version = \"v1.21.0\""),
            ],
            &[],
        );
        assert!(!check(&site).iter().any(|d| d.message.contains("Rook")));
    }
}
