"""Portal extensions: the console's actions on a deployed runtime (#15), each replying 202 with
the operation it queued (`/api/v1/operations/{id}` follows it).

* `POST   .../deploymentruntimes/{name}/sync`: sync now; optional body `prune`, `dry_run`,
  `resources`, `apply_out_of_sync_only` (no body: "Sync now" as before, prune on).
* `POST   .../deploymentruntimes/{name}/refresh`: Argo CD hard refresh
  (`argocd.argoproj.io/refresh=hard`: Git read again, manifests rendered without cache). Not
  the runtime page's "Refresh status", which re-reads the status into the portal.
* `POST   .../deploymentruntimes/{name}/rollback`: body `id`, a history entry.
* `POST   .../deploymentruntimes/{name}/resources/restart`: body `kind`, `name`.
* `DELETE .../deploymentruntimes/{name}/pods/{pod}` (`?namespace=` when two of the runtime's
  namespaces have a pod of that name).

Developer+ (`can_operate_runtime`); a rollback Maintainer+ (`can_rollback_runtime`);
non-members 404; an object that is not the runtime's 404 (`deployments.deployer.scope`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments.api.console_views import console_product
from deployments.api.views import OperationSerializer
from deployments.console_actions import (
    pod_delete,
    runtime_hard_refresh,
    runtime_rollback,
    runtime_sync,
    workload_restart,
)
from deployments.deployer.sync_options import sync_options
from nautes_portal import permissions
from nautes_portal.api.replies import ERRORS
from nautes_portal.errors import PermissionDenied, RuleViolation
from nautes_portal.operations.models import Operation
from products.models import Product


class SyncResourceSerializer(serializers.Serializer):
    group = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.CharField()
    name = serializers.CharField()
    namespace = serializers.CharField(required=False, allow_blank=True, default="")


class RuntimeSyncSerializer(serializers.Serializer):
    """Argo CD's sync options; each defaults as `argocd app sync` does."""

    prune = serializers.BooleanField(
        required=False, default=False, help_text="Delete what Git no longer has."
    )
    dry_run = serializers.BooleanField(required=False, default=False)
    resources = SyncResourceSerializer(
        many=True,
        required=False,
        help_text="Only these objects; each must be in the Application's resources.",
    )
    apply_out_of_sync_only = serializers.BooleanField(
        required=False, default=False, help_text="Sync option ApplyOutOfSyncOnly=true."
    )


class RuntimeRollbackSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=0, help_text="A history entry's id (see status).")


class WorkloadRestartSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="Deployment, StatefulSet or DaemonSet.")
    name = serializers.CharField()


def _body(request: Request, serializer: type[serializers.Serializer]) -> dict[str, Any]:
    """The request body checked for shape; unknown fields are refused (a misspelt `prune`
    must not silently sync without it)."""
    data = request.data
    if not isinstance(data, dict):
        raise RuleViolation("the request body must be a JSON object")
    unknown = sorted(set(data) - set(serializer().fields))
    if unknown:
        raise RuleViolation(f"unknown fields: {', '.join(unknown)}")
    checked = serializer(data=data)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)


def _operable(
    request: Request, product_name: str, allowed: Callable[[Any, Product], bool], what: str
) -> Product:
    product = console_product(request, product_name)  # a public product's too: members only
    if not allowed(request.user, product):
        raise PermissionDenied(f"you may not {what} the runtimes of product {product.name}")
    return product


def _accepted(operation: Operation) -> Response:
    return Response(OperationSerializer(operation).data, status=202)


class RuntimeSyncView(APIView):
    @extend_schema(
        operation_id="Status_SyncRuntime",
        summary="Ask Argo CD to sync the runtime's Application now, with options",
        description="Without a body: the portal's 'Sync now' (prune on, as the Application's "
        "automated policy). With a body, each option defaults as in `argocd app sync` "
        "(prune off).",
        request=RuntimeSyncSerializer,
        responses={202: OperationSerializer, **ERRORS},
    )
    def post(self, request: Request, product_name: str, name: str) -> Response:
        product = _operable(request, product_name, permissions.can_operate_runtime, "sync")
        options = None
        if request.data:
            options = sync_options(**_body(request, RuntimeSyncSerializer))
        operation = runtime_sync(
            product=product, runtime_name=name, actor=request.user, options=options
        )
        return _accepted(operation)


class RuntimeHardRefreshView(APIView):
    @extend_schema(
        operation_id="Console_HardRefreshRuntime",
        summary="Ask Argo CD for a hard refresh of the runtime's Application",
        description="Annotates the Application `argocd.argoproj.io/refresh=hard`: Argo CD "
        "reads Git again and renders the manifests without its cache. This is not the "
        "portal's status refresh (the runtime page's 'Refresh status', which reads the "
        "Application's status into the portal now).",
        request=None,
        responses={202: OperationSerializer, **ERRORS},
    )
    def post(self, request: Request, product_name: str, name: str) -> Response:
        product = _operable(request, product_name, permissions.can_operate_runtime, "refresh")
        return _accepted(
            runtime_hard_refresh(product=product, runtime_name=name, actor=request.user)
        )


class RuntimeRollbackView(APIView):
    @extend_schema(
        operation_id="Console_RollbackRuntime",
        summary="Roll the runtime back to one of its history entries (Maintainer+)",
        description="A sync to the entry's revision, without prune. Refused (409) when the "
        "Application syncs automatically: Argo CD would move it back to Git's head; the "
        "reply names the way (revert the commit in Git, `metadata.history_url`).",
        request=RuntimeRollbackSerializer,
        responses={202: OperationSerializer, **ERRORS},
    )
    def post(self, request: Request, product_name: str, name: str) -> Response:
        product = _operable(request, product_name, permissions.can_rollback_runtime, "roll back")
        body = _body(request, RuntimeRollbackSerializer)
        operation = runtime_rollback(
            product=product, runtime_name=name, actor=request.user, history_id=body["id"]
        )
        return _accepted(operation)


class WorkloadRestartView(APIView):
    @extend_schema(
        operation_id="Console_RestartWorkload",
        summary="Restart a Deployment, StatefulSet or DaemonSet of the runtime",
        description="As `kubectl rollout restart`. Only an object of the runtime's Argo CD "
        "Application in the runtime's own namespaces; anything else is 404.",
        request=WorkloadRestartSerializer,
        responses={202: OperationSerializer, **ERRORS},
    )
    def post(self, request: Request, product_name: str, name: str) -> Response:
        product = _operable(request, product_name, permissions.can_operate_runtime, "restart")
        body = _body(request, WorkloadRestartSerializer)
        operation = workload_restart(
            product=product,
            runtime_name=name,
            actor=request.user,
            kind=body["kind"],
            name=body["name"],
        )
        return _accepted(operation)


class PodDeleteView(APIView):
    @extend_schema(
        operation_id="Console_DeletePod",
        summary="Delete a pod of the runtime (its controller starts a new one)",
        description="Only a pod in the runtime's own namespaces; anything else is 404.",
        parameters=[
            OpenApiParameter(
                "namespace",
                str,
                description="The pod's namespace, when two of the runtime's have one of that name.",
            )
        ],
        request=None,
        responses={202: OperationSerializer, **ERRORS},
    )
    def delete(self, request: Request, product_name: str, name: str, pod: str) -> Response:
        product = _operable(
            request, product_name, permissions.can_operate_runtime, "delete pods of"
        )
        operation = pod_delete(
            product=product,
            runtime_name=name,
            actor=request.user,
            pod=pod,
            namespace=request.query_params.get("namespace", ""),
        )
        return _accepted(operation)
