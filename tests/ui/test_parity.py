"""Parity: the browser and the API reach the same service, so they accept and refuse the same
input with the same rule (#13). Each case goes through both doors."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

RESERVED = "new is reserved by the portal's pages; choose another name."
INVALID = "is invalid: use at most 63 lowercase letters"

# (product name, what both doors' refusal says, or None when accepted). Over 63 characters the
# browser form's own length check answers first, in Django's words; both name the limit.
PRODUCT_NAMES = [
    ("shop", None),
    ("new", RESERVED),  # `/products/new/` is the wizard: such a product could never be opened
    ("-shop", INVALID),
    ("x" * 64, "63"),
]


@pytest.mark.parametrize(("name", "refusal"), PRODUCT_NAMES)
def test_a_product_name_gets_the_same_verdict_from_the_wizard_and_the_api(
    alice: Any,
    alice_api: APIClient,
    browser_for: Callable[[Any], Client],
    name: str,
    refusal: str | None,
) -> None:
    step = browser_for(alice).post(  # first: the wizard's step writes nothing
        "/products/new/product/", {"name": name, "visibility": "private", "action": "next"}
    )
    body = {"git": {"gitlab": {"visibility": "private"}}}
    api = alice_api.post(f"/api/v1/products/{name}", body, format="json")
    if refusal is None:
        assert api.status_code == 200, api.json()
        assert step.status_code == 302, "the wizard refused what the API accepts"
        return
    assert api.status_code == 400 and refusal in api.json()["message"], api.json()
    assert step.status_code == 200, "the wizard accepted what the API refuses"
    assert refusal in html.unescape(step.content.decode())
