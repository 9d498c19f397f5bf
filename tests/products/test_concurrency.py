"""Concurrent saves to one product: each commits or gets 409, and no update is lost."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from nautes_portal.integrations.git_local import LocalGitHost
from products.models import Environment, Product
from products.services import product_save, product_sync
from tests.products.test_import import cluster_row

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_saves_commit_or_conflict(
    git_root: Path, admin_user: Any, api_client_for: Any
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("needs a server database: SQLite serialises the threads' connections")
    host = LocalGitHost(git_root)
    for index in range(20):
        cluster_row(
            f"cluster-{index}",
            "worker",
            "deployment",
            {"deployment": {"name": "argocd", "namespace": "argocd"}},
        )
    product, _ = product_save(
        name="busy",
        display_name="busy",
        path="",
        visibility="private",
        description="",
        actor=admin_user,
    )
    clients = [api_client_for(admin_user) for _ in range(20)]
    barrier = threading.Barrier(20)
    results: dict[int, int] = {}

    def save(index: int) -> None:
        try:
            barrier.wait()
            response = clients[index].post(
                f"/api/v1/products/busy/environments/env-{index}",
                {"cluster": f"cluster-{index}", "env_type": "test"},
                format="json",
            )
            results[index] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(results.values()) <= {200, 409}, results
    committed = {f"env-{i}" for i, status in results.items() if status == 200}
    assert committed, "at least one save wins"
    repo = host.repository(host.get_project("busy", "default.project"))
    files = repo.read_tree(repo.head())
    in_git = {p.split("/")[1][:-5] for p in files if p.startswith("envs/")}
    assert in_git == committed, "every 200 is in Git and nothing else is"
    # One commit per success after the initial one: no update was merged away.
    assert len(repo.history(limit=100)) == len(committed) + 1
    product = Product.objects.get(name="busy")
    product_sync(product=product, repo=repo)
    assert (
        set(Environment.objects.filter(product=product).values_list("name", flat=True)) == committed
    )

    # A retry of the refused ones now succeeds: the index caught up with Git.
    for index, status in results.items():
        if status == 409:
            response = clients[index].post(
                f"/api/v1/products/busy/environments/env-{index}",
                {"cluster": f"cluster-{index}", "env_type": "test"},
                format="json",
            )
            assert response.status_code == 200, response.json()
    files = repo.read_tree(repo.head())
    assert len([p for p in files if p.startswith("envs/")]) == 20
