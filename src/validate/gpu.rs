//! CB025 gpu-unavailable.
//!
//! What: Triton asks for a GPU model no node has, or more GPUs of it per pod than one node
//! holds, or more replicas than the nodes can hold together.
//! Why: the pods would stay Pending.
//! Fix: ask for a model and count a GPU node offers.

use crate::diagnostics::{Diagnostic, GPU_UNAVAILABLE};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(t) = &site.spec.triton else {
        return Vec::new();
    };
    let model = t.gpu_model.get_ref().as_str();
    let per_node: Vec<u32> = site
        .nodes
        .iter()
        .filter_map(|n| {
            n.gpus
                .iter()
                .find(|g| g.model.get_ref().as_str() == model)
                .map(|g| g.count)
        })
        .collect();
    let models: Vec<String> = site
        .nodes
        .iter()
        .flat_map(|n| {
            n.gpus
                .iter()
                .map(|g| format!("{} x{} on {}", g.model.get_ref(), g.count, n.name))
        })
        .collect();
    let offered = if models.is_empty() {
        "the site has no GPU nodes".to_owned()
    } else {
        format!("the site has: {}", models.join(", "))
    };
    if per_node.is_empty() {
        return vec![
            Diagnostic::new(
                GPU_UNAVAILABLE,
                format!("Triton asks for `{model}` GPUs, which no node has"),
            )
            .at(site.file, t.gpu_model.span(), "no node has this model")
            .help(offered),
        ];
    }
    let gpus = *t.gpus.get_ref();
    let fitting: u32 = per_node
        .iter()
        .map(|c| c.checked_div(gpus).unwrap_or(0))
        .sum();
    if gpus == 0 || fitting < t.replicas {
        let max = per_node.iter().max().copied().unwrap_or(0);
        return vec![
            Diagnostic::new(
                GPU_UNAVAILABLE,
                format!("Triton asks for {} replica(s) with {gpus} `{model}` GPU(s) each; the nodes hold at most {max} per node and {fitting} such pod(s) in all", t.replicas),
            )
            .at(site.file, t.gpus.span(), "GPUs per replica")
            .help(offered),
        ];
    }
    Vec::new()
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
    fn two_gpus_on_the_one_v100s_fail() {
        let (site, src) = site_with(&[("gpus = 1", "gpus = 2")], &[]);
        let (l, c) = pos(SITE, "gpus = 1");
        assert_finds(
            &check(&site),
            &src,
            &[(GPU_UNAVAILABLE, "site.toml", l, c + "gpus = ".len())],
        );
    }

    #[test]
    fn an_unknown_model_fails() {
        let (site, src) = site_with(
            &[(
                "gpu_model = \"Tesla-V100S-PCIE-32GB\"",
                "gpu_model = \"A100-SXM4-80GB\"",
            )],
            &[],
        );
        let (l, c) = pos(SITE, "\"Tesla-V100S-PCIE-32GB\"         # real");
        assert_finds(&check(&site), &src, &[(GPU_UNAVAILABLE, "site.toml", l, c)]);
    }
}
