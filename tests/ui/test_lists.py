"""Lists: server-side pagination, filters and search, a bounded number of queries with 10,000
rows, and empty states that say what to do next."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clusters.models import Cluster, TenantMembership
from products.models import AccessLevel, Environment, Membership, Product
from tests.ui.helpers import main

pytestmark = pytest.mark.django_db

MANY = 10_000


def rows(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td><a href=\"([^\"]+)\"", main(html))


@pytest.fixture
def many_products(alice: Any) -> None:
    Product.objects.bulk_create(
        Product(name=f"p-{i:05d}", group_id=1000 + i, visibility="private") for i in range(MANY)
    )
    ids = Product.objects.values_list("pk", flat=True)
    Membership.objects.bulk_create(
        Membership(user=alice, product_id=pk, access_level=AccessLevel.DEVELOPER) for pk in ids
    )


def test_the_product_list_is_paginated_and_bounded(
    many_products: None,
    alice: Any,
    browser_for: Callable[[Any], Client],
    django_assert_max_num_queries: Any,
) -> None:
    browser = browser_for(alice)
    with django_assert_max_num_queries(10):
        response = browser.get("/products/?page=3")
    html = response.content.decode()
    assert len(rows(html)) == 25 and rows(html)[0] == "/products/p-00050/"
    assert "51–75 of 10000" in html and "Page 3 of 400" in html
    with django_assert_max_num_queries(10):
        html = browser.get("/products/?q=p-0999&per_page=100").content.decode()
    assert len(rows(html)) == 10 and "of 10" in html
    with django_assert_max_num_queries(12):
        assert browser.get("/").status_code == 200


def test_product_filters(
    alice: Any, make_product: Callable[..., Product], browser_for: Callable[[Any], Client]
) -> None:
    make_product("billing", alice)
    make_product("catalog", alice)
    Product.objects.filter(name="catalog").update(visibility="public")
    browser = browser_for(alice)
    assert rows(browser.get("/products/?visibility=public").content.decode()) == [
        "/products/catalog/"
    ]
    html = browser.get("/products/?q=nothing-like-this").content.decode()
    assert "No product matches these filters" in html and 'href="/products/"' in html
    partial = browser.get("/products/?q=bill", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="results"') and "billing" in partial


def test_resource_lists_are_paginated_and_bounded(
    alice: Any,
    make_product: Callable[..., Product],
    browser_for: Callable[[Any], Client],
    django_assert_max_num_queries: Any,
) -> None:
    product = make_product("big", alice)
    Environment.objects.bulk_create(
        Environment(
            product=product,
            name=f"env-{i:05d}",
            path=f"envs/env-{i:05d}.yaml",
            cluster=f"c{i % 7}",
            env_type="dev" if i % 2 else "prod",
            manifest={"spec": {"cluster": f"c{i % 7}", "envType": "dev"}},
        )
        for i in range(MANY)
    )
    browser = browser_for(alice)
    with django_assert_max_num_queries(10):
        html = browser.get("/products/big/environments/?page=400").content.decode()
    assert len(rows(html)) == 25 and "9976–10000 of 10000" in html
    with django_assert_max_num_queries(10):
        html = browser.get("/products/big/environments/?cluster=c3&env_type=prod").content.decode()
    assert "of 714" in html
    with django_assert_max_num_queries(10):
        html = browser.get("/products/big/environments/?q=env-0999").content.decode()
    assert len(rows(html)) == 10
    with django_assert_max_num_queries(25):
        html = browser.get("/products/big/").content.decode()
    assert "See all 10000 environments" in html


def test_empty_resource_lists_say_what_to_do(
    alice: Any, make_product: Callable[..., Product], browser_for: Callable[[Any], Client]
) -> None:
    make_product("empty", alice)
    html = main(browser_for(alice).get("/products/empty/deploymentruntimes/").content.decode())
    assert "empty has no deployment runtimes yet" in html
    assert 'href="/products/empty/deploymentruntimes/_new/"' in html


def test_the_cluster_list_is_paginated_filtered_and_bounded(
    make_user: Callable[..., Any],
    browser_for: Callable[[Any], Client],
    django_assert_max_num_queries: Any,
) -> None:
    reader = make_user("reader")
    TenantMembership.objects.create(user=reader, access_level=AccessLevel.REPORTER)
    browser = browser_for(reader)
    empty = main(browser.get("/clusters/").content.decode())
    assert "No cluster is registered yet" in empty and "Ask a tenant administrator" in empty
    Cluster.objects.bulk_create(
        Cluster(
            name=f"c-{i:05d}",
            api_server=f"https://10.0.{i // 250}.{i % 250}:6443",
            cluster_type="physical",
            usage="worker",
            worker_type="pipeline" if i % 4 == 0 else "deployment",
            manifest={"spec": {}},
            path=f"clusters/c-{i:05d}.yaml",
        )
        for i in range(MANY)
    )
    with django_assert_max_num_queries(10):
        html = browser.get("/clusters/?page=2").content.decode()
    assert len(rows(html)) == 25 and "26–50 of 10000" in html
    with django_assert_max_num_queries(10):
        html = browser.get("/clusters/?worker_type=pipeline&q=c-000").content.decode()
    assert "of 25" in html
    assert "Register" not in main(html)  # a reader may not register clusters
