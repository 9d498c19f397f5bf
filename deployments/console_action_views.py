"""The runtime console's actions (#15): POST forms calling `deployments.console_actions`.

Each view re-checks the right (`permissions.can_operate_runtime`, or `can_rollback_runtime`
for a rollback) whatever buttons the page showed: 404 for non-readers, 403 for readers without
it. On success the browser goes back to the console with the queued operation named
(`?operation=<id>`), which reloads the tree; a refusal re-renders the console with its message
and status (the 409 of a rollback under automated sync links to the product's Git history).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from deployments import console_actions
from deployments.console_views import TEMPLATES, console_context, readable_runtime
from deployments.deployer.sync_options import sync_options
from nautes_portal import permissions
from nautes_portal.errors import NautesError, RuleViolation
from nautes_portal.operations.models import Operation
from nautes_portal.ui.htmx import HtmxHttpRequest
from products.models import Product

Start = Callable[[Product], Operation]


def _act(
    request: HtmxHttpRequest,
    name: str,
    runtime: str,
    start: Start,
    *,
    allowed: Callable[[Any, Product], bool] = permissions.can_operate_runtime,
) -> HttpResponse:
    """Check the right, start the operation, and answer the console (see the docstring)."""
    product, row = readable_runtime(request, name, runtime)
    if not allowed(request.user, product):
        raise PermissionDenied("Your role in this product does not allow this action.")
    try:
        operation = start(product)
    except NautesError as exc:
        context = console_context(request, product, row)
        context["action_error"] = exc.message
        context["history_url"] = exc.metadata.get("history_url", "")
        return render(request, f"{TEMPLATES}/console.html", context, status=exc.status)
    url = reverse("runtime-console", args=[product.name, row.name])
    return redirect(f"{url}?operation={operation.pk}")


def _resource(raw: str) -> dict[str, str]:
    """A tree node id (`group/kind/namespace/name`, `core` and `-` for empty) as a resource."""
    parts = raw.split("/")
    if len(parts) != 4:
        raise RuleViolation(f"resources: {raw!r} is not a resource of the tree")
    group, kind, namespace, name = parts
    return {
        "group": "" if group == "core" else group,
        "kind": kind,
        "namespace": "" if namespace == "-" else namespace,
        "name": name,
    }


@require_POST
@login_required
def console_sync(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    def start(product: Product) -> Operation:
        data = request.POST
        options = sync_options(
            prune=data.get("prune") == "on",
            dry_run=data.get("dry_run") == "on",
            apply_out_of_sync_only=data.get("apply_out_of_sync_only") == "on",
            resources=[_resource(raw) for raw in data.getlist("resource")],
        )
        return console_actions.runtime_sync(
            product=product, runtime_name=runtime, actor=request.user, options=options
        )

    return _act(request, name, runtime, start)


@require_POST
@login_required
def console_hard_refresh(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    def start(product: Product) -> Operation:
        return console_actions.runtime_hard_refresh(
            product=product, runtime_name=runtime, actor=request.user
        )

    return _act(request, name, runtime, start)


@require_POST
@login_required
def console_rollback(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    def start(product: Product) -> Operation:
        raw = request.POST.get("id", "")
        if not raw.isdigit():
            raise RuleViolation("id: must be the id (an integer, 0 or more) of a history entry")
        return console_actions.runtime_rollback(
            product=product, runtime_name=runtime, actor=request.user, history_id=int(raw)
        )

    return _act(request, name, runtime, start, allowed=permissions.can_rollback_runtime)


@require_POST
@login_required
def console_restart(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    def start(product: Product) -> Operation:
        return console_actions.workload_restart(
            product=product,
            runtime_name=runtime,
            actor=request.user,
            kind=request.POST.get("kind", ""),
            name=request.POST.get("name", ""),
        )

    return _act(request, name, runtime, start)


@require_http_methods(["GET", "POST"])
@login_required
def console_pod_delete(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    """GET: the confirmation (works without JavaScript); POST: the deletion."""
    if request.method == "GET":
        product, row = readable_runtime(request, name, runtime)
        if not permissions.can_operate_runtime(request.user, product):
            raise PermissionDenied("Your role in this product does not allow this action.")
        pod = {key: request.GET.get(key, "").strip() for key in ("name", "namespace")}
        context = {"product": product, "runtime": row, "pod": pod}
        return render(request, f"{TEMPLATES}/delete_pod.html", context)

    def start(product: Product) -> Operation:
        return console_actions.pod_delete(
            product=product,
            runtime_name=runtime,
            actor=request.user,
            pod=request.POST.get("pod", ""),
            namespace=request.POST.get("namespace", ""),
        )

    return _act(request, name, runtime, start)
