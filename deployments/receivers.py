"""How deployments reacts to what the apps below it announce (connected in `apps.ready`)."""

from __future__ import annotations

from typing import Any

from deployments.services import (
    runtime_deploy_start,
    runtime_remove_start,
    runtimes_redeploy_start,
)
from products.manifests import index_fields
from products.models import Environment
from products.signals import IndexChange

RUNTIME_KIND = "DeploymentRuntime"


def deploy_changed_runtimes(
    sender: Any, *, product: Any, changes: tuple[IndexChange, ...], actor: Any, **kwargs: Any
) -> None:
    """`product_index_changed`: queue the deploy of each saved DeploymentRuntime and the
    removal of each deleted one (from where its spec said it ran)."""
    for change in changes:
        if change.kind != RUNTIME_KIND:
            continue
        if change.new is not None:
            runtime_deploy_start(product=product, runtime_name=change.name, actor=actor)
        elif change.old is not None:
            fields = index_fields(RUNTIME_KIND, change.old)
            runtime_remove_start(
                product=product,
                runtime_name=change.name,
                actor=actor,
                environment=fields["destination_environment"],
                namespaces=fields["destination_namespaces"],
                account=fields["account"],
            )


def _allow_lists(spec: dict[str, Any]) -> tuple[Any, Any]:
    return (
        spec.get("reservedNamespacesAllowedProducts"),
        spec.get("productAllowedClusterResources"),
    )


def redeploy_on_allow_list_change(
    sender: Any,
    *,
    name: str,
    old_spec: dict[str, Any] | None,
    new_spec: dict[str, Any],
    actor: Any,
    **kwargs: Any,
) -> None:
    """`cluster_saved`: the AppProjects on a cluster carry its allow-lists, so when an update
    changed them, re-apply the runtimes of every environment on the cluster."""
    if old_spec is None or _allow_lists(old_spec) == _allow_lists(new_spec):
        return
    for env in Environment.objects.filter(cluster=name).select_related("product"):
        runtimes_redeploy_start(product=env.product, actor=actor, environment=env.name)
