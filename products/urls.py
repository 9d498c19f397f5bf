"""Browser routes for products (included at the site root by `nautes_portal.web_urls`)."""

from __future__ import annotations

from django.urls import path, register_converter

from products.forms.kinds import KIND_UIS
from products.views import history, pages, resources, wizard


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
    path("products/", pages.product_list, name="product-list"),
    # `/products/new/` itself is matched first by the product route, which redirects here.
    path("products/new/<slug:step>/", wizard.wizard, name="product-new-step"),
    path("products/new/<slug:step>/check/", wizard.wizard_validate, name="product-new-check"),
    path("products/<str:name>/settings/", pages.product_settings, name="product-settings"),
    path("products/<str:name>/delete/", pages.product_delete, name="product-delete"),
    path("products/<str:name>/history/", history.product_history, name="product-history"),
    path("products/<str:name>/history/<sha:sha>/", history.product_commit, name="product-commit"),
    path(
        "products/<str:name>/history/<sha:sha>/revert/",
        history.product_commit_revert,
        name="product-commit-revert",
    ),
    path(
        "products/<str:name>/<collection:collection>/",
        resources.resource_list,
        name="resource-list",
    ),
    # `_new` cannot be a resource name (names are RFC 1123), so it never hides a resource.
    path(
        "products/<str:name>/<collection:collection>/_new/",
        resources.resource_new,
        name="resource-new",
    ),
    path(
        "products/<str:name>/<collection:collection>/<str:key>/",
        resources.resource_detail,
        name="resource",
    ),
    path(
        "products/<str:name>/<collection:collection>/<str:key>/delete/",
        resources.resource_delete,
        name="resource-delete",
    ),
]
