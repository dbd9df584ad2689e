//! What casa-build knows about the kinds it emits, beyond their schemas: which are
//! cluster-scoped (the tenant rules), and which have no upstream schema in the shared set
//! (`../shared/schemas`), so that the schema catalog and the `--schemas` extension know what
//! to add. One table each, checked by tests against the CRDs of the shared set.

/// Calico's cluster-scoped kinds, served under both of its groups: `projectcalico.org` by
/// its API server, `crd.projectcalico.org` as the CRDs behind it.
const CALICO_CLUSTER_KINDS: &[&str] = &[
    "IPPool",
    "BGPConfiguration",
    "BGPPeer",
    "FelixConfiguration",
    "GlobalNetworkPolicy",
    "GlobalNetworkSet",
    "HostEndpoint",
    "IPReservation",
    "ClusterInformation",
    "KubeControllersConfiguration",
];

/// Kinds whose objects have no namespace, by API group (`""` for the core group). Built-in
/// kinds from the Kubernetes API reference (kubectl api-resources --namespaced=false, 1.33);
/// custom kinds from each project's CRD (`spec.scope: Cluster`).
static CLUSTER_SCOPED: &[(&str, &[&str])] = &[
    (
        "",
        &["Namespace", "Node", "PersistentVolume", "ComponentStatus"],
    ),
    (
        "rbac.authorization.k8s.io",
        &["ClusterRole", "ClusterRoleBinding"],
    ),
    (
        "storage.k8s.io",
        &[
            "StorageClass",
            "CSIDriver",
            "CSINode",
            "VolumeAttachment",
            "VolumeAttributesClass",
        ],
    ),
    ("apiextensions.k8s.io", &["CustomResourceDefinition"]),
    ("apiregistration.k8s.io", &["APIService"]),
    (
        "admissionregistration.k8s.io",
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "MutatingAdmissionPolicy",
            "MutatingAdmissionPolicyBinding",
        ],
    ),
    ("scheduling.k8s.io", &["PriorityClass"]),
    (
        "networking.k8s.io",
        &["IngressClass", "IPAddress", "ServiceCIDR"],
    ),
    ("node.k8s.io", &["RuntimeClass"]),
    (
        "certificates.k8s.io",
        &["CertificateSigningRequest", "ClusterTrustBundle"],
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    ("resource.k8s.io", &["DeviceClass", "ResourceSlice"]),
    ("gateway.networking.k8s.io", &["GatewayClass"]),
    ("projectcalico.org", CALICO_CLUSTER_KINDS),
    ("crd.projectcalico.org", CALICO_CLUSTER_KINDS),
    ("operator.tigera.io", &["Installation", "APIServer"]),
    (
        "cilium.io",
        &[
            "CiliumLoadBalancerIPPool",
            "CiliumBGPClusterConfig",
            "CiliumBGPPeerConfig",
            "CiliumBGPAdvertisement",
            "CiliumBGPNodeConfig",
            "CiliumBGPNodeConfigOverride",
            "CiliumL2AnnouncementPolicy",
            "CiliumClusterwideNetworkPolicy",
            "CiliumClusterwideEnvoyConfig",
            "CiliumNode",
            "CiliumIdentity",
            "CiliumPodIPPool",
            "CiliumCIDRGroup",
        ],
    ),
    ("nvidia.com", &["ClusterPolicy", "NVIDIADriver"]),
    ("cert-manager.io", &["ClusterIssuer"]),
    ("objectbucket.io", &["ObjectBucket"]),
];

/// Whether objects of a kind are cluster-scoped. Unknown kinds count as namespaced: the
/// tenant rule also reports any object the tree emits without a namespace.
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED
        .iter()
        .any(|(g, kinds)| *g == group && kinds.contains(&kind))
}

/// A kind the tree may emit that the shared schema set has no schema for.
#[derive(Debug)]
pub struct WithoutSchema {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// Which component emits it.
    pub component: &'static str,
    /// Where the upstream schema is, and why it is not in the shared set.
    pub why: &'static str,
}

