//! Addressing and routing: the cluster's CIDRs, Calico (IP pools, BGP to the top-of-rack
//! switches) and MetalLB (LoadBalancer address pools, and who advertises them).

use std::net::IpAddr;

use super::Spanned;
use super::types::{Asn, Cidr, DnsLabel, SealedValue};

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

/// A top-of-rack switch every node peers with.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BgpPeer {
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    #[schemars(with = "String")]
    pub ip: Spanned<IpAddr>,
    #[schemars(with = "Asn")]
    pub asn: Spanned<Asn>,
    /// BGP session password (TCP MD5), sealed. Required: casa-build does not emit unauthenticated
    /// sessions to the switches.
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
    #[schemars(with = "String")]
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
