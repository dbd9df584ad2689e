"""Start a generated JupyterHub the way its z2jh hub pod does, up to the first Kubernetes call.

Runs inside a virtual environment holding exactly the hub image's Python packages
(`images/hub/requirements.txt` of the pinned z2jh release), as
`python hub_start.py SANDBOX`. SANDBOX is what the pod has at `/usr/local/etc/jupyterhub`
(made by `podfiles.py`): z2jh's own, unmodified `jupyterhub_config.py` and `z2jh.py`, the
ConfigMap's `config/<name>` files, the Secret's `secret/values.yaml` and generated keys, and
`run.json` (the test's request: the user to spawn for, logins to try). The pod's environment
comes from the caller.

z2jh.py reads fixed paths under `/usr/local/etc/jupyterhub/`; rather than editing it, the
filesystem calls it and `jupyterhub_config.py` make see SANDBOX at that prefix
(`podpaths.py`).

What runs is JupyterHub's own start: `JupyterHub.initialize()` loads the config file (the
chart's Python, `hub.config` pass-through, `hub.extraConfig`), builds the authenticator
and the spawner class with traitlets validation, the database, the proxy object, services
and roles. Then, for every profile, a real `User.spawn()` for a test user runs KubeSpawner's start
(profile overrides, memory/CPU traits, PVC and pod manifests, hooks) until the call that
would create the pod in Kubernetes; those few methods that talk to the API server are
replaced by ones that record what would be sent. Logins run `get_authenticated_user` with
the two requests to the OIDC issuer (token, userinfo) answered from `run.json`.

The Kubernetes API is fakekube.py's, in this process on loopback: the spawn hook the
instance ships (hub/casa_hook.py) talks to it as it would to the cluster. With `lifecycle`
in `run.json`, before the profiles, the default profile's server is really started and
stopped (KubeSpawner unpatched, the fake API running its pod) several times, and the
objects after each step are reported (see `lifecycle`).

Prints one JSON document: {"ok": true, ...findings} or {"ok": false, "stage", "error"}.
"""

import base64
import json
import os
import sys
import traceback

import yaml

import podpaths
from fakekube import FakeKube

POD_PREFIX = "/usr/local/etc/jupyterhub"


class PodCreation(Exception):
    """Raised where KubeSpawner would send the pod to the API server."""


def patch_kubernetes_calls(KubeSpawner, captured):
    """Replace the KubeSpawner methods that call the API server with recorders.

    Everything else in `KubeSpawner._start` (profile, PVC and pod manifests, hooks) runs
    as in the hub. The pod is not created, so the start ends with `PodCreation`.
    """

    async def no_watch(self, replace=False):
        return None

    async def record_pvc(self, pvc, request_timeout):
        captured["pvc"] = self.api.api_client.sanitize_for_serialization(pvc)
        return True

    async def record_pod(self, pod, request_timeout):
        captured["pod"] = self.api.api_client.sanitize_for_serialization(pod)
        # the spawner as the profile left it, before the failed start is cleaned up
        captured["traits"] = {
            "image": self.image,
            "mem_limit": self.mem_limit,
            "mem_guarantee": self.mem_guarantee,
            "cpu_limit": self.cpu_limit,
            "cpu_guarantee": self.cpu_guarantee,
            "environment": {k: str(v) for k, v in self.get_env().items()},
        }
        raise PodCreation()

    async def pvc_absent(self, pvc_name, namespace):
        return False

    async def stop(self, now=False):
        return None

    KubeSpawner._start_watching_pods = no_watch
    KubeSpawner._start_watching_events = no_watch
    KubeSpawner._make_create_pvc_request = record_pvc
    KubeSpawner._make_create_pod_request = record_pod
    if hasattr(KubeSpawner, "_check_pvc_exists"):  # KubeSpawner >= 7
        KubeSpawner._check_pvc_exists = pvc_absent
    KubeSpawner.stop = stop


class LoginHandler:
    """What `OAuthenticator.authenticate` reads from the callback request: the `code`
    argument and, with PKCE, the state cookie the login handler set."""

    def __init__(self, serialize_state):
        self._state = serialize_state({"state_id": "s", "code_verifier": "v" * 43})

    def get_argument(self, name, default=None):
        return "the-code" if name == "code" else default

    def get_state_cookie(self):
        return self._state


