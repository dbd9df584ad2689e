//! What the cluster holds, for `diff --live`: discovery, label-selected lists, gets and
//! dry-run applies over [`Transport`]. Requests grow with the kinds the cluster serves, not
//! with objects:
//!
//! - discovery: `/apis`, then one resource list per group version (the core `v1` included);
//! - one LIST per listable kind across all namespaces (or, where RBAC grants it only per
//!   namespace, one per namespace of the site), selected by the site's labels
//!   (`app.kubernetes.io/managed-by=casa-build,app.kubernetes.io/part-of=<site>`), paged by
//!   `limit`/`continue`, each page read with a size cap: whole objects for the kinds the tree
//!   has, metadata only for the others, which can only hold orphans (`Accept:
//!   application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`, kube-core
//!   `Request::list_metadata`; whole objects after all from a server that answers 406);
//! - a GET only for a desired object the lists did not return (it lost its labels, or is not
//!   there), and with `--server-side` one dry-run apply per object.
//!
//! At most [`IN_FLIGHT`] requests are in flight at a time.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::stream::{self, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIResourceList};
use kube::api::{GetParams, ListParams, Patch, PatchParams};
use serde_json::Value;

use super::compare::{Inventory, Observed, Snapshot};
use super::error::Error;
use super::transport::{Refusal, Reply, Transport};
use crate::manifest::{MANAGED_BY, PART_OF};
use crate::manifest::{Manifest, ResourceId};

/// Requests in flight at once: enough to hide latency, few enough that the API server's
/// priority and fairness (and a busy control plane) never sees a burst from us.
pub const IN_FLIGHT: usize = 8;
/// Items per LIST page, as kubectl pages.
pub const PAGE: u32 = 500;
/// The most one page of a LIST may weigh. A page over it is asked again with half the
/// `limit`, down to one object; etcd keeps objects under 1.5 MiB, so only a server that
/// ignores `limit` (or objects far outside Kubernetes' limits) reaches the error. With
/// [`IN_FLIGHT`] pages at once, reading never holds more than 8 x 16 MiB.
pub const PAGE_CAP: usize = 16 << 20;
/// A discovery document, a GET or a dry-run answer.
const DOCUMENT_CAP: usize = 16 << 20;
/// Objects one LIST may return (all pages): a guard against a server that pages forever.
pub const MAX_LISTED: usize = 100_000;
/// The field manager of the dry-run apply, so it shows as ours in managedFields.
const FIELD_MANAGER: &str = "casa-build";

/// A kind of the tree: (apiVersion, kind).
type TreeKind = (String, String);

/// A kind as the cluster serves it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Served {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl Served {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, `namespaces`: how kubectl and RBAC messages name a resource.
    pub fn name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The URL path of the collection, in `namespace` or across all.
    fn path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Resolution {
    Served(Served),
    NotServed,
    Fault(String),
}

/// What discovery found: how to reach each kind of the tree, and every other listable kind.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// (apiVersion, kind) of the tree -> where the cluster serves it.
    pub tree: BTreeMap<(String, String), Resolution>,
    /// Listable kinds the tree does not have, each in its group's preferred version if that
    /// serves it.
    pub others: Vec<Served>,
    /// Group versions whose resources could not be listed (so not searched for orphans).
    pub unsearched: Vec<String>,
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
    /// Why objects of this kind in `namespace` could not be listed, if they could not.
    fn refusal(&self, namespace: Option<&str>) -> Option<&String> {
        self.refused
            .as_ref()
            .or_else(|| namespace.and_then(|ns| self.refused_in.get(ns)))
    }
}

/// What a snapshot covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every kind: the tree's objects and orphans of every kind.
    Everything { server_side: bool },
    /// Only the tree's own kinds among `desired` (the Flux units a `--wait` polls).
    Desired,
}

pub struct Cluster {
    pub t: Transport,
    selector: String,
}

impl Cluster {
    pub fn new(t: Transport, site: &str) -> Self {
        Self {
            t,
            selector: format!("{MANAGED_BY}=casa-build,{PART_OF}={site}"),
        }
    }

