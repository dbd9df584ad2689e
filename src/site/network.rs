//! Addressing and routing: the cluster's CIDRs, Calico (IP pools, BGP to the top-of-rack
//! switches) and MetalLB (LoadBalancer address pools, and who advertises them).

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::components::{At, Capability, Need};
use super::secrets::Slots;
use super::types::{Asn, Cidr, DnsLabel, SealedValue};
use super::{Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The subnet the nodes (and the control-plane VIP) live in.
    #[schemars(with = "Cidr")]
    pub node_subnet: Spanned<Cidr>,
    #[schemars(with = "Cidr")]
    pub pod_cidr: Spanned<Cidr>,
    #[schemars(with = "Cidr")]
    pub service_cidr: Spanned<Cidr>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
pub enum Encapsulation {
    /// Routes exchanged with the top-of-rack switches by BGP.
    None,
    IPIP,
    IPIPCrossSubnet,
    VXLAN,
    VXLANCrossSubnet,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Calico {
    #[serde(default)]
    pub ip_pool: Vec<IpPool>,
    /// BGP; absent on sites that use encapsulation only.
    pub bgp: Option<Bgp>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IpPool {
    pub name: DnsLabel,
    #[schemars(with = "Cidr")]
    pub cidr: Spanned<Cidr>,
    /// Per-node block prefix length, 20..=32 for IPv4 (Calico's default 26).
    #[schemars(with = "u8")]
    pub block_size: Spanned<u8>,
    pub encapsulation: Encapsulation,
    pub nat_outgoing: bool,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bgp {
    /// The cluster's AS number.
    #[schemars(with = "Asn")]
    pub asn: Spanned<Asn>,
    pub node_to_node_mesh: bool,
    /// Advertise the service CIDR (ClusterIPs) to the peers.
    pub advertise_cluster_ips: bool,
    #[serde(default)]
    pub peer: Vec<BgpPeer>,
}

/// A BGP router every node peers with (a top-of-rack switch), for Calico or Cilium.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BgpPeer {
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    #[schemars(with = "super::types::IpAddress")]
    pub ip: Spanned<IpAddr>,
    #[schemars(with = "Asn")]
    pub asn: Spanned<Asn>,
    /// BGP session password (TCP MD5), sealed; without it the session is unauthenticated.
    #[schemars(with = "Option<SealedValue>")]
    pub password: Option<Spanned<SealedValue>>,
}

/// Who announces a MetalLB pool's addresses to the network.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Advertiser {
    /// Calico's BGP sessions (`serviceLoadBalancerIPs`); MetalLB only allocates.
    Calico,
    /// MetalLB's own speakers over BGP.
    MetallbBgp,
    /// MetalLB's speakers by ARP/NDP on the node subnet.
    MetallbL2,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetalLb {
    #[serde(default)]
    pub pool: Vec<LbPool>,
    /// MetalLB's own BGP peers (only with `advertise = "metallb-bgp"`).
    #[serde(default)]
    pub peer: Vec<MetalLbPeer>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbPool {
    pub name: DnsLabel,
    #[schemars(with = "Vec<Cidr>")]
    pub addresses: Vec<Spanned<Cidr>>,
    pub auto_assign: bool,
    #[schemars(with = "Advertiser")]
    pub advertise: Spanned<Advertiser>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetalLbPeer {
    pub name: DnsLabel,
    #[schemars(with = "super::types::IpAddress")]
    pub ip: Spanned<IpAddr>,
    #[schemars(with = "Asn")]
    pub asn: Spanned<Asn>,
    #[schemars(with = "Asn")]
    pub my_asn: Spanned<Asn>,
}

impl MetalLb {
    /// The pool holding an address, if any.
    pub fn pool_of(&self, ip: &IpAddr) -> Option<&LbPool> {
        self.pool
            .iter()
            .find(|p| p.addresses.iter().any(|c| c.get_ref().contains(ip)))
    }
}

/// The Secret Calico reads the BGP peers' passwords from, in the namespace calico-node runs in.
pub const BGP_SECRET: &str = "bgp-passwords";
pub const CALICO_NAMESPACE: &str = "calico-system";

/// The annotation MetalLB reads a Service's requested address from (metallb@v0.16.1
/// `controller/service.go` AnnotationLoadBalancerIPs).
pub const METALLB_LB_ANNOTATION: &str = "metallb.io/loadBalancerIPs";

/// One LoadBalancer address pool, from whichever component hands out addresses.
#[derive(Debug, Clone)]
pub struct LbPoolRef<'a> {
    /// How messages name it (`MetalLB pool `public``).
    pub what: String,
    pub addresses: &'a [Spanned<Cidr>],
}

impl Site {
    /// Every LoadBalancer address pool of the site (MetalLB's and Cilium LB IPAM's).
    pub fn lb_pools(&self) -> Vec<LbPoolRef<'_>> {
        let metallb = self
            .spec
            .metallb
            .iter()
            .flat_map(|m| &m.pool)
            .map(|p| LbPoolRef {
                what: format!("MetalLB pool `{}`", p.name),
                addresses: &p.addresses,
            });
        let cilium = self
            .spec
            .cilium
            .iter()
            .flat_map(|c| &c.lb_pool)
            .map(|p| LbPoolRef {
                what: format!("Cilium LB IPAM pool `{}`", p.name),
                addresses: &p.addresses,
            });
        metallb.chain(cilium).collect()
    }

    /// The annotation a Service asks its LoadBalancer address with, for the component
    /// that hands out addresses (MetalLB first when, wrongly, both do).
    pub fn lb_annotation(&self) -> Option<&'static str> {
        if self.spec.metallb.is_some() {
            Some(METALLB_LB_ANNOTATION)
        } else if self
            .spec
            .cilium
            .as_ref()
            .is_some_and(|c| !c.lb_pool.is_empty())
        {
            Some(super::cilium::CILIUM_LB_ANNOTATION)
        } else {
            None
        }
    }
}

pub(super) fn calico_secrets<'a>(site: &'a Site, _: At<'a>, slots: &mut Slots<'a>) {
    let Some(bgp) = site.spec.calico.as_ref().and_then(|c| c.bgp.as_ref()) else {
        return;
    };
    for (i, p) in bgp.peer.iter().enumerate() {
        // A peer without a password has an unauthenticated session: no secret field.
        if p.password.is_none() {
            continue;
        }
        let idx = i.to_string();
        slots.add(
            &["calico", "bgp", "peer", &idx, "password"],
            CALICO_NAMESPACE,
            BGP_SECRET,
            p.name.get_ref().as_str(),
            p.password.as_ref(),
            p.name.span(),
        );
    }
}

impl IpPool {
    /// Whether the pool lies inside the cluster's pod CIDR: the pods' own pool. Without a
    /// `[network]` no pool is known to be the pods' (every one is applied as an object).
    pub fn is_pod_pool(&self, network: Option<&Network>) -> bool {
        network.is_some_and(|n| {
            n.pod_cidr
                .get_ref()
                .net()
                .contains(&self.cidr.get_ref().net())
        })
    }
}

impl Site {
    fn calico_pools(&self) -> impl Iterator<Item = &IpPool> {
        self.spec.calico.iter().flat_map(|c| &c.ip_pool)
    }

    /// The Calico IP pools inside the pod CIDR. They belong to the operator's `Installation`,
    /// made before Flux runs (`out/BOOTSTRAP.md`): without a pool at install time the operator
    /// makes its own from kubeadm's podSubnet (tigera/operator@v1.42.3:pkg/controller/ippool/
    /// defaults.go `mergePlatformPodCIDRs`), and a second pool with the same CIDR applied later
    /// by Flux is refused for the overlap (calico@v3.32.1:libcalico-go/lib/clientv3/ippool.go
    /// "CIDR overlaps with IPPool").
    pub fn calico_pod_pools(&self) -> impl Iterator<Item = &IpPool> {
        let net = self.spec.network.as_ref();
        self.calico_pools().filter(move |p| p.is_pod_pool(net))
    }

    /// The other Calico IP pools: Flux applies them as `projectcalico.org/v3` IPPools (the
    /// operator leaves pools it does not own alone: pool_controller.go `hasOwnerLabel`).
    pub fn calico_extra_pools(&self) -> impl Iterator<Item = &IpPool> {
        let net = self.spec.network.as_ref();
        self.calico_pools().filter(move |p| !p.is_pod_pool(net))
    }
}

/// The LoadBalancer ranges Calico announces (`serviceLoadBalancerIPs`), and the IP pools
/// Flux applies.
pub(super) fn calico_context(site: &Site) -> Map<String, Value> {
    let cidrs: Vec<String> = site
        .spec
        .metallb
        .iter()
        .flat_map(|m| &m.pool)
        .filter(|p| *p.advertise.get_ref() == Advertiser::Calico)
        .flat_map(|p| p.addresses.iter().map(|a| a.get_ref().to_string()))
        .collect();
    let pools: Vec<Value> = site.calico_extra_pools().map(|p| json!(p)).collect();
    Map::from_iter([
        ("calico_lb_cidrs".to_owned(), json!(cidrs)),
        ("calico_flux_pools".to_owned(), json!(pools)),
    ])
}

/// Where Calico announces MetalLB's pools, an address is reachable only once Calico's BGP
/// configuration is applied: Calico is then a provider of LoadBalancer addresses too, and a
/// Service with a fixed address (Traefik answering the ACME challenge, Dex's issuer) waits
/// for both.
pub(super) fn calico_provides(site: &Site) -> Vec<Capability> {
    if site
        .spec
        .metallb
        .iter()
        .flat_map(|m| &m.pool)
        .any(|p| *p.advertise.get_ref() == Advertiser::Calico)
    {
        vec![Capability::LoadBalancer]
    } else {
        Vec::new()
    }
}

/// Whether Flux has anything of Calico's to apply: BGP, or pools besides the pod pool (the
/// CNI itself and the pod pool are bootstrap steps).
pub(super) fn calico_enabled(site: &Site, _: At<'_>) -> bool {
    site.spec
        .calico
        .as_ref()
        .is_some_and(|c| c.bgp.is_some() || site.calico_extra_pools().next().is_some())
}

/// Calico's own kinds, served by its API server (a bootstrap step).
pub(super) fn calico_kinds(_: &Site, _: At<'_>) -> Vec<&'static str> {
    vec!["projectcalico.org"]
}

/// Whether MetalLB runs its speakers (not when Calico announces every pool), and whether the
/// speakers need the bundled FRR-K8s BGP backend (only where MetalLB itself speaks BGP: a
/// pool it announces by BGP, or peers of its own).
pub(super) fn metallb_context(site: &Site) -> Map<String, Value> {
    let pools: Vec<&LbPool> = site.spec.metallb.iter().flat_map(|m| &m.pool).collect();
    let speaker = pools
        .iter()
        .any(|p| *p.advertise.get_ref() != Advertiser::Calico);
    let bgp = speaker
        && (pools
            .iter()
            .any(|p| *p.advertise.get_ref() == Advertiser::MetallbBgp)
            || site
                .spec
                .metallb
                .as_ref()
                .is_some_and(|m| !m.peer.is_empty()));
    Map::from_iter([
        ("metallb_speaker".to_owned(), json!(speaker)),
        ("metallb_frrk8s".to_owned(), json!(bgp)),
    ])
}

pub(super) fn metallb_config_needs<'a>(site: &'a Site, _: At<'a>) -> Vec<Need> {
    vec![Need {
        capability: Capability::LoadBalancerController,
        at: site
            .spec
            .metallb
            .as_ref()
            .and_then(|m| m.pool.first())
            .map(|p| (site.file, p.advertise.span())),
        why: "MetalLB address pools".to_owned(),
        fix: "run MetalLB's controller (the `metallb` component)".to_owned(),
    }]
}
