//! CB089 dask-gateway-version.
//!
//! What: the dask-gateway version an instance's gateway image carries (`[dask.gateway]
//! dask_gateway`) differs from the pinned chart (`[charts.dask-gateway] version`).
//! Why: the scheduler preload and the workers in the image talk to the gateway server the
//! chart runs; dask-gateway supports only matching versions ("we recommend always using
//! the same version as deployed on the dask-gateway-server", dask/dask-gateway@2026.3.0
//! docs/source/install-kube.rst; the client "should match", install-user.rst).
//! Fix: use an image with the chart's dask-gateway version, or pin the chart to the
//! image's.

use crate::diagnostics::{DASK_GATEWAY_VERSION, Diagnostic};
use crate::site::{DaskMode, Site};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(chart) = site.spec.charts.get_ref().get("dask-gateway") else {
        // No pinned chart is the chart rule's finding (CB0xx charts), not this one's.
        return Vec::new();
    };
    site.instances
        .iter()
        .filter_map(|i| i.spec.dask.as_ref().map(|d| (i, d)))
        .filter(|(_, d)| *d.mode.get_ref() == DaskMode::Gateway)
        .filter_map(|(i, d)| d.gateway.as_ref().map(|g| (i, g)))
        .filter(|(_, g)| g.dask_gateway.get_ref() != &chart.version)
        .map(|(i, g)| {
            Diagnostic::new(
                DASK_GATEWAY_VERSION,
                format!(
                    "the gateway image carries dask-gateway {}, the site runs the chart at {}",
                    g.dask_gateway.get_ref(),
                    chart.version
                ),
            )
            .at(i.file, g.dask_gateway.span(), "the image's dask-gateway")
            .help(format!(
                "use an image with dask-gateway {} (ghcr.io/dask/dask-gateway:{} is the chart's own), or pin [charts.dask-gateway] to the image's version",
                chart.version, chart.version
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;

    const TIER2: &str = "mode = \"tier2\"";

    fn gateway(version: &str) -> String {
        format!(
            "mode = \"gateway\"\ngateway = {{ image = \"ghcr.io/dask/dask-gateway:{version}\", dask_gateway = \"{version}\" }}"
        )
    }

    #[test]
    fn passes_when_the_versions_match() {
        let g = gateway("2026.3.0");
        let (site, _) = site_with(&[], &[(TIER2, &g)]);
        assert!(check(&site).is_empty());
    }

    #[test]
    fn finds_an_image_of_another_release() {
        let g = gateway("2025.4.0");
        let (site, src) = site_with(&[], &[(TIER2, &g)]);
        let edited = INSTANCE.replacen(TIER2, &g, 1);
        let (l, c) = pos(&edited, "dask_gateway = \"2025.4.0\"");
        let c = c + "dask_gateway = ".len();
        assert_finds(
            &check(&site),
            &src,
            &[(DASK_GATEWAY_VERSION, "instances/cms-prod.toml", l, c)],
        );
    }
}
