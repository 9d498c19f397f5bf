"""Read-only product pages (the index, never Git)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from nautes_portal import permissions
from products.models import (
    CodeRepo,
    CodeRepoBinding,
    DeploymentRuntime,
    Environment,
    Project,
    ProjectPipelineRuntime,
)

SECTIONS: list[tuple[str, str, type, list[tuple[str, str]]]] = [
    ("environments", "Environments", Environment, [("Cluster", "cluster"), ("Type", "env_type")]),
    ("projects", "Projects", Project, [("Language", "language")]),
    (
        "coderepos",
        "Code repositories",
        CodeRepo,
        [("Repository", "repo_name"), ("Project", "project")],
    ),
    (
        "bindings",
        "Repository bindings",
        CodeRepoBinding,
        [("Repository", "code_repo"), ("Permissions", "permissions")],
    ),
    (
        "runtimes",
        "Deployment runtimes",
        DeploymentRuntime,
        [("Environment", "destination_environment"), ("Source", "manifest_path")],
    ),
    (
        "pipelines",
        "Pipeline runtimes",
        ProjectPipelineRuntime,
        [("Project", "project"), ("Environment", "destination_environment")],
    ),
]


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    products = permissions.products_visible_to(request.user).order_by("name")
    return render(request, "home.html", {"products": products})


@require_GET
@login_required
def product_detail(request: HttpRequest, name: str) -> HttpResponse:
    product = permissions.products_visible_to(request.user).filter(name=name).first()
    if product is None:
        raise Http404("No such product.")
    sections: list[dict[str, Any]] = []
    for key, title, model, columns in SECTIONS:
        rows = [
            {
                "name": row.name,
                "values": [getattr(row, attr) for _, attr in columns],
                "path": row.path,
                "commit_sha": row.commit_sha,
                "problems": row.problems,
            }
            for row in model.objects.filter(product=product).order_by("name")
        ]
        sections.append({"key": key, "title": title, "columns": columns, "rows": rows})
    return render(
        request, "products/product_detail.html", {"product": product, "sections": sections}
    )
