"""Every generated JupyterHub starts under the hub image's own packages and does what its
instance file says.

For each jupyterhub HelmRelease of each tree (see conftest): the z2jh hub pod's files and
environment are made from the release (podfiles.py), then hub_start.py runs z2jh's
unmodified `jupyterhub_config.py` with JupyterHub, the authenticator and KubeSpawner of
that chart version's hub image. A misconfiguration fails the test with the instance and
the exception. On a start that succeeds, the test checks what the users get against the
instance file: who may log in, each profile's image, memory and CPU as the site wrote
them, the label the per-user Dask Service selects on, the worker image variables.
"""

import re
import tempfile
from pathlib import Path

import pytest

from conftest import Z2JH_FIXTURES, releases, venv_python
from planted import Planted
from podfiles import make_sandbox
from runner import run_start

HUBS = releases("jupyterhub")

# An outside user with an address in mixed case: usernames are the `email` claim,
# lower-cased by the authenticator (`Authenticator.normalize_username`).
USER = "Jane.Doe@Example.org"
# Kubernetes label values: at most 63 characters, alphanumeric at both ends.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

SUFFIXES = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "": 1,
}  # fmt: skip


def quantity_bytes(q):
    """A Kubernetes quantity as the site writes it, in bytes."""
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", q)
    return int(float(m.group(1)) * SUFFIXES[m.group(2)])


def casa_escape(name):
    """The per-user name coffea-casa's spawn hook gives the Dask Service and selects pods
    by (`jhub_user`): alphanumerics kept, anything else `-` and its hex code
    (CoffeaTeam/coffea-casa `charts/coffea-casa/files/hub-extra/secret_creation_hook.py`
    `escape_username`; = escapism.escape(name, safe=[a-z0-9], escape_char="-").lower())."""
    return "".join(c if c.isalnum() else f"-{ord(c):x}" for c in name).lower()


def login_kind(instance):
    """How the instance's users log in: `dex`, `oidc` or `cilogon` (one of [auth])."""
    return next(k for k in ("dex", "oidc", "cilogon") if k in instance["auth"])


AUTHENTICATORS = {
    "dex": "oauthenticator.generic.GenericOAuthenticator",
    "oidc": "oauthenticator.generic.GenericOAuthenticator",
    "cilogon": "oauthenticator.cilogon.CILogonOAuthenticator",
}


def logins_for(instance):
    """(userinfo the issuer returns, allowed?, admin?, the hub user's name) for the
    instance's intent."""
    auth = instance["auth"]
    groups = auth.get("allowed_groups") or []
    admins = auth.get("admin_users") or []
    kind = login_kind(instance)
    if kind == "cilogon":
        return cilogon_logins(auth, groups, admins)
    claim = "email" if kind == "dex" else auth["oidc"]["username_claim"]
    group_claim = "groups" if kind == "dex" else auth["oidc"].get("groups_claim") or "groups"
    cases = [({claim: USER, group_claim: groups[:1] or ["some-group"]}, True, False, USER.lower())]
    if groups:
        outsider = "outsider@example.org"
        cases.append(({claim: outsider, group_claim: ["not-a-member"]}, False, False, outsider))
    for admin in admins:
        cases.append(({claim: admin, group_claim: []}, True, True, admin.lower()))
    return cases


