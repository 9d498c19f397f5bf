"""Running a repository provisioning operation (`products.repo_provisioning`) right after
a commit: a failure is a warning naming the operation to retry, never an error.
"""

from __future__ import annotations

from typing import Any

from nautes_portal.git_index import SaveOutcome
from nautes_portal.integrations.config_repo import GitHost
from nautes_portal.types import Actor
from products.models import Product


def _provision(
    kind_ref: str, *, target: str, product: Product, actor: Actor, params: dict[str, Any]
) -> str:
    """Run a provisioning operation now; return a warning (not an error) if it did not finish.

    The configuration commit already happened, so a failure here is reported as upstream does
    for deploy-key refreshes: saved, with a warning naming the operation to retry.
    """
    from django.utils.module_loading import import_string

    from nautes_portal.operations import operation_create, operation_run

    operation = operation_create(
        kind=import_string(kind_ref), target=target, params=params, actor=actor, product=product
    )
    result = operation_run(operation.pk)
    if result.status == result.Status.SUCCEEDED:
        return ""
    return f"[warning] {result.error} (operation {result.pk} can be retried)"


def _with_authorization(
    outcome: SaveOutcome, *, product: Product, actor: Actor, host: GitHost
) -> SaveOutcome:
    """A binding changed: deploy keys are shared anew (§5.6); a failure is a warning."""
    warning = authorization_refresh(product=product, actor=actor, host=host)
    return SaveOutcome(
        commit_sha=outcome.commit_sha, path=outcome.path, created=outcome.created, warning=warning
    )


def authorization_refresh(*, product: Product, actor: Actor, host: GitHost) -> str:
    """Re-apply deploy-key sharing after a binding changed (GitLab backend); return a warning."""
    if not host.manages_project_access:
        return ""
    return _provision(
        "products.repo_provisioning.PRODUCT_AUTHORIZATION",
        target=product.name,
        product=product,
        actor=actor,
        params={"product": product.name},
    )
