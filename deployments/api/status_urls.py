"""API routes for runtime deployment status (portal extensions)."""

from __future__ import annotations

from django.urls import path

from deployments.api import console_action_views as actions
from deployments.api import console_views
from deployments.api import status_views as views
from deployments.api.reconcile_views import ClusterReconcileView

urlpatterns = [
    path(
        "clusters/<str:cluster_name>/reconcile",
        ClusterReconcileView.as_view(),
        name="cluster-reconcile-api",
    ),
    path(
        "products/<str:product_name>/status",
        views.ProductStatusView.as_view(),
        name="product-status",
    ),
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/status",
        views.RuntimeStatusView.as_view(),
        name="runtime-status-api",
    ),
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/sync",
        actions.RuntimeSyncView.as_view(),
        name="runtime-sync-api",
    ),
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/reapply",
        views.RuntimeReapplyView.as_view(),
        name="runtime-reapply-api",
    ),
    # ---- The console's actions (#15): `.../sync` above takes their options too. ----
    # `.../refresh` is Argo CD's hard refresh; the portal's status refresh is a page action.
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/refresh",
        actions.RuntimeHardRefreshView.as_view(),
        name="runtime-hard-refresh-api",
    ),
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/rollback",
        actions.RuntimeRollbackView.as_view(),
        name="runtime-rollback-api",
    ),
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/resources/restart",
        actions.WorkloadRestartView.as_view(),
        name="runtime-workload-restart-api",
    ),
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/pods/<str:pod>",
        actions.PodDeleteView.as_view(),
        name="runtime-pod-delete-api",
    ),
    # The runtime's console, read live from its cluster (#15).
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/resources",
        console_views.RuntimeResourcesView.as_view(),
        name="runtime-resources-api",
    ),
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/events",
        console_views.RuntimeEventsView.as_view(),
        name="runtime-events-api",
    ),
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/pods/<str:pod>/logs",
        console_views.RuntimePodLogsView.as_view(),
        name="runtime-pod-logs-api",
    ),
    path(
        "products/<str:product_name>/deploymentruntimes/<str:name>/diff",
        console_views.RuntimeDiffView.as_view(),
        name="runtime-diff-api",
    ),
]
