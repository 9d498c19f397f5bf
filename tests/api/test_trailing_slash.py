"""The Nautes CLI lists with a trailing slash (`GET /api/v1/clusters/`): every route answers
the same with or without it (#14, item 4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _list_routes(product: str) -> list[str]:
    """Every API route named `*-list` as a URL, read from the API's URLconf so that a new one
    is covered too."""
    routes: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and (pattern.name or "").endswith("-list"):
                routes.append(prefix + str(pattern.pattern))

    walk(get_resolver("nautes_portal.api_urls").url_patterns, "/api/v1/")
    return sorted({route.replace("<str:product_name>", product) for route in routes})


@pytest.fixture
def product(alice_api: APIClient) -> str:
    body = {"git": {"gitlab": {"visibility": "private"}}}
    assert alice_api.post("/api/v1/products/shop", body, format="json").status_code == 200
    return "shop"


def test_every_list_route_answers_the_same_with_a_trailing_slash(
    admin_api: APIClient, product: str
) -> None:
    urls = _list_routes(product)
    expected = {"/api/v1/clusters", "/api/v1/products", f"/api/v1/products/{product}/projects"}
    assert expected <= set(urls), urls
    for url in urls:
        assert "<" not in url, url
        plain, slashed = admin_api.get(url), admin_api.get(url + "/")
        assert plain.status_code == 200, (url, plain.status_code)
        assert (slashed.status_code, slashed.json()) == (200, plain.json()), url


def test_a_write_with_a_trailing_slash_keeps_its_body(alice_api: APIClient, product: str) -> None:
    url = f"/api/v1/products/{product}/projects/api-server/"
    response = alice_api.post(url, {"language": "Go"}, format="json")
    assert response.status_code == 200, response.json()
    reply = alice_api.get(f"/api/v1/products/{product}/projects/api-server").json()
    assert reply["language"] == "Go"


def test_pages_and_the_schema_keep_their_routes(alice_api: APIClient) -> None:
    schema = alice_api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/clusters" in schema["paths"]
    assert not [path for path in schema["paths"] if path.endswith("/")]
    assert alice_api.get("/api/v1/").status_code == 404  # the prefix alone is no route
