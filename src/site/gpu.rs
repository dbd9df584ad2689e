//! The GPU stack: the NVIDIA GPU operator (driver, container toolkit, device plugin, GPU
//! feature discovery, MIG manager), installed when nodes have GPUs and the cluster does not
//! run a device plugin itself; and what sessions and Triton ask of it.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::components::{At, Capability, ClusterService, Need};
use super::types::DnsLabel;
use super::{Site, Spanned};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuOperator {
    pub namespace: DnsLabel,
    /// Install the NVIDIA driver as a container on the GPU nodes; false when the hosts
    /// have it (chart value `driver.enabled`).
    pub driver: bool,
    /// Install the NVIDIA container toolkit; false when the hosts' runtime has it
    /// (`toolkit.enabled`).
    pub toolkit: bool,
}

/// The operator's settings when `[gpu_operator]` is left out: the chart's defaults
/// (NVIDIA/gpu-operator@v26.7.0 `deployments/gpu-operator/values.yaml`: `driver.enabled`,
/// `toolkit.enabled` true) in the namespace NVIDIA's install guide uses.
fn default_operator() -> GpuOperator {
    GpuOperator {
        // SAFETY: a constant DNS label.
        namespace: "gpu-operator".parse().expect("a DNS label"),
        driver: true,
        toolkit: true,
    }
}

/// The ConfigMap of device plugin configurations (one per time-slicing share count).
pub const DEVICE_PLUGIN_CONFIG: &str = "device-plugin-config";

/// The device plugin configuration name for a share count, which GPU nodes select with the
/// label `nvidia.com/device-plugin.config` (k8s-device-plugin@v0.20.0
/// `cmd/config-manager/main.go` DefaultConfigLabel).
pub fn time_slicing_config(replicas: u32) -> String {
    format!("time-slicing-{replicas}")
}

impl Site {
    /// Whether any node has a GPU.
    pub fn has_gpus(&self) -> bool {
        self.nodes.iter().any(|n| !n.gpus.is_empty())
    }

    /// Whether the cluster's owner runs something the site relies on.
    pub fn cluster_provides(&self, s: ClusterService) -> bool {
        self.spec
            .site
            .cluster_provides
            .iter()
            .any(|p| *p.get_ref() == s)
    }

    /// The GPU operator's settings, when the site runs it.
    pub fn gpu_operator(&self) -> Option<GpuOperator> {
        if !self.has_gpus() || self.cluster_provides(ClusterService::GpuDevicePlugin) {
            return None;
        }
        Some(
            self.spec
                .gpu_operator
                .clone()
                .unwrap_or_else(default_operator),
        )
    }
}

pub(super) fn enabled(site: &Site, _: At<'_>) -> bool {
    site.gpu_operator().is_some()
}

/// The operator's namespace and the time-slicing configurations the nodes use.
pub(super) fn context(site: &Site) -> Map<String, Value> {
    let Some(op) = site.gpu_operator() else {
        return Map::new();
    };
    let shares: BTreeSet<u32> = site
        .nodes
        .iter()
        .flat_map(|n| &n.gpus)
        .filter_map(|g| g.time_slicing.as_ref().map(|t| *t.get_ref()))
        .collect();
    let configs: Vec<Value> = shares
        .iter()
        .map(|r| json!({"name": time_slicing_config(*r), "replicas": r}))
        .collect();
    Map::from_iter([(
        "gpu_operator".to_owned(),
        json!({
            "namespace": op.namespace,
            "driver": op.driver,
            "toolkit": op.toolkit,
            "time_slicing": configs,
            "mig": site.nodes.iter().flat_map(|n| &n.gpus).any(|g| g.mig.is_some()),
            "config_map": DEVICE_PLUGIN_CONFIG,
        }),
    )])
}

/// A GPU request needs a device plugin: the operator here, or the cluster's.
pub(super) fn device_plugin_need(
    file: crate::sources::FileId,
    at: &Spanned<impl Sized>,
    who: &str,
) -> Need {
    Need {
        capability: Capability::GpuDevicePlugin,
        at: Some((file, at.span())),
        why: format!("{who} asks for GPUs, which only a device plugin offers"),
        fix: "give the GPU nodes their `gpus` (the `gpu-operator` component then runs), or declare the cluster's: [site] cluster_provides = [\"gpu-device-plugin\"]".to_owned(),
    }
}