async def try_login(authenticator, login):
    """`get_authenticated_user` with the issuer's token and userinfo answers given."""
    from oauthenticator import oauth2

    userinfo = login["userinfo"]

    async def get_token_info(handler, params):
        return {
            "access_token": "access",
            "refresh_token": "refresh",
            "id_token": "id",
            "token_type": "Bearer",
            "scope": " ".join(authenticator.scope),
        }

    async def token_to_user(token_info):
        return userinfo

    authenticator.get_token_info = get_token_info
    authenticator.token_to_user = token_to_user
    result = await authenticator.get_authenticated_user(LoginHandler(oauth2._serialize_state), None)
    if result is None:
        return {"userinfo": userinfo, "allowed": False}
    return {
        "userinfo": userinfo,
        "allowed": True,
        "name": result["name"],
        "admin": bool(result.get("admin")),
        "groups": sorted(result.get("groups") or []),
    }


async def spawn_profile(app, user, profile_slug):
    from kubespawner import KubeSpawner

    captured = {}
    patch_kubernetes_calls(KubeSpawner, captured)
    options = {"profile": profile_slug} if profile_slug else {}
    try:
        await user.spawn("", options=options)
    except PodCreation:
        pass
    if "pod" not in captured:
        raise RuntimeError("the spawn ended before KubeSpawner made the pod")
    return {
        "profile": profile_slug,
        **captured["traits"],
        "pod": captured["pod"],
        "pvc": captured.get("pvc"),
    }


def snapshot(kube, namespace, user_label):
    """The hook's objects and the user's pods as the API holds them now."""
    secret = kube.get("", "secrets", namespace, f"cmsaf-secrets-{user_label}")
    if secret is not None:
        secret["data"] = {
            k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()
        }
    pods = kube.names("", "pods", namespace)
    return {
        "pod": kube.get("", "pods", namespace, pods[0]) if pods else None,
        "secret": secret,
        "service": kube.get("", "services", namespace, f"dask-{user_label}"),
        "route": kube.get("traefik.io", "ingressroutetcps", namespace, f"dask-{user_label}"),
        "pods": kube.names("", "pods", namespace),
        "secrets": kube.names("", "secrets", namespace),
        "services": kube.names("", "services", namespace),
        "routes": kube.names("traefik.io", "ingressroutetcps", namespace),
    }


async def lifecycle(app, user, kube, run, report):
    """Start and stop the user's default server as the hub does (`User.spawn`, `User.stop`),
    each step recorded: spawn; stop with the hook's deletes failing (objects stay); spawn
    again over them; the pool signing key replaced, stop failing again, the leftover Service
    and route edited, spawn; a clean stop; spawn after it; a clean stop."""
    import jupyterhub
    from jupyterhub import objects

    class Answer:
        # what jupyterhub-singleuser answers (its version header is compared with the hub's)
        def __init__(self):
            self.headers = {"X-JupyterHub-Version": jupyterhub.__version__}
            self.code = 200

    async def no_http_check(self, *args, **kwargs):
        # no notebook server answers in the test; everything before and after the wait runs
        return Answer()

    objects.Server.wait_up = no_http_check
    spawner = user.spawners[""]
    ns = spawner.namespace
    label = run["lifecycle"]["user_label"]
    faults = {
        ("delete", "", "secrets"): 500,
        ("delete", "", "services"): 500,
        ("delete", "traefik.io", "ingressroutetcps"): 500,
    }
    steps = []

    async def step(name, action):
        before = len(kube.calls)
        await action()
        steps.append({"step": name, **snapshot(kube, ns, label), "calls": kube.calls[before:]})

    async def spawn(token):
        await user.save_auth_state({"access_token": token, "refresh_token": "r"})
        await user.spawn("")

    def faulty(on):
        kube.faults = dict(faults) if on else {}

    async def stop():
        await user.stop("")
        faulty(False)

    await step("spawn", lambda: spawn(run["lifecycle"]["access_tokens"][0]))
    faulty(True)
    await step("stop-failing", stop)
    await step("spawn-again", lambda: spawn(run["lifecycle"]["access_tokens"][1]))
    with open(run["lifecycle"]["pool_key_file"], "wb") as f:
        f.write(base64.b64decode(run["lifecycle"]["new_pool_key"]))
    faulty(True)
    await step("stop-failing-2", stop)
    # the leftovers drifted (edited by hand, or made for another base domain): the next
    # spawn must put them right in place
    service = kube.get("", "services", ns, f"dask-{label}")
    service["spec"]["selector"] = {"component": "something-else"}
    kube.put("", "services", ns, service)
    route = kube.get("traefik.io", "ingressroutetcps", ns, f"dask-{label}")
    if route is not None:  # none where workers use the Service (an in-cluster pool)
        route["spec"]["routes"] = route["spec"]["routes"][:1]
        kube.put("traefik.io", "ingressroutetcps", ns, route)
    await step("spawn-new-pool-key", lambda: spawn(run["lifecycle"]["access_tokens"][2]))
    await step("stop", stop)
    await step("spawn-after-stop", lambda: spawn(run["lifecycle"]["access_tokens"][3]))
    await step("stop-2", stop)
    report["lifecycle"] = steps


