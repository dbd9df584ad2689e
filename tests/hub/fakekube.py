"""A small in-process Kubernetes API server for the hub tests, on loopback only.

It answers the calls KubeSpawner and the spawn hook make, the way the API server does
(kubernetes/kubernetes `staging/src/k8s.io/apiserver`: REST paths, 404/409 Status objects,
resourceVersion, list + watch): namespaced core objects under `/api/v1/namespaces/<ns>/`,
custom objects under `/apis/<group>/<version>/namespaces/<ns>/`, each kept as the JSON it
was given plus metadata (uid, resourceVersion, creationTimestamp). A created pod is Running
and ready at once, at 127.0.0.1; a deleted one is gone at once (watchers see DELETED).
Equality label selectors are honoured. Every request is logged with its RBAC verb, group
and resource, so a test can check them against Roles. `faults` makes chosen calls fail with
a status code (a stop whose clean-up fails).

aiohttp is in both hub images' requirements (a kubernetes_asyncio dependency).
"""

import asyncio
import copy
import datetime
import json
import re
import uuid

from aiohttp import web

CORE = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/(?P<res>[^/]+)(?:/(?P<name>[^/]+))?$")
GROUP = re.compile(
    r"^/apis/(?P<group>[^/]+)/(?P<version>[^/]+)/namespaces/(?P<ns>[^/]+)/(?P<res>[^/]+)"
    r"(?:/(?P<name>[^/]+))?$"
)
KINDS = {
    "pods": "Pod",
    "secrets": "Secret",
    "services": "Service",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "events": "Event",
}


def status(code, reason, message):
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return web.json_response(body, status=code)


def matches(obj, selector):
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, (selector or "").split(",")):
        key, _, value = term.partition("=")
        if labels.get(key.rstrip("=")) != value.lstrip("="):
            return False
    return True


