//! CB034 unknown-cvmfs-repository.
//!
//! What: an instance mounts a CVMFS repository that `[cvmfs] repositories` does not list.
//! Why: the repository would not be configured on the nodes; the mount would be empty.
//! Fix: add it to the site or drop the mount.

use crate::diagnostics::{Diagnostic, UNKNOWN_CVMFS_REPO};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    // Without [cvmfs] the mounts are a missing provider (CB038), not unknown repositories.
    let Some(cvmfs) = &site.spec.cvmfs else {
        return Vec::new();
    };
    let repos = &cvmfs.repositories;
    let list = repos
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    site.instances
        .iter()
        .flat_map(|i| i.spec.singleuser.cvmfs.iter().map(move |r| (i, r)))
        .filter(|(_, r)| !repos.contains(r.get_ref()))
        .map(|(i, r)| {
            Diagnostic::new(
                UNKNOWN_CVMFS_REPO,
                format!(
                    "CVMFS repository `{}` is not configured by the site",
                    r.get_ref()
                ),
            )
            .at(i.file, r.span(), "not in [cvmfs] repositories")
            .help(format!("configured: {list}"))
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
    fn finds_an_unconfigured_repository() {
        let (site, src) = site_with(&[], &[("\"sft.cern.ch\"", "\"atlas.cern.ch\"")]);
        let (l, c) = pos(INSTANCE, "\"sft.cern.ch\"");
        assert_finds(
            &check(&site),
            &src,
            &[(UNKNOWN_CVMFS_REPO, "instances/cms-prod.toml", l, c)],
        );
    }
}
