//! CB033 unpinned-image.
//!
//! What: an image with no tag or tagged `latest`: an error in a prod instance and in
//! site-wide components, a warning in a dev instance.
//! Why: an unpinned image changes under users without a commit to review.
//! Fix: pin a version tag or a digest.

use crate::diagnostics::{Diagnostic, Severity, UNPINNED_IMAGE};
use crate::site::types::ImageRef;
use crate::site::{Site, Stage};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let d = |img: &ImageRef, file, span, sev| {
        Diagnostic::new(UNPINNED_IMAGE, format!("image `{img}` is not pinned"))
            .severity(sev)
            .at(file, span, "unpinned")
            .help(UNPINNED_IMAGE.info().fix)
    };
    for i in &site.instances {
        let sev = if i.spec.instance.stage == Stage::Prod {
            Severity::Error
        } else {
            Severity::Warning
        };
        for p in &i.spec.profile {
            for img in std::iter::once(&p.image).chain(p.worker_image.as_ref()) {
                if !img.get_ref().is_pinned() {
                    out.push(d(img.get_ref(), i.file, img.span(), sev));
                }
            }
        }
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
