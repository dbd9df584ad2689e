//! The kube adapter of `diff --live`: kubeconfig -> client; desired objects -> a [`Snapshot`]
//! of what the cluster holds. Requests grow with the kinds in the tree, not with its objects:
//! discovery once per apiVersion, one label-selected LIST per kind across all namespaces (paged
//! by 500), a GET only for a desired object the lists did not return, and with
//! `--server-side` one dry-run apply per object. At most [`IN_FLIGHT`] requests at a time.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};
use serde_json::Value;

use super::compare::{Inventory, Observed, Snapshot};
use crate::manifest::MANAGED_BY;
use crate::manifest::{Manifest, ResourceId};

/// Requests in flight at once: enough to hide latency, few enough that client-go's default
/// server-side fairness (and a busy control plane) never sees a burst from us.
pub const IN_FLIGHT: usize = 8;
/// Items per LIST page, as kubectl pages.
const PAGE: u32 = 500;
/// Tries per request when the server answers 429 or 5xx or the connection fails.
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The field manager of the dry-run apply, so it shows as ours in managedFields.
const FIELD_MANAGER: &str = "casa-build";

/// Where the cluster is and how to ask it.
#[derive(Debug, Clone)]
pub struct Options {
    /// A kubeconfig file; else `KUBECONFIG`, `~/.kube/config`, then the in-cluster account.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig instead of its current one.
    pub context: Option<String>,
    /// Compare with a server-side apply dry run instead of the desired fields.
    pub server_side: bool,
    /// The whole conversation with the cluster must end within this.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read kubeconfig {}", path.display())]
    ReadKubeconfig {
        path: PathBuf,
        #[source]
        source: KubeconfigError,
    },
    #[error("cannot use the kubeconfig{}", context.as_deref().map(|c| format!(" context {c:?}")).unwrap_or_default())]
    Kubeconfig {
        context: Option<String>,
        #[source]
        source: KubeconfigError,
    },
    #[error(
        "no cluster configured: no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a pod"
    )]
    NoConfig(#[source] kube::config::InferConfigError),
    #[error("cannot make a client for {server}")]
    Client {
        server: String,
        #[source]
        source: kube::Error,
    },
    #[error("cannot reach the cluster at {server}: {request} failed after {ATTEMPTS} attempts")]
    Unreachable {
        server: String,
        request: String,
        #[source]
        source: kube::Error,
    },
    #[error("the cluster at {server} refused discovery: {message}")]
    Discovery { server: String, message: String },
    #[error("the cluster at {server} did not answer within {} s (--timeout)", timeout.as_secs_f64())]
    Timeout { server: String, timeout: Duration },
}

/// A client and the count of requests it made.
pub struct Cluster {
    client: Client,
    pub server: String,
    requests: AtomicUsize,
}

/// An error answer from the server (after retries), for one request.
#[derive(Debug, Clone)]
struct Refusal {
    code: u16,
    reason: String,
    message: String,
}

/// A kind as the cluster serves it.
#[derive(Debug, Clone)]
struct Served {
    resource: ApiResource,
    namespaced: bool,
}

impl Served {
    /// `deployments.apps`, `namespaces`: how kubectl and RBAC messages name a resource.
    fn name(&self) -> String {
        if self.resource.group.is_empty() {
            self.resource.plural.clone()
        } else {
            format!("{}.{}", self.resource.plural, self.resource.group)
        }
    }
}

#[derive(Debug, Clone)]
enum Resolution {
    Served(Served),
    NotServed,
    Fault(String),
}

/// The objects of one kind, as one or more label-selected lists returned them, and the
/// lists that were refused: the whole kind, or single namespaces.
#[derive(Default)]
struct Listed {
    items: Vec<Value>,
    refused: Option<String>,
    refused_in: BTreeMap<String, String>,
}

impl Listed {
    fn refused(message: String) -> Self {
        Self {
            refused: Some(message),
            ..Self::default()
        }
    }

    /// Why objects of this kind in `namespace` could not be listed, if they could not.
    fn refusal(&self, namespace: Option<&str>) -> Option<&String> {
        self.refused
            .as_ref()
            .or_else(|| namespace.and_then(|ns| self.refused_in.get(ns)))
    }
}

