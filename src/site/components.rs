//! The component registry: every component a tree can hold, one row each, shaped like the
//! rule table (`validate::RULES`). A row says where the component's objects go (its Flux
//! unit and layer), whether the site runs it, what it gives and needs, and points at the
//! hooks in its model file that name its charts, secrets, images, addresses and the values
//! its templates derive. Units, secret slots, chart pinning, image and address rules, the
//! requirement rule and SealedSecret grouping are all loops over this table, so a new
//! component is its model file, its template folder (named like the row), its row and its
//! rules.

use std::net::IpAddr;
use std::ops::Range;

use serde_json::{Map, Value};

use super::secrets::Slots;
use super::storage::StorageUse;
use super::types::ImageRef;
use super::{
    Instance, Site, Spanned, ceph, cilium, dex, gpu, ingress, instance, network, platform,
};
use crate::manifest::{Layer, Unit};
use crate::sources::FileId;

/// One component: a template folder and everything the rest of the program needs to know
/// about it.
#[derive(Clone, Copy)]
pub struct Component {
    /// The template folder and the `app.kubernetes.io/component` label.
    pub name: &'static str,
    /// Where its objects go.
    pub unit: UnitOf,
    pub layer: Layer,
    /// Whether the site runs it; asked once with [`At::Site`] for a site-wide component and
    /// once per instance for a per-instance one.
    pub enabled: fn(&Site, At<'_>) -> bool,
    /// What it gives the components that need it.
    pub provides: fn(&Site) -> Vec<Capability>,
    /// What it needs from others, each with where the need comes from.
    pub needs: for<'a> fn(&'a Site, At<'a>) -> Vec<Need>,
    /// Keys of `[charts]` it installs.
    pub charts: fn(&Site, At<'_>) -> Vec<&'static str>,
    /// Its secret fields.
    pub secrets: for<'a> fn(&'a Site, At<'a>, &mut Slots<'a>),
    /// The images it runs that the site names.
    pub images: for<'a> fn(&'a Site, At<'a>) -> Vec<ImageUse<'a>>,
    /// The fixed LoadBalancer addresses it asks for.
    pub addresses: for<'a> fn(&'a Site, At<'a>) -> Vec<Address<'a>>,
    /// Values derived from the site for its templates, merged into the template context
    /// (keys are unique across the registry; nested maps merge).
    pub context: fn(&Site) -> Map<String, Value>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("name", &self.name)
            .field("unit", &self.unit)
            .finish_non_exhaustive()
    }
}

/// Which Flux unit a component renders into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitOf {
    /// The entry point `clusters/<site>` that `flux bootstrap` applies.
    Entry,
    /// A site-wide unit of this name (several components may share one).
    Own(&'static str),
    /// The unit of each instance that enables it (`instances/<name>`).
    Instance,
}

/// What a hook is asked about: the site as a whole, or one instance.
#[derive(Debug, Clone, Copy)]
pub enum At<'a> {
    Site,
    Instance(&'a Instance),
}

impl<'a> At<'a> {
    pub fn instance(self) -> Option<&'a Instance> {
        match self {
            At::Site => None,
            At::Instance(i) => Some(i),
        }
    }
}

/// Something one component gives others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    /// The Sealed Secrets controller and its CRD.
    SealedSecrets,
    /// MetalLB's controller and CRDs (pools are configured apart).
    LoadBalancerController,
    /// Address pools that hand out LoadBalancer addresses.
    LoadBalancer,
    /// The Rook operator and the Ceph CRDs.
    CephOperator,
    /// A block StorageClass (RWO volumes).
    BlockStorage,
    /// A shared-filesystem StorageClass (RWX volumes).
    SharedStorage,
    /// An S3 object store with bucket claims.
    ObjectStore,
    /// An ingress serving the public names (IngressRoutes, Ingresses or HTTPRoutes).
    Ingress,
    /// An OIDC issuer for hub logins.
    Oidc,
    /// CVMFS repositories as a StorageClass.
    Cvmfs,
    /// A GPU device plugin (`nvidia.com/gpu` and MIG resources, GPU feature discovery labels).
    GpuDevicePlugin,
    /// The Gateway API CRDs.
    GatewayApi,
}