def cilogon_logins(auth, groups, admins):
    """One user per identity provider, named as its `username_derivation` says; admins through
    the first IdP that strips its domain (CILogonOAuthenticator `user_info_to_username`,
    `check_allowed`: an IdP's `allow_all`, then its `allowed_domains`)."""
    cases = []
    for idp in auth["cilogon"]["idp"]:
        domain = idp.get("strip_domain") or "example.org"
        value = f"jane.doe@{domain}"
        name = value
        if idp.get("strip_domain"):
            name = value.removesuffix("@" + idp["strip_domain"])
        elif idp.get("prefix"):
            name = f"{idp['prefix']}:{value}"
        allowed = bool(idp.get("allow_all")) or domain in (idp.get("allowed_domains") or [])
        userinfo = {"idp": idp["entity_id"], idp["username_claim"]: value, "email": value}
        cases.append((userinfo, allowed, False, name.lower()))
        if idp.get("allowed_domains") and not idp.get("allow_all"):
            other = "jane.doe@elsewhere.example.com"
            userinfo = {"idp": idp["entity_id"], idp["username_claim"]: other, "email": other}
            cases.append((userinfo, False, False, None))
    stripping = next((i for i in auth["cilogon"]["idp"] if i.get("strip_domain")), None)
    for admin in admins if stripping else []:
        value = f"{admin}@{stripping['strip_domain']}"
        userinfo = {"idp": stripping["entity_id"], stripping["username_claim"]: value}
        cases.append((userinfo, True, True, admin.lower()))
    return cases


def start_hub(tree, release, lifecycle=None, planted=None):
    """Starts the hub of `release`; with `lifecycle` (see hub_start.py) also runs its default
    server's start/stop steps. Returns (instance, report)."""
    version = release["spec"]["chart"]["spec"]["version"]
    fixture = Z2JH_FIXTURES / version
    assert fixture.is_dir(), f"no z2jh {version} fixtures in {Z2JH_FIXTURES}"
    instance = tree.instance_for(release["metadata"]["namespace"])
    planted = planted or Planted(tree.site_toml())
    run = {
        "user": USER,
        "logins": [{"userinfo": u} for u, *_ in logins_for(instance)],
        "kube_objects": planted.kube_objects(),
    }
    sandbox = Path(tempfile.mkdtemp(prefix="casa-hub-")) / "jupyterhub"
    if lifecycle:
        run["lifecycle"] = lifecycle(sandbox)
    _, env = make_sandbox(str(sandbox), str(fixture), release, run, planted.mounted())
    what = f"{instance['instance']['name']} (z2jh {version})"
    return instance, run_start(venv_python(f"z2jh-{version}"), "hub_start.py", sandbox, env, what)


@pytest.fixture(scope="module", params=HUBS, ids=[h[0] for h in HUBS])
def started(request):
    _, tree, _, release = request.param
    instance, report = start_hub(tree, release)
    return tree, release, instance, report


def test_the_hub_starts_with_kubespawner_and_the_instances_authenticator(started):
    _, _, instance, report = started
    assert report["stage"] == "done"
    assert report["authenticator"]["class"] == AUTHENTICATORS[login_kind(instance)]
    assert report["spawner_class"] == "kubespawner.spawner.KubeSpawner"
    assert report["authenticator"]["login_service"] == instance["auth"]["login_service"]
    if login_kind(instance) == "dex":
        assert report["authenticator"]["username_claim"] == "email"
    elif login_kind(instance) == "oidc":
        assert (
            report["authenticator"]["username_claim"] == instance["auth"]["oidc"]["username_claim"]
        )


def test_logins_follow_the_allowed_groups_and_identity_providers(started):
    _, _, instance, report = started
    cases = logins_for(instance)
    for (userinfo, allowed, admin, name), got in zip(cases, report["logins"], strict=True):
        assert got["allowed"] is allowed, (userinfo, got)
        if allowed:
            assert got["name"] == name, (userinfo, got)
            assert got["admin"] is admin, (userinfo, got)