impl Cluster {
    /// Loads the configuration as kubectl does and makes a client. Reads files only; the first
    /// request is made by [`Cluster::snapshot`].
    pub async fn connect(opts: &Options) -> Result<Self, Error> {
        let mut config = load_config(opts).await?;
        // Our own retries (429 and every 5xx, bounded) are the ones that count; kube's default
        // layer would retry again inside each of ours and multiply the waits.
        config.default_retry = false;
        let server = config.cluster_url.to_string();
        let server = server.trim_end_matches('/').to_owned();
        let client = Client::try_from(config).map_err(|source| Error::Client {
            server: server.clone(),
            source,
        })?;
        Ok(Self {
            client,
            server,
            requests: AtomicUsize::new(0),
        })
    }

    /// Requests made so far (each retry counts).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Everything the comparison needs to know about `desired` from the cluster.
    pub async fn snapshot(
        &self,
        desired: &[Manifest],
        server_side: bool,
    ) -> Result<Snapshot, Error> {
        let kinds = self.discover(desired).await?;
        let default_ns = self.client.default_namespace().to_owned();
        let ids: Vec<ResourceId> = desired
            .iter()
            .map(|m| effective_id(m, kinds.get(&key(m)), &default_ns))
            .collect();

        let listed = self.list_kinds(desired, &ids, &kinds).await?;

        let mut by_id: HashMap<(String, ResourceId), Value> = HashMap::new();
        let mut others = Vec::new();
        let mut inventories = Vec::new();
        let wanted: BTreeSet<(&str, &ResourceId)> = desired
            .iter()
            .zip(&ids)
            .map(|(m, id)| (m.api_version(), id))
            .collect();
        for ((api_version, kind), result) in &listed {
            for item in &result.items {
                let Some(id) = live_id(item, api_version, kind) else {
                    continue;
                };
                if let Some(inv) = inventory(item, &id) {
                    inventories.push(inv);
                }
                if wanted.contains(&(api_version.as_str(), &id)) {
                    by_id.insert((api_version.clone(), id), item.clone());
                } else {
                    others.push((id, item.clone()));
                }
            }
        }

        let mut observed = Vec::with_capacity(desired.len());
        let mut to_get = Vec::new();
        for (i, (m, id)) in desired.iter().zip(&ids).enumerate() {
            let k = key(m);
            let state = match kinds.get(&k) {
                None | Some(Resolution::NotServed) => Observed::NotServed,
                Some(Resolution::Fault(msg)) => Observed::Fault(msg.clone()),
                Some(Resolution::Served(served)) => match listed
                    .get(&k)
                    .and_then(|l| l.refusal(id.namespace.as_deref()))
                {
                    Some(msg) => Observed::Fault(msg.clone()),
                    None => match by_id.remove(&(k.0.clone(), id.clone())) {
                        Some(live) => Observed::Live {
                            live,
                            dry_run: None,
                        },
                        None => {
                            to_get.push((i, served.clone()));
                            Observed::Missing
                        }
                    },
                },
            };
            observed.push(state);
        }

        // A desired object the lists did not return lost its labels, or is not there.
        let gets = stream::iter(to_get.into_iter().map(|(i, served)| {
            let id = &ids[i];
            async move { (i, self.get(&served, id).await) }
        }))
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
        for (i, result) in gets {
            observed[i] = match result? {
                Ok(Some(live)) => Observed::Live {
                    live,
                    dry_run: None,
                },
                Ok(None) => Observed::Missing,
                Err(msg) => Observed::Fault(msg),
            };
        }

        if server_side {
            self.dry_run_all(desired, &ids, &kinds, &mut observed)
                .await?;
        }

        Ok(Snapshot {
            ids,
            observed,
            others,
            inventories,
        })
    }

