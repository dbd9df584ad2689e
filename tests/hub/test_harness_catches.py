"""The start harness fails on the misconfigurations it exists for: each case takes a release
of the committed tree, puts back one value the templates once emitted, and expects the
start to fail naming the instance and the consuming program's own exception."""

import copy

import pytest

from conftest import trees
from runner import StartFailed
from test_gateway_start import start_gateway
from test_hub_start import start_hub


def release(chart, namespace, tree="reference"):
    built = next(t for t in trees() if t.name == tree)
    for _, obj in built.helm_releases(chart):
        if obj["metadata"]["namespace"] == namespace:
            return built, copy.deepcopy(obj)
    raise LookupError(namespace)


# The reference site runs no dask-gateway (CMS-Dev has its own HTCondor pool); the small
# site's hub does.
def gateway_release():
    return release("dask-gateway", "physics-hub", "small-site")


def hub_with(change):
    tree, rel = release("jupyterhub", "cmsaf-prod")
    change(rel["spec"]["values"])
    return tree, rel


def test_allowed_groups_without_manage_groups_stops_the_hub():
    def change(v):
        v["hub"]["config"]["Authenticator"].pop("manage_groups")
        v["hub"]["config"]["GenericOAuthenticator"]["claim_groups_key"] = "groups"

    with pytest.raises(
        StartFailed, match=r"cms-prod \(z2jh 4\.4\.0\): ValueError: .*manage_groups"
    ):
        start_hub(*hub_with(change))


def test_a_kubernetes_memory_quantity_fails_the_spawn():
    def change(v):
        v["singleuser"]["memory"]["limit"] = "16Gi"

    with pytest.raises(StartFailed, match=r"TraitError: 16Gi is not a valid memory specification"):
        start_hub(*hub_with(change))


def test_a_lower_case_config_section_stops_the_hub():
    def change(v):
        v["hub"]["config"]["loadRoles"] = {}

    with pytest.raises(StartFailed, match=r"SystemExit: 1"):
        start_hub(*hub_with(change))


def test_a_non_string_extra_env_fails_the_render():
    def change(v):
        v["hub"]["extraEnv"]["DAYS"] = 364

    with pytest.raises(Exception, match=r"extraEnv.DAYS had an unexpected type"):
        start_hub(*hub_with(change))


def test_a_kubernetes_worker_memory_fails_the_cluster():
    _, rel = gateway_release()
    rel["spec"]["values"]["gateway"]["backend"]["worker"]["memory"]["limit"] = "4Gi"
    with pytest.raises(StartFailed, match=r"physics-hub .*4Gi is not a valid memory specification"):
        start_gateway(rel)


def test_a_gateway_without_the_hub_url_does_not_start():
    _, rel = gateway_release()
    del rel["spec"]["values"]["gateway"]["auth"]["jupyterhub"]["apiUrl"]
    with pytest.raises(StartFailed, match=r"ValueError: Failed to infer JupyterHub API url"):
        start_gateway(rel)
