//! `casa-build diff --live` against the replay API server (`diff_live/apiserver.rs`), fed with
//! the reference site's own built objects as a real server returns them after Flux applied
//! them, the Flux objects with the status their controllers write, and objects recorded from
//! a real server (`../shared/fixtures/apiserver-replays/v1-36/`) where a test needs something
//! the tree does not hold. The server checks every request it gets; each test checks the exit
//! code, what was printed, and how many requests were made.

mod apiserver;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use casa_build::check::{Origin, SchemaLocation};
use casa_build::manifest::{Manifest, ResourceId};
use casa_build::pipeline::{build, open_schemas};
use casa_build::sources::Sources;
use serde_json::{Value, json};

use crate::support::{Cli, Run, path, repo, tempdir};
use apiserver::{ApiServer, METADATA_LIST, Resource, Stalled, TOKEN, catalog, write_kubeconfig};

fn schemas() -> PathBuf {
    path("../shared/schemas")
}

/// The reference site's objects, built once by the library (the pipeline the command runs).
fn site() -> &'static [Manifest] {
    static BUILT: OnceLock<Vec<Manifest>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let sources = Sources::from_dir(repo()).expect("read the reference site");
        let flag = SchemaLocation {
            dir: schemas(),
            origin: Origin::Flag,
        };
        let store = open_schemas(&[flag], repo(), &sources).expect("schemas");
        build(&sources, &store)
            .expect("the reference site builds")
            .manifests
    })
}

/// The commit Flux applied, when a test does not put the site in git.
const APPLIED: &str = "5394cb7f48332b2de7c17dd8b8384bbc84b7e738";

/// A server of every kind of [`catalog`] holding `manifests` as applied by Flux at `APPLIED`.
fn serve(manifests: &[Manifest]) -> ApiServer {
    serve_at(manifests, catalog(), APPLIED)
}

/// A server of `resources` holding `manifests` as applied by Flux at `commit`: every Flux
/// Kustomization with the inventory of its unit, and the status each controller writes.
fn serve_at(manifests: &[Manifest], resources: Vec<Resource>, commit: &str) -> ApiServer {
    let server = ApiServer::start(resources);
    load(&server, manifests, commit);
    server
}

fn load(server: &ApiServer, manifests: &[Manifest], commit: &str) {
    for m in manifests {
        server.apply(&m.value);
        // The endpoints controller's Endpoints of each Service: its labels, no owner
        // (kubernetes@v1.33 pkg/controller/endpoint/endpoints_controller.go `syncService`).
        if m.id.group.is_empty() && m.id.kind == "Service" {
            server.apply(&json!({"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": m.id.name, "namespace": m.id.namespace, "labels": m.value["metadata"]["labels"]},
                "subsets": [{"addresses": [{"ip": "10.244.1.7"}], "ports": [{"port": 8000, "protocol": "TCP"}]}]}));
        }
    }
    for m in manifests {
        let id = &m.id;
        let (av, ns, name) = (m.api_version(), id.namespace.as_deref(), id.name.as_str());
        match (id.group.as_str(), id.kind.as_str()) {
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
                let entries: Vec<Value> = manifests
                    .iter()
                    .filter(|o| o.unit == id.name)
                    .map(|o| json!({"id": inventory_id(&o.id), "v": o.api_version().rsplit('/').next()}))
                    .collect();
                server.edit(av, "Kustomization", ns, name, |v| {
                    v["status"] = kustomization_status(commit, entries);
                });
            }
            ("helm.toolkit.fluxcd.io", "HelmRelease") => {
                let chart = m.value["spec"]["chart"]["spec"].clone();
                let ns = ns.unwrap_or_default().to_owned();
                server.edit(av, "HelmRelease", Some(&ns), name, |v| {
                    v["status"] = helmrelease_status(&ns, name, &chart);
                });
            }
            ("source.toolkit.fluxcd.io", "GitRepository") => {
                server.edit(av, "GitRepository", ns, name, |v| {
                    v["status"] = json!({"observedGeneration": 1,
                        "conditions": [ready_condition("Succeeded", &format!("stored artifact for revision 'main@sha1:{commit}'"))],
                        "artifact": {"revision": format!("main@sha1:{commit}"), "digest": "sha256:8fa1b2c3", "lastUpdateTime": "2026-06-15T04:16:00Z",
                            "path": "gitrepository/flux-system/flatiron/8fa1b2c3.tar.gz", "size": 204800,
                            "url": "http://source-controller.flux-system.svc.cluster.local./gitrepository/flux-system/flatiron/8fa1b2c3.tar.gz"}});
                });
            }
            _ => {}
        }
    }
}

/// cli-utils' ObjMetadata string, as kustomize-controller writes inventory ids.
fn inventory_id(id: &ResourceId) -> String {
    format!(
        "{}_{}_{}_{}",
        id.namespace.as_deref().unwrap_or(""),
        id.name.replace(':', "__"),
        id.group,
        id.kind
    )
}

/// A metav1.Condition of type Ready, status True, as the Flux controllers write it.
fn ready_condition(reason: &str, message: &str) -> Value {
    json!({"type": "Ready", "status": "True", "observedGeneration": 1, "lastTransitionTime": "2026-06-15T04:16:00Z", "reason": reason, "message": message})
}

/// kustomize-controller@v1.9.4 after a successful apply (api/v1/kustomization_types.go).
fn kustomization_status(commit: &str, entries: Vec<Value>) -> Value {
    let rev = format!("main@sha1:{commit}");
    json!({"observedGeneration": 1,
        "conditions": [ready_condition("ReconciliationSucceeded", &format!("Applied revision: {rev}"))],
        "lastAppliedRevision": rev, "lastAttemptedRevision": rev,
        "inventory": {"entries": entries}})
}

/// helm-controller@v1.6.3 after a successful install (api/v2/helmrelease_types.go,
/// snapshot_types.go).
fn helmrelease_status(ns: &str, name: &str, chart: &Value) -> Value {
    let version = chart["version"].as_str().unwrap_or_default();
    let chart_name = chart["chart"].as_str().unwrap_or_default();
    json!({"observedGeneration": 1, "lastAttemptedGeneration": 1,
        "conditions": [ready_condition("InstallSucceeded", &format!("Helm install succeeded for release {ns}/{name}.v1 with chart {chart_name}@{version}"))],
        "helmChart": format!("flux-system/{ns}-{name}"), "storageNamespace": ns,
        "lastAttemptedRevision": version, "lastAttemptedReleaseAction": "install",
        "history": [{"name": name, "namespace": ns, "version": 1, "status": "deployed", "chartName": chart_name, "chartVersion": version,
            "configDigest": "sha256:1dc2", "digest": "sha256:9ab4", "firstDeployed": "2026-06-15T04:16:30Z", "lastDeployed": "2026-06-15T04:16:30Z"}]})
}

fn find<'a>(kind: &str, name: &str) -> &'a Manifest {
    site()
        .iter()
        .find(|m| m.id.kind == kind && m.id.name == name)
        .unwrap_or_else(|| panic!("the reference site has no {kind} {name}"))
}

