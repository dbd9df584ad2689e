//! CB037 gpu-compute-capability.
//!
//! What: the NGC Triton release in `[triton] image` needs a newer CUDA compute capability than
//! a node carrying the requested GPU model has: releases 25.02 and later need 7.5, earlier ones
//! (22.08 = Triton 2.25.0 at Flatiron) 6.0.
//! Why: the server fails to start on an unsupported card (V100S is 7.0, P100 6.0).
//! Fix: pin a release that supports the card, or ask for newer GPUs.

use crate::diagnostics::{Diagnostic, GPU_COMPUTE_CAPABILITY};
use crate::site::Site;

/// The compute-capability floor of an NGC Triton tag `YY.MM[-suffix]`, from NVIDIA's release
/// notes; `None` for tags that are not NGC releases (custom builds are not second-guessed).
fn floor(tag: &str) -> Option<(u32, u32)> {
    let (yy, rest) = tag.split_once('.')?;
    let mm: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let release = (yy.parse::<u32>().ok()?, mm.parse::<u32>().ok()?);
    Some(if release >= (25, 2) { (7, 5) } else { (6, 0) })
}

fn capability(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('.').unwrap_or((text, "0"));
    Some((a.parse().ok()?, b.parse().ok()?))
}

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(t) = &site.spec.triton else {
        return Vec::new();
    };
    let Some(need) = t.image.get_ref().tag().and_then(floor) else {
        return Vec::new();
    };
    let model = t.gpu_model.get_ref().as_str();
    site.nodes
        .iter()
        .flat_map(|n| {
            n.gpus
                .iter()
                .filter(|g| g.model.get_ref().as_str() == model)
                .map(move |g| (n, g))
        })
        .filter(|(_, g)| capability(&g.compute_capability).is_some_and(|have| have < need))
        .map(|(n, g)| {
            Diagnostic::new(
                GPU_COMPUTE_CAPABILITY,
                format!(
                    "Triton {} needs compute capability {}.{} or newer; `{model}` on {} has {}",
                    t.image.get_ref(),
                    need.0,
                    need.1,
                    n.name,
                    g.compute_capability
                ),
            )
            .at(site.file, t.image.span(), "this release")
            .help(GPU_COMPUTE_CAPABILITY.info().fix)
        })
        .take(1)
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
    fn release_25_02_refuses_the_v100s() {
        let (site, src) = site_with(&[("tritonserver:22.08-py3", "tritonserver:25.02-py3")], &[]);
        let (l, c) = pos(SITE, "\"nvcr.io/nvidia/tritonserver");
        assert_finds(
            &check(&site),
            &src,
            &[(GPU_COMPUTE_CAPABILITY, "site.toml", l, c)],
        );
    }

    #[test]
    fn floors() {
        assert_eq!(floor("22.08-py3"), Some((6, 0)));
        assert_eq!(floor("25.02-py3"), Some((7, 5)));
        assert_eq!(floor("26.01"), Some((7, 5)));
        assert_eq!(floor("custom"), None);
    }
}