const CILIUM_WHY: &str = "Cilium's CRDs (cilium/cilium `pkg/k8s/apis/cilium.io/client/crds/`, release v1.19.4) are not in the shared schema set; the Cilium operator installs them at start";
const GATEWAY_WHY: &str = "the Gateway API CRDs (kubernetes-sigs/gateway-api@v1.4.1 `config/crd/standard/`) are not in the shared schema set";

/// Every kind a component may emit with no schema in `../shared/schemas`: a build that
/// emits one fails with CB053 unless the site allows it (`[site] allowed_kinds`, which
/// `casa-build init` writes) or a `--schemas` location adds the schema. Chart values with
/// no schema there (cilium, ingress-nginx, gpu-operator) are not checked at all: the
/// schema check skips a chart it does not know.
pub static WITHOUT_SCHEMA: &[WithoutSchema] = &[
    WithoutSchema {
        api_version: "cilium.io/v2",
        kind: "CiliumLoadBalancerIPPool",
        component: "cilium",
        why: CILIUM_WHY,
    },
    WithoutSchema {
        api_version: "cilium.io/v2alpha1",
        kind: "CiliumL2AnnouncementPolicy",
        component: "cilium",
        why: CILIUM_WHY,
    },
    WithoutSchema {
        api_version: "cilium.io/v2",
        kind: "CiliumBGPClusterConfig",
        component: "cilium",
        why: CILIUM_WHY,
    },
    WithoutSchema {
        api_version: "cilium.io/v2",
        kind: "CiliumBGPPeerConfig",
        component: "cilium",
        why: CILIUM_WHY,
    },
    WithoutSchema {
        api_version: "cilium.io/v2",
        kind: "CiliumBGPAdvertisement",
        component: "cilium",
        why: CILIUM_WHY,
    },
    WithoutSchema {
        api_version: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        component: "gateway",
        why: GATEWAY_WHY,
    },
    WithoutSchema {
        api_version: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        component: "gateway",
        why: GATEWAY_WHY,
    },
];

/// The entry for an `apiVersion` and kind, if the shared set lacks its schema.
pub fn without_schema(api_version: &str, kind: &str) -> Option<&'static WithoutSchema> {
    WITHOUT_SCHEMA
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared_crds() -> Vec<(String, String, String)> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/schemas/crds");
        let mut v = Vec::new();
        for dir in std::fs::read_dir(root).unwrap() {
            let dir = dir.unwrap().path();
            for f in std::fs::read_dir(&dir).unwrap() {
                let p = f.unwrap().path();
                if p.extension().is_some_and(|e| e == "yaml") {
                    let crd: serde_json::Value =
                        serde_saphyr::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                    let s = |ptr: &str| {
                        crd.pointer(ptr)
                            .and_then(|v| v.as_str())
                            .unwrap()
                            .to_owned()
                    };
                    v.push((s("/spec/group"), s("/spec/names/kind"), s("/spec/scope")));
                }
            }
        }
        assert!(v.len() > 30, "{v:?}");
        v
    }

    #[test]
    fn the_scope_table_agrees_with_every_crd_of_the_shared_set() {
        for (group, kind, scope) in shared_crds() {
            assert_eq!(
                is_cluster_scoped(&group, &kind),
                scope == "Cluster",
                "{group}/{kind} is {scope}"
            );
        }
    }

    #[test]
    fn built_in_scopes() {
        assert!(is_cluster_scoped("", "Namespace"));
        assert!(is_cluster_scoped(
            "rbac.authorization.k8s.io",
            "ClusterRole"
        ));
        assert!(!is_cluster_scoped("rbac.authorization.k8s.io", "Role"));
        assert!(!is_cluster_scoped("", "ConfigMap"));
        assert!(!is_cluster_scoped("gateway.networking.k8s.io", "HTTPRoute"));
    }

    #[test]
    fn kinds_without_schema_really_lack_one_in_the_shared_set() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/schemas/crds");
        for k in WITHOUT_SCHEMA {
            let (group, version) = k.api_version.split_once('/').unwrap();
            let file = format!(
                "{root}/{group}/{}_{version}.json",
                k.kind.to_ascii_lowercase()
            );
            assert!(!std::path::Path::new(&file).exists(), "{file} exists");
            assert!(
                crate::site::COMPONENTS
                    .iter()
                    .any(|c| c.name == k.component)
            );
        }
    }
}
