//! An in-process stand-in for kube-apiserver on 127.0.0.1 (a random port), for `diff --live`.
//!
//! It answers the way the real server does in `../shared/fixtures/apiserver-replays/v1-36/`:
//! `/apis` is the recorded APIGroupList plus the site's CRD groups; resource lists, objects
//! after defaulting (imagePullPolicy, terminationMessagePath, strategy, ...) with the metadata
//! the server adds (uid, resourceVersion, generation, creationTimestamp, managedFields); errors
//! as `Status` objects (404, 403, 401, 422, 503), except the plain-text `404 page not found`
//! the apiserver gives for a group it does not serve. Plain HTTP/1.1 over std::net, a thread
//! per connection: nothing to build beyond the test binary.
//!
//! Like kube's mock verifier it checks what it is asked: a bearer token on every request, the
//! label selector on every LIST, `dryRun=All`, `fieldManager=casa-build` and `force=true` on
//! every PATCH. Violations are collected and a test asserts there are none.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde_json::{Value, json};

pub const TOKEN: &str = "replay-token";
pub const SELECTOR: &str = "app.kubernetes.io/managed-by=casa-build";

/// A kind the server serves.
#[derive(Debug, Clone)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
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

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub content_type: Option<String>,
    pub body: String,
}

#[derive(Default)]
struct State {
    resources: Vec<Resource>,
    /// (apiVersion, kind, namespace, name) -> the stored object.
    objects: BTreeMap<(String, String, Option<String>, String), Value>,
    forbidden: BTreeSet<String>,
    /// Resource name -> how many more requests on it answer with this code.
    failing: BTreeMap<String, (usize, u16)>,
    requests: Vec<Request>,
    violations: Vec<String>,
    next_rv: u64,
}

/// A running server; stops when dropped.
pub struct ApiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ApiServer {
    /// Serves `resources`, holding no objects yet.
    pub fn start(resources: Vec<Resource>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State {
            resources,
            next_rv: 1000,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let state = Arc::clone(&state);
                    std::thread::spawn(move || serve_connection(conn, &state));
                }
            })
        };
        Self {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Every request on `resource` (e.g. `sealedsecrets.bitnami.com`) is answered 403.
    pub fn forbid(&self, resource: &str) {
        self.state().forbidden.insert(resource.to_owned());
    }

    /// The next `times` requests on `resource` are answered with `code` (429, 503, ...).
    pub fn fail(&self, resource: &str, times: usize, code: u16) {
        self.state()
            .failing
            .insert(resource.to_owned(), (times, code));
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

fn serve_connection(conn: TcpStream, state: &Mutex<State>) {
    let _ = conn.set_nodelay(true);
    let Ok(write_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    let mut writer = write_half;
    loop {
        let Some(req) = read_request(&mut reader) else {
            return;
        };
        let (code, content_type, body) = {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            let answer = route(&mut st, &req);
            st.requests.push(req);
            answer
        };
        let head = format!(
            "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nAudit-Id: 8b70003a-d86e-421f-8f2f-031bb51944ae\r\n\r\n",
            reason(code),
            body.len()
        );
        // One write: head and body in two would meet Nagle's algorithm and the client's
        // delayed ACK, 40 ms per answer.
        let mut answer = head.into_bytes();
        answer.extend_from_slice(body.as_bytes());
        if writer.write_all(&answer).is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
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
        body: String::from_utf8_lossy(&body).into_owned(),
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
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

type Answer = (u16, &'static str, String);

fn ok(v: &Value) -> Answer {
    (200, "application/json", v.to_string())
}

/// A `Status` object, as the recordings show them.
fn status(code: u16, reason: &str, message: &str, details: Value) -> Answer {
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    if !details.is_null() {
        s["details"] = details;
    }
    (code, "application/json", s.to_string())
}

fn route(st: &mut State, req: &Request) -> Answer {
    if req.query.get("__authorization").map(String::as_str) != Some(&format!("Bearer {TOKEN}")) {
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
        _ => (
            404,
            "text/plain; charset=utf-8",
            "404 page not found\n".to_owned(),
        ),
    }
}

/// The recorded `/apis` document, plus the groups of the custom kinds this server serves.
fn group_list(resources: &[Resource]) -> Value {
    let recorded = recorded_group_list();
    let mut groups: Vec<Value> = recorded["groups"].as_array().cloned().unwrap_or_default();
    // Only the groups this server serves: a group the recording has but the test removed
    // (none today) would otherwise be announced and then 404.
    let mut seen: BTreeSet<String> = groups
        .iter()
        .filter_map(|g| g["name"].as_str().map(str::to_owned))
        .collect();
    for r in resources.iter().filter(|r| !r.group.is_empty()) {
        if seen.insert(r.group.clone()) {
            let gv = json!({"groupVersion": r.api_version(), "version": r.version});
            groups.push(json!({"name": r.group, "versions": [gv], "preferredVersion": gv}));
        }
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
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
        return (
            404,
            "text/plain; charset=utf-8",
            "404 page not found\n".to_owned(),
        );
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let mut resources = Vec::new();
    for r in served {
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
        _ => {
            return (
                404,
                "text/plain; charset=utf-8",
                "404 page not found\n".to_owned(),
            );
        }
    };
    let Some(resource) = st
        .resources
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
        .cloned()
    else {
        return (
            404,
            "text/plain; charset=utf-8",
            "404 page not found\n".to_owned(),
        );
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
    if let Some((left, code)) = st.failing.get_mut(&rname)
        && *left > 0
    {
        *left -= 1;
        let code = *code;
        return if code == 429 {
            status(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
                json!({"retryAfterSeconds": 1}),
            )
        } else {
            status(
                code,
                "InternalError",
                "Internal error occurred: etcdserver: request timed out",
                json!({"causes": [{"message": "etcdserver: request timed out"}]}),
            )
        };
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
            if req.query.get("labelSelector").map(String::as_str) != Some(SELECTOR) {
                st.violations.push(format!(
                    "LIST {} without labelSelector={SELECTOR}",
                    req.path
                ));
            }
            let mut items: Vec<Value> = st
                .objects
                .iter()
                .filter(|((av, k, ns, _), _)| {
                    *av == api_version
                        && *k == resource.kind
                        && (namespace.is_none() || ns.as_deref() == namespace)
                })
                .map(|(_, v)| v.clone())
                .filter(|v| selected(v, req.query.get("labelSelector").map(String::as_str)))
                .collect();
            let offset: usize = req
                .query
                .get("continue")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let limit: usize = req
                .query
                .get("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(usize::MAX);
            let total = items.len();
            items = items.into_iter().skip(offset).take(limit).collect();
            let next = offset.saturating_add(limit);
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
            let mut meta = json!({"resourceVersion": st.next_rv.to_string()});
            if next < total {
                meta["continue"] = json!(next.to_string());
                meta["remainingItemCount"] = json!(total - next);
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
                ),
            }
        }
    }
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
