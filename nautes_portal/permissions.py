"""Who may see and do what: the one module used by the UI, the API and tasks.

Access levels follow GitLab (reference/nautes.md §6.1): Reporter+ reads a product, Developer+
changes its resources, Maintainer+ creates code repositories and bindings, Owner deletes it.
Tenant-repository Maintainer+ manages clusters. Superusers are tenant administrators.
Objects a user may not read are reported as missing (404), never as forbidden.

The policy is the core's; the rows it reads belong to the apps (products and their memberships,
tenant memberships of clusters). They are looked up in the app registry when a rule runs, never
imported: the core imports no app (the import-linter contract in pyproject.toml).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from nautes_portal.roles import AccessLevel


def _level(user: Any, product: Any) -> int:
    Membership = apps.get_model("products", "Membership")
    if not user.is_authenticated:
        return 0
    if user.is_superuser:
        return AccessLevel.OWNER
    cache: dict[int, int] = user.__dict__.setdefault("_nautes_levels", {})
    if product.pk not in cache:
        membership = Membership.objects.filter(user=user, product=product).first()
        cache[product.pk] = membership.access_level if membership else 0
    return cache[product.pk]


def products_visible_to(user: Any) -> QuerySet[Any]:
    """Products the user may read, filtered in SQL (public ones and those they belong to)."""
    Product = apps.get_model("products", "Product")
    Membership = apps.get_model("products", "Membership")
    if not user.is_authenticated:
        return Product.objects.none()
    if user.is_superuser:
        return Product.objects.all()
    member = Membership.objects.filter(user=user, access_level__gte=AccessLevel.REPORTER).values(
        "product_id"
    )
    return Product.objects.filter(Q(pk__in=member) | Q(visibility="public"))


def visible_products_condition(user: Any, alias: str) -> tuple[str, list[object]]:
    """`products_visible_to` as an SQL condition on the product table aliased `alias`, for the
    hand-written queries of hot pages (the same rule; a test holds the two equal)."""
    Membership = apps.get_model("products", "Membership")
    if not user.is_authenticated:
        return "1 = 0", []
    if user.is_superuser:
        return "1 = 1", []
    member = (
        f"SELECT m.product_id FROM {Membership._meta.db_table} m"  # noqa: S608 (a table name)
        " WHERE m.user_id = %s AND m.access_level >= %s"
    )
    return (
        f"({alias}.visibility = %s OR {alias}.id IN ({member}))",
        ["public", user.pk, int(AccessLevel.REPORTER)],
    )


def visible_product(user: Any, name: str) -> Any:
    """The product of that name if the user may read it (one query). Every product page and
    endpoint starts here, so the rule goes in as SQL: the same queryset built with the ORM cost
    three times as much as running it."""
    Product = apps.get_model("products", "Product")
    condition, params = visible_products_condition(user, "p")
    sql = f"SELECT p.* FROM {Product._meta.db_table} p WHERE p.name = %s AND {condition}"  # noqa: S608
    return next(iter(Product.objects.raw(sql, [name, *params])), None)


def can_view_product(user: Any, product: Any) -> bool:
    return (product.visibility == "public" and user.is_authenticated) or (
        _level(user, product) >= AccessLevel.REPORTER
    )


def can_change_resources(user: Any, product: Any) -> bool:
    """Environments, projects, runtimes: Developer+ (push to main of default.project)."""
    return _level(user, product) >= AccessLevel.DEVELOPER


def can_read_console(user: Any, product: Any) -> bool:
    """The live console of a product's runtimes (#15): resource tree, events, pod logs, diff.
    Reporter+ membership, even on a public product: logs and events are the workloads' own
    output (addresses, errors, sometimes data) and a public product's configuration is not."""
    return _level(user, product) >= AccessLevel.REPORTER


def can_operate_runtime(user: Any, product: Any) -> bool:
    """The console's actions on a product's deployed runtimes (#15): sync (with options), hard
    refresh, restart a workload, delete a pod: Developer+, who may change the runtimes too."""
    return _level(user, product) >= AccessLevel.DEVELOPER


def can_rollback_runtime(user: Any, product: Any) -> bool:
    """Rolling a runtime back to an earlier deployment, away from what Git says: Maintainer+."""
    return _level(user, product) >= AccessLevel.MAINTAINER


def can_manage_repositories(user: Any, product: Any) -> bool:
    """Code repositories and bindings: Maintainer+."""
    return _level(user, product) >= AccessLevel.MAINTAINER


def can_update_product(user: Any, product: Any) -> bool:
    return _level(user, product) >= AccessLevel.MAINTAINER