    async fn document<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
    ) -> Result<Result<Option<T>, String>, Error> {
        let reply = self
            .t
            .send(
                what,
                || {
                    http::Request::get(path)
                        .body(Vec::new())
                        .map_err(|e| e.to_string())
                },
                DOCUMENT_CAP,
            )
            .await?;
        Ok(match reply {
            Reply::Body(body) => serde_json::from_slice(&body).map(Some).map_err(|e| {
                format!("{what}: the answer is not what a Kubernetes API server sends ({e})")
            }),
            Reply::Refused(r) if r.code == 404 => Ok(None),
            Reply::Refused(r) => Err(describe(what, &r)),
            Reply::TooLarge => Err(format!(
                "{what}: the answer is larger than {} MiB",
                DOCUMENT_CAP >> 20
            )),
        })
    }

    /// Maps each (apiVersion, kind) of the tree to its resource and scope, and lists every
    /// other kind that can be listed.
    pub async fn discover(&self, desired: &[Manifest]) -> Result<Catalog, Error> {
        let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for m in desired {
            wanted
                .entry(m.api_version().to_owned())
                .or_default()
                .insert(m.id.kind.clone());
        }
        let refused = |message: String| Error::Discovery {
            server: self.t.server.clone(),
            message,
        };
        let groups: APIGroupList = self
            .document("get /apis (discovery)", "/apis")
            .await?
            .map_err(refused)?
            .ok_or_else(|| refused("get /apis: not found (404)".to_owned()))?;
        // Group versions to read: the core one and every version of every group. A kind may
        // be served in one version only, not the preferred one (MetalLB serves BGPPeer in
        // v1beta2, its other kinds in v1beta1 alone): as client-go's
        // `ServerPreferredResources`, each kind is taken from the preferred version if it has
        // it, else from the first version that does, in the group's order.
        let mut order: Vec<String> = vec!["v1".to_owned()];
        for g in &groups.groups {
            let preferred = g
                .preferred_version
                .as_ref()
                .map(|p| p.group_version.clone());
            order.extend(preferred.iter().cloned());
            order.extend(
                g.versions
                    .iter()
                    .map(|v| v.group_version.clone())
                    .filter(|v| Some(v) != preferred.as_ref()),
            );
        }
        order.dedup();
        let fetch: BTreeSet<String> = order.iter().cloned().collect();
        let lists = stream::iter(fetch.iter().map(|gv| async move {
            let path = discovery_path(gv);
            let what = format!("get {path} (discovery)");
            let list = self.document::<APIResourceList>(&what, &path).await?;
            Ok::<_, Error>((gv.clone(), list))
        }))
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
        let lists: BTreeMap<String, Result<Option<APIResourceList>, String>> =
            lists.into_iter().collect::<Result<_, Error>>()?;
        match lists.get("v1") {
            Some(Err(message)) => return Err(refused(message.clone())),
            Some(Ok(None)) => {
                return Err(refused(
                    "get /api/v1: not found (404), which every Kubernetes API server serves"
                        .to_owned(),
                ));
            }
            _ => {}
        }

        let mut catalog = Catalog::default();
        let mut covered: BTreeSet<(String, String)> = BTreeSet::new();
        for (api_version, kinds) in &wanted {
            for kind in kinds {
                let resolution = match lists.get(api_version) {
                    None | Some(Ok(None)) => Resolution::NotServed,
                    Some(Err(msg)) => Resolution::Fault(msg.clone()),
                    Some(Ok(Some(list))) => list
                        .resources
                        .iter()
                        // `deployments/status` and the like are subresources, not the kind.
                        .find(|r| &r.kind == kind && !r.name.contains('/'))
                        .map_or(Resolution::NotServed, |r| {
                            Resolution::Served(served(api_version, &r.kind, &r.name, r.namespaced))
                        }),
                };
                if let Resolution::Served(s) = &resolution {
                    covered.insert((s.group.clone(), s.plural.clone()));
                }
                catalog
                    .tree
                    .insert((api_version.clone(), kind.clone()), resolution);
            }
        }
        for gv in &order {
            match lists.get(gv) {
                Some(Ok(Some(list))) => {
                    for r in &list.resources {
                        let s = served(gv, &r.kind, &r.name, r.namespaced);
                        if r.name.contains('/')
                            || !r.verbs.iter().any(|v| v == "list")
                            || is_event(&s)
                            || !covered.insert((s.group.clone(), s.plural.clone()))
                        {
                            continue;
                        }
                        catalog.others.push(s);
                    }
                }
                Some(Err(msg)) => catalog.unsearched.push(msg.clone()),
                // Announced by /apis, then not found: an aggregated API that is down.
                Some(Ok(None)) => catalog.unsearched.push(format!(
                    "get {} (discovery): not found (404)",
                    discovery_path(gv)
                )),
                None => {}
            }
        }
        Ok(catalog)
    }

    /// Everything the comparison needs to know about `desired` from the cluster.
    pub async fn snapshot(
        &self,
        catalog: &Catalog,
        desired: &[Manifest],
        scope: Scope,
    ) -> Result<Snapshot, Error> {
        let default_ns = self.t.default_namespace().to_owned();
        let ids: Vec<ResourceId> = desired
            .iter()
            .map(|m| effective_id(m, catalog.tree.get(&key(m)), &default_ns))
            .collect();
        let tree_kinds: BTreeSet<(String, String)> = desired.iter().map(key).collect();

        // The kinds to list: the tree's (whole objects), then, for orphans, all the others.
        // The tree's kinds carry their (apiVersion, kind) and are listed whole.
        let mut jobs: Vec<(Option<TreeKind>, Served)> = catalog
            .tree
            .iter()
            .filter(|(k, _)| tree_kinds.contains(*k))
            .filter_map(|(k, r)| match r {
                Resolution::Served(s) => Some((Some(k.clone()), s.clone())),
                _ => None,
            })
            .collect();
        if matches!(scope, Scope::Everything { .. }) {
            jobs.extend(catalog.others.iter().map(|s| (None, s.clone())));
        }
        let first =
            stream::iter(jobs.iter().map(|(tree, served)| async move {
                self.list(served, None, tree.is_some()).await
            }))
            .buffered(IN_FLIGHT)
            .collect::<Vec<_>>()
            .await;

        // Where RBAC refused a kind across namespaces, each namespace of the site instead:
        // those of the tree, of the site's labelled Namespaces, and of its inventories.
        let mut site_namespaces: BTreeSet<String> =
            ids.iter().filter_map(|id| id.namespace.clone()).collect();
        let mut results: Vec<Listed> = Vec::with_capacity(jobs.len());
        let mut per_namespace = Vec::new();
        for (i, result) in first.into_iter().enumerate() {
            let served = &jobs[i].1;
            let mut listed = Listed::default();
            match result? {
                Ok(items) => {
                    for item in &items {
                        if served.group.is_empty()
                            && served.kind == "Namespace"
                            && let Some(n) = item.pointer("/metadata/name").and_then(Value::as_str)
                        {
                            site_namespaces.insert(n.to_owned());
                        }
                        if let Some(inv) = live_id(item, served).and_then(|id| inventory(item, &id))
                        {
                            site_namespaces.extend(
                                inv.entries
                                    .iter()
                                    .filter_map(|e| super::compare::parse_inventory_id(e))
                                    .filter_map(|id| id.namespace),
                            );
                        }
                    }
                    listed.items = items;
                }
                Err(r) if r.code == 403 && served.namespaced => per_namespace.push(i),
                Err(r) => listed.refused = Some(describe(&list_what(served, None), &r)),
            }
            results.push(listed);
        }
        let namespaced_jobs: Vec<(usize, &String)> = per_namespace
            .iter()
            .flat_map(|i| site_namespaces.iter().map(move |ns| (*i, ns)))
            .collect();
        let second = stream::iter(namespaced_jobs.into_iter().map(|(i, ns)| {
            let (tree, served) = &jobs[i];
            async move { (i, ns, self.list(served, Some(ns), tree.is_some()).await) }
        }))
        .buffered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
        for (i, ns, result) in second {
            match result? {
                Ok(mut items) => results[i].items.append(&mut items),
                Err(r) => {
                    let what = list_what(&jobs[i].1, Some(ns));
                    results[i]
                        .refused_in
                        .insert(ns.clone(), describe(&what, &r));
                }
            }
        }
        if site_namespaces.is_empty() {
            for i in &per_namespace {
                results[*i].refused = Some(format!(
                    "{}: forbidden (403), and the site has no namespace to list in instead",
                    list_what(&jobs[*i].1, None)
                ));
            }
        }

        let mut unsearched = catalog.unsearched.clone();
        let mut by_id: HashMap<(String, ResourceId), Value> = HashMap::new();
        let mut others = Vec::new();
        let mut inventories = Vec::new();
        let wanted: BTreeSet<(&str, &ResourceId)> = desired
            .iter()
            .zip(&ids)
            .map(|(m, id)| (m.api_version(), id))
            .collect();
        let mut listed: BTreeMap<(String, String), Listed> = BTreeMap::new();
        for ((tree_key, served), result) in jobs.iter().zip(results) {
            if tree_key.is_none() {
                if let Some(why) = &result.refused {
                    unsearched.push(why.clone());
                } else if !result.refused_in.is_empty()
                    && result.refused_in.len() == site_namespaces.len()
                {
                    unsearched.push(format!(
                        "{}: forbidden (403), and in each of the site's {} namespaces",
                        list_what(served, None),
                        site_namespaces.len()
                    ));
                } else {
                    unsearched.extend(result.refused_in.values().cloned());
                }
            }
            let api_version = served.api_version();
            for item in &result.items {
                let Some(id) = live_id(item, served) else {
                    continue;
                };
                if let Some(inv) = inventory(item, &id) {
                    inventories.push(inv);
                }
                if wanted.contains(&(api_version.as_str(), &id)) {
                    by_id.insert((api_version.clone(), id), item.clone());
                } else {
                    // Only the metadata of an orphan is ever shown.
                    others.push((id, metadata_only(item, served)));
                }
            }
            if let Some(k) = tree_key {
                listed.insert(k.clone(), result);
            }
        }

        let mut observed = Vec::with_capacity(desired.len());
        let mut to_get = Vec::new();
        for (i, (m, id)) in desired.iter().zip(&ids).enumerate() {
            let k = key(m);
            let state = match catalog.tree.get(&k) {
                None | Some(Resolution::NotServed) => Observed::NotServed,
                Some(Resolution::Fault(msg)) => Observed::Fault(msg.clone()),
                Some(Resolution::Served(served)) => {
                    match listed
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
                    }
                }
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

        if let Scope::Everything { server_side: true } = scope {
            self.dry_run_all(catalog, desired, &ids, &mut observed)
                .await?;
        }

        Ok(Snapshot {
            ids,
            observed,
            others,
            inventories,
            unsearched,
        })
    }

    /// One label-selected LIST, all its pages. `full`: whole objects, else metadata only
    /// (whole objects after all when the server cannot send metadata, 406).
    async fn list(
        &self,
        served: &Served,
        namespace: Option<&str>,
        full: bool,
    ) -> Result<Result<Vec<Value>, Refusal>, Error> {
        let what = list_what(served, namespace);
        let path = served.path(namespace);
        let mut full = full;
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut limit = PAGE;
        loop {
            let params = {
                let mut p = ListParams::default().labels(&self.selector).limit(limit);
                if let Some(t) = &token {
                    p = p.continue_token(t);
                }
                p
            };
            let reply = self
                .t
                .send(
                    &what,
                    || {
                        let request = kube::core::Request::new(&path);
                        if full {
                            request.list(&params)
                        } else {
                            request.list_metadata(&params)
                        }
                        .map_err(|e| e.to_string())
                    },
                    PAGE_CAP,
                )
                .await?;
            let body = match reply {
                Reply::Body(body) => body,
                Reply::Refused(r) if r.code == 406 && !full => {
                    full = true;
                    continue;
                }
                Reply::Refused(r) => return Ok(Err(r)),
                Reply::TooLarge if limit > 1 => {
                    limit /= 2;
                    continue;
                }
                Reply::TooLarge => {
                    return Ok(Err(own_refusal(format!(
                        "a page of a single object was larger than {} MiB (the server may ignore `limit`): not read",
                        PAGE_CAP >> 20
                    ))));
                }
            };
            #[derive(serde::Deserialize)]
            struct Page {
                #[serde(default)]
                metadata: PageMeta,
                #[serde(default)]
                items: Vec<Value>,
            }
            #[derive(serde::Deserialize, Default)]
            struct PageMeta {
                #[serde(rename = "continue", default)]
                continue_: Option<String>,
            }
            let page: Page = match serde_json::from_slice(&body) {
                Ok(p) => p,
                Err(e) => {
                    return Ok(Err(own_refusal(format!("the answer is not a list ({e})"))));
                }
            };
            drop(body);
            items.extend(page.items.into_iter().map(|o| with_type(o, served)));
            if items.len() > MAX_LISTED {
                return Ok(Err(own_refusal(format!(
                    "more than {MAX_LISTED} objects carry the site's labels: stopped reading"
                ))));
            }
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
        let what = format!("get {} {}", served.name(), display_name(id));
        let path = served.path(id.namespace.as_deref());
        let reply = self
            .t
            .send(
                &what,
                || {
                    kube::core::Request::new(&path)
                        .get(&id.name, &GetParams::default())
                        .map_err(|e| e.to_string())
                },
                DOCUMENT_CAP,
            )
            .await?;
        Ok(match reply {
            Reply::Body(body) => serde_json::from_slice(&body)
                .map(|v| Some(with_type(v, served)))
                .map_err(|e| format!("{what}: the answer is not an object ({e})")),
            Reply::Refused(r) if r.code == 404 => Ok(None),
            Reply::Refused(r) => Err(describe(&what, &r)),
            Reply::TooLarge => Err(format!(
                "{what}: the answer is larger than {} MiB",
                DOCUMENT_CAP >> 20
            )),
        })
    }

    /// A server-side apply dry run (field manager casa-build, force) of every desired object
    /// that exists, as `kubectl diff --server-side` does: what the object would be.
    async fn dry_run_all(
        &self,
        catalog: &Catalog,
        desired: &[Manifest],
        ids: &[ResourceId],
        observed: &mut [Observed],
    ) -> Result<(), Error> {
        let jobs: Vec<(usize, &Served)> = observed
            .iter()
            .enumerate()
            .filter(|(_, o)| matches!(o, Observed::Live { .. }))
            .filter_map(|(i, _)| match catalog.tree.get(&key(&desired[i])) {
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
                let what = format!(
                    "patch {} {} (server-side apply dry run)",
                    served.name(),
                    display_name(id)
                );
                let path = served.path(id.namespace.as_deref());
                let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
                let reply = self
                    .t
                    .send(
                        &what,
                        || {
                            kube::core::Request::new(&path)
                                .patch(&id.name, &params, &Patch::Apply(&body))
                                .map_err(|e| e.to_string())
                        },
                        DOCUMENT_CAP,
                    )
                    .await?;
                let result = match reply {
                    Reply::Body(b) => serde_json::from_slice(&b)
                        .map(|v| with_type(v, served))
                        .map_err(|e| format!("{what}: the answer is not an object ({e})")),
                    Reply::Refused(r) => Err(describe(&what, &r)),
                    Reply::TooLarge => Err(format!(
                        "{what}: the answer is larger than {} MiB",
                        DOCUMENT_CAP >> 20
                    )),
                };
                Ok::<_, Error>((i, result))
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
}

/// `/api/v1` for the core group, `/apis/<group>/<version>` for the others.
fn discovery_path(group_version: &str) -> String {
    if group_version.contains('/') {
        format!("/apis/{group_version}")
    } else {
        format!("/api/{group_version}")
    }
}

fn served(api_version: &str, kind: &str, plural: &str, namespaced: bool) -> Served {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), api_version.to_owned()),
    };
    Served {
        group,
        version,
        kind: kind.to_owned(),
        plural: plural.to_owned(),
        namespaced,
    }
}

/// Events are records controllers write about objects; they never carry an object's labels,
/// and listing them is the costliest LIST of a busy cluster.
fn is_event(s: &Served) -> bool {
    s.kind == "Event" && (s.group.is_empty() || s.group == "events.k8s.io")
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

fn live_id(item: &Value, served: &Served) -> Option<ResourceId> {
    let meta = item.get("metadata")?;
    Some(ResourceId {
        group: served.group.clone(),
        kind: served.kind.clone(),
        namespace: meta
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name: meta.get("name")?.as_str()?.to_owned(),
    })
}

/// A Flux Kustomization's inventory: the ids of what it applied.
fn inventory(item: &Value, id: &ResourceId) -> Option<Inventory> {
    if id.group != super::flux::KUSTOMIZE_GROUP || id.kind != "Kustomization" {
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
        prune: item.pointer("/spec/prune").and_then(Value::as_bool) == Some(true),
        suspend: item.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true),
        entries,
    })
}

