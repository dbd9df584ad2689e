//! CB087 triton-not-served.
//!
//! What: an instance's `[inference] triton = true` while the site runs no Triton.
//! Why: the spawn hook would hand users an endpoint and bucket keys of a service that is
//! not there; the hub reads the keys at every spawn and the spawn would fail.
//! Fix: add `[triton]` to the site, or drop `[inference] triton` from the instance.

use crate::diagnostics::{Diagnostic, TRITON_NOT_SERVED};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    if site.spec.triton.is_some() {
        return Vec::new();
    }
    site.instances
        .iter()
        .filter_map(|i| i.spec.inference.as_ref().map(|x| (i, x)))
        .filter(|(_, x)| *x.triton.get_ref())
        .map(|(i, x)| {
            Diagnostic::new(
                TRITON_NOT_SERVED,
                "the instance's users are to call Triton, which the site does not run",
            )
            .at(i.file, x.triton.span(), "no [triton] in site.toml")
            .help("add [triton] to site.toml, or remove `triton = true`")
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
    fn finds_triton_users_without_triton() {
        let triton = &SITE[SITE.find("[triton]").unwrap()..];
        let (site, src) = site_with(&[(triton, "")], &[]);
        let (l, c) = pos(
            INSTANCE,
            "true                               # real: the Triton",
        );
        assert_finds(
            &check(&site),
            &src,
            &[(TRITON_NOT_SERVED, "instances/cms-prod.toml", l, c)],
        );
    }
}