/// Requests a run makes when every object is found by the lists: `/apis`, one resource list
/// per group version (the core one included), one LIST per listable kind but events.
fn expected_requests(resources: &[Resource]) -> usize {
    let versions: BTreeSet<String> = resources.iter().map(Resource::api_version).collect();
    let kinds: BTreeSet<(&str, &str)> = resources
        .iter()
        .filter(|r| r.listable && r.kind != "Event")
        .map(|r| (r.group.as_str(), r.plural.as_str()))
        .collect();
    1 + versions.len() + kinds.len()
}

/// The response body of exchange `i` of a recording.
fn recorded(file: &str, i: usize) -> Value {
    let exchange = &recording(file)[i];
    serde_json::from_str(exchange["response_body"].as_str().expect("a body")).expect("JSON")
}

fn recording(file: &str) -> Vec<Value> {
    let p = path("../shared/fixtures/apiserver-replays/v1-36").join(file);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).expect("recording is JSON")
}

/// `casa-build diff --live` on a copy of the reference site against `kubeconfig`.
fn diff_live(kubeconfig: &Path) -> Cli {
    Cli::new()
        .args(["diff", "--live", "--schemas"])
        .arg(schemas())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .reference_site()
}

#[track_caller]
fn no_violations(server: &ApiServer) {
    let v = server.violations();
    assert!(
        v.is_empty(),
        "the server saw requests a real one would refuse:\n{}",
        v.join("\n")
    );
}

/// The JSON entry of one object.
#[track_caller]
fn entry(run: &Run, kind: &str, name: &str) -> Value {
    run.json()["objects"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|e| e["kind"] == kind && e["name"] == name)
                .cloned()
        })
        .unwrap_or_else(|| panic!("no {kind} {name} in\n{}", run.stdout))
}

/// The JSON Flux unit of one object.
#[track_caller]
fn unit(run: &Run, kind: &str, name: &str) -> Value {
    run.json()["flux"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|e| e["kind"] == kind && e["name"] == name)
                .cloned()
        })
        .unwrap_or_else(|| panic!("no unit {kind} {name} in\n{}", run.stdout))
}

/// Puts the site copy in a new git repository, committed: its id.
fn commit_site(dir: &Path) -> String {
    let repo = git2::Repository::init(dir).expect("init");
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::new(
        "Test",
        "test@example.org",
        &git2::Time::new(1_750_000_000, 0),
    )
    .unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "site", &tree, &[])
        .unwrap()
        .to_string()
}

