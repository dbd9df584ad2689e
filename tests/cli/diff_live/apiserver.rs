//! An in-process stand-in for kube-apiserver on 127.0.0.1 (a random port), for `diff --live`.
//!
//! It answers the way the real server does in `../shared/fixtures/apiserver-replays/v1-36/`:
//! `/apis` is the recorded APIGroupList (its groups and versions as far as this server serves
//! them) plus the groups of the CRDs it serves; resource lists; objects after defaulting
//! (imagePullPolicy, terminationMessagePath, strategy, ...) with the metadata the server adds
//! (uid, resourceVersion, generation, creationTimestamp, managedFields); metadata-only lists
//! (`PartialObjectMetadataList`) when the client asks for them; errors as `Status` objects
//! (404, 403, 401, 406, 422, 429 with `Retry-After`, 5xx), except the plain-text `404 page not
//! found` the apiserver gives for a group it does not serve. The kinds it serves are those of a
//! v1.33 server ([`builtin`], from k8s-openapi's generated types) and of the site's upstream
//! CRDs (`../shared/schemas/crds/<project>/`, [`crds`]). Plain HTTP/1.1 over std::net, or TLS
//! with the fixture certificate in `tests/fixtures/tls/`; a thread per connection.
//!
//! Like kube's mock verifier it checks what it is asked: a bearer token on every request, the
//! site's label selector on every LIST, `dryRun=All`, `fieldManager=casa-build` and
//! `force=true` on every PATCH. Violations are collected and a test asserts there are none.

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::{Value, json};

pub const TOKEN: &str = "replay-token";
/// The label selector the site's lists must carry (`app.kubernetes.io/managed-by` and
/// `app.kubernetes.io/part-of` of the site).
pub fn selector(site: &str) -> String {
    format!("app.kubernetes.io/managed-by=casa-build,app.kubernetes.io/part-of={site}")
}
pub const METADATA_LIST: &str = "as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/// A kind the server serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    /// Whether `list` is among its verbs (`tokenreviews` and the like are create-only).
    pub listable: bool,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, as RBAC messages name it.
    pub fn name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

fn resource<T: k8s_openapi::Resource>(listable: bool) -> Resource
where
    T::Scope: 'static,
{
    Resource {
        group: T::GROUP.to_owned(),
        version: T::VERSION.to_owned(),
        kind: T::KIND.to_owned(),
        plural: T::URL_PATH_SEGMENT.to_owned(),
        namespaced: TypeId::of::<T::Scope>() == TypeId::of::<k8s_openapi::NamespaceResourceScope>(),
        listable,
    }
}

