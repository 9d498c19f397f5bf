from __future__ import annotations

from django.urls import path

from products.api import views

urlpatterns = [
    path("products", views.ProductListView.as_view(), name="product-list"),
    path("products/<str:product_name>", views.ProductDetailView.as_view(), name="product-detail"),
]
for collection in views.KIND_APIS:
    list_view, detail_view = views.views_for(collection)
    urlpatterns += [
        path(
            f"products/<str:product_name>/{collection}",
            list_view.as_view(),
            name=f"{collection}-list",
        ),
        path(
            f"products/<str:product_name>/{collection}/<str:name>",
            detail_view.as_view(),
            name=f"{collection}-detail",
        ),
    ]