    /// Maps each (apiVersion, kind) of the tree to its resource and scope: `/apis` once (when
    /// any group is needed), then one resource list per apiVersion the cluster serves.
    async fn discover(
        &self,
        desired: &[Manifest],
    ) -> Result<BTreeMap<(String, String), Resolution>, Error> {
        let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for m in desired {
            wanted
                .entry(m.api_version().to_owned())
                .or_default()
                .insert(m.id.kind.clone());
        }
        let served_versions: BTreeSet<String> = if wanted.keys().any(|v| v.contains('/')) {
            let groups = self
                .call("get /apis (discovery)", || self.client.list_api_groups())
                .await?
                .map_err(|r| Error::Discovery {
                    server: self.server.clone(),
                    message: describe("get /apis", &r),
                })?;
            groups
                .groups
                .into_iter()
                .flat_map(|g| g.versions.into_iter().map(|v| v.group_version))
                .collect()
        } else {
            BTreeSet::new()
        };

        let lookups = stream::iter(wanted.iter().map(|(api_version, kinds)| {
            let served_versions = &served_versions;
            async move {
                let core = !api_version.contains('/');
                if !core && !served_versions.contains(api_version) {
                    return Ok((api_version, kinds, Ok(None)));
                }
                let path = if core {
                    format!("/api/{api_version}")
                } else {
                    format!("/apis/{api_version}")
                };
                let what = format!("get {path} (discovery)");
                let list = self
                    .call(&what, || async {
                        if core {
                            self.client.list_core_api_resources(api_version).await
                        } else {
                            self.client.list_api_group_resources(api_version).await
                        }
                    })
                    .await?;
                Ok::<_, Error>((
                    api_version,
                    kinds,
                    match list {
                        Ok(l) => Ok(Some(l)),
                        // The apiserver answers a group it does not serve with a plain-text 404.
                        Err(r) if r.code == 404 => Ok(None),
                        Err(r) => Err(describe(&format!("get {path}"), &r)),
                    },
                ))
            }
        }))
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;

        let mut out = BTreeMap::new();
        for lookup in lookups {
            let (api_version, kinds, list) = lookup?;
            for kind in kinds {
                let resolution = match &list {
                    Ok(None) => Resolution::NotServed,
                    Err(msg) => Resolution::Fault(msg.clone()),
                    Ok(Some(list)) => list
                        .resources
                        .iter()
                        // `deployments/status` and the like are subresources, not the kind.
                        .find(|r| &r.kind == kind && !r.name.contains('/'))
                        .map_or(Resolution::NotServed, |r| {
                            let (group, version) = match api_version.split_once('/') {
                                Some((g, v)) => (g.to_owned(), v.to_owned()),
                                None => (String::new(), api_version.clone()),
                            };
                            Resolution::Served(Served {
                                resource: ApiResource {
                                    group,
                                    version,
                                    api_version: api_version.clone(),
                                    kind: kind.clone(),
                                    plural: r.name.clone(),
                                },
                                namespaced: r.namespaced,
                            })
                        }),
                };
                out.insert((api_version.clone(), kind.clone()), resolution);
            }
        }
        Ok(out)
    }

    /// One label-selected LIST per served kind, across all namespaces. Where that is forbidden
    /// (RBAC scoped to namespaces), one LIST per namespace the tree uses for that kind.
    async fn list_kinds(
        &self,
        desired: &[Manifest],
        ids: &[ResourceId],
        kinds: &BTreeMap<(String, String), Resolution>,
    ) -> Result<BTreeMap<(String, String), Listed>, Error> {
        let mut namespaces: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for (m, id) in desired.iter().zip(ids) {
            if let Some(ns) = &id.namespace {
                namespaces.entry(key(m)).or_default().insert(ns.clone());
            }
        }
        let served: Vec<(&(String, String), &Served)> = kinds
            .iter()
            .filter_map(|(k, r)| match r {
                Resolution::Served(s) => Some((k, s)),
                _ => None,
            })
            .collect();
        let results = stream::iter(served.into_iter().map(|(k, served)| {
            let namespaces = namespaces.get(k);
            async move {
                let listed = match self.list(served, None).await? {
                    Ok(items) => Listed {
                        items,
                        ..Listed::default()
                    },
                    Err(r) if r.code == 403 && served.namespaced => {
                        self.list_per_namespace(served, namespaces, &r).await?
                    }
                    Err(r) => Listed::refused(describe(&list_what(served, None), &r)),
                };
                Ok::<_, Error>((k.clone(), listed))
            }
        }))
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
        results.into_iter().collect()
    }

    async fn list_per_namespace(
        &self,
        served: &Served,
        namespaces: Option<&BTreeSet<String>>,
        cluster_wide: &Refusal,
    ) -> Result<Listed, Error> {
        let Some(namespaces) = namespaces.filter(|n| !n.is_empty()) else {
            return Ok(Listed::refused(describe(
                &list_what(served, None),
                cluster_wide,
            )));
        };
        let mut listed = Listed::default();
        for ns in namespaces {
            match self.list(served, Some(ns)).await? {
                Ok(mut page) => listed.items.append(&mut page),
                Err(r) => {
                    listed
                        .refused_in
                        .insert(ns.clone(), describe(&list_what(served, Some(ns)), &r));
                }
            }
        }
        Ok(listed)
    }