/// The GA kinds a v1.33 API server serves by default, with the names and scopes k8s-openapi
/// generated from its OpenAPI document: every listable one, and some create-only ones.
pub fn builtin() -> Vec<Resource> {
    use k8s_openapi::api::{
        admissionregistration, apps, authentication, authorization, autoscaling, batch,
        certificates, coordination, core, discovery, events, flowcontrol, networking, node, policy,
        rbac, scheduling, storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration;
    macro_rules! kinds {
        ($listable:expr; $($t:ty),* $(,)?) => { vec![$(resource::<$t>($listable)),*] };
    }
    let mut out = kinds![true;
        admissionregistration::v1::MutatingWebhookConfiguration,
        admissionregistration::v1::ValidatingAdmissionPolicy,
        admissionregistration::v1::ValidatingAdmissionPolicyBinding,
        admissionregistration::v1::ValidatingWebhookConfiguration,
        apps::v1::ControllerRevision,
        apps::v1::DaemonSet,
        apps::v1::Deployment,
        apps::v1::ReplicaSet,
        apps::v1::StatefulSet,
        autoscaling::v1::HorizontalPodAutoscaler,
        autoscaling::v2::HorizontalPodAutoscaler,
        batch::v1::CronJob,
        batch::v1::Job,
        certificates::v1::CertificateSigningRequest,
        coordination::v1::Lease,
        core::v1::ComponentStatus,
        core::v1::ConfigMap,
        core::v1::Endpoints,
        core::v1::Event,
        core::v1::LimitRange,
        core::v1::Namespace,
        core::v1::Node,
        core::v1::PersistentVolume,
        core::v1::PersistentVolumeClaim,
        core::v1::Pod,
        core::v1::PodTemplate,
        core::v1::ReplicationController,
        core::v1::ResourceQuota,
        core::v1::Secret,
        core::v1::Service,
        core::v1::ServiceAccount,
        discovery::v1::EndpointSlice,
        events::v1::Event,
        flowcontrol::v1::FlowSchema,
        flowcontrol::v1::PriorityLevelConfiguration,
        networking::v1::Ingress,
        networking::v1::IngressClass,
        networking::v1::IPAddress,
        networking::v1::NetworkPolicy,
        networking::v1::ServiceCIDR,
        node::v1::RuntimeClass,
        policy::v1::PodDisruptionBudget,
        rbac::v1::ClusterRole,
        rbac::v1::ClusterRoleBinding,
        rbac::v1::Role,
        rbac::v1::RoleBinding,
        scheduling::v1::PriorityClass,
        storage::v1::CSIDriver,
        storage::v1::CSINode,
        storage::v1::CSIStorageCapacity,
        storage::v1::StorageClass,
        storage::v1::VolumeAttachment,
        apiextensions::v1::CustomResourceDefinition,
        apiregistration::v1::APIService,
    ];
    out.extend(kinds![false;
        core::v1::Binding,
        authentication::v1::TokenReview,
        authentication::v1::SelfSubjectReview,
        authorization::v1::SubjectAccessReview,
        authorization::v1::SelfSubjectAccessReview,
        authorization::v1::LocalSubjectAccessReview,
    ]);
    out
}

/// The kinds of the site's upstream CRDs (`../shared/schemas/crds/<project>/*.yaml`, the
/// project folders; group folders hold schemas), each served version.
pub fn crds() -> Vec<Resource> {
    let root = crate::support::path("../shared/schemas/crds");
    let mut out = Vec::new();
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("read {}: {e}", root.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().contains('.'))
        .collect();
    projects.sort();
    for project in projects {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&project)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for crd in docs
                .iter()
                .filter(|d| d["kind"] == "CustomResourceDefinition")
            {
                let spec = &crd["spec"];
                for v in spec["versions"].as_array().into_iter().flatten() {
                    if v["served"] != true {
                        continue;
                    }
                    let r = Resource {
                        group: spec["group"].as_str().unwrap().to_owned(),
                        version: v["name"].as_str().unwrap().to_owned(),
                        kind: spec["names"]["kind"].as_str().unwrap().to_owned(),
                        plural: spec["names"]["plural"].as_str().unwrap().to_owned(),
                        namespaced: spec["scope"] == "Namespaced",
                        listable: true,
                    };
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
            }
        }
    }
    out
}

/// What the test cluster serves: the built-in kinds and the site's CRDs.
pub fn catalog() -> Vec<Resource> {
    let mut all = builtin();
    all.extend(crds());
    all
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub body: String,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    resources: Vec<Resource>,
    /// The site whose labels every LIST must select.
    site: String,
    /// (apiVersion, kind, namespace, name) -> the stored object.
    objects: BTreeMap<(String, String, Option<String>, String), Value>,
    forbidden: BTreeSet<String>,
    /// Resource name -> how many more requests on it answer with this code, and the
    /// `Retry-After` seconds sent with it.
    failing: BTreeMap<String, (usize, u16, Option<u64>)>,
    /// Resources whose LIST answers carry this many bytes more, whatever `limit` says.
    oversized: BTreeMap<String, usize>,
    /// Resources that cannot answer with metadata only (406), as some aggregated APIs.
    no_metadata: BTreeSet<String>,
    /// Edits applied to stored objects once their resource has been listed so many times.
    later: Vec<Later>,
    lists: BTreeMap<String, usize>,
    /// The bearer token requests must carry.
    token: String,
    requests: Vec<Request>,
    violations: Vec<String>,
    next_rv: u64,
}

/// An edit due after `after` LISTs of `resource`, to the object `key` (`namespace/name`).
struct Later {
    resource: String,
    after: usize,
    key: String,
    edit: Box<dyn FnMut(&mut Value) + Send>,
}

/// A running server; stops when dropped.
pub struct ApiServer {
    addr: SocketAddr,
    tls: bool,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The fixture certificate and key the TLS server presents (`tests/fixtures/tls/`).
pub fn tls_fixture(name: &str) -> PathBuf {
    crate::support::path("tests/fixtures/tls").join(name)
}

impl ApiServer {
    /// Serves `resources` over plain HTTP for site `flatiron`, holding no objects yet.
    pub fn start(resources: Vec<Resource>) -> Self {
        Self::spawn(resources, None)
    }

