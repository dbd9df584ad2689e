//! Tenant mode: a facility that owns only namespaces on a cluster someone else runs. The
//! tree then holds no cluster-scoped object (Namespaces only when the owner allows it), its
//! Flux objects live in the tenant's own namespace, and charts install no CRDs; the rules
//! `tenant_scope` and `tenant_namespaces` check the rendered objects against that.

use super::types::{DnsLabel, DnsSubdomain};
use super::{Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// The namespace the tree's Flux objects live in (GitRepository, HelmRepositories,
    /// Kustomizations); the cluster's owner points a Flux Kustomization at `out/clusters/<site>`
    /// in it.
    #[schemars(with = "DnsLabel")]
    pub namespace: Spanned<DnsLabel>,
    /// Every other namespace the tenant owns; objects may go only there and in `namespace`.
    #[serde(default)]
    #[schemars(with = "Vec<DnsLabel>")]
    pub namespaces: Vec<Spanned<DnsLabel>>,
    /// Whether the tree may create the tenant's namespaces (Namespace objects); off by
    /// default, as a tenant is usually given its namespaces.
    #[serde(default)]
    pub create_namespaces: bool,
    /// The ServiceAccount (in each namespace) that Flux impersonates to apply this tree and
    /// install its charts (`spec.serviceAccountName`, Flux multi-tenancy lockdown).
    pub service_account: Option<DnsSubdomain>,
}

impl Tenant {
    /// Whether the tenant owns a namespace.
    pub fn owns(&self, ns: &str) -> bool {
        self.namespace.get_ref().as_str() == ns
            || self.namespaces.iter().any(|n| n.get_ref().as_str() == ns)
    }
}

impl Site {
    pub fn tenant(&self) -> Option<&Tenant> {
        self.spec.tenant.as_ref()
    }

    /// The namespace of the tree's Flux objects: the tenant's, or `flux-system`.
    pub fn flux_namespace(&self) -> &str {
        self.tenant()
            .map_or(FLUX_NAMESPACE, |t| t.namespace.get_ref().as_str())
    }

    /// Whether templates emit Namespace objects.
    pub fn emits_namespaces(&self) -> bool {
        self.tenant().is_none_or(|t| t.create_namespaces)
    }
}

/// Where `flux bootstrap` installs Flux and its objects on a cluster the site owns.
pub const FLUX_NAMESPACE: &str = "flux-system";
