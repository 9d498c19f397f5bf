"""Every browser page × every persona (GET): who reads, who may open a form, who gets 404.

Personas: anonymous, eve (no group), bob (Reporter), carol (Developer), dave (Maintainer),
alice (Owner), root (tenant administrator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from products.models import Product
from tests.ui.helpers import user

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "eve", "bob", "carol", "dave", "alice", "root")
LEVEL = {"eve": 0, "bob": 20, "carol": 30, "dave": 40, "alice": 50, "root": 99}

# (page, what it needs): "auth", "tenant", "tenant-write", or a product access level.
PAGES: list[tuple[str, Any]] = [
    ("/", "auth"),
    ("/products/", "auth"),
    ("/products/new/product/", "auth"),
    ("/operations/", "auth"),
    ("/audit/", "auth"),
    ("/deployments/", "auth"),
    ("/clusters/", "tenant"),
    ("/clusters/cluster-dev/", "tenant"),
    ("/clusters/new/basics/", "tenant-write"),
    ("/clusters/cluster-dev/edit/basics/", "tenant-write"),
    ("/clusters/cluster-dev/delete/", "tenant-write"),
    ("/products/acme/", 20),
    ("/products/acme/history/", 20),
    ("/products/acme/deployments/", 20),
    ("/products/acme/deployments/dr-dev/", 20),
    ("/products/acme/environments/", 20),
    ("/products/acme/environments/dev/", 20),
    ("/products/acme/projects/api/", 20),
    ("/products/acme/coderepos/api-code/", 20),
    ("/products/acme/deploymentruntimes/dr-dev/", 20),
    ("/products/acme/environments/_new/", 30),
    ("/products/acme/environments/dev/delete/", 30),
    ("/products/acme/deploymentruntimes/dr-dev/delete/", 30),
    ("/products/acme/coderepos/_new/", 40),
    ("/products/acme/coderepos/api-code/delete/", 40),
    ("/products/acme/coderepobindings/_new/", 40),
    ("/products/acme/settings/", 40),
    ("/products/acme/delete/", 50),
]


def expected(persona: str, needs: Any) -> int:
    if persona == "anonymous":
        return 302  # to the login page
    if persona == "root" or needs == "auth":
        return 200
    if needs in ("tenant", "tenant-write"):
        return 403
    if LEVEL[persona] == 0:
        return 404  # a private product does not exist for non-members
    return 200 if LEVEL[persona] >= needs else 403


@pytest.fixture
def clients(acme: Product, make_user: Callable[..., Any]) -> dict[str, Client]:
    make_user("root", superuser=True)
    clients = {"anonymous": Client()}
    for name in PERSONAS[1:]:
        client = Client()
        client.force_login(user(name))
        clients[name] = client
    return clients


@pytest.mark.parametrize(("page", "needs"), PAGES, ids=[p for p, _ in PAGES])
def test_page_matrix(clients: dict[str, Client], page: str, needs: Any) -> None:
    for persona in PERSONAS:
        response = clients[persona].get(page)
        want = expected(persona, needs)
        assert response.status_code == want, (persona, page, response.status_code)
        if want == 302:
            assert response["Location"].startswith("/accounts/login/"), (persona, page)
