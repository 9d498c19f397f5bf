"""`/api/v1/clusters`: upstream-compatible cluster registration (tenant administrators)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clusters import services
from clusters.api.replies import ClusterReply
from clusters.kubeconfig import MAX_KUBECONFIG_BYTES
from clusters.manifests import cluster_reply
from clusters.models import Cluster, ClusterHealth
from nautes_portal import permissions
from nautes_portal.api.query import Selector, apply_field_selector
from nautes_portal.api.replies import (
    ERRORS,
    FIELD_SELECTOR,
    SKIP_CHECK,
    MessageReply,
    items_of,
    message_reply,
)
from nautes_portal.errors import NotFound, PermissionDenied, RuleViolation
from nautes_portal.integrations import git_host
from nautes_portal.integrations.vault import secret_store
from nautes_portal.limits import LABEL_MAX, NAME_MAX, check_lengths

CLUSTER_SELECTORS = {
    "cluster_name": Selector(lambda r: r["name"], exact=False),
    "cluster_type": Selector(lambda r: r["cluster_type"], exact=True),
    "usage": Selector(lambda r: r["usage"], exact=True),
    "worker_type": Selector(lambda r: r["worker_type"], exact=True),
}


# Every string of a cluster body is capped (default URL_MAX); these fields have their own caps,
# the index columns' (a longer value would fail the write after the commit on PostgreSQL).
CLUSTER_FIELD_CAPS = {
    "kubeconfig": MAX_KUBECONFIG_BYTES,
    "primary_domain": NAME_MAX,
    "host_cluster": LABEL_MAX,
    "cluster_kind": 32,
    "cluster_type": 16,
    "usage": 16,
    "worker_type": 16,
}


def _require_view(request: Request) -> None:
    if not permissions.can_view_clusters(request.user):
        raise PermissionDenied(
            "reading clusters needs read access to the tenant configuration repository"
        )


class ClusterListView(APIView):
    @extend_schema(
        operation_id="Cluster_ListClusters",
        parameters=[FIELD_SELECTOR],
        responses={200: items_of(ClusterReply), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        _require_view(request)
        items = [cluster_reply(c.name, c.spec) for c in Cluster.objects.order_by("name")]
        selector = request.query_params.get("field_selector")
        return Response({"items": apply_field_selector(items, selector, CLUSTER_SELECTORS)})


class ClusterDetailView(APIView):
    @extend_schema(operation_id="Cluster_GetCluster", responses={200: ClusterReply, **ERRORS})
    def get(self, request: Request, cluster_name: str) -> Response:
        _require_view(request)
        cluster = Cluster.objects.filter(name=cluster_name).first()
        if cluster is None:
            raise NotFound(f"the cluster resource {cluster_name} is not found")
        return Response(cluster_reply(cluster.name, cluster.spec))

    @extend_schema(
        operation_id="Cluster_SaveCluster",
        request=dict,
        parameters=[SKIP_CHECK],
        responses={200: MessageReply, **ERRORS},
    )
    def post(self, request: Request, cluster_name: str) -> Response:
        self._require_manage(request)
        body: Any = request.data
        if not isinstance(body, dict):
            raise RuleViolation("the request body must be a JSON object")
        check_lengths(body, caps=CLUSTER_FIELD_CAPS)
        outcome = services.cluster_save(
            name=cluster_name,
            body=body,
            actor=request.user,
            host=git_host(),
            secrets=secret_store(),
        )
        return message_reply(f"Successfully saved {cluster_name} cluster", outcome)

    @extend_schema(
        operation_id="Cluster_DeleteCluster",
        parameters=[SKIP_CHECK],
        responses={200: MessageReply, **ERRORS},
    )
    def delete(self, request: Request, cluster_name: str) -> Response:
        self._require_manage(request)
        outcome = services.cluster_delete(
            name=cluster_name, actor=request.user, host=git_host(), secrets=secret_store()
        )
        return message_reply(f"Successfully deleted {cluster_name} cluster", outcome)

    def _require_manage(self, request: Request) -> None:
        if not permissions.can_manage_clusters(request.user):
            raise PermissionDenied(
                "registering clusters needs the Maintainer role on the tenant configuration "
                "repository"
            )


class ClusterHealthSerializer(serializers.ModelSerializer):
    ready = serializers.BooleanField(read_only=True)

    class Meta:
        model = ClusterHealth
        fields = [
            "checked_at",
            "ready",
            "reachable",
            "kubernetes_version",
            "can_create_namespaces",
            "can_manage_argocd",
            "argocd_installed",
            "argocd_namespace_present",
            "error",
        ]


class ClusterHealthView(APIView):
    """Portal extension: the last check's findings, and a way to run a new check."""

    @extend_schema(
        operation_id="Cluster_GetClusterHealth",
        responses={200: ClusterHealthSerializer, **ERRORS},
    )
    def get(self, request: Request, cluster_name: str) -> Response:
        _require_view(request)
        cluster = Cluster.objects.filter(name=cluster_name).first()
        if cluster is None:
            raise NotFound(f"the cluster resource {cluster_name} is not found")
        health = ClusterHealth.objects.filter(cluster=cluster).first() or ClusterHealth(
            cluster=cluster
        )
        return Response(ClusterHealthSerializer(health).data)

    @extend_schema(
        operation_id="Cluster_CheckCluster",
        request=None,
        responses={
            202: inline_serializer(
                "ClusterCheckReply",
                {"message": serializers.CharField(), "operation": serializers.IntegerField()},
            ),
            **ERRORS,
        },
    )
    def post(self, request: Request, cluster_name: str) -> Response:
        if not permissions.can_manage_clusters(request.user):
            raise PermissionDenied(
                "checking clusters needs the Maintainer role on the tenant repository"
            )
        cluster = Cluster.objects.filter(name=cluster_name).first()
        if cluster is None:
            raise NotFound(f"the cluster resource {cluster_name} is not found")
        operation = services.cluster_check_start(cluster=cluster, actor=request.user)
        return Response(
            {"message": f"Checking cluster {cluster_name}", "operation": operation.pk}, status=202
        )
