"""casa-build's spawn hook: what a coffea-casa user server needs from the hub at login.

Shipped into the hub pod by z2jh's `hub.extraFiles` (mounted beside `jupyterhub_config.py`,
so `import casa_hook` works: z2jh 4.4.0 `files/hub/jupyterhub_config.py` puts
`/usr/local/etc/jupyterhub` on `sys.path`) and installed by one `hub.extraConfig` line that
names its settings file (JSON made by casa-build from the site and instance files).

Per user server it makes, in the hub's namespace, and removes when the server stops:

- Secret `cmsaf-secrets-<user>`, mounted read-only at /etc/cmsaf-secrets: a fresh Dask CA
  (`ca.pem`) and the key and certificate the scheduler and the workers present
  (`hostcert.pem`), read by the image's `coffea_casa` package (CoffeaTeam/coffea-casa
  `coffea_casa/coffea_casa.py` CA_FILE, CERT_FILE; `docker/dask/dask_tls.yaml`); the XCache
  macaroon (`xcache_token`, `coffea_casa.py` XCACHE_FILE); the HTCondor IDTOKEN
  (`condor_token`); the OAuth access token from auth state (`access_token`, read through
  BEARER_TOKEN_FILE=/etc/cmsaf-secrets-chown/access_token); the Triton bucket keys.
- Service `dask-<user>` selecting the user's pod, ports 8786 (scheduler) and 8788 (worker),
  and a Traefik v3 IngressRouteTCP of the same name (group traefik.io: Traefik v3 reads no
  other, traefik/traefik@v3.7.9 pkg/provider/kubernetes/crd/client.go) passing TLS through by
  SNI `<user>.dask.<base>` / `<user>.dask-worker.<base>`, so Tier-2 workers reach the
  scheduler through the instance's Dask Traefik; for the instance's own in-cluster pool,
  the Service alone, named `dask-<user>.<namespace>.svc` in HOST_IP.

In the pod: the Secret volume; a secrets-chowner sidecar that copies the Secret into an
emptyDir as the user, mode 0600, and again whenever the kubelet swaps the Secret's `..data`
link (HTCondor reads a token file only if the reading user owns it and no one else may read
it: htcondor/htcondor@v25.13.2 src/condor_io/condor_auth_passwd.cpp `findToken`,
`read_secure_file(..., SECURE_FILE_VERIFY_ALL)`); `_CONDOR_SEC_TOKEN_DIRECTORY` naming that
copy's tokens.d (same file, `findTokens` reads SEC_TOKEN_DIRECTORY); HOST_IP and WORKER_IP,
the names the scheduler and workers advertise (`coffea_casa.py`: POD_IP or HOST_IP);
the Triton variables.

A second spawn over objects that are still there (a stop whose clean-up failed) keeps what
still verifies: the CA and certificate while valid for more than `renew_days`, the macaroon
and the IDTOKEN while they verify with the current keys and carry the configured claims.
The access token is always the current one. Nothing secret is ever logged.

Works with the hub images of z2jh 4.4.0 (JupyterHub 5.5, KubeSpawner 7, Python 3.12) and
3.1.0 (JupyterHub 4.0, KubeSpawner 6): it uses only their packages (kubernetes_asyncio,
cryptography, PyJWT, escapism) and the standard library. pymacaroons is in neither image,
so the macaroon is made here (libmacaroons' V1 format, HMAC-SHA256).
"""

import base64
import datetime
import hashlib
import hmac
import json
import logging
import re
import string
import time
import uuid

import escapism
import jwt
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from kubernetes_asyncio.client.rest import ApiException

log = logging.getLogger("casa_hook")

TRAEFIK_GROUP = "traefik.io"
TRAEFIK_VERSION = "v1alpha1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "casa-hook"}
SECRETS_VOLUME = "cmsaf-secrets"
CHOWN_VOLUME = "cmsaf-secrets-chown"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def install(c, settings_path):
    """Registers the hooks on KubeSpawner (called from `hub.extraConfig`)."""
    with open(settings_path) as f:
        settings = json.load(f)
    hook = SpawnHook(settings)
    # z2jh has no `singleuser.gid`: the primary group goes to the trait itself
    # (jupyterhub/kubespawner@7.0.0 kubespawner/spawner.py `gid` -> runAsGroup).
    c.KubeSpawner.gid = settings["gid"]
    c.KubeSpawner.pre_spawn_hook = hook.pre_spawn
    c.KubeSpawner.modify_pod_hook = hook.modify_pod
    c.KubeSpawner.post_stop_hook = hook.post_stop
    return hook


