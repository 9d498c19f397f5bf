"""Deployment status pages: the product matrix, one runtime, and the cross-product overview.

Every page reads the status table only (the collector's last reading) and polls itself with
htmx every 10 s, swapping a partial; without JavaScript the links and forms still work. The
buttons (refresh status, sync now, re-apply) are POST forms for Developer+ and are audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_POST

from clusters.models import Cluster
from deployments import desired
from deployments.models import RuntimeStatus
from deployments.overview import AttentionRow, ProductSummary, deployment_overview
from deployments.selectors import Matrix, RuntimeView, age_text, product_matrix, runtime_view
from deployments.services import runtime_reapply, runtime_refresh_status, runtime_sync_now
from deployments.status import explain
from deployments.status.applied import applied_state
from nautes_portal import permissions
from nautes_portal.errors import NautesError
from nautes_portal.links import LinkPattern
from nautes_portal.operations.models import Operation
from nautes_portal.ui.htmx import HtmxHttpRequest
from nautes_portal.ui.paging import page_size
from products.models import DeploymentRuntime, Product
from products.views.common import visible_product

POLL = "every 10s"


def _runtime(product: Product, name: str) -> DeploymentRuntime:
    runtime = DeploymentRuntime.objects.filter(product=product, name=name).first()
    if runtime is None:
        raise Http404("No such deployment runtime.")
    return runtime


def _render(request: HtmxHttpRequest, template: str, partial: str, context: dict[str, Any]) -> Any:
    """The page, or only its polled partial for htmx requests."""
    context["poll"] = POLL
    return render(request, f"{template}#{partial}" if request.htmx else template, context)


# The class of a badge's "sync · health" text by its state.
STATE_CLASS = {"ok": "ok", "failing": "problem"}


def _badge(view: RuntimeView, product: str, link: LinkPattern) -> dict[str, Any]:
    """One runtime in a matrix cell, as plain values (the matrix is polled every 10 s)."""
    status = view.status
    state = view.state
    badge = {"name": view.name, "url": link.fill(product, view.name), "state": state}
    if status is None:
        return badge
    if state == "unknown":
        read = status.read_at
        badge["since"] = dateformat.format(timezone.localtime(read), "Y-m-d H:i:s") if read else ""
    else:
        badge["class"] = STATE_CLASS.get(state, "")
        badge["sync"] = status.sync_status or "?"
        badge["health"] = status.health_status or "?"
        badge["revision"] = status.revision
        badge["short"] = status.revision[:8]
        deployed = status.deployed_at
        badge["changed"] = timesince(deployed, view.now) if deployed else ""
    badge["age"] = view.age
    return badge


def _matrix_rows(matrix: Matrix, product: str) -> list[dict[str, Any]]:
    link = LinkPattern("runtime-status", 2)
    return [
        {
            "project": row.project,
            "cells": [
                {"badges": [_badge(v, product, link) for v in cell.runtimes], "drift": cell.drift}
                for cell in row.cells
            ],
        }
        for row in matrix.rows
    ]


@require_GET
@login_required
def product_deployments(request: HtmxHttpRequest, name: str) -> HttpResponse:
    product = visible_product(request, name)
    matrix = product_matrix(product)
    oldest = matrix.oldest_read
    context = {
        "product": product,
        "matrix": matrix,
        "rows": _matrix_rows(matrix, product.name),
        "oldest_age": age_text(timezone.now(), oldest) if oldest else "",
    }
    return _render(request, "deployments/product_deployments.html", "matrix", context)


def _resource_tree(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resources grouped by namespace, then kind (cluster-scoped ones first)."""
    tree: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for item in resources:
        kinds = tree.setdefault(item.get("namespace") or "", {})
        kinds.setdefault(item.get("kind") or "?", []).append(item)
    return [
        {
            "namespace": namespace,
            "kinds": [
                {"kind": kind, "items": sorted(items, key=lambda i: i.get("name") or "")}
                for kind, items in sorted(kinds.items())
            ],
        }
        for namespace, kinds in sorted(tree.items())
    ]


def _argocd_link(cluster_name: str, runtime: str) -> str:
    """The Argo CD UI page of the Application, when the cluster declares the Argo CD host."""
    cluster = Cluster.objects.filter(name=cluster_name).only("components_list").first()
    if cluster is None:
        return ""
    return argocd_application_url(cluster.components_list or {}, runtime)


def argocd_application_url(components: dict[str, Any], runtime: str) -> str:
    """`https://<deployment host>[:<gateway https node port>]/applications/<ns>/<runtime>`.

    Upstream exposes Argo CD through the cluster's gateway (Traefik) on its https NodePort
    (`components_list.gateway.additions.httpsNodePort`, 30443 by default), so the host alone
    does not reach it; a host that names its own port is kept as it is.
    """
    deployment = components.get("deployment") or {}
    host = str((deployment.get("additions") or {}).get("host") or "")
    if not host:
        return ""
    gateway = (components.get("gateway") or {}).get("additions") or {}
    port = str(gateway.get("httpsNodePort") or "")
    if port.isdigit() and ":" not in host:
        host = f"{host}:{port}"
    namespace = desired.argocd_namespace(components)
    return f"https://{host}/applications/{namespace}/{runtime}"


