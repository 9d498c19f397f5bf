"""The runtime console's pages (#15): the console page and the fragments it loads with htmx.

The page itself reads only the index (the runtime, its last status row for the history), so it
never waits on the cluster; the tree, a node's events and logs, and the diff are fragments,
each reading the cluster live through `deployments.console` (one short-timeout client per
request). A cluster that cannot be read is a clear message inside the fragment, never a 500.

Who reads: `permissions.can_read_console` (Reporter+ membership, public products included);
everyone else gets 404. Logs are shown and offered for download (the API's `download=1`, with
the session), never stored or logged here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from deployments.console import (
    DEFAULT_TAIL_LINES,
    MAX_TAIL_LINES,
    ResourceTree,
    open_console,
    pod_logs,
    resource_diffs,
    resource_tree,
    runtime_events,
    tail_lines_from,
)
from deployments.deployer.scope import WORKLOAD_KINDS
from deployments.models import RuntimeStatus
from nautes_portal import permissions
from nautes_portal.errors import NautesError
from nautes_portal.operations.models import Operation
from nautes_portal.ui.diffs import diff_lines
from nautes_portal.ui.htmx import HtmxHttpRequest
from products.models import DeploymentRuntime, Product
from products.views.common import visible_product

# How often a followed log is read again (htmx polling; it stops with its element).
FOLLOW_EVERY = "every 3s"
TEMPLATES = "deployments/console"


def readable_runtime(
    request: HtmxHttpRequest, name: str, runtime: str
) -> tuple[Product, DeploymentRuntime]:
    """The product and runtime when the user may read its console, else 404 (a public
    product's configuration is readable by everyone; its console is not)."""
    product = visible_product(request, name)
    if not permissions.can_read_console(request.user, product):
        raise Http404("No such product.")
    row = DeploymentRuntime.objects.filter(product=product, name=runtime).first()
    if row is None:
        raise Http404("No such deployment runtime.")
    return product, row


def rights(user: Any, product: Product) -> dict[str, bool]:
    return {
        "can_operate": permissions.can_operate_runtime(user, product),
        "can_rollback": permissions.can_rollback_runtime(user, product),
    }


def console_context(
    request: HtmxHttpRequest, product: Product, runtime: DeploymentRuntime
) -> dict[str, Any]:
    """What the console page shows without the cluster: history, recent operations, rights."""
    status = RuntimeStatus.objects.filter(product=product, runtime_name=runtime.name).first()
    target = f"{product.name}/{runtime.name}"
    operations = Operation.objects.filter(product=product, target=target).order_by("-id")
    queued = None
    raw = request.GET.get("operation", "")
    if raw.isdigit():
        queued = operations.filter(pk=int(raw)).first()
    return {
        "product": product,
        "runtime": runtime,
        "history": status.history if status else [],
        "operations": list(operations[:5]),
        "queued": queued,
        **rights(request.user, product),
    }


@require_GET
@login_required
def runtime_console(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    product, row = readable_runtime(request, name, runtime)
    return render(request, f"{TEMPLATES}/console.html", console_context(request, product, row))


def _rows(tree: ResourceTree) -> list[dict[str, Any]]:
    """The tree's nodes with their depth (for the indent) and what may be done to each."""
    depth: dict[str, int] = {}
    rows = []
    for node in tree.nodes:
        level = depth.get(node.parent, -1) + 1 if node.parent else 0
        depth[node.id] = level
        rows.append(
            {
                "node": node,
                "depth": level,
                "depth_class": f"depth-{min(level, 6)}",
                "degraded": node.health in ("Degraded", "Missing"),
                "restartable": node.kind in WORKLOAD_KINDS and node.group == "apps",
                "age": _age(node.age_seconds),
                "query": urlencode(
                    {"kind": node.kind, "name": node.name, "namespace": node.namespace}
                ),
            }
        )
    return rows


def _age(seconds: int | None) -> str:
    """kubectl's AGE column: 42s, 5m, 3h, 2d."""
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@require_GET
@never_cache  # live reads, a log among them: kept by no cache
@login_required
def console_tree(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    product, row = readable_runtime(request, name, runtime)
    context: dict[str, Any] = {"product": product, "runtime": row, **rights(request.user, product)}
    try:
        with open_console(product, row.name) as console:
            tree = resource_tree(console)
    except NautesError as exc:
        context["error"] = exc.message
    else:
        context.update(tree=tree, rows=_rows(tree))
    return render(request, f"{TEMPLATES}/tree.html", context)


def _node(request: HtmxHttpRequest) -> dict[str, str]:
    return {key: request.GET.get(key, "").strip() for key in ("kind", "name", "namespace")}


def _log_context(request: HtmxHttpRequest, console: Any, pod: str, namespace: str) -> dict:
    """One pod's log panel: the chosen container's last lines, or the rule the input broke."""
    raw_tail = request.GET.get("tail_lines", "").strip()
    container = request.GET.get("container", "").strip()
    previous = request.GET.get("previous") == "1"
    form: dict[str, Any] = {
        "pod": pod,
        "namespace": namespace,
        "container": container,
        "tail_lines": raw_tail or str(DEFAULT_TAIL_LINES),
        "previous": previous,
        "follow": request.GET.get("follow") == "1",
    }
    context: dict[str, Any] = {"log_form": form, "max_tail_lines": MAX_TAIL_LINES}
    try:
        tail = tail_lines_from(raw_tail)
        log = pod_logs(
            console, pod, container=container, tail_lines=tail, previous=previous,
            namespace=namespace,
        )  # fmt: skip
    except NautesError as exc:
        context["log_error"] = exc.message
        form["follow"] = False  # polling a refusal would only repeat it
        return context
    form["container"] = log.container
    query = {
        "pod": pod,
        "namespace": namespace,
        "container": log.container,
        "tail_lines": str(tail),
        **({"previous": "1"} if previous else {}),
    }
    context.update(
        log=log,
        follow_query=urlencode({**query, "follow": "1"}),
        download_query=urlencode(
            {
                "container": log.container,
                "tail_lines": str(tail),
                "namespace": namespace,
                "previous": "1" if previous else "0",
                "download": "1",
            }
        ),
        follow_every=FOLLOW_EVERY,
    )
    return context


@require_GET
@never_cache  # live reads, a log among them: kept by no cache
@login_required
def console_node(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    """A node's panel: its events, and for a pod its log (without a node: all events)."""
    product, row = readable_runtime(request, name, runtime)
    node = _node(request)
    context: dict[str, Any] = {"product": product, "runtime": row, "node": node}
    try:
        with open_console(product, row.name) as console:
            context["events"] = runtime_events(
                console, kind=node["kind"], name=node["name"], namespace=node["namespace"]
            )
            if node["kind"] == "Pod":
                context.update(_log_context(request, console, node["name"], node["namespace"]))
    except NautesError as exc:
        context["error"] = exc.message
    return render(request, f"{TEMPLATES}/node.html", context)


@require_GET
@never_cache  # live reads, a log among them: kept by no cache
@login_required
def console_logs(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    """The log panel alone: the log form's changes and the follow polling land here."""
    product, row = readable_runtime(request, name, runtime)
    pod, namespace = request.GET.get("pod", "").strip(), request.GET.get("namespace", "").strip()
    context: dict[str, Any] = {"product": product, "runtime": row}
    try:
        with open_console(product, row.name) as console:
            context.update(_log_context(request, console, pod, namespace))
    except NautesError as exc:
        context.update(log_error=exc.message, log_form={"pod": pod, "namespace": namespace})
    return render(request, f"{TEMPLATES}/logs.html", context)


@require_GET
@never_cache  # live reads, a log among them: kept by no cache
@login_required
def console_diff(request: HtmxHttpRequest, name: str, runtime: str) -> HttpResponse:
    product, row = readable_runtime(request, name, runtime)
    context: dict[str, Any] = {"product": product, "runtime": row}
    try:
        with open_console(product, row.name) as console:
            reading = resource_diffs(console)
    except NautesError as exc:
        context["error"] = exc.message
    else:
        context["reading"] = reading
        context["diffs"] = [{"diff": d, "lines": diff_lines(d.diff)} for d in reading.diffs]
    return render(request, f"{TEMPLATES}/diff.html", context)
