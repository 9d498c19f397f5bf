"""Products: creating or updating one (its Git group and `default.project`), deleting one,
and indexing an existing group (`product_import`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from nautes_portal.audit import audit_record
from nautes_portal.errors import Conflict, NotFound, RuleViolation
from nautes_portal.integrations import git_host
from nautes_portal.integrations.config_repo import GitHost, GitProject
from nautes_portal.types import Actor
from products.adoption import claim_product_group, refuse_tenant_group
from products.models import MODEL_BY_KIND, Product
from products.services.base import PRODUCT_NAME, VISIBILITIES
from products.services.sync import product_sync

# Names the portal's own pages take (`/products/new/` is the wizard): a product so named could
# be created but never opened in the browser.
RESERVED_PRODUCT_NAMES = frozenset({"new"})


def validate_product_name(name: str) -> None:
    """The product-name rule for every door (API, wizard, admin)."""
    if len(name) > 63 or not PRODUCT_NAME.match(name):
        raise RuleViolation(
            f"product name '{name}' is invalid: use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (RFC 1123 label)"
        )
    if name in RESERVED_PRODUCT_NAMES:
        raise RuleViolation(f"{name} is reserved by the portal's pages; choose another name.")


def product_save(
    *,
    name: str,
    display_name: str,
    path: str,
    visibility: str,
    description: str,
    actor: Actor,
    host: GitHost | None = None,
) -> tuple[Product, bool]:
    """Create or update a product: its Git group and `default.project` with an initial commit.

    Validates first, then runs the `product.save` operation inline (the API answers when it is
    done, as upstream's does); a failed step is kept for a retry. Return the product and
    whether it was created. An existing group that is not this product's is refused (409)
    unless `products.adoption` allows it (the caller's unfinished creation, or their GitLab
    group, imported unchanged).
    """
    from nautes_portal.operations import operation_create, operation_run_inline
    from products.provisioning import PRODUCT_SAVE

    validate_product_name(name)
    if path and path != name:
        raise RuleViolation(
            "when creating a GitLab group, the path must be consistent with the product name. "
            f"the expected name is {name}, but it is currently {path}"
        )
    if visibility not in VISIBILITIES:
        raise RuleViolation(
            f"visibility must be one of {', '.join(VISIBILITIES)}, not '{visibility}'"
        )
    existed = Product.objects.filter(name=name).exists()
    # Never adopt a group the portal did not make (#12): decided before anything is written.
    claim = claim_product_group(name=name, actor=actor, host=host or git_host())
    operation = operation_create(
        kind=PRODUCT_SAVE,
        target=name,
        params={
            "name": name,
            "display_name": display_name or name,
            "visibility": visibility,
            "description": description,
            "group_id": claim.group_id,
            "group_import": claim.import_as_is,
            # A resumed creation stays resumable if this run fails too.
            "group_created": claim.group_id is not None and not existed and not claim.import_as_is,
        },
        actor=actor,
    )
    operation_run_inline(operation)
    return Product.objects.get(name=name), not existed


def product_delete(*, product: Product, actor: Actor, host: GitHost) -> None:
    """Delete a product's group once nothing remains in it (upstream counts Git projects)."""
    refuse_tenant_group(product.name)
    group = host.get_group(product.name)
    if group is not None and group.id != product.group_id:
        raise Conflict(
            f"the Git group {product.name} is not this product's group; it is never deleted",
            reason="ALREADY_TAKEN",
        )
    others = [
        p.path
        for p in host.list_projects(product.name)
        if p.path != settings.NAUTES_DEFAULT_PROJECT
    ]
    if others:
        raise Conflict(
            f"here are multiple project in {product.name}, unable to delete",
            reason="RESOURCE_IN_USE",
            metadata={"projects": others},
        )
    remaining = [
        f"{model.kind}/{name}"
        for model in MODEL_BY_KIND.values()
        for name in model.objects.filter(product=product).values_list("name", flat=True)
    ]
    if remaining:
        raise Conflict(
            f"product {product.name} still has resources [{'|'.join(remaining)}], "
            "delete them first",
            reason="RESOURCE_IN_USE",
        )
    host.delete_group(product.name)
    # Clusters grant by product name: the name is freed only once no allow-list grants it, or
    # whoever creates a product of that name next would inherit the grants (#12). A failure
    # here keeps the product (its group gone): deleting it again finishes the job.
    from clusters.services import cluster_grants_revoke

    revoked = cluster_grants_revoke(product_name=product.name, actor=actor, host=host)
    message = f"its grants removed from clusters {', '.join(revoked)}" if revoked else ""
    audit_record(actor=actor, action="delete", kind="Product", name=product.name, message=message)
    product.delete()


def product_git_fields(group: Any, project: GitProject) -> dict[str, Any]:
    """The product row's columns that come from its Git group and `default.project`."""
    return {
        "group_id": group.id,
        "display_name": group.name,
        "visibility": group.visibility,
        "description": group.description,
        "repo_project_id": project.id,
        "repo_url": project.http_url,
    }


def product_import(*, name: str, host: GitHost, actor: Actor = None) -> Product:
    """Index an existing product group (e.g. one written by upstream Nautes).

    An operator's command: it may index any group but the tenant's.
    """
    refuse_tenant_group(name)
    group = host.get_group(name)
    project = host.get_project(name, settings.NAUTES_DEFAULT_PROJECT) if group else None
    if group is None or project is None:
        raise NotFound(f"{name} is non product, missing metadata", reason="PROJECT_NOT_FOUND")
    product, _ = Product.objects.update_or_create(
        name=name, defaults=product_git_fields(group, project)
    )
    product_sync(product=product, repo=host.repository(project), actor=actor, host=host)
    return product
