"""Browser pages for products: dashboard, lists, resource editing, history, the setup wizard.

Reads come from the index (never Git), except the history pages, which show Git's history.
Writes go through `products.services` only, after `nautes_portal.permissions` allowed them.
Every page works without JavaScript; htmx only swaps fragments (live checks, list filtering).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nautes_portal import permissions
from nautes_portal.errors import NautesError, RuleViolation
from nautes_portal.integrations import git_host
from nautes_portal.ui.diffs import diff_lines
from nautes_portal.ui.forms import DeleteConfirmForm
from nautes_portal.ui.htmx import htmx_partial
from nautes_portal.ui.paging import paginate
from nautes_portal.yaml_io import ManifestError, dump_yaml, load_yaml
from products import services
from products.api import codecs
from products.filters import FILTERS, ProductFilter
from products.forms import (
    KIND_UI_BY_KIND,
    KIND_UIS,
    LIST_STEPS,
    STEP_NAMES,
    WIZARD_STEPS,
    Choices,
    Draft,
    KindUi,
    ProductForm,
    ProductSettingsForm,
    ResourceForm,
    pending_initial,
    suitable_cluster_rows,
    suitable_clusters,
)
from products.manifests import build_document, is_layout_path
from products.models import (
    MODEL_BY_KIND,
    CodeRepo,
    Environment,
    Product,
    ProductResource,
    Project,
)

OVERVIEW_ROWS = 10
HISTORY_PAGE = 30
SHA = re.compile(r"^[0-9a-f]{7,64}$")
WIZARD_RESULT_KEY = "product_wizard_result"


# ---- Helpers ---------------------------------------------------------------------------------


def visible_product(request: HttpRequest, name: str) -> Product:
    """The product, or 404 when it does not exist or the user may not read it."""
    product = permissions.visible_product(request.user, name)
    if product is None:
        raise Http404("No such product.")
    return product


def kind_ui(collection: str) -> KindUi:
    ui = KIND_UIS.get(collection)
    if ui is None:
        raise Http404("No such kind of resource.")
    return ui


def cell(value: Any) -> str:
    """A table cell: lists joined, empty values as a dash."""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value not in (None, "") else "—"


REPO_ID_COLUMNS = frozenset({"code_repo", "manifest_code_repo"})


def repo_names_of(product: Product, ui: KindUi, rows: list[ProductResource]) -> dict[str, str]:
    """Repository names of the ids shown in `rows` (one query, only for the rows shown)."""
    ids = {getattr(row, attr) for row in rows for _, attr in ui.columns if attr in REPO_ID_COLUMNS}
    if not ids:
        return {}
    return dict(
        CodeRepo.objects.filter(product=product, name__in=ids).values_list("name", "repo_name")
    )


def row_cells(ui: KindUi, row: ProductResource, names: dict[str, str]) -> list[str]:
    """A row's table cells; repository ids (`repo-<pid>`) are shown by repository name."""
    cells = []
    for _, attr in ui.columns:
        value = getattr(row, attr)
        cells.append(cell(names.get(value, value) if attr in REPO_ID_COLUMNS else value))
    return cells


