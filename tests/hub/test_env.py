"""Every environment variable the trees set on a container is read by the program in it.

READERS names, per image family, each variable and the upstream file that reads it
(repo@ref:path). A variable set anywhere (a workload's `env`, a Secret behind `envFrom`, a
chart value that becomes container env) with no row fails the test: nothing reads it, or
the table must learn who does. ENV_PATHS says where each chart turns values into env;
any other `env`-like key in a release's values fails too, so a new one cannot slip past.
"""

import re

import pytest

from conftest import trees

COFFEA = "CoffeaTeam/coffea-casa@f20f9915c9d0"  # 2023 docker/, the cc-ubuntu generation
PREPARE_ENV = f"{COFFEA}:docker/prepare-env/prepare-env-cc.sh"
DASK_ENV = "dask/dask@2022.05.0:dask/config.py (collect_env)"

READERS = {
    # z2jh hub image: the authenticator takes its client from the environment.
    "hub": {
        "OAUTH_CLIENT_ID": "jupyterhub/oauthenticator@17.4.0:oauthenticator/oauth2.py",
        "OAUTH_CLIENT_SECRET": "jupyterhub/oauthenticator@17.4.0:oauthenticator/oauth2.py",
    },
    # coffea-casa notebook images (cc-ubuntu, cc-alma9; profile overrides included)
    "notebook": {
        "CONDOR_HOST": PREPARE_ENV,
        "COLLECTOR_NAME": PREPARE_ENV,
        "SCHEDD_HOST": PREPARE_ENV,
        "UID_DOMAIN": PREPARE_ENV,
        "LABEXTENTION_FACTORY_CLASS": PREPARE_ENV,
        "WORKER_IMAGE": PREPARE_ENV,
        "TAG": PREPARE_ENV,
        "XCACHE_HOST": "jthiltges/xrdcl-authz-plugin@xcache:src/XrdClAuthzPlugin.cc",
        "DASK_JOBQUEUE__COFFEA_CASA__CORES": DASK_ENV,
        "DASK_JOBQUEUE__COFFEA_CASA__MEMORY": DASK_ENV,
        "DASK_DISTRIBUTED__ADAPTIVE__MAXIMUM": DASK_ENV,
        # jobs in the instance's own pool: CoffeaCasaCluster merges them last
        # (CoffeaTeam/coffea-casa@2023.08.11 `job-extra`, later `job_extra_directives`)
        "DASK_JOBQUEUE__COFFEA_CASA__JOB_EXTRA": DASK_ENV,
        "DASK_JOBQUEUE__COFFEA_CASA__JOB_EXTRA_DIRECTIVES": DASK_ENV,
        # the dask-gateway client's config (gateway mode)
        "DASK_GATEWAY__ADDRESS": "dask/dask-gateway@2026.3.0:dask-gateway/dask_gateway/gateway.yaml",
        "DASK_GATEWAY__PROXY_ADDRESS": "dask/dask-gateway@2026.3.0:dask-gateway/dask_gateway/gateway.yaml",
        "DASK_GATEWAY__AUTH__TYPE": "dask/dask-gateway@2026.3.0:dask-gateway/dask_gateway/gateway.yaml",
    },
    # HTCondor's base image, the in-cluster pool's daemons (templates/htcondor/)
    "docker.io/htcondor/base": {
        "CONDOR_CONFIG": "htcondor/htcondor@v25.13.2:src/condor_utils/condor_config.cpp",
        # the pool's prepare.sh (ConfigMap htcondor-config): which role's key handling
        "CASA_ROLE": "casa-build:templates/htcondor/config.yaml.j2 (prepare.sh)",
        # execute.conf `$ENV(CASA_WORKER_IMAGE)`: the machine attribute jobs match
        "CASA_WORKER_IMAGE": "htcondor/htcondor@v25.13.2:src/condor_utils/config.cpp ($ENV)",
    },
    # coffea-casa worker images as dask-gateway schedulers and workers
    "dask-worker": {
        "COFFEA_CASA_SIDECAR": f"{COFFEA}:docker/prepare-env/prepare-env-cc-analysis.sh",
    },
    # NGC tritonserver 22.08: the S3 model repository's credentials
    "tritonserver": {
        name: "triton-inference-server/core@r22.08:src/filesystem.cc"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    },
    # Dex reads a variable only where its config names it (see dex_reads): `$NAME` in a
    # connector config (DEX_EXPAND_ENV, dexidp/dex@v2.44.0:cmd/dex/config.go expandEnvInMap)
    # or a static client's `secretEnv`/`idEnv` (dexidp/dex@v2.44.0:cmd/dex/serve.go).
    "dex": {},
}