#[test]
fn recorded_objects_compare_in_sync_with_what_was_applied() {
    // What a client sent and what the real server answered: the normaliser and the
    // projection must see no drift between them.
    use casa_build::diff::live::{Observed, Snapshot, Status, compare};
    let mut checked = 0;
    for file in [
        "job-create.json",
        "patch-deployment.json",
        "custom_resource_definition-test.json",
    ] {
        for exchange in recording(file) {
            if exchange["request_method"] != "POST" || exchange["response_status_code"] != 201 {
                continue;
            }
            let mut sent: Value =
                serde_json::from_str(exchange["request_body"].as_str().unwrap()).unwrap();
            let live: Value =
                serde_json::from_str(exchange["response_body"].as_str().unwrap()).unwrap();
            if let Some(ns) = live["metadata"]["namespace"].as_str() {
                sent["metadata"]["namespace"] = json!(ns);
            }
            let m = Manifest {
                id: ResourceId::of(&sent).unwrap(),
                unit: "u".into(),
                template: "t".into(),
                value: sent,
            };
            let snap = Snapshot {
                ids: vec![m.id.clone()],
                observed: vec![Observed::Live {
                    live,
                    dry_run: None,
                }],
                ..Snapshot::default()
            };
            let e = &compare(std::slice::from_ref(&m), "s", &snap, false)[0];
            assert_eq!(
                e.status,
                Status::InSync,
                "{file}: {}",
                e.diff.as_deref().unwrap_or("")
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked}");
}

#[test]
fn in_sync_despite_server_defaults_and_managed_fields() {
    let server = serve(site());
    let dir = tempdir();
    let kc = server.kubeconfig(dir.path());
    let run = diff_live(&kc)
        .arg("--format")
        .arg("json")
        .code(0)
        .site_unchanged()
        .run();
    let report = run.json();
    assert_eq!(report["schema_version"], 1);
    let objects = report["objects"].as_array().expect("an array");
    assert_eq!(
        objects.len(),
        site().len(),
        "one entry per object, no orphans"
    );
    for e in objects {
        assert_eq!(e["status"], "in-sync", "{e:#}");
        assert!(e["diff"].is_null());
        for key in [
            "group",
            "kind",
            "namespace",
            "name",
            "status",
            "diff",
            "found",
        ] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
    }
    let units = report["flux"].as_array().unwrap();
    let flux_objects = site()
        .iter()
        .filter(|m| {
            matches!(
                m.id.kind.as_str(),
                "Kustomization" | "HelmRelease" | "GitRepository"
            ) && m.id.group.ends_with("toolkit.fluxcd.io")
        })
        .count();
    assert_eq!(units.len(), flux_objects);
    // The reference site suspends cms-dev itself (instances/cms-dev.toml `suspend = true`).
    assert!(
        units.iter().all(|u| u["state"] == "ready"
            || (u["state"] == "suspended-by-tree" && u["name"] == "instance-cms-dev")),
        "{units:#?}"
    );
    assert_eq!(report["built_from"]["commit"], Value::Null);
    no_violations(&server);
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        expected_requests(&catalog()),
        "requests grow with kinds, not objects"
    );
    assert!(requests.iter().all(|r| r.method == "GET"));
    // Kinds the tree has are listed whole; every other kind as metadata only.
    let tree_plurals: BTreeSet<String> = [
        "sealedsecrets",
        "deployments",
        "kustomizations",
        "configmaps",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for r in requests
        .iter()
        .filter(|r| r.query.contains_key("labelSelector"))
    {
        let plural = r.path.rsplit('/').next().unwrap().to_owned();
        let metadata = r
            .accept
            .as_deref()
            .is_some_and(|a| a.contains(METADATA_LIST));
        if tree_plurals.contains(&plural) {
            assert!(!metadata, "{} listed as metadata", r.path);
        }
        if ["jobs", "secrets", "clusterroles"].contains(&plural.as_str()) {
            assert!(metadata, "{} listed whole", r.path);
        }
    }
    let lists = requests
        .iter()
        .filter(|r| r.query.contains_key("labelSelector"))
        .count();
    println!(
        "reference tree: {} objects of {} kinds; the cluster serves {} kinds; {} requests: {} discovery, {} LISTs",
        site().len(),
        site()
            .iter()
            .map(|m| (m.api_version(), m.id.kind.as_str()))
            .collect::<BTreeSet<_>>()
            .len(),
        catalog().len(),
        requests.len(),
        requests.len() - lists,
        lists
    );

    let text = diff_live(&kc).code(0).run();
    assert!(
        text.stdout.starts_with(&format!(
            "flux (built commit unknown: the site is not in a git repository): {flux_objects} units, 1 suspended-by-tree, {} ready\n",
            flux_objects - 1
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains(&format!("\n\n{} in-sync (", site().len())),
        "{}",
        text.stdout
    );
}

#[test]
fn a_drifted_field_is_changed_with_its_diff() {
    let server = serve(site());
    server.edit("apps/v1", "Deployment", Some("triton"), "triton", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] =
            json!("nvcr.io/nvidia/tritonserver:21.01-py3");
        // Extra fields the tree does not set are not drift.
        d["spec"]["template"]["spec"]["hostname"] = json!("x");
    });
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .code(1)
        .stdout_has("changed     Deployment.apps triton/triton\n--- live\n+++ tree\n")
        .stdout_has("-        image: nvcr.io/nvidia/tritonserver:21.01-py3\n+        image: nvcr.io/nvidia/tritonserver:22.08-py3\n")
        .stdout_has(", 1 changed")
        .run();
    assert!(!run.stdout.contains("hostname"), "{}", run.stdout);
    no_violations(&server);
}

#[test]
fn a_missing_object_is_fetched_once_and_reported() {
    let server = serve(site());
    let svc = find("Service", "triton");
    server.remove("v1", "Service", Some("triton"), "triton");
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .args(["--format", "json"])
        .code(1)
        .run();
    let e = entry(&run, "Service", "triton");
    assert_eq!(e["status"], "missing");
    assert_eq!(e["namespace"], "triton");
    assert!(
        e["diff"].as_str().unwrap().contains("+kind: Service\n"),
        "{e:#}"
    );
    no_violations(&server);
    // The one extra request: the GET that confirms the list did not just miss its label.
    let requests = server.requests();
    assert_eq!(requests.len(), expected_requests(&catalog()) + 1);
    assert!(requests.iter().any(|r| r.method == "GET"
        && r.path == format!("/api/v1/namespaces/triton/services/{}", svc.id.name)));
}

#[test]
fn an_object_that_lost_its_labels_is_still_compared() {
    let server = serve(site());
    server.edit("v1", "Service", Some("triton"), "triton", |s| {
        s["metadata"]["labels"] = json!({});
    });
    let dir = tempdir();
    diff_live(&server.kubeconfig(dir.path()))
        .code(1)
        .stdout_has("changed     Service triton/triton\n")
        .stdout_has("+    app.kubernetes.io/managed-by: casa-build\n")
        .run();
}

#[test]
fn orphans_by_label_and_by_flux_inventory() {
    let server = serve(site());
    // Left behind: labelled part of the site, no longer in the tree.
    let mut old = find("Service", "triton").value.clone();
    old["metadata"]["name"] = json!("triton-old");
    server.apply(&old);
    // Someone else's site in the same cluster: not ours to report.
    let mut other = old.clone();
    other["metadata"]["name"] = json!("other-site");
    other["metadata"]["labels"]["app.kubernetes.io/part-of"] = json!("elsewhere");
    server.apply(&other);
    // Flux still lists an object the tree dropped.
    server.edit(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        Some("flux-system"),
        "dex",
        |k| {
            k["status"]["inventory"]["entries"]
                .as_array_mut()
                .unwrap()
                .push(json!({"id": "dex_dex-legacy-config__ConfigMap", "v": "v1"}));
        },
    );
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .code(1)
        .stdout_has("orphan      Service triton/triton-old: labelled app.kubernetes.io/part-of=flatiron, not in the tree; no Flux inventory lists it: Flux will not delete it\n")
        .stdout_has("orphan      ConfigMap dex/dex-legacy-config: in the inventory of Kustomization flux-system/dex, without the site's labels, not in the tree; Flux deletes it when it next applies the tree (prune)\n")
        .stdout_has(", 2 orphan")
        .run();
    assert!(!run.stdout.contains("other-site"), "{}", run.stdout);
    no_violations(&server);
}

#[test]
fn an_orphan_of_a_kind_the_tree_no_longer_emits_is_found_by_its_labels() {
    // The Job and the custom resource a real server returned (recordings), labelled as the
    // site's: the tree has neither kind, so only listing every kind finds them.
    let labels = json!({"app.kubernetes.io/managed-by": "casa-build", "app.kubernetes.io/part-of": "flatiron"});
    let mut job = recorded("job-create.json", 0);
    for (k, v) in labels.as_object().unwrap() {
        job["metadata"]["labels"][k] = v.clone();
    }
    let exchanges = recording("custom_resource_definition-test.json");
    let created = exchanges
        .iter()
        .position(|e| {
            e["request_method"] == "POST"
                && e["request_url"].as_str().unwrap().ends_with("/foobars")
                && e["response_status_code"] == 201
        })
        .unwrap();
    let mut foobar = recorded("custom_resource_definition-test.json", created);
    foobar["metadata"]["labels"] = labels.clone();
    // The recorded CRD's kind is served too: it is installed in this cluster.
    let crd = recorded("custom_resource_definition-test.json", 0);
    let mut resources = catalog();
    resources.push(Resource {
        group: crd["spec"]["group"].as_str().unwrap().into(),
        version: crd["spec"]["versions"][0]["name"].as_str().unwrap().into(),
        kind: crd["spec"]["names"]["kind"].as_str().unwrap().into(),
        plural: crd["spec"]["names"]["plural"].as_str().unwrap().into(),
        namespaced: crd["spec"]["scope"] == "Namespaced",
        listable: true,
    });
    let server = serve_at(site(), resources, APPLIED);
    server.store(&job);
    server.store(&foobar);
    // An aggregated API that cannot send metadata only (406): listed whole instead.
    server.no_metadata("jobs.batch");
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .args(["--format", "json"])
        .code(1)
        .run();
    let job_entry = entry(&run, "Job", "k8s-openapi-tests-create-job");
    assert_eq!(job_entry["status"], "orphan");
    assert_eq!(job_entry["group"], "batch");
    assert_eq!(job_entry["namespace"], "default");
    assert_eq!(job_entry["found"], json!(["label"]));
    let fb = entry(&run, "FooBar", foobar["metadata"]["name"].as_str().unwrap());
    assert_eq!(fb["status"], "orphan");
    assert_eq!(
        fb["group"],
        "k8s-openapi-tests-custom-resource-definition.com"
    );
    assert_eq!(
        fb["detail"],
        "labelled app.kubernetes.io/part-of=flatiron, not in the tree; no Flux inventory lists it: Flux will not delete it"
    );
    let text = diff_live(&server.kubeconfig(dir.path())).code(1).run();
    assert!(
        text.stdout.contains("orphan      Job.batch default/k8s-openapi-tests-create-job: labelled app.kubernetes.io/part-of=flatiron, not in the tree"),
        "{}",
        text.stdout
    );
    // One LIST per kind still: the orphans did not cost a request each.
    let jobs: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/apis/batch/v1/jobs")
        .collect();
    assert_eq!(
        jobs.len(),
        4,
        "two runs, each a metadata LIST answered 406 then a whole one"
    );
    no_violations(&server);
}

#[test]
fn an_orphan_found_only_through_the_flux_inventory() {
    let server = serve(site());
    // The Deployment a real server returned (recording), moved into a namespace of the site,
    // without the site's labels: only the inventory of Kustomization triton lists it.
    let mut deployment = recorded("patch-deployment.json", 0);
    deployment["metadata"]["namespace"] = json!("triton");
    assert!(
        deployment["metadata"]["labels"]
            .get("app.kubernetes.io/part-of")
            .is_none()
    );
    let name = deployment["metadata"]["name"].as_str().unwrap().to_owned();
    server.store(&deployment);
    server.edit(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        Some("flux-system"),
        "triton",
        |k| {
            k["status"]["inventory"]["entries"]
                .as_array_mut()
                .unwrap()
                .push(json!({"id": format!("triton_{name}_apps_Deployment"), "v": "v1"}));
        },
    );
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .args(["--format", "json"])
        .code(1)
        .run();
    let e = entry(&run, "Deployment", &name);
    assert_eq!(e["status"], "orphan");
    assert_eq!(e["found"], json!(["inventory"]));
    assert_eq!(
        e["detail"],
        "in the inventory of Kustomization flux-system/triton, without the site's labels, not in the tree; Flux deletes it when it next applies the tree (prune)"
    );
    no_violations(&server);
}

#[test]
fn flux_summary_comes_first_with_units_not_ready_and_suspended() {
    let server = serve(site());
    server.edit("helm.toolkit.fluxcd.io/v2", "HelmRelease", Some("dex"), "dex", |h| {
        h["status"]["conditions"] = json!([{"type": "Ready", "status": "False", "reason": "InstallFailed", "observedGeneration": 1,
            "lastTransitionTime": "2026-06-15T04:20:00Z",
            "message": "Helm install failed for release dex/dex with chart dex@0.24.0: context deadline exceeded"}]);
    });
    server.edit(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        Some("flux-system"),
        "triton",
        |k| {
            k["spec"]["suspend"] = json!(true);
        },
    );
    let dir = tempdir();
    let kc = server.kubeconfig(dir.path());
    let run = diff_live(&kc).code(1).run();
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("flux (built commit unknown"),
        "{}",
        run.stdout
    );
    assert!(
        first.contains("1 suspended, 1 suspended-by-tree, 1 not-ready, 25 ready"),
        "{first}"
    );
    let flux_end = run.stdout.find("\n\n").unwrap();
    let flux = &run.stdout[..flux_end];
    assert!(flux.contains("\nnot-ready   HelmRelease dex/dex: Ready False, InstallFailed: Helm install failed for release dex/dex with chart dex@0.24.0: context deadline exceeded\n"), "{flux}");
    assert!(flux.contains("\nsuspended   Kustomization flux-system/triton: spec.suspend is true, Flux applies nothing for it (Ready True, ReconciliationSucceeded: Applied revision: main@sha1:5394cb7f4833"), "{flux}");
    assert!(flux.contains("\nready       GitRepository flux-system/flatiron: at main@sha1:5394cb7f4833 (the built commit is unknown: the site is not in a git repository)\n"), "{flux}");
    // Then the object list, which is in sync.
    assert!(run.stdout[flux_end..].contains(&format!("{} in-sync (", site().len())));

    let json = diff_live(&kc).args(["--format", "json"]).code(1).run();
    let hr = unit(&json, "HelmRelease", "dex");
    assert_eq!(hr["state"], "not-ready");
    assert_eq!(hr["ready"]["status"], "False");
    assert_eq!(hr["ready"]["reason"], "InstallFailed");
    assert_eq!(hr["applied"], "0.24.0");
    assert_eq!(hr["wanted"], "0.24.0");
    let k = unit(&json, "Kustomization", "triton");
    assert_eq!(k["state"], "suspended");
    assert_eq!(k["suspended"], true);
    let md = diff_live(&kc).args(["--format", "markdown"]).code(1).run();
    let table = md
        .stdout
        .find("| not-ready | HelmRelease dex/dex |")
        .expect(&md.stdout);
    assert!(table < md.stdout.find("Every object is in sync.").unwrap());
    no_violations(&server);
}

#[test]
fn a_stale_revision_against_the_commit_the_tree_was_built_from() {
    let dir = tempdir();
    let kc = dir.path().join("kubeconfig");
    let cli = diff_live(&kc).args(["--format", "json"]);
    let commit = commit_site(cli.site_dir());
    let server = serve_at(site(), catalog(), &commit);
    server.kubeconfig(dir.path());
    // Every unit at the built commit: in sync, exit 0.
    let ok = cli.code(0).run();
    assert_eq!(ok.json()["built_from"]["commit"], commit.as_str());
    assert_eq!(ok.json()["built_from"]["dirty"], false);
    assert!(
        ok.json()["flux"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["state"] == "ready" || u["state"] == "suspended-by-tree")
    );
    // One unit still at the commit before.
    server.edit(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        Some("flux-system"),
        "calico",
        |k| {
            k["status"]["lastAppliedRevision"] = json!(format!("main@sha1:{APPLIED}"));
        },
    );
    let stale = diff_live(&kc);
    assert_eq!(
        commit_site(stale.site_dir()),
        commit,
        "the same files, author and time make the same commit"
    );
    let run = stale.code(1).run();
    assert!(
        run.stdout.starts_with(&format!(
            "flux (built from {}): 28 units, 1 suspended-by-tree, 1 stale, 26 ready\n",
            &commit[..12]
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "\nstale       Kustomization flux-system/calico: applied main@sha1:5394cb7f4833, the tree was built from {}\n",
            &commit[..12]
        )),
        "{}",
        run.stdout
    );
    no_violations(&server);
}

#[test]
fn wait_polls_until_flux_is_ready_at_the_built_commit() {
    let server = serve(site());
    server.edit("helm.toolkit.fluxcd.io/v2", "HelmRelease", Some("dex"), "dex", |h| {
        h["status"]["conditions"] = json!([{"type": "Unknown", "status": "Unknown"}, {"type": "Ready", "status": "Unknown", "reason": "Progressing", "message": "Running 'install' action with timeout of 5m0s", "observedGeneration": 1, "lastTransitionTime": "2026-06-15T04:20:00Z"}]);
    });
    // helm-controller finishes between the second and the third poll.
    server.edit_after("helmreleases.helm.toolkit.fluxcd.io", 2, "dex/dex", |h| {
        h["status"]["conditions"] = json!([ready_condition(
            "InstallSucceeded",
            "Helm install succeeded for release dex/dex.v1 with chart dex@0.24.0"
        )]);
    });
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .args(["--wait", "--timeout", "1m"])
        .code(0)
        .run();
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.contains("28 units, 1 suspended-by-tree, 27 ready; all ready after "),
        "{first}"
    );
    assert!(first.ends_with(" s (3 polls)"), "{first}");
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.path == "/apis/helm.toolkit.fluxcd.io/v2/helmreleases")
        .count();
    assert_eq!(lists, 4, "three polls, then the comparison");
    no_violations(&server);
}

