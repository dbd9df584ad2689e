"""Every generated dask-gateway starts under dask-gateway-server at the chart's version and
gives a new cluster's workers what the site says.

For each dask-gateway HelmRelease of each tree: the chart's values merged as Helm does,
then gateway_start.py writes the api and controller config files as the chart does and
runs them with the server's own classes (authenticator, KubeBackend, KubeClusterConfig,
KubeController). The api pod's environment is what the chart's Deployment gives it: the
hub's service token from Secret `hub`, the namespace in the service account volume, and
no hub service-link variables (the gateway may start before the hub's Service exists).
"""

import re
import tempfile
from pathlib import Path

import pytest

from conftest import SCHEMAS, releases, venv_python
from helm import merged_values
from runner import run_start
from test_hub_start import quantity_bytes

GATEWAYS = releases("dask-gateway")
USER = "jane.doe@example.org"


def start_gateway(release):
    import json

    version = release["spec"]["chart"]["spec"]["version"]
    values = merged_values(SCHEMAS / "charts" / "dask-gateway" / "values.yaml", release)
    sandbox = Path(tempfile.mkdtemp(prefix="casa-gateway-"))
    meta = release["metadata"]
    request = {
        "values": values,
        "release": release["spec"].get("releaseName") or meta["name"],
        "namespace": release["spec"].get("targetNamespace") or meta["namespace"],
        "user": USER,
    }
    (sandbox / "request.json").write_text(json.dumps(request))
    env = {"JUPYTERHUB_API_TOKEN": "0" * 64, "HOME": str(sandbox)}
    what = f"dask-gateway in {meta['namespace']} (chart {version})"
    return run_start(venv_python(f"dask-gateway-{version}"), "gateway_start.py", sandbox, env, what)


@pytest.fixture(scope="module", params=GATEWAYS, ids=[g[0] for g in GATEWAYS])
def started(request):
    _, tree, _, release = request.param
    return tree, release, start_gateway(release)


def test_the_gateway_starts_with_the_hub_authenticator_and_the_kubernetes_backend(started):
    _, release, report = started
    assert report["stage"] == "done"
    assert report["authenticator"] == "dask_gateway_server.auth.JupyterHubAuthenticator"
    assert report["backend"] == "dask_gateway_server.backends.kubernetes.backend.KubeBackend"
    assert report["cluster_config"]["namespace"] == release["metadata"]["namespace"]


def test_workers_get_the_sites_size_and_image(started):
    tree, release, report = started
    dask = tree.site_toml()["dask"]
    instance = tree.instance_for(release["metadata"]["namespace"])
    config = report["cluster_config"]
    assert config["worker_memory_limit"] == quantity_bytes(dask["worker_memory"])
    assert config["worker_cores_limit"] == dask["worker_cores"]
    assert config["cluster_max_workers"] == instance["dask"].get("max_workers", dask["max_workers"])
    worker = report["worker_pod"]["spec"]["containers"][0]
    assert worker["resources"]["limits"]["memory"] == str(quantity_bytes(dask["worker_memory"]))
    assert re.fullmatch(r"[^:@]+(:[^:@/]+)?", worker["image"]), worker["image"]
    env = {e["name"]: e.get("value") for e in worker["env"]}
    assert env["COFFEA_CASA_SIDECAR"] == "1"
