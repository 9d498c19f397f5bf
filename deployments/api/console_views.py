"""Portal extensions: a runtime's console, read live from its cluster (#15).

* `GET .../deploymentruntimes/{name}/resources`: the resource tree, a flat list with `parent`.
* `GET .../deploymentruntimes/{name}/events?kind=&name=&namespace=`: events, newest first.
* `GET .../deploymentruntimes/{name}/pods/{pod}/logs?container=&tail_lines=&previous=&download=`:
  a container's log (JSON, or a `text/plain` attachment with `download=true`).
* `GET .../deploymentruntimes/{name}/diff`: live against desired for out-of-sync resources.

Readers (Reporter+) of the product read them; non-members get 404. Unlike the status endpoints
these read the cluster now (`deployments.console`), within the runtime's Application and its
own namespaces; an unreachable cluster answers 503. Logs are never stored or logged.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments.console import (
    DEFAULT_TAIL_LINES,
    MAX_TAIL_LINES,
    open_console,
    pod_logs,
    resource_diffs,
    resource_tree,
    runtime_events,
    tail_lines_from,
)
from deployments.console.events import check_object
from nautes_portal import permissions
from nautes_portal.api.replies import ERRORS
from nautes_portal.errors import NotFound, RuleViolation
from products.api.views import visible_product
from products.models import Product

# Live output of the users' workloads: never kept by a browser or a proxy.
NO_STORE = "no-store"


class ContainerSerializer(serializers.Serializer):
    name = serializers.CharField()
    init = serializers.BooleanField()
    image = serializers.CharField()
    ready = serializers.BooleanField()
    restarts = serializers.IntegerField()
    state = serializers.CharField(help_text="running, waiting or terminated.")
    reason = serializers.CharField(help_text="Why it waits or ended (CrashLoopBackOff...).")
    last_termination_reason = serializers.CharField(help_text="How its previous run ended.")


class PodSerializer(serializers.Serializer):
    phase = serializers.CharField()
    status = serializers.CharField(help_text="As kubectl's STATUS column (CrashLoopBackOff...).")
    ready = serializers.CharField(help_text="Ready containers of all, e.g. 1/2.")
    restarts = serializers.IntegerField()
    last_termination_reason = serializers.CharField()
    containers = ContainerSerializer(many=True)


class TreeNodeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Stable id: group/kind/namespace/name.")
    # A reply field, not Field.parent.
    parent = serializers.CharField(allow_null=True, help_text="The owning node's id.")  # type: ignore[assignment]
    group = serializers.CharField()
    version = serializers.CharField()
    kind = serializers.CharField()
    namespace = serializers.CharField()
    name = serializers.CharField()
    managed = serializers.BooleanField(help_text="In the Application's resources.")
    sync = serializers.CharField(help_text="Synced, OutOfSync, Unknown; empty when untracked.")
    requires_pruning = serializers.BooleanField()
    health = serializers.CharField(help_text="Healthy, Progressing, Degraded, Suspended...")
    health_message = serializers.CharField()
    live = serializers.BooleanField(help_text="Read from the cluster (else from Argo CD only).")
    created_at = serializers.DateTimeField(allow_null=True)
    age_seconds = serializers.IntegerField(allow_null=True)
    pod = PodSerializer(allow_null=True)


class ApplicationSummarySerializer(serializers.Serializer):
    found = serializers.BooleanField()
    sync = serializers.CharField()
    revision = serializers.CharField()
    health = serializers.CharField()
    health_message = serializers.CharField()
    operation_phase = serializers.CharField()
    operation_message = serializers.CharField()


class ResourceTreeSerializer(serializers.Serializer):
    runtime = serializers.CharField()
    cluster = serializers.CharField()
    namespaces = serializers.ListField(child=serializers.CharField())
    application = ApplicationSummarySerializer()
    read_at = serializers.DateTimeField()
    warnings = serializers.ListField(child=serializers.CharField())
    items = TreeNodeSerializer(many=True, source="nodes")


class EventSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    type = serializers.CharField(help_text="Normal or Warning.")
    warning = serializers.BooleanField()
    reason = serializers.CharField()
    message = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    object_id = serializers.CharField(help_text="The tree node id of the object.")
    count = serializers.IntegerField()
    first_seen = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]  # a reply field, not Field.source


class EventListSerializer(serializers.Serializer):
    items = EventSerializer(many=True, source="events")
    total = serializers.IntegerField()
    truncated = serializers.BooleanField()


class PodLogSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    pod = serializers.CharField()
    container = serializers.CharField()
    containers = serializers.ListField(child=serializers.CharField())
    previous = serializers.BooleanField()
    tail_lines = serializers.IntegerField()
    truncated = serializers.BooleanField(help_text="Cut at the portal's size limit.")
    note = serializers.CharField(help_text="Why there is no text, when there is none.")
    text = serializers.CharField()


class ResourceDiffSerializer(serializers.Serializer):
    id = serializers.CharField()
    group = serializers.CharField()
    kind = serializers.CharField()
    namespace = serializers.CharField()
    name = serializers.CharField()
    sync = serializers.CharField()
    health = serializers.CharField()
    live = serializers.BooleanField()
    desired = serializers.CharField(help_text="last-applied or unavailable.")
    reason = serializers.CharField(help_text="Why desired is unavailable, or what no diff means.")
    diff = serializers.CharField(help_text="Unified YAML diff, live → desired.")


class DiffListSerializer(serializers.Serializer):
    application_found = serializers.BooleanField()
    revision = serializers.CharField()
    out_of_sync = serializers.IntegerField()
    truncated = serializers.BooleanField()
    items = ResourceDiffSerializer(many=True, source="diffs")


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "")
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise RuleViolation(f"{name} must be true or false")


def _query(request: Request, name: str) -> str:
    return str(request.query_params.get(name, "")).strip()


def console_product(request: Request, product_name: str) -> Product:
    """The product when the caller is a member (Reporter+), else 404. A public product's
    configuration is readable by everyone; its live console is not (`can_read_console`)."""
    product = visible_product(request, product_name)
    if not permissions.can_read_console(request.user, product):
        raise NotFound(f"the product {product_name} is not found", reason="GROUP_NOT_FOUND")
    return product


def _no_store(response: Any) -> Any:
    response["Cache-Control"] = NO_STORE
    return response


NAMESPACE = OpenApiParameter(
    "namespace", str, description="One of the runtime's namespaces (default: all of them)."
)


class RuntimeResourcesView(APIView):
    @extend_schema(
        operation_id="Console_GetRuntimeResources",
        summary="The runtime's resource tree, read live (flat, with parent references)",
        responses={200: ResourceTreeSerializer, **ERRORS},
    )
    def get(self, request: Request, product_name: str, name: str) -> Response:
        product = console_product(request, product_name)
        with open_console(product, name) as console:
            tree = resource_tree(console)
        return _no_store(Response(ResourceTreeSerializer(tree).data))


class RuntimeEventsView(APIView):
    @extend_schema(
        operation_id="Console_ListRuntimeEvents",
        summary="Events of the runtime's namespaces, or of one object, newest first",
        parameters=[
            OpenApiParameter(
                "kind", str, description="Only events of this object kind (with name)."
            ),
            OpenApiParameter("name", str, description="Only events of this object (with kind)."),
            NAMESPACE,
        ],
        responses={200: EventListSerializer, **ERRORS},
    )
    def get(self, request: Request, product_name: str, name: str) -> Response:
        product = console_product(request, product_name)
        kind, object_name = _query(request, "kind"), _query(request, "name")
        check_object(kind, object_name)
        with open_console(product, name) as console:
            reading = runtime_events(
                console, kind=kind, name=object_name, namespace=_query(request, "namespace")
            )
        return _no_store(Response(EventListSerializer(reading).data))


class RuntimePodLogsView(APIView):
    @extend_schema(
        operation_id="Console_GetPodLogs",
        summary="The log of a container of one of the runtime's pods",
        parameters=[
            OpenApiParameter("container", str, description="Default: the pod's default container."),
            OpenApiParameter(
                "tail_lines",
                int,
                description=f"Last lines to read (default {DEFAULT_TAIL_LINES}, at most "
                f"{MAX_TAIL_LINES}).",
            ),
            OpenApiParameter("previous", bool, description="The run before the last restart."),
            OpenApiParameter(
                "download", bool, description="Answer a text/plain attachment instead of JSON."
            ),
            NAMESPACE,
        ],
        responses={
            200: OpenApiResponse(
                PodLogSerializer, description="JSON; text/plain attachment with download=true."
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, product_name: str, name: str, pod: str) -> Any:
        product = console_product(request, product_name)
        tail_lines = tail_lines_from(request.query_params.get("tail_lines"))
        previous, download = _flag(request, "previous"), _flag(request, "download")
        with open_console(product, name) as console:
            log = pod_logs(
                console,
                pod,
                container=_query(request, "container"),
                tail_lines=tail_lines,
                previous=previous,
                namespace=_query(request, "namespace"),
            )
        if not download:
            return _no_store(Response(PodLogSerializer(log).data))
        suffix = "-previous" if previous else ""
        response = HttpResponse(log.text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{log.pod}-{log.container}{suffix}.log"'
        )
        return _no_store(response)


class RuntimeDiffView(APIView):
    @extend_schema(
        operation_id="Console_GetRuntimeDiff",
        summary="Out-of-sync resources: the live object against its desired manifest",
        responses={200: DiffListSerializer, **ERRORS},
    )
    def get(self, request: Request, product_name: str, name: str) -> Response:
        product = console_product(request, product_name)
        with open_console(product, name) as console:
            reading = resource_diffs(console)
        return _no_store(Response(DiffListSerializer(reading).data))


__all__ = [
    "RuntimeDiffView",
    "RuntimeEventsView",
    "RuntimePodLogsView",
    "RuntimeResourcesView",
]
