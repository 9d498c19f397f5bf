"""Operation steps for products (DESIGN §3): each step is idempotent and resumable.

Steps resolve their adapters from settings (`nautes_portal.integrations`) at run time, so a
retry in a worker uses the current configuration; they read what they need from
`operation.params` (names and ids only, never secrets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from nautes_portal.audit import audit_record
from nautes_portal.errors import Conflict
from nautes_portal.git_index import commit_author
from nautes_portal.integrations import git_host
from nautes_portal.integrations.config_repo import GitGroup, GitHost
from nautes_portal.operations import Step, register
from nautes_portal.operations.kinds import PRODUCT_SAVE
from nautes_portal.operations.models import Operation
from products.manifests import KUSTOMIZATION_PATH, kustomization
from products.models import AccessLevel, Membership, Product

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from nautes_portal.integrations.gitlab import GitLabHost


def _actor(operation: Operation) -> User | None:
    if operation.created_by_id is None:
        return None
    return get_user_model().objects.filter(pk=operation.created_by_id).first()


def _remember(operation: Operation, **values: object) -> None:
    """Record facts a later run of this operation needs (e.g. "this group is mine")."""
    operation.params = {**operation.params, **values}
    Operation.objects.filter(pk=operation.pk).update(params=operation.params)


def ensure_group(operation: Operation) -> str:
    """Create the group, or update the one this operation may use; never a foreign group.

    `group_id` in the params is the group `products.adoption.claim_product_group` allowed (or
    the one this step created); `group_import` means the caller's own GitLab group, taken
    as-is. Any other existing group is refused, even when the step runs again on a retry.
    """
    from products.adoption import group_taken, refuse_tenant_group

    p = operation.params
    name = p["name"]
    refuse_tenant_group(name)
    host = git_host()
    group = host.get_group(name)
    if group is None:
        _remember(operation, group_create_sent=True)
        try:
            group = host.create_group(
                path=name,
                name=p["display_name"],
                visibility=p["visibility"],
                description=p["description"],
            )
        except Conflict:
            _remember(operation, group_create_sent=False)  # it was someone else's
            raise
        _remember(operation, group_id=group.id, group_created=True, group_import=False)
        return f"group {group.path} (id {group.id}) created"
    if p.get("group_id") != group.id:
        if not made_by_this_operation(operation, host, group):
            raise group_taken(name)
        _remember(operation, group_id=group.id, group_created=True, group_import=False)
        p = operation.params
    if p.get("group_import"):
        return f"group {group.path} (id {group.id}) imported as it is"
    group = host.ensure_group(
        path=name,
        name=p["display_name"],
        visibility=p["visibility"],
        description=p["description"],
    )
    return f"group {group.path} (id {group.id})"


def made_by_this_operation(operation: Operation, host: GitHost, group: GitGroup) -> bool:
    """Whether `group` is the one this operation's own creation request made, though the step
    never learnt its id (GitLab answered after the portal stopped waiting, or the worker died).

    Such a group is still empty, and in GitLab its only member is the portal's account (GitLab
    makes the creator its Owner); a group someone else made has them as its Owner.
    """
    if not operation.params.get("group_create_sent") or host.list_projects(group.path):
        return False
    if not host.manages_group_members:
        return True  # local backend: group creation is atomic; only a crash gets here
    gitlab = cast("GitLabHost", host)  # the flag says it has GitLab's member calls
    portal = gitlab.user_for_token(settings.GITLAB_TOKEN).username
    return set(gitlab.group_members(group.path)) == {portal}


def ensure_owner(operation: Operation) -> str:
    """The creator owns the product in Git too (the portal acts with its own service token)."""
    from nautes_portal.models import OidcIdentity

    host = git_host()
    if not host.manages_group_members:
        return "local backend: ownership is recorded in the portal"
    identity = (
        OidcIdentity.objects.filter(user_id=operation.created_by_id).first()
        if operation.created_by_id is not None
        else None
    )
    if identity is None or not identity.username:
        return "the acting account has no GitLab identity; nothing to add"
    gitlab = cast("GitLabHost", host)  # the flag says it has GitLab's member calls
    gitlab.add_group_member(operation.params["name"], identity.username, AccessLevel.OWNER)
    return f"{identity.username} is an Owner of the group"


_OPENNESS = ("private", "internal", "public")


def ensure_repository(operation: Operation) -> str:
    host = git_host()
    name, visibility = operation.params["name"], operation.params["visibility"]
    if operation.params.get("group_import"):
        # An imported group's own default.project (e.g. upstream's) is taken as it is.
        existing = host.get_project(name, settings.NAUTES_DEFAULT_PROJECT)
        if existing is not None:
            return f"repository {existing.full_path} (id {existing.id}) kept as it is"
        # The group keeps its visibility; the repository can be no more open than its group.
        group = host.get_group(name)
        if group is not None and group.visibility in _OPENNESS:
            visibility = min(visibility, group.visibility, key=_OPENNESS.index)
    project = host.ensure_project(
        namespace_path=name,
        path=settings.NAUTES_DEFAULT_PROJECT,
        visibility=visibility,
    )
    return f"repository {project.full_path} (id {project.id})"


def initial_commit(operation: Operation) -> str:
    host = git_host()
    project = host.get_project(operation.params["name"], settings.NAUTES_DEFAULT_PROJECT)
    assert project is not None, "the repository step ran before"
    repo = host.repository(project)
    if (head := repo.head()) is not None:
        return f"already initialised at {head[:8]}"
    sha = repo.commit(
        changes={KUSTOMIZATION_PATH: kustomization([])},
        expected_parent=None,
        message="initial commit.",
        author=commit_author(_actor(operation)),
    )
    return f"initial commit {sha[:8]}"


def index_product(operation: Operation) -> str:
    from products.services import product_git_fields, product_sync

    host = git_host()
    name = operation.params["name"]
    group = host.get_group(name)
    project = host.get_project(name, settings.NAUTES_DEFAULT_PROJECT)
    assert group is not None and project is not None, "earlier steps created them"
    actor = _actor(operation)
    try:
        with transaction.atomic():
            product, created = Product.objects.update_or_create(
                name=name, defaults=product_git_fields(group, project)
            )
            if created and actor is not None:
                Membership.objects.get_or_create(
                    user=actor, product=product, defaults={"access_level": AccessLevel.OWNER}
                )
            audit_record(
                actor=actor,
                action="save",
                kind="Product",
                name=name,
                product=product,
                repository=project.full_path,
                message=f"operation {operation.pk}",
            )
    except IntegrityError as exc:
        raise Conflict(f"product {name} is being created by another request") from exc
    Operation.objects.filter(pk=operation.pk).update(product=product, product_name=product.name)
    product_sync(product=product, repo=host.repository(project), host=host)
    return f"indexed {product.resource_name}"


def _protect(operation: Operation) -> str:
    from products.repo_provisioning import protect_default_branch

    return protect_default_branch(operation)


def _deploy_key(operation: Operation) -> str:
    from products.repo_provisioning import ensure_default_project_key

    return ensure_default_project_key(operation)


register(
    PRODUCT_SAVE,
    [
        Step("group", "Create or update the product group", ensure_group),
        Step("owner", "Make the creator an Owner of the group", ensure_owner),
        Step(
            "repository",
            f"Create the {settings.NAUTES_DEFAULT_PROJECT} repository",
            ensure_repository,
        ),
        Step("initial_commit", "Write the initial commit", initial_commit),
        Step("protect", "Protect the main branch", _protect),
        Step("deploy_key", "Create the read-only deploy key", _deploy_key),
        Step("index", "Index the product", index_product),
    ],
)
