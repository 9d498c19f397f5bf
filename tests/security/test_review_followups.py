"""The #12 review's follow-ups: each test is a way around a rule that the review left open."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from clusters.models import Cluster
from nautes_portal.integrations.git_local import LocalGitHost
from products import rules
from products.models import DeploymentRuntime
from products.state import ProductState, Resource
from tests.api.helpers import DEPLOYMENT_WORKER, coderepo_body, kubeconfig
from tests.deployments.test_deployer import (
    PROJECTS,
    RBAC,
    add_runtime,
    deploy,
    dr_dev_index,
    register_cluster,
)
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products"
NEVER_GRANTED = "can never be granted to a product"


def tenant_files(root: Path) -> dict[str, bytes]:
    """Every file of the tenant configuration repository at HEAD ({} before the first save)."""
    host = LocalGitHost(root)
    project = host.get_project("nautes", "tenant")
    head = host.repository(project).head() if project is not None else None
    return host.repository(project).read_tree(head) if head is not None else {}


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.json()
    return response.json()


# ---- 1. The allow-list never grants Argo CD's namespace ----------------------------------
def _worker(reserved: dict[str, list[str]], **extra: Any) -> dict[str, Any]:
    body = copy.deepcopy(DEPLOYMENT_WORKER)
    body.update(api_server="https://127.0.0.1:1", kubeconfig=kubeconfig(), **extra)
    body["reserved_namespaces_allowed_products"] = reserved
    return body


@pytest.mark.parametrize(
    ("argocd", "components"),
    [
        ("argocd", None),
        ("gitops", {"deployment": {"name": "argocd", "namespace": "gitops"}}),
    ],
    ids=["default", "custom-namespace"],
)
def test_a_cluster_save_cannot_grant_the_argocd_namespace(
    admin_api: APIClient,
    secret_store: Any,
    git_root: Path,
    argocd: str,
    components: dict[str, Any] | None,
) -> None:
    """A tenant Maintainer names Argo CD's namespace in the allow-list: the product's runtime
    account would administer it and could write its own AppProjects (cluster-admin)."""
    extra = {"components_list": components} if components else {}
    body = _worker({argocd: ["nautes-labs"], "traefik": ["nautes-labs"]}, **extra)
    response = admin_api.post("/api/v1/clusters/cluster-dev", body, format="json")
    assert response.status_code == 400, response.json()
    message = response.json()["message"]
    assert f"reserved namespace {argocd} is Argo CD's namespace and {NEVER_GRANTED}" in message
    assert not Cluster.objects.filter(name="cluster-dev").exists()
    assert "nautes/overlays/production/clusters/cluster-dev.yaml" not in tenant_files(git_root)


def test_the_documented_argocd_grant_is_refused_and_an_empty_key_is_not(
    admin_api: APIClient, secret_store: Any
) -> None:
    """Upstream's own examples grant `argocd`; the key without products grants nothing."""
    refused = admin_api.post(
        "/api/v1/clusters/cluster-dev", _worker({"argocd": ["demo"]}), format="json"
    )
    assert refused.status_code == 400
    assert NEVER_GRANTED in refused.json()["message"]
    _ok(admin_api.post("/api/v1/clusters/cluster-dev", _worker({"argocd": []}), format="json"))


def _state_on(cluster: dict[str, Any]) -> ProductState:
    state = ProductState(product_name="nautes-labs", product_id="product-12")
    state.of_kind("Environment")["env-dev"] = Resource(
        "Environment", "env-dev", "envs/env-dev.yaml", {"cluster": "cluster-dev"}
    )
    state.clusters["cluster-dev"] = cluster
    return state


