"""Browser routes for clusters (included at the site root by `nautes_portal.web_urls`).

`clusters/` itself (the list, name "clusters") is routed by `nautes_portal.web_urls`.
"""

from __future__ import annotations

from django.urls import path

from clusters import views

urlpatterns = [
    # Before `clusters/<name>/`: "new" is refused as a cluster name by the wizard.
    path("clusters/new/", views.cluster_new, name="cluster-new"),
    path("clusters/new/<slug:step>/", views.cluster_wizard, name="cluster-new-step"),
    path("clusters/new/<slug:step>/check/", views.cluster_wizard_check, name="cluster-new-check"),
    path("clusters/<str:name>/", views.cluster_detail, name="cluster"),
    path("clusters/<str:name>/check/", views.cluster_check, name="cluster-check"),
    path("clusters/<str:name>/delete/", views.cluster_delete, name="cluster-delete"),
    path("clusters/<str:name>/edit/", views.cluster_edit, name="cluster-edit"),
    path("clusters/<str:name>/edit/<slug:step>/", views.cluster_wizard, name="cluster-edit-step"),
    path(
        "clusters/<str:name>/edit/<slug:step>/check/",
        views.cluster_wizard_check,
        name="cluster-edit-check",
    ),
]
