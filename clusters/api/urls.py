from __future__ import annotations

from django.urls import path

from clusters.api import views

urlpatterns = [
    path("clusters", views.ClusterListView.as_view(), name="cluster-list"),
    path("clusters/<str:cluster_name>", views.ClusterDetailView.as_view(), name="cluster-detail"),
    path(
        "clusters/<str:cluster_name>/health",
        views.ClusterHealthView.as_view(),
        name="cluster-health",
    ),
]
