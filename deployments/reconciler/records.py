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
        # Values, not model instances: a cluster has hundreds of rows and most passes change
        # none of them (bench/reconcile.py).
        rows = {
            (product_id, runtime_name): (pk, dict(zip(_CHANGING_FIELDS, values, strict=True)))
            for pk, product_id, runtime_name, *values in RuntimeStatus.objects.select_for_update()
            .filter(product_id__in={pk for pk, _ in state.outcomes} or {-1})
            .values_list("pk", "product_id", "runtime_name", *_CHANGING_FIELDS)
        }
        created: list[RuntimeStatus] = []
        changes: dict[str, tuple[dict[str, object], list[int]]] = {}
        for key, outcome in state.outcomes.items():
            pk, before = rows.get(key, (None, dict.fromkeys(_CHANGING_FIELDS, "")))
            after = dict(before)
            after["pass_result"] = outcome.result
            after["pass_message"] = "; ".join(outcome.messages)
            plan = plans.get(key)
            if outcome.admitted and plan is not None:
                after["applied_commit"] = commits.get(outcome.product_pk, "")
                after["deployed_cluster"] = cluster
                after["deployed_namespaces"] = list(plan.namespaces)
                after["deployed_account"] = plan.account
            elif not outcome.held and before["deployed_cluster"] == cluster:
                after.update(deployed_cluster="", deployed_namespaces=[], deployed_account="")
            if pk is None:
                fields = {k: v for k, v in after.items() if k != "deployed_namespaces" or v}
                created.append(
                    RuntimeStatus(
                        product_id=outcome.product_pk,
                        runtime_name=outcome.runtime,
                        cluster=cluster,
                        environment=outcome.environment,
                        pass_at=now,
                        **fields,
                    )
                )
                continue
            change = {f: a for f, a in after.items() if a != before[f]}
            if change:
                key_ = json.dumps(change, sort_keys=True)
                changes.setdefault(key_, (change, []))[1].append(pk)
        RuntimeStatus.objects.bulk_create(created)
        # Most passes change nothing: the time of the pass is one UPDATE, and the rows that
        # changed alike (every runtime going from "applied" to "unchanged", say) one more each.
        passed = [pk for key, (pk, _) in rows.items() if key in state.outcomes]
        RuntimeStatus.objects.filter(pk__in=passed).update(pass_at=now)
        for change, pks in changes.values():
            RuntimeStatus.objects.filter(pk__in=pks).update(**change)
        _forget_gone(cluster, set(state.outcomes))


def _forget_gone(cluster: str, present: set[tuple[int, str]]) -> None:
    """Runtimes the pass removed from this cluster: a record of a runtime still indexed
    elsewhere forgets this cluster; a runtime gone from the index loses its record."""
    leftovers = [
        (pk, product_id, runtime_name)
        for pk, product_id, runtime_name in RuntimeStatus.objects.filter(
            deployed_cluster=cluster
        ).values_list("pk", "product_id", "runtime_name")
        if (product_id, runtime_name) not in present
    ]
    if not leftovers:
        return
    indexed = set(
        DeploymentRuntime.objects.filter(
            product_id__in={product_id for _, product_id, _ in leftovers},
            name__in={name for _, _, name in leftovers},
        ).values_list("product_id", "name")
    )
    gone = [pk for pk, product_id, name in leftovers if (product_id, name) not in indexed]
    RuntimeStatus.objects.filter(pk__in=gone).delete()
    RuntimeStatus.objects.filter(pk__in=[pk for pk, _, _ in leftovers if pk not in gone]).update(
        deployed_cluster="", deployed_namespaces=[], deployed_account=""
    )