/// List items come without apiVersion and kind (metadata-only ones as
/// `meta.k8s.io/v1 PartialObjectMetadata`); the object shown in a diff has its own.
fn with_type(mut v: Value, served: &Served) -> Value {
    if let Some(map) = v.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(served.api_version()));
        map.insert("kind".into(), Value::String(served.kind.clone()));
    }
    v
}

fn metadata_only(v: &Value, served: &Served) -> Value {
    let mut out =
        serde_json::json!({"metadata": v.get("metadata").cloned().unwrap_or(Value::Null)});
    out = with_type(out, served);
    out
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

/// A refusal of our own making (the answer was unusable), described like the server's.
fn own_refusal(message: String) -> Refusal {
    Refusal {
        code: 0,
        reason: String::new(),
        message,
        attempts: 1,
    }
}

fn attempts(n: u32) -> String {
    if n == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{n} attempts")
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
        404 => format!("{what}: not found (404){message}"),
        429 => format!(
            "{what}: too many requests (429) after {}{message}",
            attempts(r.attempts)
        ),
        c if c >= 500 => format!(
            "{what}: server error ({c}) after {}{message}",
            attempts(r.attempts)
        ),
        0 => format!("{what}: {}", r.message),
        c if r.reason.is_empty() => format!("{what}: {c}{message}"),
        c => format!("{what}: {} ({c}){message}", r.reason),
    }
}
