"""What every product service shares: name rules, commit messages, problems as errors,
the product's configuration repository, and the index's lock.
"""

from __future__ import annotations

import re

from django.conf import settings

from nautes_portal.errors import Conflict, NotFound, RuleViolation
from nautes_portal.integrations.config_repo import ConfigRepository, GitHost, GitProject
from products import rules
from products.models import Product

# An RFC 1123 label, at most 63 characters: checked before any Git call (#12).
PRODUCT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")


VISIBILITIES = ("private", "public")


KINDS_WITH_PRODUCT_FIELD = (
    "Environment",
    "Project",
    "CodeRepo",
    "CodeRepoBinding",
    "DeploymentRuntime",
)


def commit_message(action: str, kind: str, name: str, product: str) -> str:
    """Upstream's intended format (`reference/nautes.md` §5.1 step 6)."""
    return f"[API] {action}_{kind}: {name}, Product: {product}."


def raise_problems(problems: list[rules.Problem]) -> None:
    """Raise the first problem's status and reason with every distinct message."""
    if not problems:
        return
    messages = list(dict.fromkeys(p.message for p in problems))
    first = problems[0]
    error_class = Conflict if first.status == 409 else RuleViolation
    raise error_class(
        "; ".join(messages),
        reason=first.reason,
        status=first.status,
        metadata={
            "problems": [{"kind": p.kind, "name": p.name, "message": p.message} for p in problems]
        },
    )


def product_project(product: Product, host: GitHost) -> GitProject:
    project = host.get_project(product.name, settings.NAUTES_DEFAULT_PROJECT)
    if project is None:
        raise NotFound(
            "there are no default projects under this product", reason="PROJECT_NOT_FOUND"
        )
    return project


def product_repository(product: Product, host: GitHost) -> ConfigRepository:
    return host.repository(product_project(product, host))


def _lock_commit_sha(product: Product) -> str:
    """The commit the index is at, with the product row locked until the transaction ends: index
    updates of one product happen one at a time (a no-op on SQLite, which locks the database)."""
    return (
        Product.objects.select_for_update().values_list("commit_sha", flat=True).get(pk=product.pk)
    )
