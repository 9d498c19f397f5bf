"""Browser routes for products (included at the site root by `nautes_portal.web_urls`)."""

from __future__ import annotations

from django.urls import path, register_converter

from products import views
from products.forms import KIND_UIS


class CollectionConverter:
    """One of the resource collections, spelled as in the API (`environments`, ...)."""

    regex = "|".join(KIND_UIS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ShaConverter:
    regex = "[0-9a-f]{7,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CollectionConverter, "collection")
register_converter(ShaConverter, "sha")

urlpatterns = [
    path("products/", views.product_list, name="product-list"),
    # `/products/new/` itself is matched first by the product route, which redirects here.
    path("products/new/<slug:step>/", views.wizard, name="product-new-step"),
    path("products/new/<slug:step>/check/", views.wizard_validate, name="product-new-check"),
    path("products/<str:name>/settings/", views.product_settings, name="product-settings"),
    path("products/<str:name>/delete/", views.product_delete, name="product-delete"),
    path("products/<str:name>/history/", views.product_history, name="product-history"),
    path("products/<str:name>/history/<sha:sha>/", views.product_commit, name="product-commit"),
    path(
        "products/<str:name>/history/<sha:sha>/revert/",
        views.product_commit_revert,
        name="product-commit-revert",
    ),
    path(
        "products/<str:name>/<collection:collection>/",
        views.resource_list,
        name="resource-list",
    ),
    # `_new` cannot be a resource name (names are RFC 1123), so it never hides a resource.
    path(
        "products/<str:name>/<collection:collection>/_new/",
        views.resource_new,
        name="resource-new",
    ),
    path(
        "products/<str:name>/<collection:collection>/<str:key>/",
        views.resource_detail,
        name="resource",
    ),
    path(
        "products/<str:name>/<collection:collection>/<str:key>/delete/",
        views.resource_delete,
        name="resource-delete",
    ),
]
