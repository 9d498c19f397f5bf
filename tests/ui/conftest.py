"""Fixtures for the browser-page tests: clusters in the index, products made by the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clusters.models import Cluster
from nautes_portal.integrations import git_host
from products import services
from products.models import CodeRepo, Product
from tests.ui.helpers import DEVELOPER, MAINTAINER, REPORTER, index_cluster


@pytest.fixture
def make_cluster(db: None) -> Callable[..., Cluster]:
    """Index a cluster row (the product rules read clusters from the index only)."""
    return index_cluster


@pytest.fixture
def make_product(db: None, grant: Callable[..., Any]) -> Callable[..., Product]:
    """Create a product through the services (a real Git group and repository)."""

    def make(name: str, owner: Any, **members: int) -> Product:
        product, _ = services.product_save(
            name=name,
            display_name=name,
            path=name,
            visibility="private",
            description="",
            actor=owner,
        )
        for username, level in members.items():
            from django.contrib.auth import get_user_model

            grant(get_user_model().objects.get(username=username), name, level)
        return product

    return make


@pytest.fixture
def save() -> Callable[..., Any]:
    """Save a resource of a product through the service."""

    def run(product: Product, kind: str, name: str, spec: dict[str, Any], actor: Any) -> Any:
        return services.resource_save(
            product=product, kind=kind, name=name, spec=spec, actor=actor, host=git_host()
        )

    return run


@pytest.fixture
def browser_for() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def acme(
    alice: Any,
    make_user: Callable[..., Any],
    make_cluster: Callable[..., Cluster],
    make_product: Callable[..., Product],
    save: Callable[..., Any],
) -> Product:
    """Product `acme` (alice owns it): environment dev on cluster-dev, project api, repository
    api-code (owned by api) and deployment runtime dr-dev; bob is a Reporter, carol a
    Developer, dave a Maintainer; eve is in no group."""
    for username in ("bob", "carol", "dave", "eve"):
        make_user(username)
    make_cluster("cluster-dev")
    make_cluster("cluster-test")
    product = make_product("acme", alice, bob=REPORTER, carol=DEVELOPER, dave=MAINTAINER)
    save(product, "Environment", "dev", {"cluster": "cluster-dev", "envType": "development"}, alice)
    save(product, "Project", "api", {"language": "go"}, alice)
    services.coderepo_save(
        product=product,
        repo_name="api-code",
        spec={
            "project": "api",
            "deploymentRuntime": True,
            "pipelineRuntime": False,
            "webhook": {"events": ["push_events"]},
        },
        git={"visibility": "private", "description": "the api"},
        actor=alice,
        host=git_host(),
    )
    repo_id = product.coderepo_id = CodeRepo.objects.get(product=product).name  # type: ignore[attr-defined]
    save(
        product,
        "DeploymentRuntime",
        "dr-dev",
        {
            "projectsRef": ["api"],
            "manifestSource": {"codeRepo": repo_id, "targetRevision": "main", "path": "deploy"},
            "destination": {"environment": "dev", "namespaces": ["acme-dev"]},
            "account": "",
        },
        alice,
    )
    product.refresh_from_db()
    return product