# ---------------------------------------------------------------------------------------
# Names


def user_label(name, prefix="", limit=63):
    """A DNS label for `name`: escaped as KubeSpawner's `escaped_username` (escapism, safe
    a-z0-9, escape char `-`), cut with a hash of the name when too long, so two users never
    share one."""
    safe = set(string.ascii_lowercase + string.digits)
    esc = escapism.escape(name, safe=safe, escape_char="-").lower()
    label = prefix + esc
    if len(label) <= limit and DNS_LABEL.match(label):
        return label
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    keep = (prefix + esc)[: limit - len(digest) - 1].strip("-") or "u"
    return f"{keep}-{digest}"


class Names:
    def __init__(self, username, base_domain, service_domain=None):
        self.user = user_label(username)
        self.secret = user_label(username, "cmsaf-secrets-")
        self.service = user_label(username, "dask-")
        self.scheduler_host = f"{self.user}.dask.{base_domain}" if base_domain else None
        self.worker_host = f"{self.user}.dask-worker.{base_domain}" if base_domain else None
        if service_domain and not base_domain:
            # Workers in the cluster (the instance's own pool) reach the scheduler through
            # the user's Service by its cluster name.
            self.scheduler_host = f"{self.service}.{service_domain}"


# ---------------------------------------------------------------------------------------
# Dask TLS


def _now():
    return datetime.datetime.now(datetime.UTC)