impl Capability {
    /// How the requirement rule names it.
    pub fn describe(self) -> &'static str {
        match self {
            Capability::SealedSecrets => "the Sealed Secrets controller",
            Capability::LoadBalancerController => "a LoadBalancer controller",
            Capability::LoadBalancer => "LoadBalancer address pools",
            Capability::CephOperator => "the Rook operator",
            Capability::BlockStorage => "a block StorageClass",
            Capability::SharedStorage => "a shared (ReadWriteMany) StorageClass",
            Capability::ObjectStore => "an S3 object store",
            Capability::Ingress => "an ingress controller",
            Capability::Oidc => "an OIDC issuer",
            Capability::Cvmfs => "CVMFS",
            Capability::GpuDevicePlugin => "a GPU device plugin",
            Capability::GatewayApi => "the Gateway API CRDs",
        }
    }
}

/// What the cluster's owner may run for the site (`[site] cluster_provides`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterService {
    /// The Sealed Secrets controller (the site still seals with its certificate).
    SealedSecrets,
    /// A GPU device plugin with GPU feature discovery (the GPU operator or NVIDIA's plugin).
    GpuDevicePlugin,
    /// The Gateway API CRDs.
    GatewayApi,
    /// LoadBalancer Services get addresses (a cloud or the owner's MetalLB); the site then
    /// asks for no fixed address.
    LoadBalancer,
}

impl ClusterService {
    pub fn capability(self) -> Capability {
        match self {
            ClusterService::SealedSecrets => Capability::SealedSecrets,
            ClusterService::GpuDevicePlugin => Capability::GpuDevicePlugin,
            ClusterService::GatewayApi => Capability::GatewayApi,
            ClusterService::LoadBalancer => Capability::LoadBalancer,
        }
    }
}

/// One requirement of a component, located where the site asks for it.
#[derive(Debug, Clone)]
pub struct Need {
    pub capability: Capability,
    /// Where the site asks for it, when one place does.
    pub at: Option<(FileId, Range<usize>)>,
    /// Why it is needed, as the label under the span.
    pub why: String,
    /// How to satisfy it, as the help line.
    pub fix: String,
}

/// An image the site names for a component.
#[derive(Debug, Clone, Copy)]
pub struct ImageUse<'a> {
    pub image: &'a Spanned<ImageRef>,
    pub file: FileId,
    /// Unpinned is an error unless this is a dev instance's image (a warning there).
    pub dev: bool,
}

/// A fixed LoadBalancer address a component asks for.
#[derive(Debug, Clone)]
pub struct Address<'a> {
    /// Who asks, as a message names it ("the cluster Traefik").
    pub who: String,
    pub file: FileId,
    pub ip: &'a Spanned<IpAddr>,
}

fn always(_: &Site, _: At<'_>) -> bool {
    true
}

fn nothing(_: &Site) -> Vec<Capability> {
    Vec::new()
}

fn no_needs(_: &Site, _: At<'_>) -> Vec<Need> {
    Vec::new()
}

fn no_charts(_: &Site, _: At<'_>) -> Vec<&'static str> {
    Vec::new()
}

fn no_secrets<'a>(_: &'a Site, _: At<'a>, _: &mut Slots<'a>) {}

fn no_images<'a>(_: &'a Site, _: At<'a>) -> Vec<ImageUse<'a>> {
    Vec::new()
}

fn no_addresses<'a>(_: &'a Site, _: At<'a>) -> Vec<Address<'a>> {
    Vec::new()
}

fn no_context(_: &Site) -> Map<String, Value> {
    Map::new()
}

/// The row every component starts from: enabled, and nothing else.
pub const BASE: Component = Component {
    name: "",
    unit: UnitOf::Entry,
    layer: Layer::Controllers,
    enabled: always,
    provides: nothing,
    needs: no_needs,
    charts: no_charts,
    secrets: no_secrets,
    images: no_images,
    addresses: no_addresses,
    context: no_context,
};

