"""Web routes for the deployment status pages."""

from __future__ import annotations

from django.urls import path

from deployments import reconcile_views
from deployments import status_views as views

urlpatterns = [
    path(
        "clusters/<str:name>/reconcile",
        reconcile_views.cluster_reconcile_fragment,
        name="cluster-reconcile-status",
    ),
    path(
        "clusters/<str:name>/reconcile/run",
        reconcile_views.cluster_reconcile_view,
        name="cluster-reconcile",
    ),
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
