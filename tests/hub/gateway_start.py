"""Start a generated dask-gateway the way its chart's pods do, up to the first Kubernetes call.

Runs inside a virtual environment with `dask-gateway-server` at the chart's version and the
server image's frozen dependencies, as `python gateway_start.py SANDBOX`. SANDBOX holds
`request.json`: the merged chart values, the release name and namespace, a test user.

The chart writes the two config files from its values with Go templates; this file writes
them the same way, line for line (dask/dask-gateway@2026.3.0
`resources/helm/dask-gateway/templates/gateway/configmap.yaml` and
`templates/controller/configmap.yaml`, names from `templates/_helpers.tpl`), then runs them
with the server's own loader:

1. the api pod: `DaskGateway.initialize(["--config", …])` builds the authenticator and the
   KubeBackend (traitlets validation); `process_cluster_options` builds the KubeClusterConfig
   a new cluster would get (cores, memory limits, image, environment) and
   `make_cluster_object` the DaskCluster the backend would create;
2. the controller pod: `KubeController.initialize(["--config", …])`, then `make_pod` for the
   scheduler and a worker from that DaskCluster, as the controller would submit them.

No Kubernetes API is called: backend and controller `setup()` (which start informers) never
run. Prints one JSON document: {"ok": true, ...} or {"ok": false, "stage", "error"}.
"""

import asyncio
import json
import os
import sys
import traceback

import podpaths


def trunc63(s):
    return s[:63].rstrip("-")


def fullname(values, release):
    """`dask-gateway.fullname`."""
    if values.get("fullnameOverride"):
        return trunc63(values["fullnameOverride"])
    name = values.get("nameOverride") or "dask-gateway"
    return trunc63(release if name in release else f"{release}-{name}")


def gateway_config(values, release, namespace):
    """`templates/gateway/configmap.yaml` `dask_gateway_config.py`."""
    gateway = dict(values["gateway"])
    extra = gateway.pop("extraConfig", None)
    auth = gateway.get("auth") or {}
    if (auth.get("jupyterhub") or {}).get("apiToken"):
        auth = dict(auth)
        auth["jupyterhub"] = {k: v for k, v in auth["jupyterhub"].items() if k != "apiToken"}
        gateway["auth"] = auth
    properties = json.dumps({"gateway": gateway}, separators=(",", ":"), sort_keys=True)
    full = fullname(values, release)
    api = trunc63(f"api-{full}")
    text = f'''import os
import json
import sys

# Add this directory to path to support extension modules
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

_PROPERTIES = json.loads({json.dumps(properties)})

def get_property(key, default=None):
    """Read a property from the configured helm values."""
    value = _PROPERTIES
    for key2 in key.split("."):
        if not isinstance(value, dict) or key2 not in value:
            return default
        value = value[key2]
    return value

c.DaskGateway.log_level = "{values["gateway"]["loglevel"]}"

# Configure addresses
c.DaskGateway.address = ":8000"
c.KubeBackend.api_url = 'http://{api}.{namespace}:8000/api'

# Configure the backend
c.DaskGateway.backend_class = "dask_gateway_server.backends.kubernetes.KubeBackend"
c.KubeBackend.gateway_instance = "{full}"

# Configure the dask cluster image
image_name = get_property("gateway.backend.image.name")
if image_name:
    image_tag = get_property("gateway.backend.image.tag")
    c.KubeClusterConfig.image = (
        "%s:%s" % (image_name, image_tag) if image_tag else image_name
    )
    c.KubeClusterConfig.image_pull_secrets = get_property("gateway.backend.imagePullSecrets")

# Forward dask cluster configuration
for field, prop_name in [
    # Scheduler config
    ("scheduler_cores", "scheduler.cores.request"),
    ("scheduler_cores_limit", "scheduler.cores.limit"),
    ("scheduler_memory", "scheduler.memory.request"),
    ("scheduler_memory_limit", "scheduler.memory.limit"),
    ("scheduler_extra_container_config", "scheduler.extraContainerConfig"),
    ("scheduler_extra_pod_config", "scheduler.extraPodConfig"),
    # Worker config
    ("worker_cores", "worker.cores.request"),
    ("worker_cores_limit", "worker.cores.limit"),
    ("worker_memory", "worker.memory.request"),
    ("worker_memory_limit", "worker.memory.limit"),
    ("worker_threads", "worker.threads"),
    ("worker_extra_container_config", "worker.extraContainerConfig"),
    ("worker_extra_pod_config", "worker.extraPodConfig"),
    # Additional fields
    ("image_pull_policy", "image.pullPolicy"),
    ("environment", "environment"),
    ("namespace", "namespace"),
]:
    value = get_property("gateway.backend." + prop_name)
    if value is not None:
        setattr(c.KubeClusterConfig, field, value)

# Authentication
auth_type = get_property("gateway.auth.type")
if auth_type == "simple":
    c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"
    password = get_property("gateway.auth.simple.password")
    if password is not None:
        c.SimpleAuthenticator.password = password
elif auth_type == "kerberos":
    c.DaskGateway.authenticator_class = "dask_gateway_server.auth.KerberosAuthenticator"
    keytab = get_property("gateway.auth.kerberos.keytab")
    if keytab is not None:
        c.KerberosAuthenticator.keytab = keytab
elif auth_type == "jupyterhub":
    c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
    api_url = get_property("gateway.auth.jupyterhub.apiUrl")
    if api_url is None:
        try:
            api_url = "http://{{HUB_SERVICE_HOST}}:{{HUB_SERVICE_PORT}}/hub/api".format(**os.environ)
        except Exception:
            raise ValueError(
                "Failed to infer JupyterHub API url from environment, "
                "please specify `gateway.auth.jupyterhub.apiUrl` in "
                "your config file"
            )
    c.JupyterHubAuthenticator.jupyterhub_api_url = api_url
    service_name = get_property("gateway.auth.jupyterhub.jupyterhubServiceName")
    if service_name is not None:
        c.JupyterHubAuthenticator.jupyterhub_service_name = service_name
elif auth_type == "custom":
    auth_cls = get_property("gateway.auth.custom.class")
    c.DaskGateway.authenticator_class = auth_cls
    auth_cls_name = auth_cls.rsplit('.', 1)[-1]
    auth_config = c[auth_cls_name]
    auth_config.update(get_property("gateway.auth.custom.config") or {{}})
else:
    raise ValueError("Unknown authenticator type %r" % auth_type)
'''
    if extra:
        if isinstance(extra, str):
            text += "\n# From gateway.extraConfig\n" + extra + "\n"
        else:
            for key in sorted(extra):
                text += f"\n# From gateway.extraConfig.{key}\n" + extra[key] + "\n"
    return text


