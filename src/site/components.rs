//! The component registry: every component a tree can hold, one row each, shaped like the
//! rule table (`validate::RULES`). A row says where the component's objects go (its Flux
//! unit and layer), whether the site runs it, what it gives and needs, and points at the
//! hooks in its model file that name its charts, secrets, images, addresses, DNS names and
//! the values its templates derive, the CRDs its charts install and the custom kinds its
//! templates emit. Units and their `dependsOn`, secret slots, chart pinning, image and address
//! rules, the requirement rule, SealedSecret grouping and the bootstrap notes are all loops
//! over this table, so a new component is its model file, its template folder (named like the
//! row), its row and its rules.

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
    /// API groups whose CustomResourceDefinitions its charts install: a unit emitting a kind
    /// of such a group depends on this component's unit.
    pub crds: &'static [&'static str],
    /// API groups of the custom kinds its templates emit (SealedSecrets follow from its secret
    /// fields and need no entry). `check` holds every rendered object to this list.
    pub kinds: fn(&Site, At<'_>) -> Vec<&'static str>,
    /// The public DNS names it serves, for the bootstrap notes.
    pub dns: for<'a> fn(&'a Site, At<'a>) -> Vec<DnsName>,
    /// How long Flux waits for its objects to become healthy, per reconciliation.
    pub timeout_minutes: u32,
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

/// A public DNS name a component serves, and what it must point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsName {
    pub name: String,
    pub target: DnsTarget,
    /// What the name is for, as the bootstrap notes list it.
    pub what: String,
}

/// Where a DNS name points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsTarget {
    /// A LoadBalancer address of the component itself.
    Address(IpAddr),
    /// Whatever address the site's ingress controller has (the name is one of its routes).
    Ingress,
}

/// API groups installed before Flux reconciles (see `out/BOOTSTRAP.md`), not by a unit: the
/// Calico API server serves `projectcalico.org/v3` once the operator's `APIServer default` is
/// up (tigera/operator@v1.42.3:pkg/apis/version.go; calico@v3.32.1:manifests/custom-resources.yaml).
/// Cilium, the other CNI, is installed before Flux too, and its operator registers the
/// `cilium.io` CRDs at start (docs.cilium.io/en/v1.19, "CRD Management").
pub const BOOTSTRAP_GROUPS: &[&str] = &["projectcalico.org", "cilium.io"];

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

fn no_kinds(_: &Site, _: At<'_>) -> Vec<&'static str> {
    Vec::new()
}

fn no_dns<'a>(_: &'a Site, _: At<'a>) -> Vec<DnsName> {
    Vec::new()
}

/// Flux's own wait when a component says nothing: long enough for image pulls and a chart's
/// hooks, short enough that a stuck unit reports within a reconcile interval or two.
pub const DEFAULT_TIMEOUT_MINUTES: u32 = 15;

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
    crds: &[],
    kinds: no_kinds,
    dns: no_dns,
    timeout_minutes: DEFAULT_TIMEOUT_MINUTES,
};

