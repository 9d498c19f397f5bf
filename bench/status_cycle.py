"""Benchmark: one status collector cycle over N clusters × M Argo CD Applications.

Fake Kubernetes API servers (tests/fakes/kube_server.py) with an injected latency per request
run in a separate process (as real clusters would: their JSON work must not compete with the
collector for this process's GIL; `--same-process` puts them here instead). The portal side uses
a throw-away SQLite database and `deployments.status.status_collect_all`. Each cycle prints its
wall time, SQL queries and API requests. The first cycle inserts every row; later cycles find
most Applications unchanged (same resourceVersion) and only bump their read time; `--churn`
makes a share of them change between cycles. Kept out of the test suite.

    .venv/bin/python bench/status_cycle.py                       # 50 clusters × 200 apps, 50 ms
    .venv/bin/python bench/status_cycle.py --clusters 10 --apps 1000 --latency 0.2 --workers 16

Kubeconfigs are handed to the collector directly (no Vault): the bench measures the clusters
and the database, not the secret store.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_GROUP_ID = 1000


# ---- The layout both processes agree on -------------------------------------------------
def product_index(args: argparse.Namespace, app: int) -> int:
    """Which of the cluster's products runtime number `app` belongs to."""
    per_product = max(1, args.apps // args.products_per_cluster)
    return min(app // per_product, args.products_per_cluster - 1)


def group_id(args: argparse.Namespace, cluster: int, product: int) -> int:
    return FIRST_GROUP_ID + cluster * args.products_per_cluster + product


def application(name: str, product_id: str, index: int, cycle: int = 0) -> dict[str, Any]:
    """An Application with a realistic status (two resources, 12 history entries)."""
    revision = f"{index + cycle * 7919:040x}"
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "labels": {"resource.nautes.io/belongsto": product_id},
        },
        "spec": {
            "project": product_id,
            "source": {"repoURL": "git@gitlab.example.com:p/r.git", "path": "m",
                       "targetRevision": "HEAD"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
        },
        "status": {
            "sync": {"status": "Synced" if index % 7 else "OutOfSync", "revision": revision},
            "health": {"status": "Healthy" if index % 11 else "Degraded"},
            "resources": [
                {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": name,
                 "name": "web", "status": "Synced", "health": {"status": "Healthy"}},
                {"version": "v1", "kind": "Service", "namespace": name, "name": "web",
                 "status": "Synced", "health": {"status": "Healthy"}},
            ],
            "history": [
                {"id": i, "revision": revision, "deployedAt": "2024-05-01T09:00:00Z"}
                for i in range(12)
            ],
            "reconciledAt": "2024-05-01T10:00:00Z",
        },
    }  # fmt: skip


# ---- The clusters (a child process) ---------------------------------------------------------
def serve_clusters(args: argparse.Namespace, pipe: Connection) -> None:
    """Start the fake API servers, report their kubeconfigs, then obey commands on `pipe`."""
    from tests.fakes.kube_server import FakeKubeServer, stop_all

    servers = []
    for c in range(args.clusters):
        server = FakeKubeServer(argocd_installed=True, latency=args.latency).start()
        for i in range(args.apps):
            gid = group_id(args, c, product_index(args, i))
            server.create(application(f"dr-{i:04d}", f"product-{gid}", i))
        servers.append(server)
    pipe.send([s.kubeconfig() for s in servers])
    try:
        while True:
            command, value = pipe.recv()
            if command == "requests":
                pipe.send(sum(len(s.requests) for s in servers))
                for server in servers:
                    server.clear_requests()
            elif command == "churn":  # change the status of a share of the Applications
                changed = 0
                for server in servers:
                    for i in range(0, args.apps, max(1, round(1 / value)) if value else args.apps):
                        status = application("x", "x", i, cycle=changed + 1)["status"]
                        server.set_status("argoproj.io", "applications", "argocd",
                                          f"dr-{i:04d}", status)  # fmt: skip
                        changed += 1
                pipe.send(changed)
            else:
                break
    finally:
        stop_all(servers)


# ---- The portal (this process) --------------------------------------------------------------
def setup_django(data_dir: str) -> None:
    os.environ["NAUTES_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nautes_portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def build_index(args: argparse.Namespace, kubeconfigs: list[str]) -> dict[str, str]:
    """Clusters, products, environments and runtimes matching the servers; name → kubeconfig."""
    import yaml

    from clusters.models import Cluster
    from products.models import DeploymentRuntime, Environment, Product

    by_name = {}
    for c, kubeconfig in enumerate(kubeconfigs):
        name = f"cluster-{c:03d}"
        by_name[name] = kubeconfig
        server = yaml.safe_load(kubeconfig)["clusters"][0]["cluster"]["server"]
        Cluster.objects.create(
            name=name, api_server=server, cluster_type="physical", usage="worker"
        )
        products = Product.objects.bulk_create(
            Product(name=f"p-{c:03d}-{p:02d}", group_id=group_id(args, c, p))
            for p in range(args.products_per_cluster)
        )
        Environment.objects.bulk_create(
            Environment(product=p, name="env", cluster=name, path="envs/env.yaml") for p in products
        )
        DeploymentRuntime.objects.bulk_create(
            DeploymentRuntime(
                product=products[product_index(args, i)],
                name=f"dr-{i:04d}",
                path=f"runtimes/dr-{i:04d}.yaml",
                destination_environment="env",
            )
            for i in range(args.apps)
        )
    return by_name


def measure(args: argparse.Namespace, kubeconfigs: dict[str, str], pipe: Connection) -> None:
    from django.db import connection

    from clusters.models import Cluster
    from deployments.models import RuntimeStatus
    from deployments.status import status_collect_all
    from nautes_portal.integrations.kube import KubeClient

    def factory(cluster: Cluster) -> KubeClient:
        return KubeClient.from_kubeconfig(kubeconfigs[cluster.name], timeout=args.timeout)

    for cycle in range(1, args.cycles + 1):
        changed = 0
        if cycle > 1 and args.churn:
            pipe.send(("churn", args.churn))
            changed = pipe.recv()
        queries = 0

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            summary = status_collect_all(
                max_workers=args.workers, timeout=args.timeout, client_factory=factory
            )
            took = time.perf_counter() - started
        pipe.send(("requests", None))
        requests = pipe.recv()
        rows = RuntimeStatus.objects.filter(reachable=True).count()
        churn = f", {changed} changed since the last cycle" if cycle > 1 and args.churn else ""
        print(
            f"cycle {cycle}: {took:.2f} s for {len(summary.clusters)} clusters, {rows} runtimes "
            f"read{churn}, {len(summary.unreachable)} unreachable, {queries} SQL queries, "
            f"{requests} API requests",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--apps", type=int, default=200, help="Applications per cluster")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API request")
    parser.add_argument("--workers", type=int, default=8, help="clusters read at a time")
    parser.add_argument("--timeout", type=float, default=10.0, help="per cluster, seconds")
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--churn", type=float, default=0.1, help="share changed per cycle")
    parser.add_argument("--products-per-cluster", type=int, default=10)
    args = parser.parse_args()

    print(
        f"{args.clusters} clusters × {args.apps} applications, {args.latency * 1000:g} ms per "
        f"request, {args.workers} workers; starting the fake clusters ...",
        flush=True,
    )
    # Fork before Django is set up: the child only needs the fake server.
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    child = multiprocessing.get_context("fork").Process(
        target=serve_clusters, args=(args, theirs), daemon=True
    )
    child.start()
    kubeconfigs = ours.recv()
    try:
        with tempfile.TemporaryDirectory(prefix="nautes-bench-") as data_dir:
            setup_django(data_dir)
            measure(args, build_index(args, kubeconfigs), ours)
    finally:
        ours.send(("stop", None))
        child.join(timeout=10)


if __name__ == "__main__":
    main()
