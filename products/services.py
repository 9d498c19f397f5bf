"""Writes to products and their resources: rules → YAML → one atomic commit → index → audit.

Every function validates completely before its first side effect. Callers check permissions
(`nautes_portal.permissions`) before calling; services enforce the Nautes rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from nautes_portal.audit import audit_record, yaml_diff
from nautes_portal.errors import Conflict, NautesError, NotFound, RuleViolation
from nautes_portal.git_index import (
    SaveOutcome,
    commit_author,
    import_until_settled,
    index_after_commit,
)
from nautes_portal.integrations import git_host
from nautes_portal.integrations.config_repo import (
    CommitConflict,
    ConfigRepository,
    GitHost,
    GitProject,
)
from nautes_portal.limits import bounded_diff
from nautes_portal.yaml_io import dump_yaml
from products import rules
from products.adoption import (
    CodeRepoIdentity,
    check_code_project,
    claim_product_group,
    code_repo_pid,
    is_own_code_project,
    is_tenant_repository,
    is_verified_code_repo,
    refuse_tenant_group,
    verify_code_repos,
)
from products.indexing import (
    complete_state,
    delete_row,
    product_state,
    replace_index,
    upsert_row,
)
from products.manifests import (
    KUSTOMIZATION_PATH,
    build_document,
    kustomization,
    parse_tree,
    resource_path,
)
from products.models import MODEL_BY_KIND, CodeRepo, Product
from products.signals import ROUTE_PORTAL, IndexChange, announce_index_changed
from products.state import ProductState, Resource

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


# ---- Repositories --------------------------------------------------------------


def product_project(product: Product, host: GitHost) -> GitProject:
    project = host.get_project(product.name, settings.NAUTES_DEFAULT_PROJECT)
    if project is None:
        raise NotFound(
            "there are no default projects under this product", reason="PROJECT_NOT_FOUND"
        )
    return project


def product_repository(product: Product, host: GitHost) -> ConfigRepository:
    return host.repository(product_project(product, host))


def _commit(
    product: Product,
    repo: ConfigRepository,
    *,
    changes: dict[str, bytes | None],
    message: str,
    actor: Any,
) -> str:
    try:
        return repo.commit(
            changes=changes,
            expected_parent=product.commit_sha or None,
            message=message,
            author=commit_author(actor),
        )
    except CommitConflict:
        # The index was behind Git (a concurrent or external change): catch up so a retry works.
        product_sync(product=product, repo=repo)
        raise


# ---- Product resources -------------------------------------------------------


def _checked_state(
    state: ProductState, new: Resource, *, old: Resource | None, skip_check: bool
) -> ProductState:
    problems = rules.check_static(new, state)
    if old is not None:
        problems += rules.check_update(new.kind, old, new, state)
    after = complete_state(state.with_saved(new))
    if not problems and not skip_check:
        problems += rules.check_global(after)
    raise_problems(problems)
    return after


def resource_save(
    *,
    product: Product,
    kind: str,
    name: str,
    spec: dict[str, Any],
    actor: Any,
    host: GitHost,
    skip_check: bool = False,
) -> SaveOutcome:
    """Create or update one resource of `default.project` in a single commit."""
    product.refresh_from_db(fields=["commit_sha"])
    state = product_state(product)
    if kind in KINDS_WITH_PRODUCT_FIELD:
        spec = {**spec, "product": product.resource_name}
    new = Resource(kind=kind, name=name, path=resource_path(kind, name, spec), spec=spec)
    old = state.get(kind, name)
    after = _checked_state(state, new, old=old, skip_check=skip_check)
    outcome = _write(product, host, kind, name, new, old, after, actor=actor, action="Save")
    if kind == "CodeRepoBinding":
        return _with_authorization(outcome, product=product, actor=actor, host=host)
    return outcome


@dataclass(frozen=True)
class _Change:
    changes: dict[str, bytes | None]
    document: dict[str, Any] | None
    before: bytes | None
    path: str


def _plan(
    product: Product,
    kind: str,
    name: str,
    new: Resource | None,
    old: Resource | None,
    after: ProductState,
) -> _Change:
    """The files one save or delete writes: the resource file and the regenerated kustomization.
    `old` is the indexed resource the rules ran on (None when there is none)."""
    indexed = _indexed_manifest(product, old)
    changes: dict[str, bytes | None] = {}
    document: dict[str, Any] | None = None
    if new is not None:
        document = build_document(kind, name, new.spec, indexed)
        changes[new.path] = dump_yaml(document)
    if old is not None and (new is None or old.path != new.path):
        changes[old.path] = None
    changes[KUSTOMIZATION_PATH] = kustomization(r.path for r in after.all_resources())
    path = new.path if new is not None else (old.path if old is not None else "")
    before = dump_yaml(indexed) if indexed is not None else None
    return _Change(changes=changes, document=document, before=before, path=path)


def _indexed_manifest(product: Product, old: Resource | None) -> dict[str, Any] | None:
    """The indexed document of `old`: product_state read it with the rest; a query only for a
    resource built without it."""
    if old is None or old.manifest is not None:
        return old.manifest if old is not None else None
    row = MODEL_BY_KIND[old.kind].objects.filter(product=product, name=old.name).first()
    return row.manifest if row is not None else None


def _lock_commit_sha(product: Product) -> str:
    """The commit the index is at, with the product row locked until the transaction ends: index
    updates of one product happen one at a time (a no-op on SQLite, which locks the database)."""
    return (
        Product.objects.select_for_update().values_list("commit_sha", flat=True).get(pk=product.pk)
    )


def _write(
    product: Product,
    host: GitHost,
    kind: str,
    name: str,
    new: Resource | None,
    old: Resource | None,
    after: ProductState,
    *,
    actor: Any,
    action: str,
) -> SaveOutcome:
    """Commit the file change plus the regenerated kustomization, then update the index."""
    plan = _plan(product, kind, name, new, old, after)
    repo = product_repository(product, host)
    parent = product.commit_sha
    sha = _commit(
        product,
        repo,
        changes=plan.changes,
        message=commit_message(action, kind, name, product.name),
        actor=actor,
    )
    save_audit = {
        "actor": actor,
        "action": "save" if new is not None else "delete",
        "kind": kind,
        "name": name,
        "product": product,
        "repository": f"{product.name}/{settings.NAUTES_DEFAULT_PROJECT}",
        "commit_sha": sha,
        "diff": yaml_diff(plan.path, plan.before, plan.changes.get(plan.path)),
    }

    def index_commit() -> None:
        with transaction.atomic():
            # The index is at `parent` (nobody else could commit on top of it), or already at
            # `sha` (a sync read it first). Anything else is a later commit a sync imported,
            # which holds this change: writing the row and `sha` now would move the index back.
            indexed = _lock_commit_sha(product)
            if indexed in (parent, sha):
                if new is not None and plan.document is not None:
                    from products.indexing import row_values

                    values = {**row_values(new, plan.document), "problems": []}
                    upsert_row(product, kind, name, values, sha)
                else:
                    delete_row(product, kind, name)
                Product.objects.filter(pk=product.pk).update(commit_sha=sha)
                indexed = sha
            product.commit_sha = indexed
            audit_record(**save_audit)

    def reindex() -> None:
        product_sync(product=product, repo=repo, actor=actor)  # HEAD holds `sha`
        audit_record(**save_audit)

    warning = index_after_commit(
        index_commit, reindex, what=f"product {product.name}", commit_sha=sha
    )
    # The apps above react once the commit is indexed (deployments queues a runtime's deploy or
    # removal): the save answers now, the operation log shows what follows.
    announce_index_changed(
        product=product,
        changes=(
            IndexChange(
                kind=kind,
                name=name,
                old=old.spec if old is not None else None,
                new=new.spec if new is not None else None,
            ),
        ),
        commit_sha=sha,
        route=ROUTE_PORTAL,
        actor=actor,
    )
    return SaveOutcome(
        commit_sha=sha,
        path=plan.path,
        created=old is None and new is not None,
        warning=warning,
    )


@dataclass(frozen=True)
class Preview:
    """What a save or delete would do, without doing it: its problems and its YAML diff."""

    problems: list[rules.Problem]
    diff: str
    path: str


def resource_preview(
    *,
    product: Product,
    kind: str,
    name: str,
    spec: dict[str, Any] | None,
    skip_check: bool = False,
) -> Preview:
    """Validate a save (`spec`) or a delete (`spec=None`) and render its diff; writes nothing.

    The same rules as `resource_save`/`resource_delete`, so forms can validate as users type.
    """
    state = product_state(product)
    old = state.get(kind, name)
    if spec is None:
        problems = rules.delete_blockers(kind, name, state) if old is not None else []
        after = state.without(kind, name)
        new = None
    else:
        if kind in KINDS_WITH_PRODUCT_FIELD:
            spec = {**spec, "product": product.resource_name}
        new = Resource(kind=kind, name=name, path=resource_path(kind, name, spec), spec=spec)
        problems = rules.check_static(new, state)
        if old is not None:
            problems += rules.check_update(kind, old, new, state)
        after = complete_state(state.with_saved(new))
    if not problems and not skip_check:
        problems += rules.check_global(after)
    plan = _plan(product, kind, name, new, old, after)
    current = kustomization(r.path for r in state.all_resources())
    diff = yaml_diff(plan.path, plan.before, plan.changes.get(plan.path))
    if plan.changes[KUSTOMIZATION_PATH] != current:
        diff += yaml_diff(KUSTOMIZATION_PATH, current, plan.changes[KUSTOMIZATION_PATH])
    return Preview(problems=problems, diff=diff, path=plan.path)


def resource_delete(
    *,
    product: Product,
    kind: str,
    name: str,
    actor: Any,
    host: GitHost,
    skip_check: bool = False,
) -> SaveOutcome:
    """Remove one resource of `default.project` in a single commit."""
    product.refresh_from_db(fields=["commit_sha"])
    state = product_state(product)
    old = state.get(kind, name)
    if old is None:
        raise NotFound(
            f"{kind} resource {name} not found or invalid. "
            "Please check whether the resource exists under the default project"
        )
    # Environments are always protected (upstream checks them outside the global check).
    problems = rules.delete_blockers(kind, name, state)
    if kind != "Environment" and skip_check:
        problems = []
    raise_problems(problems)
    after = state.without(kind, name)
    if not skip_check:
        raise_problems(rules.check_global(after))
    outcome = _write(product, host, kind, name, None, old, after, actor=actor, action="Delete")
    if kind == "CodeRepoBinding":
        return _with_authorization(outcome, product=product, actor=actor, host=host)
    return outcome


# ---- Code repositories (a Git project plus a manifest) -------------------------


def coderepo_save(
    *,
    product: Product,
    repo_name: str,
    spec: dict[str, Any],
    git: dict[str, str],
    actor: Any,
    host: GitHost,
    skip_check: bool = False,
) -> SaveOutcome:
    """Create or update a code repository: its Git project and `code-repos/repo-<pid>/`.

    Everything is validated before the project is created; a failed commit removes a project
    this call created, so a failed save leaves no orphan.
    """
    if repo_name == settings.NAUTES_DEFAULT_PROJECT:
        raise RuleViolation(f"'{repo_name}' is reserved for the product configuration repository")
    if not PRODUCT_NAME.match(repo_name):
        raise RuleViolation(
            f"code repository name '{repo_name}' is invalid: use at most 63 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit (RFC 1123 label)"
        )
    visibility = git.get("visibility") or "private"
    if visibility not in VISIBILITIES:
        raise RuleViolation(f"visibility must be one of {', '.join(VISIBILITIES)}")
    product.refresh_from_db(fields=["commit_sha"])
    state = product_state(product)
    existing_row = CodeRepo.objects.filter(product=product, repo_name=repo_name).first()
    project = host.get_project(product.name, repo_name)
    # Only this product's own indexed code repository is ever updated; nothing is adopted (#12).
    check_code_project(product=product, repo_name=repo_name, project=project)
    planned_name = (
        existing_row.name if existing_row else (f"repo-{project.id}" if project else "repo-0")
    )
    spec = {
        **spec,
        "repoName": repo_name,
        "codeRepoProvider": settings.NAUTES_CODE_REPO_PROVIDER,
        "product": product.resource_name,
    }

    def check(name: str) -> ProductState:
        new = Resource("CodeRepo", name, resource_path("CodeRepo", name, spec), spec)
        return _checked_state(state, new, old=state.get("CodeRepo", name), skip_check=skip_check)

    check(planned_name)  # everything is validated before the first side effect
    created = project is None
    # Create-only when none was there: one made since the lookup is refused (409), not adopted.
    project = (host.create_project if created else host.ensure_project)(
        namespace_path=product.name,
        path=repo_name,
        name=git.get("name") or repo_name,
        visibility=visibility,
        description=git.get("description", ""),
    )
    name = f"repo-{project.id}"
    try:
        after = check(name)
        new = after.get("CodeRepo", name)
        assert new is not None
        outcome = _write(
            product,
            host,
            "CodeRepo",
            name,
            new,
            state.get("CodeRepo", name),
            after,
            actor=actor,
            action="Save",
        )
    except NautesError:
        if created:
            host.delete_project(product.name, repo_name)
        raise
    CodeRepo.objects.filter(product=product, name=name).update(
        git_project_id=project.id,
        git_name=project.name,
        git_visibility=project.visibility,
        git_description=project.description,
        ssh_url=project.ssh_url,
        http_url=project.http_url,
    )
    events = (spec.get("webhook") or {}).get("events") or []
    warning = _provision(
        "products.repo_provisioning.CODEREPO_PROVISION",
        target=repo_name,
        product=product,
        actor=actor,
        params={
            "product": product.name,
            "repo_name": repo_name,
            "repo_id": name,
            "project_id": project.id,
            "webhook_events": list(events),
            "webhook_url": settings.NAUTES_CODEREPO_WEBHOOK_URL,
            "webhook_token_configured": bool(settings.GITLAB_WEBHOOK_SECRET),
        },
    )
    return SaveOutcome(
        commit_sha=outcome.commit_sha, path=outcome.path, created=outcome.created, warning=warning
    )


def _provision(
    kind_ref: str, *, target: str, product: Product, actor: Any, params: dict[str, Any]
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


def coderepo_delete(
    *, product: Product, repo_name: str, actor: Any, host: GitHost, skip_check: bool = False
) -> SaveOutcome:
    """Remove a code repository's manifest, then its Git project.

    The project is deleted only when it is the one the manifest names (`repo-<project id>`):
    a project at that path that is not this code repository's (the tenant repository, or a
    project that replaced it) is left in place and the reply says so (#12).
    """
    row = CodeRepo.objects.filter(product=product, repo_name=repo_name).first()
    if row is None:
        raise NotFound(
            f"CodeRepo resource {repo_name} not found or invalid. "
            "Please check whether the resource exists under the default project",
            reason="NODE_NOT_FOUND",
        )
    project = host.get_project(product.name, repo_name)
    foreign = project is not None and not is_own_code_project(product, repo_name, project)
    # Its keys and secrets are deleted only when Git confirms (now, or at the last save or
    # sync) that `repo-<id>` is this product's own project: the name alone may be another's.
    verified = (project is not None and not foreign) or is_verified_code_repo(
        row.name, row.git_project_id
    )
    outcome = resource_delete(
        product=product,
        kind="CodeRepo",
        name=row.name,
        actor=actor,
        host=host,
        skip_check=skip_check,
    )
    if foreign or is_tenant_repository(product.name, repo_name):
        return SaveOutcome(
            commit_sha=outcome.commit_sha,
            path=outcome.path,
            created=False,
            warning=(
                f"[warning] the Git project {product.name}/{repo_name} is not this code "
                "repository's project; only the manifest was removed, the project was kept"
            ),
        )
    if not hasattr(host, "ensure_deploy_key"):
        host.delete_project(product.name, repo_name)  # local backend: no keys or tokens
        return outcome
    if not verified:
        return SaveOutcome(
            commit_sha=outcome.commit_sha,
            path=outcome.path,
            created=False,
            warning=(
                f"[warning] {row.name} is not verified as the Git project "
                f"{product.name}/{repo_name}; only the manifest was removed, no deploy key or "
                "secret was touched"
            ),
        )
    warning = _provision(
        "products.repo_provisioning.CODEREPO_DEPROVISION",
        target=repo_name,
        product=product,
        actor=actor,
        params={
            "product": product.name,
            "repo_name": repo_name,
            "repo_id": row.name,
            "project_id": code_repo_pid(row.name),
        },
    )
    return SaveOutcome(
        commit_sha=outcome.commit_sha, path=outcome.path, created=False, warning=warning
    )


def _with_authorization(
    outcome: SaveOutcome, *, product: Product, actor: Any, host: GitHost
) -> SaveOutcome:
    """A binding changed: deploy keys are shared anew (§5.6); a failure is a warning."""
    warning = authorization_refresh(product=product, actor=actor, host=host)
    return SaveOutcome(
        commit_sha=outcome.commit_sha, path=outcome.path, created=outcome.created, warning=warning
    )


def authorization_refresh(*, product: Product, actor: Any, host: GitHost) -> str:
    """Re-apply deploy-key sharing after a binding changed (GitLab backend); return a warning."""
    if not hasattr(host, "ensure_deploy_key"):
        return ""
    return _provision(
        "products.repo_provisioning.PRODUCT_AUTHORIZATION",
        target=product.name,
        product=product,
        actor=actor,
        params={"product": product.name},
    )


# ---- Products -------------------------------------------------------------------


def validate_product_name(name: str) -> None:
    if len(name) > 63 or not PRODUCT_NAME.match(name):
        raise RuleViolation(
            f"product name '{name}' is invalid: use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (RFC 1123 label)"
        )


def product_save(
    *,
    name: str,
    display_name: str,
    path: str,
    visibility: str,
    description: str,
    actor: Any,
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


def product_delete(*, product: Product, actor: Any, host: GitHost) -> None:
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


# ---- Sync --------------------------------------------------------------------------


def product_sync(
    *, product: Product, repo: ConfigRepository, actor: Any = None, host: GitHost | None = None
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
    product: Product, repo: ConfigRepository, actor: Any, host: GitHost
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
    if head == previous:
        with transaction.atomic():
            if _lock_commit_sha(product) != previous:
                return None
            replace_index(product, tree, head, problems, verified)
            _record_identities(product, identities)
        return False
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
    return True


def _has_unverified_code_repos(product: Product) -> bool:
    return any(
        not is_verified_code_repo(name, pid)
        for name, pid in CodeRepo.objects.filter(product=product).values_list(
            "name", "git_project_id"
        )
    )


def _record_identities(product: Product, identities: dict[str, CodeRepoIdentity]) -> None:
    """Store which code repositories Git confirmed (`git_project_id`), and forget the others'."""
    for name, identity in identities.items():
        CodeRepo.objects.filter(product=product, name=name).exclude(
            git_project_id=identity.project_id
        ).update(git_project_id=identity.project_id)


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


def product_import(*, name: str, host: GitHost, actor: Any = None) -> Product:
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
