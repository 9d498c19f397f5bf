"""Saving and deleting one resource of `default.project`: rules, the files to write, one
commit, then the index, the audit record and the `index_changed` signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from nautes_portal.audit import audit_record, yaml_diff
from nautes_portal.errors import NotFound
from nautes_portal.git_index import SaveOutcome, commit_author, index_after_commit
from nautes_portal.integrations.config_repo import CommitConflict, ConfigRepository, GitHost
from nautes_portal.types import Actor
from nautes_portal.yaml_io import dump_yaml
from products import rules
from products.indexing import complete_state, delete_row, product_state, upsert_row
from products.manifests import KUSTOMIZATION_PATH, build_document, kustomization, resource_path
from products.models import MODEL_BY_KIND, Product
from products.services.base import (
    KINDS_WITH_PRODUCT_FIELD,
    _lock_commit_sha,
    commit_message,
    product_repository,
    raise_problems,
)
from products.services.provision import _with_authorization
from products.services.sync import product_sync
from products.signals import ROUTE_PORTAL, IndexChange, announce_index_changed
from products.state import ProductState, Resource


def _commit(
    product: Product,
    repo: ConfigRepository,
    *,
    changes: dict[str, bytes | None],
    message: str,
    actor: Actor,
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
    actor: Actor,
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


def _write(
    product: Product,
    host: GitHost,
    kind: str,
    name: str,
    new: Resource | None,
    old: Resource | None,
    after: ProductState,
    *,
    actor: Actor,
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
    save_audit: dict[str, Any] = {
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
    # The apps above react once the commit is indexed (deployments reconciles the product's
    # clusters): the save answers now, the operation log shows what follows.
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


def resource_delete(
    *,
    product: Product,
    kind: str,
    name: str,
    actor: Actor,
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