/// Every component, in the order units are listed and applied.
pub static COMPONENTS: &[Component] = &[
    Component {
        name: "flux",
        unit: UnitOf::Entry,
        layer: Layer::Controllers,
        ..BASE
    },
    Component {
        name: "sealed-secrets",
        unit: UnitOf::Own("sealed-secrets"),
        layer: Layer::Controllers,
        enabled: |s, _| !s.cluster_provides(ClusterService::SealedSecrets),
        provides: |_| vec![Capability::SealedSecrets],
        charts: |_, _| vec!["sealed-secrets"],
        ..BASE
    },
    Component {
        name: "gateway-api",
        unit: UnitOf::Own("gateway-api"),
        layer: Layer::Controllers,
        enabled: |s, _| s.gateway().is_some_and(|g| g.crds.is_some()),
        provides: |_| vec![Capability::GatewayApi],
        context: ingress::gateway_api_context,
        ..BASE
    },
    Component {
        name: "metallb",
        unit: UnitOf::Own("metallb"),
        layer: Layer::Controllers,
        enabled: |s, _| s.spec.metallb.is_some(),
        provides: |_| vec![Capability::LoadBalancerController],
        charts: |_, _| vec!["metallb"],
        context: network::metallb_context,
        ..BASE
    },
    Component {
        name: "rook-ceph-operator",
        unit: UnitOf::Own("rook-ceph-operator"),
        layer: Layer::Controllers,
        enabled: |s, _| s.spec.ceph.is_some(),
        provides: |_| vec![Capability::CephOperator],
        charts: |_, _| vec!["rook-ceph"],
        ..BASE
    },
    Component {
        name: "gpu-operator",
        unit: UnitOf::Own("gpu-operator"),
        layer: Layer::Controllers,
        enabled: gpu::enabled,
        provides: |_| vec![Capability::GpuDevicePlugin],
        charts: |_, _| vec!["gpu-operator"],
        context: gpu::context,
        ..BASE
    },
    Component {
        name: "calico",
        unit: UnitOf::Own("calico"),
        layer: Layer::Config,
        enabled: |s, _| s.spec.calico.is_some(),
        secrets: network::calico_secrets,
        context: network::calico_context,
        ..BASE
    },
    Component {
        name: "cilium",
        unit: UnitOf::Own("cilium"),
        layer: Layer::Config,
        enabled: |s, _| s.spec.cilium.is_some(),
        provides: cilium::provides,
        needs: cilium::needs,
        charts: |_, _| vec!["cilium"],
        secrets: cilium::secrets,
        context: cilium::context,
        ..BASE
    },
    Component {
        name: "metallb-config",
        unit: UnitOf::Own("metallb-config"),
        layer: Layer::Config,
        enabled: |s, _| s.spec.metallb.is_some(),
        provides: |_| vec![Capability::LoadBalancer],
        needs: network::metallb_config_needs,
        ..BASE
    },
    Component {
        name: "rook-ceph",
        unit: UnitOf::Own("rook-ceph-cluster"),
        layer: Layer::Config,
        enabled: |s, _| s.spec.ceph.is_some(),
        provides: ceph::provides,
        needs: ceph::needs,
        secrets: ceph::secrets,
        images: ceph::images,
        context: ceph::context,
        ..BASE
    },
    Component {
        name: "traefik",
        unit: UnitOf::Own("traefik"),
        layer: Layer::Platform,
        enabled: |s, _| s.spec.traefik.is_some(),
        provides: |_| vec![Capability::Ingress],
        needs: platform::traefik_needs,
        charts: |_, _| vec!["traefik"],
        addresses: platform::traefik_addresses,
        ..BASE
    },
    Component {
        name: "ingress-nginx",
        unit: UnitOf::Own("ingress-nginx"),
        layer: Layer::Platform,
        enabled: |s, _| {
            s.spec
                .ingress_nginx
                .as_ref()
                .is_some_and(|n| n.controller.is_some())
        },
        provides: |_| vec![Capability::Ingress],
        needs: ingress::nginx_needs,
        charts: |_, _| vec!["ingress-nginx"],
        addresses: ingress::nginx_addresses,
        ..BASE
    },
    Component {
        name: "gateway",
        unit: UnitOf::Own("gateway"),
        layer: Layer::Platform,
        enabled: |s, _| s.gateway().is_some_and(|g| g.class.is_some()),
        provides: |_| vec![Capability::Ingress],
        needs: ingress::gateway_needs,
        addresses: ingress::gateway_addresses,
        ..BASE
    },
    Component {
        name: "cvmfs",
        unit: UnitOf::Own("cvmfs"),
        layer: Layer::Platform,
        enabled: |s, _| s.spec.cvmfs.is_some(),
        provides: |_| vec![Capability::Cvmfs],
        charts: |_, _| vec!["cvmfs-csi"],
        ..BASE
    },
    Component {
        name: "dex",
        unit: UnitOf::Own("dex"),
        layer: Layer::Platform,
        enabled: |s, _| s.spec.dex.is_some(),
        provides: |_| vec![Capability::Oidc],
        needs: dex::needs,
        charts: |_, _| vec!["dex"],
        secrets: dex::secrets,
        context: dex::context,
        ..BASE
    },
    Component {
        name: "triton",
        unit: UnitOf::Own("triton"),
        layer: Layer::Apps,
        enabled: |s, _| s.spec.triton.is_some(),
        needs: platform::triton_needs,
        secrets: platform::triton_secrets,
        images: platform::triton_images,
        addresses: platform::triton_addresses,
        context: platform::triton_context,
        ..BASE
    },
    Component {
        name: "jupyterhub",
        unit: UnitOf::Instance,
        layer: Layer::Apps,
        needs: instance::hub_needs,
        charts: |_, _| vec!["jupyterhub"],
        secrets: instance::hub_secrets,
        images: instance::hub_images,
        addresses: instance::hub_addresses,
        context: instance::hub_context,
        ..BASE
    },
    Component {
        name: "dask",
        unit: UnitOf::Instance,
        layer: Layer::Apps,
        enabled: |_, at| at.instance().is_some_and(|i| i.spec.dask.is_some()),
        needs: instance::dask_needs,
        charts: instance::dask_charts,
        images: instance::dask_images,
        addresses: instance::dask_addresses,
        ..BASE
    },
];

