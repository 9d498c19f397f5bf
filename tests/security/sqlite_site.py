"""A portal on a file-based SQLite database, driven from other processes.

The test database of pytest-django is an in-memory SQLite one: it cannot show what happens
when a web process and a worker share the file. The tests of `test_embedded_db` start real
processes on a fresh data directory instead; each runs one command of this module
(`python -m tests.security.sqlite_site COMMAND ...`) and prints its result as JSON.

    setup PRODUCT...            migrate, an admin with an API token, the products
    save PRODUCT PREFIX COUNT   COUNT project saves through the API (a 409 is retried)
    sync PRODUCT SECONDS        re-import the product from Git in a loop, as the schedule does
    state PRODUCT               the index's commit and projects, and Git's HEAD and projects
    cluster-setup NAME          a physical cluster written to the tenant repository, imported
    cluster-save NAME SERVER    an update of the cluster through the API (no kubeconfig)
    cluster-state               the cluster index's commit and API servers, and Git's
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOKEN_FILE = "admin-token"


def site_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a portal process on the SQLite database in `data_dir`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "VAULT_ADDR", "VAULT_TOKEN", "SECRET_KEY", "CACHE_URL")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "nautes_portal.settings_test",
            "NAUTES_DATA_DIR": str(data_dir),
            "NAUTES_GIT_BACKEND": "local",
            "NAUTES_QUEUE": "orm",
            "ALLOWED_HOSTS": "testserver",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def command(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "tests.security.sqlite_site", name, *args]


def _setup(products: list[str]) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from nautes_portal.models import ApiToken
    from products.services import product_save

    call_command("migrate", verbosity=0, interactive=False)
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    _, raw = ApiToken.issue(admin)
    data_dir = Path(os.environ["NAUTES_DATA_DIR"])
    (data_dir / TOKEN_FILE).write_text(raw)
    for name in products:
        product_save(
            name=name, display_name=name, path="", visibility="private", description="", actor=admin
        )
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
    return {"products": products, "journal_mode": journal_mode}


def _save(product: str, prefix: str, count: int) -> dict[str, Any]:
    """Project saves as a client would send them; a 409 (index behind Git) is retried."""
    from rest_framework.test import APIClient

    client = APIClient(raise_request_exception=False)  # a crash answers 500, as in production
    token = (Path(os.environ["NAUTES_DATA_DIR"]) / TOKEN_FILE).read_text()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    statuses: list[int] = []
    failures: list[str] = []
    for index in range(count):
        for _attempt in range(5):
            response = client.post(
                f"/api/v1/products/{product}/projects/{prefix}-{index}",
                {"language": f"Go {index}"},
                format="json",
            )
            statuses.append(response.status_code)
            if response.status_code != 409:
                break
        if response.status_code != 200:
            failures.append(f"{prefix}-{index}: {response.status_code} {response.content[:300]!r}")
    return {"statuses": statuses, "failures": failures}


def _sync(product_name: str, seconds: float) -> dict[str, Any]:
    from nautes_portal.integrations import git_host
    from products.models import Product
    from products.services import product_repository, product_sync

    product = Product.objects.get(name=product_name)
    repo = product_repository(product, git_host())
    deadline = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < deadline:
        product_sync(product=product, repo=repo)
        runs += 1
    return {"runs": runs}


def _state(product_name: str) -> dict[str, Any]:
    from nautes_portal.integrations import git_host
    from products.models import Product, Project
    from products.services import product_repository

    product = Product.objects.get(name=product_name)
    repo = product_repository(product, git_host())
    head = repo.head()
    files = repo.read_tree(head) if head else {}
    return {
        "index_sha": product.commit_sha,
        "head": head,
        "index_projects": sorted(
            Project.objects.filter(product=product).values_list("name", flat=True)
        ),
        "git_projects": sorted(p.split("/")[1] for p in files if p.startswith("projects/")),
    }


def _cluster_body(server: str) -> dict[str, Any]:
    from tests.api.helpers import DEPLOYMENT_WORKER

    return {**DEPLOYMENT_WORKER, "api_server": server}


def _cluster_setup(name: str) -> dict[str, Any]:
    """A registered cluster without Vault: its file is pushed to the tenant repository (as
    by hand) and imported, so an update through the API needs no kubeconfig."""
    from clusters.manifests import (
        KUSTOMIZATION_PATH,
        cluster_manifest,
        cluster_path,
        clusters_kustomization,
    )
    from clusters.rules import cluster_input_from_request
    from clusters.services import tenant_repository, tenant_sync
    from nautes_portal.integrations import git_host
    from nautes_portal.integrations.config_repo import Author
    from nautes_portal.yaml_io import dump_yaml

    cluster = cluster_input_from_request(name, _cluster_body("https://127.0.0.1:1"))
    repo = tenant_repository(git_host())
    repo.commit(
        changes={
            cluster_path(name): dump_yaml(cluster_manifest(name, cluster.spec)),
            KUSTOMIZATION_PATH: clusters_kustomization({name}),
        },
        expected_parent=repo.head(),
        message="a cluster registered by hand",
        author=Author(name="someone", email="someone@example.com"),
    )
    tenant_sync(repo=repo)
    return _cluster_state()


def _cluster_save(name: str, server: str) -> dict[str, Any]:
    from rest_framework.test import APIClient

    client = APIClient(raise_request_exception=False)
    token = (Path(os.environ["NAUTES_DATA_DIR"]) / TOKEN_FILE).read_text()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(f"/api/v1/clusters/{name}", _cluster_body(server), format="json")
    return {"status": response.status_code, "body": response.content.decode()[:500]}


def _cluster_state() -> dict[str, Any]:
    import yaml

    from clusters.models import Cluster
    from clusters.services import _tenant_state, tenant_repository
    from nautes_portal.integrations import git_host

    repo = tenant_repository(git_host())
    head = repo.head()
    files = repo.read_tree(head) if head else {}
    in_git = {}
    for content in files.values():
        document = yaml.safe_load(content)
        if isinstance(document, dict) and document.get("kind") == "Cluster":
            in_git[document["metadata"]["name"]] = document["spec"]["apiServer"]
    return {
        "index_sha": _tenant_state().head_sha,
        "head": head,
        "index_servers": dict(Cluster.objects.values_list("name", "api_server")),
        "git_servers": in_git,
    }


def main(argv: list[str]) -> None:
    import django

    django.setup()
    name, args = argv[0], argv[1:]
    if name == "setup":
        result = _setup(args)
    elif name == "save":
        result = _save(args[0], args[1], int(args[2]))
    elif name == "sync":
        result = _sync(args[0], float(args[1]))
    elif name == "state":
        result = _state(args[0])
    elif name == "cluster-setup":
        result = _cluster_setup(args[0])
    elif name == "cluster-save":
        result = _cluster_save(args[0], args[1])
    elif name == "cluster-state":
        result = _cluster_state()
    else:
        raise SystemExit(f"unknown command {name}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