# chart -> (value path, reader) for values the chart puts into a container's env.
# `[]` steps into a list's items.
ENV_PATHS = {
    "jupyterhub": [
        ("hub.extraEnv", "hub"),
        ("singleuser.extraEnv", "notebook"),
        ("singleuser.profileList[].kubespawner_override.environment", "notebook"),
        ("proxy.chp.extraEnv", "configurable-http-proxy"),
        ("proxy.traefik.extraEnv", "traefik"),
    ],
    "dask-gateway": [
        ("gateway.env", "dask-gateway-server"),
        ("gateway.backend.environment", "dask-worker"),
    ],
    "dex": [("env", "dex"), ("envVars", "dex"), ("envFrom", "dex")],
    "traefik": [("env", "traefik"), ("envFrom", "traefik")],
}
ENVISH = re.compile(r"(?i)^(env|extraEnv|environment|envVars|envFrom)$")
IMAGE_READERS = {"nvcr.io/nvidia/tritonserver": "tritonserver"}


def walk(value, path):
    """The values at `path` (dots, `[]` for list items)."""
    if not path:
        yield value
        return
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        for item in (value or {}).get(head[:-2]) or []:
            yield from walk(item, rest)
    elif isinstance(value, dict) and head in value:
        yield from walk(value[head], rest)


def env_names(env, secrets):
    """Variable names of an env map, an EnvVar list, or an envFrom list."""
    if isinstance(env, dict):
        return list(env)
    names = []
    for item in env or []:
        if "name" in item:
            names.append(item["name"])
        ref = item.get("secretRef") or item.get("configMapRef")
        if ref:
            names.extend(secrets.get(ref["name"], [f"<all keys of {ref['name']}>"]))
    return names


def envish_paths(values, prefix=""):
    for key, value in (values or {}).items():
        path = f"{prefix}{key}"
        if ENVISH.match(key):
            yield path
        elif isinstance(value, dict):
            yield from envish_paths(value, path + ".")


def dex_reads(release, name):
    config = release["spec"]["values"].get("config", {})
    text = repr(config.get("connectors", []))
    clients = config.get("staticClients", [])
    return (
        f"${name}" in text
        or f"${{{name}}}" in text
        or any(name in (c.get("secretEnv"), c.get("idEnv")) for c in clients)
    )


def settings(tree):
    """(where, reader, variable, release) for every variable the tree sets."""
    objects = list(tree.objects())
    secrets = {
        obj["metadata"]["name"]: list(obj["spec"].get("encryptedData", {}))
        for _, obj in objects
        if obj.get("kind") == "SealedSecret"
    }
    for rel, obj in objects:
        kind = obj.get("kind")
        if kind == "HelmRelease":
            chart = obj["spec"]["chart"]["spec"]["chart"]
            values = obj["spec"].get("values") or {}
            paths = ENV_PATHS.get(chart, [])
            for found in envish_paths(values):
                listed = {p.replace("[]", "") for p, _ in paths}
                bare = re.sub(r"\.\d+", "", found)
                yield (
                    rel,
                    "?",
                    f"<{chart} value {found} not in ENV_PATHS>",
                    obj
                    if (bare not in listed and not any(bare.startswith(p + ".") for p in listed))
                    else None,
                )
            for path, reader in paths:
                for env in walk(values, path):
                    for name in env_names(env, secrets):
                        yield rel, reader, name, obj
        elif kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            pod = obj["spec"]["template"]["spec"]
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                repo = c["image"].rsplit(":", 1)[0]
                reader = IMAGE_READERS.get(repo, repo)
                for name in env_names(c.get("env"), secrets) + env_names(c.get("envFrom"), secrets):
                    yield rel, reader, name, obj


CASES = [
    (f"{tree.name}:{rel}:{name}", reader, name, obj)
    for tree in trees()
    for rel, reader, name, obj in settings(tree)
    if obj is not None
]


@pytest.mark.parametrize("reader,name,obj", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_variable_has_a_reader(reader, name, obj):
    assert reader in READERS, f"{name}: no reader table for {reader}"
    if reader == "dex":
        assert dex_reads(obj, name), f"{name}: no Dex connector config names ${name}"
    else:
        assert name in READERS[reader], f"{name} is set for {reader} and nothing reads it"


def test_every_tree_sets_variables_and_the_table_refuses_a_dead_one():
    assert all(any(True for _ in settings(tree)) for tree in trees())
    assert "DASK_MODE" not in READERS["notebook"]
    assert "XCACHE_TOKEN_DAYS" not in READERS["hub"]
