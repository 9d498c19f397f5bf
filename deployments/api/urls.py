from __future__ import annotations

from django.urls import path

from deployments.api import views

urlpatterns = [
    path("operations", views.OperationListView.as_view(), name="operation-list"),
    path(
        "operations/<int:operation_id>",
        views.OperationDetailView.as_view(),
        name="operation-detail",
    ),
    path(
        "operations/<int:operation_id>/retry",
        views.OperationRetryView.as_view(),
        name="operation-retry",
    ),
]
