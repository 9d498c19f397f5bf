"""Operations are seen and retried by *current* rights (issue #12, finding 9).

A member removed from a product used to keep listing, reading and retrying the operations they
had started on it (the rule let a creator see their own operations forever).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from clusters.health import CLUSTER_CHECK
from clusters.models import TenantMembership
from nautes_portal.operations import operation_create
from nautes_portal.operations.models import Operation
from products.models import AccessLevel, Membership, Product

pytestmark = pytest.mark.django_db

BODY = {"git": {"gitlab": {"visibility": "private"}}}


@pytest.fixture
def acme(alice_api: APIClient) -> Product:
    response = alice_api.post("/api/v1/products/acme", BODY, format="json")
    assert response.status_code == 200, response.json()
    return Product.objects.get(name="acme")


@pytest.fixture
def bob(make_user: Any) -> Any:
    return make_user("bob")


@pytest.fixture
def bobs_failed_operation(acme: Product, bob: Any, grant: Any, api_client_for: Any) -> Operation:
    """Bob, a Maintainer of acme, saves the product (a real operation he started); it is then
    marked failed so that a retry is possible."""
    grant(bob, "acme", AccessLevel.MAINTAINER)
    response = api_client_for(bob).post("/api/v1/products/acme", BODY, format="json")
    assert response.status_code == 200, response.json()
    operation = Operation.objects.filter(created_by=bob).get()
    assert operation.product_id == acme.pk
    Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.FAILED)
    return operation


def _listed(api: APIClient) -> list[int]:
    return [item["id"] for item in api.get("/api/v1/operations").json()["items"]]


def test_a_removed_member_no_longer_sees_or_retries_the_products_operations_api(
    bob: Any, bobs_failed_operation: Operation, api_client_for: Any
) -> None:
    operation = bobs_failed_operation
    api = api_client_for(bob)
    assert operation.pk in _listed(api)  # while a member

    Membership.objects.filter(user=bob).delete()

    assert operation.pk not in _listed(api)
    assert api.get("/api/v1/operations?product=acme").json()["items"] == []
    detail = api.get(f"/api/v1/operations/{operation.pk}")
    assert detail.status_code == 404 and detail.json()["reason"] == "RESOURCE_NOT_FOUND"
    retry = api.post(f"/api/v1/operations/{operation.pk}/retry")
    assert retry.status_code == 404
    operation.refresh_from_db()
    assert operation.status == Operation.Status.FAILED  # nothing was queued


def test_a_removed_member_no_longer_sees_or_retries_the_products_operations_pages(
    bob: Any, bobs_failed_operation: Operation
) -> None:
    operation = bobs_failed_operation
    client = Client()
    client.force_login(bob)
    link = f'href="/operations/{operation.pk}/"'.encode()
    assert link in client.get("/operations/").content  # while a member

    Membership.objects.filter(user=bob).delete()

    assert link not in client.get("/operations/").content
    assert link not in client.get("/").content
    assert client.get(f"/operations/{operation.pk}/").status_code == 404
    assert client.post(f"/operations/{operation.pk}/retry").status_code == 404


def test_a_reporter_sees_but_may_not_retry_even_an_operation_they_started(
    bob: Any, bobs_failed_operation: Operation, grant: Any, api_client_for: Any
) -> None:
    grant(bob, "acme", AccessLevel.REPORTER)  # demoted from Maintainer
    api = api_client_for(bob)
    operation = bobs_failed_operation
    assert api.get(f"/api/v1/operations/{operation.pk}").status_code == 200
    retry = api.post(f"/api/v1/operations/{operation.pk}/retry")
    assert retry.status_code == 403 and retry.json()["reason"] == "NO_AUTHORIZATION"
    client = Client()
    client.force_login(bob)
    assert client.post(f"/operations/{operation.pk}/retry").status_code == 403


def test_a_failed_creation_of_a_name_now_owned_by_another_product_is_hidden(
    acme: Product, bob: Any, api_client_for: Any
) -> None:
    """A product-less operation (a creation that failed before the product existed) stays its
    creator's, until a product of that name exists that the creator may not read."""
    params = {"name": "acme", "display_name": "acme", "visibility": "private", "description": ""}
    operation = operation_create(kind="product.save", target="acme", params=params, actor=bob)
    Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.FAILED)
    api = api_client_for(bob)
    assert operation.pk not in _listed(api)
    assert api.get(f"/api/v1/operations/{operation.pk}").status_code == 404
    assert api.post(f"/api/v1/operations/{operation.pk}/retry").status_code == 404

    own = operation_create(
        kind="product.save", target="bobs", params={**params, "name": "bobs"}, actor=bob
    )
    assert own.pk in _listed(api)  # a name no product has: still the creator's


def test_cluster_checks_follow_the_tenant_membership(make_user: Any, api_client_for: Any) -> None:
    carol, dave = make_user("carol"), make_user("dave")
    TenantMembership.objects.create(user=carol, access_level=AccessLevel.MAINTAINER)
    TenantMembership.objects.create(user=dave, access_level=AccessLevel.REPORTER)
    check = operation_create(
        kind=CLUSTER_CHECK, target="cluster-dev", params={"cluster": "cluster-dev"}, actor=carol
    )
    Operation.objects.filter(pk=check.pk).update(status=Operation.Status.FAILED)
    carol_api, dave_api = api_client_for(carol), api_client_for(dave)
    outsider = api_client_for(make_user("outsider"))
    assert check.pk in _listed(carol_api) and check.pk in _listed(dave_api)
    assert check.pk not in _listed(outsider)
    assert dave_api.post(f"/api/v1/operations/{check.pk}/retry").status_code == 403

    TenantMembership.objects.filter(user=carol).delete()

    assert check.pk not in _listed(carol_api)
    assert carol_api.get(f"/api/v1/operations/{check.pk}").status_code == 404
    assert carol_api.post(f"/api/v1/operations/{check.pk}/retry").status_code == 404
