//! CB033 unpinned-image.
//!
//! What: an image the site names (every component's, from its registry row) with no tag or
//! tagged `latest`: an error in a prod instance and in site-wide components, a warning when
//! only dev instances use it.
//! Why: an unpinned image changes under users without a commit to review.
//! Fix: pin a version tag or a digest.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, Severity, UNPINNED_IMAGE};
use crate::site::Site;
use crate::site::components::ImageUse;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    // One finding per place in the sources: the site's default worker image serves every
    // instance's profiles, and is an error as soon as one prod instance uses it.
    let mut unpinned: BTreeMap<(crate::sources::FileId, usize), (ImageUse<'_>, bool)> =
        BTreeMap::new();
    for (c, at) in site.targets_by_file() {
        for u in (c.images)(site, at) {
            if u.image.get_ref().is_pinned() {
                continue;
            }
            let e = unpinned
                .entry((u.file, u.image.span().start))
                .or_insert((u, true));
            e.1 &= u.dev;
        }
    }
    unpinned
        .into_values()
        .map(|(u, dev)| {
            Diagnostic::new(
                UNPINNED_IMAGE,
                format!("image `{}` is not pinned", u.image.get_ref()),
            )
            .severity(if dev {
                Severity::Warning
            } else {
                Severity::Error
            })
            .at(u.file, u.image.span(), "unpinned")
            .help(UNPINNED_IMAGE.info().fix)
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
    fn latest_in_prod_is_an_error() {
        let (site, src) = site_with(&[], &[("cc-ubuntu:2023.10.12", "cc-ubuntu:latest")]);
        let (l, c) = pos(INSTANCE, "\"hub.opensciencegrid.org/coffea-casa/cc-ubuntu:");
        let found = check(&site);
        assert_finds(
            &found,
            &src,
            &[(UNPINNED_IMAGE, "instances/cms-prod.toml", l, c)],
        );
        assert!(found[0].is_error());
    }

    #[test]
    fn no_tag_in_dev_is_a_warning() {
        let (site, _) = site_with(
            &[],
            &[
                ("stage = \"prod\"", "stage = \"dev\""),
                ("cc-ubuntu:2023.10.12", "cc-ubuntu"),
            ],
        );
        let found = check(&site);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
    }
}
