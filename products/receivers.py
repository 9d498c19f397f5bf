"""How products answers what the apps below it ask (connected in `apps.ready`)."""

from __future__ import annotations

from typing import Any

from products.models import Environment


def environments_on_cluster(sender: Any, *, name: str, **kwargs: Any) -> list[str]:
    """`cluster_references_requested`: the environments of any product that use the cluster."""
    return [
        f"environment/{product}/{env}"
        for product, env in Environment.objects.filter(cluster=name)
        .order_by("product__name", "name")
        .values_list("product__name", "name")
    ]
