"""How deployments reacts to what the apps below it announce (connected in `apps.ready`)."""

from __future__ import annotations

from typing import Any

from deployments.services import runtime_deploy_start, runtime_remove_start
from products.manifests import index_fields
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