#[test]
fn wait_ends_with_the_units_not_ready_when_the_timeout_ends() {
    let server = serve(site());
    server.edit("helm.toolkit.fluxcd.io/v2", "HelmRelease", Some("dex"), "dex", |h| {
        h["status"]["conditions"] = json!([{"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "install retries exhausted", "observedGeneration": 1, "lastTransitionTime": "2026-06-15T04:20:00Z"}]);
    });
    let dir = tempdir();
    let started = Instant::now();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .args(["--wait", "--timeout", "3s", "--format", "json"])
        .code(1)
        .stderr_has("1 Flux unit not ready after ")
        .stderr_has(" s (--timeout 3s): HelmRelease dex/dex (not-ready)\n")
        .run();
    let report = run.json();
    assert_eq!(report["wait"]["outcome"], "timed-out");
    assert_eq!(report["compared"], false);
    assert_eq!(report["objects"], json!([]));
    assert_eq!(unit(&run, "HelmRelease", "dex")["state"], "not-ready");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    no_violations(&server);
}

#[test]
fn a_kind_the_cluster_does_not_serve_is_reported_per_object() {
    // No Rook object-bucket CRDs installed.
    let served: Vec<Resource> = catalog()
        .into_iter()
        .filter(|r| r.group != "objectbucket.io")
        .collect();
    let server = serve_at(site(), served, APPLIED);
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .args(["--format", "json"])
        .code(1)
        .run();
    let e = entry(&run, "ObjectBucketClaim", "triton-models");
    assert_eq!(e["status"], "not-served");
    assert_eq!(
        e["detail"],
        "the cluster does not serve objectbucket.io/v1alpha1 ObjectBucketClaim"
    );
    let others = run.json()["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] != "in-sync")
        .count();
    assert_eq!(others, 1, "{}", run.stdout);
    // No discovery request for a group `/apis` does not list.
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.path.contains("objectbucket.io"))
    );
    no_violations(&server);
}

#[test]
fn forbidden_resource_names_the_verb_and_resource_and_exits_3() {
    let server = serve(site());
    server.forbid("sealedsecrets.bitnami.com");
    server.forbid("secrets");
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .code(3)
        .stdout_has("error       SealedSecret.bitnami.com dex/dex-env: list sealedsecrets.bitnami.com in namespace dex: ")
        .stdout_has("forbidden (403): sealedsecrets.bitnami.com is forbidden: User \"system:serviceaccount:ci:casa-build\" cannot list resource \"sealedsecrets\"")
        // A kind the tree does not have only goes unsearched: said, not an error.
        .stdout_has("not searched for orphans: list secrets in all namespaces: forbidden (403), and in each of the site's ")
        .stderr_has("could not be compared with the cluster")
        .run();
    // The other kinds were still compared.
    assert!(run.stdout.contains("in-sync"), "{}", run.stdout);
    // All namespaces first, then each namespace of the site (RBAC granted per namespace).
    let lists: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/sealedsecrets"))
        .map(|r| r.path.clone())
        .collect();
    let namespaces: BTreeSet<&str> = site()
        .iter()
        .filter_map(|m| m.id.namespace.as_deref())
        .chain(
            site()
                .iter()
                .filter(|m| m.id.kind == "Namespace")
                .map(|m| m.id.name.as_str()),
        )
        .collect();
    assert_eq!(lists[0], "/apis/bitnami.com/v1alpha1/sealedsecrets");
    assert_eq!(lists.len(), 1 + namespaces.len(), "{lists:?}");
    no_violations(&server);
}

#[test]
fn throttling_and_server_errors_are_retried_then_reported() {
    let server = serve(site());
    server.fail("deployments.apps", 2, 429);
    server.fail("services", 1, 503);
    server.fail("helmreleases.helm.toolkit.fluxcd.io", 100, 500);
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .args(["--format", "json"])
        .code(3)
        .run();
    assert_eq!(entry(&run, "Deployment", "triton")["status"], "in-sync");
    assert_eq!(entry(&run, "Service", "triton")["status"], "in-sync");
    let hr = entry(&run, "HelmRelease", "dex");
    assert_eq!(hr["status"], "error");
    assert_eq!(
        hr["detail"],
        "list helmreleases.helm.toolkit.fluxcd.io in all namespaces: server error (500) after 4 attempts: Internal error occurred: etcdserver: request timed out"
    );
    assert_eq!(unit(&run, "HelmRelease", "dex")["state"], "unknown");
    assert_eq!(
        server.requests().len(),
        expected_requests(&catalog()) + 2 + 1 + 3
    );
    no_violations(&server);
}

#[test]
fn retry_after_is_honoured_within_the_timeout() {
    let server = serve(site());
    server.fail_with("deployments.apps", 1, 429, Some(2));
    let dir = tempdir();
    diff_live(&server.kubeconfig(dir.path())).code(0).run();
    let lists: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/apis/apps/v1/deployments")
        .collect();
    assert_eq!(lists.len(), 2);
    let waited = lists[1].at - lists[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "retried after {waited:?}, asked 2 s"
    );

    // Asked to come back after the timeout ends: no waiting past it, and said so.
    let server = serve(site());
    server.fail_with("deployments.apps", 1, 429, Some(3600));
    let started = Instant::now();
    diff_live(&server.kubeconfig(dir.path()))
        .args(["--timeout", "10s"])
        .code(3)
        .stdout_has("error       Deployment.apps triton/triton: list deployments.apps in all namespaces: too many requests (429) after 1 attempt: Too many requests, please try again later.; the server asked to retry after 3600 s, past the end of --timeout\n")
        .run();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn list_pages_are_bounded_in_size_and_memory() {
    let server = serve(site());
    // 100 MB more than the objects in every answer, whatever `limit` asks for.
    server.oversize("services", 100 << 20);
    let dir = tempdir();
    diff_live(&server.kubeconfig(dir.path()))
        // 256 MiB of address space: the run needs under half of it; reading and parsing one
        // 100 MB page alone fails under it ("memory allocation of 104857600 bytes failed").
        .memory_limit_kib(1 << 18)
        // The server streams 100 MB per page: on a loaded machine that outlasts the default
        // 30 s, and this test is about memory, not time.
        .args(["--timeout", "5m"])
        .code(3)
        .stdout_has("error       Service triton/triton: list services in all namespaces: a page of a single object was larger than 16 MiB (the server may ignore `limit`): not read\n")
        .run();
    let limits: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/services")
        .map(|r| r.query["limit"].clone())
        .collect();
    assert_eq!(
        limits,
        ["500", "250", "125", "62", "31", "15", "7", "3", "1"],
        "the page asked again with half the limit, down to one object"
    );
}

#[test]
fn server_side_compares_with_a_dry_run_apply() {
    let server = serve(site());
    server.edit("apps/v1", "Deployment", Some("triton"), "triton", |d| {
        d["spec"]["replicas"] = json!(3);
    });
    let dir = tempdir();
    let run = diff_live(&server.kubeconfig(dir.path()))
        .arg("--server-side")
        .code(1)
        .stdout_has("changed     Deployment.apps triton/triton\n")
        .stdout_has("-  replicas: 3\n+  replicas: 1\n")
        .stdout_has(", 1 changed")
        .run();
    // A dry-run result differs from live only where the apply would change it.
    assert!(
        !run.stdout.contains("managedFields") && !run.stdout.contains("resourceVersion"),
        "{}",
        run.stdout
    );
    let requests = server.requests();
    let patches: Vec<_> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patches.len(), site().len(), "one dry-run apply per object");
    assert!(
        patches
            .iter()
            .all(|p| p.query.get("dryRun").map(String::as_str) == Some("All"))
    );
    no_violations(&server);
}

#[test]
fn secrets_are_never_printed() {
    let server = serve(site());
    let sealed = find("SealedSecret", "dex-env");
    let key = sealed.value["spec"]["encryptedData"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    server.edit(
        "bitnami.com/v1alpha1",
        "SealedSecret",
        Some("dex"),
        "dex-env",
        |s| {
            s["spec"]["encryptedData"][&key] = json!("AgDIFFERENTCIPHERTEXT");
        },
    );
    let ciphertexts: Vec<String> = site()
        .iter()
        .filter(|m| m.id.kind == "SealedSecret")
        .flat_map(|m| {
            m.value["spec"]["encryptedData"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_str().unwrap().to_owned())
        })
        .collect();
    let dir = tempdir();
    for format in ["text", "markdown", "json"] {
        let mut cli = diff_live(&server.kubeconfig(dir.path()))
            .args(["--format", format])
            .code(1)
            .stdout_has("(sealed value differs)")
            .never_prints("AgDIFFERENTCIPHERTEXT");
        for c in &ciphertexts {
            cli = cli.never_prints(c.as_str());
        }
        cli.run();
    }
}

// ---------------------------------------------------------------------------------------
// kubectl's habits: where the cluster is, who we are, how long we wait.

/// A kubeconfig of one context `replay` at `server`, with `user` as the user entry (YAML
/// under `user:`, indented by four spaces).
fn kubeconfig_with_user(dir: &Path, name: &str, server: &str, user: &str) -> PathBuf {
    let text = format!(
        "apiVersion: v1
kind: Config
current-context: replay
clusters:
- name: replay
  cluster:
    server: {server}
contexts:
- name: replay
  context:
    cluster: replay
    user: ci
users:
- name: ci
  user:
{user}"
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// An executable shell script in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The site and schemas, no `--kubeconfig`: where the cluster is comes from the environment.
fn diff_live_env() -> Cli {
    Cli::new()
        .args(["diff", "--live", "--schemas"])
        .arg(schemas())
        .reference_site()
}

#[test]
fn kubeconfig_lists_merge_as_kubectl_merges_them() {
    let server = serve(site());
    let dir = tempdir();
    let d = dir.path();
    // The first file to define a key wins: current-context and user `ci` come from a.yaml;
    // cluster `replay` exists only in b.yaml; a missing file is skipped.
    std::fs::write(
        d.join("a.yaml"),
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: replay\ncontexts:\n- name: replay\n  context:\n    cluster: replay\n    user: ci\nusers:\n- name: ci\n  user:\n    token: {TOKEN}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("b.yaml"),
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: elsewhere\nclusters:\n- name: replay\n  cluster:\n    server: {}\n- name: elsewhere\n  cluster:\n    server: http://127.0.0.1:9\ncontexts:\n- name: elsewhere\n  context:\n    cluster: elsewhere\n    user: ci\n- name: replay\n  context:\n    cluster: elsewhere\n    user: ci\nusers:\n- name: ci\n  user:\n    token: not-the-token\n",
            server.url()
        ),
    )
    .unwrap();
    let list = format!(
        "{}:{}:{}",
        d.join("missing.yaml").display(),
        d.join("a.yaml").display(),
        d.join("b.yaml").display()
    );
    diff_live_env()
        .env("KUBECONFIG", &list)
        .code(0)
        .never_prints("not-the-token")
        .run();
    no_violations(&server);
    // A context only the second file defines is found in the merge.
    diff_live_env()
        .env("KUBECONFIG", &list)
        .args(["--context", "elsewhere"])
        .code(3)
        .stderr_has("cannot reach the cluster at http://127.0.0.1:9")
        .run();
    // None of the files exists: said with the list.
    let none = format!("{}:{}", d.join("x").display(), d.join("y").display());
    diff_live_env()
        .env("KUBECONFIG", &none)
        .code(3)
        .stderr_has(format!(
            "no cluster configured: none of the files in KUBECONFIG={none} exists"
        ))
        .run();
}

#[test]
fn a_bad_context_lists_the_contexts() {
    let dir = tempdir();
    let kc = write_kubeconfig(dir.path(), "http://127.0.0.1:9");
    diff_live(&kc)
        .args(["--context", "nope"])
        .code(3)
        .stderr_has(format!(
            "context \"nope\" is not in kubeconfig {}; its contexts are: elsewhere, replay",
            kc.display()
        ))
        .run();
}

#[test]
fn token_files_are_trimmed() {
    let server = serve(site());
    let dir = tempdir();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let kc = kubeconfig_with_user(
        dir.path(),
        "kubeconfig",
        &server.url(),
        &format!("    tokenFile: {}\n", token.display()),
    );
    diff_live(&kc).code(0).never_prints(TOKEN).run();
    // The server compared `Authorization` with exactly `Bearer replay-token`.
    no_violations(&server);
}

#[test]
fn a_self_signed_server_certificate_given_as_the_ca_is_trusted() {
    let server = ApiServer::start_tls(catalog());
    load(&server, site(), APPLIED);
    let dir = tempdir();
    let ca = apiserver::tls_fixture("selfsigned.pem");
    let with_ca = |name: &str, ca: &Path| {
        let text = std::fs::read_to_string(server.kubeconfig(dir.path())).unwrap();
        let text = text.replace(
            &format!("    server: {}\n", server.url()),
            &format!(
                "    server: {}\n    certificate-authority: {}\n",
                server.url(),
                ca.display()
            ),
        );
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    assert!(server.url().starts_with("https://127.0.0.1:"));
    diff_live(&with_ca("trusted", &ca)).code(0).run();
    no_violations(&server);
    // Another CA did not sign it: refused, and said why.
    diff_live(&with_ca(
        "untrusted",
        &apiserver::tls_fixture("other-ca.pem"),
    ))
    .code(3)
    .stderr_has(format!(
        "cannot set up TLS for {}: the server's certificate is not trusted",
        server.url()
    ))
    .run();
}

#[test]
fn exec_plugins_run_once_bounded_by_the_timeout() {
    let server = serve(site());
    server.token("exec-planted-token-42");
    let dir = tempdir();
    let d = dir.path();
    let count = d.join("runs");
    let plugin = script(
        d,
        "credential",
        &format!(
            "echo run >> {}\ncat <<'EOF'\n{{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {{\"token\": \"exec-planted-token-42\"}}}}\nEOF",
            count.display()
        ),
    );
    let exec = |command: &Path| {
        format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      args: [\"--secret\", \"arg-planted-secret\"]\n      interactiveMode: Never\n",
            command.display()
        )
    };
    let kc = kubeconfig_with_user(d, "ok.kubeconfig", &server.url(), &exec(&plugin));
    diff_live(&kc)
        .code(0)
        .never_prints("exec-planted-token-42")
        .run();
    no_violations(&server);
    assert_eq!(
        std::fs::read_to_string(&count).unwrap(),
        "run\n",
        "the plugin ran once"
    );

    // `exec`: the shell becomes the sleep, so stopping the plugin stops all of it.
    let hung = script(d, "hung", "exec sleep 60");
    let started = Instant::now();
    diff_live(&kubeconfig_with_user(d, "hung.kubeconfig", &server.url(), &exec(&hung)))
        .args(["--timeout", "2s"])
        .code(3)
        .stderr_has("the exec plugin \"hung\" of user \"ci\" did not finish within 2s (--timeout); it was stopped")
        .never_prints("arg-planted-secret")
        .run();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    // A failing plugin's output is a credential too: never shown.
    let failing = script(
        d,
        "failing",
        "echo '{\"status\": {\"token\": \"exec-planted-token-42\"}}'\necho 'plugin: cannot refresh' >&2\nexit 1",
    );
    diff_live(&kubeconfig_with_user(d, "failing.kubeconfig", &server.url(), &exec(&failing)))
        .code(3)
        .stderr_has("the exec plugin \"failing\" of user \"ci\" failed (exit code 1); its messages, if any, are above")
        .stderr_has("plugin: cannot refresh")
        .never_prints("exec-planted-token-42")
        .never_prints("arg-planted-secret")
        .run();
}

#[test]
fn durations_for_timeout() {
    let stalled = Stalled::start();
    let dir = tempdir();
    let kc = write_kubeconfig(dir.path(), &stalled.url());
    let started = Instant::now();
    diff_live(&kc)
        .args(["--timeout", "2s"])
        .code(3)
        .stderr_has(format!(
            "the cluster at {} did not answer within 2s (--timeout)",
            stalled.url()
        ))
        .run();
    // The build of the reference site comes first and is not part of the timeout; a
    // generous bound still shows the run did not wait for the 30 s default.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    // A bare number is seconds, as before units were accepted.
    diff_live(&kc)
        .args(["--timeout", "1"])
        .code(3)
        .stderr_has("did not answer within 1s (--timeout)")
        .run();
    Cli::new()
        .args(["diff", "--live", "--timeout", "ten minutes"])
        .code(64)
        .stderr_has("\"ten minutes\" is not a duration: write a number with a unit (30s, 2m, 1h, 1m30s, 500ms) or a number of seconds")
        .run();
}

#[test]
fn an_unreachable_cluster_or_a_bad_kubeconfig_exits_3() {
    let dir = tempdir();
    // `elsewhere` points at port 9 on 127.0.0.1, where nothing listens.
    let kc = write_kubeconfig(dir.path(), "http://127.0.0.1:9");
    diff_live(&kc)
        .args(["--context", "elsewhere"])
        .code(3)
        .stderr_has("cannot reach the cluster at http://127.0.0.1:9: get /apis (discovery) failed after 4 attempts")
        .run();
    diff_live(&dir.path().join("absent"))
        .code(3)
        .stderr_has("cannot read kubeconfig")
        .run();
}

/// Credentials planted in a kubeconfig (a token, a basic-auth password in the server URL, a
/// client key) and in a broken kubeconfig line never reach any output of any form.
#[test]
fn kubeconfig_material_is_never_printed() {
    let server = serve(site());
    let dir = tempdir();
    let d = dir.path();
    let key = std::fs::read_to_string(apiserver::tls_fixture("selfsigned.key")).unwrap();
    let cert = std::fs::read_to_string(apiserver::tls_fixture("selfsigned.pem")).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let planted: Vec<String> = key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_owned)
        .chain([
            b64.encode(&key),
            "hunter2-planted".to_owned(),
            TOKEN.to_owned(),
        ])
        .collect();
    let with_userinfo = server
        .url()
        .replace("http://", "http://admin:hunter2-planted@");
    let user = format!(
        "    token: {TOKEN}\n    client-certificate-data: {}\n    client-key-data: {}\n",
        b64.encode(&cert),
        b64.encode(&key)
    );
    let kc = kubeconfig_with_user(d, "planted", &with_userinfo, &user);
    for format in ["text", "markdown", "json"] {
        let mut cli = diff_live(&kc)
            .args(["--format", format])
            .code(0)
            .stdout_has(server.url());
        for p in &planted {
            cli = cli.never_prints(p.as_str());
        }
        cli.run();
    }
    // The same credentials, refused by the server: every object an error.
    server.token("another-token");
    let mut cli = diff_live(&kc).code(3).stderr_has("unauthorized (401)");
    for p in &planted {
        cli = cli.never_prints(p.as_str());
    }
    cli.run();
    // Unreachable, with the password in the URL: the message names the server without it.
    let gone = kubeconfig_with_user(d, "gone", "http://admin:hunter2-planted@127.0.0.1:9", &user);
    let mut cli = diff_live(&gone)
        .code(3)
        .stderr_has("cannot reach the cluster at http://127.0.0.1:9");
    for p in &planted {
        cli = cli.never_prints(p.as_str());
    }
    cli.run();
    // A broken line that holds a token.
    let broken = d.join("broken");
    std::fs::write(
        &broken,
        "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: [broken-planted-token\n",
    )
    .unwrap();
    diff_live(&broken)
        .code(3)
        .stderr_has(format!("cannot parse kubeconfig {}", broken.display()))
        .never_prints("broken-planted-token")
        .run();
}

#[test]
fn an_invalid_site_exits_2_before_any_request() {
    let server = serve(site());
    let dir = tempdir();
    let cli = diff_live(&server.kubeconfig(dir.path()));
    let site_toml = cli.site_dir().join("site.toml");
    let text = std::fs::read_to_string(&site_toml).unwrap();
    std::fs::write(&site_toml, format!("{text}\n[nonsense]\nx = 1\n")).unwrap();
    cli.code(2).run();
    assert!(server.requests().is_empty());
}

/// Runs against the cluster in `CASA_E2E_KUBECONFIG` (kind, k3d): the command must answer
/// with one of its own exit codes and, in JSON, one entry per object.
#[test]
#[ignore = "needs CASA_E2E_KUBECONFIG"]
fn end_to_end_against_a_real_cluster() {
    let Some(kc) = std::env::var_os("CASA_E2E_KUBECONFIG") else {
        eprintln!("skipped: set CASA_E2E_KUBECONFIG to a kubeconfig of a disposable cluster");
        return;
    };
    let run = diff_live(Path::new(&kc)).args(["--format", "json"]).run();
    assert!(matches!(run.code, 0 | 1 | 3), "{}", run.stderr);
    if run.code != 3 {
        assert!(run.json()["objects"].as_array().unwrap().len() >= site().len());
    }
}

/// Requests and wall time of the comparison (after the build) for the reference tree and for
/// 100, 1,000 and 10,000 objects of five kinds in twenty namespaces, all in sync, in both
/// modes, against a server of every kind of [`catalog`]. Prints a table; asserts only that
/// requests stay bounded by kinds (and by objects only for dry runs).
///
/// `cargo test --test cli diff_live::measure -- --ignored --nocapture`
#[test]
#[ignore = "measurement: prints a table"]
fn measure_requests_and_wall_time() {
    use casa_build::diff::live::{Built, Options, Status, diff_live};

    let kinds = catalog();
    println!("| objects | mode        | requests (client) | requests (server) | wall time |");
    println!("|--------:|-------------|------------------:|------------------:|----------:|");
    let reference: Vec<Manifest> = site().to_vec();
    for (label, manifests) in [
        ("reference", reference),
        ("100", synthetic(100)),
        ("1000", synthetic(1_000)),
        ("10000", synthetic(10_000)),
    ] {
        let n = manifests.len();
        let site_name = if label == "reference" {
            "flatiron"
        } else {
            "measure"
        };
        let server = serve_at(&manifests, kinds.clone(), APPLIED);
        server.site(site_name);
        let dir = tempdir();
        let kubeconfig = server.kubeconfig(dir.path());
        for server_side in [false, true] {
            let before = server.requests().len();
            let opts = Options {
                kubeconfig: Some(kubeconfig.clone()),
                context: None,
                server_side,
                timeout: Duration::from_secs(600),
                wait: false,
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let started = Instant::now();
            let report = runtime
                .block_on(diff_live(
                    &manifests,
                    &[],
                    site_name,
                    &Built::default(),
                    &opts,
                ))
                .expect("diff");
            let wall = started.elapsed();
            let seen = server.requests().len() - before;
            assert_eq!(report.entries.len(), n);
            assert!(report.entries.iter().all(|e| e.status == Status::InSync));
            // Discovery and one LIST per kind; more pages only for kinds past 500 objects.
            let mut per_kind: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
            for m in &manifests {
                *per_kind
                    .entry((m.api_version(), m.id.kind.as_str()))
                    .or_default() += 1;
            }
            let extra_pages: usize = per_kind.values().map(|c| c.div_ceil(500).max(1) - 1).sum();
            let bound = expected_requests(&kinds) + extra_pages + if server_side { n } else { 0 };
            assert_eq!(seen, bound);
            println!(
                "| {label:>9} | {:<11} | {:>17} | {seen:>17} | {:>7.2} s |",
                if server_side {
                    "server-side"
                } else {
                    "default"
                },
                report.requests,
                wall.as_secs_f64()
            );
        }
        no_violations(&server);
    }
}

/// `n` objects: ConfigMaps, Services, Deployments, ServiceAccounts and SealedSecrets in twenty
/// namespaces, labelled as casa-build labels them.
fn synthetic(n: usize) -> Vec<Manifest> {
    (0..n)
        .map(|i| {
            let ns = format!("ns-{:02}", i % 20);
            let name = format!("obj-{i:05}");
            let labels = json!({"app.kubernetes.io/managed-by": "casa-build", "app.kubernetes.io/part-of": "measure", "app": name});
            let value = match i % 5 {
                0 => json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels}, "data": {"key": format!("value-{i}")}}),
                1 => json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
                2 => json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "spec": {"selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10", "resources": {"requests": {"cpu": 0.1, "memory": "64Mi"}}}]}}}}),
                3 => json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns, "labels": labels}}),
                _ => json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "spec": {"encryptedData": {"token": format!("AgB{i:0>64}")}, "template": {"metadata": {"name": name, "namespace": ns}, "type": "Opaque"}}}),
            };
            Manifest {
                id: ResourceId::of(&value).expect("identity"),
                unit: "u".to_owned(),
                template: "measure".to_owned(),
                value,
            }
        })
        .collect()
}