async def start(sandbox, run, report):
    from jupyterhub import orm
    from jupyterhub.app import JupyterHub

    report["stage"] = "api"
    kube = await FakeKube().start()
    with open(os.environ["KUBECONFIG"], "w") as f:
        yaml.safe_dump(kube.kubeconfig(), f)
    for obj in run.get("kube_objects", []):
        group = obj["apiVersion"].rpartition("/")[0]
        resource = obj["kind"].lower() + "s"
        kube.put(group, resource, obj["metadata"]["namespace"], obj)

    report["stage"] = "initialize"
    # As `jupyterhub --config <file>` (the container's command, z2jh
    # templates/hub/deployment.yaml) starts: `JupyterHub.launch_instance` makes the app the
    # singleton (CryptKeeper reads its config from it) and awaits `initialize(argv)`. The
    # file is SANDBOX's copy, so that the script's own folder (put on sys.path for
    # `import z2jh`) is the sandbox.
    app = JupyterHub.instance()
    await app.initialize(["--config", os.path.join(sandbox, "jupyterhub_config.py")])
    authenticator = app.authenticator
    spawner_class = app.spawner_class
    report["authenticator"] = {
        "class": type(authenticator).__module__ + "." + type(authenticator).__name__,
        "allow_all": bool(getattr(authenticator, "allow_all", False)),
        "allowed_groups": sorted(getattr(authenticator, "allowed_groups", []) or []),
        "manage_groups": bool(getattr(authenticator, "manage_groups", False)),
        "admin_users": sorted(authenticator.admin_users),
        "enable_auth_state": bool(authenticator.enable_auth_state),
        "login_service": authenticator.login_service,
        "username_claim": str(getattr(authenticator, "username_claim", "")),
    }
    report["spawner_class"] = spawner_class.__module__ + "." + spawner_class.__name__
    report["services"] = sorted(s["name"] for s in app.services)

    report["stage"] = "login"
    report["logins"] = [await try_login(authenticator, login) for login in run["logins"]]

    report["stage"] = "spawn"
    orm_user = orm.User(name=authenticator.normalize_username(run["user"]))
    app.db.add(orm_user)
    app.db.commit()
    from jupyterhub import roles

    roles.assign_default_roles(app.db, entity=orm_user)
    user = app.users[orm_user.id]
    # The profiles as KubeSpawner presents them (slugs made from display names).
    first = user.spawners[""]
    profile_list = first.profile_list
    if callable(profile_list):
        profile_list = await profile_list(first)
    profiles = first._get_initialized_profile_list(profile_list) if profile_list else []
    user.spawners.pop("", None)
    report["profiles"] = [{"slug": p["slug"], "display_name": p["display_name"]} for p in profiles]
    if run.get("lifecycle"):
        report["stage"] = "lifecycle"
        await lifecycle(app, user, kube, run, report)
        user.spawners.pop("", None)
        kube.calls.clear()
    report["spawns"] = []
    for slug in [p["slug"] for p in profiles] or [None]:
        report["spawns"].append(await spawn_profile(app, user, slug))
        # each profile starts from the configured spawner, as a new server would
        user.spawners.pop("", None)
    report["api_calls"] = kube.calls
    report["stage"] = "done"


def main():
    sandbox = os.path.realpath(sys.argv[1])
    with open(os.path.join(sandbox, "run.json")) as f:
        run = json.load(f)
    os.chdir(os.path.join(sandbox, "srv"))  # the hub's working dir, /srv/jupyterhub
    with open(os.path.join(sandbox, "mounts.json")) as f:
        mounts = json.load(f)
    podpaths.redirect({POD_PREFIX: sandbox, **mounts})
    report = {"ok": False}
    try:
        from jupyterhub.app import JupyterHub
        from tornado.ioloop import IOLoop

        JupyterHub.instance()._init_asyncio_patch()
        IOLoop(make_current=False).run_sync(lambda: start(sandbox, run, report))
        report["ok"] = True
    except BaseException as e:  # SystemExit too: the config calls sys.exit(1)
        report["error"] = f"{type(e).__name__}: {e}"
        report["traceback"] = traceback.format_exc()
    sys.stdout.flush()
    print("\n@@REPORT@@" + json.dumps(report, default=str))


if __name__ == "__main__":
    main()
