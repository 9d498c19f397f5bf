"""`GET /api/v1/audit`: the audit log (portal extension), scoped to what the caller may read."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nautes_portal import permissions
from nautes_portal.api.pages import newest_first_page, page_serializer
from nautes_portal.api.replies import ERRORS
from nautes_portal.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")
    product = serializers.CharField(source="product_name")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "kind",
            "name",
            "product",
            "repository",
            "commit_sha",
            "message",
            "diff",
        ]


AuditPageSerializer = page_serializer(
    AuditEventSerializer,
    "AuditPage",
    "One page of events, newest first; follow `next` for older ones.",
)


class AuditListView(APIView):
    """Newest first; products the caller cannot read are left out, cluster events need
    tenant read access."""

    @extend_schema(
        operation_id="Audit_ListEvents",
        parameters=[
            OpenApiParameter("product", str, description="Only events of this product."),
            OpenApiParameter("kind", str, description="Only events of this resource kind."),
        ],
        responses={200: AuditPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        events = permissions.audit_events_visible_to(request.user)
        if product := request.query_params.get("product"):
            events = events.filter(product_name=product)
        if kind := request.query_params.get("kind"):
            events = events.filter(kind=kind)
        return newest_first_page(events, AuditEventSerializer, request, self)