class FakeKube:
    def __init__(self):
        self.objects = {}  # (group, resource, ns, name) -> object
        self.events = []  # (rv, type, group, resource, ns, object)
        self.rv = 100
        self.calls = []  # {method, verb, group, resource, namespace, name, status}
        self.faults = {}  # (verb, group, resource) -> status code
        self.changed = asyncio.Condition()
        self.url = None
        self._runner = None

    async def start(self):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self):
        if self._runner is not None:
            await self._runner.cleanup()

    def kubeconfig(self):
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "hub", "user": {"token": "hub-service-account"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "hub"}}],
            "current-context": "fake",
        }

    # -- what the tests read -------------------------------------------------------

    def get(self, group, resource, ns, name):
        return copy.deepcopy(self.objects.get((group, resource, ns, name)))

    def names(self, group, resource, ns):
        return sorted(n for (g, r, s, n) in self.objects if (g, r, s) == (group, resource, ns))

    def put(self, group, resource, ns, obj):
        """Plants an object (as if another controller had made it)."""
        self._store(group, resource, ns, obj["metadata"]["name"], copy.deepcopy(obj), "ADDED")

    # -- the API -----------------------------------------------------------------------

    def _store(self, group, res, ns, name, obj, kind):
        self.rv += 1
        meta = obj.setdefault("metadata", {})
        meta["name"], meta["namespace"] = name, ns
        meta["resourceVersion"] = str(self.rv)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault(
            "creationTimestamp",
            datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        if kind == "DELETED":
            self.objects.pop((group, res, ns, name), None)
        else:
            self.objects[(group, res, ns, name)] = obj
        self.events.append((self.rv, kind, group, res, ns, copy.deepcopy(obj)))

    async def _notify(self):
        async with self.changed:
            self.changed.notify_all()

    async def handle(self, request):
        m = CORE.match(request.path)
        if m:
            group, version = "", "v1"
        else:
            m = GROUP.match(request.path)
            if not m:
                return status(404, "NotFound", f"no route {request.path}")
            group, version = m["group"], m["version"]
        ns, res, name = m["ns"], m["res"], m["name"]
        watch = request.query.get("watch") in ("true", "True", "1")
        verb = {
            "GET": "get" if name else ("watch" if watch else "list"),
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete",
        }.get(request.method, request.method.lower())
        call = {
            "method": request.method,
            "verb": verb,
            "group": group,
            "resource": res,
            "namespace": ns,
            "name": name,
        }
        self.calls.append(call)
        fault = self.faults.get((verb, group, res))
        if fault:
            call["status"] = fault
            return status(fault, "InternalError", "injected by the test")
        response = await self._answer(request, verb, group, version, res, ns, name)
        call["status"] = response.status
        await self._notify()
        return response

    async def _answer(self, request, verb, group, version, res, ns, name):
        key = (group, res, ns, name)
        if verb == "get":
            obj = self.objects.get(key)
            if obj is None:
                return status(404, "NotFound", f'{res} "{name}" not found')
            return web.json_response(obj)
        if verb == "list":
            selector = request.query.get("labelSelector")
            items = [
                o
                for (g, r, s, _), o in sorted(self.objects.items())
                if (g, r, s) == (group, res, ns) and matches(o, selector)
            ]
            kind = KINDS.get(res, res)
            return web.json_response(
                {
                    "kind": f"{kind}List",
                    "apiVersion": f"{group}/{version}" if group else "v1",
                    "metadata": {"resourceVersion": str(self.rv)},
                    "items": items,
                }
            )
        if verb == "watch":
            return await self._watch(request, group, res, ns)
        if verb == "create":
            obj = await request.json()
            name = obj.get("metadata", {}).get("name")
            if (group, res, ns, name) in self.objects:
                return status(409, "AlreadyExists", f'{res} "{name}" already exists')
            if res == "pods":
                obj["status"] = self._running(obj)
            if res == "services":
                obj.setdefault("spec", {})["clusterIP"] = (
                    f"10.96.{self.rv % 250}.{len(self.objects) % 250 + 1}"
                )
            self._store(group, res, ns, name, obj, "ADDED")
            return web.json_response(self.objects[(group, res, ns, name)], status=201)
        if verb == "update":
            obj = await request.json()
            old = self.objects.get(key)
            if old is None:
                return status(404, "NotFound", f'{res} "{name}" not found')
            sent = obj.get("metadata", {}).get("resourceVersion")
            if sent and sent != old["metadata"]["resourceVersion"]:
                return status(409, "Conflict", "the object has been modified")
            obj["metadata"]["uid"] = old["metadata"]["uid"]
            obj["metadata"]["creationTimestamp"] = old["metadata"]["creationTimestamp"]
            if res == "services":
                if obj.get("spec", {}).get("clusterIP") not in (None, old["spec"]["clusterIP"]):
                    return status(422, "Invalid", "spec.clusterIP: field is immutable")
                obj["spec"]["clusterIP"] = old["spec"]["clusterIP"]
            self._store(group, res, ns, name, obj, "MODIFIED")
            return web.json_response(self.objects[key])
        if verb == "delete":
            old = self.objects.get(key)
            if old is None:
                return status(404, "NotFound", f'{res} "{name}" not found')
            self._store(group, res, ns, name, copy.deepcopy(old), "DELETED")
            return web.json_response(
                {"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}}
            )
        return status(405, "MethodNotAllowed", f"{verb} is not served here")

    def _running(self, pod):
        containers = pod.get("spec", {}).get("containers", [])
        return {
            "phase": "Running",
            "podIP": "127.0.0.1",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": c["name"],
                    "ready": True,
                    "restartCount": 0,
                    "image": c.get("image"),
                    "imageID": "",
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                }
                for c in containers
            ],
        }

    async def _watch(self, request, group, res, ns):
        since = int(request.query.get("resourceVersion") or 0)
        selector = request.query.get("labelSelector")
        timeout = min(float(request.query.get("timeoutSeconds") or 1), 1.0)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for rv, kind, g, r, s, obj in self.events:
                if rv > since and (g, r, s) == (group, res, ns) and matches(obj, selector):
                    await response.write(
                        (json.dumps({"type": kind, "object": obj}) + "\n").encode()
                    )
                    since = rv
            left = deadline - loop.time()
            if left <= 0:
                break
            async with self.changed:
                try:
                    await asyncio.wait_for(self.changed.wait(), left)
                except TimeoutError:
                    pass
        await response.write_eof()
        return response
