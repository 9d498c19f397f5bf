"""`/api/v1/`: upstream-compatible resources plus portal extensions."""

from __future__ import annotations

from django.urls import include, path

from nautes_portal.api.audit import AuditListView

urlpatterns = [
    path("", include("clusters.api.urls")),
    path("", include("products.api.urls")),
    path("", include("deployments.api.urls")),
    path("", include("deployments.api.status_urls")),
    path("audit", AuditListView.as_view(), name="audit-list"),
]