    async fn list(
        &self,
        served: &Served,
        namespace: Option<&str>,
    ) -> Result<Result<Vec<Value>, Refusal>, Error> {
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &served.resource),
            None => Api::all_with(self.client.clone(), &served.resource),
        };
        let what = list_what(served, namespace);
        let selector = format!("{MANAGED_BY}=casa-build");
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = ListParams::default().labels(&selector).limit(PAGE);
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let page = match self.call(&what, || api.list(&params)).await? {
                Ok(page) => page,
                Err(r) => return Ok(Err(r)),
            };
            items.extend(
                page.items
                    .into_iter()
                    .map(|o| to_value(o, &served.resource)),
            );
            match page.metadata.continue_ {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(Ok(items)),
            }
        }
    }

    async fn get(
        &self,
        served: &Served,
        id: &ResourceId,
    ) -> Result<Result<Option<Value>, String>, Error> {
        let api = self.api(served, id);
        let what = format!("get {} {}", served.name(), display_name(id));
        Ok(match self.call(&what, || api.get_opt(&id.name)).await? {
            Ok(found) => Ok(found.map(|o| to_value(o, &served.resource))),
            Err(r) => Err(describe(&what, &r)),
        })
    }

    /// A server-side apply dry run (field manager casa-build, force) of every desired object
    /// that exists, as `kubectl diff --server-side` does: what the object would be.
    async fn dry_run_all(
        &self,
        desired: &[Manifest],
        ids: &[ResourceId],
        kinds: &BTreeMap<(String, String), Resolution>,
        observed: &mut [Observed],
    ) -> Result<(), Error> {
        let jobs: Vec<(usize, &Served)> = observed
            .iter()
            .enumerate()
            .filter(|(_, o)| matches!(o, Observed::Live { .. }))
            .filter_map(|(i, _)| match kinds.get(&key(&desired[i])) {
                Some(Resolution::Served(s)) => Some((i, s)),
                _ => None,
            })
            .collect();
        let results = stream::iter(jobs.into_iter().map(|(i, served)| {
            let id = &ids[i];
            let mut body = desired[i].value.clone();
            if let (Some(ns), Some(meta)) = (&id.namespace, body["metadata"].as_object_mut()) {
                meta.insert("namespace".into(), Value::String(ns.clone()));
            }
            async move {
                let api = self.api(served, id);
                let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
                let patch = Patch::Apply(&body);
                let what = format!(
                    "patch {} {} (server-side apply dry run)",
                    served.name(),
                    display_name(id)
                );
                let result = self
                    .call(&what, || api.patch(&id.name, &params, &patch))
                    .await?;
                Ok::<_, Error>((
                    i,
                    result
                        .map(|o| to_value(o, &served.resource))
                        .map_err(|r| describe(&what, &r)),
                ))
            }
        }))
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
        for result in results {
            let (i, result) = result?;
            match (result, &mut observed[i]) {
                (Ok(value), Observed::Live { dry_run, .. }) => *dry_run = Some(value),
                (Err(msg), slot) => *slot = Observed::Fault(msg),
                (Ok(_), _) => {}
            }
        }
        Ok(())
    }

    fn api(&self, served: &Served, id: &ResourceId) -> Api<DynamicObject> {
        match &id.namespace {
            Some(ns) if served.namespaced => {
                Api::namespaced_with(self.client.clone(), ns, &served.resource)
            }
            _ => Api::all_with(self.client.clone(), &served.resource),
        }
    }

    /// Runs one request with retries: 429, 5xx and broken connections are tried again with
    /// exponential backoff, [`ATTEMPTS`] times in all. The outer error ends the run (the
    /// cluster cannot be reached); the inner one is the server's answer about this request.
    async fn call<T, F, Fut>(&self, what: &str, mut request: F) -> Result<Result<T, Refusal>, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let err = match request().await {
                Ok(v) => return Ok(Ok(v)),
                Err(e) => e,
            };
            let retry = match &err {
                kube::Error::Api(s) => s.code == 429 || s.code >= 500,
                kube::Error::HyperError(_) | kube::Error::Service(_) => true,
                _ => false,
            };
            if retry && attempt < ATTEMPTS {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
                continue;
            }
            return match err {
                kube::Error::Api(s) => Ok(Err(Refusal {
                    code: s.code,
                    reason: s.reason.clone(),
                    message: s.message.clone(),
                })),
                kube::Error::HyperError(_) | kube::Error::Service(_) => Err(Error::Unreachable {
                    server: self.server.clone(),
                    request: what.to_owned(),
                    source: err,
                }),
                other => Ok(Err(Refusal {
                    code: 0,
                    reason: String::new(),
                    message: other.to_string(),
                })),
            };
        }
    }
}

