//! The ways public names reach services, besides Traefik (`platform.rs`): ingress-nginx,
//! either installed here or run by the cluster (Ingress objects with its class), and the
//! Gateway API (HTTPRoutes on a Gateway made here or on one the cluster gives). Templates
//! read one `ingress` value (`kind`, class, parent Gateway, TLS) and the route macro in
//! `common/macros.j2` emits the object of that kind.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::components::{Address, At, Capability, Need};
use super::types::{DnsLabel, DnsSubdomain};
use super::{Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressNginx {
    /// The IngressClass every Ingress names (`spec.ingressClassName`).
    #[schemars(with = "DnsSubdomain")]
    pub class: Spanned<DnsSubdomain>,
    /// Install the controller (a HelmRelease); absent: the cluster runs one for `class`.
    pub controller: Option<NginxController>,
    /// cert-manager issuer of the hosts' certificates; absent: the controller's default
    /// certificate serves them.
    pub cert_issuer: Option<CertIssuer>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NginxController {
    pub namespace: DnsLabel,
    /// LoadBalancer address of the controller's Service.
    #[schemars(with = "super::types::IpAddress")]
    pub lb_ip: Spanned<IpAddr>,
    pub replicas: u32,
}

/// A cert-manager issuer that certificates are requested from.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertIssuer {
    pub kind: IssuerKind,
    pub name: DnsSubdomain,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
pub enum IssuerKind {
    ClusterIssuer,
    Issuer,
}

impl IssuerKind {
    /// The annotation cert-manager's ingress-shim and gateway-shim read (cert-manager's
    /// `pkg/apis/certmanager/v1` IngressIssuerNameAnnotationKey,
    /// IngressClusterIssuerNameAnnotationKey).
    pub fn annotation(self) -> &'static str {
        match self {
            IssuerKind::ClusterIssuer => "cert-manager.io/cluster-issuer",
            IssuerKind::Issuer => "cert-manager.io/issuer",
        }
    }
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// Make a Gateway of this GatewayClass (`cilium` is Cilium's); one HTTPS listener per
    /// public host. Give this or `parent`.
    #[schemars(with = "Option<DnsSubdomain>")]
    pub class: Option<Spanned<DnsSubdomain>>,
    /// The namespace and name of the Gateway made here.
    pub namespace: Option<DnsLabel>,
    /// LoadBalancer address of the Gateway made here (passed to its Service through
    /// `spec.infrastructure.annotations`).
    #[schemars(with = "Option<super::types::IpAddress>")]
    pub lb_ip: Option<Spanned<IpAddr>>,
    /// Attach routes to an existing Gateway instead (the cluster's; it must allow routes
    /// from the namespaces the routes are in).
    pub parent: Option<GatewayRef>,
    /// cert-manager issuer of the listeners' certificates (gateway-shim), for a Gateway made
    /// here.
    pub cert_issuer: Option<CertIssuer>,
    /// Install the Gateway API CRDs of this release (a tag of kubernetes-sigs/gateway-api,
    /// standard channel, e.g. `v1.4.1`); absent when the cluster has them.
    #[schemars(with = "Option<String>")]
    pub crds: Option<Spanned<String>>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayRef {
    #[schemars(with = "DnsSubdomain")]
    pub name: Spanned<DnsSubdomain>,
    pub namespace: DnsLabel,
    /// A listener of that Gateway to attach to (`sectionName`).
    pub listener: Option<DnsSubdomain>,
}

impl Gateway {
    /// Whether the Gateway is Cilium's (its chart must then enable Gateway API support).
    pub fn uses_cilium(&self) -> bool {
        self.class
            .as_ref()
            .is_some_and(|c| c.get_ref().as_str() == "cilium")
    }
}

/// The name of the Gateway made here.
pub const GATEWAY_NAME: &str = "public";

/// How public names are served: the kind the route macro emits and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngressKind {
    Traefik,
    Nginx,
    Gateway,
}

impl Site {
    pub fn gateway(&self) -> Option<&Gateway> {
        self.spec.gateway.as_ref().map(Spanned::get_ref)
    }

    /// The site's ingress, when it has exactly one (two are a CB060 finding; the first in
    /// this order then serves, so templates still render).
    pub fn ingress(&self) -> Option<IngressKind> {
        if self.spec.traefik.is_some() {
            Some(IngressKind::Traefik)
        } else if self.spec.ingress_nginx.is_some() {
            Some(IngressKind::Nginx)
        } else if self.spec.gateway.is_some() {
            Some(IngressKind::Gateway)
        } else {
            None
        }
    }

    /// Every public host name routed through the ingress: Dex's issuer and each hub.
    pub fn public_hosts(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(d) = &self.spec.dex {
            v.push(super::dex::issuer_host(d.issuer.as_str()).to_owned());
        }
        for i in &self.instances {
            v.push(i.spec.instance.host.get_ref().to_string());
        }
        v.sort();
        v.dedup();
        v
    }
}

/// A listener name for a host: a DNS label from its labels (listener names are
/// SectionNames: DNS-1123 subdomains of at most 253 characters, gateway-api@v1.4.1
/// `apis/v1/shared_types.go` SectionName).
pub fn listener_name(host: &str) -> String {
    let mut s: String = host
        .chars()
        .map(|c| if c == '.' { '-' } else { c })
        .collect();
    s.truncate(63);
    s.trim_end_matches('-').to_owned()
}

/// The ingress as templates see it.
pub fn ingress_value(site: &Site) -> Value {
    let Some(kind) = site.ingress() else {
        return Value::Null;
    };
    match kind {
        IngressKind::Traefik => {
            let acme = site
                .spec
                .traefik
                .as_ref()
                .is_some_and(|t| t.tls.acme_email.is_some());
            json!({"kind": "traefik", "acme": acme})
        }
        IngressKind::Nginx => {
            let n = site.spec.ingress_nginx.as_ref();
            json!({
                "kind": "nginx",
                "class": n.map(|n| n.class.get_ref().to_string()),
                "issuer": n.and_then(|n| n.cert_issuer.as_ref()).map(|i| json!({"annotation": i.kind.annotation(), "name": i.name})),
            })
        }
        IngressKind::Gateway => {
            let g = site.gateway();
            let parent = match g.and_then(|g| g.parent.as_ref()) {
                Some(p) => {
                    json!({"name": p.name, "namespace": p.namespace, "listener": p.listener, "made_here": false})
                }
                None => json!({
                    "name": GATEWAY_NAME,
                    "namespace": g.and_then(|g| g.namespace.as_ref()).map(DnsLabel::to_string),
                    "listener": Value::Null,
                    "made_here": true,
                }),
            };
            let hosts = site.public_hosts();
            let listeners: Vec<Value> = hosts
                .iter()
                .map(|h| json!({"name": listener_name(h), "host": h, "secret": format!("{}-tls", listener_name(h))}))
                .collect();
            let listener_of: serde_json::Map<String, Value> = hosts
                .iter()
                .map(|h| (h.clone(), json!(listener_name(h))))
                .collect();
            json!({
                "kind": "gateway",
                "parent": parent,
                "listeners": listeners,
                "listener_of": listener_of,
                "issuer": g.and_then(|g| g.cert_issuer.as_ref()).map(|i| json!({"annotation": i.kind.annotation(), "name": i.name})),
            })
        }
    }
}

pub(super) fn nginx_addresses<'a>(site: &'a Site, _: At<'a>) -> Vec<Address<'a>> {
    site.spec
        .ingress_nginx
        .iter()
        .filter_map(|n| n.controller.as_ref())
        .map(|c| Address {
            who: "the ingress-nginx controller".to_owned(),
            file: site.file,
            ip: &c.lb_ip,
        })
        .collect()
}

pub(super) fn nginx_needs<'a>(site: &'a Site, _: At<'a>) -> Vec<Need> {
    site.spec
        .ingress_nginx
        .iter()
        .filter_map(|n| n.controller.as_ref())
        .map(|c| Need {
            capability: Capability::LoadBalancer,
            at: Some((site.file, c.lb_ip.span())),
            why: "the controller's Service is a LoadBalancer".to_owned(),
            fix: "configure LoadBalancer address pools (`metallb` or Cilium LB IPAM)".to_owned(),
        })
        .collect()
}

