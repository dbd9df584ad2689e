//! The Flux units of a site: one folder of `out/` and one Flux Kustomization each, in four
//! layers. A unit depends on every unit of the layer before it (CRDs and operators, then
//! cluster configuration, then platform services, then applications and instances), plus the
//! few same-layer edges listed here.

use crate::manifest::{Layer, Unit};
use crate::site::Site;

fn unit(name: &str, layer: Layer, components: &[&'static str]) -> Unit {
    Unit {
        name: name.to_owned(),
        layer,
        path: name.to_owned(),
        components: components.to_vec(),
        instance: None,
        depends_on: Vec::new(),
        suspend: false,
        entry: false,
    }
}

/// The units of the site, in apply order.
pub fn units(site: &Site) -> Vec<Unit> {
    let mut entry = unit("flux", Layer::Controllers, &["flux"]);
    entry.path = format!("clusters/{}", site.name());
    entry.entry = true;
    let mut v = vec![
        entry,
        unit("sealed-secrets", Layer::Controllers, &["sealed-secrets"]),
        unit("metallb", Layer::Controllers, &["metallb"]),
        unit(
            "rook-ceph-operator",
            Layer::Controllers,
            &["rook-ceph-operator"],
        ),
        unit("calico", Layer::Config, &["calico"]),
        unit("metallb-config", Layer::Config, &["metallb-config"]),
        unit("rook-ceph-cluster", Layer::Config, &["rook-ceph"]),
        unit("traefik", Layer::Platform, &["traefik"]),
        unit("cvmfs", Layer::Platform, &["cvmfs"]),
        unit("dex", Layer::Platform, &["dex"]),
    ];
    if site.spec.triton.is_some() {
        v.push(unit("triton", Layer::Apps, &["triton"]));
    }
    for i in &site.instances {
        let name = i.spec.instance.name.get_ref().to_string();
        let mut u = unit(
            &format!("instance-{name}"),
            Layer::Apps,
            &["jupyterhub", "dask"],
        );
        u.path = format!("instances/{name}");
        u.instance = Some(name);
        u.suspend = i.spec.instance.suspend;
        v.push(u);
    }
    let names_in = |v: &[Unit], layer: Layer| {
        v.iter()
            .filter(|u| u.layer == layer && !u.entry)
            .map(|u| u.name.clone())
            .collect::<Vec<_>>()
    };
    let previous: Vec<(Layer, Vec<String>)> = [Layer::Controllers, Layer::Config, Layer::Platform]
        .into_iter()
        .map(|l| (l, names_in(&v, l)))
        .collect();
    for u in v.iter_mut().filter(|u| !u.entry) {
        let before = match u.layer {
            Layer::Controllers => None,
            Layer::Config => Some(Layer::Controllers),
            Layer::Platform => Some(Layer::Config),
            Layer::Apps => Some(Layer::Platform),
        };
        if let Some(b) = before {
            u.depends_on = previous
                .iter()
                .find(|(l, _)| *l == b)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
        }
        // Dex's IngressRoute needs Traefik's CRDs and entry points.
        if u.name == "dex" {
            u.depends_on.push("traefik".to_owned());
        }
    }
    v
}
