//! One JupyterHub instance (`instances/<name>.toml`).

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::components::{Address, At, Capability, ImageUse, Need};
use super::secrets::Slots;
use super::types::{DnsLabel, DnsSubdomain, Hostname, ImageRef, Quantity, SealedValue};
use super::{Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceFile {
    pub instance: InstanceMeta,
    pub auth: Auth,
    pub singleuser: SingleUser,
    #[serde(default)]
    pub profile: Vec<Profile>,
    pub dask: InstanceDask,
    pub culling: Culling,
    pub xcache: Option<InstanceXCache>,
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
    /// Base of the per-user Dask names `<user>.dask.<base>`.
    pub dask_base_domain: Hostname,
    /// LoadBalancer address of the hub's proxy.
    #[schemars(with = "String")]
    pub proxy_ip: Spanned<IpAddr>,
    /// LoadBalancer address of the instance's Dask Traefik.
    #[schemars(with = "String")]
    pub dask_ip: Spanned<IpAddr>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// The Dex connector users log in through (`cern-iam`, `cilogon`).
    #[schemars(with = "String")]
    pub connector: Spanned<String>,
    /// The Dex static client of this hub.
    #[schemars(with = "String")]
    pub client: Spanned<String>,
    /// The name on the login button, which reads `Sign in with <login_service>`
    /// (JupyterHub's `templates/login.html`), e.g. `CMS SSO`.
    pub login_service: String,
    #[serde(default)]
    pub admin_users: Vec<String>,
    /// Groups (from the connector's groups claim) allowed to log in; empty: any user.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// The Dex client's secret, sealed for this namespace.
    #[schemars(with = "Option<SealedValue>")]
    pub client_secret: Option<Spanned<SealedValue>>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SingleUser {
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    /// Per-user storage on the Ceph block StorageClass.
    pub storage: Quantity,
    pub cpu_guarantee: f64,
    pub cpu_limit: f64,
    pub memory_guarantee: Quantity,
    pub memory_limit: Quantity,
    /// CVMFS repositories mounted under /cvmfs.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub cvmfs: Vec<Spanned<DnsSubdomain>>,
    /// The Tier-2 `/store/user` area.
    pub store_user: Option<StoreUser>,
}

/// A host path (the Tier-2 storage mounted on every node) shown to users.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreUser {
    pub host_path: String,
    pub mount: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub display_name: String,
    pub description: String,
    #[schemars(with = "ImageRef")]
    pub image: Spanned<ImageRef>,
    #[schemars(with = "Option<ImageRef>")]
    pub worker_image: Option<Spanned<ImageRef>>,
    #[serde(default)]
    pub default: bool,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DaskMode {
    /// Workers are HTCondor jobs on the Tier-2 pool.
    Tier2,
    /// Workers are pods in the instance's namespace.
    InCluster,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceDask {
    #[schemars(with = "DaskMode")]
    pub mode: Spanned<DaskMode>,
    pub accounting_group: Option<String>,
    pub max_workers: Option<u32>,
    /// HTCondor pool password (token signing key), sealed; tier2 mode.
    #[schemars(with = "Option<SealedValue>")]
    pub condor_token: Option<Spanned<SealedValue>>,
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
            why: "the hub's public name is served by the cluster ingress".to_owned(),
            fix: "run an ingress controller (the `traefik` component)".to_owned(),
        },
        Need {
            capability: Capability::Oidc,
            at: Some((i.file, s.auth.connector.span())),
            why: "users log in through this connector of the site's issuer".to_owned(),
            fix: "run an OIDC issuer (the `dex` component)".to_owned(),
        },
        Need {
            capability: Capability::BlockStorage,
            at: None,
            why: "the hub's database and the users' homes".to_owned(),
            fix: "run a storage provider with a block StorageClass (the `rook-ceph` component)"
                .to_owned(),
        },
        Need {
            capability: Capability::LoadBalancer,
            at: Some((i.file, s.instance.proxy_ip.span())),
            why: "the hub's proxy is a LoadBalancer Service".to_owned(),
            fix: "configure LoadBalancer address pools (the `metallb-config` component)".to_owned(),
        },
    ];
    if let Some(first) = s.singleuser.cvmfs.first() {
        v.push(Need {
            capability: Capability::Cvmfs,
            at: Some((i.file, first.span())),
            why: "user pods mount CVMFS".to_owned(),
            fix: "run CVMFS (the `cvmfs` component) or mount no repositories".to_owned(),
        });
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
        spec.auth.client.span(),
    );
    if *spec.dask.mode.get_ref() == DaskMode::Tier2 {
        slots.add(
            &["dask", "condor_token"],
            ns,
            CONDOR_SECRET,
            "token",
            spec.dask.condor_token.as_ref(),
            spec.dask.mode.span(),
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
        .map(|i| Address {
            who: format!("the proxy of instance `{}`", i.spec.instance.name.get_ref()),
            file: i.file,
            ip: &i.spec.instance.proxy_ip,
        })
        .into_iter()
        .collect()
}

pub(super) fn hub_context(_: &Site) -> Map<String, Value> {
    Map::from_iter([(
        "secrets".to_owned(),
        json!({"hub_oauth": HUB_OAUTH_SECRET, "condor": CONDOR_SECRET, "xcache": XCACHE_SECRET}),
    )])
}

pub(super) fn dask_charts(_: &Site, at: At<'_>) -> Vec<&'static str> {
    match at.instance() {
        Some(i) if *i.spec.dask.mode.get_ref() == DaskMode::InCluster => vec!["dask-gateway"],
        _ => Vec::new(),
    }
}

pub(super) fn dask_needs<'a>(_: &'a Site, at: At<'a>) -> Vec<Need> {
    at.instance()
        .map(|i| Need {
            capability: Capability::LoadBalancer,
            at: Some((i.file, i.spec.instance.dask_ip.span())),
            why: "the instance's Dask Traefik is a LoadBalancer Service".to_owned(),
            fix: "configure LoadBalancer address pools (the `metallb-config` component)".to_owned(),
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
    i.spec
        .profile
        .iter()
        .map(|p| match &p.worker_image {
            Some(w) => ImageUse {
                image: w,
                file: i.file,
                dev,
            },
            None => ImageUse {
                image: &site.spec.dask.worker_image,
                file: site.file,
                dev,
            },
        })
        .collect()
}

pub(super) fn dask_addresses<'a>(_: &'a Site, at: At<'a>) -> Vec<Address<'a>> {
    at.instance()
        .map(|i| Address {
            who: format!(
                "the Dask Traefik of instance `{}`",
                i.spec.instance.name.get_ref()
            ),
            file: i.file,
            ip: &i.spec.instance.dask_ip,
        })
        .into_iter()
        .collect()
}
