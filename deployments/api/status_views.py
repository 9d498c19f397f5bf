"""Portal extensions: deployment status of runtimes, and asking for a sync or a re-apply.

* `GET  /api/v1/products/{p}/status`: every runtime of the product with its status.
* `GET  /api/v1/products/{p}/deploymentruntimes/{name}/status`: one runtime, in full.
* `POST /api/v1/products/{p}/deploymentruntimes/{name}/reapply`: apply its objects again (202).

Readers (Reporter+) see statuses; Developer+ may re-apply; non-members get 404. Sync and the
console's other actions are `console_action_views` (#15).
Statuses come from the status table (the collector's last reading), never from a cluster.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments.api.views import OperationSerializer
from deployments.selectors import RuntimeView, runtime_statuses, runtime_view
from deployments.services import runtime_reapply
from deployments.status import explain
from deployments.status.applied import applied_state
from nautes_portal import permissions
from nautes_portal.api.replies import ErrorReply
from nautes_portal.errors import NotFound, PermissionDenied
from products.api.views import visible_product
from products.models import DeploymentRuntime, Product

ERRORS = {code: OpenApiResponse(ErrorReply) for code in (401, 403, 404, 409)}


class ResourceSerializer(serializers.Serializer):
    group = serializers.CharField()
    kind = serializers.CharField()
    namespace = serializers.CharField()
    name = serializers.CharField()
    sync = serializers.CharField(help_text="Synced, OutOfSync or Unknown.")
    health = serializers.CharField(help_text="Healthy, Progressing, Degraded, Missing...")
    message = serializers.CharField()


class ConditionSerializer(serializers.Serializer):
    type = serializers.CharField()
    message = serializers.CharField()
    last_transition = serializers.CharField()


class HistorySerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    revision = serializers.CharField()
    deployed_at = serializers.CharField()
    started_at = serializers.CharField()
    initiated_by = serializers.CharField()


class RuntimeStatusSerializer(serializers.Serializer):
    """A runtime's status as last read from Argo CD (fields empty when never read)."""

    product = serializers.CharField()
    name = serializers.CharField()
    environment = serializers.CharField()
    cluster = serializers.CharField()
    state = serializers.CharField(help_text="ok, pending, failing, missing or unknown.")
    application_found = serializers.BooleanField()
    sync_status = serializers.CharField()
    revision = serializers.CharField()
    health_status = serializers.CharField()
    health_message = serializers.CharField()
    operation_phase = serializers.CharField()
    operation_message = serializers.CharField()
    deployed_at = serializers.DateTimeField(allow_null=True, help_text="Last sync in history.")
    read_at = serializers.DateTimeField(allow_null=True, help_text="Last successful read.")
    checked_at = serializers.DateTimeField(allow_null=True, help_text="Last attempt to read.")
    age_seconds = serializers.IntegerField(allow_null=True)
    reachable = serializers.BooleanField()
    error = serializers.CharField()
    explanation = serializers.ListField(child=serializers.CharField())
    conditions = ConditionSerializer(many=True)
    applied_commit = serializers.CharField(
        help_text="The commit of default.project the portal last applied to the cluster (#14)."
    )
    index_commit = serializers.CharField(help_text="The commit of default.project indexed now.")
    behind_git = serializers.BooleanField(
        help_text="Whether the cluster does not hold what Git holds now (not applied yet, or "
        "the last pass could not apply it)."
    )
    last_pass_at = serializers.DateTimeField(
        allow_null=True, help_text="The last reconcile pass of the runtime's cluster."
    )
    pass_result = serializers.CharField(
        help_text="What that pass did: applied, unchanged, refused or conflict."
    )
    pass_message = serializers.CharField(help_text="Why it was refused or in conflict.")


class RuntimeStatusDetailSerializer(RuntimeStatusSerializer):
    operation = serializers.DictField(help_text="Times, revision and failed resources.")
    resources = ResourceSerializer(many=True)
    history = HistorySerializer(many=True, help_text="The last 10 syncs, newest first.")


