"""Every `/api/v1` operation × every persona: zero unexpected allows, 404 for non-members.

The operations come from the portal's own OpenAPI document, so a new endpoint is covered (and
must be given a policy below) the day it is added.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from clusters.models import TenantMembership
from nautes_portal.operations.models import Operation
from products.models import Membership
from tests.api.helpers import DEPLOYMENT_WORKER, coderepo_body, kubeconfig

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "outsider", "reporter", "developer", "maintainer", "owner", "tenant_admin")
LEVEL = {
    "outsider": 0,
    "reporter": 20,
    "developer": 30,
    "maintainer": 40,
    "owner": 50,
    "tenant_admin": 99,
}
DENIED = {401, 403, 404}

# What each operation needs: "auth" (any account), "tenant-read", "tenant-write", or a product
# access level (20 read, 30 change resources, 40 repositories/bindings/product, 50 delete product).
POLICY: list[tuple[str, str, Any]] = [
    ("get", r"^/api/v1/clusters$", "tenant-read"),
    ("get", r"^/api/v1/clusters/[^/]+$", "tenant-read"),
    ("post", r"^/api/v1/clusters/[^/]+$", "tenant-write"),
    ("delete", r"^/api/v1/clusters/[^/]+$", "tenant-write"),
    ("get", r"^/api/v1/clusters/[^/]+/health$", "tenant-read"),
    ("post", r"^/api/v1/clusters/[^/]+/health$", "tenant-write"),
    ("get", r"^/api/v1/clusters/[^/]+/reconcile$", "tenant-read"),
    ("post", r"^/api/v1/clusters/[^/]+/reconcile$", "tenant-write"),
    ("get", r"^/api/v1/products$", "auth"),
    ("get", r"^/api/v1/audit$", "auth"),
    ("get", r"^/api/v1/operations$", "auth"),
    ("get", r"^/api/v1/operations/[^/]+$", 20),
    # The operation retried is acme's first, its product save: a retry needs what the save
    # needs (Maintainer+); retrying a runtime's needs Developer+ (tests/security).
    ("post", r"^/api/v1/operations/[^/]+/retry$", 40),
    ("get", r"^/api/v1/products/[^/]+$", 20),
    ("post", r"^/api/v1/products/[^/]+$", 40),
    ("delete", r"^/api/v1/products/[^/]+$", 50),
    ("get", r"^/api/v1/products/[^/]+/.*$", 20),
    ("post", r"^/api/v1/products/[^/]+/(coderepos|coderepobindings)/[^/]+$", 40),
    # The console's actions on a runtime (#15): a rollback is Maintainer+, before the
    # Developer+ rows that would match it; sync, hard refresh, restart and pod deletion are
    # Developer+ (named here, not left to the catch-all rows).
    ("post", r"^/api/v1/products/[^/]+/deploymentruntimes/[^/]+/rollback$", 40),
    ("post", r"^/api/v1/products/[^/]+/deploymentruntimes/[^/]+/(sync|refresh)$", 30),
    ("post", r"^/api/v1/products/[^/]+/deploymentruntimes/[^/]+/resources/restart$", 30),
    ("delete", r"^/api/v1/products/[^/]+/deploymentruntimes/[^/]+/pods/[^/]+$", 30),
    ("delete", r"^/api/v1/products/[^/]+/(coderepos|coderepobindings)/[^/]+$", 40),
    ("post", r"^/api/v1/products/[^/]+/.*$", 30),
    ("delete", r"^/api/v1/products/[^/]+/.*$", 30),
]

NAMES = {
    "cluster_name": "cluster-dev",
    "product_name": "acme",
    "environments": "env-dev",
    "projects": "api-server",
    "coderepos": "api-server",
    "coderepobindings": "binding-api",
    "deploymentruntimes": "dr-dev",
    "projectpipelineruntimes": "ppr-dev",
    "pods": "api-server-7d9f8-x2x4q",
}
BODIES = {
    "clusters": {**DEPLOYMENT_WORKER, "kubeconfig": kubeconfig()},
    "environments": {"cluster": "cluster-dev", "env_type": "development"},
    "projects": {"language": "Go"},
    "coderepos": coderepo_body("api-server", project="api-server"),
    "coderepobindings": {"permissions": "readonly", "coderepo": "api-server"},
    "deploymentruntimes": {
        "projects_ref": ["api-server"],
        "manifest_source": {"code_repo": "api-server", "target_revision": "HEAD", "path": "m"},
        "destination": {"environment": "env-dev", "namespaces": ["dr-dev"]},
    },
    "products": {"git": {"gitlab": {"visibility": "private"}}},
    # The console's actions (#15): the cluster of this world is unreachable, so an allowed
    # persona gets 503 after the permission check, never a denial.
    "sync": {"prune": True},
    "rollback": {"id": 1},
    "restart": {"kind": "Deployment", "name": "api-server"},
    "projectpipelineruntimes": {
        "project": "api-server",
        "pipeline_source": "api-server",
        "pipelines": [{"name": "main", "path": "pipelines/main.yaml"}],
        "event_sources": [
            {
                "name": "push",
                "gitlab": {
                    "repo_name": "api-server",
                    "revision": "main",
                    "events": ["push_events"],
                },
            }
        ],
        "pipeline_triggers": [{"event_source": "push", "pipeline": "main"}],
        "destination": {"environment": "env-pipe", "namespace": "ppr-dev"},
        "isolation": "shared",
    },
}
PIPELINE_CLUSTER = {
    "api_server": "https://10.0.0.2:6443",
    "cluster_type": "physical",
    "usage": "worker",
    "worker_type": "pipeline",
    "kubeconfig": kubeconfig(),
}


def policy_for(method: str, path: str) -> Any:
    for wanted, pattern, needs in POLICY:
        if wanted == method and re.match(pattern, path):
            return needs
    raise AssertionError(f"no permission policy for {method.upper()} {path}: add one")


def expected(persona: str, needs: Any) -> set[int] | None:
    """The denial a persona must get, or None when it is allowed."""
    if persona == "anonymous":
        return {401}
    if persona == "tenant_admin":
        return None
    if needs == "auth":
        return None
    if needs in ("tenant-read", "tenant-write"):
        return {403}
    if LEVEL[persona] == 0:
        return {404}  # a private product does not exist for non-members
    return None if LEVEL[persona] >= needs else {403}


@pytest.fixture
def world(make_user: Any, api_client_for: Any, secret_store: Any) -> dict[str, APIClient]:
    admin = make_user("root", superuser=True)
    admin_api = api_client_for(admin)
    for name, body in (("cluster-dev", BODIES["clusters"]), ("cluster-pipe", PIPELINE_CLUSTER)):
        response = admin_api.post(f"/api/v1/clusters/{name}", body, format="json")
        assert response.status_code == 200, response.json()
    owner = make_user("owner")
    owner_api = api_client_for(owner)
    base = "/api/v1/products/acme"
    for path, body in (
        ("", BODIES["products"]),
        ("/environments/env-dev", BODIES["environments"]),
        ("/projects/api-server", BODIES["projects"]),
        ("/coderepos/api-server", BODIES["coderepos"]),
        ("/coderepobindings/binding-api", BODIES["coderepobindings"]),
        ("/deploymentruntimes/dr-dev", BODIES["deploymentruntimes"]),
        ("/environments/env-pipe", {"cluster": "cluster-pipe", "env_type": "ci"}),
        ("/projectpipelineruntimes/ppr-dev", BODIES["projectpipelineruntimes"]),
    ):
        response = owner_api.post(base + path, body, format="json")
        assert response.status_code == 200, (path, response.json())
    clients = {"anonymous": APIClient(), "owner": owner_api, "tenant_admin": admin_api}
    for persona in ("reporter", "developer", "maintainer"):
        user = make_user(persona)
        Membership.objects.create(
            user=user,
            product_id=Membership.objects.get(user=owner).product_id,
            access_level=LEVEL[persona],
        )
        clients[persona] = api_client_for(user)
    clients["outsider"] = api_client_for(make_user("outsider"))
    assert not TenantMembership.objects.exists()
    return clients


def operations() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method, path)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in item
        if method in ("get", "post", "delete")
    )


def concrete(path: str) -> tuple[str, str]:
    """Fill the path parameters with existing objects; return the path and its collection."""
    collection = ""
    parts = path.strip("/").split("/")
    for index, part in enumerate(parts):
        if part.startswith("{"):
            key = part.strip("{}")
            previous = parts[index - 1]
            if key == "operation_id":
                of_product = Operation.objects.filter(product__name="acme").order_by("pk")
                parts[index] = str(of_product.values_list("pk", flat=True).first())
            elif key in NAMES:
                parts[index] = NAMES[key]
            else:
                parts[index] = NAMES.get(previous, "x")
            collection = previous
        elif index == len(parts) - 1:
            collection = part
    return "/" + "/".join(parts), collection


def test_every_operation_has_a_policy() -> None:
    for method, path in operations():
        policy_for(method, path)


@pytest.mark.parametrize(("method", "template"), operations())
def test_permission_matrix(world: dict[str, APIClient], method: str, template: str) -> None:
    needs = policy_for(method, template)
    path, collection = concrete(template)
    body = BODIES.get(collection if template.count("{") else "products")
    for persona in PERSONAS:
        # Each attempt is rolled back so that one persona's write never changes what the next
        # one sees (Git may move on; the portal then answers 409, which is still an allow).
        with transaction.atomic():
            response = getattr(world[persona], method)(
                path, body if method == "post" else None, format="json"
            )
            transaction.set_rollback(True)
        denial = expected(persona, needs)
        if denial is None:
            assert response.status_code not in DENIED, (
                persona,
                method,
                path,
                response.status_code,
                response.content[:300],
            )
        else:
            assert response.status_code in denial, (
                persona,
                method,
                path,
                response.status_code,
                response.content[:300],
            )
