//! What the built-in templates can emit, per component (template folder): the kinds, and the
//! charts a HelmRelease of the component installs. This is the one place the project knows
//! it; its rows follow the component registry's ([`crate::site::COMPONENTS`], checked by a
//! test) and can move into them as one more field.
//!
//! - The embedded schema catalog ([`super::catalog`]) is generated from it: the schemas of
//!   exactly these kinds, for every release in [`CATALOG_RELEASES`], and these charts' values
//!   schemas with their defaults; kinds the schema tree has no schema for
//!   ([`crate::kinds::WITHOUT_SCHEMA`]: Cilium's, the Gateway API's) are left out, and a
//!   site emitting one allows it or adds the schema.
//! - A test renders the reference and example sites and scans every built-in template, and
//!   fails when a component emits a kind or chart this table does not list, or when a listed
//!   kind has no schema in the catalog.
//!
//! A site's own templates may emit other kinds: their schemas come from the user's schema
//! location (`--schemas`, `CASA_SCHEMAS`, `[site] schemas`) or `[site] allowed_kinds`.

use crate::site::types::KubernetesRelease;

/// One `apiVersion` and `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Kind {
    pub api_version: &'static str,
    pub kind: &'static str,
}

/// What one component's templates can emit.
#[derive(Debug)]
pub struct Emits {
    /// The template folder (`templates/<component>/`).
    pub component: &'static str,
    pub kinds: &'static [Kind],
    /// Chart names (as the schema layout's `charts/<chart>/` names them) of its HelmReleases.
    pub charts: &'static [&'static str],
}

/// The Kubernetes minor releases the embedded catalog carries built-in schemas for: a site
/// targeting one of them needs no schema folder.
pub const CATALOG_RELEASES: [KubernetesRelease; 5] = [
    release(33),
    release(34),
    release(35),
    release(36),
    release(37),
];

const fn release(minor: u32) -> KubernetesRelease {
    KubernetesRelease { major: 1, minor }
}

const fn k(api_version: &'static str, kind: &'static str) -> Kind {
    Kind { api_version, kind }
}

const NAMESPACE: Kind = k("v1", "Namespace");
const SERVICE_ACCOUNT: Kind = k("v1", "ServiceAccount");
const SERVICE: Kind = k("v1", "Service");
const PVC: Kind = k("v1", "PersistentVolumeClaim");
const DEPLOYMENT: Kind = k("apps/v1", "Deployment");
const ROLE: Kind = k("rbac.authorization.k8s.io/v1", "Role");
const ROLE_BINDING: Kind = k("rbac.authorization.k8s.io/v1", "RoleBinding");
const STORAGE_CLASS: Kind = k("storage.k8s.io/v1", "StorageClass");
const HELM_RELEASE: Kind = k("helm.toolkit.fluxcd.io/v2", "HelmRelease");
/// The three forms of a component's public route (`route` in `templates/common/macros.j2`):
/// Traefik's, ingress-nginx's and the Gateway API's.
const INGRESS_ROUTE: Kind = k("traefik.io/v1alpha1", "IngressRoute");
const INGRESS: Kind = k("networking.k8s.io/v1", "Ingress");
const HTTP_ROUTE: Kind = k("gateway.networking.k8s.io/v1", "HTTPRoute");
const GIT_REPOSITORY: Kind = k("source.toolkit.fluxcd.io/v1", "GitRepository");
const HELM_REPOSITORY: Kind = k("source.toolkit.fluxcd.io/v1", "HelmRepository");
const FLUX_KUSTOMIZATION: Kind = k("kustomize.toolkit.fluxcd.io/v1", "Kustomization");

/// The kind render builds from the site's sealed values (not a template), listed under the
/// component whose controller serves it.
pub const SEALED_SECRET: Kind = k("bitnami.com/v1alpha1", "SealedSecret");
/// The component [`SEALED_SECRET`] is listed under.
pub const SEALED_SECRETS_COMPONENT: &str = "sealed-secrets";