async fn load_config(opts: &Options) -> Result<Config, Error> {
    let options = KubeConfigOptions {
        context: opts.context.clone(),
        cluster: None,
        user: None,
    };
    let bad = |source| Error::Kubeconfig {
        context: opts.context.clone(),
        source,
    };
    match (&opts.kubeconfig, &opts.context) {
        (Some(path), _) => {
            let file = Kubeconfig::read_from(path).map_err(|source| Error::ReadKubeconfig {
                path: path.clone(),
                source,
            })?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(bad)
        }
        // A context names an entry of a kubeconfig file: there is no in-cluster fallback.
        (None, Some(_)) => Config::from_kubeconfig(&options).await.map_err(bad),
        (None, None) => Config::infer().await.map_err(Error::NoConfig),
    }
}

fn key(m: &Manifest) -> (String, String) {
    (m.api_version().to_owned(), m.id.kind.clone())
}

/// The identity as the cluster has it: cluster-scoped objects have no namespace; a namespaced
/// object without one goes where kubectl would put it, the context's namespace.
fn effective_id(m: &Manifest, kind: Option<&Resolution>, default_ns: &str) -> ResourceId {
    let mut id = m.id.clone();
    if let Some(Resolution::Served(served)) = kind {
        if !served.namespaced {
            id.namespace = None;
        } else if id.namespace.is_none() {
            id.namespace = Some(default_ns.to_owned());
        }
    }
    id
}

fn live_id(item: &Value, api_version: &str, kind: &str) -> Option<ResourceId> {
    let meta = item.get("metadata")?;
    Some(ResourceId {
        group: api_version
            .rsplit_once('/')
            .map_or(String::new(), |(g, _)| g.to_owned()),
        kind: kind.to_owned(),
        namespace: meta
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name: meta.get("name")?.as_str()?.to_owned(),
    })
}

/// A Flux Kustomization's inventory: the ids of what it applied.
fn inventory(item: &Value, id: &ResourceId) -> Option<Inventory> {
    if id.group != "kustomize.toolkit.fluxcd.io" || id.kind != "Kustomization" {
        return None;
    }
    let entries = item
        .pointer("/status/inventory/entries")?
        .as_array()?
        .iter()
        .filter_map(|e| e.get("id")?.as_str().map(str::to_owned))
        .collect();
    Some(Inventory {
        kustomization: display_name(id),
        labels: item
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(Value::Null),
        entries,
    })
}

/// List items come without apiVersion and kind; the object shown in a diff has them.
fn to_value(o: DynamicObject, resource: &ApiResource) -> Value {
    let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
    if let Some(map) = v.as_object_mut() {
        map.insert(
            "apiVersion".into(),
            Value::String(resource.api_version.clone()),
        );
        map.insert("kind".into(), Value::String(resource.kind.clone()));
    }
    v
}

fn display_name(id: &ResourceId) -> String {
    match &id.namespace {
        Some(ns) => format!("{ns}/{}", id.name),
        None => id.name.clone(),
    }
}

fn list_what(served: &Served, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("list {} in namespace {ns}", served.name()),
        None if served.namespaced => format!("list {} in all namespaces", served.name()),
        None => format!("list {}", served.name()),
    }
}

/// The one-line account of a refused request: the verb and resource first, then the server's
/// own words.
fn describe(what: &str, r: &Refusal) -> String {
    let message = if r.message.is_empty() {
        String::new()
    } else {
        format!(": {}", r.message)
    };
    match r.code {
        401 => format!("{what}: unauthorized (401), the cluster refused the credentials{message}"),
        403 => format!("{what}: forbidden (403){message}"),
        429 => format!("{what}: too many requests (429) after {ATTEMPTS} attempts{message}"),
        c if c >= 500 => format!("{what}: server error ({c}) after {ATTEMPTS} attempts{message}"),
        0 => format!("{what}: {}", r.message),
        c if r.reason.is_empty() => format!("{what}: {c}{message}"),
        c => format!("{what}: {} ({c}){message}", r.reason),
    }
}
