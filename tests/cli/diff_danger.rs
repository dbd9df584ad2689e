//! The danger review of `casa-build diff --base`: one test per class of danger, each making
//! the change in a real git repository (a copy of the reference site) and asserting the
//! finding, its code and what it names; `--fail-on danger` turns a finding into exit 2.

use serde_json::Value;

use crate::diff_git::GitSite;
use crate::support::{Cli, path, read};

/// The findings of `diff --base HEAD --format json` on the work tree: (code, message).
#[track_caller]
fn findings(site: &GitSite) -> Vec<(String, String)> {
    let run = site.diff("HEAD", &["--format", "json"]).code(1).run();
    let j = run.json();
    assert_eq!(j["schema_version"], 1, "{}", run.stdout);
    j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or("").to_owned(),
                f["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The messages of the findings with `code`.
fn with<'a>(found: &'a [(String, String)], code: &str) -> Vec<&'a str> {
    found
        .iter()
        .filter(|(c, _)| c == code)
        .map(|(_, m)| m.as_str())
        .collect()
}

#[test]
fn a_removed_instance_loses_its_namespace_and_claims_and_fails_the_gate() {
    let site = GitSite::reference();
    site.remove("instances/opendata-dev.toml");
    let found = findings(&site);
    let instance = with(&found, "CB122");
    assert_eq!(instance.len(), 1, "{found:#?}");
    assert!(
        instance[0].contains("instance `opendata-dev` is removed")
            && instance[0].contains("with prune, everything it applied"),
        "{found:#?}"
    );
    assert_eq!(
        with(&found, "CB120"),
        [
            "Namespace opendataaf-dev leaves the tree, and Flux Kustomization instance-opendata-dev prunes it"
        ]
    );
    let claims = with(&found, "CB121");
    assert!(
        claims.len() == 1 && claims[0].contains("PersistentVolumeClaim opendataaf-dev/cvmfs"),
        "{found:#?}"
    );

    // The exit code of diff is unchanged unless the caller gates on dangers.
    site.diff("HEAD", &["--fail-on", "danger"])
        .code(2)
        .stdout_has("dangers: what this change destroys when Flux applies it\n  CB120 namespace-removed: Namespace opendataaf-dev")
        .site_unchanged()
        .run();
    let md = site.diff("HEAD", &["--format", "markdown"]).code(1).run();
    let caution = md.stdout.find("> [!CAUTION]").expect(&md.stdout);
    let table = md.stdout.find("| Flux Kustomization |").expect(&md.stdout);
    let facility = md
        .stdout
        .find("| instances | 4 → 3 (- opendata-dev) |")
        .expect(&md.stdout);
    assert!(caution < facility && facility < table, "{}", md.stdout);
    assert!(
        md.stdout.contains("> - **CB120** `namespace-removed`"),
        "{}",
        md.stdout
    );
}

#[test]
fn an_instance_file_renamed_out_of_reach_is_named_and_a_suspended_unit_prunes_nothing() {
    let site = GitSite::reference();
    let text = site.read("instances/cms-dev.toml");
    site.remove("instances/cms-dev.toml");
    site.write("instances/cms-dev.tml", &text);
    let found = findings(&site);
    let instance = with(&found, "CB122");
    assert_eq!(instance.len(), 1, "{found:#?}");
    assert!(
        instance[0].contains("instances/cms-dev.tml is not read: instance files end in .toml")
            && instance[0].contains("suspended"),
        "{found:#?}"
    );
    // cms-dev is suspended: deleting its Kustomization deletes none of its objects.
    assert!(with(&found, "CB120").is_empty(), "{found:#?}");
    assert!(with(&found, "CB121").is_empty(), "{found:#?}");
}

#[test]
fn a_storage_class_parameter_and_a_claims_class_are_immutable() {
    let site = GitSite::reference();
    site.edit(
        "site.toml",
        "block_pool = { name = \"replicapool\"",
        "block_pool = { name = \"fastpool\"",
    );
    let found = findings(&site);
    let class = with(&found, "CB123");
    assert!(
        class.len() == 1
            && class[0].starts_with(
                "StorageClass rook-ceph-block changes `parameters.pool` replicapool -> fastpool"
            ),
        "{found:#?}"
    );
    // The old pool leaves the tree with its images.
    let pools = with(&found, "CB127");
    assert!(
        pools
            .iter()
            .any(|m| m.starts_with("CephBlockPool rook-ceph/replicapool leaves the tree")),
        "{found:#?}"
    );

    let site = GitSite::reference();
    site.edit(
        "site.toml",
        "storage_class = \"cvmfs\"",
        "storage_class = \"cvmfs-csi\"",
    );
    let found = findings(&site);
    let claims = with(&found, "CB124");
    assert_eq!(claims.len(), 4, "one per instance: {found:#?}");
    assert!(
        claims.contains(&"PersistentVolumeClaim cmsaf-prod/cvmfs `spec.storageClassName` cvmfs -> cvmfs-csi: the API server refuses the update"),
        "{found:#?}"
    );
}

