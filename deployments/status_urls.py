"""Web routes for the deployment status pages."""

from __future__ import annotations

from django.urls import path

from deployments import console_action_views as console_actions
from deployments import console_views, reconcile_views
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
    # The runtime's console (#15): a page, its fragments (read live) and its actions.
    # `.../refresh` above is the portal's status refresh; Argo CD's is `.../hard-refresh`.
    *[
        path(f"products/<str:name>/deployments/<str:runtime>/{route}", view, name=url_name)
        for route, view, url_name in (
            ("console", console_views.runtime_console, "runtime-console"),
            ("console/tree", console_views.console_tree, "runtime-console-tree"),
            ("console/node", console_views.console_node, "runtime-console-node"),
            ("console/logs", console_views.console_logs, "runtime-console-logs"),
            ("console/diff", console_views.console_diff, "runtime-console-diff"),
            ("console/sync", console_actions.console_sync, "runtime-console-sync"),
            ("hard-refresh", console_actions.console_hard_refresh, "runtime-hard-refresh"),
            ("rollback", console_actions.console_rollback, "runtime-rollback"),
            ("restart", console_actions.console_restart, "runtime-restart"),
            ("delete-pod", console_actions.console_pod_delete, "runtime-delete-pod"),
        )
    ],
]
