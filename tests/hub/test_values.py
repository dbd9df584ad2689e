"""No dead values: every key a HelmRelease sets exists in its chart's `values.yaml` at the
pinned version (`../shared/schemas/charts/<chart>[/<version>]/values.yaml`), or lies under
a map the chart passes through as free-form (FREE_FORM, one table for every chart).

A key the chart does not know is ignored by Helm where the chart ships no schema (rook-ceph,
dex, cvmfs-csi, sealed-secrets) and may be ignored by the program where it does: either way
the setting is lost without a word. Lists are leaves: their items are Kubernetes objects or
program settings, checked by the schemas and by the start tests.
"""

import pytest

from conftest import SCHEMAS, trees
from helm import load_yaml

# chart -> value paths whose keys are free (maps handed on as they are: labels, env, program
# config, Kubernetes objects). Sources: the charts' values.schema.yaml / templates at the
# pinned tags, as gathered in /work/research/hub.md §7 and cluster.md §11.
FREE_FORM = {
    "jupyterhub": {
        # traitlets pass-through, JupyterHub services, env maps, files, labels
        "hub.config", "hub.services", "hub.extraEnv", "hub.extraConfig", "hub.extraFiles",
        "hub.loadRoles", "hub.templateVars", "hub.nodeSelector", "hub.resources",
        "hub.annotations", "hub.labels", "hub.service.annotations",
        "hub.serviceAccount.annotations", "hub.db.pvc.annotations", "hub.db.pvc.selector",
        "proxy.service.annotations", "proxy.service.labels", "proxy.annotations",
        "proxy.labels", "proxy.chp.extraEnv", "proxy.traefik.extraEnv",
        "singleuser.extraEnv", "singleuser.extraLabels", "singleuser.extraAnnotations",
        "singleuser.extraFiles", "singleuser.nodeSelector", "singleuser.extraPodConfig",
        "singleuser.storage.extraLabels", "singleuser.extraResource.guarantees",
        "singleuser.extraResource.limits", "custom", "global",
    },
    "dask-gateway": {
        "gateway.extraConfig", "gateway.backend.environment",
        "gateway.backend.scheduler.extraPodConfig",
        "gateway.backend.scheduler.extraContainerConfig",
        "gateway.backend.worker.extraPodConfig", "gateway.backend.worker.extraContainerConfig",
        "gateway.auth.custom.config", "gateway.annotations", "gateway.nodeSelector",
        "gateway.resources", "gateway.affinity", "controller.annotations",
        "controller.nodeSelector", "controller.resources", "traefik.annotations",
        "traefik.nodeSelector", "traefik.resources", "traefik.service.annotations",
        "traefik.service.spec", "global",
    },
    "traefik": {
        "affinity", "nodeSelector", "resources", "commonLabels", "certificatesResolvers",
        "tlsOptions", "tlsStore", "service.annotations", "service.annotationsTCP",
        "service.annotationsUDP", "service.labels", "service.spec",
        "service.additionalServices", "deployment.annotations", "deployment.labels",
        "deployment.podAnnotations", "deployment.podLabels", "podSecurityContext",
        "securityContext", "persistence.annotations", "experimental.plugins",
        "providers.file.content", "ports",
    },
    "dex": {
        "config", "env", "commonLabels", "serviceAccount.annotations",
        "deploymentAnnotations", "podAnnotations", "podLabels", "podSecurityContext",
        "securityContext", "service.annotations", "ingress.annotations", "resources",
        "nodeSelector", "affinity", "strategy",
    },
    "cvmfs-csi": {
        "extraConfigMaps", "extraMetaLabels", "nodeplugin.nodeSelector",
        "nodeplugin.affinity", "nodeplugin.podSecurityContext", "controllerplugin.nodeSelector",
        "controllerplugin.affinity", "cache.local.volumeSpec", "cache.alien.volumeSpec",
    },
    "rook-ceph": {
        "nodeSelector", "operatorPodLabels", "annotations", "resources",
        "containerSecurityContext", "csi.serviceMonitor.labels", "discover.resources",
        "monitoring",
    },
    "sealed-secrets": {
        "commonAnnotations", "commonLabels", "podLabels", "podAnnotations", "resources",
        "affinity", "nodeSelector", "customLivenessProbe", "customReadinessProbe",
        "customStartupProbe", "privateKeyAnnotations", "privateKeyLabels",
        "service.annotations", "ingress.annotations", "serviceAccount.annotations",
        "serviceAccount.labels", "rbac.labels",
    },
    "gpu-operator": {
        # NVIDIA/gpu-operator@v26.7.0 deployments/gpu-operator/values.yaml: env lists,
        # labels, annotations and Kubernetes objects handed to the operands as they are
        "daemonsets.labels", "daemonsets.annotations", "operator.annotations",
        "operator.resources", "operator.nodeSelector", "operator.affinity",
        "devicePlugin.config.data", "migManager.config.data", "node-feature-discovery",
    },
    # Rook's recommended values (rook@v1.20.6:deploy/charts/ceph-csi-drivers/values.yaml)
    # set one key the chart reads but gives no default: templates/operatorConfig.yaml
    # `controllerPlugin.priorityClassName` (ceph-csi-operator@v1.0.4).
    "ceph-csi-drivers": {"operatorConfig.driverSpecDefaults.controllerPlugin.priorityClassName"},
    "metallb": {
        "configInLine", "controller.resources", "controller.nodeSelector",
        "controller.affinity", "controller.podAnnotations", "controller.labels",
        "speaker.resources", "speaker.nodeSelector", "speaker.affinity",
        "speaker.podAnnotations", "speaker.labels", "speaker.securityContext",
    },
}  # fmt: skip