#[test]
fn the_danger_review_reads_the_cluster_as_the_side_before_the_tree() {
    let server = serve(site());
    // A Namespace and a claim Flux still manages (in a pruning unit's inventory) that the
    // tree no longer has: applying the tree deletes them.
    server.apply(
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cmsaf-old"}}),
    );
    server.edit(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        Some("flux-system"),
        "instance-cms-prod",
        |k| {
            let entries = k["status"]["inventory"]["entries"].as_array_mut().unwrap();
            entries.push(json!({"id": "_cmsaf-old__Namespace", "v": "v1"}));
            entries.push(json!({"id": "cmsaf-prod_scratch__PersistentVolumeClaim", "v": "v1"}));
        },
    );
    // A claim made with another class than the tree now gives it; what the server fills in
    // (the bound volume, the volume mode) is no change of the tree's.
    server.edit(
        "v1",
        "PersistentVolumeClaim",
        Some("cmsaf-prod"),
        "cvmfs",
        |c| {
            c["spec"]["storageClassName"] = json!("cvmfs-old");
            c["spec"]["volumeName"] = json!("pvc-0f3c");
            c["spec"]["volumeMode"] = json!("Filesystem");
        },
    );
    let dir = tempdir();
    let kubeconfig = server.kubeconfig(dir.path());
    let run = diff_live(&kubeconfig)
        .args(["--format", "json"])
        .code(1)
        .run();
    let j = run.json();
    let found: Vec<(String, String)> = j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("CB120".to_owned(), "Namespace cmsaf-old leaves the tree, and Flux Kustomization instance-cms-prod prunes it".to_owned()),
            ("CB121".to_owned(), "PersistentVolumeClaim cmsaf-prod/scratch leaves the tree and Flux deletes it".to_owned()),
            ("CB124".to_owned(), "PersistentVolumeClaim cmsaf-prod/cvmfs `spec.storageClassName` cvmfs-old -> cvmfs: the API server refuses the update".to_owned()),
        ],
        "{}",
        j["findings"]
    );
    assert_eq!(j["summary"]["dangers"], 3);
    diff_live(&kubeconfig)
        .args(["--fail-on", "danger"])
        .code(2)
        .stdout_has("3 dangers: what applying the tree to this cluster destroys\n  CB120 namespace-removed: Namespace cmsaf-old")
        .run();
    diff_live(&kubeconfig)
        .args(["--format", "markdown"])
        .code(1)
        .stdout_has(
            "> [!CAUTION]\n> **3 dangers**: what applying the tree to this cluster destroys.",
        )
        .run();
}
