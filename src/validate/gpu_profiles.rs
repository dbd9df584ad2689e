//! CB065 gpu-profile-unavailable.
//!
//! What: a profile asks for GPUs no node offers: a product no node has; a MIG slice no node
//! of that product is cut into; a time-sliced share where no node of that product shares its
//! GPUs; more than one share (the device plugin fails such a request); more whole GPUs than
//! one node of that product holds.
//! Why: the session is unschedulable and stays Pending until the spawner gives up.
//! Fix: ask for what a GPU node offers (the message lists the site's GPUs).
//!
//! Example: `gpu = { count = 1, product = "NVIDIA-A100-SXM4-80GB" }` on a site whose only GPUs
//! are V100S.

use crate::diagnostics::{Diagnostic, GPU_PROFILE_UNAVAILABLE};
use crate::site::{Gpu, Node, Site};

/// The site's GPUs, for the help line.
fn offered(site: &Site) -> String {
    let list: Vec<String> = site
        .nodes
        .iter()
        .flat_map(|n| {
            n.gpus.iter().map(move |g| {
                let how = match (&g.mig, &g.time_slicing) {
                    (Some(m), _) => format!(" as MIG {}", m.get_ref()),
                    (_, Some(t)) => format!(" in {} shares each", t.get_ref()),
                    _ => String::new(),
                };
                format!("{} x{}{how} on {}", g.model.get_ref(), g.count, n.name)
            })
        })
        .collect();
    if list.is_empty() {
        "the site describes no GPU (nodes' `gpus`)".to_owned()
    } else {
        format!("the site has: {}", list.join(", "))
    }
}

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for i in &site.instances {
        for p in &i.spec.profile {
            let Some(want) = &p.gpu else {
                continue;
            };
            let product = want.product.get_ref().as_str();
            let of_product: Vec<(&Node, &Gpu)> = site
                .nodes
                .iter()
                .flat_map(|n| n.gpus.iter().map(move |g| (n, g)))
                .filter(|(_, g)| g.model.get_ref().as_str() == product)
                .collect();
            let count = *want.count.get_ref();
            let problem = if of_product.is_empty() {
                Some((want.product.span(), format!("no node has `{product}` GPUs")))
            } else if let Some(m) = &want.mig {
                let cut = of_product
                    .iter()
                    .any(|(_, g)| g.mig.as_ref().is_some_and(|x| x.get_ref() == m.get_ref()));
                (!cut).then(|| {
                    (
                        m.span(),
                        format!("no `{product}` node is cut into MIG {} slices", m.get_ref()),
                    )
                })
            } else if want.shared {
                if !of_product.iter().any(|(_, g)| g.time_slicing.is_some()) {
                    Some((
                        want.product.span(),
                        format!("no `{product}` node shares its GPUs by time-slicing"),
                    ))
                } else if count != 1 {
                    Some((
                        want.count.span(),
                        format!(
                            "{count} time-sliced shares of `{product}`: one container gets at most one share (`failRequestsGreaterThanOne`)"
                        ),
                    ))
                } else {
                    None
                }
            } else {
                // Whole GPUs: a node that neither cuts nor shares them, with enough.
                let whole: Vec<u32> = of_product
                    .iter()
                    .filter(|(_, g)| g.mig.is_none() && g.time_slicing.is_none())
                    .map(|(_, g)| g.count)
                    .collect();
                let max = whole.iter().copied().max().unwrap_or(0);
                if count == 0 || count > max {
                    Some((
                        want.count.span(),
                        format!(
                            "{count} whole `{product}` GPU(s) per session; a node offers at most {max} whole"
                        ),
                    ))
                } else {
                    None
                }
            };
            if let Some((span, why)) = problem {
                out.push(
                    Diagnostic::new(
                        GPU_PROFILE_UNAVAILABLE,
                        format!(
                            "profile `{}` of instance `{}` asks for GPUs no node offers: {why}",
                            p.display_name,
                            i.spec.instance.name.get_ref()
                        ),
                    )
                    .at(i.file, span, "not on any node")
                    .help(offered(site)),
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

    const GPU: &str = "default = true\ngpu = { count = 1, product = \"Tesla-V100S-PCIE-32GB\" }\n";

    #[test]
    fn passes_on_the_reference_site_and_for_the_v100s() {
        assert!(check(&site_with(&[], &[]).0).is_empty());
        assert!(check(&site_with(&[], &[("default = true\n", GPU)]).0).is_empty());
    }

    #[test]
    fn an_unknown_product() {
        let add = GPU.replace("Tesla-V100S-PCIE-32GB", "NVIDIA-A100-SXM4-80GB");
        let (site, src) = site_with(&[], &[("default = true\n", &add)]);
        let edited = INSTANCE.replacen("default = true\n", &add, 1);
        let (l, c) = pos(&edited, "\"NVIDIA-A100");
        let found = check(&site);
        assert_finds(
            &found,
            &src,
            &[(GPU_PROFILE_UNAVAILABLE, "instances/cms-prod.toml", l, c)],
        );
        assert!(
            found[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("Tesla-V100S-PCIE-32GB x1 on gpu-01")
        );
    }

    #[test]
    fn more_gpus_than_a_node_holds_and_an_unshared_share() {
        let two = GPU.replace("count = 1", "count = 2");
        let (site, src) = site_with(&[], &[("default = true\n", &two)]);
        let edited = INSTANCE.replacen("default = true\n", &two, 1);
        let (l, c) = pos(&edited, "2, product");
        assert_finds(
            &check(&site),
            &src,
            &[(GPU_PROFILE_UNAVAILABLE, "instances/cms-prod.toml", l, c)],
        );
        let shared = GPU.replace(" }", ", shared = true }");
        let (site, _) = site_with(&[], &[("default = true\n", &shared)]);
        let found = check(&site);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("time-slicing"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_mig_slice_where_the_node_is_cut_into_it_passes() {
        let node = "gpus = [{ model = \"Tesla-V100S-PCIE-32GB\", count = 1, compute_capability = \"7.0\" }]";
        let cut = "gpus = [{ model = \"Tesla-V100S-PCIE-32GB\", count = 1, compute_capability = \"7.0\", mig = \"1g.5gb\" }]";
        let mig = GPU.replace(" }", ", mig = \"1g.5gb\" }");
        let (site, _) = site_with(&[(node, cut)], &[("default = true\n", &mig)]);
        assert!(check(&site).is_empty());
        let other = GPU.replace(" }", ", mig = \"2g.10gb\" }");
        let (site, _) = site_with(&[(node, cut)], &[("default = true\n", &other)]);
        assert_eq!(check(&site).len(), 1);
    }
}