def health_summary(product_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Runtime health counts per product, when the deployments app records them.

    The deployments status table is optional here (looked up by name, never imported), so the
    dashboard works before status collection is wired and shows "—" meanwhile.
    """
    try:
        model = apps.get_model("deployments", "RuntimeStatus")
    except LookupError:
        return {}
    summary: dict[int, list[tuple[str, int]]] = {}
    try:
        rows = (
            model.objects.filter(product_id__in=product_ids)
            .values_list("product_id", "health_status")
            .annotate(count=Count("pk"))
            .order_by("product_id", "health_status")
        )
        for product_id, health, count in rows:
            summary.setdefault(product_id, []).append((health or "Unknown", count))
    except DatabaseError:
        return {}
    return summary


def repo_names(product: Product) -> codecs.RepoNames:
    return codecs.RepoNames(
        dict(CodeRepo.objects.filter(product=product).values_list("repo_name", "name"))
    )


def product_choices(product: Product) -> Choices:
    """What the product's resource forms may refer to (from the index)."""
    return Choices(
        clusters=suitable_clusters(),
        environments=list(
            Environment.objects.filter(product=product)
            .order_by("name")
            .values_list("name", flat=True)
        ),
        projects=list(
            Project.objects.filter(product=product).order_by("name").values_list("name", flat=True)
        ),
        repos=list(
            CodeRepo.objects.filter(product=product)
            .order_by("repo_name")
            .values_list("repo_name", flat=True)
        ),
    )


def resource_url(product: Product, kind: str, row: ProductResource) -> str:
    ui = KIND_UI_BY_KIND[kind]
    return reverse("resource", args=[product.name, ui.collection, getattr(row, ui.lookup)])


REFERRER_LABELS = {
    "deploymentRuntime": "DeploymentRuntime",
    "pipelineRuntime": "ProjectPipelineRuntime",
    "codeRepo": "CodeRepo",
    "codeRepoBinding": "CodeRepoBinding",
}
REFERENCED_BY = re.compile(r"referenced by \[([^\]]*)\]")


def blockers(product: Product, problems: list[Any]) -> list[dict[str, str]]:
    """What blocks a delete, as links: "used by deployment runtime dr-dev"."""
    found: list[dict[str, str]] = []
    for problem in problems:
        match = REFERENCED_BY.search(problem.message)
        for item in match.group(1).split("|") if match else []:
            label, _, name = item.partition("/")
            kind = REFERRER_LABELS.get(label)
            if kind is None:
                continue
            ui = KIND_UI_BY_KIND[kind]
            model = MODEL_BY_KIND[kind]
            row = model.objects.filter(product=product, name=name).first()
            url = resource_url(product, kind, row) if row is not None else ""
            shown = getattr(row, ui.lookup) if row is not None else name
            found.append({"what": ui.singular, "name": shown, "url": url})
    return found


# ---- Dashboard and product list ---------------------------------------------------------------


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's products with their runtime health, and what to do next."""
    user = request.user
    visible = permissions.products_visible_to(user)
    mine = visible if user.is_superuser else visible.filter(memberships__user=user)
    products = list(mine.order_by("name")[:OVERVIEW_ROWS])
    context = {
        "products": products,
        "health": health_summary([p.pk for p in products]),
        "mine_total": mine.count(),
        "visible_total": visible.count(),
        "can_view_clusters": permissions.can_view_clusters(user),
        "can_manage_clusters": permissions.can_manage_clusters(user),
        "has_clusters": suitable_cluster_rows().exists(),
        "operations": list(permissions.operations_visible_to(user)[:5]),
    }
    for product in products:
        product.health_counts = context["health"].get(product.pk, [])  # type: ignore[attr-defined]
    return render(request, "home.html", context)


@require_GET
@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    visible = permissions.products_visible_to(request.user).order_by("name")
    filters = ProductFilter(request.GET, queryset=visible, request=request)
    page = paginate(request, filters.qs)
    health = health_summary([p.pk for p in page.object_list])
    for product in page.object_list:
        product.health_counts = health.get(product.pk, [])
    template = "products/product_list.html" + ("#results" if htmx_partial(request) else "")
    return render(
        request,
        template,
        {"filter": filters, "page": page, "any_products": filters.active or page.paginator.count},
    )


# ---- One product --------------------------------------------------------------------------------


@require_GET
@login_required
def product_detail(request: HttpRequest, name: str) -> HttpResponse:
    if name == "new":  # `/products/new/` is also matched by this route: it is the wizard
        return redirect("product-new-step", step="product")
    product = visible_product(request, name)
    sections = []
    for ui in KIND_UIS.values():
        rows = ui.api.model.objects.filter(product=product).order_by("name")
        shown = list(rows[:OVERVIEW_ROWS])
        names = repo_names_of(product, ui, shown)
        sections.append(
            {
                "ui": ui,
                "count": rows.count(),
                "rows": [
                    {
                        "row": row,
                        "key": getattr(row, ui.lookup),
                        "values": row_cells(ui, row, names),
                    }
                    for row in shown
                ],
                "can_add": ui.api.may_write(request.user, product),
            }
        )
    context = {
        "product": product,
        "sections": sections,
        "can_update": permissions.can_update_product(request.user, product),
        "can_delete": permissions.can_delete_product(request.user, product),
        "health": health_summary([product.pk]).get(product.pk, []),
    }
    return render(request, "products/product_detail.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def product_settings(request: HttpRequest, name: str) -> HttpResponse:
    product = visible_product(request, name)
    if not permissions.can_update_product(request.user, product):
        raise PermissionDenied("Changing a product needs the Maintainer role in its group.")
    initial = {
        "name": product.name,
        "display_name": product.display_name,
        "description": product.description,
        "visibility": product.visibility,
    }
    form = ProductSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.product_save(
                name=product.name,
                display_name=data["display_name"] or product.name,
                path=product.name,
                visibility=data["visibility"],
                description=data["description"],
                actor=request.user,
            )
        except NautesError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Saved product {product.name}.")
            return redirect("product", name=product.name)
    return render(request, "products/product_settings.html", {"product": product, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def product_delete(request: HttpRequest, name: str) -> HttpResponse:
    product = visible_product(request, name)
    if not permissions.can_delete_product(request.user, product):
        raise PermissionDenied("Deleting a product needs the Owner role in its group.")
    remaining = [
        (ui, ui.api.model.objects.filter(product=product).count()) for ui in KIND_UIS.values()
    ]
    remaining = [(ui, count) for ui, count in remaining if count]
    form = DeleteConfirmForm(request.POST or None, expected=product.name)
    if request.method == "POST" and not remaining and form.is_valid():
        try:
            services.product_delete(product=product, actor=request.user, host=git_host())
        except NautesError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Deleted product {name} and its Git group.")
            return redirect("home")
    context = {"product": product, "form": form, "remaining": remaining}
    return render(request, "products/product_delete.html", context)


# ---- Resource lists, editing and deleting ------------------------------------------------------


@require_GET
@login_required
def resource_list(request: HttpRequest, name: str, collection: str) -> HttpResponse:
    product = visible_product(request, name)
    ui = kind_ui(collection)
    rows = ui.api.model.objects.filter(product=product).order_by("name")
    filters = FILTERS[collection](request.GET, queryset=rows, request=request)
    page = paginate(request, filters.qs)
    names = repo_names_of(product, ui, list(page.object_list))
    items = [
        {
            "row": row,
            "key": getattr(row, ui.lookup),
            "values": row_cells(ui, row, names),
        }
        for row in page.object_list
    ]
    context = {
        "product": product,
        "ui": ui,
        "filter": filters,
        "page": page,
        "items": items,
        "can_add": ui.api.may_write(request.user, product),
    }
    template = "products/resource_list.html" + ("#results" if htmx_partial(request) else "")
    return render(request, template, context)


@dataclass
class Outcome:
    """What checking (and maybe saving) a resource form produced, for the template."""

    problems: list[str]
    diff: list[tuple[str, str]]
    checked: bool = False


def _spec_for(ui: KindUi, product: Product, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The manifest spec of a form body (RuleViolation when it names an unknown repository)."""
    spec = ui.api.to_spec(body, repo_names(product))
    if ui.kind == "CodeRepo":
        spec = {
            **spec,
            "repoName": name,
            "codeRepoProvider": settings.NAUTES_CODE_REPO_PROVIDER,
        }
    return spec


def _check(
    ui: KindUi, product: Product, resource_name: str, key: str, body: dict[str, Any]
) -> Outcome:
    """Validate a save with the services' rules and render its YAML diff (writes nothing)."""
    try:
        spec = _spec_for(ui, product, key, body)
    except RuleViolation as exc:
        return Outcome(problems=[exc.message], diff=[], checked=True)
    preview = services.resource_preview(
        product=product, kind=ui.kind, name=resource_name, spec=spec
    )
    return Outcome(
        problems=list(dict.fromkeys(p.message for p in preview.problems)),
        diff=diff_lines(preview.diff),
        checked=True,
    )


def _save(ui: KindUi, product: Product, key: str, body: dict[str, Any], actor: Any) -> None:
    host = git_host()
    if ui.kind == "CodeRepo":
        services.coderepo_save(
            product=product,
            repo_name=key,
            spec=codecs.coderepo_spec(body),
            git=body["git"]["gitlab"],
            actor=actor,
            host=host,
        )
    else:
        spec = ui.api.to_spec(body, repo_names(product))
        services.resource_save(
            product=product, kind=ui.kind, name=key, spec=spec, actor=actor, host=host
        )


def _resource_form_response(
    request: HttpRequest,
    product: Product,
    ui: KindUi,
    form: ResourceForm,
    outcome: Outcome,
    row: ProductResource | None,
) -> HttpResponse:
    context = {
        "product": product,
        "ui": ui,
        "form": form,
        "outcome": outcome,
        "row": row,
        "key": getattr(row, ui.lookup) if row is not None else "",
        "current_yaml": dump_yaml(row.manifest).decode() if row is not None else "",
    }
    template = "products/resource_form.html"
    if htmx_partial(request) and request.POST.get("action") == "preview":
        template += "#preview"
    return render(request, template, context)


def _handle_form(
    request: HttpRequest,
    product: Product,
    ui: KindUi,
    form: ResourceForm,
    row: ProductResource | None,
) -> HttpResponse:
    """The POST of a new or edit form: check, then save on "save" when nothing is wrong."""
    outcome = Outcome(problems=[], diff=[])
    if form.is_valid():
        key = form.cleaned_data["name"]
        resource_name = row.name if row is not None else key
        if ui.kind == "CodeRepo" and row is None:
            existing = CodeRepo.objects.filter(product=product, repo_name=key).first()
            resource_name = existing.name if existing else "repo-0"
        body = form.body()
        outcome = _check(ui, product, resource_name, key, body)
        if (
            row is None
            and ui.api.model.objects.filter(product=product, **{ui.lookup: key}).exists()
        ):
            outcome.problems.insert(
                0, f"This product already has {ui.a_singular} named {key}; edit it instead."
            )
        if request.POST.get("action") == "save" and not outcome.problems:
            try:
                _save(ui, product, key, body, request.user)
            except NautesError as exc:
                outcome.problems = [exc.message]
            else:
                verb = "Created" if row is None else "Saved"
                messages.success(request, f"{verb} {ui.singular} {key}; committed to Git.")
                return redirect("resource", name=product.name, collection=ui.collection, key=key)
    return _resource_form_response(request, product, ui, form, outcome, row)


@require_http_methods(["GET", "POST"])
@login_required
def resource_new(request: HttpRequest, name: str, collection: str) -> HttpResponse:
    product = visible_product(request, name)
    ui = kind_ui(collection)
    if not ui.api.may_write(request.user, product):
        raise PermissionDenied(f"You may not add {ui.title.lower()} to {product.name}.")
    choices = product_choices(product)
    if request.method == "POST":
        form = ui.form(request.POST, choices=choices)
        return _handle_form(request, product, ui, form, None)
    form = ui.form(choices=choices)
    return _resource_form_response(request, product, ui, form, Outcome([], []), None)


def _row(product: Product, ui: KindUi, key: str) -> ProductResource:
    row = ui.api.model.objects.filter(product=product, **{ui.lookup: key}).first()
    if row is None:
        raise Http404(f"No such {ui.singular}.")
    return row


@require_http_methods(["GET", "POST"])
@login_required
def resource_detail(request: HttpRequest, name: str, collection: str, key: str) -> HttpResponse:
    """A resource, its YAML, and (for writers) its edit form with a live diff preview."""
    product = visible_product(request, name)
    ui = kind_ui(collection)
    row = _row(product, ui, key)
    may_write = ui.api.may_write(request.user, product)
    if request.method == "POST" and not may_write:
        raise PermissionDenied(f"You may not change {ui.title.lower()} of {product.name}.")
    if not may_write:
        context = {
            "product": product,
            "ui": ui,
            "row": row,
            "key": key,
            "current_yaml": dump_yaml(row.manifest).decode(),
        }
        return render(request, "products/resource_detail.html", context)
    body = ui.api.to_reply(product.name, row, repo_names(product))
    initial = ui.form.initial_from(key, body)
    choices = product_choices(product)
    if request.method == "POST":
        form = ui.form(request.POST, initial=initial, choices=choices, editing=True)
        return _handle_form(request, product, ui, form, row)
    form = ui.form(initial=initial, choices=choices, editing=True)
    return _resource_form_response(request, product, ui, form, Outcome([], []), row)


@require_http_methods(["GET", "POST"])
@login_required
def resource_delete(request: HttpRequest, name: str, collection: str, key: str) -> HttpResponse:
    """Explain what a delete would do (or what blocks it), then do it on POST."""
    product = visible_product(request, name)
    ui = kind_ui(collection)
    row = _row(product, ui, key)
    if not ui.api.may_write(request.user, product):
        raise PermissionDenied(f"You may not delete {ui.title.lower()} of {product.name}.")
    preview = services.resource_preview(product=product, kind=ui.kind, name=row.name, spec=None)
    problems = list(dict.fromkeys(p.message for p in preview.problems))
    if request.method == "POST" and not problems:
        host = git_host()
        try:
            if ui.kind == "CodeRepo":
                services.coderepo_delete(
                    product=product, repo_name=key, actor=request.user, host=host
                )
            else:
                services.resource_delete(
                    product=product, kind=ui.kind, name=row.name, actor=request.user, host=host
                )
        except NautesError as exc:
            problems = [exc.message]
        else:
            messages.success(request, f"Deleted {ui.singular} {key}; committed to Git.")
            return redirect("resource-list", name=product.name, collection=ui.collection)
    context = {
        "product": product,
        "ui": ui,
        "row": row,
        "key": key,
        "problems": problems,
        "blockers": blockers(product, preview.problems),
        "diff": diff_lines(preview.diff),
    }
    return render(request, "products/resource_delete.html", context, status=200)


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


# ---- The product setup wizard ----------------------------------------------------------------


def _steps(draft: Draft, current: str) -> list[dict[str, Any]]:
    reached = True
    steps = []
    for step, title, collection in WIZARD_STEPS:
        steps.append(
            {
                "step": step,
                "title": title,
                "current": step == current,
                "reachable": reached and (step == "product" or draft.started),
                "count": len(draft.entries(step)) if collection else None,
            }
        )
    return steps


def _neighbour(step: str, offset: int) -> str:
    index = STEP_NAMES.index(step) + offset
    return STEP_NAMES[max(0, min(index, len(STEP_NAMES) - 1))]


def _wizard_context(draft: Draft, step: str, **extra: Any) -> dict[str, Any]:
    title = next(t for s, t, _ in WIZARD_STEPS if s == step)
    return {
        "draft": draft,
        "step": step,
        "title": title,
        "steps": _steps(draft, step),
        "position": STEP_NAMES.index(step) + 1,
        "total": len(STEP_NAMES),
        "previous": _neighbour(step, -1) if step != "product" else "",
        "next": _neighbour(step, 1) if step != "review" else "",
        **extra,
    }


def _posted(request: HttpRequest) -> dict[str, list[str]]:
    return {
        key: request.POST.getlist(key)
        for key in request.POST
        if key not in ("csrfmiddlewaretoken", "action")
    }


def _form_errors(form: Any) -> list[str]:
    result = []
    for field_name, errors in form.errors.items():
        label = form.fields[field_name].label or field_name if field_name in form.fields else ""
        for error in errors:
            result.append(f"{label}: {error}" if label else str(error))
    return result


@require_http_methods(["GET", "POST"])
@login_required
def wizard(request: HttpRequest, step: str) -> HttpResponse:
    """One step of `/products/new/`; everything stays in the session until "Create"."""
    if not permissions.can_create_product(request.user):
        raise PermissionDenied("You may not create products.")
    if step == "done":
        return _wizard_done(request)
    if step not in STEP_NAMES:
        raise Http404("No such step.")
    draft = Draft.load(request.session)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        Draft.clear(request.session)
        messages.info(request, "The product setup was cancelled; nothing was created.")
        return redirect("home")
    if step != "product" and not draft.started:
        return redirect("product-new-step", step="product")
    if step == "product":
        return _wizard_product(request, draft)
    if step == "review":
        return _wizard_review(request, draft)
    return _wizard_list(request, draft, step)


def _wizard_product(request: HttpRequest, draft: Draft) -> HttpResponse:
    if request.method == "POST":
        form = ProductForm(request.POST)
        if form.is_valid():
            name = form.cleaned_data["name"]
            if Product.objects.filter(name=name).exists():
                form.add_error("name", f"A product named {name} already exists.")
            elif taken := _group_refusal(name, request.user):
                form.add_error("name", taken)
            else:
                draft.product = dict(form.cleaned_data)
                draft.save(request.session)
                return redirect("product-new-step", step=_neighbour("product", 1))
    else:
        form = ProductForm(initial=draft.product or None)
    return render(request, "products/wizard.html", _wizard_context(draft, "product", form=form))


def _group_refusal(name: str, user: Any) -> str:
    """Why the product's Git group cannot be used (the rule `product_save` applies), or ""."""
    from products.adoption import claim_product_group

    try:
        claim_product_group(name=name, actor=user, host=git_host())
    except NautesError as exc:
        return exc.message
    return ""


def _wizard_list(request: HttpRequest, draft: Draft, step: str) -> HttpResponse:
    ui = KIND_UIS[LIST_STEPS[step]]
    choices = draft.choices()
    problems: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "next")
        verb, _, argument = action.partition(":")
        items = draft.entries(step)
        if verb in ("remove", "edit") and argument.isdigit() and int(argument) < len(items):
            item = items.pop(int(argument))
            if verb == "edit":
                draft.pending[step] = ui.form.initial_from(item["name"], item["body"])
                messages.info(request, f"Editing {item['name']}: change it, then add it again.")
            draft.save(request.session)
            return redirect("product-new-step", step=step)
        target = {"back": _neighbour(step, -1), "next": _neighbour(step, 1)}.get(verb, step)
        typed = request.POST.get("name", "").strip()
        if verb == "back" and typed:
            draft.pending[step] = pending_initial(ui.form, _posted(request))
            draft.save(request.session)
            return redirect("product-new-step", step=target)
        if verb == "add" or (typed and verb == "next"):
            form = ui.form(request.POST, choices=choices)
            if form.is_valid():
                body = form.body()
                problems = draft.check_item(step, form.cleaned_data["name"], body)
                if not problems:
                    draft.put(step, form.cleaned_data["name"], body)
                    draft.pending.pop(step, None)
                    draft.save(request.session)
                    messages.success(request, f"Added {ui.singular} {form.cleaned_data['name']}.")
                    return redirect("product-new-step", step=target)
            context = _wizard_context(draft, step, form=form, ui=ui, problems=problems)
            return render(request, "products/wizard.html", _with_items(context, ui, draft, step))
        draft.pending.pop(step, None)
        draft.save(request.session)
        return redirect("product-new-step", step=target)
    form = ui.form(initial=draft.pending.get(step) or None, choices=choices)
    context = _wizard_context(draft, step, form=form, ui=ui, problems=problems)
    return render(request, "products/wizard.html", _with_items(context, ui, draft, step))


def _with_items(context: dict[str, Any], ui: KindUi, draft: Draft, step: str) -> dict[str, Any]:
    context["items"] = [
        {"index": index, "name": item["name"], "summary": ui.form.summary(item["body"])}
        for index, item in enumerate(draft.entries(step))
    ]
    context["no_clusters"] = (
        step == "environments" and not context["form"].fields["cluster"].choices[1:]
    )
    return context


@require_POST
@login_required
def wizard_validate(request: HttpRequest, step: str) -> HttpResponse:
    """htmx: check the step's form as the user types (nothing is stored)."""
    if not permissions.can_create_product(request.user):
        raise PermissionDenied("You may not create products.")
    if step not in STEP_NAMES or step == "review":
        raise Http404("No such step.")
    draft = Draft.load(request.session)
    problems: list[str] = []
    files: list[Any] = []
    typed = request.POST.get("name", "").strip()
    if step == "product":
        form = ProductForm(request.POST)
        if form.is_valid() and Product.objects.filter(name=typed).exists():
            problems.append(f"A product named {typed} already exists.")
        problems = _form_errors(form) + problems
    elif typed:
        ui = KIND_UIS[LIST_STEPS[step]]
        form = ui.form(request.POST, choices=draft.choices())
        problems = _form_errors(form)
        if not problems:
            body = form.body()
            problems = draft.check_item(step, typed, body)
            if not problems:
                resource = draft.resource(step, typed, body)
                content = dump_yaml(build_document(resource.kind, resource.name, resource.spec))
                files = [{"path": resource.path, "content": content.decode()}]
    context = _wizard_context(draft, step, live_problems=problems, live_files=files, typed=typed)
    return render(request, "products/wizard.html#live", context)


def _wizard_review(request: HttpRequest, draft: Draft) -> HttpResponse:
    problems = draft.problems()
    name = draft.product.get("name", "")
    if Product.objects.filter(name=name).exists():
        problems.insert(0, f"A product named {name} exists now; choose another name.")
    if request.method == "POST" and request.POST.get("action") == "back":
        return redirect("product-new-step", step=_neighbour("review", -1))
    if request.method == "POST" and request.POST.get("action") == "create" and not problems:
        result = _create(request, draft)
        Draft.clear(request.session)
        request.session[WIZARD_RESULT_KEY] = result
        return redirect("product-new-step", step="done")
    counts = [
        (KIND_UIS[collection].title, len(draft.entries(step)))
        for step, collection in LIST_STEPS.items()
    ]
    context = _wizard_context(
        draft, "review", problems=problems, files=draft.files(), counts=counts
    )
    return render(request, "products/wizard.html", context)


def _create(request: HttpRequest, draft: Draft) -> dict[str, Any]:
    """Create the product, then each resource in dependency order; stop at the first failure."""
    from products.provisioning import PRODUCT_SAVE

    data = draft.product
    name = data["name"]
    actions: list[dict[str, str]] = []
    planned = [("Product", name)] + [
        (KIND_UIS[collection].singular, item["name"])
        for step, collection in LIST_STEPS.items()
        for item in draft.entries(step)
    ]
    result: dict[str, Any] = {"product": name, "created": False, "operation": None}

    def record(status: str, what: tuple[str, str], detail: str = "") -> None:
        actions.append({"status": status, "kind": what[0], "name": what[1], "detail": detail})

    try:
        product, _ = services.product_save(
            name=name,
            display_name=data.get("display_name") or name,
            path=name,
            visibility=data.get("visibility") or "private",
            description=data.get("description") or "",
            actor=request.user,
        )
    except NautesError as exc:
        result["operation"] = exc.metadata.get("operation")
        record("failed", planned[0], exc.message)
    else:
        result["created"] = True
        operation = (
            permissions.operations_visible_to(request.user)
            .filter(kind=PRODUCT_SAVE, target=name)
            .order_by("-pk")
            .first()
        )
        result["operation"] = operation.pk if operation is not None else None
        record("done", planned[0], "Git group and default.project created")
        position = 1
        for step, collection in LIST_STEPS.items():
            ui = KIND_UIS[collection]
            for item in draft.entries(step):
                what = planned[position]
                position += 1
                if actions[-1]["status"] != "done":
                    record("skipped", what)
                    continue
                try:
                    _save(ui, product, item["name"], item["body"], request.user)
                except NautesError as exc:
                    record("failed", what, exc.message)
                else:
                    record("done", what, "committed")
    finished = len(actions)
    actions += [
        {"status": "skipped", "kind": kind, "name": item_name, "detail": ""}
        for kind, item_name in planned[finished:]
    ]
    result["actions"] = actions
    result["ok"] = all(action["status"] == "done" for action in actions)
    return result


def _wizard_done(request: HttpRequest) -> HttpResponse:
    result = request.session.get(WIZARD_RESULT_KEY)
    if not result:
        return redirect("product-new-step", step="product")
    product = Product.objects.filter(name=result["product"]).first()
    return render(request, "products/wizard_done.html", {"result": result, "product": product})
