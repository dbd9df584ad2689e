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


def logins_for(instance):
    """(userinfo the issuer returns, allowed?, admin?) for the instance's intent."""
    auth = instance["auth"]
    groups = auth.get("allowed_groups") or []
    cases = [({"email": USER, "groups": groups[:1] or ["some-group"]}, True, False)]
    if groups:
        cases.append(({"email": "outsider@example.org", "groups": ["not-a-member"]}, False, False))
    for admin in auth.get("admin_users") or []:
        cases.append(({"email": admin, "groups": []}, True, True))
    return cases


def start_hub(tree, release):
    version = release["spec"]["chart"]["spec"]["version"]
    fixture = Z2JH_FIXTURES / version
    assert fixture.is_dir(), f"no z2jh {version} fixtures in {Z2JH_FIXTURES}"
    instance = tree.instance_for(release["metadata"]["namespace"])
    run = {"user": USER, "logins": [{"userinfo": u} for u, _, _ in logins_for(instance)]}
    sandbox = Path(tempfile.mkdtemp(prefix="casa-hub-")) / "jupyterhub"
    _, env = make_sandbox(str(sandbox), str(fixture), release, run)
    what = f"{instance['instance']['name']} (z2jh {version})"
    return instance, run_start(venv_python(f"z2jh-{version}"), "hub_start.py", sandbox, env, what)


@pytest.fixture(scope="module", params=HUBS, ids=[h[0] for h in HUBS])
def started(request):
    _, tree, _, release = request.param
    instance, report = start_hub(tree, release)
    return tree, release, instance, report


def test_the_hub_starts_with_kubespawner_and_the_generic_authenticator(started):
    _, _, instance, report = started
    assert report["stage"] == "done"
    assert report["authenticator"]["class"] == "oauthenticator.generic.GenericOAuthenticator"
    assert report["spawner_class"] == "kubespawner.spawner.KubeSpawner"
    assert report["authenticator"]["login_service"] == instance["auth"]["login_service"]
    assert report["authenticator"]["username_claim"] == "email"


def test_logins_follow_the_allowed_groups(started):
    _, _, instance, report = started
    for (userinfo, allowed, admin), got in zip(logins_for(instance), report["logins"], strict=True):
        assert got["allowed"] is allowed, (userinfo, got)
        if allowed:
            assert got["name"] == userinfo["email"].lower()
            assert got["admin"] is admin, (userinfo, got)


def test_every_profile_spawns_with_its_image_and_the_sites_resources(started):
    _, _, instance, report = started
    su = instance["singleuser"]
    by_name = {p["display_name"]: p for p in instance.get("profile", [])}
    assert [p["display_name"] for p in report["profiles"]] == list(by_name)
    for profile, spawn in zip(report["profiles"], report["spawns"], strict=True):
        want = by_name[profile["display_name"]]
        assert spawn["image"] == want["image"]
        assert spawn["pod"]["spec"]["containers"][0]["image"] == want["image"]
        assert spawn["mem_limit"] == quantity_bytes(su["memory_limit"])
        assert spawn["mem_guarantee"] == quantity_bytes(su["memory_guarantee"])
        assert spawn["cpu_limit"] == su["cpu_limit"]
        assert spawn["cpu_guarantee"] == su["cpu_guarantee"]
        assert spawn["pvc"]["spec"]["resources"]["requests"]["storage"] == su["storage"]


def test_the_worker_image_is_named_as_the_notebook_image_expects(started):
    # prepare-env-cc.sh replaces the image's repository with $WORKER_IMAGE and the tag
    # `development` with $TAG (CoffeaTeam/coffea-casa `docker/prepare-env/prepare-env-cc.sh`).
    tree, _, instance, report = started
    default_worker = tree.site_toml()["dask"]["worker_image"]
    by_name = {p["display_name"]: p for p in instance.get("profile", [])}
    for profile, spawn in zip(report["profiles"], report["spawns"], strict=True):
        worker = by_name[profile["display_name"]].get("worker_image", default_worker)
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
        assert DNS_LABEL.match(spawn["pvc"]["metadata"]["name"])
