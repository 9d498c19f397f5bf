"""List endpoints run a bounded number of queries whatever the data size, and never read Git."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from products.models import (
    AccessLevel,
    CodeRepo,
    DeploymentRuntime,
    Environment,
    Membership,
    Product,
    Project,
)

pytestmark = pytest.mark.django_db


def fill(product: Product, count: int) -> None:
    gid = product.resource_name
    Environment.objects.bulk_create(
        Environment(
            product=product,
            name=f"env-{i}",
            path=f"envs/env-{i}.yaml",
            cluster=f"c{i}",
            env_type="dev",
            manifest={"spec": {"cluster": f"c{i}", "envType": "dev", "product": gid}},
        )
        for i in range(count)
    )
    Project.objects.bulk_create(
        Project(
            product=product,
            name=f"p-{i}",
            path=f"projects/p-{i}/p-{i}.yaml",
            manifest={"spec": {"language": "Go"}},
        )
        for i in range(count)
    )
    CodeRepo.objects.bulk_create(
        CodeRepo(
            product=product,
            name=f"repo-{i}",
            repo_name=f"r-{i}",
            path=f"code-repos/repo-{i}/repo-{i}.yaml",
            manifest={"spec": {"repoName": f"r-{i}"}},
        )
        for i in range(count)
    )
    DeploymentRuntime.objects.bulk_create(
        DeploymentRuntime(
            product=product,
            name=f"dr-{i}",
            path=f"runtimes/dr-{i}.yaml",
            manifest={
                "spec": {
                    "manifestSource": {"codeRepo": f"repo-{i}", "path": "x"},
                    "destination": {"environment": f"env-{i}"},
                }
            },
        )
        for i in range(count)
    )


@pytest.mark.parametrize("count", [3, 300])
@pytest.mark.parametrize(
    "collection",
    [
        "environments",
        "projects",
        "coderepos",
        "deploymentruntimes",
        "coderepobindings",
        "projectpipelineruntimes",
    ],
)
def test_list_query_count_is_flat(
    count: int,
    collection: str,
    alice: Any,
    alice_api: APIClient,
    git_root: Path,
    django_assert_max_num_queries: Any,
) -> None:
    product = Product.objects.create(name="big", group_id=7)
    Membership.objects.create(user=alice, product=product, access_level=AccessLevel.REPORTER)
    fill(product, count)
    shutil.rmtree(git_root, ignore_errors=True)  # prove the read path never needs Git
    with django_assert_max_num_queries(6):
        response = alice_api.get(f"/api/v1/products/big/{collection}")
    assert response.status_code == 200
    expected = count if collection not in ("coderepobindings", "projectpipelineruntimes") else 0
    assert len(response.json()["items"]) == expected


@pytest.mark.parametrize("count", [3, 300])
def test_product_list_query_count_is_flat(
    count: int, alice: Any, alice_api: APIClient, django_assert_max_num_queries: Any
) -> None:
    products = Product.objects.bulk_create(
        Product(name=f"prod-{i}", group_id=100 + i) for i in range(count)
    )
    Membership.objects.bulk_create(
        Membership(user=alice, product=p, access_level=AccessLevel.REPORTER) for p in products
    )
    Product.objects.create(name="hidden", group_id=5)
    with django_assert_max_num_queries(5):
        response = alice_api.get("/api/v1/products")
    names = [item["git"]["gitlab"]["path"] for item in response.json()["items"]]
    assert len(names) == count and "hidden" not in names