pub static EMITTED: &[Emits] = &[
    Emits {
        component: "flux",
        kinds: &[GIT_REPOSITORY, HELM_REPOSITORY, FLUX_KUSTOMIZATION],
        charts: &[],
    },
    Emits {
        component: "sealed-secrets",
        kinds: &[HELM_RELEASE, SEALED_SECRET],
        charts: &["sealed-secrets"],
    },
    Emits {
        // The Gateway API CRDs, applied by Flux from their git repository.
        component: "gateway-api",
        kinds: &[GIT_REPOSITORY, FLUX_KUSTOMIZATION],
        charts: &[],
    },
    Emits {
        component: "metallb",
        kinds: &[NAMESPACE, HELM_RELEASE],
        charts: &["metallb"],
    },
    Emits {
        component: "rook-ceph-operator",
        kinds: &[NAMESPACE, HELM_RELEASE],
        charts: &["rook-ceph", "ceph-csi-drivers"],
    },
    Emits {
        component: "gpu-operator",
        kinds: &[NAMESPACE, HELM_RELEASE, k("v1", "ConfigMap")],
        charts: &["gpu-operator"],
    },
    Emits {
        component: "calico",
        kinds: &[
            ROLE,
            ROLE_BINDING,
            k("projectcalico.org/v3", "IPPool"),
            k("projectcalico.org/v3", "BGPConfiguration"),
            k("projectcalico.org/v3", "BGPPeer"),
        ],
        charts: &[],
    },
    Emits {
        component: "cilium",
        kinds: &[
            HELM_RELEASE,
            k("cilium.io/v2", "CiliumLoadBalancerIPPool"),
            k("cilium.io/v2alpha1", "CiliumL2AnnouncementPolicy"),
            k("cilium.io/v2", "CiliumBGPClusterConfig"),
            k("cilium.io/v2", "CiliumBGPPeerConfig"),
            k("cilium.io/v2", "CiliumBGPAdvertisement"),
        ],
        charts: &["cilium"],
    },
    Emits {
        component: "metallb-config",
        kinds: &[
            k("metallb.io/v1beta1", "IPAddressPool"),
            k("metallb.io/v1beta1", "L2Advertisement"),
            k("metallb.io/v1beta1", "BGPAdvertisement"),
            k("metallb.io/v1beta2", "BGPPeer"),
        ],
        charts: &[],
    },
    Emits {
        component: "rook-ceph",
        kinds: &[
            k("ceph.rook.io/v1", "CephBlockPool"),
            k("ceph.rook.io/v1", "CephCluster"),
            k("ceph.rook.io/v1", "CephFilesystem"),
            k("ceph.rook.io/v1", "CephObjectStore"),
            k("ceph.rook.io/v1", "CephObjectStoreUser"),
            STORAGE_CLASS,
        ],
        charts: &[],
    },
    Emits {
        component: "traefik",
        kinds: &[NAMESPACE, HELM_RELEASE],
        charts: &["traefik"],
    },
    Emits {
        component: "ingress-nginx",
        kinds: &[NAMESPACE, HELM_RELEASE],
        charts: &["ingress-nginx"],
    },
    Emits {
        component: "gateway",
        kinds: &[
            NAMESPACE,
            k("gateway.networking.k8s.io/v1", "Gateway"),
            HTTP_ROUTE,
        ],
        charts: &[],
    },
    Emits {
        component: "cvmfs",
        kinds: &[NAMESPACE, HELM_RELEASE],
        charts: &["cvmfs-csi"],
    },
    Emits {
        component: "dex",
        kinds: &[NAMESPACE, HELM_RELEASE, INGRESS_ROUTE, INGRESS, HTTP_ROUTE],
        charts: &["dex"],
    },
    Emits {
        component: "triton",
        kinds: &[
            NAMESPACE,
            k("objectbucket.io/v1alpha1", "ObjectBucketClaim"),
            DEPLOYMENT,
            SERVICE,
            // the spawn hook's Role reading the bucket's keys, bound to each hub
            ROLE,
            ROLE_BINDING,
        ],
        charts: &[],
    },
    Emits {
        component: "jupyterhub",
        kinds: &[
            NAMESPACE,
            HELM_RELEASE,
            PVC,
            ROLE,
            ROLE_BINDING,
            INGRESS_ROUTE,
            INGRESS,
            HTTP_ROUTE,
        ],
        charts: &["jupyterhub"],
    },
    Emits {
        component: "htcondor",
        kinds: &[k("v1", "ConfigMap"), DEPLOYMENT, SERVICE],
        charts: &[],
    },
    Emits {
        component: "dask",
        kinds: &[
            HELM_RELEASE,
            SERVICE_ACCOUNT,
            ROLE,
            ROLE_BINDING,
            DEPLOYMENT,
            SERVICE,
        ],
        charts: &["dask-gateway"],
    },
];

/// Every kind any component emits, once, in order.
pub fn all_kinds() -> Vec<Kind> {
    let mut kinds: Vec<Kind> = EMITTED
        .iter()
        .flat_map(|e| e.kinds.iter().copied())
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Every chart any component installs, once, in order.
pub fn all_charts() -> Vec<&'static str> {
    let mut charts: Vec<&str> = EMITTED
        .iter()
        .flat_map(|e| e.charts.iter().copied())
        .collect();
    charts.sort_unstable();
    charts.dedup();
    charts
}

/// What a component emits, by its template folder.
pub fn of(component: &str) -> Option<&'static Emits> {
    EMITTED.iter().find(|e| e.component == component)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_are_the_component_registrys() {
        // Until the kinds move into the registry's rows, the two tables name the same
        // components, in the same order.
        let registry: Vec<&str> = crate::site::COMPONENTS.iter().map(|c| c.name).collect();
        let here: Vec<&str> = EMITTED.iter().map(|e| e.component).collect();
        assert_eq!(here, registry);
    }

    #[test]
    fn components_are_listed_once_and_every_template_folder_has_a_row() {
        let mut names: Vec<&str> = EMITTED.iter().map(|e| e.component).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a component listed twice");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in std::fs::read_dir(&root).expect("templates/") {
            let entry = entry.expect("an entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && name != "common" {
                assert!(
                    of(&name).is_some(),
                    "templates/{name}/ has no row in EMITTED"
                );
            }
        }
        assert!(of(SEALED_SECRETS_COMPONENT).is_some_and(|e| e.kinds.contains(&SEALED_SECRET)));
    }

    #[test]
    fn the_registrys_custom_groups_are_among_the_kinds_listed_here() {
        // The registry's `kinds` are what a component emits for this site (Flux orders units
        // by them); this table is what its templates can emit at all. The first must be a part
        // of the second, or the catalog would lack a schema Flux's order relies on.
        let (site, _) = crate::validate::testing::site_with(&[], &[]);
        let mut seen = 0;
        for (c, at) in site.targets() {
            let listed = of(c.name).expect("a row");
            for group in (c.kinds)(&site, at) {
                seen += 1;
                assert!(
                    listed
                        .kinds
                        .iter()
                        .any(|k| k.api_version.split_once('/').map(|(g, _)| g) == Some(group)),
                    "{}: the registry names {group}, EMITTED lists no kind of it",
                    c.name
                );
            }
        }
        // The reference site emits Calico's, MetalLB's and Ceph's kinds, a bucket claim and
        // Traefik routes: the test saw them.
        assert!(seen >= 5, "{seen}");
    }
}
