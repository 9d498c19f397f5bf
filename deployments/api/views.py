"""`/api/v1/operations`: the provisioning log (portal extension)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nautes_portal import permissions
from nautes_portal.api.pages import newest_first_page, page_serializer
from nautes_portal.api.replies import ERRORS
from nautes_portal.errors import NotFound, PermissionDenied
from nautes_portal.operations import operation_retry
from nautes_portal.operations.models import Operation, OperationStep


class OperationStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = OperationStep
        fields = [
            "position",
            "name",
            "title",
            "status",
            "attempts",
            "started_at",
            "finished_at",
            "duration_ms",
            "detail",
            "error",
        ]


class OperationSerializer(serializers.ModelSerializer):
    steps = OperationStepSerializer(many=True, read_only=True)
    product = serializers.CharField(source="product_name")

    class Meta:
        model = Operation
        fields = [
            "id",
            "kind",
            "target",
            "product",
            "status",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "steps",
        ]


OperationPageSerializer = page_serializer(
    OperationSerializer,
    "OperationPage",
    "One page of operations, newest first; follow `next` for older ones.",
)


def visible_operation(request: Request, operation_id: int) -> Operation:
    operation = (
        permissions.operations_visible_to(request.user)
        .select_related("product")
        .filter(pk=operation_id)
        .first()
    )
    if operation is None:
        raise NotFound(f"operation {operation_id} is not found")
    return operation


class OperationListView(APIView):
    @extend_schema(
        operation_id="Operation_ListOperations",
        parameters=[
            OpenApiParameter("product", str, description="Only operations of this product."),
            OpenApiParameter("status", str, description="pending, running, succeeded or failed."),
        ],
        responses={200: OperationPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        operations = permissions.operations_visible_to(request.user).prefetch_related("steps")
        if product := request.query_params.get("product"):
            operations = operations.filter(product_name=product)
        if status := request.query_params.get("status"):
            operations = operations.filter(status=status)
        return newest_first_page(operations, OperationSerializer, request, self)


class OperationDetailView(APIView):
    @extend_schema(
        operation_id="Operation_GetOperation", responses={200: OperationSerializer, **ERRORS}
    )
    def get(self, request: Request, operation_id: int) -> Response:
        return Response(OperationSerializer(visible_operation(request, operation_id)).data)


class OperationRetryView(APIView):
    @extend_schema(
        operation_id="Operation_RetryOperation",
        request=None,
        responses={202: OperationSerializer, **ERRORS},
    )
    def post(self, request: Request, operation_id: int) -> Response:
        operation = visible_operation(request, operation_id)
        if not permissions.can_retry_operation(request.user, operation):
            raise PermissionDenied("you may not retry this operation")
        operation_retry(operation)
        operation.refresh_from_db()
        return Response(OperationSerializer(operation).data, status=202)
