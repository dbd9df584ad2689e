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

Prints one JSON document: {"ok": true, ...findings} or {"ok": false, "stage", "error"}.
"""

import json
import os
import sys
import traceback

import podpaths

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


async def start(sandbox, run, report):
    from jupyterhub import orm
    from jupyterhub.app import JupyterHub

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
    report["spawns"] = []
    for slug in [p["slug"] for p in profiles] or [None]:
        report["spawns"].append(await spawn_profile(app, user, slug))
        # each profile starts from the configured spawner, as a new server would
        user.spawners.pop("", None)
    report["stage"] = "done"


def main():
    sandbox = os.path.realpath(sys.argv[1])
    with open(os.path.join(sandbox, "run.json")) as f:
        run = json.load(f)
    os.chdir(os.path.join(sandbox, "srv"))  # the hub's working dir, /srv/jupyterhub
    podpaths.redirect({POD_PREFIX: sandbox})
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