RuntimeStatusListReply = inline_serializer(
    "RuntimeStatusList", {"items": RuntimeStatusSerializer(many=True)}
)


def status_reply(product: Product, view: RuntimeView, *, detail: bool) -> dict[str, Any]:
    """The reply for one runtime (plain data; no secret is ever part of a status)."""
    s = view.status
    applied = applied_state(product, s)
    reply: dict[str, Any] = {
        "product": product.name,
        "name": view.name,
        "environment": view.environment,
        "cluster": s.cluster if s else "",
        "state": view.state,
        "application_found": bool(s and s.application_found),
        "sync_status": s.sync_status if s else "",
        "revision": s.revision if s else "",
        "health_status": s.health_status if s else "",
        "health_message": s.health_message if s else "",
        "operation_phase": s.operation_phase if s else "",
        "operation_message": s.operation_message if s else "",
        "deployed_at": s.deployed_at if s else None,
        "read_at": s.read_at if s else None,
        "checked_at": s.checked_at if s else None,
        "age_seconds": view.age_seconds,
        "reachable": bool(s and s.reachable),
        "error": s.error if s else "",
        "explanation": explain(s) if s else ["The status has not been read yet."],
        "conditions": s.conditions if s else [],
        "applied_commit": applied.commit,
        "index_commit": applied.index_commit,
        "behind_git": applied.behind,
        "last_pass_at": applied.pass_at,
        "pass_result": applied.result,
        "pass_message": applied.message,
    }
    if detail:
        reply.update(
            operation=s.operation if s else {},
            resources=s.resources if s else [],
            history=s.history if s else [],
        )
        return RuntimeStatusDetailSerializer(reply).data
    return RuntimeStatusSerializer(reply).data


def _runtime(product: Product, name: str) -> DeploymentRuntime:
    runtime = DeploymentRuntime.objects.filter(product=product, name=name).first()
    if runtime is None:
        raise NotFound(f"deployment runtime {name} is not found", reason="RUNTIME_NOT_FOUND")
    return runtime


def _changeable(request: Request, product_name: str, name: str) -> Product:
    product = visible_product(request, product_name)
    if not permissions.can_change_resources(request.user, product):
        raise PermissionDenied(f"you may not change the runtimes of product {product.name}")
    _runtime(product, name)
    return product


class ProductStatusView(APIView):
    @extend_schema(
        operation_id="Status_ListProductStatus",
        summary="Deployment status of every runtime of a product",
        responses={
            200: RuntimeStatusListReply,
            **ERRORS,
        },
    )
    def get(self, request: Request, product_name: str) -> Response:
        product = visible_product(request, product_name)
        items = [status_reply(product, v, detail=False) for v in runtime_statuses(product)]
        return Response({"items": items})


class RuntimeStatusView(APIView):
    @extend_schema(
        operation_id="Status_GetRuntimeStatus",
        summary="Deployment status of one runtime (resources, conditions, history)",
        responses={200: RuntimeStatusDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, product_name: str, name: str) -> Response:
        product = visible_product(request, product_name)
        runtime = _runtime(product, name)
        return Response(status_reply(product, runtime_view(product, runtime), detail=True))


class RuntimeReapplyView(APIView):
    @extend_schema(
        operation_id="Status_ReapplyRuntime",
        summary="Reconcile the runtime's cluster now (its namespaces, RBAC, AppProject and "
        "Application, and every other runtime there, made to match Git)",
        request=None,
        responses={202: OperationSerializer, **ERRORS},
    )
    def post(self, request: Request, product_name: str, name: str) -> Response:
        product = _changeable(request, product_name, name)
        operation = runtime_reapply(product=product, runtime_name=name, actor=request.user)
        return Response(OperationSerializer(operation).data, status=202)