def controller_config(values, release, namespace):
    """`templates/controller/configmap.yaml` `dask_gateway_config.py`."""
    full = fullname(values, release)
    api = trunc63(f"api-{full}")
    ctl = values["controller"]
    text = f"""# Configure addresses
c.KubeController.address = ":8000"
c.KubeController.api_url = 'http://{api}.{namespace}:8000/api'
c.KubeController.gateway_instance = '{full}'
c.KubeController.proxy_prefix = "{values["gateway"]["prefix"]}"
c.KubeController.proxy_web_middlewares = [
  {{"name": '{trunc63("clusters-prefix-" + full)}',
  "namespace": '{namespace}'}}
]
c.KubeController.log_level = "{ctl["loglevel"]}"
c.KubeController.completed_cluster_max_age = {ctl["completedClusterMaxAge"]}
c.KubeController.completed_cluster_cleanup_period = {ctl["completedClusterCleanupPeriod"]}
c.KubeController.backoff_base_delay = {ctl["backoffBaseDelay"]}
c.KubeController.backoff_max_delay = {ctl["backoffMaxDelay"]}
c.KubeController.k8s_api_rate_limit = {ctl["k8sApiRateLimit"]}
c.KubeController.k8s_api_rate_limit_burst = {ctl["k8sApiRateLimitBurst"]}
"""
    if str(values["traefik"]["service"]["ports"]["tcp"]["port"]) == "web":
        text += 'c.KubeController.proxy_tcp_entrypoint = "web"\n'
    return text


async def start(sandbox, req, report):
    from dask_gateway_server.app import DaskGateway
    from dask_gateway_server.backends.kubernetes.controller import KubeController
    from dask_gateway_server.models import User as ModelUser
    from dask_gateway_server.utils import FrozenAttrDict

    values, release, namespace = req["values"], req["release"], req["namespace"]
    etc = os.path.join(sandbox, "etc", "dask-gateway")
    os.makedirs(etc)
    api_file = os.path.join(etc, "dask_gateway_config.py")
    with open(api_file, "w") as f:
        f.write(gateway_config(values, release, namespace))
    ctl_dir = os.path.join(sandbox, "etc", "dask-gateway-controller")
    os.makedirs(ctl_dir)
    ctl_file = os.path.join(ctl_dir, "dask_gateway_config.py")
    with open(ctl_file, "w") as f:
        f.write(controller_config(values, release, namespace))

    report["stage"] = "api initialize"
    gateway = DaskGateway()
    gateway.initialize(["--config", api_file])
    backend = gateway.backend
    report["backend"] = type(backend).__module__ + "." + type(backend).__name__
    report["authenticator"] = (
        type(gateway.authenticator).__module__ + "." + type(gateway.authenticator).__name__
    )

    report["stage"] = "cluster options"
    user = ModelUser(req["user"], groups=[], admin=False)
    options, config = await backend.process_cluster_options(user, {})
    cluster = backend.make_cluster_object(user.name, options, config)
    cluster["metadata"]["namespace"] = config.namespace or namespace
    cluster["metadata"]["uid"] = "00000000-0000-0000-0000-000000000000"
    report["cluster_config"] = cluster["spec"]["config"]

    report["stage"] = "controller initialize"
    controller = KubeController()
    controller.initialize(["--config", ctl_file])

    report["stage"] = "pods"
    frozen = FrozenAttrDict(cluster["spec"]["config"])
    name = cluster["metadata"]["name"]
    ns = cluster["metadata"]["namespace"]
    report["scheduler_pod"] = controller.make_pod(ns, name, frozen)
    report["worker_pod"] = controller.make_pod(ns, name, frozen, is_worker=True)
    report["stage"] = "done"


def main():
    sandbox = os.path.realpath(sys.argv[1])
    with open(os.path.join(sandbox, "request.json")) as f:
        req = json.load(f)
    # The pod's service account volume: the backend takes its namespace from there
    # (`KubeClusterConfig._default_namespace`).
    account = os.path.join(sandbox, "serviceaccount")
    os.makedirs(account)
    with open(os.path.join(account, "namespace"), "w") as f:
        f.write(req["namespace"])
    podpaths.redirect({"/var/run/secrets/kubernetes.io/serviceaccount": account})
    report = {"ok": False}
    try:
        asyncio.run(start(sandbox, req, report))
        report["ok"] = True
    except BaseException as e:
        report["error"] = f"{type(e).__name__}: {e}"
        report["traceback"] = traceback.format_exc()
    sys.stdout.flush()
    print("\n@@REPORT@@" + json.dumps(report, default=str))


if __name__ == "__main__":
    main()