#[test]
fn renamed_storage_hosts_dropped_devices_and_a_new_osd_count_move_osds() {
    let site = GitSite::reference();
    site.edit("site.toml", "prefix = \"r750-\"", "prefix = \"stor-\"");
    let found = findings(&site);
    let moved = with(&found, "CB125");
    assert_eq!(moved.len(), 1, "{found:#?}");
    assert!(
        moved[0].contains("12 hosts `r750-01`, `r750-02`, `r750-03`, `r750-04` and 8 more are renamed to `stor-01`")
            && moved[0].contains("(600 OSDs)"),
        "{}",
        moved[0]
    );

    let site = GitSite::reference();
    site.edit("site.toml", "osds_per_device = 5", "osds_per_device = 4");
    let moved = with(&findings(&site), "CB125").join("\n");
    assert!(
        moved.contains("osdsPerDevice 5 -> 4 on every device"),
        "{moved}"
    );

    let site = GitSite::reference();
    site.edit("site.toml", "nvme = { count = 10,", "nvme = { count = 8,");
    let run = site.diff("HEAD", &["--format", "json"]).code(1).run();
    let j = run.json();
    let moved: Vec<&str> = j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "CB125")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        moved.len() == 1 && moved[0].contains("host `r750-01` drops devices `/dev/disk/by-id/nvme-Dell_Ent_NVMe_CM6-RI_3.2TB_r750-01_8` and `/dev/disk/by-id/nvme-Dell_Ent_NVMe_CM6-RI_3.2TB_r750-01_9`"),
        "{moved:#?}"
    );
    // The facility summary says what it does to the capacity.
    let ceph = j["facility"]["changes"]
        .as_array()
        .expect("facility changes")
        .iter()
        .find(|c| c["what"] == "ceph")
        .cloned()
        .unwrap_or(Value::Null);
    assert!(
        ceph["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("600 -> 480 OSDs on 12 -> 12 hosts; raw ")),
        "{}",
        j["facility"]
    );
}

#[test]
fn a_lower_replica_size_is_a_finding() {
    let site = GitSite::reference();
    site.edit(
        "site.toml",
        "name = \"replicapool\", replicas = 3",
        "name = \"replicapool\", replicas = 2",
    );
    let found = findings(&site);
    assert_eq!(
        with(&found, "CB126"),
        ["CephBlockPool rook-ceph/replicapool keeps fewer copies: replicated.size 3 -> 2"],
        "{found:#?}"
    );
}

#[test]
fn a_removed_filesystem_is_a_finding() {
    let site = GitSite::reference();
    site.edit(
        "site.toml",
        "filesystem = { name = \"cephfs\", replicas = 3, storage_class = \"rook-cephfs\", active_mds = 1 }\n",
        "",
    );
    let found = findings(&site);
    let pools = with(&found, "CB127");
    // The reference site's filesystem keeps its pools on delete (preserveFilesystemOnDelete),
    // not its metadata servers.
    assert_eq!(
        pools,
        [
            "CephFilesystem rook-ceph/cephfs leaves the tree and Flux deletes it; its Ceph pools are preserved, the daemons Rook runs for it are not"
        ],
        "{found:#?}"
    );
}

#[test]
fn a_changed_deployment_selector_is_refused_by_the_api_server() {
    let site = GitSite::reference();
    let template = read(&path("templates/triton/deployment.yaml.j2"));
    assert!(template.contains("      app: triton\n"), "{template}");
    site.write(
        "templates/triton/deployment.yaml.j2",
        &template.replace("      app: triton\n", "      app: triton-server\n"),
    );
    let found = findings(&site);
    let selector = with(&found, "CB128");
    assert!(
        selector.len() == 1
            && selector[0].starts_with("Deployment triton/triton changes `spec.selector` {\"matchLabels\":{\"app\":\"triton\"}} -> {\"matchLabels\":{\"app\":\"triton-server\"}}"),
        "{found:#?}"
    );
}

/// A CRD of the kind the tree's CephBlockPool is, as a site's own template.
const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: cephblockpools.ceph.rook.io
spec:
  group: ceph.rook.io
  names:
    kind: CephBlockPool
    listKind: CephBlockPoolList
    plural: cephblockpools
    singular: cephblockpool
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
";

#[test]
fn a_crd_removed_under_its_objects_is_a_finding() {
    let site = GitSite::reference();
    site.write("templates/rook-ceph/crd.yaml.j2", CRD);
    site.commit_all("the CephBlockPool CRD in the tree");
    site.remove("templates/rook-ceph/crd.yaml.j2");
    let found = findings(&site);
    assert_eq!(
        with(&found, "CB129"),
        [
            "CustomResourceDefinition cephblockpools.ceph.rook.io leaves the tree and Flux deletes it while 1 object of its kind remain (`CephBlockPool rook-ceph/replicapool`)"
        ],
        "{found:#?}"
    );
}

#[test]
fn an_object_moved_between_flux_units_is_a_finding() {
    let site = GitSite::reference();
    let namespace = read(&path("templates/triton/namespace.yaml.j2"));
    // The Namespace of Triton rendered by the Ceph cluster's unit instead of Triton's.
    site.write("templates/triton/namespace.yaml.j2", "");
    site.write("templates/rook-ceph/triton-namespace.yaml.j2", &namespace);
    let found = findings(&site);
    let moved = with(&found, "CB130");
    assert!(
        moved.len() == 1
            && moved[0].starts_with(
                "Namespace triton moves from Flux Kustomization triton to rook-ceph-cluster"
            ),
        "{found:#?}"
    );
}

#[test]
fn a_sealed_values_wider_scope_is_a_finding() {
    let site = GitSite::reference();
    Cli::new()
        .args([
            "seal",
            "--scope",
            "cluster-wide",
            "instances/cms-prod.toml#auth.client_secret",
        ])
        .arg("--site")
        .arg(site.path())
        .stdin("a new client secret")
        .code(0)
        .run();
    let found = findings(&site);
    assert_eq!(
        with(&found, "CB131"),
        [
            "SealedSecret cmsaf-prod/hub-oauth is sealed strict at base and cluster-wide after the change"
        ],
        "{found:#?}"
    );
}

#[test]
fn a_harmless_change_has_no_finding_and_passes_the_gate() {
    let site = GitSite::reference();
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    assert!(findings(&site).is_empty());
    site.diff("HEAD", &["--fail-on", "danger"])
        .code(1)
        .stdout_has("facility unchanged: 33 nodes")
        .run();
}