@pytest.mark.parametrize("argocd", ["argocd", "gitops"])
def test_a_legacy_grant_of_the_argocd_namespace_opens_nothing(argocd: str) -> None:
    """A cluster file from Git (or saved before this rule) grants it: runtimes are refused."""
    cluster = {
        "usage": "worker",
        "workerType": "deployment",
        "componentsList": {"deployment": {"name": "argocd", "namespace": argocd}},
        "reservedNamespacesAllowedProducts": {argocd: ["nautes-labs"]},
    }
    state = _state_on(cluster)
    spec = {"destination": {"environment": "env-dev", "namespaces": ["dr-admin", argocd]}}
    problems = rules.namespace_problems(
        Resource("DeploymentRuntime", "dr-admin", "runtimes/dr-admin.yaml", spec), state
    )
    assert problems == [
        rules.DR_PREFIX
        + rules.DR_COMPONENT_NAMESPACE.format(namespace=argocd)
        + f": {rules.ARGOCD_NEVER_GRANTED}"
    ]
    ppr = Resource(
        "ProjectPipelineRuntime",
        "pr-admin",
        "runtimes/pr-admin.yaml",
        {"destination": {"environment": "env-dev", "namespace": argocd}},
    )
    (problem,) = rules.namespace_problems(ppr, state)
    assert rules.ARGOCD_NEVER_GRANTED in problem
    allow_list = cluster["reservedNamespacesAllowedProducts"]
    granted = rules.allowed_namespaces(
        "nautes-labs", "product-12", allow_list, argocd_namespace=argocd
    )
    assert granted == frozenset()


def test_a_legacy_grant_refuses_the_runtime_through_the_api(
    admin_api: APIClient, alice_api: APIClient, secret_store: Any
) -> None:
    """The same through the API, with `insecure_skip_check` too: the cluster row carries the
    grant as a sync of an old cluster file leaves it."""
    _ok(admin_api.post("/api/v1/clusters/cluster-dev", _worker({}), format="json"))
    cluster = Cluster.objects.get(name="cluster-dev")
    cluster.manifest["spec"]["reservedNamespacesAllowedProducts"] = {"argocd": ["nautes-labs"]}
    cluster.reserved_namespaces_allowed_products = {"argocd": ["nautes-labs"]}
    cluster.save()
    _ok(
        alice_api.post(
            f"{BASE}/nautes-labs", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
        )
    )
    env = {"cluster": "cluster-dev", "env_type": "development"}
    _ok(alice_api.post(f"{BASE}/nautes-labs/environments/env-dev", env, format="json"))
    _ok(alice_api.post(f"{BASE}/nautes-labs/projects/api-server", {}, format="json"))
    repo = coderepo_body("api-server", project="api-server")
    _ok(alice_api.post(f"{BASE}/nautes-labs/coderepos/api-server", repo, format="json"))
    runtime = {
        "projects_ref": ["api-server"],
        "manifest_source": {"code_repo": "api-server", "target_revision": "HEAD", "path": "m"},
        "destination": {"environment": "env-dev", "namespaces": ["dr-admin", "argocd"]},
    }
    for skip in ("", "?insecure_skip_check=true"):
        response = alice_api.post(
            f"{BASE}/nautes-labs/deploymentruntimes/dr-admin{skip}", runtime, format="json"
        )
        assert response.status_code == 400, response.json()
        assert rules.ARGOCD_NEVER_GRANTED in response.json()["message"]
    assert not DeploymentRuntime.objects.filter(name="dr-admin").exists()


@pytest.fixture
def legacy_cluster(secret_store: Any, fake_kube_factory: Any) -> FakeKubeServer:
    """cluster-dev in the index with a grant of `argocd` to nautes-labs (an old file)."""
    (server,) = fake_kube_factory(argocd_installed=True)
    register_cluster(
        secret_store,
        "cluster-dev",
        server,
        reserved_namespaces_allowed_products={
            "argocd": ["nautes-labs"],
            "traefik": ["nautes-labs"],
        },
    )
    return server


def test_the_deployer_refuses_a_granted_argocd_namespace(legacy_cluster: FakeKubeServer) -> None:
    product = dr_dev_index()
    add_runtime(product, "dr-admin", namespaces=["dr-admin", "argocd"], path="m/admin")
    operation = deploy(product, "dr-admin")
    assert operation.status == "failed"
    assert rules.ARGOCD_NEVER_GRANTED in operation.steps.get(name="namespaces").error
    bindings = legacy_cluster.objects(RBAC, "rolebindings")
    assert not [b for b in bindings if b["metadata"].get("namespace") == "argocd"]

    # A sound runtime of the product deploys; its AppProject never lists Argo CD's namespace.
    assert deploy(product).status == "succeeded"
    project = legacy_cluster.get(PROJECTS, "argocd", "product-12")
    assert [d["namespace"] for d in project["spec"]["destinations"]] == ["dr-dev", "traefik"]