impl Component {
    /// The instances this component runs for, or the site as a whole (once) when it is a
    /// site-wide component the site enables.
    pub fn targets<'a>(&self, site: &'a Site) -> Vec<At<'a>> {
        match self.unit {
            UnitOf::Instance => site
                .instances
                .iter()
                .map(At::Instance)
                .filter(|at| (self.enabled)(site, *at))
                .collect(),
            UnitOf::Entry | UnitOf::Own(_) => {
                if (self.enabled)(site, At::Site) {
                    vec![At::Site]
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// Whether the site runs it anywhere.
    pub fn is_enabled(&self, site: &Site) -> bool {
        !self.targets(site).is_empty()
    }

    /// The name of the unit it renders into for one target.
    pub fn unit_name(&self, at: At<'_>) -> String {
        match (self.unit, at) {
            (UnitOf::Entry, _) => "flux".to_owned(),
            (UnitOf::Own(u), _) => u.to_owned(),
            (UnitOf::Instance, At::Instance(i)) => {
                instance_unit(i.spec.instance.name.get_ref().as_str())
            }
            (UnitOf::Instance, At::Site) => String::new(),
        }
    }
}

/// The unit name of an instance.
pub fn instance_unit(instance: &str) -> String {
    format!("instance-{instance}")
}

impl Site {
    /// The registry rows of the components the site runs, in registry order.
    pub fn components(&self) -> impl Iterator<Item = &'static Component> + '_ {
        self.registry.iter().filter(|c| c.is_enabled(self))
    }

    /// Every (component, target) pair the site runs, in registry order then instance order.
    pub fn targets(&self) -> impl Iterator<Item = (&'static Component, At<'_>)> + '_ {
        self.registry
            .iter()
            .flat_map(move |c| c.targets(self).into_iter().map(move |at| (c, at)))
    }

    /// The same pairs in source order: site-wide components first, then each instance file
    /// with its components, so findings read top to bottom.
    pub fn targets_by_file(&self) -> Vec<(&'static Component, At<'_>)> {
        let mut v: Vec<_> = self.targets().collect();
        v.sort_by_key(|(_, at)| at.instance().map(|i| i.file));
        v
    }

    /// Every fixed LoadBalancer address the site's components ask for.
    pub fn lb_addresses(&self) -> Vec<Address<'_>> {
        self.targets_by_file()
            .into_iter()
            .flat_map(|(c, at)| (c.addresses)(self, at))
            .collect()
    }

    /// The registry row of a component by name.
    pub fn component(&self, name: &str) -> Option<&'static Component> {
        self.registry.iter().find(|c| c.name == name)
    }

    /// What a component needs at one target: its row's needs, plus the Sealed Secrets
    /// controller when it has a secret field (every sealed value becomes a SealedSecret).
    pub fn needs_of(&self, c: &Component, at: At<'_>) -> Vec<Need> {
        let mut needs = (c.needs)(self, at);
        let mut slots = Slots::for_target(self, c, at);
        (c.secrets)(self, at, &mut slots);
        if let Some(first) = slots.into_slots().first() {
            let backend = self.secrets_backend();
            needs.push(Need {
                capability: backend.capability(),
                at: Some((first.file, first.anchor.clone())),
                why: "a sealed value".to_owned(),
                fix: backend.fix().to_owned(),
            });
        }
        needs
    }

    /// The components that give a capability.
    pub fn providers(&self, cap: Capability) -> Vec<&'static Component> {
        self.components()
            .filter(|c| (c.provides)(self).contains(&cap))
            .collect()
    }

    /// Whether the cluster gives a capability without a component of the tree: declared in
    /// `[site] cluster_provides`, a StorageClass named in `[storage]`, or an ingress the
    /// cluster runs (ingress-nginx with no `controller` here, a `parent` Gateway).
    pub fn cluster_gives(&self, cap: Capability) -> bool {
        let declared = self
            .spec
            .site
            .cluster_provides
            .iter()
            .any(|p| p.get_ref().capability() == cap);
        declared
            || match cap {
                Capability::BlockStorage => self.cluster_storage(StorageUse::Block),
                Capability::SharedStorage => self.cluster_storage(StorageUse::Shared),
                Capability::Ingress => {
                    self.spec
                        .ingress_nginx
                        .as_ref()
                        .is_some_and(|n| n.controller.is_none())
                        || self
                            .gateway()
                            .is_some_and(|g| g.class.is_none() && g.parent.is_some())
                }
                _ => false,
            }
    }

    /// Whether a component of the tree or the cluster gives a capability.
    pub fn is_provided(&self, cap: Capability) -> bool {
        self.cluster_gives(cap) || !self.providers(cap).is_empty()
    }
}

