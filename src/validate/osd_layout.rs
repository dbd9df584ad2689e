//! CB020 unknown-osd-device, CB021 osd-device-reused, CB027 unknown-node.
//!
//! What: an explicit OSD host that is not a node, a device the node does not have, or a
//! device listed twice.
//! Why: Rook would fail to create those OSDs; the cluster would be smaller than planned.
//! Fix: list node names and device ids as defined in the node section.

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, OSD_DEVICE_REUSED, UNKNOWN_NODE, UNKNOWN_OSD_DEVICE};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut used = HashMap::new();
    for h in site.spec.ceph.iter().flat_map(|c| &c.osd_host) {
        let Some(node) = site.node(h.node.get_ref()) else {
            out.push(
                Diagnostic::new(
                    UNKNOWN_NODE,
                    format!("OSD host `{}` is not a node of the site", h.node.get_ref()),
                )
                .at(site.file, h.node.span(), "unknown node")
                .help(UNKNOWN_NODE.info().fix),
            );
            continue;
        };
        for d in &h.devices {
            if !node.nvme.iter().any(|x| &x.id == d.get_ref()) {
                let have: Vec<_> = node.nvme.iter().map(|x| x.id.as_str()).collect();
                out.push(
                    Diagnostic::new(UNKNOWN_OSD_DEVICE, format!("node `{}` has no device `{}`", node.name, d.get_ref()))
                        .at(site.file, d.span(), "not a device of this node")
                        .help(if have.is_empty() {
                            "the node has no NVMe devices; give it a class with `nvme` or an `nvme` list".to_owned()
                        } else {
                            format!("its devices are: {}", have.join(", "))
                        }),
                );
            }
            if let Some(first) = used.insert((node.name.as_str(), d.get_ref().as_str()), d.span()) {
                out.push(
                    Diagnostic::new(
                        OSD_DEVICE_REUSED,
                        format!(
                            "device `{}` of `{}` is listed twice",
                            d.get_ref(),
                            node.name
                        ),
                    )
                    .at(site.file, d.span(), "again here")
                    .also(site.file, first, "first here")
                    .help(OSD_DEVICE_REUSED.info().fix),
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

    const DEV0: &str = "nvme-Dell_Ent_NVMe_CM6-RI_3.2TB_r750-01_0";

    fn with_host(node: &str, devices: &[&str]) -> String {
        let list: Vec<_> = devices.iter().map(|d| format!("\"{d}\"")).collect();
        format!(
            "[[ceph.osd_host]]\nnode = \"{node}\"\ndevices = [{}]\n\n",
            list.join(", ")
        )
    }

    #[test]
    fn passes_with_real_devices() {
        let host = with_host("r750-01", &[DEV0]) + "[ceph.object_store]";
        let (site, _) = site_with(&[("[ceph.object_store]", &host)], &[]);
        assert!(check(&site).is_empty());
        assert_eq!(
            site.osd_plan()
                .iter()
                .find(|p| p.node == "r750-01")
                .map(|p| p.devices.len()),
            Some(1)
        );
    }

    #[test]
    fn finds_unknown_node_unknown_device_and_reuse() {
        let host = format!(
            "{}{}[ceph.object_store]",
            with_host("r750-01", &[DEV0, "nvme-bogus", DEV0]),
            with_host("r750-99", &[DEV0])
        );
        let edited = SITE.replacen("[ceph.object_store]", &host, 1);
        let (site, src) = site_with(&[("[ceph.object_store]", &host)], &[]);
        let at = |n: &str, skip: usize| {
            let idx = edited.match_indices(n).nth(skip).map(|(i, _)| i).unwrap();
            let line = edited[..idx].matches('\n').count() + 1;
            let col = idx - edited[..idx].rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, col)
        };
        let (l1, c1) = at("\"nvme-bogus\"", 0);
        let (l2, c2) = at(&format!("\"{DEV0}\""), 1);
        let (l3, c3) = at("\"r750-99\"", 0);
        assert_finds(
            &check(&site),
            &src,
            &[
                (UNKNOWN_OSD_DEVICE, "site.toml", l1, c1),
                (OSD_DEVICE_REUSED, "site.toml", l2, c2),
                (UNKNOWN_NODE, "site.toml", l3, c3),
            ],
        );
    }
}
