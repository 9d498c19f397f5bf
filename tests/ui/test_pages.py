"""Product pages: who sees what, and every page readable without JavaScript under the CSP."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from products.models import Product
from tests.ui.helpers import assert_csp_clean, main, user

pytestmark = pytest.mark.django_db

PRODUCT_PAGES = [
    "/products/acme/",
    "/products/acme/environments/",
    "/products/acme/environments/dev/",
    "/products/acme/coderepos/api-code/",
    "/products/acme/deploymentruntimes/dr-dev/",
    "/products/acme/history/",
]
WRITE_PAGES = [
    "/products/acme/environments/_new/",
    "/products/acme/environments/dev/delete/",
    "/products/acme/settings/",
    "/products/acme/delete/",
]


def test_pages_need_a_login(client: Client) -> None:
    for url in ("/products/", "/products/new/product/", "/products/acme/history/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_non_members_get_404_for_every_product_page(
    acme: Product, browser_for: Callable[[Any], Client]
) -> None:
    eve = browser_for(user("eve"))
    for url in PRODUCT_PAGES + WRITE_PAGES:
        assert eve.get(url).status_code == 404, url
    assert eve.post("/products/acme/environments/dev/", {"action": "save"}).status_code == 404
    assert b"acme" not in eve.get("/products/").content


def test_reporters_read_but_see_no_edit_forms_and_may_not_post(
    acme: Product, browser_for: Callable[[Any], Client]
) -> None:
    bob = browser_for(user("bob"))
    for url in PRODUCT_PAGES:
        response = bob.get(url)
        assert response.status_code == 200, url
        page = main(response.content.decode())
        assert 'method="post"' not in page, url
        assert "/_new/" not in page and "/delete/" not in page, url
    env = bob.get("/products/acme/environments/dev/").content.decode()
    assert "cluster-dev" in env and "envs/dev.yaml" in env
    for url in WRITE_PAGES:
        assert bob.get(url).status_code == 403, url
    before = Product.objects.get(name="acme").commit_sha
    data = {"name": "dev", "cluster": "cluster-test", "env_type": "x", "action": "save"}
    assert bob.post("/products/acme/environments/dev/", data).status_code == 403
    assert bob.post("/products/acme/environments/dev/delete/").status_code == 403
    assert Product.objects.get(name="acme").commit_sha == before


def test_developers_edit_runtimes_but_not_repositories(
    acme: Product, browser_for: Callable[[Any], Client]
) -> None:
    carol = browser_for(user("carol"))
    assert carol.get("/products/acme/environments/_new/").status_code == 200
    assert 'id="resource-form"' in carol.get("/products/acme/environments/dev/").content.decode()
    assert carol.get("/products/acme/coderepos/_new/").status_code == 403
    repo = carol.get("/products/acme/coderepos/api-code/").content.decode()
    assert 'id="resource-form"' not in repo
    dave = browser_for(user("dave"))
    assert dave.get("/products/acme/coderepos/_new/").status_code == 200
    assert dave.get("/products/acme/settings/").status_code == 200
    assert dave.get("/products/acme/delete/").status_code == 403  # Owner only


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_every_page_is_plain_html_with_real_links(
    acme: Product, browser_for: Callable[[Any], Client], username: str
) -> None:
    browser = browser_for(user(username))
    urls = ["/", "/products/", "/products/new/product/", *PRODUCT_PAGES]
    if username == "alice":
        urls += WRITE_PAGES
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_csp_clean(html)
        assert 'href="#"' not in html and "javascript:" not in html, url
        for form in re.findall(r"<form[^>]*>", html):
            # Every form has a real target: htmx only enhances it.
            assert 'method="get"' in form or 'method="post"' in form, (url, form)
    home = browser.get("/").content.decode()
    assert 'href="/products/acme/"' in home


def test_the_dashboard_tells_a_new_user_what_to_do(
    make_user: Callable[..., Any], browser_for: Callable[[Any], Client]
) -> None:
    page = main(browser_for(make_user("newbie")).get("/").content.decode())
    assert "You have no products yet" in page
    assert 'href="/products/new/product/"' in page
    assert "Ask a tenant administrator" in page  # no cluster registered yet


def test_the_product_page_links_its_lists_and_history(
    acme: Product, browser_for: Callable[[Any], Client]
) -> None:
    page = browser_for(user("alice")).get("/products/acme/").content.decode()
    for href in (
        "/products/acme/environments/",
        "/products/acme/environments/dev/",
        "/products/acme/deploymentruntimes/dr-dev/",
        "/products/acme/coderepos/api-code/",
        "/products/acme/history/",
        "/products/acme/projectpipelineruntimes/_new/",
    ):
        assert f'href="{href}"' in page, href
    assert "None yet." in page  # no pipeline runtime, with what to do next


def test_product_settings_and_delete(
    acme: Product, browser_for: Callable[[Any], Client], make_user: Callable[..., Any]
) -> None:
    alice = browser_for(user("alice"))
    response = alice.post(
        "/products/acme/settings/",
        {"display_name": "Acme Corp", "description": "d", "visibility": "private"},
    )
    assert response.status_code == 302
    assert Product.objects.get(name="acme").display_name == "Acme Corp"
    page = main(alice.get("/products/acme/delete/").content.decode())
    assert "still has resources" in page and 'href="/products/acme/environments/"' in page
    assert alice.post("/products/acme/delete/", {"confirm": "acme"}).status_code == 200
    assert Product.objects.filter(name="acme").exists()
