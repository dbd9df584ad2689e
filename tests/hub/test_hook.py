"""The spawn hook (hub/casa_hook.py) of cms-prod, run by a real KubeSpawner against the fake
API (fakekube.py): a user's server started and stopped as the hub does it, under both hub
images' packages. What it makes is checked with other implementations than the hook's own:
the macaroon with pymacaroons and XrdMacaroons' caveat rules, the IDTOKEN with PyJWT and
HTCondor's key derivation, the certificates with cryptography; its API calls against the
Roles of the tree; the hub's output for every planted and generated secret.
"""

import base64
import datetime
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID
from pymacaroons import Macaroon, Verifier
from pymacaroons.exceptions import MacaroonInvalidSignatureException

from conftest import trees
from planted import Planted, scramble
from test_hub_start import USER, casa_escape, start_hub

NAMESPACE = "cmsaf-prod"
LABEL = casa_escape(USER.lower())
SECRET_KEYS = {
    "ca.pem",
    "hostcert.pem",
    "xcache_token",
    "condor_token",
    "access_token",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}


def cms_prod_hubs():
    found = []
    for tree in trees():
        if tree.name not in ("reference", "reference-z2jh-3.1.0"):
            continue
        for rel, obj in tree.helm_releases("jupyterhub"):
            if obj["metadata"]["namespace"] == NAMESPACE:
                found.append((f"{tree.name}:{rel}", tree, obj))
    return found


HUBS = cms_prod_hubs()


@pytest.fixture(scope="module", params=HUBS, ids=[h[0] for h in HUBS])
def run(request):
    _, tree, release = request.param
    planted = Planted(tree.site_toml())

    def lifecycle(sandbox):
        return {
            "user_label": LABEL,
            "access_tokens": planted.access_tokens,
            "pool_key_file": str(sandbox / "mounts" / "casa-hook-htcondor" / "POOL"),
            "new_pool_key": base64.b64encode(planted.new_pool_key).decode(),
        }

    instance, report = start_hub(tree, release, lifecycle, planted)
    steps = {s["step"]: s for s in report["lifecycle"]}
    return tree, instance, planted, report, steps


def role_rules(tree, namespace, name):
    for _, obj in tree.objects():
        meta = obj.get("metadata", {})
        if (obj.get("kind"), meta.get("name"), meta.get("namespace")) == ("Role", name, namespace):
            return obj["rules"]
    raise LookupError(f"no Role {namespace}/{name} in {tree.name}")


def allowed(rules, call):
    for rule in rules:
        if (
            call["group"] in rule["apiGroups"]
            and call["resource"] in rule["resources"]
            and call["verb"] in rule["verbs"]
            and (not rule.get("resourceNames") or call["name"] in rule["resourceNames"])
        ):
            return True
    return False


def htcondor_key(pool_file_bytes):
    """HTCondor's HS256 key for a POOL-signed token, written from its source: unscramble,
    double the POOL key, HKDF-SHA256(salt "htcondor", info "master jwt"), 32 bytes
    (htcondor/htcondor@v25.13.2 src/condor_utils/store_cred.cpp getTokenSigningKey,
    src/condor_io/condor_auth_passwd.cpp generate_token)."""
    key = scramble(pool_file_bytes) * 2
    return HKDF(hashes.SHA256(), 32, b"htcondor", b"master jwt").derive(key)