def make_dask_tls(names, days):
    """A fresh CA and one key+certificate for scheduler and workers (both sides present it:
    `distributed.comm.tls.scheduler/worker.cert` = `.key` = hostcert.pem in the image's
    docker/dask/dask_tls.yaml, with `require-encryption`), PEM, key first."""
    start = _now() - datetime.timedelta(minutes=5)
    end = start + datetime.timedelta(days=days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Dask CA {names.user}")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    hosts = [h for h in (names.scheduler_host, names.worker_host) if h]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"dask {names.user}")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    hostcert = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + cert.public_bytes(pem)
    return {"ca.pem": ca.public_bytes(pem).decode(), "hostcert.pem": hostcert.decode()}


def _not_after(cert):
    # `not_valid_after_utc` came with cryptography 42; the z2jh 3.1.0 hub image has 41,
    # whose `not_valid_after` is naive UTC.
    if hasattr(cert, "not_valid_after_utc"):
        return cert.not_valid_after_utc
    return cert.not_valid_after.replace(tzinfo=datetime.UTC)


def dask_tls_still_good(data, names, renew_days):
    """Whether the Secret's CA and certificate may be kept: both parse, the certificate is
    signed by the CA, names the user's hosts, and neither expires within `renew_days`."""
    try:
        ca = x509.load_pem_x509_certificate(data["ca.pem"].encode())
        certs = x509.load_pem_x509_certificates(data["hostcert.pem"].encode())
        serialization.load_pem_private_key(data["hostcert.pem"].encode(), password=None)
    except (KeyError, ValueError):
        return False
    cert = certs[0]
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    horizon = _now() + datetime.timedelta(days=renew_days)
    if min(_not_after(ca), _not_after(cert)) <= horizon:
        return False
    want = sorted(h for h in (names.scheduler_host, names.worker_host) if h)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        have = sorted(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        have = []
    return have == want


# ---------------------------------------------------------------------------------------
# XCache macaroon (libmacaroons V1, as XrdMacaroons reads it)


def _hmac(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def _packet(key, value):
    # V1 packet: 4 hex digits of the whole packet's length, key, space, value, newline
    # (rescrv/libmacaroons v1 serialization; pymacaroons serializers/binary_serializer).
    size = 4 + len(key) + 1 + len(value) + 1
    return f"{size:04x}".encode() + key + b" " + value + b"\n"


def macaroon_signature(root_key, identifier, caveats):
    # The root key is first derived with the "macaroons-key-generator" HMAC, then chained
    # over the identifier and each first-party caveat (libmacaroons macaroon_create,
    # macaroon_add_first_party_caveat).
    sig = _hmac(_hmac(b"macaroons-key-generator", root_key), identifier)
    for caveat in caveats:
        sig = _hmac(sig, caveat)
    return sig


def make_macaroon(root_key, location, caveats):
    identifier = uuid.uuid4().hex.encode()
    caveats = [c.encode() for c in caveats]
    raw = _packet(b"location", location.encode()) + _packet(b"identifier", identifier)
    for caveat in caveats:
        raw += _packet(b"cid", caveat)
    raw += _packet(b"signature", macaroon_signature(root_key, identifier, caveats))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parse_macaroon(token):
    """(location, identifier, caveats, signature) of a V1 macaroon, or None."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    fields, pos = [], 0
    while pos < len(raw):
        try:
            size = int(raw[pos : pos + 4], 16)
        except ValueError:
            return None
        body = raw[pos + 4 : pos + size]
        if size < 6 or not body.endswith(b"\n") or b" " not in body:
            return None
        key, value = body[:-1].split(b" ", 1)
        fields.append((key, value))
        pos += size
    if len(fields) < 3 or [k for k, _ in fields[:2]] != [b"location", b"identifier"]:
        return None
    if fields[-1][0] != b"signature" or any(k != b"cid" for k, _ in fields[2:-1]):
        return None
    return (
        fields[0][1].decode(),
        fields[1][1],
        [v for _, v in fields[2:-1]],
        fields[-1][1],
    )


def xcache_caveats(cfg, username, expires):
    # The caveats XrdMacaroons checks: name, activity (comma list), path (prefix), before
    # (`%Y-%m-%dT%H:%M:%SZ`, UTC) (xrootd/xrootd@v6.1.0 src/XrdMacaroons/XrdMacaroonsAuthz.cc
    # verify_name, verify_activity, verify_path, verify_before).
    return [
        f"name:{username}",
        "activity:" + ",".join(cfg["activities"]),
        f"path:{cfg['path']}",
        "before:" + expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]


def xcache_root_key(cfg):
    # The XCache server's `macaroons.secretkey` file holds the key base64-encoded and the
    # plugin decodes it (XrdMacaroonsConfigure.cc `xsecretkey`, a BIO base64 filter); the
    # sealed value is that file, so the hook decodes it the same way.
    with open(cfg["key_file"], "rb") as f:
        return base64.b64decode(b"".join(f.read().split()))


def xcache_still_good(token, cfg, username, root_key, renew_days):
    parsed = parse_macaroon(token or "")
    if parsed is None:
        return False
    location, identifier, caveats, signature = parsed
    if location != cfg["location"] or len(caveats) != 4:
        return False
    if not hmac.compare_digest(signature, macaroon_signature(root_key, identifier, caveats)):
        return False
    before = caveats[3].decode()
    if not before.startswith("before:"):
        return False
    try:
        expires = datetime.datetime.strptime(before[7:], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.UTC
        )
    except ValueError:
        return False
    want = [c.encode() for c in xcache_caveats(cfg, username, expires)]
    return caveats == want and expires > _now() + datetime.timedelta(days=renew_days)


# ---------------------------------------------------------------------------------------
# HTCondor IDTOKEN


def htcondor_signing_key(cfg):
    """The HS256 key of tokens signed with the pool key, as HTCondor derives it: the key
    file unscrambled (XOR 0xDEADBEEF, `simple_scramble`), doubled when it is the POOL key
    (htcondor/htcondor@v25.13.2 src/condor_utils/store_cred.cpp `getTokenSigningKey`), then
    HKDF-SHA256 with salt "htcondor", info "master jwt", 32 bytes
    (src/condor_io/condor_auth_passwd.cpp `generate_token`, AUTH_PW_KEY_STRENGTH)."""
    with open(cfg["key_file"], "rb") as f:
        scrambled = f.read()
    pattern = b"\xde\xad\xbe\xef"
    key = bytes(b ^ pattern[i % 4] for i, b in enumerate(scrambled))
    if cfg["key_id"] == "POOL":
        key += key
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"htcondor", info=b"master jwt").derive(
        key
    )


def make_idtoken(cfg, signing_key):
    # Claims as `condor_token_create` writes them: iss = the pool's TRUST_DOMAIN, sub =
    # the identity, iat, exp (-lifetime), jti, scope `condor:/<AUTHZ> ...`; header kid =
    # the key name, checked against the server's keys by the client (`checkToken`).
    now = int(time.time())
    claims = {
        "iss": cfg["issuer"],
        "sub": cfg["identity"],
        "iat": now,
        "exp": now + cfg["days"] * 86400,
        "jti": uuid.uuid4().hex,
    }
    if cfg["scopes"]:
        claims["scope"] = " ".join(f"condor:/{s}" for s in cfg["scopes"])
    return jwt.encode(claims, signing_key, algorithm="HS256", headers={"kid": cfg["key_id"]})


def idtoken_still_good(token, cfg, signing_key, renew_days):
    if not token:
        return False
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(
            token,
            signing_key,
            algorithms=["HS256"],
            issuer=cfg["issuer"],
            options={"require": ["exp", "iat", "jti", "sub", "iss"]},
        )
    except jwt.PyJWTError:
        return False
    scope = " ".join(f"condor:/{s}" for s in cfg["scopes"]) if cfg["scopes"] else None
    return (
        header.get("kid") == cfg["key_id"]
        and claims["sub"] == cfg["identity"]
        and claims.get("scope") == scope
        and claims["exp"] > time.time() + renew_days * 86400
    )


# ---------------------------------------------------------------------------------------
# The hooks


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _unb64(data):
    return {k: base64.b64decode(v).decode() for k, v in (data or {}).items()}


async def _read(call, *args):
    try:
        return await call(*args)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


async def _delete(call, *args):
    try:
        await call(*args)
    except ApiException as e:
        if e.status != 404:
            raise


class SpawnHook:
    def __init__(self, settings):
        self.settings = settings

    def names(self, spawner):
        dask = self.settings.get("dask") or {}
        return Names(spawner.user.name, dask.get("base_domain"), dask.get("service_domain"))

    def _custom_api(self):
        from kubespawner.clients import shared_client

        return shared_client("CustomObjectsApi")

    # -- pre_spawn: the Secret --------------------------------------------------------

    async def secret_data(self, spawner, names, old):
        s = self.settings
        data = {}
        renew = s["renew_days"]
        if dask_tls_still_good(old, names, renew):
            data["ca.pem"], data["hostcert.pem"] = old["ca.pem"], old["hostcert.pem"]
        else:
            data.update(make_dask_tls(names, s["certificate_days"]))

        xc = s.get("xcache")
        if xc:
            root_key = xcache_root_key(xc)
            username = spawner.user.name
            if xcache_still_good(old.get("xcache_token"), xc, username, root_key, renew):
                data["xcache_token"] = old["xcache_token"]
            else:
                expires = _now().replace(microsecond=0) + datetime.timedelta(days=xc["days"])
                caveats = xcache_caveats(xc, username, expires)
                data["xcache_token"] = make_macaroon(root_key, xc["location"], caveats)

        hc = s.get("htcondor")
        if hc:
            signing_key = htcondor_signing_key(hc)
            if idtoken_still_good(old.get("condor_token"), hc, signing_key, renew):
                data["condor_token"] = old["condor_token"]
            else:
                data["condor_token"] = make_idtoken(hc, signing_key)

        if s.get("access_token"):
            auth_state = await spawner.user.get_auth_state() or {}
            token = auth_state.get("access_token")
            if token:
                data["access_token"] = token

        tr = s.get("triton")
        if tr:
            core = spawner.api
            secret = await core.read_namespaced_secret(tr["secret"], tr["namespace"])
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                data[key] = base64.b64decode(secret.data[key]).decode()
        return data

    async def pre_spawn(self, spawner):
        names = self.names(spawner)
        core = spawner.api
        ns = spawner.namespace
        existing = await _read(core.read_namespaced_secret, names.secret, ns)
        old = _unb64(existing.data) if existing is not None else {}
        data = await self.secret_data(spawner, names, old)
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": names.secret,
                "namespace": ns,
                "labels": {**MANAGED_BY, "hub.jupyter.org/username": names.user},
            },
            "data": {k: _b64(v) for k, v in sorted(data.items())},
        }
        if existing is None:
            await core.create_namespaced_secret(ns, body)
            spawner.log.info("casa-hook: created Secret %s", names.secret)
        elif old != data:
            body["metadata"]["resourceVersion"] = existing.metadata.resource_version
            await core.replace_namespaced_secret(names.secret, ns, body)
            changed = sorted(k for k in set(old) | set(data) if old.get(k) != data.get(k))
            spawner.log.info("casa-hook: updated Secret %s (%s)", names.secret, ", ".join(changed))
        else:
            spawner.log.info("casa-hook: Secret %s unchanged", names.secret)

    # -- modify_pod: mounts, sidecar, variables; Service and route -------------------

    def _chowner(self, image, mounts):
        src, dst = self.settings["secret_mount"], self.settings["chown_mount"]
        # Copies every key of the Secret volume into the emptyDir as this user, mode 0600,
        # the HTCondor token also into tokens.d; then again whenever the kubelet replaces
        # the volume's `..data` link (how a Secret update lands in a pod). POSIX sh, cp,
        # chmod, mv, readlink: in every coffea-casa image.
        script = f"""set -eu
src={src}; dst={dst}
sync() {{
  mkdir -p "$dst/tokens.d"; chmod 0700 "$dst" "$dst/tokens.d"
  for f in "$src"/*; do
    [ -f "$f" ] || continue
    n=${{f##*/}}
    cp "$f" "$dst/.$n.new"; chmod 0600 "$dst/.$n.new"; mv -f "$dst/.$n.new" "$dst/$n"
  done
  if [ -f "$dst/condor_token" ]; then
    cp "$dst/condor_token" "$dst/tokens.d/.new"; chmod 0600 "$dst/tokens.d/.new"
    mv -f "$dst/tokens.d/.new" "$dst/tokens.d/condor_token"
  fi
  touch "$dst/.synced"
}}
last=
while :; do
  now=$(readlink "$src/..data" || true)
  if [ "$now" != "$last" ]; then sync; last=$now; fi
  sleep 5
done
"""
        uid, gid = self.settings["uid"], self.settings["gid"]
        return {
            "name": "cmsaf-secrets-chowner",
            "image": image,
            "command": ["/bin/sh", "-c", script],
            "volumeMounts": mounts,
            "securityContext": {
                "runAsUser": uid,
                "runAsGroup": gid,
                "runAsNonRoot": True,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
            # Ready once the first copy is there: a native sidecar's startup probe holds the
            # notebook back until then (Kubernetes sidecar containers, GA in 1.33).
            "startupProbe": {
                "exec": {"command": ["test", "-e", f"{dst}/.synced"]},
                "periodSeconds": 1,
                "failureThreshold": 60,
            },
            "resources": {
                "requests": {"cpu": "10m", "memory": "16Mi"},
                "limits": {"memory": "64Mi"},
            },
        }

    async def modify_pod(self, spawner, pod):
        s = self.settings
        names = self.names(spawner)
        spec = pod.spec
        notebook = spec.containers[0]
        spec.volumes = list(spec.volumes or [])
        spec.volumes += [
            {
                "name": SECRETS_VOLUME,
                # readable by the pod's fsGroup (the facility's gid), not by others
                "secret": {"secretName": names.secret, "defaultMode": 0o440},
            },
            {"name": CHOWN_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        ]
        notebook.volume_mounts = list(notebook.volume_mounts or [])
        notebook.volume_mounts += [
            {"name": SECRETS_VOLUME, "mountPath": s["secret_mount"], "readOnly": True},
            {"name": CHOWN_VOLUME, "mountPath": s["chown_mount"], "readOnly": True},
        ]
        sidecar = self._chowner(
            notebook.image,
            [
                {"name": SECRETS_VOLUME, "mountPath": s["secret_mount"], "readOnly": True},
                {"name": CHOWN_VOLUME, "mountPath": s["chown_mount"]},
            ],
        )
        sidecar["restartPolicy"] = "Always"
        spec.init_containers = list(spec.init_containers or []) + [sidecar]

        env = []
        if s.get("htcondor"):
            env.append(
                {"name": "_CONDOR_SEC_TOKEN_DIRECTORY", "value": f"{s['chown_mount']}/tokens.d"}
            )
        if names.scheduler_host:
            env.append({"name": "HOST_IP", "value": names.scheduler_host})
        if names.worker_host:
            env.append({"name": "WORKER_IP", "value": names.worker_host})
        tr = s.get("triton")
        if tr:
            env.append({"name": "TRITON_GRPC_ENDPOINT", "value": tr["grpc"]})
            # The model bucket, when the site knows where it is (its own object store, or
            # the store of Triton's model_repository).
            if tr.get("bucket_host"):
                env += [
                    {"name": "TRITON_BUCKET_HOST", "value": tr["bucket_host"]},
                    {"name": "TRITON_BUCKET_NAME", "value": tr["bucket"]},
                ]
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                env.append(
                    {
                        "name": key,
                        "valueFrom": {"secretKeyRef": {"name": names.secret, "key": key}},
                    }
                )
        taken = {getattr(e, "name", None) or e.get("name") for e in notebook.env or []}
        notebook.env = list(notebook.env or []) + [e for e in env if e["name"] not in taken]

        if s.get("dask"):
            labels = pod.metadata.labels or {}
            selector = {
                k: labels[k]
                for k in ("component", "hub.jupyter.org/username", "hub.jupyter.org/servername")
                if labels.get(k) is not None
            }
            await self.ensure_route(spawner, names, selector)
        return pod

    async def ensure_route(self, spawner, names, selector):
        d = self.settings["dask"]
        core = spawner.api
        ns = spawner.namespace
        labels = {**MANAGED_BY, "hub.jupyter.org/username": names.user}
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": names.service, "namespace": ns, "labels": labels},
            "spec": {
                "type": "ClusterIP",
                "selector": selector,
                "ports": [
                    {"name": "dask-scheduler", "port": d["scheduler_port"], "protocol": "TCP"},
                    {"name": "dask-worker", "port": d["worker_port"], "protocol": "TCP"},
                ],
            },
        }
        old = await _read(core.read_namespaced_service, names.service, ns)
        if old is None:
            await core.create_namespaced_service(ns, service)
            spawner.log.info("casa-hook: created Service %s", names.service)
        else:
            old_spec = old.spec
            if old_spec.selector != selector or [
                (p.name, p.port) for p in old_spec.ports or []
            ] != [(p["name"], p["port"]) for p in service["spec"]["ports"]]:
                # replace in place: the Service keeps its address
                service["metadata"]["resourceVersion"] = old.metadata.resource_version
                service["spec"]["clusterIP"] = old_spec.cluster_ip
                await core.replace_namespaced_service(names.service, ns, service)
                spawner.log.info("casa-hook: updated Service %s", names.service)
        if not d["entry_points"]:
            # No Dask Traefik: the workers are in the cluster and use the Service.
            return

        route = {
            "apiVersion": f"{TRAEFIK_GROUP}/{TRAEFIK_VERSION}",
            "kind": "IngressRouteTCP",
            "metadata": {"name": names.service, "namespace": ns, "labels": labels},
            "spec": {
                # The instance's Dask Traefik entry points (templates/dask/traefik.yaml.j2
                # --entrypoints.dask / .daskworker); v3 HostSNI takes one name
                # (traefik/traefik@v3.7.9 pkg/muxer/tcp/matcher.go).
                "entryPoints": d["entry_points"],
                "routes": [
                    {
                        "match": f"HostSNI(`{names.scheduler_host}`)",
                        "services": [{"name": names.service, "port": d["scheduler_port"]}],
                    },
                    {
                        "match": f"HostSNI(`{names.worker_host}`)",
                        "services": [{"name": names.service, "port": d["worker_port"]}],
                    },
                ],
                "tls": {"passthrough": True},
            },
        }
        custom = self._custom_api()
        args = (TRAEFIK_GROUP, TRAEFIK_VERSION, ns, "ingressroutetcps", names.service)
        old = await _read(custom.get_namespaced_custom_object, *args)
        if old is None:
            await custom.create_namespaced_custom_object(*args[:4], route)
            spawner.log.info("casa-hook: created IngressRouteTCP %s", names.service)
        elif old.get("spec") != route["spec"]:
            route["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            await custom.replace_namespaced_custom_object(*args, route)
            spawner.log.info("casa-hook: updated IngressRouteTCP %s", names.service)

    # -- post_stop: clean up ----------------------------------------------------------

    async def post_stop(self, spawner):
        names = self.names(spawner)
        core = spawner.api
        ns = spawner.namespace
        dask = self.settings.get("dask")
        if dask and dask["entry_points"]:
            custom = self._custom_api()
            await _delete(
                custom.delete_namespaced_custom_object,
                TRAEFIK_GROUP,
                TRAEFIK_VERSION,
                ns,
                "ingressroutetcps",
                names.service,
            )
        if dask:
            await _delete(core.delete_namespaced_service, names.service, ns)
        await _delete(core.delete_namespaced_secret, names.secret, ns)
        spawner.log.info(
            "casa-hook: removed Secret %s, Service and IngressRouteTCP %s",
            names.secret,
            names.service,
        )
