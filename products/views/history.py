"""A product's Git history (the only pages that read Git), one commit, and its revert."""

from __future__ import annotations

import re
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
from products import services
from products.forms.kinds import KIND_UI_BY_KIND
from products.models import Product
from products.views.common import visible_product

HISTORY_PAGE = 30
SHA = re.compile(r"^[0-9a-f]{7,64}$")


# ---- History (the only pages that read Git) ------------------------------------------------


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
    plan = services.revert_plan(product=product, repo=repo, commit=commit, host=git_host())
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
    plan = services.revert_plan(product=product, repo=repo, commit=commit, host=git_host())
    if not plan.supported:
        messages.error(request, plan.reason)
        return redirect("product-commit", name=product.name, sha=commit.sha)
    ui = KIND_UI_BY_KIND[plan.kind]
    if not ui.api.may_write(request.user, product):
        raise PermissionDenied(f"You may not change {ui.title.lower()} of {product.name}.")
    preview = services.revert_preview(product=product, plan=plan)
    if preview.gone:
        messages.info(request, f"{ui.singular.capitalize()} {plan.name} is already gone.")
        return redirect("product-commit", name=product.name, sha=commit.sha)
    problems = preview.problems
    if request.method == "POST" and not problems:
        try:
            services.revert_apply(product=product, plan=plan, actor=request.user, host=git_host())
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