/// Every component, in the order units are listed and applied.
pub static COMPONENTS: &[Component] = &[
    Component {
        name: "flux",
        unit: UnitOf::Entry,
        layer: Layer::Controllers,
        // Installed by `flux bootstrap`, before any unit.
        crds: &[
            "source.toolkit.fluxcd.io",
            "kustomize.toolkit.fluxcd.io",
            "helm.toolkit.fluxcd.io",
        ],
        ..BASE
    },
    Component {
        name: "sealed-secrets",
        unit: UnitOf::Own("sealed-secrets"),
        layer: Layer::Controllers,
        enabled: |s, _| !s.cluster_provides(ClusterService::SealedSecrets),
        provides: |_| vec![Capability::SealedSecrets],
        charts: |_, _| vec!["sealed-secrets"],
        // sealed-secrets@helm-v2.18.5:helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml
        crds: &["bitnami.com"],
        ..BASE
    },
    Component {
        name: "gateway-api",
        unit: UnitOf::Own("gateway-api"),
        layer: Layer::Controllers,
        enabled: |s, _| s.gateway().is_some_and(|g| g.crds.is_some()),
        provides: |_| vec![Capability::GatewayApi],
        context: ingress::gateway_api_context,
        // Its nested Kustomization applies kubernetes-sigs/gateway-api's config/crd.
        crds: &["gateway.networking.k8s.io"],
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
        // metallb@v0.16.1:charts/metallb/Chart.yaml (dependency `crds`, condition crds.enabled)
        crds: &["metallb.io"],
        ..BASE
    },
    Component {
        name: "rook-ceph-operator",
        unit: UnitOf::Own("rook-ceph-operator"),
        layer: Layer::Controllers,
        enabled: |s, _| s.spec.ceph.is_some(),
        provides: |_| vec![Capability::CephOperator],
        charts: |_, _| vec!["rook-ceph", "ceph-csi-drivers"],
        context: ceph::operator_context,
        // rook@v1.20.6:deploy/charts/rook-ceph/templates/resources.yaml (ceph.rook.io,
        // objectbucket.io) and its ceph-csi-operator 1.0.4 subchart (csi.ceph.io).
        crds: &["ceph.rook.io", "objectbucket.io", "csi.ceph.io"],
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
        // NVIDIA/gpu-operator@v26.7.0:deployments/gpu-operator/crds/ (ClusterPolicy,
        // NVIDIADriver, GPUCluster; resource.nvidia.com for the DRA driver) and its
        // node-feature-discovery subchart.
        crds: &["nvidia.com", "resource.nvidia.com", "nfd.k8s-sigs.io"],
        ..BASE
    },
    Component {
        name: "calico",
        unit: UnitOf::Own("calico"),
        layer: Layer::Config,
        enabled: network::calico_enabled,
        provides: network::calico_provides,
        secrets: network::calico_secrets,
        context: network::calico_context,
        kinds: network::calico_kinds,
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
        kinds: |_, _| vec!["cilium.io"],
        ..BASE
    },
    Component {
        name: "metallb-config",
        unit: UnitOf::Own("metallb-config"),
        layer: Layer::Config,
        enabled: |s, _| s.spec.metallb.is_some(),
        provides: |_| vec![Capability::LoadBalancer],
        needs: network::metallb_config_needs,
        kinds: |_, _| vec!["metallb.io"],
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
        kinds: |_, _| vec!["ceph.rook.io"],
        timeout_minutes: ceph::TIMEOUT_MINUTES,
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
        context: platform::traefik_context,
        // traefik-helm-chart@v41.3.0:traefik/crds/traefik.io_*.yaml
        crds: &["traefik.io"],
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
        kinds: |_, _| vec!["gateway.networking.k8s.io"],
        ..BASE
    },
    Component {
        name: "cvmfs",
        unit: UnitOf::Own("cvmfs"),
        layer: Layer::Platform,
        enabled: |s, _| s.spec.cvmfs.is_some(),
        provides: |_| vec![Capability::Cvmfs],
        charts: |_, _| vec!["cvmfs-csi"],
        context: platform::cvmfs_context,
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
        kinds: ingress::route_kinds,
        dns: dex::dns,
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
        kinds: platform::triton_kinds,
        dns: platform::triton_dns,
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
        kinds: ingress::route_kinds,
        dns: instance::hub_dns,
        ..BASE
    },
    Component {
        name: "htcondor",
        unit: UnitOf::Instance,
        layer: Layer::Apps,
        enabled: |_, at| at.instance().is_some_and(instance::runs_pool),
        images: instance::pool_images,
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
        dns: instance::dask_dns,
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
/// instance. A unit depends on exactly what its components need: the units of the components
/// that provide each capability they need (`needs`, plus the Sealed Secrets controller for a
/// secret field), and the units that install the CRDs of the kinds they emit (`kinds` against
/// `crds`). Nothing else: a unit does not wait for a whole layer (Triton does not wait for
/// Dex or CVMFS). The entry unit and what is installed before Flux (`BOOTSTRAP_GROUPS`) are
/// never waited for: they exist before any unit is applied.
pub fn units(site: &Site) -> Vec<Unit> {
    let mut v: Vec<Unit> = Vec::new();
    let mut wants: Vec<Vec<String>> = Vec::new();
    for (c, at) in site.targets() {
        let name = c.unit_name(at);
        let idx = match v.iter().position(|u| u.name == name) {
            Some(i) => i,
            None => {
                v.push(new_unit(site, c, at, &name));
                wants.push(Vec::new());
                v.len() - 1
            }
        };
        let unit = &mut v[idx];
        if !unit.components.contains(&c.name) {
            unit.components.push(c.name);
        }
        unit.timeout_minutes = unit.timeout_minutes.max(c.timeout_minutes);
        for need in site.needs_of(c, at) {
            wants[idx].extend(
                site.providers(need.capability)
                    .into_iter()
                    .filter(|p| p.unit != UnitOf::Instance)
                    .map(|p| p.unit_name(At::Site)),
            );
        }
        for group in (c.kinds)(site, at) {
            wants[idx].extend(crd_units(site, group));
        }
    }
    let order: Vec<String> = v.iter().map(|u| u.name.clone()).collect();
    let entries: Vec<String> = v
        .iter()
        .filter(|u| u.entry)
        .map(|u| u.name.clone())
        .collect();
    for (u, wants) in v.iter_mut().zip(wants) {
        if u.entry {
            continue;
        }
        let mut deps: Vec<String> = wants
            .into_iter()
            .filter(|d| *d != u.name && !entries.contains(d))
            .collect();
        // Apply order, then once each: the list reads like the units do.
        deps.sort_by_key(|d| order.iter().position(|o| o == d).unwrap_or(usize::MAX));
        deps.dedup();
        u.depends_on = deps;
    }
    v
}

/// The units whose components install the CRDs of an API group; none for a group that
/// exists before any unit is applied (installed by the bootstrap or by `flux bootstrap`).
pub fn crd_units(site: &Site, group: &str) -> Vec<String> {
    if is_preinstalled(site, group) {
        return Vec::new();
    }
    site.components()
        .filter(|p| p.crds.contains(&group) && matches!(p.unit, UnitOf::Own(_)))
        .map(|p| p.unit_name(At::Site))
        .collect()
}

/// Whether an API group's CRDs exist before Flux applies any unit.
pub fn is_preinstalled(site: &Site, group: &str) -> bool {
    BOOTSTRAP_GROUPS.contains(&group)
        || site
            .registry
            .iter()
            .any(|c| c.unit == UnitOf::Entry && c.crds.contains(&group))
}

/// Every API group some component of the registry installs, or the bootstrap does.
pub fn crd_groups(site: &Site) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = site
        .registry
        .iter()
        .flat_map(|c| c.crds.iter().copied())
        .chain(BOOTSTRAP_GROUPS.iter().copied())
        .collect();
    v.sort_unstable();
    v.dedup();
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
        timeout_minutes: 0,
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
        // The rule tests load CMS-Prod alone, which scales out to the Tier-2: no pool.
        let not_chosen = [
            "gateway-api",
            "cilium",
            "ingress-nginx",
            "gateway",
            "htcondor",
        ];
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

    fn deps(units: &[Unit], name: &str) -> Vec<String> {
        units
            .iter()
            .find(|u| u.name == name)
            .unwrap_or_else(|| panic!("no unit {name}"))
            .depends_on
            .clone()
    }

    #[test]
    fn units_depend_on_what_their_components_need_and_nothing_else() {
        let (site, _) = site_with(&[], &[]);
        let u = units(&site);
        // Triton: its sealed keys, the bucket claim's CRD, the GPU device plugin, its
        // LoadBalancer address (a MetalLB pool Calico announces) and the object store. Not
        // Dex, not CVMFS, not Traefik.
        assert_eq!(
            deps(&u, "triton"),
            [
                "sealed-secrets",
                "rook-ceph-operator",
                "gpu-operator",
                "calico",
                "metallb-config",
                "rook-ceph-cluster"
            ]
        );
        // CVMFS needs nothing; Dex its sealed environment and the ingress whose kind it uses.
        assert!(deps(&u, "cvmfs").is_empty());
        assert_eq!(deps(&u, "dex"), ["sealed-secrets", "traefik"]);
        assert_eq!(deps(&u, "metallb-config"), ["metallb"]);
        assert_eq!(
            deps(&u, "rook-ceph-cluster"),
            ["sealed-secrets", "rook-ceph-operator"]
        );
        assert_eq!(
            deps(&u, "traefik"),
            ["calico", "metallb-config", "rook-ceph-cluster"]
        );
        assert_eq!(
            deps(&u, "instance-cms-prod"),
            [
                "sealed-secrets",
                "calico",
                "metallb-config",
                "rook-ceph-cluster",
                "traefik",
                "cvmfs",
                "dex"
            ]
        );
        for unit in &u {
            assert!(
                !unit.depends_on.contains(&unit.name),
                "{} on itself",
                unit.name
            );
            assert!(
                !unit.depends_on.contains(&"flux".to_owned()),
                "{} on the entry",
                unit.name
            );
            if unit.entry {
                assert!(unit.depends_on.is_empty());
            }
        }
        assert_eq!(
            u.iter()
                .find(|x| x.name == "rook-ceph-cluster")
                .unwrap()
                .timeout_minutes,
            ceph::TIMEOUT_MINUTES
        );
    }

    #[test]
    fn without_acme_traefik_needs_no_storage_and_without_pools_calico_provides_none() {
        let (site, _) = site_with(
            &[(
                "tls = { acme_email = \"cms-support@cse.unl.edu\" }",
                "tls = {}",
            )],
            &[],
        );
        assert_eq!(deps(&units(&site), "traefik"), ["calico", "metallb-config"]);
    }

    fn uses_traefik_kinds(_: &Site, _: At<'_>) -> Vec<&'static str> {
        vec!["traefik.io"]
    }

    static WITH_ROUTE: std::sync::LazyLock<Vec<Component>> = std::sync::LazyLock::new(|| {
        let mut v = COMPONENTS.to_vec();
        v.push(Component {
            name: "router",
            unit: UnitOf::Own("router"),
            layer: Layer::Apps,
            kinds: uses_traefik_kinds,
            ..BASE
        });
        v
    });

    #[test]
    fn a_kind_of_a_crd_group_makes_its_unit_wait_for_the_installer() {
        let (site, _) = site_with(&[], &[]);
        let site = Site {
            registry: &WITH_ROUTE,
            ..site
        };
        // No need at all, only a kind: the unit installing traefik.io's CRDs.
        assert_eq!(deps(&units(&site), "router"), ["traefik"]);
        assert_eq!(crd_units(&site, "traefik.io"), ["traefik"]);
        // Installed before Flux: nothing to wait for.
        assert!(crd_units(&site, "projectcalico.org").is_empty());
        assert!(crd_units(&site, "helm.toolkit.fluxcd.io").is_empty());
        assert!(is_preinstalled(&site, "kustomize.toolkit.fluxcd.io"));
        assert!(!is_preinstalled(&site, "ceph.rook.io"));
    }

    #[test]
    fn an_instance_in_pool_mode_runs_its_own_htcondor_pool() {
        let (site, _) = site_with(
            &[],
            &[(
                "mode = \"tier2\"",
                "mode = \"pool\"\npool = { submitter = \"cms-jovyan\", execute_nodes = 2, token_days = 30 }",
            )],
        );
        let htcondor = site.component("htcondor").unwrap();
        let targets = htcondor.targets(&site);
        assert_eq!(targets.len(), 1);
        assert_eq!(htcondor.unit_name(targets[0]), "instance-cms-prod");
        // its daemons' image is the site's, checked like every image the site names
        let images = (htcondor.images)(&site, targets[0]);
        assert_eq!(
            images[0].image.get_ref().to_string(),
            "docker.io/htcondor/base:25.0.13-el9"
        );
    }
}
