"""Benchmarks of the portal, reported as ratios measured in one run on this machine.

    python bench/run.py            # prints a table and writes bench/results.md

* read:  GET /api/v1/products/{p}/environments on a product with 500 resources, against a local
         `git clone` of the same repository (upstream clones on every request, before any
         network); and the same GET at 5,000 resources against the 500 case (flatness).
* write: saving an environment through the service (rules, render, commit, index, audit)
         against a bare `git commit` of the same file in a working copy.
* scale: the product list API with 1,000 products against a trivial Django view, with the
         number of SQL queries.
Each figure is the median of several runs; the ratio is what the targets are about.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="nautes-bench-"))
os.environ["NAUTES_DATA_DIR"] = str(WORK / "data")
(WORK / "data").mkdir()
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def setup() -> tuple[object, Client]:
    from django.contrib.auth import get_user_model

    from nautes_portal.models import ApiToken

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
    _, token = ApiToken.issue(user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return user, client


def product_with(user: object, name: str, count: int, environments: int | None = None) -> object:
    """A product whose default.project holds `count` resources, written and indexed:
    `environments` environments (all of them by default) and projects for the rest."""
    from clusters.models import Cluster
    from nautes_portal.integrations import git_host
    from nautes_portal.integrations.config_repo import Author
    from products.manifests import KUSTOMIZATION_PATH, build_document, dump_yaml, kustomization
    from products.services import product_repository, product_save, product_sync

    product, _ = product_save(
        name=name, display_name=name, path="", visibility="private", description="", actor=user
    )
    environments = count if environments is None else environments
    clusters = []
    for i in range(environments):
        spec = {
            "apiServer": "https://10.0.0.1:6443",
            "clusterType": "physical",
            "usage": "worker",
            "workerType": "deployment",
            "componentsList": {},
        }
        clusters.append(
            Cluster(
                name=f"{name}-c{i}",
                api_server=spec["apiServer"],
                cluster_type="physical",
                usage="worker",
                worker_type="deployment",
                manifest={"spec": spec},
                path=f"x/{name}-c{i}.yaml",
            )
        )
    Cluster.objects.bulk_create(clusters)
    files: dict[str, bytes | None] = {}
    for i in range(environments):
        spec = {"cluster": f"{name}-c{i}", "envType": "dev", "product": product.resource_name}
        files[f"envs/env-{i}.yaml"] = dump_yaml(build_document("Environment", f"env-{i}", spec))
    for i in range(count - environments):
        spec = {"language": "Go", "product": product.resource_name}
        files[f"projects/p-{i}/p-{i}.yaml"] = dump_yaml(build_document("Project", f"p-{i}", spec))
    files[KUSTOMIZATION_PATH] = kustomization(p for p in files if p != KUSTOMIZATION_PATH)
    repo = product_repository(product, git_host())
    repo.commit(
        changes=files,
        expected_parent=repo.head(),
        message="bench data",
        author=Author(name="bench", email="bench@example.com"),
    )
    product_sync(product=product, repo=repo)
    return product


def git_clone_seconds(product: object, runs: int) -> float:
    from nautes_portal.integrations import git_host
    from products.services import product_project

    url = product_project(product, git_host()).http_url

    def clone() -> None:
        target = tempfile.mkdtemp(dir=WORK)
        subprocess.run(["git", "clone", "-q", url, target], check=True, env=GIT_ENV)
        shutil.rmtree(target)

    return median_seconds(clone, runs)


def bench_read(user: object, client: Client) -> list[tuple[str, str, str, str]]:
    small = product_with(user, "bench-500", 500, environments=50)
    large = product_with(user, "bench-5000", 5000, environments=50)

    def get(name: str) -> Callable[[], object]:
        def call() -> None:
            response = client.get(f"/api/v1/products/{name}/environments")
            assert response.status_code == 200

        return call

    api_500 = median_seconds(get("bench-500"), 20)
    api_5000 = median_seconds(get("bench-5000"), 10)
    clone_500 = git_clone_seconds(small, 10)
    del large
    return [
        (
            "read: list environments (product of 500 resources) vs git clone",
            f"{api_500 * 1000:.1f} ms",
            f"{clone_500 * 1000:.1f} ms",
            f"{clone_500 / api_500:.1f}× faster (target ≥ 20×)",
        ),
        (
            "read: same list, product of 5,000 vs 500 resources",
            f"{api_5000 * 1000:.1f} ms",
            f"{api_500 * 1000:.1f} ms",
            f"{api_5000 / api_500:.2f}× (target ≤ 1.5×)",
        ),
    ]


def bench_write(user: object) -> list[tuple[str, str, str, str]]:
    from nautes_portal.integrations import git_host
    from products.services import resource_save

    product = product_with(user, "bench-write", 50)
    counter = iter(range(10_000))

    def save() -> None:
        i = next(counter)
        resource_save(
            product=product,
            kind="Environment",
            name="env-0",
            spec={"cluster": "bench-write-c0", "envType": f"dev{i}"},
            actor=user,
            host=git_host(),
        )

    portal = median_seconds(save, 15)
    work = WORK / "plain"
    subprocess.run(["git", "init", "-q", str(work)], check=True, env=GIT_ENV)
    target = work / "envs" / "env-0.yaml"
    target.parent.mkdir()

    def plain_commit() -> None:
        i = next(counter)
        target.write_text(f"kind: Environment\nspec: {{envType: dev{i}}}\n")
        subprocess.run(["git", "-C", str(work), "add", "-A"], check=True, env=GIT_ENV)
        subprocess.run(
            [
                "git",
                "-C",
                str(work),
                "-c",
                "user.name=b",
                "-c",
                "user.email=b@b",
                "commit",
                "-q",
                "-m",
                "x",
            ],
            check=True,
            env=GIT_ENV,
        )

    plain = median_seconds(plain_commit, 15)
    return [
        (
            "write: save an environment vs git add+commit",
            f"{portal * 1000:.1f} ms",
            f"{plain * 1000:.1f} ms",
            f"{portal / plain:.2f}× (target ≤ 3×)",
        )
    ]


def bench_scale(user: object, client: Client) -> list[tuple[str, str, str, str]]:
    from products.models import Product

    Product.objects.bulk_create(
        Product(name=f"scale-{i}", group_id=900_000 + i) for i in range(1000)
    )

    def products() -> None:
        assert client.get("/api/v1/products").status_code == 200

    def trivial() -> None:
        assert client.get("/bench/trivial").status_code == 200

    queries: list[str] = []

    def count(execute: Callable[..., object], sql: str, *args: object) -> object:
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        products()
    listed = median_seconds(products, 10)
    baseline = median_seconds(trivial, 50)
    return [
        (
            "scale: product list (1,000 products) vs trivial view",
            f"{listed * 1000:.1f} ms",
            f"{baseline * 1000:.2f} ms",
            f"{listed / baseline:.1f}× with {len(queries)} queries (target ≤ 5×)",
        )
    ]


def main() -> None:
    user, client = setup()
    rows = bench_read(user, client) + bench_write(user) + bench_scale(user, client)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{connection.vendor}"
    )
    lines = [
        "# Benchmarks",
        "",
        f"Command: `python bench/run.py` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"Machine: {machine}",
        "",
        "| measurement | portal | baseline | ratio |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    (ROOT / "bench" / "results.md").write_text(text)
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
