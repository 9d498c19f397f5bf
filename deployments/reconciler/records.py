"""What a pass records per runtime (`RuntimeStatus`): where it is deployed, the index commit
the pass applied, when, and the result. A fixed number of queries per pass."""

from __future__ import annotations

import json

from django.db import transaction
from django.utils import timezone

from deployments.models import RuntimeStatus
from deployments.reconciler.state import ClusterState
from products.models import DeploymentRuntime

_CHANGING_FIELDS = [
    "pass_result",
    "pass_message",
    "applied_commit",
    "deployed_cluster",
    "deployed_namespaces",
    "deployed_account",
]


def _values(row: RuntimeStatus) -> tuple[object, ...]:
    return tuple(getattr(row, name) for name in _CHANGING_FIELDS)


def record_pass(state: ClusterState) -> None:
    cluster = state.cluster.name
    now = timezone.now()
    commits = {entry.product.pk: entry.product.commit_sha for entry in state.products}
    plans = {
        (entry.product.pk, runtime.name): runtime
        for entry in state.products
        for runtime in entry.placement.runtimes
    }
    with transaction.atomic():
        rows = {
            (row.product_id, row.runtime_name): row
            for row in RuntimeStatus.objects.select_for_update()
            .filter(product_id__in={pk for pk, _ in state.outcomes} or {-1})
            .only("product_id", "runtime_name", "pass_at", *_CHANGING_FIELDS)
        }
        created: list[RuntimeStatus] = []
        changes: dict[str, tuple[dict[str, object], list[int]]] = {}
        for key, outcome in state.outcomes.items():
            row = rows.get(key)
            if row is None:
                row = RuntimeStatus(
                    product_id=outcome.product_pk,
                    runtime_name=outcome.runtime,
                    cluster=cluster,
                    environment=outcome.environment,
                )
                created.append(row)
            before = _values(row)
            row.pass_at = now
            row.pass_result = outcome.result
            row.pass_message = "; ".join(outcome.messages)
            plan = plans.get(key)
            if outcome.admitted and plan is not None:
                row.applied_commit = commits.get(outcome.product_pk, "")
                row.deployed_cluster = cluster
                row.deployed_namespaces = list(plan.namespaces)
                row.deployed_account = plan.account
            elif not outcome.held and row.deployed_cluster == cluster:
                row.deployed_cluster, row.deployed_namespaces, row.deployed_account = "", [], ""
            if row.pk is not None:
                after = _values(row)
                change = {
                    f: a for f, b, a in zip(_CHANGING_FIELDS, before, after, strict=True) if a != b
                }
                if change:
                    key_ = json.dumps(change, sort_keys=True)
                    changes.setdefault(key_, (change, []))[1].append(row.pk)
        RuntimeStatus.objects.bulk_create(created)
        # Most passes change nothing: the time of the pass is one UPDATE, and the rows that
        # changed alike (every runtime going from "applied" to "unchanged", say) one more each.
        passed = [row.pk for key, row in rows.items() if key in state.outcomes]
        RuntimeStatus.objects.filter(pk__in=passed).update(pass_at=now)
        for change, pks in changes.values():
            RuntimeStatus.objects.filter(pk__in=pks).update(**change)
        _forget_gone(cluster, set(state.outcomes))


def _forget_gone(cluster: str, present: set[tuple[int, str]]) -> None:
    """Runtimes the pass removed from this cluster: a record of a runtime still indexed
    elsewhere forgets this cluster; a runtime gone from the index loses its record."""
    leftovers = [
        row
        for row in RuntimeStatus.objects.filter(deployed_cluster=cluster).only(
            "product_id", "runtime_name"
        )
        if (row.product_id, row.runtime_name) not in present
    ]
    if not leftovers:
        return
    indexed = set(
        DeploymentRuntime.objects.filter(
            product_id__in={row.product_id for row in leftovers},
            name__in={row.runtime_name for row in leftovers},
        ).values_list("product_id", "name")
    )
    gone = [row.pk for row in leftovers if (row.product_id, row.runtime_name) not in indexed]
    RuntimeStatus.objects.filter(pk__in=gone).delete()
    RuntimeStatus.objects.filter(pk__in=[row.pk for row in leftovers if row.pk not in gone]).update(
        deployed_cluster="", deployed_namespaces=[], deployed_account=""
    )
