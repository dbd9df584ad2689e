"""CMS-Dev's in-cluster HTCondor pool (templates/htcondor/, `[dask] mode = "pool"`), checked
with the programs that read it: HTCondor's own configuration reader (its Python bindings at
the pool image's release) for the daemons' configuration; coffea-casa, as the notebook images
install it, for the submit description a user's CoffeaCasaCluster writes under the profile's
environment, its requirements evaluated by HTCondor's ClassAd library against each execute
pod's machine attribute; the job wrapper run as the starter runs it; the spawn hook run by a
real KubeSpawner, its IDTOKEN checked against the pool's trust domain and key.
"""

import ast
import base64
import json
import os
import re
import subprocess
import tempfile
import time

import jwt
import pytest

from conftest import trees, venv_python
from planted import Planted
from test_hook import allowed, htcondor_key, role_rules
from test_hub_start import USER, casa_escape, start_hub

NAMESPACE = "cmsaf-dev"
LABEL = casa_escape(USER.lower())


def reference():
    return next(t for t in trees() if t.name == "reference")


TREE = reference()


def obj(kind, name):
    for _, o in TREE.objects():
        meta = o.get("metadata", {})
        if (o.get("kind"), meta.get("name"), meta.get("namespace")) == (kind, name, NAMESPACE):
            return o
    raise LookupError(f"no {kind} {NAMESPACE}/{name}")


def execute_groups():
    """{worker image: Deployment} of the pool's execute pods."""
    groups = {}
    for _, o in TREE.objects():
        meta = o.get("metadata", {})
        if o.get("kind") == "Deployment" and meta.get("name", "").startswith("htcondor-execute-"):
            pod = o["spec"]["template"]["spec"]
            env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
            groups[env["CASA_WORKER_IMAGE"]] = o
    return groups


def hub_values():
    release = obj("HelmRelease", "jupyterhub")
    return release["spec"]["values"]


def hook_settings():
    files = hub_values()["hub"]["extraFiles"]
    return json.loads(files["casa-hook-settings"]["stringData"])


