"""A committed change to a product's index is announced (`products.signals`), with what the
apps above need to react: the product, the resources changed, the commit and the route (#13)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from products.models import Product
from products.signals import ROUTE_PORTAL, IndexChange, product_index_changed

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products/nautes-labs"


@pytest.fixture
def announced() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    product_index_changed.connect(receiver, dispatch_uid="test-announced")
    yield received
    product_index_changed.disconnect(dispatch_uid="test-announced")


def test_a_save_and_a_delete_are_announced_once_committed(
    alice: Any,
    alice_api: APIClient,
    announced: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    body = {"git": {"gitlab": {"visibility": "private"}}}
    assert alice_api.post(BASE, body, format="json").status_code == 200
    announced.clear()

    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_api.post(BASE + "/projects/api-server", {"language": "Go"}, format="json")
        assert response.status_code == 200, response.json()
    assert announced == []  # not before the transaction commits
    for callback in callbacks:
        callback()
    product = Product.objects.get(name="nautes-labs")
    (saved,) = announced
    assert saved["product"] == product
    assert saved["commit_sha"] == product.commit_sha != ""
    assert saved["route"] == ROUTE_PORTAL
    assert saved["actor"] == alice
    (change,) = saved["changes"]
    assert isinstance(change, IndexChange)
    assert (change.kind, change.name, change.old) == ("Project", "api-server", None)
    assert change.new is not None and change.new["language"] == "Go"

    with django_capture_on_commit_callbacks(execute=True):
        assert alice_api.delete(BASE + "/projects/api-server").status_code == 200
    product.refresh_from_db()
    deleted = announced[-1]
    assert deleted["commit_sha"] == product.commit_sha != saved["commit_sha"]
    (change,) = deleted["changes"]
    assert (change.kind, change.name, change.new) == ("Project", "api-server", None)
    assert change.old is not None and change.old["language"] == "Go"