/// The Flux units of the site, in apply order: one per site-wide unit name, one per
/// instance. A unit depends on every unit of the layer before it (CRDs and operators, then
/// cluster configuration, then platform services, then applications and instances) and on
/// the units of its own layer that provide what its components need.
pub fn units(site: &Site) -> Vec<Unit> {
    let mut v: Vec<Unit> = Vec::new();
    let mut needs: Vec<Vec<Capability>> = Vec::new();
    for (c, at) in site.targets() {
        let name = c.unit_name(at);
        let idx = match v.iter().position(|u| u.name == name) {
            Some(i) => i,
            None => {
                v.push(new_unit(site, c, at, &name));
                needs.push(Vec::new());
                v.len() - 1
            }
        };
        if !v[idx].components.contains(&c.name) {
            v[idx].components.push(c.name);
        }
        needs[idx].extend((c.needs)(site, at).into_iter().map(|n| n.capability));
    }
    let names_in = |v: &[Unit], layer: Layer| -> Vec<String> {
        v.iter()
            .filter(|u| u.layer == layer && !u.entry)
            .map(|u| u.name.clone())
            .collect()
    };
    let by_layer: Vec<(Layer, Vec<String>)> = [Layer::Controllers, Layer::Config, Layer::Platform]
        .into_iter()
        .map(|l| (l, names_in(&v, l)))
        .collect();
    let provider_units = |cap: Capability, layer: Layer| -> Vec<String> {
        site.providers(cap)
            .into_iter()
            .filter(|c| c.layer == layer && c.unit != UnitOf::Instance)
            .map(|c| c.unit_name(At::Site))
            .collect()
    };
    for (u, needs) in v.iter_mut().zip(needs) {
        if u.entry {
            continue;
        }
        let before = match u.layer {
            Layer::Controllers => None,
            Layer::Config => Some(Layer::Controllers),
            Layer::Platform => Some(Layer::Config),
            Layer::Apps => Some(Layer::Platform),
        };
        if let Some((_, names)) = before.and_then(|b| by_layer.iter().find(|(l, _)| *l == b)) {
            u.depends_on = names.clone();
        }
        for cap in needs {
            for p in provider_units(cap, u.layer) {
                if p != u.name && !u.depends_on.contains(&p) {
                    u.depends_on.push(p);
                }
            }
        }
    }
    v
}

