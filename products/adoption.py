"""Never adopt what the portal did not make (#12): which Git groups and projects a save may use.

The portal acts in Git with its own service token, which can do far more than the caller. So a
product save may update only a group that is already this product's (indexed), that an
unfinished creation of the same caller made, or — in GitLab — one the caller owns there (then
imported as-is). The tenant group and its ancestors never become products; the tenant
repository and `default.project` never become code repositories. The API, the wizard and the
operation steps all ask these functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings

from nautes_portal.errors import Conflict
from nautes_portal.integrations import tenant_repo_path
from nautes_portal.integrations.config_repo import GitGroup, GitHost, GitProject
from nautes_portal.types import Actor, signed_in

if TYPE_CHECKING:
    from nautes_portal.integrations.gitlab import GitLabHost

OWNER = 50  # GitLab's Owner access level
TAKEN_REASON = "ALREADY_TAKEN"


@dataclass(frozen=True)
class GroupClaim:
    """What a product save may do with its Git group.

    `group_id` None: no group exists yet, the save creates one. Otherwise the existing group it
    may use; `import_as_is` means the caller owns it in GitLab and it is never changed.
    """

    group_id: int | None
    import_as_is: bool = False


def group_taken(name: str, why: str = "") -> Conflict:
    """GitLab's own answer to creating a group whose path exists, with the portal's reason."""
    return Conflict(
        f"Failed to create group {name}: path has already been taken{why}",
        reason=TAKEN_REASON,
        metadata={"group": name},
    )


def project_taken(namespace: str, path: str, why: str = "") -> Conflict:
    return Conflict(
        f"Failed to create project {namespace}/{path}: path has already been taken{why}",
        reason=TAKEN_REASON,
        metadata={"project": f"{namespace}/{path}"},
    )


def tenant_namespaces() -> frozenset[str]:
    """The tenant repository's group and every ancestor group (an Owner of a parent group owns
    the tenant repository too), case-folded: GitLab paths are case-insensitive (`Nautes` and
    `nautes` are the same group), so compare `name.casefold()` with these."""
    namespace, _ = tenant_repo_path()
    parts = namespace.casefold().split("/")
    return frozenset("/".join(parts[: i + 1]) for i in range(len(parts)))


def refuse_tenant_group(name: str) -> None:
    """The tenant group can never become (or be changed or deleted as) a product."""
    if name.casefold() in tenant_namespaces():
        raise group_taken(
            name, " (it holds the tenant configuration repository and is never a product)"
        )


def is_tenant_repository(namespace: str, path: str) -> bool:
    """Whether `<namespace>/<path>` is the tenant repository, in any letter case (GitLab's)."""
    tenant_namespace, tenant_path = tenant_repo_path()
    return (namespace.casefold(), path.casefold()) == (
        tenant_namespace.casefold(),
        tenant_path.casefold(),
    )


def claim_product_group(*, name: str, actor: Actor, host: GitHost) -> GroupClaim:
    """Decide which Git group a save of product `name` may use; Conflict when none.

    The one rule for the API, the wizard and `product.save` (its `group` step re-checks).
    """
    from products.models import Product

    refuse_tenant_group(name)
    group = host.get_group(name)
    if group is None:
        return GroupClaim(group_id=None)
    product = Product.objects.filter(name=name).first()
    if product is not None:
        if product.group_id == group.id:
            return GroupClaim(group_id=group.id)
        # The product's group was deleted and the path taken by another group since.
        raise group_taken(name, " (by a group that is not this product's)")
    if resumes_own_creation(name=name, group=group, actor=actor, host=host):
        return GroupClaim(group_id=group.id)
    if caller_owns_group(host, group, actor):
        return GroupClaim(group_id=group.id, import_as_is=True)
    raise group_taken(name)


def resumes_own_creation(*, name: str, group: GitGroup, actor: Actor, host: GitHost) -> bool:
    """Whether `actor` has an unfinished `product.save` of `name` that made this group, so a
    failed creation stays retryable by saving again (not only by retrying the operation)."""
    from nautes_portal.operations.models import Operation
    from products.provisioning import PRODUCT_SAVE, made_by_this_operation

    user = signed_in(actor)
    if user is None:
        return False
    unfinished = Operation.objects.filter(kind=PRODUCT_SAVE, target=name, created_by=user).exclude(
        status=Operation.Status.SUCCEEDED
    )
    if unfinished.filter(params__group_id=group.id, params__group_created=True).exists():
        return True
    # A creation whose answer never came back (a GitLab timeout): the group's own evidence.
    sent = unfinished.filter(params__group_create_sent=True).order_by("-pk")[:3]
    return any(made_by_this_operation(operation, host, group) for operation in sent)


def caller_owns_group(host: GitHost, group: GitGroup, actor: Actor) -> bool:
    """Whether the caller is Owner of `group` in GitLab (asked with the service token).

    The local backend has no ownership outside the portal: always False there.
    """
    from nautes_portal.identity import identity_issuer
    from nautes_portal.models import OidcIdentity

    user = signed_in(actor)
    if not host.manages_group_members or user is None:
        return False
    identity = OidcIdentity.objects.filter(user=user, issuer=identity_issuer()).first()
    if identity is None or not identity.subject.isdigit():
        return False
    gitlab = cast("GitLabHost", host)  # the flag says it has GitLab's member calls
    return int(gitlab.group_member_level(group.path, int(identity.subject))) >= OWNER


# ---- Code repositories ---------------------------------------------------------------------


def check_code_project(*, product: Any, repo_name: str, project: GitProject | None) -> None:
    """A code-repository save creates its project or updates this product's own; never adopts.

    `project` is what Git holds at `<product>/<repo_name>` now (None: nothing yet).
    """
    if repo_name == settings.NAUTES_DEFAULT_PROJECT or is_tenant_repository(
        product.name, repo_name
    ):
        raise project_taken(
            product.name, repo_name, " (a configuration repository is never a code repository)"
        )
    if project is not None and not is_own_code_project(product, repo_name, project):
        raise project_taken(
            product.name, repo_name, f" (it is not a code repository of product {product.name})"
        )


def is_own_code_project(product: Any, repo_name: str, project: GitProject) -> bool:
    """Whether `project` is the one this product's indexed code repository `repo_name` names
    (`repo-<project id>`, Nautes' own link between a manifest and its project)."""
    from products.models import CodeRepo

    if is_tenant_repository(project.namespace_path, project.path):
        return False
    row = CodeRepo.objects.filter(product=product, repo_name=repo_name).first()
    if row is None or row.name != f"repo-{project.id}":
        return False
    return row.git_project_id in (None, project.id)


# ---- Which project a code repository is ------------------------------------------------------

REPO_NAME = re.compile(r"^repo-(\d+)$")


def code_repo_pid(name: str) -> int | None:
    """The project id a code repository's name `repo-<id>` claims (None: not of that form)."""
    match = REPO_NAME.match(name)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class CodeRepoIdentity:
    """Whether a code repository is the Git project its name claims.

    `project_id` is set only when Git holds `<product>/<repoName>` with exactly the id of the
    name `repo-<id>`; `problem` says why not otherwise.
    """

    project_id: int | None
    problem: str = ""
    # The project's clone URLs as the Git host gives them: the only URLs Argo CD may be handed
    # for it (a `spec.url` pushed to Git could name another product's repository).
    ssh_url: str = ""
    http_url: str = ""


def verify_code_repos(
    product_name: str, repos: Mapping[str, str], host: GitHost
) -> dict[str, CodeRepoIdentity]:
    """Check each code repository `name -> repoName` against the product group's projects.

    The name `repo-<project id>` is what Vault paths, deploy-key titles and Argo CD secrets are
    keyed by, tenant-wide. A file pushed to one product's `default.project` could otherwise
    name another product's project id and so reach its deploy keys (#12). One listing of the
    group answers every repository.
    """
    if not repos:
        return {}
    projects = {project.path.lower(): project for project in host.list_projects(product_name)}
    return {
        name: _identity(product_name, name, repo_name, projects)
        for name, repo_name in repos.items()
    }


def _identity(
    product_name: str, name: str, repo_name: str, projects: Mapping[str, GitProject]
) -> CodeRepoIdentity:
    rule = (
        f"a code repository is named repo-<id of the Git project {product_name}/<repoName>>; "
        "until it is, it gets no deploy key and changes no key"
    )
    claimed = code_repo_pid(name)
    if claimed is None:
        return CodeRepoIdentity(None, f"CodeRepo {name} is not named repo-<project id>: {rule}")
    if repo_name == settings.NAUTES_DEFAULT_PROJECT or is_tenant_repository(
        product_name, repo_name
    ):
        return CodeRepoIdentity(
            None, f"CodeRepo {name}: a configuration repository is never a code repository"
        )
    project = projects.get(repo_name.lower())
    if project is None:
        return CodeRepoIdentity(
            None,
            f"CodeRepo {name} claims Git project {claimed}, but {product_name}/{repo_name} "
            f"does not exist: {rule}",
        )
    if project.id != claimed:
        return CodeRepoIdentity(
            None,
            f"CodeRepo {name} claims Git project {claimed}, but {product_name}/{repo_name} is "
            f"project {project.id}: {rule}",
        )
    return CodeRepoIdentity(project.id, ssh_url=project.ssh_url, http_url=project.http_url)


def is_verified_code_repo(name: str, git_project_id: int | None) -> bool:
    """Whether an index row is a verified code repository: its `git_project_id` (set only from
    the Git host's answer, at a save or a sync) is the id its name claims."""
    claimed = code_repo_pid(name)
    return claimed is not None and git_project_id == claimed
