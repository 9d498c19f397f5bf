"""Browser pages."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from clusters.views import cluster_list
from deployments.views import operation_detail, operation_list, operation_retry_view
from nautes_portal.views import PortalLoginView, audit_list
from products.views.pages import home, product_detail

urlpatterns = [
    path("", home, name="home"),
    path("products/<str:name>/", product_detail, name="product"),
    path("clusters/", cluster_list, name="clusters"),
    path("audit/", audit_list, name="audit"),
    path("operations/", operation_list, name="operations"),
    path("operations/<int:pk>/", operation_detail, name="operation"),
    path("operations/<int:pk>/retry", operation_retry_view, name="operation-retry"),
    path("accounts/login/", PortalLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("", include("deployments.status_urls")),
    path("", include("products.urls")),
    path("", include("clusters.urls")),
]