fn new_unit(site: &Site, c: &Component, at: At<'_>, name: &str) -> Unit {
    let (path, instance, suspend) = match at {
        At::Instance(i) => {
            let n = i.spec.instance.name.get_ref().to_string();
            (format!("instances/{n}"), Some(n), i.spec.instance.suspend)
        }
        At::Site if c.unit == UnitOf::Entry => (format!("clusters/{}", site.name()), None, false),
        At::Site => (name.to_owned(), None, false),
    };
    Unit {
        name: name.to_owned(),
        layer: c.layer,
        path,
        components: Vec::new(),
        instance,
        depends_on: Vec::new(),
        suspend,
        entry: c.unit == UnitOf::Entry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::site_with;

    #[test]
    fn template_folders_and_rows_are_one_to_one() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut folders: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "common")
            .collect();
        folders.sort();
        let mut rows: Vec<String> = COMPONENTS.iter().map(|c| c.name.to_owned()).collect();
        rows.sort();
        assert_eq!(folders, rows, "templates/<folder> and COMPONENTS rows");
        let mut unique = rows.clone();
        unique.dedup();
        assert_eq!(unique, rows, "component names are unique");
    }

    #[test]
    fn context_keys_are_unique_across_components() {
        let (site, _) = site_with(&[], &[]);
        let mut seen: Vec<(String, &str)> = Vec::new();
        for c in COMPONENTS {
            for (k, v) in (c.context)(&site) {
                // Nested maps merge, so only leaves may not clash.
                let leaves: Vec<String> = match &v {
                    Value::Object(m) => m.keys().map(|l| format!("{k}.{l}")).collect(),
                    _ => vec![k.clone()],
                };
                for l in leaves {
                    assert!(
                        !seen.iter().any(|(s, _)| *s == l),
                        "{l} from {} and {:?}",
                        c.name,
                        seen.iter().find(|(s, _)| *s == l)
                    );
                    seen.push((l, c.name));
                }
            }
        }
    }

    #[test]
    fn the_reference_site_runs_every_component_but_the_alternatives_it_did_not_choose() {
        let (site, _) = site_with(&[], &[]);
        let names: Vec<&str> = site.components().map(|c| c.name).collect();
        let not_chosen = ["gateway-api", "cilium", "ingress-nginx", "gateway"];
        assert_eq!(
            names,
            COMPONENTS
                .iter()
                .map(|c| c.name)
                .filter(|n| !not_chosen.contains(n))
                .collect::<Vec<_>>()
        );
        let triton = &crate::validate::testing::SITE
            [crate::validate::testing::SITE.find("[triton]").unwrap()..];
        let (site, _) = site_with(&[(triton, "")], &[]);
        assert!(site.component("triton").is_some());
        assert!(!site.components().any(|c| c.name == "triton"));
    }
}