def can_delete_product(user: Any, product: Any) -> bool:
    return _level(user, product) >= AccessLevel.OWNER


def can_create_product(user: Any) -> bool:
    """Any account may create a product (upstream: any GitLab account can create groups)."""
    return bool(user.is_authenticated)


def _tenant_level(user: Any) -> int:
    TenantMembership = apps.get_model("clusters", "TenantMembership")
    if not user.is_authenticated:
        return 0
    if user.is_superuser:
        return AccessLevel.OWNER
    membership = TenantMembership.objects.filter(user=user).first()
    return membership.access_level if membership else 0


def can_view_clusters(user: Any) -> bool:
    """Reading clusters needs read access to the tenant configuration repository."""
    return _tenant_level(user) >= AccessLevel.REPORTER


def can_manage_clusters(user: Any) -> bool:
    """Registering and deleting clusters: tenant-repository Maintainer+ (push to main)."""
    return _tenant_level(user) >= AccessLevel.MAINTAINER


def can_view_audit(user: Any) -> bool:
    return bool(user.is_authenticated)


def audit_events_visible_to(user: Any) -> QuerySet[Any]:
    """Audit events of readable products, plus cluster events for tenant readers."""
    from nautes_portal.models import AuditEvent

    if user.is_authenticated and user.is_superuser:
        return AuditEvent.objects.all()
    visible = Q(product__in=products_visible_to(user))
    if can_view_clusters(user):
        visible |= Q(kind="Cluster")
    return AuditEvent.objects.filter(visible)


def operations_visible_to(user: Any) -> QuerySet[Any]:
    """Operations the user may see, by *current* rights (never by having started one):

    * an operation of a product: while the user may read that product;
    * a cluster check: while the user may read the tenant's clusters;
    * any other operation without a product (a product creation that failed before the
      product existed, an operation of a deleted product): its creator, unless it names a
      product that exists now and that the user may not read.
    """
    from nautes_portal.operations.kinds import CLUSTER_KINDS
    from nautes_portal.operations.models import Operation

    Product = apps.get_model("products", "Product")
    if not user.is_authenticated:
        return Operation.objects.none()
    if user.is_superuser:
        return Operation.objects.all()
    readable = products_visible_to(user)
    visible = Q(product__in=readable)
    if can_view_clusters(user):
        visible |= Q(product__isnull=True, kind__in=CLUSTER_KINDS)
    hidden_names = Product.objects.exclude(pk__in=readable.values("pk")).values("name")
    visible |= (
        Q(product__isnull=True, created_by=user)
        & ~Q(kind__in=CLUSTER_KINDS)
        & ~Q(target__in=hidden_names)
        & ~Q(product_name__in=hidden_names)
    )
    return Operation.objects.filter(visible)


def can_retry_operation(user: Any, operation: Any) -> bool:
    """Retrying needs, now, the right that starting the operation's action needs (#12): a
    retry acts again with the portal's service token, so having started it is not enough.

    * a cluster check or reconcile pass: tenant Maintainer+ (manage clusters);
    * a product save: Maintainer+ of the product of that name when one exists (an update);
      otherwise (a creation that failed before the product existed) its creator, while they
      may still create products;
    * code repositories and the product's authorization: Maintainer+ of the product;
    * a runtime's rollback: Maintainer+ of the product (`can_rollback_runtime`);
    * anything else of a product (runtimes): Developer+ of the product;
    * an operation whose product was deleted: tenant administrators only (no one holds a
      right on a product that is gone; a product of the same name now is another product).
    """
    from nautes_portal.operations.kinds import (
        CLUSTER_KINDS,
        CODEREPO_DEPROVISION,
        CODEREPO_PROVISION,
        PRODUCT_AUTHORIZATION,
        PRODUCT_SAVE,
        RUNTIME_ROLLBACK,
    )

    Product = apps.get_model("products", "Product")

    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if operation.kind in CLUSTER_KINDS:
        return can_manage_clusters(user)
    if operation.kind == PRODUCT_SAVE:
        product = operation.product or Product.objects.filter(name=operation.target).first()
        if product is not None:
            return can_update_product(user, product)
        return operation.created_by_id == user.pk and can_create_product(user)
    if operation.product is None:
        return False
    # Started by code-repository and binding saves and deletes (Maintainer+).
    if operation.kind in (CODEREPO_PROVISION, CODEREPO_DEPROVISION, PRODUCT_AUTHORIZATION):
        return can_manage_repositories(user, operation.product)
    if operation.kind == RUNTIME_ROLLBACK:
        return can_rollback_runtime(user, operation.product)
    return can_change_resources(user, operation.product)
