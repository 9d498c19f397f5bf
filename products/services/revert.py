"""Reverting one commit of `default.project`: plan it from Git, preview it, apply it.

A revert is a NEW commit made through the same rules as any save or delete: the one resource
the commit changed gets its previous spec back (or is deleted when the commit created it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nautes_portal.git_index import SaveOutcome
from nautes_portal.integrations.config_repo import CommitInfo, ConfigRepository, GitHost
from nautes_portal.types import Actor
from nautes_portal.yaml_io import ManifestError, load_yaml
from products.manifests import is_layout_path
from products.models import MODEL_BY_KIND, Product
from products.services.preview import resource_preview
from products.services.resources import resource_delete, resource_save

NOTHING_TO_REVERT = "The current configuration already matches; there is nothing to revert."


@dataclass
class RevertPlan:
    """How to undo one commit through the normal rules, or why the portal cannot."""

    supported: bool
    reason: str = ""
    kind: str = ""
    name: str = ""
    spec: dict[str, Any] | None = None  # None: the commit created the resource; delete it


@dataclass(frozen=True)
class RevertPreview:
    """What applying a supported plan does now."""

    diff: str = ""
    problems: list[str] = field(default_factory=list)  # why it cannot be applied now
    gone: bool = False  # the resource the commit created is already deleted: nothing to do


def _document_identity(content: bytes, path: str) -> tuple[str, str, dict[str, Any]]:
    document = load_yaml(content, path)
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    name = (metadata or {}).get("name")
    kind = document.get("kind")
    if kind not in MODEL_BY_KIND or not isinstance(name, str):
        raise ManifestError(f"{path} is not a Nautes resource")
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    return kind, name, dict(spec or {})


def revert_plan(
    *, product: Product, repo: ConfigRepository, commit: CommitInfo, host: GitHost
) -> RevertPlan:
    """Plan the undo of `commit`: restore the previous spec of the one resource it changed.

    Only commits that change a single resource (plus the kustomization) are supported, which is
    every commit the portal itself writes.
    """
    if not commit.parents:
        return RevertPlan(False, "The first commit of the repository cannot be reverted.")
    parent = commit.parents[0]
    touched: dict[tuple[str, str], dict[str, Any]] = {}
    for path in commit.changed_paths:
        if not is_layout_path(path):
            continue
        for side, ref in (("old", parent), ("new", commit.sha)):
            content = repo.read_file(ref, path)
            if content is None:
                continue
            try:
                kind, name, spec = _document_identity(content, path)
            except ManifestError:
                return RevertPlan(False, f"{path} is not a readable Nautes resource.")
            touched.setdefault((kind, name), {})[side] = spec
    if len(touched) != 1:
        return RevertPlan(
            False,
            f"This commit changes {len(touched)} resources; the portal reverts commits that "
            "change one resource. Revert it in Git instead.",
        )
    (kind, name), sides = next(iter(touched.items()))
    old = sides.get("old")
    if kind == "CodeRepo":
        if old is None:
            return RevertPlan(
                False,
                "Reverting the creation of a code repository would leave its Git project behind; "
                "delete the repository from its page instead.",
            )
        repo_name = old.get("repoName") if isinstance(old.get("repoName"), str) else ""
        if not repo_name or host.get_project(product.name, repo_name) is None:
            return RevertPlan(False, f"The Git project {repo_name or name} no longer exists.")
    return RevertPlan(True, kind=kind, name=name, spec=old)


def revert_preview(*, product: Product, plan: RevertPlan) -> RevertPreview:
    """The diff a supported plan makes now, and the rules' problems with it (nothing is written)."""
    model = MODEL_BY_KIND[plan.kind]
    if plan.spec is None and not model.objects.filter(product=product, name=plan.name).exists():
        return RevertPreview(gone=True)
    preview = resource_preview(product=product, kind=plan.kind, name=plan.name, spec=plan.spec)
    problems = list(dict.fromkeys(p.message for p in preview.problems))
    if not preview.diff.strip():
        problems.append(NOTHING_TO_REVERT)
    return RevertPreview(diff=preview.diff, problems=problems)


def revert_apply(*, product: Product, plan: RevertPlan, actor: Actor, host: GitHost) -> SaveOutcome:
    """Commit a supported plan: save the previous spec, or delete what the commit created.

    Callers show `revert_preview` first; the save or delete enforces every rule again.
    """
    if plan.spec is None:
        return resource_delete(
            product=product, kind=plan.kind, name=plan.name, actor=actor, host=host
        )
    return resource_save(
        product=product, kind=plan.kind, name=plan.name, spec=plan.spec, actor=actor, host=host
    )
