"""The product visibility rule in its two forms: the ORM queryset every list uses and the SQL
condition the overview's queries and the one-product lookup use must select the same products."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from nautes_portal import permissions
from products.models import AccessLevel, Membership, Product

pytestmark = pytest.mark.django_db


def by_sql(user: Any) -> set[str]:
    condition, params = permissions.visible_products_condition(user, "p")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT p.name FROM {Product._meta.db_table} p WHERE {condition}", params)  # noqa: S608
        return {name for (name,) in cursor.fetchall()}


def test_the_sql_condition_selects_what_products_visible_to_selects(make_user: Any) -> None:
    names = ["guest-only", "reporter", "developer", "public", "other-private", "other-public"]
    products = {n: Product.objects.create(name=n, group_id=i) for i, n in enumerate(names)}
    products["public"].visibility = products["other-public"].visibility = "public"
    Product.objects.bulk_update(products.values(), ["visibility"])
    dana = make_user("dana")
    for name, level in (
        ("guest-only", AccessLevel.GUEST),
        ("reporter", AccessLevel.REPORTER),
        ("developer", AccessLevel.DEVELOPER),
        ("public", AccessLevel.GUEST),
    ):
        Membership.objects.create(user=dana, product=products[name], access_level=level)
    Membership.objects.create(
        user=make_user("erin"), product=products["other-private"], access_level=AccessLevel.OWNER
    )
    users = {
        "dana": dana,
        "outsider": make_user("outsider"),
        "root": make_user("root", superuser=True),
        "anonymous": AnonymousUser(),
    }
    expected = {
        "dana": {"reporter", "developer", "public", "other-public"},  # a Guest reads nothing
        "outsider": {"public", "other-public"},
        "root": set(names),
        "anonymous": set(),
    }
    for who, user in users.items():
        orm = set(permissions.products_visible_to(user).values_list("name", flat=True))
        assert orm == expected[who], who
        assert by_sql(user) == orm, who
        # One product by name: every product page and endpoint looks it up this way.
        found = {n for n in [*names, "missing"] if permissions.visible_product(user, n)}
        assert found == orm, who
