"""The browser pages render from the index for signed-in users; links work without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client: Client) -> None:
    for url in ("/", "/clusters/", "/operations/", "/audit/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_signed_in_pages_render(alice: Any, alice_api: Any, client: Client) -> None:
    assert (
        alice_api.post(
            "/api/v1/products/acme", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
        ).status_code
        == 200
    )
    client.force_login(alice)
    home = client.get("/")
    assert home.status_code == 200 and b'href="/products/acme/"' in home.content
    product = client.get("/products/acme/")
    assert product.status_code == 200 and b"Environments" in product.content
    operations = client.get("/operations/")
    assert b"product.save" in operations.content
    operation_id = alice_api.get("/api/v1/operations").json()["items"][0]["id"]
    detail = client.get(f"/operations/{operation_id}/")
    assert (
        b"Create the default.project repository" in detail.content
        and b"succeeded" in detail.content
    )
    partial = client.get(f"/operations/{operation_id}/", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b'id="steps"' in partial.content
    assert client.get("/clusters/").status_code == 403  # no tenant access
    assert client.get("/products/nope/").status_code == 404


def test_login_page_offers_gitlab_when_configured(client: Client, settings: Any) -> None:
    settings.OIDC_ENABLED = True
    page = client.get("/accounts/login/")
    assert b"Log in with GitLab" in page.content and b'name="password"' in page.content
    settings.NAUTES_LOCAL_LOGIN = False
    page = client.get("/accounts/login/")
    assert b'name="password"' not in page.content
