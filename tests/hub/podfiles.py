"""The files and environment a z2jh hub pod starts with, made from a HelmRelease.

Each piece follows the chart's template at the pinned version (paths are in
`../shared/fixtures/z2jh/<version>/jupyterhub/`, from jupyterhub/zero-to-jupyterhub-k8s
at that tag):

- `templates/hub/secret.yaml`: Secret `hub`, mounted at `secret/`: `values.yaml` = the
  merged values plus `Chart` {Name, Version, AppVersion (4.x)} and `Release` {Name,
  Namespace, Service}; `hub.services.<key>.apiToken` per service; the three generated
  secrets in the formats of `templates/hub/_helpers-passwords.tpl`; `hub.extraFiles`.
- `templates/hub/configmap.yaml`: ConfigMap `hub`, mounted at `config/`: the resource names
  of `templates/_helpers-names.tpl` `jupyterhub.name-templates`, and the `files/hub/*`
  scripts (`jupyterhub_config.py`, `z2jh.py`, mounted by subPath beside them).
- `templates/hub/deployment.yaml`: the container's environment (`PYTHONUNBUFFERED`,
  `HELM_RELEASE_NAME`, `POD_NAMESPACE`, `CONFIGPROXY_AUTH_TOKEN`, then `hub.extraEnv`
  through `templates/_helpers.tpl` `jupyterhub.extraEnv`), working dir `/srv/jupyterhub`.
- Kubernetes adds service-link variables (`<SERVICE>_SERVICE_HOST/PORT`) for the Services
  of the namespace that exist when the pod starts; `jupyterhub_config.py` reads those of
  `hub` and `proxy-api` (`get_name_env`).

- `hub.extraVolumes` Secret volumes and their `hub.extraVolumeMounts`: the files laid out
  under `mounts/`, with the values the test plants (`planted`) or stand-ins; `mounts.json`
  maps each pod path to its folder.

The Kubernetes API is the test's own (fakekube.py, started by the start script on loopback,
which rewrites the kubeconfig written here).
"""

import json
import os
import secrets
import shutil
import string

import yaml

from helm import merged_values


class ChartRenderError(Exception):
    """What `helm template` would refuse before any pod starts."""


def rand_hex(n):
    return secrets.token_hex(n // 2)


def rand_alnum(n):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def fullname(values, chart_name, release_name):
    """`jupyterhub.fullname` (templates/_helpers-names.tpl)."""
    override = values.get("fullnameOverride")
    if isinstance(override, str):
        return override
    name = values.get("nameOverride") or chart_name
    return release_name if name in release_name else f"{release_name}-{name}"


def name_templates(values, chart_name, release_name, chart_version):
    """`jupyterhub.name-templates`: what `get_name()` returns for each short name."""
    full = fullname(values, chart_name, release_name)
    dash = f"{full}-" if full else ""
    hub = values["hub"]
    proxy = values["proxy"]
    sched = values["scheduling"]["userScheduler"]
    hook = values["prePuller"]["hook"]

    def sa(spec, default_name):
        if spec.get("create"):
            return spec.get("name") or default_name
        return spec.get("name") or "default"

    existing = hub.get("existingSecret") or ""
    names = {
        "fullname": full,
        "fullname-dash": dash,
        "hub": f"{dash}hub",
        "hub-serviceaccount": sa(hub["serviceAccount"], f"{dash}hub"),
        "hub-existing-secret": existing,
        "hub-existing-secret-or-default": existing or f"{dash}hub",
        "hub-pvc": f"{dash}hub-db-dir",
        "proxy": f"{dash}proxy",
        "proxy-api": f"{dash}proxy-api",
        "proxy-http": f"{dash}proxy-http",
        "proxy-public": f"{dash}proxy-public",
        "proxy-public-tls": f"{dash}proxy-public-tls-acme",
        "proxy-public-manual-tls": f"{dash}proxy-public-manual-tls",
        "autohttps": f"{dash}autohttps",
        "autohttps-serviceaccount": sa(proxy["traefik"]["serviceAccount"], f"{dash}autohttps"),
        "user-scheduler-deploy": f"{dash}user-scheduler",
        "user-scheduler-serviceaccount": sa(sched["serviceAccount"], f"{dash}user-scheduler"),
        "user-scheduler-lock": f"{dash}user-scheduler-lock",
        "user-placeholder": f"{dash}user-placeholder",
        "image-puller-priority": f"{dash}image-puller"
        if full
        else f"{release_name}-image-puller-priority",
        "hook-image-awaiter": f"{dash}hook-image-awaiter",
        "hook-image-awaiter-serviceaccount": sa(
            hook["serviceAccount"], f"{dash}hook-image-awaiter"
        ),
        "hook-image-puller": f"{dash}hook-image-puller",
        "continuous-image-puller": f"{dash}continuous-image-puller",
        "singleuser": f"{dash}singleuser",
        "image-pull-secret": f"{dash}image-pull-secret",
        "ingress": full or "jupyterhub",
        "priority": full or f"{release_name}-default-priority",
        "user-placeholder-priority": f"{dash}user-placeholder"
        if full
        else f"{release_name}-user-placeholder-priority",
        "user-scheduler": f"{dash}user-scheduler" if full else f"{release_name}-user-scheduler",
    }
    if not chart_version.startswith("3."):
        names["hook-image-puller-serviceaccount"] = (
            hook.get("serviceAccountImagePuller", {}).get("name") or f"{dash}hook-image-puller"
        )
        names["continuous-image-puller-serviceaccount"] = (
            values["prePuller"]["continuous"].get("serviceAccount", {}).get("name")
            or f"{dash}continuous-image-puller"
        )
    return names


def extra_env(env, where, secret_values):
    """`jupyterhub.extraEnv`: a string is a value, a map is an entry with `name` added,
    anything else fails the render. Secret references resolve to `secret_values`."""
    out = {}
    items = env.items() if isinstance(env, dict) else [(e.get("name"), e) for e in env]
    for name, value in items:
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, dict):
            if "value" in value:
                out[name] = str(value["value"])
            else:
                ref = value.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    raise ChartRenderError(
                        f"{where}.{name}: only secretKeyRef is resolved here, got {value!r}"
                    )
                out[name] = secret_values(ref["name"], ref["key"])
        else:
            raise ChartRenderError(
                f"?.extraEnv.{name} had an unexpected type ({type(value).__name__})"
            )
    return out


