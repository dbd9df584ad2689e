//! One JupyterHub instance (`instances/<name>.toml`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::components::{Address, At, Capability, DnsName, DnsTarget, ImageUse, Need};
use super::secrets::Slots;
use super::session::{AccessMode, Cpu, Home, Memory, ProfileGpu, Toleration, Volume};
use super::storage::StorageUse;
use super::types::{
    DisplayText, DnsLabel, DnsSubdomain, Hostname, ImageRef, LabelValue, ProfileText, SealedValue,
};
use super::{Instance, Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceFile {
    pub instance: InstanceMeta,
    pub auth: Auth,
    pub singleuser: SingleUser,
    #[serde(default)]
    pub profile: Vec<Profile>,
    /// Dask scale-out; absent: sessions have no Dask cluster beyond their own pod.
    pub dask: Option<InstanceDask>,
    pub culling: Culling,
    pub xcache: Option<InstanceXCache>,
    /// Site services the instance's users may call.
    pub inference: Option<Inference>,
    /// Chart version override for this instance (defaults to `[charts.jupyterhub]`).
    pub hub_chart: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Prod,
    Dev,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceMeta {
    #[schemars(with = "DnsLabel")]
    pub name: Spanned<DnsLabel>,
    #[schemars(with = "DnsLabel")]
    pub namespace: Spanned<DnsLabel>,
    /// The hub's public host name.
    #[schemars(with = "Hostname")]
    pub host: Spanned<Hostname>,
    pub stage: Stage,
    /// Suspend the instance's Flux Kustomization (dev instances at rest).
    #[serde(default)]
    pub suspend: bool,
    /// Base of the per-user Dask names `<user>.dask.<base>` (Tier-2 Dask).
    pub dask_base_domain: Option<Hostname>,
    /// LoadBalancer address of the hub's proxy; absent: the proxy is reached through the
    /// ingress only (a ClusterIP Service).
    #[schemars(with = "Option<super::types::IpAddress>")]
    pub proxy_ip: Option<Spanned<IpAddr>>,
    /// LoadBalancer address of the instance's Dask Traefik (Tier-2 Dask).
    #[schemars(with = "Option<super::types::IpAddress>")]
    pub dask_ip: Option<Spanned<IpAddr>>,
}

/// How users log in: through the site's Dex, or straight to an OIDC issuer (any, with
/// GenericOAuthenticator; CILogon with its identity providers). Exactly one of `dex`, `oidc`,
/// `cilogon`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// The name on the login button, which reads `Sign in with <login_service>`
    /// (JupyterHub's `templates/login.html`), e.g. `CMS SSO`.
    #[schemars(with = "DisplayText")]
    pub login_service: Spanned<DisplayText>,
    #[serde(default)]
    pub admin_users: Vec<String>,
    /// Groups (from the issuer's groups claim) allowed to log in; empty: any user the
    /// issuer lets through.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// The OAuth client's secret, sealed for this namespace.
    #[schemars(with = "Option<SealedValue>")]
    pub client_secret: Option<Spanned<SealedValue>>,
    /// Log in through the site's Dex.
    pub dex: Option<AuthDex>,
    /// Log in to an OIDC issuer directly (GenericOAuthenticator).
    pub oidc: Option<AuthOidc>,
    /// Log in to CILogon directly (CILogonOAuthenticator), through the identity providers
    /// listed.
    pub cilogon: Option<AuthCilogon>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthDex {
    /// The Dex connector users log in through (`cern-iam`, `cilogon`).
    #[schemars(with = "String")]
    pub connector: Spanned<String>,
    /// The Dex static client of this hub.
    #[schemars(with = "String")]
    pub client: Spanned<String>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthOidc {
    #[schemars(with = "String")]
    pub client_id: Spanned<String>,
    /// The issuer's endpoints, from its `/.well-known/openid-configuration`.
    pub authorize_url: String,
    pub token_url: String,
    pub userdata_url: String,
    pub scopes: Vec<String>,
    /// Claim of the userinfo response used as the user name.
    pub username_claim: String,
    /// Claim holding group membership (needed by `allowed_groups`).
    pub groups_claim: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthCilogon {
    /// `cilogon:/client_id/...`.
    #[schemars(with = "String")]
    pub client_id: Spanned<String>,
    /// Scopes; `openid` and `org.cilogon.userinfo` are added by the authenticator.
    pub scopes: Vec<String>,
    /// Claim holding group membership (COmanage: `isMemberOf`; needed by `allowed_groups`).
    pub groups_claim: Option<String>,
    /// The identity providers users may choose on CILogon's page.
    #[schemars(with = "Vec<CilogonIdp>")]
    pub idp: Spanned<Vec<CilogonIdp>>,
}

/// One identity provider behind CILogon and how its users' names are made.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CilogonIdp {
    /// The IdP's EntityID (https://cilogon.org/idplist).
    pub entity_id: String,
    /// Claim used as the user name (`eppn`, `email`).
    pub username_claim: String,
    /// Strip `@<domain>` from the names.
    pub strip_domain: Option<String>,
    /// Prefix names with `<prefix>:`.
    #[schemars(with = "Option<String>")]
    pub prefix: Option<Spanned<String>>,
    /// Let every user of this IdP in.
    #[serde(default)]
    pub allow_all: bool,
    /// Let users of these domains in.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Preselect this IdP.
    #[serde(default)]
    pub default: bool,
}

impl Auth {
    /// The span of the client id the secret belongs to (where a missing secret is
    /// pointed at).
    pub fn client_span(&self) -> std::ops::Range<usize> {
        if let Some(d) = &self.dex {
            d.client.span()
        } else if let Some(o) = &self.oidc {
            o.client_id.span()
        } else if let Some(c) = &self.cilogon {
            c.client_id.span()
        } else {
            self.login_service.span()
        }
    }
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SingleUser {
    pub uid: u32,
    pub gid: u32,
    /// The user's home volume; absent: no persistent home.
    pub home: Option<Home>,
    pub cpu: Cpu,
    pub memory: Memory,
    /// CVMFS repositories mounted under /cvmfs.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub cvmfs: Vec<Spanned<DnsSubdomain>>,
    /// Extra volumes of every session.
    #[serde(default)]
    pub volume: Vec<Volume>,
    /// Node labels every session's node must have.
    #[serde(default)]
    pub node_selector: BTreeMap<String, LabelValue>,
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Shown on the spawn page as HTML (so no `<`, `>` or `&`).
    pub display_name: ProfileText,
    pub description: ProfileText,
    #[schemars(with = "ImageRef")]
    pub image: Spanned<ImageRef>,
    #[schemars(with = "Option<ImageRef>")]
    pub worker_image: Option<Spanned<ImageRef>>,
    #[serde(default)]
    pub default: bool,
    /// CPU of this profile's sessions (default `[singleuser] cpu`).
    pub cpu: Option<Cpu>,
    /// Memory of this profile's sessions (default `[singleuser] memory`).
    pub memory: Option<Memory>,
    pub gpu: Option<ProfileGpu>,
    /// Node labels added to `[singleuser] node_selector`.
    #[serde(default)]
    pub node_selector: BTreeMap<String, LabelValue>,
    /// Tolerations added to `[singleuser] tolerations`.
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DaskMode {
    /// Workers are HTCondor jobs on the site's Tier-2 pool (`[dask.htcondor]`).
    Tier2,
    /// Workers are HTCondor jobs in the instance's own pool, run in its namespace (the
    /// `htcondor` component: central manager, schedd, execute nodes; `[dask.pool]`).
    Pool,
    /// Workers are pods made by dask-gateway, from an image that carries dask-gateway
    /// (`[dask.gateway]`).
    Gateway,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceDask {
    #[schemars(with = "DaskMode")]
    pub mode: Spanned<DaskMode>,
    pub accounting_group: Option<String>,
    pub max_workers: Option<u32>,
    /// The HTCondor pool's signing key (the bytes of its `passwords.d/POOL` file), sealed;
    /// `tier2` and `pool` modes.
    #[schemars(with = "Option<SealedValue>")]
    pub condor_token: Option<Spanned<SealedValue>>,
    /// The instance's own HTCondor pool (`pool` mode).
    pub pool: Option<InstancePool>,
    /// The image dask-gateway runs schedulers and workers from (`gateway` mode).
    pub gateway: Option<DaskGateway>,
}

/// The instance's in-cluster HTCondor pool.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstancePool {
    /// The notebook image's user (`cms-jovyan`): the user part of the IDTOKENs the hub
    /// signs, since the schedd makes the authenticated user a job's Owner and
    /// condor_submit sends its own login name (htcondor/htcondor@v25.13.2
    /// src/condor_schedd.V6/qmgmt.cpp `SetAttribute` ATTR_OWNER).
    #[schemars(with = "DnsLabel")]
    pub submitter: Spanned<DnsLabel>,
    /// Execute pods for each worker image, one Dask worker each.
    pub execute_nodes: u32,
    /// Lifetime of the users' IDTOKENs, in days.
    pub token_days: u32,
}

/// An image declared able to run dask-gateway's schedulers and workers.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DaskGateway {
    /// The image: it must carry the `dask-gateway` package, since the gateway starts the
    /// scheduler with `--preload dask_gateway.scheduler_preload` (dask/dask-gateway@2026.3.0
    /// dask-gateway-server/dask_gateway_server/backends/kubernetes/controller.py). The
    /// coffea-casa images do not.
    #[schemars(with = "ImageRef")]
    pub image: Spanned<ImageRef>,
    /// The dask-gateway version the image carries; the same as `[charts.dask-gateway]`.
    #[schemars(with = "String")]
    pub dask_gateway: Spanned<String>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Culling {
    pub enabled: bool,
    /// Seconds of inactivity before a server is stopped.
    pub timeout: u32,
    /// Seconds after which any server is stopped (0: never).
    pub max_age: u32,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceXCache {
    /// Macaroon root key shared with the XCache server, sealed.
    #[schemars(with = "Option<SealedValue>")]
    pub token: Option<Spanned<SealedValue>>,
    /// Token lifetime in days.
    #[schemars(with = "u32")]
    pub token_days: Spanned<u32>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inference {
    /// The site's Triton: user servers get its endpoint and the model bucket's keys.
    #[schemars(with = "bool")]
    pub triton: Spanned<bool>,
}

/// The Secrets of an instance's namespace.
pub const HUB_OAUTH_SECRET: &str = "hub-oauth";
pub const CONDOR_SECRET: &str = "htcondor-pool-password";
pub const XCACHE_SECRET: &str = "xcache-token";

pub(super) fn hub_needs<'a>(_: &'a Site, at: At<'a>) -> Vec<Need> {
    let Some(i) = at.instance() else {
        return Vec::new();
    };
    let s = &i.spec;
    let mut v = vec![
        Need {
            capability: Capability::Ingress,
            at: Some((i.file, s.instance.host.span())),
            why: "the hub's public name is served by the site's ingress".to_owned(),
            fix: "run an ingress ([traefik], [ingress_nginx] or [gateway])".to_owned(),
        },
        Need {
            capability: Capability::BlockStorage,
            at: Some((i.file, s.instance.name.span())),
            why: "the hub's database volume".to_owned(),
            fix: "run a storage provider with a block StorageClass (the `rook-ceph` component) or name one in [storage] block".to_owned(),
        },
    ];
    if let Some(d) = &s.auth.dex {
        v.push(Need {
            capability: Capability::Oidc,
            at: Some((i.file, d.connector.span())),
            why: "users log in through this connector of the site's Dex".to_owned(),
            fix: "run Dex (the `dex` component), or log in to the issuer directly ([auth.oidc] or [auth.cilogon])".to_owned(),
        });
    }
    if let Some(h) = &s.singleuser.home
        && h.storage_class.is_none()
    {
        let (cap, what) = match h.access() {
            AccessMode::ReadWriteOnce => (
                Capability::BlockStorage,
                "block StorageClass ([storage] block or Ceph's block pool)",
            ),
            AccessMode::ReadWriteMany => (
                Capability::SharedStorage,
                "shared StorageClass ([storage] shared or a Ceph filesystem)",
            ),
        };
        v.push(Need {
            capability: cap,
            at: Some((i.file, h.access_span())),
            why: "the users' homes".to_owned(),
            fix: format!("provide a {what}, or name the class in [singleuser.home] storage_class"),
        });
    }
    if let Some(ip) = &s.instance.proxy_ip {
        v.push(Need {
            capability: Capability::LoadBalancer,
            at: Some((i.file, ip.span())),
            why: "the hub's proxy is a LoadBalancer Service".to_owned(),
            fix: "configure LoadBalancer address pools (`metallb` or Cilium LB IPAM), or leave proxy_ip out".to_owned(),
        });
    }
    if let Some(first) = s.singleuser.cvmfs.first() {
        v.push(Need {
            capability: Capability::Cvmfs,
            at: Some((i.file, first.span())),
            why: "user pods mount CVMFS".to_owned(),
            fix: "run CVMFS (the `cvmfs` component) or mount no repositories".to_owned(),
        });
    }
    if let Some(g) = s.profile.iter().find_map(|p| p.gpu.as_ref()) {
        v.push(super::gpu::device_plugin_need(
            i.file,
            &g.product,
            "a profile",
        ));
    }
    v
}

pub(super) fn hub_secrets<'a>(_: &'a Site, at: At<'a>, slots: &mut Slots<'a>) {
    let Some(i) = at.instance() else {
        return;
    };
    let spec = &i.spec;
    let ns = spec.instance.namespace.get_ref().as_str();
    slots.add(
        &["auth", "client_secret"],
        ns,
        HUB_OAUTH_SECRET,
        "OAUTH_CLIENT_SECRET",
        spec.auth.client_secret.as_ref(),
        spec.auth.client_span(),
    );
    if let Some(d) = &spec.dask
        && matches!(d.mode.get_ref(), DaskMode::Tier2 | DaskMode::Pool)
    {
        slots.add(
            &["dask", "condor_token"],
            ns,
            CONDOR_SECRET,
            "token",
            d.condor_token.as_ref(),
            d.mode.span(),
        );
    }
    if let Some(x) = &spec.xcache {
        slots.add(
            &["xcache", "token"],
            ns,
            XCACHE_SECRET,
            "token",
            x.token.as_ref(),
            x.token_days.span(),
        );
    }
}

pub(super) fn hub_images<'a>(_: &'a Site, at: At<'a>) -> Vec<ImageUse<'a>> {
    let Some(i) = at.instance() else {
        return Vec::new();
    };
    let dev = i.spec.instance.stage == Stage::Dev;
    i.spec
        .profile
        .iter()
        .map(|p| ImageUse {
            image: &p.image,
            file: i.file,
            dev,
        })
        .collect()
}

pub(super) fn hub_addresses<'a>(_: &'a Site, at: At<'a>) -> Vec<Address<'a>> {
    at.instance()
        .and_then(|i| {
            i.spec.instance.proxy_ip.as_ref().map(|ip| Address {
                who: format!("the proxy of instance `{}`", i.spec.instance.name.get_ref()),
                file: i.file,
                ip,
            })
        })
        .into_iter()
        .collect()
}

pub(super) fn hub_context(_: &Site) -> Map<String, Value> {
    use super::hook;
    Map::from_iter([
        (
            "secrets".to_owned(),
            json!({"hub_oauth": HUB_OAUTH_SECRET, "condor": CONDOR_SECRET, "xcache": XCACHE_SECRET}),
        ),
        (
            "hub_hook".to_owned(),
            json!({"source": hook::HOOK_SOURCE, "path": hook::HOOK_PATH, "settings_path": hook::SETTINGS_PATH}),
        ),
    ])
}

/// The hub's public name, one of the cluster ingress's routes.
pub(super) fn hub_dns<'a>(_: &'a Site, at: At<'a>) -> Vec<DnsName> {
    at.instance()
        .map(|i| DnsName {
            name: i.spec.instance.host.get_ref().to_string(),
            target: DnsTarget::Ingress,
            what: format!("JupyterHub `{}`", i.spec.instance.name.get_ref()),
        })
        .into_iter()
        .collect()
}

/// With Tier-2 workers, the wildcards the workers reach each user's scheduler by (TLS by SNI
/// through the instance's Dask Traefik).
pub(super) fn dask_dns<'a>(_: &'a Site, at: At<'a>) -> Vec<DnsName> {
    let Some(i) = at.instance() else {
        return Vec::new();
    };
    let tier2 = i
        .spec
        .dask
        .as_ref()
        .is_some_and(|d| *d.mode.get_ref() == DaskMode::Tier2);
    let (true, Some(base), Some(ip)) = (
        tier2,
        &i.spec.instance.dask_base_domain,
        &i.spec.instance.dask_ip,
    ) else {
        return Vec::new();
    };
    let ip = *ip.get_ref();
    let name = i.spec.instance.name.get_ref();
    ["dask", "dask-worker"]
        .into_iter()
        .map(|sub| DnsName {
            name: format!("*.{sub}.{base}"),
            target: DnsTarget::Address(ip),
            what: format!("Dask schedulers of `{name}` (Tier-2 workers)"),
        })
        .collect()
}

pub(super) fn dask_charts(_: &Site, at: At<'_>) -> Vec<&'static str> {
    match at.instance().and_then(|i| i.spec.dask.as_ref()) {
        Some(d) if *d.mode.get_ref() == DaskMode::Gateway => vec!["dask-gateway"],
        _ => Vec::new(),
    }
}

pub(super) fn dask_needs<'a>(_: &'a Site, at: At<'a>) -> Vec<Need> {
    at.instance()
        .and_then(|i| {
            i.spec.instance.dask_ip.as_ref().map(|ip| Need {
                capability: Capability::LoadBalancer,
                at: Some((i.file, ip.span())),
                why: "the instance's Dask Traefik is a LoadBalancer Service".to_owned(),
                fix: "configure LoadBalancer address pools (`metallb` or Cilium LB IPAM)"
                    .to_owned(),
            })
        })
        .into_iter()
        .collect()
}

/// Each profile's worker image, or the site's default for profiles that name none.
pub(super) fn dask_images<'a>(site: &'a Site, at: At<'a>) -> Vec<ImageUse<'a>> {
    let Some(i) = at.instance() else {
        return Vec::new();
    };
    let dev = i.spec.instance.stage == Stage::Dev;
    let gateway = i
        .spec
        .dask
        .as_ref()
        .filter(|d| *d.mode.get_ref() == DaskMode::Gateway)
        .and_then(|d| d.gateway.as_ref())
        .map(|g| ImageUse {
            image: &g.image,
            file: i.file,
            dev,
        });
    i.spec
        .profile
        .iter()
        .filter_map(|p| match &p.worker_image {
            Some(w) => Some(ImageUse {
                image: w,
                file: i.file,
                dev,
            }),
            None => site.spec.dask.as_ref().map(|d| ImageUse {
                image: &d.worker_image,
                file: site.file,
                dev,
            }),
        })
        .chain(gateway)
        .collect()
}

/// Whether an instance runs its own HTCondor pool.
pub(super) fn runs_pool(i: &Instance) -> bool {
    i.spec
        .dask
        .as_ref()
        .is_some_and(|d| *d.mode.get_ref() == DaskMode::Pool)
}

/// The daemons' image of the instance's pool.
pub(super) fn pool_images<'a>(site: &'a Site, at: At<'a>) -> Vec<ImageUse<'a>> {
    let Some(i) = at.instance().filter(|i| runs_pool(i)) else {
        return Vec::new();
    };
    site.spec
        .dask
        .as_ref()
        .and_then(|d| d.pool.as_ref())
        .map(|p| ImageUse {
            image: &p.image,
            file: site.file,
            dev: i.spec.instance.stage == Stage::Dev,
        })
        .into_iter()
        .collect()
}

/// The worker images of an instance's sessions, each once, in profile order: each profile's
/// own, or the site's default.
pub fn worker_images<'a>(site: &'a Site, i: &'a Instance) -> Vec<&'a ImageRef> {
    let default = site.spec.dask.as_ref().map(|d| d.worker_image.get_ref());
    let mut v: Vec<&ImageRef> = Vec::new();
    for w in i
        .spec
        .profile
        .iter()
        .filter_map(|p| p.worker_image.as_ref().map(|w| w.get_ref()).or(default))
    {
        if !v.contains(&w) {
            v.push(w);
        }
    }
    v
}

pub(super) fn dask_addresses<'a>(_: &'a Site, at: At<'a>) -> Vec<Address<'a>> {
    at.instance()
        .and_then(|i| {
            i.spec.instance.dask_ip.as_ref().map(|ip| Address {
                who: format!(
                    "the Dask Traefik of instance `{}`",
                    i.spec.instance.name.get_ref()
                ),
                file: i.file,
                ip,
            })
        })
        .into_iter()
        .collect()
}

/// The StorageClass of an instance's homes: its own, or the site's for the access mode.
pub fn home_class(site: &Site, home: &Home) -> Option<String> {
    home.storage_class
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| {
            site.storage_class(match home.access() {
                AccessMode::ReadWriteOnce => StorageUse::Block,
                AccessMode::ReadWriteMany => StorageUse::Shared,
            })
        })
}
