"""Importing `default.project` at HEAD into the index (`product_sync`).

Files that break a rule are indexed with the rule they break; code repositories are
verified against the group's projects in Git (#12).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from nautes_portal.audit import audit_record
from nautes_portal.git_index import import_until_settled
from nautes_portal.integrations import git_host
from nautes_portal.integrations.config_repo import ConfigRepository, GitHost
from nautes_portal.limits import bounded_diff
from nautes_portal.types import Actor
from products import rules
from products.adoption import CodeRepoIdentity, is_verified_code_repo, verify_code_repos
from products.indexing import complete_state, replace_index
from products.manifests import parse_tree
from products.models import CodeRepo, Product
from products.services.base import _lock_commit_sha
from products.signals import ROUTE_SYNC, announce_index_changed
from products.state import ProductState, Resource


def product_sync(
    *, product: Product, repo: ConfigRepository, actor: Actor = None, host: GitHost | None = None
) -> bool:
    """Import `default.project` at HEAD into the index; return whether anything changed.

    Files that break a rule are indexed with the rule they break, never dropped. When the index
    moves while HEAD is being read (a save, or another sync), the import starts again from the
    new HEAD instead of writing an older tree over a newer index. Code repositories are checked
    against the group's projects in Git (`host`, the configured one by default): only a
    verified one gets its `git_project_id` (#12).
    """
    git = host if host is not None else git_host()
    return import_until_settled(
        lambda: _import_head(product, repo, actor, git), what=f"the index of product {product.name}"
    )


def _import_head(
    product: Product, repo: ConfigRepository, actor: Actor, host: GitHost
) -> bool | None:
    """One import attempt: True/False as `product_sync`, None when the index moved meanwhile.

    An unchanged HEAD is imported again only while some code repository is unverified (a row
    indexed before verification existed, or one whose project is missing or not its own), so
    its verification follows Git without a new commit.
    """
    head = repo.head()
    product.refresh_from_db(fields=["commit_sha"])
    previous = product.commit_sha
    if head is None:
        return False
    if head == previous and not _has_unverified_code_repos(product):
        return False
    tree = parse_tree(repo.read_tree(head))
    state = ProductState(product_name=product.name, product_id=product.resource_name)
    for parsed in tree.resources:
        state.of_kind(parsed.kind).setdefault(
            parsed.name, Resource(parsed.kind, parsed.name, parsed.path, parsed.spec)
        )
    state.product_pk = product.pk
    complete_state(state)
    state.repo_ids_by_name = {
        r.spec.get("repoName", ""): r.name for r in state.of_kind("CodeRepo").values()
    }
    problems: dict[tuple[str, str], list[str]] = {}
    for problem in rules.check_global(state):
        problems.setdefault((problem.kind, problem.name), []).append(problem.message)
    identities = verify_code_repos(
        product.name,
        {r.name: str(r.spec.get("repoName") or "") for r in state.of_kind("CodeRepo").values()},
        host,
    )
    for name, identity in identities.items():
        if identity.problem:
            problems.setdefault(("CodeRepo", name), []).append(identity.problem)
    verified = {name for name, identity in identities.items() if identity.project_id}
    changed = head != previous  # else only the code repositories' verification is redone
    if changed:
        message = f"imported {head[:8]}"
        if previous:
            authors: set[str] = set()
            for commit in repo.history(ref=head, limit=200):
                if commit.sha == previous:
                    break
                authors.add(commit.author_name)
            message = f"imported {previous[:8]}..{head[:8]} by {', '.join(sorted(authors))}"
        diff = bounded_diff(repo.diff(previous, head)) if previous else ""
    with transaction.atomic():
        if _lock_commit_sha(product) != previous:
            return None
        replace_index(product, tree, head, problems, verified)
        _record_identities(product, identities)
        product.commit_sha = head
        if changed:
            # The apps above react to the new index whatever brought it (a push, the webhook,
            # the schedule, `import_product`, a catch-up after a conflict): #14.
            announce_index_changed(
                product=product, changes=(), commit_sha=head, route=ROUTE_SYNC, actor=actor
            )
            audit_record(
                actor=actor,
                action="sync",
                kind="Product",
                name=product.name,
                product=product,
                repository=f"{product.name}/{settings.NAUTES_DEFAULT_PROJECT}",
                commit_sha=head,
                diff=diff,
                message=message,
            )
    return changed


def _has_unverified_code_repos(product: Product) -> bool:
    """Whether a code repository lacks what Git confirms: its project, or (a row verified
    before the clone URLs were recorded) the project's clone URLs."""
    return any(
        not is_verified_code_repo(name, pid) or not (ssh_url or http_url)
        for name, pid, ssh_url, http_url in CodeRepo.objects.filter(product=product).values_list(
            "name", "git_project_id", "ssh_url", "http_url"
        )
    )


def _record_identities(product: Product, identities: dict[str, CodeRepoIdentity]) -> None:
    """Store which code repositories Git confirmed (`git_project_id` and the project's clone
    URLs, the only ones handed to Argo CD), and forget the others'."""
    for name, identity in identities.items():
        confirmed = {
            "git_project_id": identity.project_id,
            "ssh_url": identity.ssh_url,
            "http_url": identity.http_url,
        }
        CodeRepo.objects.filter(product=product, name=name).exclude(**confirmed).update(**confirmed)