C = "ceph/ceph-csi-operator@v1.0.4:deploy/charts/ceph-csi-drivers/values.yaml"
G = "NVIDIA/gpu-operator@v26.7.0:deployments/gpu-operator/values.yaml"

# Charts whose values.yaml at the pinned version is not in the shared set: every key path the
# templates set, as read in the upstream file at the pinned tag (repo@tag:path:line). A path
# a template starts to set that is not here fails the test until someone reads it upstream.
UPSTREAM_KEYS = {
    ("ceph-csi-drivers", "1.0.4"): {
        # the chart is published with version = tag (.github/workflows/publish-helm-charts.yaml)
        "operatorConfig.namespace": f"{C}:37",
        "operatorConfig.driverSpecDefaults.imageSet.name": f"{C}:57",
        "operatorConfig.driverSpecDefaults.nodePlugin.priorityClassName": f"{C}:87",
        # a map upstream (no priorityClassName default in it: FREE_FORM's row says why we set one)
        "operatorConfig.driverSpecDefaults.controllerPlugin": f"{C}:107",
        "drivers.rbd.name": f"{C}:131",
        "drivers.rbd.enabled": f"{C}:133",
        "drivers.nvmeof.enabled": f"{C}:216",
        "drivers.cephfs.name": f"{C}:297",
        "drivers.cephfs.enabled": f"{C}:299",
        "drivers.nfs.enabled": f"{C}:382",
    },
    ("gpu-operator", "v26.7.0"): {
        "driver.enabled": f"{G}:138",
        "toolkit.enabled": f"{G}:230",
    },
}

# Charts with neither a values.yaml in the shared set nor a row above: not checked here.
UNCHECKED = {
    "cilium": "no cilium 1.19.4 values.yaml here (the stored repository snapshot is of 1.7)",
}


def chart_defaults(chart, version):
    versioned = SCHEMAS / "charts" / chart / version / "values.yaml"
    path = versioned if versioned.exists() else SCHEMAS / "charts" / chart / "values.yaml"
    if path.exists():
        return load_yaml(path)
    assert (chart, version) in UPSTREAM_KEYS, (
        f"no values.yaml for chart {chart} {version} under {SCHEMAS} and no UPSTREAM_KEYS row"
    )
    tree = {}
    for key in UPSTREAM_KEYS[(chart, version)]:
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = None
    return tree


def dead_keys(values, defaults, free, prefix=""):
    """Paths in `values` that `defaults` does not have and no free-form path covers."""
    dead = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if path in free:
            continue
        if not isinstance(defaults, dict) or key not in defaults:
            dead.append(path)
        elif isinstance(value, dict):
            dead.extend(dead_keys(value, defaults[key], free, path + "."))
    return dead


RELEASES = [(f"{tree.name}:{rel}", obj) for tree in trees() for rel, obj in tree.helm_releases()]


@pytest.mark.parametrize("release", [r[1] for r in RELEASES], ids=[r[0] for r in RELEASES])
def test_every_value_is_a_key_of_the_chart(release):
    spec = release["spec"]["chart"]["spec"]
    chart, version = spec["chart"], spec["version"]
    if chart in UNCHECKED:
        pytest.skip(f"{chart} {version}: {UNCHECKED[chart]}")
    assert chart in FREE_FORM, f"chart {chart} has no row in FREE_FORM"
    dead = dead_keys(release["spec"].get("values") or {}, chart_defaults(chart, version),
                     FREE_FORM[chart])  # fmt: skip
    assert not dead, f"{chart} {version} has no such values: {dead}"


def test_every_chart_of_the_trees_is_covered():
    charts = {
        obj["spec"]["chart"]["spec"]["chart"] for tree in trees() for _, obj in tree.helm_releases()
    }
    assert charts <= set(FREE_FORM) | set(UNCHECKED), charts - set(FREE_FORM) - set(UNCHECKED)
    assert {"jupyterhub", "dask-gateway", "traefik", "dex"} <= charts


def test_an_unknown_key_is_found_and_a_free_form_one_is_not():
    defaults = chart_defaults("jupyterhub", "4.4.0")
    free = FREE_FORM["jupyterhub"]
    values = {
        "singleuser": {"memory": {"limit": "1G", "limitt": "2G"}, "gid": 100},
        "hub": {"config": {"Anything": {"goes": 1}}, "extraEnv": {"X": "y"}},
    }
    assert dead_keys(values, defaults, free) == [
        "singleuser.memory.limitt",
        "singleuser.gid",
    ]