def stand_in_secret(name, key):
    """A value for a Secret the test has no plaintext of (the tree holds only ciphertext)."""
    return f"test-value-of-{name}-{key}"


def secret_volume_files(values, sandbox, secret_value):
    """Lays out the hub's Secret volumes (hub.extraVolumes with hub.extraVolumeMounts) and
    returns {mount path in the pod: folder}."""
    volumes = {v["name"]: v for v in values["hub"].get("extraVolumes") or []}
    mounts = {}
    for mount in values["hub"].get("extraVolumeMounts") or []:
        volume = volumes.get(mount["name"])
        if volume is None or "secret" not in volume:
            continue
        secret = volume["secret"]
        folder = os.path.join(sandbox, "mounts", mount["name"])
        os.makedirs(folder)
        items = secret.get("items")
        if not items:
            raise ChartRenderError(f"hub.extraVolumes.{mount['name']}: give the items laid out")
        for item in items:
            with open(os.path.join(folder, item["path"]), "wb") as f:
                f.write(secret_value(secret["secretName"], item["key"]))
        mounts[mount["mountPath"]] = folder
    return mounts


def make_sandbox(sandbox, fixture_dir, release, run, planted=None):
    """Lays out SANDBOX (the pod's /usr/local/etc/jupyterhub) and returns the pod's env.
    `planted`: {(Secret name, key): bytes} for the Secrets the hub pod mounts."""
    meta = release["metadata"]
    chart_spec = release["spec"]["chart"]["spec"]
    version = chart_spec["version"]
    chart_dir = os.path.join(fixture_dir, "jupyterhub")
    with open(os.path.join(chart_dir, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    values = merged_values(os.path.join(chart_dir, "values.yaml"), release)
    # In git the chart's own image tags read `set-by-chartpress`; the published chart
    # carries its version there (chartpress), as it does in Chart.yaml.
    values = json.loads(json.dumps(values).replace('"set-by-chartpress"', json.dumps(version)))

    release_name = release["spec"].get("releaseName") or meta["name"]
    namespace = release["spec"].get("targetNamespace") or meta["namespace"]
    chart_values = {"Name": chart["name"], "Version": version}
    if not version.startswith("3."):
        chart_values["AppVersion"] = chart["appVersion"]
    secret_values = dict(values)
    secret_values["Chart"] = chart_values
    secret_values["Release"] = {
        "Name": release_name,
        "Namespace": namespace,
        "Service": "Helm",
    }

    os.makedirs(os.path.join(sandbox, "secret"))
    os.makedirs(os.path.join(sandbox, "config"))
    os.makedirs(os.path.join(sandbox, "srv"))
    for script in ("jupyterhub_config.py", "z2jh.py"):
        shutil.copyfile(
            os.path.join(chart_dir, "files", "hub", script), os.path.join(sandbox, script)
        )
    names = name_templates(values, chart["name"], release_name, version)
    for key, value in names.items():
        with open(os.path.join(sandbox, "config", key), "w") as f:
            f.write(value)

    secret = {"values.yaml": yaml.safe_dump(secret_values)}
    hub_config = values["hub"].get("config") or {}
    secret["hub.config.ConfigurableHTTPProxy.auth_token"] = (
        hub_config.get("ConfigurableHTTPProxy", {}).get("auth_token")
        or values["proxy"].get("secretToken")
        or rand_alnum(64)
    )
    secret["hub.config.JupyterHub.cookie_secret"] = (
        hub_config.get("JupyterHub", {}).get("cookie_secret")
        or values["hub"].get("cookieSecret")
        or rand_hex(64)
    )
    secret["hub.config.CryptKeeper.keys"] = ";".join(
        hub_config.get("CryptKeeper", {}).get("keys") or [rand_hex(64)]
    )
    if values["hub"].get("db", {}).get("password"):
        secret["hub.db.password"] = values["hub"]["db"]["password"]
    for key, service in (values["hub"].get("services") or {}).items():
        secret[f"hub.services.{key}.apiToken"] = (service or {}).get("apiToken") or rand_hex(64)
    for key, value in secret.items():
        with open(os.path.join(sandbox, "secret", key), "w") as f:
            f.write(value)

    for key, spec in (values["hub"].get("extraFiles") or {}).items():
        mount = spec["mountPath"]
        if not mount.startswith("/usr/local/etc/jupyterhub/"):
            raise ChartRenderError(
                f"hub.extraFiles.{key}: mountPath {mount} is outside the hub's config folder"
            )
        data = spec.get("stringData")
        if data is None:
            raise ChartRenderError(f"hub.extraFiles.{key}: only stringData is laid out here")
        # secret.yaml writes `stringData | trimSuffix "\n"` into a `|` block: one newline.
        data = data.removesuffix("\n") + "\n"
        target = os.path.join(sandbox, mount[len("/usr/local/etc/jupyterhub/") :])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write(data)

    kubeconfig = os.path.join(sandbox, "kubeconfig")
    with open(kubeconfig, "w") as f:
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "none", "user": {"token": "none"}}],
                "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
                "current-context": "none",
            },
            f,
        )
    with open(os.path.join(sandbox, "run.json"), "w") as f:
        json.dump(run, f)

    def secret_value(name, key):
        if name == names["hub"]:
            return secret[key]
        return stand_in_secret(name, key)

    def mounted_value(name, key):
        if (name, key) in (planted or {}):
            return planted[(name, key)]
        return stand_in_secret(name, key).encode()

    with open(os.path.join(sandbox, "mounts.json"), "w") as f:
        json.dump(secret_volume_files(values, sandbox, mounted_value), f)

    env = {
        "PYTHONUNBUFFERED": "1",
        "HELM_RELEASE_NAME": release_name,
        "POD_NAMESPACE": namespace,
        "CONFIGPROXY_AUTH_TOKEN": secret["hub.config.ConfigurableHTTPProxy.auth_token"],
        "KUBECONFIG": kubeconfig,
        "HOME": os.path.join(sandbox, "srv"),
    }
    env.update(extra_env(values["hub"].get("extraEnv") or {}, "hub.extraEnv", secret_value))
    # Service links: hub:8081 and proxy-api:8001 (templates/hub/service.yaml,
    # templates/proxy/service.yaml), proxy-public:80 (http).
    for short, port, ip in (
        ("hub", 8081, "10.96.0.10"),
        ("proxy-api", 8001, "10.96.0.11"),
        ("proxy-public", 80, "10.96.0.12"),
    ):
        key = names[short].upper().replace("-", "_")
        env[f"{key}_SERVICE_HOST"] = ip
        env[f"{key}_SERVICE_PORT"] = str(port)
    return values, env