    /// The same over TLS, presenting the self-signed `selfsigned.pem` (its own CA).
    pub fn start_tls(resources: Vec<Resource>) -> Self {
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_file_iter(tls_fixture("selfsigned.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(tls_fixture("selfsigned.key")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        Self::spawn(resources, Some(Arc::new(config)))
    }

    fn spawn(resources: Vec<Resource>, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State {
            resources,
            site: "flatiron".to_owned(),
            token: TOKEN.to_owned(),
            next_rv: 1000,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let secure = tls.is_some();
        let thread = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let _ = conn.set_nodelay(true);
                    let state = Arc::clone(&state);
                    let tls = tls.clone();
                    std::thread::spawn(move || match tls {
                        Some(config) => {
                            let Ok(session) = rustls::ServerConnection::new(config) else {
                                return;
                            };
                            serve_connection(rustls::StreamOwned::new(session, conn), &state);
                        }
                        None => serve_connection(conn, &state),
                    });
                }
            })
        };
        Self {
            addr,
            tls: secure,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The site whose label selector LISTs must carry (default `flatiron`).
    pub fn site(&self, site: &str) {
        self.state().site = site.to_owned();
    }

    /// The bearer token requests must carry (default [`TOKEN`]).
    pub fn token(&self, token: &str) {
        self.state().token = token.to_owned();
    }

    /// Stores an object as the server would after it was applied: defaults filled in,
    /// server metadata added.
    pub fn apply(&self, desired: &Value) {
        let mut st = self.state();
        st.next_rv += 1;
        let rv = st.next_rv;
        let live = as_applied(desired, rv);
        st.objects.insert(object_key(&live), live);
    }

    /// Stores an object exactly as given (a recorded server answer, say).
    pub fn store(&self, live: &Value) {
        self.state().objects.insert(object_key(live), live.clone());
    }

    pub fn remove(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) {
        let key = (
            api_version.to_owned(),
            kind.to_owned(),
            namespace.map(str::to_owned),
            name.to_owned(),
        );
        assert!(
            self.state().objects.remove(&key).is_some(),
            "no {key:?} to remove"
        );
    }

    /// Edits a stored object in place.
    pub fn edit(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) {
        let key = (
            api_version.to_owned(),
            kind.to_owned(),
            namespace.map(str::to_owned),
            name.to_owned(),
        );
        let mut st = self.state();
        let obj = st
            .objects
            .get_mut(&key)
            .unwrap_or_else(|| panic!("no {key:?}"));
        f(obj);
    }

    /// Once `resource` has been listed `after` times, `f` edits the stored object `key`
    /// (`namespace/name` or `name`): a controller catching up between two polls.
    pub fn edit_after(
        &self,
        resource: &str,
        after: usize,
        key: &str,
        f: impl FnMut(&mut Value) + Send + 'static,
    ) {
        self.state().later.push(Later {
            resource: resource.to_owned(),
            after,
            key: key.to_owned(),
            edit: Box::new(f),
        });
    }

    /// Every request on `resource` (e.g. `sealedsecrets.bitnami.com`) is answered 403.
    pub fn forbid(&self, resource: &str) {
        self.state().forbidden.insert(resource.to_owned());
    }

    /// The next `times` requests on `resource` are answered with `code` (429, 503, ...);
    /// a 429 says `Retry-After: 1`, as the API server's max-in-flight and priority-and-fairness
    /// filters do (k8s.io/apiserver@v0.33 pkg/server/filters/maxinflight.go `tooManyRequests`).
    pub fn fail(&self, resource: &str, times: usize, code: u16) {
        let retry_after = (code == 429).then_some(1);
        self.fail_with(resource, times, code, retry_after);
    }

    /// As [`ApiServer::fail`], with this `Retry-After` (seconds) or none.
    pub fn fail_with(&self, resource: &str, times: usize, code: u16, retry_after: Option<u64>) {
        self.state()
            .failing
            .insert(resource.to_owned(), (times, code, retry_after));
    }

    /// LISTs of `resource` answer with `bytes` more than their items, ignoring `limit`.
    pub fn oversize(&self, resource: &str, bytes: usize) {
        self.state().oversized.insert(resource.to_owned(), bytes);
    }

    /// LISTs of `resource` asking for metadata only are answered 406.
    pub fn no_metadata(&self, resource: &str) {
        self.state().no_metadata.insert(resource.to_owned());
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.state().violations.clone()
    }

    /// A kubeconfig for this server, written to `dir`.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        write_kubeconfig(dir, &self.url())
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A kubeconfig with two contexts: `replay` (current, a token, namespace `default`) pointing
/// at `server`, and `elsewhere` pointing at a port nobody listens on.
pub fn write_kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let text = format!(
        "apiVersion: v1
kind: Config
current-context: replay
clusters:
- name: replay
  cluster:
    server: {server}
- name: elsewhere
  cluster:
    server: http://127.0.0.1:9
contexts:
- name: replay
  context:
    cluster: replay
    user: ci
    namespace: default
- name: elsewhere
  context:
    cluster: elsewhere
    user: ci
users:
- name: ci
  user:
    token: {TOKEN}
"
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

/// A server that accepts connections and never answers: a hung control plane.
pub struct Stalled {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Stalled {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(c) = conn {
                    held.push(c);
                }
            }
        });
        Self { addr, stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Stalled {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn object_key(v: &Value) -> (String, String, Option<String>, String) {
    (
        v["apiVersion"].as_str().unwrap_or_default().to_owned(),
        v["kind"].as_str().unwrap_or_default().to_owned(),
        v["metadata"]["namespace"].as_str().map(str::to_owned),
        v["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

// ---------------------------------------------------------------------------------------
// What the server does to an object on the way in, as the recordings show it.

/// The object as a real server returns it after Flux applied it.
pub fn as_applied(desired: &Value, rv: u64) -> Value {
    let mut v = desired.clone();
    let kind = v["kind"].as_str().unwrap_or_default().to_owned();
    let api_version = v["apiVersion"].as_str().unwrap_or_default().to_owned();
    default_object(&kind, &mut v);
    let name = v["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let fields = fields_v1(desired);
    let meta = v["metadata"].as_object_mut().expect("metadata");
    meta.insert(
        "uid".into(),
        json!(format!("5763f6ba-5700-43e9-9717-{rv:012}")),
    );
    meta.insert("resourceVersion".into(), json!(rv.to_string()));
    meta.insert("generation".into(), json!(1));
    meta.insert("creationTimestamp".into(), json!("2026-06-15T04:15:57Z"));
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    labels["kustomize.toolkit.fluxcd.io/name"] = json!("flux-system");
    labels["kustomize.toolkit.fluxcd.io/namespace"] = json!("flux-system");
    meta.insert(
        "managedFields".into(),
        json!([{
            "manager": "kustomize-controller",
            "operation": "Apply",
            "apiVersion": api_version,
            "time": "2026-06-15T04:15:57Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }]),
    );
    if kind == "Namespace" {
        meta.get_mut("labels").expect("labels")["kubernetes.io/metadata.name"] = json!(name);
    }
    v
}

/// Server-side defaults of the kinds the reference site has, copied from the recorded
/// objects (deployment-list.json, patch-deployment.json, pod-list.json).
fn default_object(kind: &str, v: &mut Value) {
    match kind {
        "Deployment" => {
            let spec = &mut v["spec"];
            or_insert(spec, "replicas", json!(1));
            or_insert(spec, "revisionHistoryLimit", json!(10));
            or_insert(spec, "progressDeadlineSeconds", json!(600));
            or_insert(
                spec,
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
            );
            default_pod_spec(&mut spec["template"]["spec"]);
            v["status"] = json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                "conditions": [{"type": "Available", "status": "True", "lastUpdateTime": "2026-06-15T04:15:05Z", "lastTransitionTime": "2026-06-15T04:15:05Z", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."}]});
            v["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("1");
        }
        "Service" => {
            let spec = &mut v["spec"];
            or_insert(spec, "type", json!("ClusterIP"));
            or_insert(spec, "sessionAffinity", json!("None"));
            or_insert(spec, "clusterIP", json!("10.96.12.34"));
            or_insert(spec, "clusterIPs", json!(["10.96.12.34"]));
            or_insert(spec, "ipFamilies", json!(["IPv4"]));
            or_insert(spec, "ipFamilyPolicy", json!("SingleStack"));
            or_insert(spec, "internalTrafficPolicy", json!("Cluster"));
            let load_balancer = spec["type"] == "LoadBalancer";
            if load_balancer {
                or_insert(spec, "allocateLoadBalancerNodePorts", json!(true));
                or_insert(spec, "externalTrafficPolicy", json!("Cluster"));
            }
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for (i, p) in ports.iter_mut().enumerate() {
                    or_insert(p, "protocol", json!("TCP"));
                    let port = p["port"].clone();
                    or_insert(p, "targetPort", port);
                    if load_balancer {
                        or_insert(p, "nodePort", json!(30080 + i));
                    }
                }
            }
            v["status"] = json!({"loadBalancer": {}});
        }
        "Namespace" => {
            v["spec"] = json!({"finalizers": ["kubernetes"]});
            v["status"] = json!({"phase": "Active"});
        }
        "PersistentVolumeClaim" => {
            or_insert(&mut v["spec"], "volumeMode", json!("Filesystem"));
            v["status"] = json!({"phase": "Pending"});
        }
        "StorageClass" => {
            or_insert(v, "reclaimPolicy", json!("Delete"));
            or_insert(v, "volumeBindingMode", json!("Immediate"));
        }
        "ServiceAccount" | "Role" | "RoleBinding" => {}
        // Custom resources: the server keeps what was applied and controllers add status.
        _ => {
            v["status"] = json!({"conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "lastTransitionTime": "2026-06-15T04:16:00Z", "message": "ok"}], "observedGeneration": 1});
        }
    }
    if v["metadata"]["annotations"]
        .as_object()
        .is_some_and(|a| a.is_empty())
    {
        v["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove("annotations");
    }
}

fn default_pod_spec(pod: &mut Value) {
    or_insert(pod, "restartPolicy", json!("Always"));
    or_insert(pod, "terminationGracePeriodSeconds", json!(30));
    or_insert(pod, "dnsPolicy", json!("ClusterFirst"));
    or_insert(pod, "securityContext", json!({}));
    or_insert(pod, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers"] {
        if let Some(cs) = pod.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs {
                let latest = c["image"]
                    .as_str()
                    .is_some_and(|i| i.ends_with(":latest") || !i.contains(':'));
                or_insert(
                    c,
                    "imagePullPolicy",
                    json!(if latest { "Always" } else { "IfNotPresent" }),
                );
                or_insert(c, "terminationMessagePath", json!("/dev/termination-log"));
                or_insert(c, "terminationMessagePolicy", json!("File"));
                or_insert(c, "resources", json!({}));
                // Quantities come back as strings in canonical form (`"cpu":"100m"`).
                for bound in ["limits", "requests"] {
                    // `get_mut`, not indexing: indexing would insert a null.
                    if let Some(q) = c
                        .get_mut("resources")
                        .and_then(|r| r.get_mut(bound))
                        .and_then(Value::as_object_mut)
                    {
                        for v in q.values_mut() {
                            if let Some(n) = v.as_f64() {
                                *v = json!(canonical_quantity(n));
                            }
                        }
                    }
                }
                for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                    if c[probe].is_object() {
                        let p = &mut c[probe];
                        or_insert(p, "timeoutSeconds", json!(1));
                        or_insert(p, "periodSeconds", json!(10));
                        or_insert(p, "successThreshold", json!(1));
                        or_insert(p, "failureThreshold", json!(3));
                        if p["httpGet"].is_object() {
                            or_insert(&mut p["httpGet"], "scheme", json!("HTTP"));
                        }
                    }
                }
                if let Some(ports) = c["ports"].as_array_mut() {
                    for p in ports {
                        or_insert(p, "protocol", json!("TCP"));
                    }
                }
            }
        }
    }
}

fn canonical_quantity(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{:.0}m", n * 1000.0)
    }
}

fn or_insert(v: &mut Value, key: &str, value: Value) {
    if let Some(map) = v.as_object_mut() {
        map.entry(key).or_insert(value);
    }
}

/// A FieldsV1 set of the fields an object sets (`f:` keys, `k:{"name":..}` for named items).
fn fields_v1(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| *k != "apiVersion" && *k != "kind")
                .map(|(k, v)| (format!("f:{k}"), fields_v1(v)))
                .collect(),
        ),
        Value::Array(items) if items.iter().all(|i| i.get("name").is_some()) => Value::Object(
            items
                .iter()
                .map(|i| (format!("k:{{\"name\":{}}}", i["name"]), fields_v1(i)))
                .collect(),
        ),
        _ => json!({}),
    }
}

/// What a server-side apply does to `live`, near enough for a dry run: the applied fields
/// replace the live ones; maps merge; lists of named items merge by name; other lists are
/// replaced. The manager's entry is added to managedFields.
fn apply_patch(live: &Value, applied: &Value) -> Value {
    let mut out = merge(live, applied);
    // Defaulting runs on every write: what the apply set in another spelling comes back in
    // the server's.
    let kind = out["kind"].as_str().unwrap_or_default().to_owned();
    default_object(&kind, &mut out);
    if let Some(mf) = out["metadata"]["managedFields"].as_array_mut() {
        mf.push(json!({"manager": "casa-build", "operation": "Apply", "apiVersion": applied["apiVersion"], "time": "2026-06-15T05:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields_v1(applied)}));
    }
    out
}

fn merge(live: &Value, applied: &Value) -> Value {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) => {
            let mut out = l.clone();
            for (k, av) in a {
                let merged = match l.get(k) {
                    Some(lv) => merge(lv, av),
                    None => av.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(a)) if a.iter().all(|i| i.get("name").is_some()) => {
            let mut out: Vec<Value> = Vec::new();
            for item in a {
                match l.iter().find(|li| li.get("name") == item.get("name")) {
                    Some(li) => out.push(merge(li, item)),
                    None => out.push(item.clone()),
                }
            }
            for li in l {
                if !a.iter().any(|i| i.get("name") == li.get("name")) {
                    out.push(li.clone());
                }
            }
            Value::Array(out)
        }
        _ => applied.clone(),
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

fn serve_connection<S: Read + Write>(conn: S, state: &Mutex<State>) {
    let mut reader = BufReader::new(conn);
    loop {
        let Some(req) = read_request(&mut reader) else {
            return;
        };
        let (code, content_type, body, retry_after) = {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            let answer = route(&mut st, &req);
            st.requests.push(req);
            answer
        };
        let retry = retry_after
            .map(|s| format!("Retry-After: {s}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{retry}Audit-Id: 8b70003a-d86e-421f-8f2f-031bb51944ae\r\n\r\n",
            reason(code),
            body.len()
        );
        // One write: head and body in two would meet Nagle's algorithm and the client's
        // delayed ACK, 40 ms per answer.
        let mut answer = head.into_bytes();
        answer.extend_from_slice(body.as_bytes());
        let writer = reader.get_mut();
        if writer.write_all(&answer).is_err() || writer.flush().is_err() {
            return;
        }
    }
}

fn read_request<S: Read>(reader: &mut BufReader<S>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let at = Instant::now();
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), parse_query(q)),
        None => (target, BTreeMap::new()),
    };
    let mut query = query;
    if let Some(auth) = headers.get("authorization") {
        query.insert("__authorization".into(), auth.clone());
    }
    Some(Request {
        method,
        path,
        query,
        content_type: headers.get("content-type").cloned(),
        accept: headers.get("accept").cloned(),
        body: String::from_utf8_lossy(&body).into_owned(),
        at,
    })
}

fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Status, content type, body, and the `Retry-After` header if any.
type Answer = (u16, &'static str, String, Option<u64>);

fn ok(v: &Value) -> Answer {
    (200, "application/json", v.to_string(), None)
}

fn not_found() -> Answer {
    (
        404,
        "text/plain; charset=utf-8",
        "404 page not found\n".to_owned(),
        None,
    )
}

/// A `Status` object, as the recordings show them.
fn status(code: u16, reason: &str, message: &str, details: Value) -> Answer {
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    if !details.is_null() {
        s["details"] = details;
    }
    (code, "application/json", s.to_string(), None)
}

fn route(st: &mut State, req: &Request) -> Answer {
    if req.query.get("__authorization").map(String::as_str) != Some(&format!("Bearer {}", st.token))
    {
        st.violations.push(format!(
            "{} {} without the bearer token",
            req.method, req.path
        ));
        return status(401, "Unauthorized", "Unauthorized", Value::Null);
    }
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["apis"]) => ok(&group_list(&st.resources)),
        ("GET", ["api"]) => ok(
            &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "172.18.0.2:6443"}]}),
        ),
        ("GET", ["api", version]) => resource_list(st, "", version),
        ("GET", ["apis", group, version]) => resource_list(st, group, version),
        (_, ["api", version, rest @ ..]) => object_request(st, req, "", version, rest),
        (_, ["apis", group, version, rest @ ..]) => object_request(st, req, group, version, rest),
        _ => not_found(),
    }
}

/// The recorded `/apis` document with the versions this server serves (a group it serves
/// none of is left out), then the groups of the CRDs it serves, versions by Kubernetes'
/// priority (GA before beta before alpha, higher numbers first), the highest preferred.
fn group_list(resources: &[Resource]) -> Value {
    let served: BTreeSet<(String, String)> = resources
        .iter()
        .filter(|r| !r.group.is_empty())
        .map(|r| (r.group.clone(), r.version.clone()))
        .collect();
    let recorded = recorded_group_list();
    let mut groups = Vec::new();
    let mut seen = BTreeSet::new();
    for g in recorded["groups"].as_array().into_iter().flatten() {
        let name = g["name"].as_str().unwrap_or_default().to_owned();
        let versions: Vec<Value> = g["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| {
                served.contains(&(
                    name.clone(),
                    v["version"].as_str().unwrap_or_default().to_owned(),
                ))
            })
            .cloned()
            .collect();
        seen.insert(name.clone());
        if versions.is_empty() {
            continue;
        }
        let preferred = if versions.contains(&g["preferredVersion"]) {
            g["preferredVersion"].clone()
        } else {
            versions[0].clone()
        };
        groups.push(json!({"name": name, "versions": versions, "preferredVersion": preferred}));
    }
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (group, version) in &served {
        if !seen.contains(group) {
            extra
                .entry(group.clone())
                .or_default()
                .push(version.clone());
        }
    }
    for (group, mut versions) in extra {
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        let gvs: Vec<Value> = versions
            .iter()
            .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
            .collect();
        groups.push(json!({"name": group, "versions": gvs, "preferredVersion": gvs[0]}));
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Kubernetes' version order (k8s.io/apimachinery@v0.33 pkg/version/helpers.go
/// `CompareKubeAwareVersionStrings`): GA, then beta, then alpha; higher numbers first.
fn version_priority(v: &str) -> (u8, u32, u32) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (stage, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (stage, major, minor)
}

fn recorded_group_list() -> Value {
    let path =
        crate::support::path("../shared/fixtures/apiserver-replays/v1-36/api_versions-list.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let exchanges: Value = serde_json::from_str(&text).expect("recording is JSON");
    let body = exchanges[0]["response_body"]
        .as_str()
        .expect("recorded body");
    serde_json::from_str(body).expect("recorded APIGroupList")
}

fn resource_list(st: &State, group: &str, version: &str) -> Answer {
    let served: Vec<&Resource> = st
        .resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if served.is_empty() {
        // What kube-apiserver answers for a group/version it does not serve.
        return not_found();
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let mut resources = Vec::new();
    for r in served {
        if !r.listable {
            resources.push(json!({"name": r.plural, "singularName": r.kind.to_ascii_lowercase(), "namespaced": r.namespaced, "kind": r.kind, "verbs": ["create"]}));
            continue;
        }
        resources.push(json!({"name": r.plural, "singularName": r.kind.to_ascii_lowercase(), "namespaced": r.namespaced, "kind": r.kind,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], "storageVersionHash": "8Ewd0mPgbQk="}));
        resources.push(json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "patch", "update"]}));
    }
    ok(
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn object_request(
    st: &mut State,
    req: &Request,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Answer {
    // /namespaces/{ns}/{plural}[/{name}] or /{plural}[/{name}] (`namespaces/{name}` is a
    // Namespace).
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return not_found(),
    };
    let Some(resource) = st
        .resources
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
        .cloned()
    else {
        return not_found();
    };
    let verb = match (req.method.as_str(), name) {
        ("GET", None) => "list",
        ("GET", Some(_)) => "get",
        ("PATCH", Some(_)) => "patch",
        _ => {
            st.violations
                .push(format!("unexpected {} {}", req.method, req.path));
            return status(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                Value::Null,
            );
        }
    };
    let rname = resource.name();
    if let Some((left, code, retry_after)) = st.failing.get_mut(&rname)
        && *left > 0
    {
        *left -= 1;
        let (code, retry_after) = (*code, *retry_after);
        let mut answer = if code == 429 {
            status(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
                json!({"retryAfterSeconds": retry_after.unwrap_or(1)}),
            )
        } else {
            status(
                code,
                "InternalError",
                "Internal error occurred: etcdserver: request timed out",
                json!({"causes": [{"message": "etcdserver: request timed out"}]}),
            )
        };
        answer.3 = retry_after;
        return answer;
    }
    if st.forbidden.contains(&rname) {
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_owned(),
        };
        let message = format!(
            "{rname}{} is forbidden: User \"system:serviceaccount:ci:casa-build\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}",
            name.map(|n| format!(" \"{n}\"")).unwrap_or_default()
        );
        return status(
            403,
            "Forbidden",
            &message,
            json!({"group": group, "kind": plural}),
        );
    }
    let api_version = resource.api_version();
    match verb {
        "list" => {
            let want = selector(&st.site);
            if req.query.get("labelSelector") != Some(&want) {
                st.violations
                    .push(format!("LIST {} without labelSelector={want}", req.path));
            }
            let metadata_only = req
                .accept
                .as_deref()
                .is_some_and(|a| a.contains(METADATA_LIST));
            if metadata_only && st.no_metadata.contains(&rname) {
                return status(
                    406,
                    "NotAcceptable",
                    "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
                    Value::Null,
                );
            }
            *st.lists.entry(rname.clone()).or_default() += 1;
            let listed = st.lists[&rname];
            let due: Vec<usize> = (0..st.later.len())
                .filter(|i| st.later[*i].resource == rname && st.later[*i].after < listed)
                .collect();
            for i in due.into_iter().rev() {
                let Later { mut edit, key, .. } = st.later.remove(i);
                let (ns, n) = match key.split_once('/') {
                    Some((ns, n)) => (Some(ns.to_owned()), n.to_owned()),
                    None => (None, key.clone()),
                };
                for ((av, k, ons, on), obj) in st.objects.iter_mut() {
                    if group_of(av) == resource.group
                        && *k == resource.kind
                        && *ons == ns
                        && *on == n
                    {
                        edit(obj);
                    }
                }
            }
            // The objects of this group and kind in any version, as the server converts them.
            let mut items: Vec<Value> = st
                .objects
                .iter()
                .filter(|((av, k, ns, _), _)| {
                    group_of(av) == resource.group
                        && *k == resource.kind
                        && (namespace.is_none() || ns.as_deref() == namespace)
                })
                .map(|(_, v)| {
                    let mut v = v.clone();
                    v["apiVersion"] = json!(api_version);
                    v
                })
                .filter(|v| selected(v, req.query.get("labelSelector").map(String::as_str)))
                .collect();
            let offset: usize = req
                .query
                .get("continue")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let padding = st.oversized.get(&rname).copied();
            let limit: usize = match padding {
                // A server that ignores `limit`.
                Some(_) => usize::MAX,
                None => req
                    .query
                    .get("limit")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(usize::MAX),
            };
            let total = items.len();
            items = items.into_iter().skip(offset).take(limit).collect();
            let next = offset.saturating_add(limit);
            let mut meta = json!({"resourceVersion": st.next_rv.to_string()});
            if next < total {
                meta["continue"] = json!(next.to_string());
                meta["remainingItemCount"] = json!(total - next);
            }
            if let Some(bytes) = padding {
                // One more object, labelled as the site's, with a note as large as asked.
                let mut big = json!({"apiVersion": api_version, "kind": resource.kind,
                    "metadata": {"name": "padding", "namespace": "default", "labels": {"app.kubernetes.io/managed-by": "casa-build", "app.kubernetes.io/part-of": st.site},
                    "annotations": {"note": "x".repeat(bytes)}}});
                if !resource.namespaced {
                    big["metadata"].as_object_mut().unwrap().remove("namespace");
                }
                items.push(big);
            }
            if metadata_only {
                // k8s.io/apimachinery@v0.33 pkg/apis/meta/v1/types.go PartialObjectMetadataList:
                // each item is a PartialObjectMetadata, the object's metadata only.
                let items: Vec<Value> = items
                    .into_iter()
                    .map(|i| json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": i["metadata"]}))
                    .collect();
                return ok(
                    &json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items}),
                );
            }
            // Built-in kinds come back without apiVersion and kind on each item, as in
            // deployment-list.json; custom resources keep them.
            if !resource.group.contains('.') || resource.group.ends_with(".k8s.io") {
                for i in &mut items {
                    if let Some(m) = i.as_object_mut() {
                        m.remove("apiVersion");
                        m.remove("kind");
                    }
                }
            }
            ok(
                &json!({"kind": format!("{}List", resource.kind), "apiVersion": api_version, "metadata": meta, "items": items}),
            )
        }
        "get" => {
            let name = name.unwrap_or_default();
            let key = (
                api_version,
                resource.kind.clone(),
                namespace.map(str::to_owned),
                name.to_owned(),
            );
            match st.objects.get(&key) {
                Some(v) => ok(v),
                None => status(
                    404,
                    "NotFound",
                    &format!("{rname} \"{name}\" not found"),
                    json!({"name": name, "group": group, "kind": plural}),
                ),
            }
        }
        _ => {
            let name = name.unwrap_or_default();
            for (param, want) in [
                ("dryRun", "All"),
                ("fieldManager", "casa-build"),
                ("force", "true"),
            ] {
                if req.query.get(param).map(String::as_str) != Some(want) {
                    st.violations
                        .push(format!("PATCH {} without {param}={want}", req.path));
                }
            }
            if req.content_type.as_deref() != Some("application/apply-patch+yaml") {
                st.violations.push(format!(
                    "PATCH {} with content type {:?}",
                    req.path, req.content_type
                ));
            }
            let Ok(applied) = serde_json::from_str::<Value>(&req.body) else {
                return status(400, "BadRequest", "error decoding YAML", Value::Null);
            };
            if applied["metadata"]["name"].as_str() != Some(name) {
                return status(
                    422,
                    "Invalid",
                    &format!(
                        "{} \"{name}\" is invalid: metadata.name: Invalid value: the name of the object does not match the name on the URL",
                        resource.kind
                    ),
                    Value::Null,
                );
            }
            let key = (
                api_version,
                resource.kind.clone(),
                namespace.map(str::to_owned),
                name.to_owned(),
            );
            match st.objects.get(&key) {
                Some(live) => {
                    let mut result = apply_patch(live, &applied);
                    let next = st.next_rv + 1;
                    // A dry run answers as if stored, without storing.
                    result["metadata"]["resourceVersion"] = json!(next.to_string());
                    ok(&result)
                }
                None => (
                    201,
                    "application/json",
                    as_applied(&applied, st.next_rv + 1).to_string(),
                    None,
                ),
            }
        }
    }
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Equality-based selectors (`k=v,k2=v2`), the only kind casa-build sends.
fn selected(v: &Value, selector: Option<&str>) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    selector
        .split(',')
        .filter(|s| !s.is_empty())
        .all(|term| match term.split_once('=') {
            Some((k, want)) => v["metadata"]["labels"][k].as_str() == Some(want),
            None => false,
        })
}