@require_GET
@login_required
def runtime_page(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    product = visible_product(request, name)
    row = _runtime(product, runtime)
    view = runtime_view(product, row)
    status = view.status
    target = f"{product.name}/{runtime}"
    operations = list(
        Operation.objects.filter(product=product, kind__startswith="runtime.")
        .filter(Q(target=target) | Q(target__startswith=f"{target} on "))
        .order_by("-created_at", "-id")[:5]
    )
    context = {
        "product": product,
        "runtime": row,
        "view": view,
        "status": status,
        "explanation": explain(status) if status else ["The status has not been read yet."],
        "tree": _resource_tree(status.resources if status else []),
        "operations": operations,
        "can_change": permissions.can_change_resources(request.user, product),
        "can_read_console": permissions.can_read_console(request.user, product),
        "argocd_link": _argocd_link(status.cluster, runtime) if status and status.cluster else "",
        "applied": applied_state(product, status),
    }
    return _render(request, "deployments/runtime_status.html", "runtime", context)


def _act(request: HtmxHttpRequest, name: str, runtime: str) -> tuple[Product, str]:
    product = visible_product(request, name)
    _runtime(product, runtime)
    if not permissions.can_change_resources(request.user, product):
        raise PermissionDenied("You may not change the runtimes of this product.")
    return product, reverse("runtime-status", args=[product.name, runtime])


@require_POST
@login_required
def runtime_refresh_view(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    product, back = _act(request, name, runtime)
    try:
        status = runtime_refresh_status(product=product, runtime_name=runtime, actor=request.user)
    except NautesError as exc:
        messages.error(request, exc.message)
    else:
        if status.reachable:
            messages.success(request, "Status read from the cluster just now.")
        else:
            messages.error(request, f"The cluster could not be read: {status.error}")
    return redirect(back)


def _start(
    request: HtmxHttpRequest, name: str, runtime: str, start: Any, done: str
) -> HttpResponse:
    """Start an operation on a runtime and report it on the page the user came from."""
    product, back = _act(request, name, runtime)
    try:
        operation = start(product=product, runtime_name=runtime, actor=request.user)
    except NautesError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{done} (operation {operation.pk}).")
    return redirect(back)


@require_POST
@login_required
def runtime_sync_view(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    return _start(request, name, runtime, runtime_sync_now, "Sync requested")


@require_POST
@login_required
def runtime_reapply_view(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    return _start(request, name, runtime, runtime_reapply, "Re-apply started")


# The count columns of the overview and the class each takes when it is not zero.
COUNT_COLUMNS = (
    ("runtimes", ""),
    ("synced", "ok"),
    ("out_of_sync", "problem"),
    ("healthy", "ok"),
    ("progressing", ""),
    ("degraded", "problem"),
    ("unknown", "muted"),
)


def _count_cells(summary: ProductSummary) -> SafeString:
    """The seven count cells of a product's row, made in Python as the admin's change list makes
    its cells: 25 rows x 7 cells were most of the page's template time. Safe as they are: the
    values are integers (`:d` refuses anything else) and the classes are the constants above."""
    cells = "".join(
        f'<td class="{css}">{n:d}</td>' if n and css else f"<td>{n:d}</td>"
        for n, css in ((getattr(summary, column), css) for column, css in COUNT_COLUMNS)
    )
    return mark_safe(cells)  # noqa: S308


class _Links:
    """The overview rows' links, reversed once per request."""

    def __init__(self) -> None:
        self.product = LinkPattern("product-deployments", 1)
        self.runtime = LinkPattern("runtime-status", 2)


def _summary_row(summary: ProductSummary, now: dt.datetime, links: _Links) -> dict[str, Any]:
    name = summary.name
    return {
        "name": name,
        "url": links.product.fill(name),
        "counts": _count_cells(summary),
        "changed": age_text(now, summary.last_change) if summary.last_change else "",
        "age": age_text(now, summary.oldest_read) if summary.oldest_read else "",
    }


def _attention_row(status: AttentionRow, now: dt.datetime, links: _Links) -> dict[str, Any]:
    product, runtime = status.product, status.runtime_name
    # The overview's row carries every column `RuntimeView.state` reads of a RuntimeStatus.
    view = RuntimeView(runtime, status.environment, [], cast(RuntimeStatus, status), now)
    return {
        "product": product,
        "runtime": runtime,
        "url": links.product.fill(product),
        "runtime_url": links.runtime.fill(product, runtime),
        "environment": status.environment,
        "cluster": status.cluster,
        "state": view.state,  # the badge's word: unknown, missing, failing, pending
        "sync": status.sync_status,
        "health": status.health_status,
        "read_at": status.read_at,
        "age": view.age,
    }


@require_GET
@login_required
def overview(request: HtmxHttpRequest) -> HttpResponse:
    data = deployment_overview(
        request.user, page=request.GET.get("page"), per_page=page_size(request)
    )
    now = timezone.now()
    links = _Links()
    # Plain values, made here once per row: the page is polled every 10 s by every user, and a
    # template looking up nested attributes costs more than building the dicts.
    context = {
        "overview": data,
        "rows": [_summary_row(s, now, links) for s in data.products],
        "attention": [_attention_row(s, now, links) for s in data.attention],
    }
    return _render(request, "deployments/overview.html", "overview", context)
