"""Shared fixtures: an isolated data directory per test, personas and API clients."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from nautes_portal.models import ApiToken
from products.models import AccessLevel, Membership, Product


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Every test starts with an empty cache: the GitLab token identities cached by a test
    (token hash -> user id) must not resolve to whichever user a later test's database gives
    that id (SQLite reuses ids after a rollback)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def git_root(settings: Any, tmp_path: Path) -> Path:
    """Every test gets its own local Git host."""
    root = tmp_path / "git"
    settings.NAUTES_GIT_DIR = root
    return root


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    def make(username: str, *, superuser: bool = False, **extra: Any) -> Any:
        model = get_user_model()
        if superuser:
            return model.objects.create_superuser(
                username, f"{username}@example.com", "pw", **extra
            )
        return model.objects.create_user(username, f"{username}@example.com", "pw", **extra)

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., Any]) -> Any:
    return make_user("admin", superuser=True)


@pytest.fixture
def alice(make_user: Callable[..., Any]) -> Any:
    return make_user("alice", first_name="Alice", last_name="Liddell")


@pytest.fixture
def api_client_for() -> Callable[[Any], APIClient]:
    """An API client authenticated with a real bearer token of `user`."""

    def make(user: Any) -> APIClient:
        client = APIClient()
        _, raw = ApiToken.issue(user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def admin_api(admin_user: Any, api_client_for: Callable[[Any], APIClient]) -> APIClient:
    return api_client_for(admin_user)


@pytest.fixture
def alice_api(alice: Any, api_client_for: Callable[[Any], APIClient]) -> APIClient:
    return api_client_for(alice)


@pytest.fixture
def grant() -> Callable[[Any, str, int], Membership]:
    """Give `user` an access level in a product."""

    def make(user: Any, product_name: str, level: int = AccessLevel.DEVELOPER) -> Membership:
        product = Product.objects.get(name=product_name)
        membership, _ = Membership.objects.update_or_create(
            user=user, product=product, defaults={"access_level": level}
        )
        return membership

    return make
