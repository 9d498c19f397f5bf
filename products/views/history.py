"""A product's Git history (the only pages that read Git), one commit, and its revert."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from nautes_portal.errors import NautesError
from nautes_portal.integrations import git_host
from nautes_portal.ui.diffs import diff_lines
from nautes_portal.yaml_io import ManifestError, load_yaml
from products import services
from products.forms.kinds import KIND_UI_BY_KIND
from products.manifests import is_layout_path
from products.models import MODEL_BY_KIND, Product
from products.views.common import visible_product

HISTORY_PAGE = 30
SHA = re.compile(r"^[0-9a-f]{7,64}$")


# ---- History (the only pages that read Git) ------------------------------------------------


@dataclass
class RevertPlan:
    """How to undo one commit through the normal rules, or why the portal cannot."""

    supported: bool
    reason: str = ""
    kind: str = ""
    name: str = ""
    spec: dict[str, Any] | None = None  # None: the commit created the resource; delete it


def _document_identity(content: bytes, path: str) -> tuple[str, str, dict[str, Any]]:
    document = load_yaml(content, path)
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    name = (metadata or {}).get("name")
    kind = document.get("kind")
    if kind not in MODEL_BY_KIND or not isinstance(name, str):
        raise ManifestError(f"{path} is not a Nautes resource")
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    return kind, name, dict(spec or {})


def revert_plan(product: Product, repo: Any, commit: Any) -> RevertPlan:
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
        if not repo_name or git_host().get_project(product.name, repo_name) is None:
            return RevertPlan(False, f"The Git project {repo_name or name} no longer exists.")
    return RevertPlan(True, kind=kind, name=name, spec=old)


def _history_repo(request: HttpRequest, name: str) -> tuple[Product, Any]:
    product = visible_product(request, name)
    return product, services.product_repository(product, git_host())


def _commit(repo: Any, sha: str) -> Any:
    if not SHA.match(sha):
        raise Http404("No such commit.")
    try:
        found = repo.history(ref=sha, limit=1)
    except NautesError:
        raise Http404("No such commit.") from None
    if not found:
        raise Http404("No such commit.")
    return found[0]


def _is_portal_commit(message: str) -> bool:
    return message.startswith(("[API]", "initial commit."))


@require_GET
@login_required
def product_history(request: HttpRequest, name: str) -> HttpResponse:
    product, repo = _history_repo(request, name)
    start = request.GET.get("from", "")
    if start and not SHA.match(start):
        raise Http404("No such commit.")
    try:
        commits = repo.history(ref=start or "main", limit=HISTORY_PAGE + 1)
    except NautesError as exc:
        messages.error(request, exc.message)
        commits = []
    older = commits[HISTORY_PAGE].sha if len(commits) > HISTORY_PAGE else ""
    rows = [
        {
            "commit": commit,
            "subject": commit.message.splitlines()[0] if commit.message else "",
            "portal": _is_portal_commit(commit.message),
            "files": [p for p in commit.changed_paths if p.endswith((".yaml", ".yml"))],
        }
        for commit in commits[:HISTORY_PAGE]
    ]
    context = {"product": product, "rows": rows, "older": older, "start": start}
    return render(request, "products/history.html", context)


@require_GET
@login_required
def product_commit(request: HttpRequest, name: str, sha: str) -> HttpResponse:
    product, repo = _history_repo(request, name)
    commit = _commit(repo, sha)
    plan = revert_plan(product, repo, commit)
    ui = KIND_UI_BY_KIND.get(plan.kind)
    context = {
        "product": product,
        "commit": commit,
        "portal": _is_portal_commit(commit.message),
        "diff": diff_lines(repo.diff(None, commit.sha)),
        "plan": plan,
        "may_revert": plan.supported and ui is not None and ui.api.may_write(request.user, product),
    }
    return render(request, "products/commit.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def product_commit_revert(request: HttpRequest, name: str, sha: str) -> HttpResponse:
    """Undo a commit with a NEW commit, through the same rules as any other save or delete."""
    product, repo = _history_repo(request, name)
    commit = _commit(repo, sha)
    plan = revert_plan(product, repo, commit)
    if not plan.supported:
        messages.error(request, plan.reason)
        return redirect("product-commit", name=product.name, sha=commit.sha)
    ui = KIND_UI_BY_KIND[plan.kind]
    if not ui.api.may_write(request.user, product):
        raise PermissionDenied(f"You may not change {ui.title.lower()} of {product.name}.")
    exists = ui.api.model.objects.filter(product=product, name=plan.name).exists()
    if plan.spec is None and not exists:
        messages.info(request, f"{ui.singular.capitalize()} {plan.name} is already gone.")
        return redirect("product-commit", name=product.name, sha=commit.sha)
    preview = services.resource_preview(
        product=product, kind=plan.kind, name=plan.name, spec=plan.spec
    )
    problems = list(dict.fromkeys(p.message for p in preview.problems))
    if not preview.diff.strip():
        problems.append("The current configuration already matches; there is nothing to revert.")
    if request.method == "POST" and not problems:
        host = git_host()
        try:
            if plan.spec is None:
                services.resource_delete(
                    product=product, kind=plan.kind, name=plan.name, actor=request.user, host=host
                )
            else:
                services.resource_save(
                    product=product,
                    kind=plan.kind,
                    name=plan.name,
                    spec=plan.spec,
                    actor=request.user,
                    host=host,
                )
        except NautesError as exc:
            problems = [exc.message]
        else:
            messages.success(
                request, f"Reverted {commit.sha[:8]}: {ui.singular} {plan.name} restored."
            )
            return redirect("product-history", name=product.name)
    context = {
        "product": product,
        "commit": commit,
        "plan": plan,
        "ui": ui,
        "problems": problems,
        "diff": diff_lines(preview.diff),
    }
    return render(request, "products/revert.html", context)
