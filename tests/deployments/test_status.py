"""Reading Argo CD status: the mapping, the explanations, the collector and bounded queries."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from bench.tenant import build_tenant
from deployments import overview
from deployments.models import RuntimeStatus
from deployments.overview import deployment_overview
from deployments.selectors import product_matrix, runtime_statuses
from deployments.status import (
    explain,
    install_status_schedule,
    status_collect_all,
    status_collect_cluster,
    status_fields,
)
from nautes_portal import permissions
from nautes_portal.integrations.kube import KubeClient
from products.models import AccessLevel, DeploymentRuntime, Membership, Product
from tests.deployments.test_deployer import (
    add_environment,
    add_repo,
    add_runtime,
    make_product,
    register_cluster,
)
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

REV = "4f2c0a9d6b1e8c7a5d3f2e1b0a9c8d7e6f5a4b3c"
OLD = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"


# ---- Realistic Application status documents (as Argo CD v2.x/v3 writes them) -----------
def _history(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "revision": REV if i == count - 1 else OLD,
            "deployStartedAt": f"2024-05-01T09:{i:02d}:00Z",
            "deployedAt": f"2024-05-01T09:{i:02d}:05Z",
            "initiatedBy": {"automated": True} if i % 2 else {"username": "alice"},
            "source": {
                "repoURL": "git@gitlab.example.com:nautes-labs/api-server.git",
                "path": "manifests/development",
                "targetRevision": "HEAD",
            },
        }
        for i in range(count)
    ]


def _resource(kind: str, name: str, sync: str, health: str | None, message: str = "") -> dict:
    item: dict[str, Any] = {
        "group": "apps" if kind == "Deployment" else "batch" if kind == "CronJob" else "",
        "version": "v1",
        "kind": kind,
        "namespace": "dr-dev",
        "name": name,
        "status": sync,
    }
    if health:
        item["health"] = {"status": health, **({"message": message} if message else {})}
    return item


SYNCED_HEALTHY = {
    "sync": {
        "status": "Synced",
        "revision": REV,
        "comparedTo": {
            "source": {
                "repoURL": "git@gitlab.example.com:nautes-labs/api-server.git",
                "path": "manifests/development",
                "targetRevision": "HEAD",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "dr-dev"},
        },
    },
    "health": {"status": "Healthy", "lastTransitionTime": "2024-05-01T09:11:30Z"},
    "resources": [
        _resource("Service", "api-server", "Synced", "Healthy"),
        _resource("Deployment", "api-server", "Synced", "Healthy"),
        _resource("ConfigMap", "api-server-config", "Synced", None),
    ],
    "history": _history(12),
    "operationState": {
        "operation": {"sync": {"revision": REV, "prune": True}, "initiatedBy": {"automated": True}},
        "phase": "Succeeded",
        "message": "successfully synced (all tasks run)",
        "startedAt": "2024-05-01T09:11:00Z",
        "finishedAt": "2024-05-01T09:11:05Z",
        "syncResult": {
            "revision": REV,
            "resources": [
                {
                    "kind": "Deployment",
                    "group": "apps",
                    "namespace": "dr-dev",
                    "name": "api-server",
                    "status": "Synced",
                    "message": "deployment.apps/api-server configured",
                    "syncPhase": "Sync",
                    "hookPhase": "Running",
                },
            ],
        },
    },
    "reconciledAt": "2024-05-01T10:00:00Z",
    "sourceType": "Directory",
    "summary": {"images": ["registry.example.com/api-server:1.4.2"]},
}

OUT_OF_SYNC_PROGRESSING = {
    "sync": {"status": "OutOfSync", "revision": REV},
    "health": {"status": "Progressing"},
    "resources": [
        _resource("Service", "api-server", "Synced", "Healthy"),
        _resource(
            "Deployment",
            "api-server",
            "OutOfSync",
            "Progressing",
            "Waiting for rollout to finish: 1 of 3 updated replicas are available...",
        ),
    ],
    "history": _history(3),
    "operationState": {
        "operation": {"sync": {"revision": REV}, "initiatedBy": {"automated": True}},
        "phase": "Running",
        "message": "waiting for healthy state of apps/Deployment/api-server",
        "startedAt": "2024-05-01T10:01:00Z",
    },
    "reconciledAt": "2024-05-01T10:01:02Z",
}

UNKNOWN_MISSING = {
    "sync": {"status": "Unknown"},
    "health": {"status": "Missing"},
    "conditions": [
        {
            "type": "ComparisonError",
            "message": "Failed to load target state: failed to generate manifest for source 1 of "
            "1: rpc error: code = Unknown desc = authentication required",
            "lastTransitionTime": "2024-05-01T10:02:00Z",
        }
    ],
    "reconciledAt": "2024-05-01T10:02:00Z",
}

DEGRADED_FAILED = {
    "sync": {"status": "OutOfSync", "revision": REV},
    "health": {"status": "Degraded", "message": "Deployment api-server is degraded"},
    "resources": [
        _resource(
            "Deployment",
            "api-server",
            "OutOfSync",
            "Degraded",
            'Deployment "api-server" exceeded its progress deadline',
        ),
        _resource("Service", "api-server", "Synced", "Healthy"),
    ],
    "conditions": [
        {
            "type": "SyncError",
            "message": "Failed sync attempt to 4f2c0a9: one or more objects failed to apply",
            "lastTransitionTime": "2024-05-01T10:03:00Z",
        }
    ],
    "history": _history(2),
    "operationState": {
        "operation": {"sync": {"revision": REV}, "initiatedBy": {"username": "alice"}},
        "phase": "Failed",
        "message": 'one or more objects failed to apply, reason: Deployment.apps "api-server" is '
        "invalid: spec.template.spec.containers[0].image: Required value",
        "startedAt": "2024-05-01T10:03:00Z",
        "finishedAt": "2024-05-01T10:03:02Z",
        "retryCount": 2,
        "syncResult": {
            "revision": REV,
            "resources": [
                {
                    "kind": "Deployment",
                    "group": "apps",
                    "namespace": "dr-dev",
                    "name": "api-server",
                    "status": "SyncFailed",
                    "syncPhase": "Sync",
                    "message": 'Deployment.apps "api-server" is invalid: spec.template.spec.'
                    "containers[0].image: Required value",
                },
            ],
        },
    },
}

SUSPENDED = {
    "sync": {"status": "Synced", "revision": REV},
    "health": {"status": "Suspended"},
    "resources": [
        _resource("CronJob", "nightly-report", "Synced", "Suspended", "CronJob is suspended")
    ],
    "history": _history(1),
}


def application(name: str, product_id: str, status: dict[str, Any] | None = None) -> dict:
    app: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "labels": {"resource.nautes.io/belongsto": product_id},
        },
        "spec": {
            "project": product_id,
            "source": {"repoURL": "git@x:y/z.git", "path": "m", "targetRevision": "HEAD"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
        },
    }
    if status is not None:
        app["status"] = copy.deepcopy(status)
    return app


def row_for(status: dict[str, Any] | None, **extra: Any) -> RuntimeStatus:
    now = timezone.now()
    values = {
        "runtime_name": "dr-dev",
        "cluster": "cluster-dev",
        "read_at": now,
        "checked_at": now,
        "reachable": True,
        **status_fields(
            application("dr-dev", "product-12", status) if status is not False else None
        ),
    }
    values.update(extra)
    return RuntimeStatus(**values)


# ---- Mapping ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("document", "sync", "health", "phase", "says"),
    [
        (SYNCED_HEALTHY, "Synced", "Healthy", "Succeeded", []),
        (
            OUT_OF_SYNC_PROGRESSING,
            "OutOfSync",
            "Progressing",
            "Running",
            [
                "A sync is running since 2024-05-01T10:01:00Z.",
                "The cluster differs from Git at revision 4f2c0a9d: Deployment dr-dev/api-server "
                "out of sync.",
                "The application is still rolling out.",
                "Deployment dr-dev/api-server is Progressing: Waiting for rollout to finish: "
                "1 of 3 updated replicas are available...",
            ],
        ),
        (
            UNKNOWN_MISSING,
            "Unknown",
            "Missing",
            "",
            [
                "Argo CD cannot compare Git with the cluster: Failed to load target state: failed "
                "to generate manifest for source 1 of 1: rpc error: code = Unknown desc = "
                "authentication required",
                "Argo CD could not tell whether the cluster matches Git (usually the repository "
                "cannot be read or the manifests cannot be generated).",
                "The application has resources missing from the cluster.",
            ],
        ),
        (
            DEGRADED_FAILED,
            "OutOfSync",
            "Degraded",
            "Failed",
            [
                "The last sync failed: Failed sync attempt to 4f2c0a9: one or more objects failed "
                "to apply",
                "The last sync at revision 4f2c0a9d (started 2024-05-01T10:03:00Z) failed: one or "
                'more objects failed to apply, reason: Deployment.apps "api-server" is invalid: '
                "spec.template.spec.containers[0].image: Required value",
                'Deployment dr-dev/api-server could not be applied: Deployment.apps "api-server" '
                "is invalid: spec.template.spec.containers[0].image: Required value",
                "The cluster differs from Git at revision 4f2c0a9d: Deployment dr-dev/api-server "
                "out of sync.",
                "The application is degraded: Deployment api-server is degraded.",
                'Deployment dr-dev/api-server is Degraded: Deployment "api-server" exceeded its '
                "progress deadline",
            ],
        ),
        (
            SUSPENDED,
            "Synced",
            "Suspended",
            "",
            [
                "The application is suspended (paused or waiting).",
                "CronJob dr-dev/nightly-report is Suspended: CronJob is suspended",
            ],
        ),
        ({}, "Unknown", "Unknown", "", None),  # just created: Argo CD has not looked yet
    ],
    ids=[
        "synced-healthy",
        "outofsync-progressing",
        "unknown-missing",
        "degraded-failed",
        "suspended",
        "no-status-yet",
    ],
)
def test_status_mapping_and_explanation(
    document: dict[str, Any], sync: str, health: str, phase: str, says: list[str] | None
) -> None:
    row = row_for(document)
    assert (row.sync_status, row.health_status, row.operation_phase) == (sync, health, phase)
    assert row.application_found is True
    if says is not None:
        assert explain(row) == says
    else:
        assert explain(row)  # something is said about an unknown state


def test_details_are_kept_small_and_ordered() -> None:
    row = row_for(SYNCED_HEALTHY)
    assert row.revision == REV
    assert [h["id"] for h in row.history] == list(range(11, 1, -1))  # last 10, newest first
    assert row.history[0] == {
        "id": 11,
        "revision": REV,
        "deployed_at": "2024-05-01T09:11:05Z",
        "started_at": "2024-05-01T09:11:00Z",
        "initiated_by": "automated",
    }
    assert row.deployed_at.isoformat() == "2024-05-01T09:11:05+00:00"
    assert row.reconciled_at.isoformat() == "2024-05-01T10:00:00+00:00"
    assert row.resources[1] == {
        "group": "apps",
        "kind": "Deployment",
        "namespace": "dr-dev",
        "name": "api-server",
        "sync": "Synced",
        "health": "Healthy",
        "message": "",
    }
    failed = row_for(DEGRADED_FAILED).operation
    assert failed["initiated_by"] == "alice" and failed["retry_count"] == 2
    assert failed["failed_resources"][0]["name"] == "api-server"


def test_explanations_for_a_missing_application_and_an_unreachable_cluster() -> None:
    missing = row_for(False)
    assert missing.application_found is False
    assert explain(missing) == [
        "Argo CD on cluster cluster-dev has no Application dr-dev: the runtime has not been "
        "deployed yet, or the Application was deleted by hand. Re-apply the runtime."
    ]
    read = timezone.now()
    dead = row_for(SYNCED_HEALTHY, reachable=False, read_at=read, error="connection refused.")
    lines = explain(dead)
    assert lines[0].startswith("The portal could not read cluster cluster-dev at ")
    assert f"unknown since {read:%Y-%m-%d %H:%M:%S} UTC" in lines[0]
    assert "connection refused." in lines[0]
    never = row_for(None, reachable=False, read_at=None, application_found=False)
    assert "never read so far" in explain(never)[0] and len(explain(never)) == 1


# ---- The collector --------------------------------------------------------------------------
def _populate(server: FakeKubeServer, product: Product, names: list[str], status: dict) -> None:
    for name in names:
        server.create(application(name, product.resource_name, status))


def _two_clusters(secret_store: Any, fake_kube_factory: Any, **options: Any) -> tuple:
    alpha, beta = fake_kube_factory(count=2, argocd_installed=True)
    slow = options.get("slow")
    if slow:
        (beta,) = fake_kube_factory(argocd_installed=True, latency=slow)
    register_cluster(secret_store, "cluster-a", alpha)
    register_cluster(secret_store, "cluster-b", beta)
    product = make_product()
    add_environment(product, "env-a", "cluster-a")
    add_environment(product, "env-b", "cluster-b")
    add_repo(product, 34, "api-server")
    for name in ("a1", "a2"):
        add_runtime(product, name, environment="env-a")
    add_runtime(product, "b1", environment="env-b")
    _populate(alpha, product, ["a1", "a2"], SYNCED_HEALTHY)
    _populate(beta, product, ["b1"], DEGRADED_FAILED)
    # Not ours: another product's app and an unlabelled one are ignored.
    alpha.create(application("other-app", "product-99", SUSPENDED))
    unlabelled = application("stray", "x", SUSPENDED)
    del unlabelled["metadata"]["labels"]
    alpha.create(unlabelled)
    return alpha, beta, product


def _row(name: str) -> RuntimeStatus:
    return RuntimeStatus.objects.get(runtime_name=name)


def test_a_dead_cluster_shows_unknown_while_the_other_keeps_updating(
    secret_store: Any, fake_kube_factory: Any
) -> None:
    alpha, beta, product = _two_clusters(secret_store, fake_kube_factory)
    summary = status_collect_all(timeout=5)
    assert summary.unreachable == []
    assert (_row("a1").sync_status, _row("a1").health_status) == ("Synced", "Healthy")
    assert (_row("b1").health_status, _row("b1").operation_phase) == ("Degraded", "Failed")
    first_read = _row("b1").read_at
    assert len([r for r in alpha.requests if r.path.endswith("/applications")]) == 1

    beta.stop()
    alpha.set_status("argoproj.io", "applications", "argocd", "a1", OUT_OF_SYNC_PROGRESSING)
    summary = status_collect_all(timeout=5)
    assert summary.unreachable == ["cluster-b"]
    a1, b1 = _row("a1"), _row("b1")
    assert (a1.sync_status, a1.reachable) == ("OutOfSync", True)
    # The dead cluster's row keeps its last known status, marked unknown since its last read.
    assert (b1.health_status, b1.reachable, b1.read_at) == ("Degraded", False, first_read)
    assert b1.checked_at > first_read and beta.url.split("//")[1] in b1.error
    assert explain(b1)[0].startswith("The portal could not read cluster cluster-b")
    assert [v.state for v in runtime_statuses(product)] == ["pending", "ok", "unknown"]


def test_a_slow_cluster_does_not_delay_the_others(
    secret_store: Any, fake_kube_factory: Any
) -> None:
    _alpha, _beta, _product = _two_clusters(secret_store, fake_kube_factory, slow=2.0)
    started = time.monotonic()
    summary = status_collect_all(timeout=0.4)
    took = time.monotonic() - started
    assert took < 1.5, took
    assert summary.unreachable == ["cluster-b"]
    assert _row("a1").reachable and _row("a1").sync_status == "Synced"
    b1 = _row("b1")
    assert not b1.reachable and b1.read_at is None and "0.4 s" in b1.error


def test_an_application_deleted_by_hand_is_reported_missing(
    secret_store: Any, fake_kube_factory: Any
) -> None:
    alpha, _beta, _product = _two_clusters(secret_store, fake_kube_factory)
    with KubeClient.from_kubeconfig(alpha.kubeconfig()) as client:
        client.delete_object(
            "argoproj.io",
            "v1alpha1",
            "applications",
            "argocd",
            "a2",
            owner_label=("resource.nautes.io/belongsto", "product-12"),
        )
    status_collect_all(timeout=5)
    a2 = _row("a2")
    assert a2.reachable and not a2.application_found
    assert "has no Application a2" in explain(a2)[0]


@pytest.mark.parametrize("count", [3, 120])
def test_collecting_a_cluster_runs_a_bounded_number_of_queries(
    count: int, secret_store: Any, fake_kube_factory: Any, django_assert_max_num_queries: Any
) -> None:
    (server,) = fake_kube_factory(argocd_installed=True)
    cluster = register_cluster(secret_store, "cluster-a", server)
    products = [make_product(f"p{i}", 100 + i) for i in range(3)]
    for product in products:
        add_environment(product, "env", "cluster-a")
    DeploymentRuntime.objects.bulk_create(
        DeploymentRuntime(
            product=products[i % 3],
            name=f"dr-{i}",
            path=f"runtimes/dr-{i}.yaml",
            destination_environment="env",
        )
        for i in range(count)
    )
    for i in range(count):
        server.create(application(f"dr-{i}", products[i % 3].resource_name, SYNCED_HEALTHY))
    with django_assert_max_num_queries(6):  # SQLite batches the upsert by 999 parameters
        result = status_collect_cluster(cluster, timeout=5)
    assert result.reachable and result.runtimes == count and result.applications == count
    assert RuntimeStatus.objects.filter(sync_status="Synced").count() == count
    before = RuntimeStatus.objects.get(runtime_name="dr-0").read_at
    with django_assert_max_num_queries(3):  # unchanged Applications: only the read time moves
        status_collect_cluster(cluster, timeout=5)
    assert RuntimeStatus.objects.count() == count
    assert RuntimeStatus.objects.get(runtime_name="dr-0").read_at > before


def test_the_schedule_is_installed_once() -> None:
    from django_q.models import Schedule

    install_status_schedule()
    install_status_schedule()
    schedule = Schedule.objects.get(name="nautes: collect deployment status")
    assert schedule.func == "deployments.status.status_collect_task" and schedule.minutes == 1


# ---- Read side at scale ---------------------------------------------------------------------
@pytest.fixture
def big_tenant(alice: Any) -> list[Product]:
    """1,000 products, 10,000 runtimes with status rows (the benchmarks' tenant); alice reads
    all of them."""
    return build_tenant(alice, prefix="prod", group_base=1000)


def test_overview_and_matrix_use_a_fixed_number_of_queries(
    big_tenant: list[Product], alice: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(3):
        overview = deployment_overview(alice, page=1, per_page=100)
    assert overview.page.paginator.count == 1000 and len(overview.products) == 100
    first = overview.products[0]
    assert (first.runtimes, first.synced, first.out_of_sync, first.degraded) == (10, 6, 4, 3)
    assert len(overview.attention) == 10 and overview.more_attention
    assert [(s.product, s.runtime_name) for s in overview.attention[:3]] == [
        ("prod-0000", "dr-0"),
        ("prod-0000", "dr-3"),
        ("prod-0000", "dr-4"),
    ]

    product = big_tenant[0]
    DeploymentRuntime.objects.bulk_create(
        DeploymentRuntime(
            product=product,
            name=f"extra-{j}",
            path=f"runtimes/extra-{j}.yaml",
            projects_ref=[f"svc-{j % 7}"],
            destination_environment="dev",
        )
        for j in range(2000)
    )
    with django_assert_max_num_queries(4):
        matrix = product_matrix(product)
    assert matrix.runtimes == 2010
    assert [e.name for e in matrix.environments] == ["dev", "prod"]
    assert sum(len(c.runtimes) for row in matrix.rows for c in row.cells) == 2010


# ---- The states the database derives ---------------------------------------------------------
def expected_states(
    reachable: bool, read: bool, found: bool, sync: str, health: str
) -> tuple[str, str, bool]:
    """The overview's rules, written out: unknown unless read and found; attention otherwise."""
    known = reachable and read and found
    sync_state = "unknown" if not known else "synced" if sync == "Synced" else "out_of_sync"
    health_state = (
        "unknown"
        if not known
        else {
            "Healthy": "healthy",
            "Progressing": "progressing",
            "Suspended": "progressing",
            "Degraded": "degraded",
            "Missing": "degraded",
        }.get(health, "other")
    )
    attention = not reachable or (not found and read) or health != "Healthy" or sync != "Synced"
    return sync_state, health_state, attention


def test_the_database_derives_the_overview_states_for_every_combination() -> None:
    product = Product.objects.create(name="grid", group_id=77)
    now = timezone.now()
    combos = [
        (reachable, read, found, sync, health)
        for reachable in (True, False)
        for read in (True, False)
        for found in (True, False)
        for sync in ("Synced", "OutOfSync", "Unknown", "")
        for health in ("Healthy", "Progressing", "Suspended", "Degraded", "Missing", "Unknown", "")
    ]
    RuntimeStatus.objects.bulk_create(
        RuntimeStatus(
            product=product,
            runtime_name=f"r-{i}",
            reachable=reachable,
            read_at=now if read else None,
            application_found=found,
            sync_status=sync,
            health_status=health,
        )
        for i, (reachable, read, found, sync, health) in enumerate(combos)
    )
    derived = {
        name: (sync_state, health_state, attention)
        for name, sync_state, health_state, attention in RuntimeStatus.objects.values_list(
            "runtime_name", "sync_state", "health_state", "needs_attention"
        )
    }
    for i, combo in enumerate(combos):
        assert derived[f"r-{i}"] == expected_states(*combo), combo

    # A writer changing a column changes the derived state with it (no writer can forget it).
    RuntimeStatus.objects.filter(runtime_name="r-0").update(health_status="Degraded")
    row = RuntimeStatus.objects.values_list("health_state", "needs_attention").get(
        runtime_name="r-0"
    )
    assert row == ("degraded", True)


def test_the_overview_counts_the_indexed_runtimes_only(alice: Any) -> None:
    """A status row outlives its runtime while the removal runs: neither counted nor listed. A
    runtime never read yet counts as a runtime, in no status column."""
    product = Product.objects.create(name="shop", group_id=5)
    Membership.objects.create(user=alice, product=product, access_level=AccessLevel.REPORTER)
    for name in ("dr-a", "dr-new"):
        DeploymentRuntime.objects.create(product=product, name=name, path=f"runtimes/{name}.yaml")
    now = timezone.now()
    for name in ("dr-a", "dr-gone"):  # dr-gone left the index; its removal is still running
        RuntimeStatus.objects.create(
            product=product,
            runtime_name=name,
            application_found=True,
            sync_status="OutOfSync",
            health_status="Degraded",
            read_at=now,
            reachable=True,
        )

    overview = deployment_overview(alice)

    (summary,) = overview.products
    assert (summary.runtimes, summary.out_of_sync, summary.degraded, summary.unknown) == (
        2,
        1,
        1,
        0,
    )
    assert [s.runtime_name for s in overview.attention] == ["dr-a"]


def test_the_attention_query_probes_products_one_by_one_on_postgresql(
    big_tenant: list[Product], alice: Any
) -> None:
    """Flattened into a semi-join, the EXISTS of the attention query was planned, right after a
    bulk load (before autovacuum's ANALYZE), as a nested loop over every status row for every
    product: 350 ms instead of 1 ms. `OFFSET 0` keeps it a per-product probe (a SubPlan)."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner rule")
    condition, params = permissions.visible_products_condition(alice, "p")
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) " + overview.ATTENTION_SQL.format(visible=condition),
            [*params, 11, 11],
        )
        (plan,) = cursor.fetchone()
    text = json.dumps(plan)
    assert '"Join Type": "Semi"' not in text and '"Subplan Name": "SubPlan' in text, text


def test_the_overview_reports_the_latest_change_and_the_oldest_reading(alice: Any) -> None:
    """Across the status groups of a product: the newest deployment and the oldest reading, as
    aware timestamps whatever the database returns (SQLite gives strings for MIN and MAX)."""
    product = Product.objects.create(name="shop", group_id=5)
    Membership.objects.create(user=alice, product=product, access_level=AccessLevel.REPORTER)
    base = timezone.now().replace(microsecond=123456)
    for i, name in enumerate(("dr-a", "dr-b", "dr-c")):
        DeploymentRuntime.objects.create(product=product, name=name, path=f"runtimes/{name}.yaml")
        RuntimeStatus.objects.create(
            product=product,
            runtime_name=name,
            application_found=True,
            sync_status="Synced",
            health_status="Degraded" if name == "dr-c" else "Healthy",
            read_at=base - dt.timedelta(minutes=i),
            deployed_at=base - dt.timedelta(hours=2 - i),
            reachable=True,
        )

    overview = deployment_overview(alice)

    (summary,) = overview.products
    assert summary.last_change == base  # dr-c, in the degraded group
    assert summary.oldest_read == base - dt.timedelta(minutes=2)
    (row,) = overview.attention
    assert (row.runtime_name, row.read_at, row.reachable) == (
        "dr-c",
        base - dt.timedelta(minutes=2),
        True,
    )


def test_the_overview_and_matrix_pages_render_in_a_fixed_number_of_queries(
    big_tenant: list[Product], alice: Any, client: Any, django_assert_max_num_queries: Any
) -> None:
    """The whole pages, templates included (a template reading a deferred column would add a
    query per runtime): session, user, then the selectors' queries."""
    client.force_login(alice)
    with django_assert_max_num_queries(5):
        overview = client.get("/deployments/")
    html = overview.content.decode()
    assert overview.status_code == 200 and "1–25 of 1000" in html
    # prod-0000's counts: runtimes, synced, out of sync, healthy, progressing, degraded, unknown;
    # a count that is not zero takes its column's class, a zero none.
    cells = '<td>10</td><td class="ok">6</td><td class="problem">4</td><td class="ok">7</td>'
    assert cells + '<td>0</td><td class="problem">3</td><td>0</td>' in html
    with django_assert_max_num_queries(7):
        matrix = client.get("/products/prod-0000/deployments/")
    html = matrix.content.decode()
    assert matrix.status_code == 200 and "10 runtimes" in html and "OutOfSync · Degraded" in html