def test_every_profile_spawns_with_its_image_and_its_resources(started):
    _, _, instance, report = started
    su = instance["singleuser"]
    by_name = {p["display_name"]: p for p in instance.get("profile", [])}
    assert [p["display_name"] for p in report["profiles"]] == list(by_name)
    for profile, spawn in zip(report["profiles"], report["spawns"], strict=True):
        want = by_name[profile["display_name"]]
        cpu = want.get("cpu") or su["cpu"]
        memory = want.get("memory") or su["memory"]
        container = spawn["pod"]["spec"]["containers"][0]
        assert spawn["image"] == want["image"]
        assert container["image"] == want["image"]
        assert spawn["mem_limit"] == quantity_bytes(memory["limit"])
        assert spawn["mem_guarantee"] == quantity_bytes(memory["guarantee"])
        assert spawn["cpu_limit"] == cpu["limit"]
        assert spawn["cpu_guarantee"] == cpu["guarantee"]
        home = su.get("home")
        if home:
            assert spawn["pvc"]["spec"]["resources"]["requests"]["storage"] == home["size"]
            mode = home.get("access_mode", "ReadWriteOnce")
            assert spawn["pvc"]["spec"]["accessModes"] == [mode]
        else:
            assert spawn["pvc"] is None, spawn["pvc"]


def test_gpu_profiles_ask_for_the_device_plugins_resource_on_its_nodes(started):
    # k8s-device-plugin@v0.20.0: `nvidia.com/gpu` (a whole GPU or a time-sliced share,
    # product label `-SHARED`), `nvidia.com/mig-<profile>` under the mixed MIG strategy.
    _, _, instance, report = started
    by_name = {p["display_name"]: p for p in instance.get("profile", [])}
    for profile, spawn in zip(report["profiles"], report["spawns"], strict=True):
        want = by_name[profile["display_name"]]
        spec = spawn["pod"]["spec"]
        limits = spec["containers"][0]["resources"].get("limits") or {}
        gpu = want.get("gpu")
        if not gpu:
            assert not any(k.startswith("nvidia.com/") for k in limits), limits
            continue
        mig = gpu.get("mig")
        resource = f"nvidia.com/mig-{mig}" if mig else "nvidia.com/gpu"
        assert limits.get(resource) == str(gpu.get("count", 1)), limits
        selector = spec.get("nodeSelector") or {}
        if mig:
            assert selector[f"nvidia.com/mig-{mig}.product"] == f"{gpu['product']}-MIG-{mig}"
        elif gpu.get("shared"):
            assert selector["nvidia.com/gpu.product"] == f"{gpu['product']}-SHARED"
        else:
            assert selector["nvidia.com/gpu.product"] == gpu["product"]
        tolerated = {t["key"] for t in spec.get("tolerations") or []}
        for t in want.get("tolerations") or []:
            assert t["key"] in tolerated, spec.get("tolerations")
        # The chart's own user-pod tolerations stay.
        assert "hub.jupyter.org/dedicated" in tolerated


def test_the_worker_image_is_named_as_the_notebook_image_expects(started):
    # prepare-env-cc.sh replaces the image's repository with $WORKER_IMAGE and the tag
    # `development` with $TAG (CoffeaTeam/coffea-casa `docker/prepare-env/prepare-env-cc.sh`).
    tree, _, instance, report = started
    default_worker = tree.site_toml().get("dask", {}).get("worker_image")
    by_name = {p["display_name"]: p for p in instance.get("profile", [])}
    for profile, spawn in zip(report["profiles"], report["spawns"], strict=True):
        worker = by_name[profile["display_name"]].get("worker_image", default_worker)
        if worker is None:
            assert "WORKER_IMAGE" not in spawn["environment"]
            continue
        repository, tag = worker.rsplit(":", 1)
        assert spawn["environment"]["WORKER_IMAGE"] == repository
        assert spawn["environment"]["TAG"] == tag


def test_user_pods_carry_the_label_the_dask_service_selects(started):
    _, _, _, report = started
    for spawn in report["spawns"]:
        labels = spawn["pod"]["metadata"]["labels"]
        assert labels["jhub_user"] == casa_escape(USER.lower())
        for key, value in labels.items():
            # z2jh leaves `app` unset (nameOverride is null); the API server reads a
            # JSON null label as "".
            assert LABEL_VALUE.match(value or "") and len(value or "") <= 63, (key, value)
        assert DNS_LABEL.match(spawn["pod"]["metadata"]["name"])
        if spawn["pvc"] is not None:
            assert DNS_LABEL.match(spawn["pvc"]["metadata"]["name"])
