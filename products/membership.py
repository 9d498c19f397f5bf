"""Keep `Membership` and `TenantMembership` equal to GitLab group and tenant-repo membership.

Synced on login and token use (the caller's own groups), on a schedule and on demand
(`membership_sync_all`, with the portal's service token). Only users linked to a GitLab
identity are touched: local break-glass accounts keep what an administrator gave them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from clusters.models import TenantMembership
from nautes_portal.errors import NautesError
from nautes_portal.integrations import tenant_repo_path
from nautes_portal.models import OidcIdentity
from products.models import Membership, Product

logger = logging.getLogger(__name__)


@transaction.atomic
def membership_apply_levels(user: Any, levels: dict[str, int]) -> None:
    """Set the user's product memberships from group path → access level (GitLab's view)."""
    products = dict(Product.objects.filter(name__in=levels).values_list("name", "pk"))
    for name, product_id in products.items():
        Membership.objects.update_or_create(
            user=user, product_id=product_id, defaults={"access_level": levels[name]}
        )
    Membership.objects.filter(user=user).exclude(product_id__in=products.values()).delete()


def tenant_membership_refresh(user: Any, username: str, host: Any) -> None:
    """Set the user's tenant-repository level from the project's members (inherited included)."""
    namespace, project_path = tenant_repo_path()
    project = host.get_project(namespace, project_path)
    level = host.project_members(project.id).get(username) if project is not None else None
    if level:
        TenantMembership.objects.update_or_create(user=user, defaults={"access_level": level})
    else:
        TenantMembership.objects.filter(user=user).delete()


def membership_sync_all(host: Any) -> dict[str, int]:
    """Re-read every product group's and the tenant repository's members from GitLab."""
    identities = {i.username: i.user_id for i in OidcIdentity.objects.exclude(username="")}
    linked = set(identities.values())
    synced = failed = 0
    for product in Product.objects.order_by("name"):
        try:
            members = host.group_members(product.name)
        except NautesError as exc:
            failed += 1
            logger.warning("members of %s could not be read: %s", product.name, exc.message)
            continue
        wanted = {identities[u]: level for u, level in members.items() if u in identities}
        with transaction.atomic():
            for user_id, level in wanted.items():
                Membership.objects.update_or_create(
                    user_id=user_id, product=product, defaults={"access_level": level}
                )
            Membership.objects.filter(product=product, user_id__in=linked - set(wanted)).delete()
        synced += 1
    namespace, project_path = tenant_repo_path()
    project = host.get_project(namespace, project_path)
    if project is not None:
        members = host.project_members(project.id)
        wanted = {identities[u]: level for u, level in members.items() if u in identities}
        with transaction.atomic():
            for user_id, level in wanted.items():
                TenantMembership.objects.update_or_create(
                    user_id=user_id, defaults={"access_level": level}
                )
            TenantMembership.objects.filter(user_id__in=linked - set(wanted)).delete()
    return {"synced": synced, "failed": failed}