def verify_macaroon(token, root_key, site_xcache, username, now=None):
    """As XrdMacaroons does (xrootd/xrootd@v6.1.0 src/XrdMacaroons/XrdMacaroonsAuthz.cc): the
    location must be `all.sitename`, every caveat must be satisfied by one of the name,
    activity, path, before checkers for a read of a file under the path, and the signature
    must verify with the server's key. pymacaroons does the HMAC chain."""
    m = Macaroon.deserialize(token)
    assert m.location == site_xcache["location"]
    now = now or datetime.datetime.now(datetime.UTC)
    wanted = "/store/user/" + username  # a file under the path caveat
    v = Verifier()
    v.satisfy_general(lambda c: c.startswith("name:") and len(c) > 5)
    v.satisfy_general(lambda c: c.startswith("activity:") and "DOWNLOAD" in c[9:].split(","))
    v.satisfy_general(
        lambda c: c.startswith("path:") and (wanted + "/").startswith(c[5:].rstrip("/") + "/")
    )

    def before(c):
        if not c.startswith("before:"):
            return False
        t = datetime.datetime.strptime(c[7:], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
        return now < t

    v.satisfy_general(before)
    assert v.verify(m, root_key)
    return m


def caveats(m):
    return {c.caveat_id.split(":", 1)[0]: c.caveat_id.split(":", 1)[1] for c in m.caveats}


def test_a_spawn_makes_the_secret_service_and_route_the_pod_and_workers_need(run):
    tree, instance, planted, _, steps = run
    s = steps["spawn"]
    base = instance["instance"]["dask_base_domain"]
    secret = s["secret"]
    assert set(secret["data"]) == SECRET_KEYS
    assert secret["data"]["access_token"] == planted.access_tokens[0]
    assert secret["data"]["AWS_ACCESS_KEY_ID"] == planted.aws_key
    assert secret["data"]["AWS_SECRET_ACCESS_KEY"] == planted.aws_secret

    svc = s["service"]["spec"]
    assert [(p["name"], p["port"]) for p in svc["ports"]] == [
        ("dask-scheduler", 8786),
        ("dask-worker", 8788),
    ]
    pod = s["pod"]
    for key, value in svc["selector"].items():
        assert pod["metadata"]["labels"][key] == value
    assert svc["selector"]["component"] == "singleuser-server"

    route = s["route"]
    assert route["apiVersion"] == "traefik.io/v1alpha1"
    assert route["kind"] == "IngressRouteTCP"
    # the instance's Dask Traefik entry points (its Deployment's --entrypoints args)
    traefik = next(
        o
        for _, o in tree.objects()
        if o.get("kind") == "Deployment"
        and o["metadata"]["name"] == "dask-traefik"
        and o["metadata"]["namespace"] == NAMESPACE
    )
    args = traefik["spec"]["template"]["spec"]["containers"][0]["args"]
    entry_points = {a.split("=")[0].split(".")[1] for a in args if a.startswith("--entrypoints.")}
    assert set(route["spec"]["entryPoints"]) == entry_points == {"dask", "daskworker"}
    assert route["spec"]["tls"] == {"passthrough": True}
    assert [(r["match"], r["services"]) for r in route["spec"]["routes"]] == [
        (f"HostSNI(`{LABEL}.dask.{base}`)", [{"name": f"dask-{LABEL}", "port": 8786}]),
        (f"HostSNI(`{LABEL}.dask-worker.{base}`)", [{"name": f"dask-{LABEL}", "port": 8788}]),
    ]
    assert s["pods"] and s["services"] == [f"dask-{LABEL}"]
    assert s["routes"] == [f"dask-{LABEL}"]


def test_the_user_pod_mounts_the_secret_runs_the_chowner_and_reads_the_names(run):
    _, instance, _, _, steps = run
    su = instance["singleuser"]
    base = instance["instance"]["dask_base_domain"]
    pod = steps["spawn"]["pod"]
    spec = pod["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["cmsaf-secrets"]["secret"]["secretName"] == f"cmsaf-secrets-{LABEL}"
    assert "emptyDir" in volumes["cmsaf-secrets-chown"]
    notebook = spec["containers"][0]
    mounts = {m["mountPath"]: m for m in notebook["volumeMounts"]}
    assert mounts["/etc/cmsaf-secrets"]["readOnly"] is True
    assert mounts["/etc/cmsaf-secrets-chown"]["readOnly"] is True
    env = {e["name"]: e for e in notebook["env"]}
    assert env["HOST_IP"]["value"] == f"{LABEL}.dask.{base}"
    assert env["WORKER_IP"]["value"] == f"{LABEL}.dask-worker.{base}"
    assert "POD_IP" not in env  # coffea_casa prefers it over HOST_IP
    assert env["_CONDOR_SEC_TOKEN_DIRECTORY"]["value"] == "/etc/cmsaf-secrets-chown/tokens.d"
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        ref = env[key]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": f"cmsaf-secrets-{LABEL}", "key": key}
    assert env["TRITON_BUCKET_NAME"]["value"] == "triton-models"
    assert env["TRITON_GRPC_ENDPOINT"]["value"].endswith(":8001")

    chowner = next(c for c in spec["initContainers"] if c["name"] == "cmsaf-secrets-chowner")
    assert chowner["restartPolicy"] == "Always"
    assert chowner["image"] == notebook["image"]
    ctx = chowner["securityContext"]
    assert (ctx["runAsUser"], ctx["runAsGroup"]) == (su["uid"], su["gid"])
    assert ctx["allowPrivilegeEscalation"] is False and ctx["runAsNonRoot"] is True
    # the profile's own security context: the facility's uid and gid, no escalation
    nctx = notebook["securityContext"]
    assert (nctx["runAsUser"], nctx["runAsGroup"]) == (su["uid"], su["gid"])
    assert nctx["allowPrivilegeEscalation"] is False
    assert spec["securityContext"]["fsGroup"] == su["gid"]


def test_the_macaroon_verifies_with_the_xcache_key_and_caveats(run):
    tree, instance, planted, _, steps = run
    site_x = tree.site_toml()["xcache"]
    token = steps["spawn"]["secret"]["data"]["xcache_token"]
    m = verify_macaroon(token, planted.xcache_root, site_x, USER.lower())
    cav = caveats(m)
    assert cav["name"] == USER.lower()
    assert cav["activity"] == ",".join(site_x["activities"])
    assert cav["path"] == site_x["path"]
    expires = datetime.datetime.strptime(cav["before"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.UTC
    )
    days = instance["xcache"]["token_days"]
    left = expires - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(days=days - 1) < left <= datetime.timedelta(days=days)
    assert days <= site_x["max_token_days"]  # else XrdMacaroons refuses it
    with pytest.raises(MacaroonInvalidSignatureException):
        verify_macaroon(token, b"another key", site_x, USER.lower())
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days + 1)
    # an unmet caveat: pymacaroons reports it as a failed verification
    with pytest.raises(MacaroonInvalidSignatureException):
        verify_macaroon(token, planted.xcache_root, site_x, USER.lower(), now=later)


def test_the_htcondor_token_verifies_with_the_pool_signing_key(run):
    tree, _, planted, _, steps = run
    condor = tree.site_toml()["dask"]["htcondor"]
    token = steps["spawn"]["secret"]["data"]["condor_token"]
    assert jwt.get_unverified_header(token)["kid"] == "POOL"
    claims = jwt.decode(
        token,
        htcondor_key(planted.pool_key),
        algorithms=["HS256"],
        issuer=condor.get("trust_domain", condor["uid_domain"]),
        options={"require": ["exp", "iat", "iss", "jti", "sub"]},
    )
    assert claims["sub"] == condor["identity"]
    assert claims["scope"] == "condor:/READ condor:/WRITE"
    assert abs(claims["exp"] - claims["iat"] - condor["token_days"] * 86400) <= 1
    assert abs(claims["iat"] - time.time()) < 600
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, htcondor_key(planted.new_pool_key), algorithms=["HS256"])


def test_the_dask_certificate_is_signed_by_the_users_ca_for_both_names(run):
    _, instance, _, _, steps = run
    base = instance["instance"]["dask_base_domain"]
    data = steps["spawn"]["secret"]["data"]
    ca = x509.load_pem_x509_certificate(data["ca.pem"].encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "PRIVATE KEY" not in data["ca.pem"]  # the CA key never leaves the hub
    cert = x509.load_pem_x509_certificates(data["hostcert.pem"].encode())[0]
    assert "PRIVATE KEY" in data["hostcert.pem"]  # key and certificate in one file
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(san.get_values_for_type(x509.DNSName)) == sorted(
        [f"{LABEL}.dask.{base}", f"{LABEL}.dask-worker.{base}"]
    )
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(eku)


def test_a_second_spawn_over_leftovers_keeps_what_still_verifies(run):
    _, _, planted, _, steps = run
    first, left, again = steps["spawn"], steps["stop-failing"], steps["spawn-again"]
    # the stop's deletes failed: the objects are still there, the pod is gone
    assert left["pods"] == [] and left["secret"] and left["service"] and left["route"]
    for key in ("ca.pem", "hostcert.pem", "xcache_token", "condor_token"):
        assert again["secret"]["data"][key] == first["secret"]["data"][key], key
    assert again["secret"]["data"]["access_token"] == planted.access_tokens[1]
    # the Service and route are the same objects: same uid and address, not re-made
    assert again["service"]["metadata"]["uid"] == first["service"]["metadata"]["uid"]
    assert again["service"]["spec"]["clusterIP"] == first["service"]["spec"]["clusterIP"]
    assert again["route"]["metadata"]["uid"] == first["route"]["metadata"]["uid"]
    made = {(c["verb"], c["resource"]) for c in again["calls"] if c["verb"] in ("create", "update")}
    assert ("create", "secrets") not in made and ("update", "services") not in made
    assert ("create", "services") not in made and ("create", "ingressroutetcps") not in made
    assert ("update", "secrets") in made  # the new access token

    drifted = steps["spawn-new-pool-key"]
    assert drifted["service"]["spec"]["selector"] == first["service"]["spec"]["selector"]
    assert drifted["service"]["metadata"]["uid"] == first["service"]["metadata"]["uid"]
    assert drifted["service"]["spec"]["clusterIP"] == first["service"]["spec"]["clusterIP"]
    assert drifted["route"]["spec"] == first["route"]["spec"]
    assert drifted["route"]["metadata"]["uid"] == first["route"]["metadata"]["uid"]

    rotated = drifted["secret"]["data"]
    assert rotated["condor_token"] != first["secret"]["data"]["condor_token"]
    jwt.decode(rotated["condor_token"], htcondor_key(planted.new_pool_key), algorithms=["HS256"])
    assert rotated["ca.pem"] == first["secret"]["data"]["ca.pem"]
    assert rotated["xcache_token"] == first["secret"]["data"]["xcache_token"]


def test_a_stop_removes_everything_and_the_next_spawn_gets_a_fresh_ca(run):
    _, _, _, _, steps = run
    for name in ("stop", "stop-2"):
        s = steps[name]
        assert (s["secret"], s["service"], s["route"]) == (None, None, None), name
        assert s["pods"] == [] and s["services"] == [] and s["routes"] == [], name
        assert not [n for n in s["secrets"] if n.startswith("cmsaf-secrets-")], name
    fresh = steps["spawn-after-stop"]["secret"]["data"]
    assert fresh["ca.pem"] != steps["spawn"]["secret"]["data"]["ca.pem"]


def test_the_roles_grant_exactly_the_hooks_calls(run):
    tree, _, _, report, steps = run
    calls = [c for s in steps.values() for c in s["calls"]] + report["api_calls"]
    hook = [c for c in calls if c["resource"] in ("secrets", "services", "ingressroutetcps")]
    extra = role_rules(tree, NAMESPACE, "hub-extra")
    triton_ns = tree.site_toml()["triton"]["namespace"]
    triton = role_rules(tree, triton_ns, "hub-triton-keys")
    used = set()
    for c in hook:
        rules = extra if c["namespace"] == NAMESPACE else triton
        assert c["namespace"] in (NAMESPACE, triton_ns), c
        assert allowed(rules, c), f"not granted: {c}"
        if c["namespace"] == NAMESPACE:
            used.add((c["group"], c["resource"], c["verb"]))
    granted = {
        (g, r, v)
        for rule in extra
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert used == granted, f"unused grants: {granted - used}"
    assert {(c["verb"], c["name"]) for c in hook if c["namespace"] == triton_ns} == {
        ("get", "triton-s3")
    }


def test_no_secret_reaches_the_hub_log(run):
    _, _, planted, report, steps = run
    output = report["output"]
    generated = []
    for s in steps.values():
        for key, value in ((s.get("secret") or {}).get("data") or {}).items():
            if key == "ca.pem":
                continue
            generated.append(value)
            if "PRIVATE KEY" in value:
                body = re.search(r"-----BEGIN PRIVATE KEY-----\n(.+?)\n", value, re.DOTALL)
                generated.append(body.group(1))
    for secret in planted.plaintexts() + generated:
        assert secret not in output, "a secret was printed by the hub"
    assert "casa-hook: created Secret" in output  # the log is the one being scanned


def test_the_chowner_copies_the_secret_as_the_user_and_follows_updates(run):
    """The sidecar's own script, run here with the Secret volume laid out as the kubelet
    does it (files behind the `..data` link, swapped atomically on update)."""
    _, _, _, _, steps = run
    chowner = next(
        c
        for c in steps["spawn"]["pod"]["spec"]["initContainers"]
        if c["name"] == "cmsaf-secrets-chowner"
    )
    script = chowner["command"][2]
    work = Path(tempfile.mkdtemp(prefix="casa-chowner-"))
    src, dst = work / "src", work / "dst"
    src.mkdir()
    dst.mkdir()

    def publish(version, files):
        d = src / f"..{version}"
        d.mkdir()
        for name, text in files.items():
            (d / name).write_text(text)
        tmp = src / "..data_tmp"
        tmp.symlink_to(d.name)
        os.replace(tmp, src / "..data")
        for name in files:
            if not (src / name).is_symlink():
                (src / name).symlink_to(f"..data/{name}")

    publish("v1", {"condor_token": "t1", "access_token": "a1"})
    script = script.replace(
        "src=/etc/cmsaf-secrets; dst=/etc/cmsaf-secrets-chown", f"src={src}; dst={dst}"
    ).replace("sleep 5", "sleep 0.2")
    proc = subprocess.Popen(["/bin/sh", "-c", script])
    try:
        deadline = time.time() + 10
        while not (dst / ".synced").exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (dst / "tokens.d" / "condor_token").read_text() == "t1"
        assert (dst / "access_token").read_text() == "a1"
        for f in (dst / "access_token", dst / "tokens.d" / "condor_token"):
            st = f.stat()
            assert st.st_mode & 0o777 == 0o600 and st.st_uid == os.getuid()
        publish("v2", {"condor_token": "t2", "access_token": "a2"})
        deadline = time.time() + 10
        token = dst / "tokens.d" / "condor_token"
        while token.read_text() != "t2" and time.time() < deadline:
            time.sleep(0.1)
        assert (dst / "access_token").read_text() == "a2"
        assert (dst / "tokens.d" / "condor_token").read_text() == "t2"
    finally:
        proc.kill()
        proc.wait()
