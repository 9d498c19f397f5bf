"""How products answers what the apps below it ask (connected in `apps.ready`)."""

from __future__ import annotations

from typing import Any

from products.membership import membership_apply_levels, tenant_membership_refresh
from products.models import Environment


def environments_on_cluster(sender: Any, *, name: str, **kwargs: Any) -> list[str]:
    """`cluster_references_requested`: the environments of any product that use the cluster."""
    return [
        f"environment/{product}/{env}"
        for product, env in Environment.objects.filter(cluster=name)
        .order_by("product__name", "name")
        .values_list("product__name", "name")
    ]


def refresh_memberships(
    sender: Any, *, user: Any, username: str, group_levels: dict[str, int], host: Any, **kwargs: Any
) -> None:
    """`gitlab_token_resolved`: the user's product memberships as GitLab answered for their
    token, and their level on the tenant configuration repository."""
    membership_apply_levels(user, group_levels)
    tenant_membership_refresh(user, username, host)
