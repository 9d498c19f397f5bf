"""API of a cluster's reconciler (portal extension): its last pass, and a pass now."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clusters.models import Cluster
from deployments.api.views import OperationSerializer
from deployments.models import ClusterReconcile
from deployments.services import cluster_reconcile_now
from nautes_portal import permissions
from nautes_portal.api.replies import ErrorReply
from nautes_portal.errors import NotFound, PermissionDenied

ERRORS = {code: OpenApiResponse(ErrorReply) for code in (401, 403, 404)}


class ClusterReconcileSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    last_pass_at = serializers.DateTimeField(allow_null=True)
    last_result = serializers.CharField(help_text="ok, conflicts, or empty before a pass.")
    last_detail = serializers.CharField()
    writes = serializers.IntegerField(help_text="Objects the last pass wrote (0: no drift).")
    last_operation = serializers.IntegerField(allow_null=True)


def _cluster(request: Request, name: str, *, manage: bool) -> Cluster:
    allowed = (
        permissions.can_manage_clusters(request.user)
        if manage
        else permissions.can_view_clusters(request.user)
    )
    if not allowed:
        raise PermissionDenied("you may not " + ("reconcile" if manage else "view") + " clusters")
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        raise NotFound(f"cluster {name} is not found", reason="CLUSTER_NOT_FOUND")
    return cluster


class ClusterReconcileView(APIView):
    @extend_schema(
        operation_id="Cluster_GetReconcile",
        summary="The last reconcile pass of a cluster",
        responses={200: ClusterReconcileSerializer, **ERRORS},
    )
    def get(self, request: Request, cluster_name: str) -> Response:
        cluster = _cluster(request, cluster_name, manage=False)
        record = ClusterReconcile.objects.filter(cluster=cluster.name).first()
        reply = {
            "cluster": cluster.name,
            "last_pass_at": record.last_pass_at if record else None,
            "last_result": record.last_result if record else "",
            "last_detail": record.last_detail if record else "",
            "writes": record.writes if record else 0,
            "last_operation": record.last_operation if record else None,
        }
        return Response(ClusterReconcileSerializer(reply).data)

    @extend_schema(
        operation_id="Cluster_Reconcile",
        summary="Reconcile a cluster now: make it hold what Git holds for every runtime on it",
        request=None,
        responses={202: OperationSerializer, **ERRORS},
    )
    def post(self, request: Request, cluster_name: str) -> Response:
        cluster = _cluster(request, cluster_name, manage=True)
        operation = cluster_reconcile_now(cluster_name=cluster.name, actor=request.user)
        return Response(OperationSerializer(operation).data, status=202)
