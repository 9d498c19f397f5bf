"""The console's actions through the REST API (#15): every endpoint at every level, 202 with
the operation, the refusals' codes and messages, and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from nautes_portal.models import AuditEvent
from nautes_portal.operations import operation_run
from nautes_portal.operations.models import Operation
from products.models import Product
from tests.deployments.test_deployer import cluster_dev  # noqa: F401
from tests.deployments.workloads import (  # noqa: F401
    ConsoleWorld,
    console_world,
    serve_workloads,
)

pytestmark = pytest.mark.django_db

RUNTIME = "/api/v1/products/nautes-labs/deploymentruntimes/dr-dev"
POD = "api-server-6f9c-x2x4q"
# Every console action: (method, path, body, the least access level allowed).
ACTIONS: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("post", f"{RUNTIME}/sync", None, 30),
    ("post", f"{RUNTIME}/sync", {"prune": True, "dry_run": True}, 30),
    ("post", f"{RUNTIME}/refresh", None, 30),
    ("post", f"{RUNTIME}/resources/restart", {"kind": "Deployment", "name": "api-server"}, 30),
    ("delete", f"{RUNTIME}/pods/{POD}", None, 30),
    ("post", f"{RUNTIME}/rollback", {"id": 1}, 40),
]
LEVELS = {"bob": 20, "alice": 30, "mona": 40}


@pytest.fixture
def world(console_world: ConsoleWorld) -> ConsoleWorld:  # noqa: F811
    return console_world


@pytest.fixture
def as_user(api_client_for: Callable[[Any], APIClient]) -> Callable[[str], APIClient]:
    def make(username: str) -> APIClient:
        return api_client_for(get_user_model().objects.get(username=username))

    return make


def call(client: APIClient, method: str, path: str, body: dict[str, Any] | None) -> Any:
    return getattr(client, method)(path, body, format="json")


def console_operations() -> list[str]:
    return list(
        Operation.objects.filter(kind__startswith="runtime.").values_list("kind", flat=True)
    )


@pytest.mark.parametrize(("method", "path", "body", "needs"), ACTIONS)
def test_each_action_at_each_level(
    world: ConsoleWorld,
    as_user: Callable[[str], APIClient],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    needs: int,
) -> None:
    world.manual_sync_policy()  # so that a rollback is possible at all
    assert call(APIClient(), method, path, body).status_code == 401
    for username in ("carol", "olga"):  # no member of nautes-labs; olga owns another product
        hidden = call(as_user(username), method, path, body)
        assert hidden.status_code == 404, (username, hidden.json())
        assert set(hidden.json()) == {"code", "reason", "message", "metadata"}
        assert "dr-dev" not in hidden.json()["message"]
    for username, level in LEVELS.items():
        response = call(as_user(username), method, path, body)
        if level < needs:
            assert response.status_code == 403, (username, response.json())
            assert response.json()["reason"] == "NO_AUTHORIZATION"
        else:
            assert response.status_code == 202, (username, response.json())
            reply = response.json()
            assert reply["status"] == "pending" and reply["product"] == "nautes-labs"
            assert reply["target"] == "nautes-labs/dr-dev" and reply["kind"].startswith("runtime.")
            done = operation_run(reply["id"])
            assert done.status == "succeeded", done.error
            event = AuditEvent.objects.filter(kind="DeploymentRuntime").latest("pk")
            assert event.actor_name == username and event.product_name == "nautes-labs"
            break  # the first allowed level acted; the object changed (a pod is gone)
    assert len(console_operations()) == 1


@pytest.mark.parametrize(("method", "path", "body", "needs"), ACTIONS)
def test_a_public_products_runtimes_are_acted_on_by_members_only(
    world: ConsoleWorld,
    as_user: Callable[[str], APIClient],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    needs: int,
) -> None:
    """Everyone may read a public product's configuration; its console is its members'."""
    Product.objects.filter(name="nautes-labs").update(visibility="public")
    assert as_user("carol").get("/api/v1/products/nautes-labs").status_code == 200
    hidden = call(as_user("carol"), method, path, body)
    assert hidden.status_code == 404 and hidden.json()["reason"] == "GROUP_NOT_FOUND"
    assert console_operations() == []


def test_the_sync_options_and_their_refusals(
    world: ConsoleWorld, as_user: Callable[[str], APIClient]
) -> None:
    alice = as_user("alice")
    selected = {"group": "apps", "kind": "Deployment", "name": "api-server", "namespace": "dr-dev"}
    response = alice.post(
        f"{RUNTIME}/sync",
        {"resources": [selected], "apply_out_of_sync_only": True},
        format="json",
    )
    assert response.status_code == 202, response.json()
    assert operation_run(response.json()["id"]).status == "succeeded"
    sync = world.application()["operation"]["sync"]
    assert sync["resources"] == [selected] and sync["prune"] is False
    assert sync["syncOptions"] == ["ApplyOutOfSyncOnly=true"]
    refusals = [
        ({"prun": True}, "unknown fields: prun"),
        ({"prune": "perhaps"}, "prune: Must be a valid boolean."),
        ({"resources": [{"kind": "Deployment"}]}, "resources.name: This field is required."),
        (
            {"resources": [{"kind": "Deployment", "name": "web", "namespace": "dr-other"}]},
            "only resources of the runtime's Application",
        ),
        ({"resources": [{"kind": "Deployment", "name": "UPPER"}]}, "resources[0].name"),
    ]
    for body, says in refusals:
        refused = alice.post(f"{RUNTIME}/sync", body, format="json")
        assert refused.status_code == 400, (body, refused.json())
        assert says in refused.json()["message"], (body, refused.json())
    assert alice.post(f"{RUNTIME}/sync", [1], format="json").status_code == 400
    assert console_operations() == ["runtime.sync"]


def test_rollback_refusals(world: ConsoleWorld, as_user: Callable[[str], APIClient]) -> None:
    mona = as_user("mona")
    automated = mona.post(f"{RUNTIME}/rollback", {"id": 1}, format="json")
    assert automated.status_code == 409
    body = automated.json()
    assert body["reason"] == "ROLLBACK_UNDER_AUTOMATED_SYNC"
    assert "Argo CD would move it back to Git's head" in body["message"]
    assert "Revert the change in Git instead" in body["message"]
    assert body["metadata"]["history_url"] == "/products/nautes-labs/history/"
    world.manual_sync_policy()
    for payload, status, says in (
        ({"id": 9}, 400, "has no deployment with id 9"),
        ({}, 400, "id: This field is required."),
        ({"id": -1}, 400, "id: Ensure this value is greater than or equal to 0."),
        ({"id": "one"}, 400, "id: A valid integer is required."),
    ):
        refused = mona.post(f"{RUNTIME}/rollback", payload, format="json")
        assert refused.status_code == status, (payload, refused.json())
        assert says in refused.json()["message"]
    assert console_operations() == []


def test_restart_and_pod_refusals(world: ConsoleWorld, as_user: Callable[[str], APIClient]) -> None:
    alice = as_user("alice")
    restart = f"{RUNTIME}/resources/restart"
    for payload, status, says in (
        ({"kind": "Service", "name": "api-server"}, 400, "only a Deployment, StatefulSet"),
        ({"kind": "Deployment"}, 400, "name: This field is required."),
        ({"kind": "Deployment", "name": "web"}, 404, "is not found in runtime dr-dev"),
        ({"kind": "StatefulSet", "name": "api-server"}, 404, "is not found in runtime dr-dev"),
    ):
        refused = alice.post(restart, payload, format="json")
        assert refused.status_code == status, (payload, refused.json())
        assert says in refused.json()["message"]
    missing = alice.delete(f"{RUNTIME}/pods/web-5b7d-k8s2p")
    assert missing.status_code == 404 and missing.json()["reason"] == "RESOURCE_NOT_IN_RUNTIME"
    assert alice.delete(f"{RUNTIME}/pods/{POD}?namespace=dr-other").status_code == 404
    assert alice.delete(f"{RUNTIME}/pods/Bad_Name").status_code == 400
    unknown = alice.post(
        "/api/v1/products/nautes-labs/deploymentruntimes/nope/refresh", format="json"
    )
    assert unknown.status_code == 404 and unknown.json()["reason"] == "RUNTIME_NOT_FOUND"
    assert console_operations() == [] and world.writes() == []


def test_hard_refresh_is_not_the_status_refresh(
    world: ConsoleWorld, as_user: Callable[[str], APIClient]
) -> None:
    from deployments.models import RuntimeStatus

    before = set(RuntimeStatus.objects.values_list("runtime_name", "read_at"))
    response = as_user("alice").post(f"{RUNTIME}/refresh")
    assert response.status_code == 202 and response.json()["kind"] == "runtime.hard-refresh"
    assert [s["name"] for s in response.json()["steps"]] == ["refresh"]
    operation_run(response.json()["id"])
    annotations = world.application()["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/refresh"] == "hard"
    assert set(RuntimeStatus.objects.values_list("runtime_name", "read_at")) == before


def test_the_console_actions_are_documented(admin_api: APIClient) -> None:
    response = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    paths = yaml.safe_load(response.content)["paths"]
    runtime = "/api/v1/products/{product_name}/deploymentruntimes/{name}"
    expected = {
        f"{runtime}/sync": ("post", "Status_SyncRuntime"),
        f"{runtime}/refresh": ("post", "Console_HardRefreshRuntime"),
        f"{runtime}/rollback": ("post", "Console_RollbackRuntime"),
        f"{runtime}/resources/restart": ("post", "Console_RestartWorkload"),
        f"{runtime}/pods/{{pod}}": ("delete", "Console_DeletePod"),
    }
    for path, (method, operation_id) in expected.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert "202" in operation["responses"] and "404" in operation["responses"]
    sync_body = paths[f"{runtime}/sync"]["post"]["requestBody"]["content"]["application/json"]
    assert sync_body["schema"]["$ref"].endswith("/RuntimeSyncRequest")
    assert "not the portal's status refresh" in paths[f"{runtime}/refresh"]["post"]["description"]
