//! CB088 dask-gateway-image.
//!
//! What: an instance runs Dask through dask-gateway (`[dask] mode = "gateway"`) with no
//! image declared able to run it (`[dask.gateway] image`).
//! Why: dask-gateway starts each scheduler with `--preload dask_gateway.scheduler_preload`
//! and needs `dask-gateway` in the scheduler and worker image (dask/dask-gateway@2026.3.0
//! docs/source/install-kube.rst: "it must have a compatible version of dask-gateway
//! installed"; dask-gateway-server/dask_gateway_server/backends/kubernetes/controller.py).
//! A site's worker images are made for its batch pools: the coffea-casa ones carry no
//! dask-gateway, so every cluster would fail to start. Whether an image has the package
//! cannot be seen from the site files, so the operator declares it, with the version.
//! Fix: add `[dask.gateway] image` (an image with dask-gateway) and `dask_gateway` (its
//! version), or scale out through HTCondor (`mode = "pool"` or `"tier2"`).

use crate::diagnostics::{DASK_GATEWAY_IMAGE, Diagnostic};
use crate::site::{DaskMode, Site};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    site.instances
        .iter()
        .filter_map(|i| i.spec.dask.as_ref().map(|d| (i, d)))
        .filter(|(_, d)| *d.mode.get_ref() == DaskMode::Gateway && d.gateway.is_none())
        .map(|(i, d)| {
            Diagnostic::new(
                DASK_GATEWAY_IMAGE,
                format!(
                    "instance `{}` runs dask-gateway with no image declared to carry it",
                    i.spec.instance.name.get_ref()
                ),
            )
            .at(i.file, d.mode.span(), "dask-gateway needs its package in the image")
            .help("add [dask.gateway] image = \"<an image with dask-gateway>\" and dask_gateway = \"<its version>\", or use mode = \"pool\" (the profiles' worker images run as HTCondor jobs)")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;

    const TIER2: &str = "mode = \"tier2\"";

    #[test]
    fn passes_with_a_declared_image() {
        let (site, _) = site_with(
            &[],
            &[(
                TIER2,
                "mode = \"gateway\"\ngateway = { image = \"ghcr.io/dask/dask-gateway:2026.3.0\", dask_gateway = \"2026.3.0\" }",
            )],
        );
        assert!(check(&site).is_empty());
        assert!(check(&site_with(&[], &[]).0).is_empty());
    }

    #[test]
    fn finds_gateway_mode_without_an_image() {
        let (site, src) = site_with(&[], &[(TIER2, "mode = \"gateway\"")]);
        let (l, c) = pos(INSTANCE, TIER2);
        let c = c + "mode = ".len();
        assert_finds(
            &check(&site),
            &src,
            &[(DASK_GATEWAY_IMAGE, "instances/cms-prod.toml", l, c)],
        );
    }
}
