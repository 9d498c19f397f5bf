"""The large tenant the scale benchmarks and the fixed-query-count tests share: products with
two environments, five projects and N runtimes each, every runtime with a status row, and one
reader who is a Reporter of all of them (so the permission scoping is in the SQL)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from deployments.models import RuntimeStatus
from products.models import (
    AccessLevel,
    DeploymentRuntime,
    Environment,
    Membership,
    Product,
    Project,
)


def build_tenant(
    reader: Any, *, prefix: str, products: int = 1000, runtimes: int = 10, group_base: int = 900_000
) -> list[Product]:
    """`products` products named `<prefix>-0000`...; runtime `dr-j` deploys `svc-<j % 5>` to dev
    (odd j) or prod, is OutOfSync when j % 3 == 0 and Degraded when j % 4 == 0."""
    made = Product.objects.bulk_create(
        Product(name=f"{prefix}-{i:04d}", group_id=group_base + i) for i in range(products)
    )
    Membership.objects.bulk_create(
        Membership(user=reader, product=p, access_level=AccessLevel.REPORTER) for p in made
    )
    Environment.objects.bulk_create(
        Environment(product=p, name=env, cluster="cluster-a", path=f"envs/{env}.yaml")
        for p in made
        for env in ("dev", "prod")
    )
    Project.objects.bulk_create(
        Project(product=p, name=f"svc-{k}", path=f"projects/svc-{k}/svc-{k}.yaml")
        for p in made
        for k in range(5)
    )
    DeploymentRuntime.objects.bulk_create(
        DeploymentRuntime(
            product=p,
            name=f"dr-{j}",
            path=f"runtimes/dr-{j}.yaml",
            projects_ref=[f"svc-{j % 5}"],
            destination_environment="dev" if j % 2 else "prod",
        )
        for p in made
        for j in range(runtimes)
    )
    now = timezone.now()
    RuntimeStatus.objects.bulk_create(
        RuntimeStatus(
            product=p,
            runtime_name=f"dr-{j}",
            cluster="cluster-a",
            environment="dev" if j % 2 else "prod",
            application_found=True,
            sync_status="Synced" if j % 3 else "OutOfSync",
            health_status="Healthy" if j % 4 else "Degraded",
            revision=f"{j:040x}",
            read_at=now,
            checked_at=now,
            deployed_at=now,
            reachable=True,
        )
        for p in made
        for j in range(runtimes)
    )
    return made
