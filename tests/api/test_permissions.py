"""Who may do what through the API (reference/nautes.md §6.1; non-members get 404)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from clusters.models import TenantMembership
from products.models import AccessLevel, Membership
from products.services import product_save
from tests.products.test_import import cluster_row

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "outsider", "reporter", "developer", "maintainer", "owner", "tenant_admin"]


@pytest.fixture
def world(make_user: Any, api_client_for: Any) -> dict[str, APIClient]:
    """A private product `acme` with one member per access level, and a deployment cluster."""
    owner = make_user("owner")
    product, _ = product_save(
        name="acme",
        display_name="acme",
        path="",
        visibility="private",
        description="",
        actor=owner,
    )
    cluster_row(
        "cluster-a",
        "worker",
        "deployment",
        {"deployment": {"name": "argocd", "namespace": "argocd"}},
    )
    cluster_row(
        "cluster-b",
        "worker",
        "deployment",
        {"deployment": {"name": "argocd", "namespace": "argocd"}},
    )
    clients = {"anonymous": APIClient(), "owner": api_client_for(owner)}
    for name, level in (("reporter", 20), ("developer", 30), ("maintainer", 40)):
        user = make_user(name)
        Membership.objects.create(user=user, product=product, access_level=level)
        clients[name] = api_client_for(user)
    clients["outsider"] = api_client_for(make_user("outsider"))
    clients["tenant_admin"] = api_client_for(make_user("root", superuser=True))
    return clients


def call(client: APIClient, method: str, path: str, body: dict[str, Any] | None = None) -> int:
    return getattr(client, method)(path, body, format="json").status_code


# (method, path, body, expected status per persona in PERSONAS order)
MATRIX: list[tuple[str, str, dict[str, Any] | None, list[int]]] = [
    ("get", "/api/v1/products/acme", None, [401, 404, 200, 200, 200, 200, 200]),
    ("get", "/api/v1/products/acme/environments", None, [401, 404, 200, 200, 200, 200, 200]),
    ("get", "/api/v1/products/acme/environments/none", None, [401, 404, 404, 404, 404, 404, 404]),
    (
        "post",
        "/api/v1/products/acme/environments/env-x",
        {"cluster": "cluster-a", "env_type": "dev"},
        [401, 404, 403, 200, 200, 200, 200],
    ),
    (
        "post",
        "/api/v1/products/acme/projects/p1",
        {"language": "Go"},
        [401, 404, 403, 200, 200, 200, 200],
    ),
    (
        "post",
        "/api/v1/products/acme/coderepos/r1",
        {"git": {"gitlab": {"visibility": "private"}}},
        [401, 404, 403, 403, 200, 200, 200],
    ),
    (
        "post",
        "/api/v1/products/acme",
        {"git": {"gitlab": {"visibility": "private"}}},
        [401, 404, 403, 403, 200, 200, 200],
    ),
    ("get", "/api/v1/clusters", None, [401, 403, 403, 403, 403, 403, 200]),
    ("get", "/api/v1/clusters/cluster-a", None, [401, 403, 403, 403, 403, 403, 200]),
    ("delete", "/api/v1/clusters/cluster-a", None, [401, 403, 403, 403, 403, 403, 200]),
    ("delete", "/api/v1/products/acme", None, [401, 404, 403, 403, 403, 200, 200]),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_permission_matrix(
    world: dict[str, APIClient],
    persona: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: list[int],
    secret_store: Any,
) -> None:
    status = call(world[persona], method, path, body)
    assert status == expected[PERSONAS.index(persona)], (persona, method, path)


def test_non_members_never_see_a_private_product(world: dict[str, APIClient]) -> None:
    outsider = world["outsider"]
    assert outsider.get("/api/v1/products").json() == {"items": []}
    body = outsider.get("/api/v1/products/acme").json()
    assert body["reason"] == "GROUP_NOT_FOUND"
    assert outsider.get("/api/v1/audit").json()["items"] == []


def test_public_products_are_readable_but_not_writable_by_everyone(
    world: dict[str, APIClient],
) -> None:
    from products.models import Product

    Product.objects.filter(name="acme").update(visibility="public")
    outsider = world["outsider"]
    assert outsider.get("/api/v1/products/acme/environments").status_code == 200
    assert call(outsider, "post", "/api/v1/products/acme/projects/p9", {"language": "Go"}) == 403


def test_any_account_may_create_a_product_and_becomes_its_owner(
    world: dict[str, APIClient],
) -> None:
    outsider = world["outsider"]
    assert (
        call(
            outsider,
            "post",
            "/api/v1/products/mine",
            {"git": {"gitlab": {"visibility": "private"}}},
        )
        == 200
    )
    membership = Membership.objects.get(product__name="mine")
    assert membership.user.username == "outsider" and membership.access_level == AccessLevel.OWNER


def test_tenant_maintainers_manage_clusters(
    world: dict[str, APIClient], make_user: Any, api_client_for: Any, secret_store: Any
) -> None:
    user = make_user("platform")
    client = api_client_for(user)
    TenantMembership.objects.create(user=user, access_level=AccessLevel.REPORTER)
    assert client.get("/api/v1/clusters").status_code == 200
    assert client.delete("/api/v1/clusters/cluster-b").status_code == 403
    TenantMembership.objects.filter(user=user).update(access_level=AccessLevel.MAINTAINER)
    assert client.delete("/api/v1/clusters/cluster-b").status_code == 200


def test_bad_tokens_get_401_with_a_clear_message(db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.get("/api/v1/products")
    assert response.status_code == 401
    assert response.json() == {
        "code": 401,
        "reason": "UNAUTHENTICATED",
        "message": "Invalid or expired token.",
        "metadata": {},
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_use_is_recorded_without_a_write_per_request(
    alice: Any, api_client_for: Any, django_assert_max_num_queries: Any
) -> None:
    from nautes_portal.models import ApiToken

    client = api_client_for(alice)
    client.get("/api/v1/products")
    first = ApiToken.objects.get(user=alice).last_used_at
    assert first is not None
    with django_assert_max_num_queries(2):  # token lookup + the (empty) product list
        client.get("/api/v1/products")
    assert ApiToken.objects.get(user=alice).last_used_at == first
