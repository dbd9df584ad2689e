//! CB066 gpu-node.
//!
//! What: a node with the `gpu` role and no `gpus`, or a GPU shared by time-slicing in fewer
//! than 2 shares.
//! Why: GPU sessions, Triton and the GPU operator go by the GPUs the site describes: a GPU
//! node without them is never used, and a node without the `gpu` role is still described
//! by its GPUs. One share is no sharing (the device plugin labels it as unshared).
//! Fix: list the node's `gpus`, or drop the role; give time_slicing 2 or more shares.
//!
//! Example: `roles = ["worker", "gpu"]` on a node with no `gpus`.

use crate::diagnostics::{Diagnostic, GPU_NODE};
use crate::site::{Role, Site};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for n in &site.nodes {
        if n.has(Role::Gpu) && n.gpus.is_empty() {
            out.push(
                Diagnostic::new(
                    GPU_NODE,
                    format!("node `{}` has the `gpu` role but no `gpus`", n.name),
                )
                .at(site.file, n.name_span.clone(), "this node")
                .help("list its GPUs: gpus = [{ model = \"<nvidia.com/gpu.product>\", count = N, compute_capability = \"X.Y\" }], or drop the `gpu` role"),
            );
        }
        for g in &n.gpus {
            if let Some(t) = &g.time_slicing
                && *t.get_ref() < 2
            {
                out.push(
                    Diagnostic::new(
                        GPU_NODE,
                        format!(
                            "node `{}` shares each `{}` in {} time-slice(s)",
                            n.name,
                            g.model.get_ref(),
                            t.get_ref()
                        ),
                    )
                    .at(site.file, t.span(), "fewer than 2 shares")
                    .help("give 2 or more shares, or leave time_slicing out for whole GPUs"),
                );
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
    fn a_gpu_node_without_gpus() {
        let line = "gpus = [{ model = \"Tesla-P100-PCIE-16GB\", count = 2, compute_capability = \"6.0\" }]\n";
        let (site, src) = site_with(&[(line, "")], &[]);
        let (l, c) = pos(SITE, "\"gpu-02\"");
        assert_finds(&check(&site), &src, &[(GPU_NODE, "site.toml", l, c)]);
    }

    #[test]
    fn one_time_slice_is_no_sharing() {
        let (site, src) = site_with(
            &[(
                "compute_capability = \"6.0\" }",
                "compute_capability = \"6.0\", time_slicing = 1 }",
            )],
            &[],
        );
        let edited = SITE.replacen(
            "compute_capability = \"6.0\" }",
            "compute_capability = \"6.0\", time_slicing = 1 }",
            1,
        );
        let (l, c) = pos(&edited, "1 }]");
        assert_finds(&check(&site), &src, &[(GPU_NODE, "site.toml", l, c)]);
    }
}
