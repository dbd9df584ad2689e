//! CB036 chart-missing.
//!
//! What: a component the site runs installs a Helm chart that `[charts]` does not pin (each
//! component's registry row names its charts: dask-gateway, for instance, only for an
//! instance whose Dask mode is `gateway`).
//! Why: the release could not be rendered, or would float to whatever the repository serves.
//! Fix: add `[charts.<name>]` with repository and version.

use crate::diagnostics::{CHART_MISSING, Diagnostic};
use crate::site::Site;
use crate::site::components::At;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let charts = &site.spec.charts;
    let mut missing: Vec<(&str, String)> = Vec::new();
    for (c, at) in site.targets() {
        for chart in (c.charts)(site, at) {
            // One finding per chart, naming the first component that needs it.
            if charts.get_ref().contains_key(chart) || missing.iter().any(|(m, _)| *m == chart) {
                continue;
            }
            let who = match at {
                At::Site => format!("component `{}`", c.name),
                At::Instance(i) => format!(
                    "component `{}` of instance `{}`",
                    c.name,
                    i.spec.instance.name.get_ref()
                ),
            };
            missing.push((chart, who));
        }
    }
    missing
        .into_iter()
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
