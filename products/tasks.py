"""django-q2 entry points for keeping the index equal to Git (thin: they resolve adapters)."""

from __future__ import annotations

import logging

from django.conf import settings

from clusters.services import tenant_repository, tenant_sync
from nautes_portal.errors import NautesError
from nautes_portal.integrations import git_host
from products.models import Product
from products.services import product_repository, product_sync

logger = logging.getLogger(__name__)

SYNC_SCHEDULE_NAME = "nautes: sync configuration repositories"


def sync_product(product_id: int) -> bool:
    """Import one product's `default.project` at HEAD; return whether the index changed."""
    product = Product.objects.get(pk=product_id)
    host = git_host()
    return product_sync(product=product, repo=product_repository(product, host), host=host)


def sync_tenant() -> bool:
    """Import the tenant repository's clusters at HEAD."""
    return tenant_sync(repo=tenant_repository(git_host()))


def sync_all() -> dict[str, int]:
    """Import the tenant repository and every product; one failing product never stops the rest."""
    host = git_host()
    changed = failed = 0
    tenant_sync(repo=tenant_repository(host))
    for product in Product.objects.order_by("name"):
        try:
            changed += product_sync(
                product=product, repo=product_repository(product, host), host=host
            )
        except NautesError as exc:
            failed += 1
            logger.warning("sync of product %s failed: %s", product.name, exc.message)
    return {"changed": changed, "failed": failed}


def sync_memberships() -> dict[str, int]:
    """Scheduled: GitLab membership into the portal (GitLab backend only)."""
    from products.membership import membership_sync_all

    if settings.NAUTES_GIT_BACKEND != "gitlab":
        return {"synced": 0, "failed": 0}
    return membership_sync_all(git_host())
