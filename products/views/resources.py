"""A product's resources: lists, the new and edit forms with their live diff preview, deletes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from nautes_portal.errors import NautesError, RuleViolation
from nautes_portal.integrations import git_host
from nautes_portal.types import Actor
from nautes_portal.ui.diffs import diff_lines
from nautes_portal.ui.htmx import htmx_partial
from nautes_portal.ui.paging import paginate
from nautes_portal.yaml_io import dump_yaml
from products import services
from products.api import codecs
from products.filters import FILTERS
from products.forms.kinds import KIND_UI_BY_KIND, KindUi
from products.forms.resources import Choices, ResourceForm, suitable_clusters
from products.models import MODEL_BY_KIND, CodeRepo, Environment, Product, ProductResource, Project
from products.views.common import kind_ui, repo_names_of, row_cells, visible_product


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


def save_body(ui: KindUi, product: Product, key: str, body: dict[str, Any], actor: Actor) -> None:
    """Save a form body through the services (the wizard's "Create" saves its items so too)."""
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
                save_body(ui, product, key, body, request.user)
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