/// The Gateway API release whose CRDs the tree installs.
pub(super) fn gateway_api_context(site: &Site) -> serde_json::Map<String, Value> {
    serde_json::Map::from_iter([(
        "gateway_api_version".to_owned(),
        json!(
            site.gateway()
                .and_then(|g| g.crds.as_ref())
                .map(|c| c.get_ref())
        ),
    )])
}

pub(super) fn gateway_addresses<'a>(site: &'a Site, _: At<'a>) -> Vec<Address<'a>> {
    site.gateway()
        .into_iter()
        .filter_map(|g| g.lb_ip.as_ref())
        .map(|ip| Address {
            who: "the Gateway".to_owned(),
            file: site.file,
            ip,
        })
        .collect()
}

/// The API group of the routes the route macro emits for the site's ingress (an Ingress is
/// built in): a unit holding one waits for the unit installing its CRDs.
pub(super) fn route_kinds(site: &Site, _: At<'_>) -> Vec<&'static str> {
    match site.ingress() {
        Some(IngressKind::Traefik) => vec!["traefik.io"],
        Some(IngressKind::Gateway) => vec!["gateway.networking.k8s.io"],
        Some(IngressKind::Nginx) | None => Vec::new(),
    }
}

pub(super) fn gateway_needs<'a>(site: &'a Site, _: At<'a>) -> Vec<Need> {
    let Some(g) = site.gateway() else {
        return Vec::new();
    };
    let mut v = vec![Need {
        capability: Capability::GatewayApi,
        at: g.class.as_ref().map(|c| (site.file, c.span())),
        why: "a Gateway and HTTPRoutes are Gateway API objects".to_owned(),
        fix: "install the Gateway API CRDs ([gateway] crds = \"v1.4.1\"), or declare the cluster's: [site] cluster_provides = [\"gateway-api\"]".to_owned(),
    }];
    if let Some(ip) = &g.lb_ip {
        v.push(Need {
            capability: Capability::LoadBalancer,
            at: Some((site.file, ip.span())),
            why: "the Gateway's Service is a LoadBalancer".to_owned(),
            fix: "configure LoadBalancer address pools (`metallb` or Cilium LB IPAM)".to_owned(),
        });
    }
    v
}
