//! Cilium as the CNI: its HelmRelease (which takes over the release installed at bootstrap:
//! a cluster has no pod network for Flux before Cilium runs), LB IPAM pools for LoadBalancer
//! addresses, and the BGP control plane (v2 API) or L2 announcements that make them reachable.

use serde_json::{Map, Value, json};

use super::components::{At, Capability, Need};
use super::secrets::Slots;
use super::types::{Asn, Cidr, DnsLabel};
use super::{Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cilium {
    /// Where Cilium runs (the namespace of the bootstrap install, usually `kube-system`).
    pub namespace: DnsLabel,
    /// Replace kube-proxy; the agents then reach the API server at `[control_plane]`'s VIP.
    /// L2 announcements and Cilium's Gateway API need it.
    #[schemars(with = "bool")]
    pub kube_proxy_replacement: Spanned<bool>,
    /// How pod traffic crosses nodes.
    pub routing: CiliumRouting,
    /// Pod CIDR block size per node (cluster-pool IPAM), 16..=28 for IPv4.
    pub pod_cidr_mask_size: u8,
    /// LoadBalancer address pools (LB IPAM).
    #[serde(default)]
    pub lb_pool: Vec<CiliumLbPool>,
    /// BGP sessions to the routers (BGP control plane).
    pub bgp: Option<CiliumBgp>,
    /// Network interfaces L2 announcements answer ARP on (regular expressions); pools
    /// announced by `l2` need it.
    #[serde(default)]
    pub l2_interfaces: Vec<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CiliumRouting {
    /// VXLAN tunnels between nodes.
    Vxlan,
    /// Geneve tunnels between nodes.
    Geneve,
    /// Native routing: nodes on one L2 segment install each other's pod routes.
    Native,
}

/// Who makes a Cilium pool's addresses reachable.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CiliumAnnounce {
    /// The BGP control plane advertises them to `[cilium.bgp]` peers.
    Bgp,
    /// L2 announcements (ARP/NDP on the node subnet).
    L2,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CiliumLbPool {
    pub name: DnsLabel,
    #[schemars(with = "Vec<Cidr>")]
    pub addresses: Vec<Spanned<Cidr>>,
    #[schemars(with = "CiliumAnnounce")]
    pub announce: Spanned<CiliumAnnounce>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CiliumBgp {
    /// The cluster's AS number.
    #[schemars(with = "Asn")]
    pub asn: Spanned<Asn>,
    /// Advertise each node's pod CIDR (native routing towards the routers).
    pub advertise_pod_cidr: bool,
    #[serde(default)]
    /// Routers every node peers with: the same session settings as Calico's peers.
    pub peer: Vec<super::network::BgpPeer>,
}

/// The Secret holding a Cilium BGP peer's password (key `password`), in Cilium's BGP
/// secrets namespace: the chart's `bgpControlPlane.secretsNamespace.name`, the agent's
/// namespace unless changed.
pub fn cilium_peer_secret(peer: &str) -> String {
    format!("bgp-peer-{peer}")
}

/// The annotation Cilium LB IPAM reads a requested address from (docs.cilium.io/en/v1.19/
/// network/lb-ipam/ "Requesting IPs"; `io.cilium/lb-ipam-ips` is the deprecated name).
pub const CILIUM_LB_ANNOTATION: &str = "lbipam.cilium.io/ips";

pub(super) fn provides(site: &Site) -> Vec<Capability> {
    match &site.spec.cilium {
        Some(c) if !c.lb_pool.is_empty() => vec![Capability::LoadBalancer],
        _ => Vec::new(),
    }
}

pub(super) fn needs<'a>(site: &'a Site, _: At<'a>) -> Vec<Need> {
    let Some(c) = &site.spec.cilium else {
        return Vec::new();
    };
    let mut v = Vec::new();
    if site.gateway().is_some_and(|g| g.uses_cilium()) {
        v.push(Need {
            capability: Capability::GatewayApi,
            at: Some((site.file, c.kube_proxy_replacement.span())),
            why: "Cilium's Gateway API support watches the Gateway API CRDs from start".to_owned(),
            fix: "install the Gateway API CRDs ([gateway] crds = \"v1.4.1\"), or declare the cluster's: [site] cluster_provides = [\"gateway-api\"]".to_owned(),
        });
    }
    v
}

pub(super) fn secrets<'a>(site: &'a Site, _: At<'a>, slots: &mut Slots<'a>) {
    let Some(c) = &site.spec.cilium else {
        return;
    };
    let Some(bgp) = &c.bgp else {
        return;
    };
    for (i, p) in bgp.peer.iter().enumerate() {
        // A peer without a password has an unauthenticated session: no secret field.
        if p.password.is_none() {
            continue;
        }
        let idx = i.to_string();
        slots.add(
            &["cilium", "bgp", "peer", &idx, "password"],
            c.namespace.as_str(),
            &cilium_peer_secret(p.name.get_ref().as_str()),
            "password",
            p.password.as_ref(),
            p.name.span(),
        );
    }
}

/// Pools by announcement, and each peer with the Secret its password is in.
pub(super) fn context(site: &Site) -> Map<String, Value> {
    let Some(c) = &site.spec.cilium else {
        return Map::new();
    };
    let peers: Vec<Value> = c
        .bgp
        .iter()
        .flat_map(|b| &b.peer)
        .map(|p| {
            json!({
                "name": p.name,
                "ip": p.ip.get_ref().to_string(),
                "asn": p.asn,
                "secret": p.password.as_ref().map(|_| cilium_peer_secret(p.name.get_ref().as_str())),
            })
        })
        .collect();
    let pools = |a: CiliumAnnounce| -> Vec<Value> {
        c.lb_pool
            .iter()
            .filter(|p| *p.announce.get_ref() == a)
            .map(|p| json!({"name": p.name, "addresses": p.addresses.iter().map(|x| x.get_ref().to_string()).collect::<Vec<_>>()}))
            .collect()
    };
    Map::from_iter([(
        "cilium".to_owned(),
        json!({
            "peers": peers,
            "bgp_pools": pools(CiliumAnnounce::Bgp),
            "l2_pools": pools(CiliumAnnounce::L2),
            "gateway_api": site.gateway().is_some_and(|g| g.uses_cilium()),
        }),
    )])
}
