//! CB036 chart-missing.
//!
//! What: a component the site has needs a Helm chart that `[charts]` does not pin:
//! sealed-secrets, metallb, rook-ceph, traefik, dex, cvmfs-csi always; jupyterhub with any
//! instance; dask-gateway with an instance whose Dask mode is `in-cluster`.
//! Why: the release could not be rendered, or would float to whatever the repository serves.
//! Fix: add `[charts.<name>]` with repository and version.

use crate::diagnostics::{CHART_MISSING, Diagnostic};
use crate::site::{DaskMode, Site};

const ALWAYS: [&str; 6] = [
    "sealed-secrets",
    "metallb",
    "rook-ceph",
    "traefik",
    "dex",
    "cvmfs-csi",
];

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let charts = &site.spec.charts;
    let mut needed: Vec<(&str, String)> =
        ALWAYS.iter().map(|c| (*c, "the site".to_owned())).collect();
    if let Some(i) = site.instances.first() {
        needed.push((
            "jupyterhub",
            format!("instance `{}`", i.spec.instance.name.get_ref()),
        ));
    }
    if let Some(i) = site
        .instances
        .iter()
        .find(|i| *i.spec.dask.mode.get_ref() == DaskMode::InCluster)
    {
        needed.push((
            "dask-gateway",
            format!(
                "instance `{}` (in-cluster Dask)",
                i.spec.instance.name.get_ref()
            ),
        ));
    }
    needed
        .into_iter()
        .filter(|(c, _)| !charts.get_ref().contains_key(*c))
        .map(|(c, who)| {
            Diagnostic::new(
                CHART_MISSING,
                format!("{who} needs the `{c}` chart, which [charts] does not pin"),
            )
            .at(site.file, charts.span(), "the pinned charts")
            .help(format!("add [charts.{c}] with `repository` and `version`"))
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
    fn finds_an_unpinned_chart() {
        let (site, src) = site_with(
            &[(
                "[charts.dex]\nrepository = \"https://charts.dexidp.io\"\nversion = \"0.24.0\"\n",
                "",
            )],
            &[],
        );
        let (l, c) = pos(SITE, "charts.sealed-secrets]");
        assert_finds(&check(&site), &src, &[(CHART_MISSING, "site.toml", l, c)]);
    }
}