def pool_python(code, env=None):
    out = subprocess.run(
        [str(venv_python("htcondor-pool")), "-c", code],
        check=False,
        env={**os.environ, "CONDOR_CONFIG": "/dev/null", **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def relocated_config(dest):
    """The ConfigMap's files in `dest`, their `include :` lines pointing there."""
    data = obj("ConfigMap", "htcondor-config")["data"]
    for name, text in data.items():
        (dest / name).write_text(text.replace("/etc/casa-condor/", f"{dest}/"))
    return data


PARAMS = """
import json, htcondor2 as h
keys = %s
print(json.dumps({k: h.param.get(k) for k in keys}))
"""


def read_params(config, role, keys, extra_env=None):
    env = {"CONDOR_CONFIG": str(config / f"{role}.conf"), **(extra_env or {})}
    return json.loads(pool_python(PARAMS % json.dumps(keys), env))


def test_the_pool_config_reads_as_the_daemons_read_it(tmp_path):
    relocated_config(tmp_path)
    settings = hook_settings()
    keys = [
        "DAEMON_LIST",
        "TRUST_DOMAIN",
        "COLLECTOR_HOST",
        "SEC_PASSWORD_DIRECTORY",
        "SEC_TOKEN_DIRECTORY",
        "SEC_DEFAULT_AUTHENTICATION_METHODS",
        "ALLOW_DAEMON",
        "SCHEDD_NAME",
        "USER_JOB_WRAPPER",
        "CasaWorkerImage",
        "STARTD_ATTRS",
        "NUM_CPUS",
        "MEMORY",
        "LIBEXEC",
        "SHARED_PORT",
    ]
    cm = read_params(tmp_path, "central-manager", keys)
    schedd = read_params(tmp_path, "schedd", keys)
    image = next(iter(execute_groups()))
    execute = read_params(tmp_path, "execute", keys, {"CASA_WORKER_IMAGE": image})
    assert cm["DAEMON_LIST"].replace(" ", "") == "MASTER,COLLECTOR,NEGOTIATOR"
    assert schedd["DAEMON_LIST"].replace(" ", "") == "MASTER,SCHEDD"
    assert execute["DAEMON_LIST"].replace(" ", "") == "MASTER,STARTD"
    # the hub signs the users' IDTOKENs for this issuer; the pods find the collector there
    for p in (cm, schedd, execute):
        assert p["TRUST_DOMAIN"] == settings["htcondor"]["issuer"]
        assert p["COLLECTOR_HOST"] == "htcondor-cm.cmsaf-dev.svc:9618"
        assert "IDTOKENS" in p["SEC_DEFAULT_AUTHENTICATION_METHODS"]
        assert "condor@password" in p["ALLOW_DAEMON"]
    # the user pods name the schedd as it names itself
    env = hub_values()["singleuser"]["extraEnv"]
    assert env["SCHEDD_HOST"] == schedd["SCHEDD_NAME"]
    assert env["CONDOR_HOST"] == "htcondor-cm.cmsaf-dev.svc"
    # where the el9 packages put the daemons the master starts
    assert cm["SHARED_PORT"] == "/usr/libexec/condor/condor_shared_port"
    assert execute["USER_JOB_WRAPPER"] == f"{tmp_path}/job-wrapper.sh"
    assert execute["CasaWorkerImage"] == f'"{image}"'
    assert "CasaWorkerImage" in execute["STARTD_ATTRS"]
    dask = TREE.site_toml()["dask"]
    assert int(execute["NUM_CPUS"]) == dask["worker_cores"]
    assert int(execute["MEMORY"]) * 2**20 >= 4 * 2**30  # the worker's 4Gi
    # the directories HTCondor reads keys and tokens from are the pods' volumes
    for name in (
        "htcondor-cm",
        "htcondor-schedd",
        *(d["metadata"]["name"] for d in execute_groups().values()),
    ):
        pod = obj("Deployment", name)["spec"]["template"]["spec"]
        mounts = {m["mountPath"] for c in pod["initContainers"] for m in c["volumeMounts"]}
        assert {cm["SEC_PASSWORD_DIRECTORY"], cm["SEC_TOKEN_DIRECTORY"]} <= mounts


def test_no_execute_pod_keeps_the_pool_key(tmp_path):
    for image, dep in execute_groups().items():
        pod = dep["spec"]["template"]["spec"]
        main = pod["containers"][0]
        assert "/var/lib/condor-keys" not in {m["mountPath"] for m in main["volumeMounts"]}
        assert "pool-key" not in {m["name"] for m in main["volumeMounts"]}
        ctx = {**pod["securityContext"], **main["securityContext"]}
        assert ctx["runAsNonRoot"] is True and ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert not any(
            c.get("securityContext", {}).get("privileged") for c in pod["initContainers"]
        )
        # the worker image's environment is copied from the image itself
        worker = next(c for c in pod["initContainers"] if c["name"] == "worker-environment")
        assert worker["image"] == image
    prepare = obj("ConfigMap", "htcondor-config")["data"]["prepare.sh"]
    assert "rm -f /var/lib/condor-keys/POOL" in prepare


SUBMIT = """
import os
from coffea_casa import CoffeaCasaCluster
c = CoffeaCasaCluster()
print(c.job_script())
c.close()
"""

EVAL = """
import json, sys, classad2
req = classad2.ExprTree(sys.argv[1])
out = {}
for image in json.loads(sys.argv[2]):
    machine = classad2.ClassAd({"CasaWorkerImage": image})
    out[image] = req.eval(scope=classad2.ClassAd(), target=machine) is True
print(json.dumps(out))
"""


def last_assignments(script):
    """The submit description's commands, the last assignment of each winning."""
    cmds = {}
    for line in script.splitlines():
        m = re.match(r"^([+A-Za-z_.][\w.]*)\s*=\s*(.*)$", line)
        if m:
            cmds[m.group(1).lower()] = m.group(2).strip()
    return cmds


def test_each_profiles_workers_are_vanilla_jobs_on_the_pods_of_its_worker_image():
    groups = execute_groups()
    profiles = hub_values()["singleuser"]["profileList"]
    assert len(groups) == len(
        {p["kubespawner_override"]["environment"]["WORKER_IMAGE"] for p in profiles}
    )
    for p in profiles:
        env = p["kubespawner_override"]["environment"]
        image = f"{env['WORKER_IMAGE']}:{env['TAG']}"
        script = pool_python(
            SUBMIT,
            {
                "HOST_IP": "dask-user.cmsaf-dev.svc",
                "HOME": tempfile.mkdtemp(),
                # as KubeSpawner expands it (str.format; the pod gets it so, checked below)
                "DASK_JOBQUEUE__COFFEA_CASA__JOB_EXTRA_DIRECTIVES": env[
                    "DASK_JOBQUEUE__COFFEA_CASA__JOB_EXTRA_DIRECTIVES"
                ].format(),
            },
        )
        cmds = last_assignments(script)
        assert cmds["universe"] == "vanilla"
        # an empty value is no value to condor_submit: no docker or container job
        for docker in ("docker_image", "container_service_names", "dask_container_port"):
            assert cmds[docker] == "", docker
        assert cmds["transfer_executable"] == "False"
        matches = json.loads(
            subprocess.run(
                [
                    str(venv_python("htcondor-pool")),
                    "-c",
                    EVAL,
                    cmds["requirements"],
                    json.dumps(list(groups)),
                ],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "CONDOR_CONFIG": "/dev/null"},
            ).stdout
        )
        assert matches == {g: g == image for g in groups}, p["display_name"]


def test_the_job_wrapper_gives_the_job_its_shipped_files_and_leaves_nothing(tmp_path):
    wrapper = obj("ConfigMap", "htcondor-config")["data"]["job-wrapper.sh"]
    secrets_dir = tmp_path / "cmsaf-secrets"
    secrets_dir.mkdir()
    script = tmp_path / "job-wrapper.sh"
    script.write_text(wrapper.replace("/etc/cmsaf-secrets", str(secrets_dir)))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for f in ("ca.pem", "hostcert.pem", "access_token"):
        (scratch / f).write_text(f"the job's {f}")
    # a file of an earlier job, which the next job must not see
    (secrets_dir / "hostkey.pem").symlink_to(tmp_path / "gone")
    job = f"cat {secrets_dir}/ca.pem {secrets_dir}/hostcert.pem; echo; echo $BEARER_TOKEN_FILE; echo $PATH"
    out = subprocess.run(
        ["/bin/sh", str(script), "/bin/sh", "-c", job],
        env={"_CONDOR_SCRATCH_DIR": str(scratch), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out[0] == "the job's ca.pemthe job's hostcert.pem"
    assert out[1] == f"{scratch}/access_token"
    assert out[2].startswith("/opt/conda/bin:")
    assert (
        not (secrets_dir / "hostkey.pem").exists()
        and not (secrets_dir / "hostkey.pem").is_symlink()
    )
    for f in scratch.iterdir():
        f.unlink()
    scratch.rmdir()
    # once the starter removed the scratch directory nothing of the job is readable
    assert not (secrets_dir / "ca.pem").exists()


@pytest.fixture(scope="module")
def spawned():
    release = obj("HelmRelease", "jupyterhub")
    planted = Planted(TREE.site_toml())

    def lifecycle(sandbox):
        return {
            "user_label": LABEL,
            "access_tokens": planted.access_tokens,
            "pool_key_file": str(sandbox / "mounts" / "casa-hook-htcondor" / "POOL"),
            "new_pool_key": base64.b64encode(planted.new_pool_key).decode(),
        }

    instance, report = start_hub(TREE, release, lifecycle, planted)
    return instance, planted, report, {s["step"]: s for s in report["lifecycle"]}


def test_a_spawn_gives_the_user_a_pool_token_and_a_service_and_no_route(spawned):
    instance, planted, _, steps = spawned
    s = steps["spawn"]
    token = s["secret"]["data"]["condor_token"]
    settings = hook_settings()["htcondor"]
    claims = jwt.decode(
        token,
        htcondor_key(planted.pool_key),
        algorithms=["HS256"],
        issuer="htcondor-cm.cmsaf-dev.svc",
        options={"require": ["exp", "iat", "iss", "jti", "sub"]},
    )
    assert jwt.get_unverified_header(token)["kid"] == "POOL"
    pool = instance["dask"]["pool"]
    assert claims["sub"] == f"{pool['submitter']}@htcondor-cm.cmsaf-dev.svc" == settings["identity"]
    assert abs(claims["exp"] - claims["iat"] - pool["token_days"] * 86400) <= 1
    assert abs(claims["iat"] - time.time()) < 600
    assert s["service"] is not None and s["route"] is None and s["routes"] == []
    env = {e["name"]: e.get("value") for e in s["pod"]["spec"]["containers"][0]["env"]}
    assert env["HOST_IP"] == f"dask-{LABEL}.cmsaf-dev.svc"
    assert "WORKER_IP" not in env
    # the job commands reach the pod as a Python literal dask reads (ast.literal_eval)
    for key in (
        "DASK_JOBQUEUE__COFFEA_CASA__JOB_EXTRA",
        "DASK_JOBQUEUE__COFFEA_CASA__JOB_EXTRA_DIRECTIVES",
    ):
        extra = ast.literal_eval(env[key])
        assert extra["universe"] == "vanilla" and extra["docker_image"] == "", key


def test_the_hub_extra_role_grants_the_pool_hooks_calls_and_no_routes(spawned):
    _, _, report, steps = spawned
    calls = [c for s in steps.values() for c in s["calls"]] + report["api_calls"]
    hook = [c for c in calls if c["resource"] in ("secrets", "services", "ingressroutetcps")]
    rules = role_rules(TREE, NAMESPACE, "hub-extra")
    assert not [r for r in rules if "traefik.io" in r["apiGroups"]]
    for c in hook:
        assert c["resource"] != "ingressroutetcps", c
        assert allowed(rules, c), f"not granted: {c}"
    stop = steps["stop"]
    assert (stop["secret"], stop["service"]) == (None, None)


def test_the_users_pods_may_reach_the_pool_and_its_workers_them():
    policy = hub_values()["singleuser"]["networkPolicy"]
    egress = [
        p["podSelector"]["matchLabels"].get("app")
        for r in policy["egress"]
        for p in r.get("to", [])
        if "podSelector" in p
    ]
    assert {"htcondor-cm", "htcondor-schedd", "htcondor-execute"} <= set(egress)
    ingress = [p["podSelector"]["matchLabels"] for r in policy["ingress"] for p in r["from"]]
    assert {"app": "htcondor-execute"} in ingress
    # the execute pods carry the label the policy names
    for dep in execute_groups().values():
        assert dep["spec"]["template"]["metadata"]["labels"]["app"] == "htcondor-execute"
