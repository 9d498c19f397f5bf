"""Web routes for the deployment status pages."""

from __future__ import annotations

from django.urls import path

from deployments import status_views as views

urlpatterns = [
    path("deployments/", views.overview, name="deployments"),
    path(
        "products/<str:name>/deployments/",
        views.product_deployments,
        name="product-deployments",
    ),
    path(
        "products/<str:name>/deployments/<str:runtime>/",
        views.runtime_page,
        name="runtime-status",
    ),
    path(
        "products/<str:name>/deployments/<str:runtime>/refresh",
        views.runtime_refresh_view,
        name="runtime-refresh",
    ),
    path(
        "products/<str:name>/deployments/<str:runtime>/sync",
        views.runtime_sync_view,
        name="runtime-sync",
    ),
    path(
        "products/<str:name>/deployments/<str:runtime>/reapply",
        views.runtime_reapply_view,
        name="runtime-reapply",
    ),
]
