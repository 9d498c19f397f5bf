"""The dashboard, the product list, a product's page, its settings and its deletion."""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from nautes_portal import permissions
from nautes_portal.errors import NautesError
from nautes_portal.integrations import git_host
from nautes_portal.ui.forms import DeleteConfirmForm
from nautes_portal.ui.htmx import htmx_partial
from nautes_portal.ui.paging import paginate
from products import services
from products.filters import ProductFilter
from products.forms.kinds import KIND_UIS
from products.forms.product import ProductSettingsForm
from products.forms.resources import suitable_cluster_rows
from products.views.common import repo_names_of, row_cells, visible_product

OVERVIEW_ROWS = 10


def health_summary(product_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Runtime health counts per product, when the deployments app records them.

    The deployments status table is optional here (looked up by name, never imported), so the
    dashboard works before status collection is wired and shows "—" meanwhile.
    """
    try:
        model = apps.get_model("deployments", "RuntimeStatus")
    except LookupError:
        return {}
    summary: dict[int, list[tuple[str, int]]] = {}
    try:
        rows = (
            model.objects.filter(product_id__in=product_ids)
            .values_list("product_id", "health_status")
            .annotate(count=Count("pk"))
            .order_by("product_id", "health_status")
        )
        for product_id, health, count in rows:
            summary.setdefault(product_id, []).append((health or "Unknown", count))
    except DatabaseError:
        return {}
    return summary


# ---- Dashboard and product list ---------------------------------------------------------------


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's products with their runtime health, and what to do next."""
    user = request.user
    visible = permissions.products_visible_to(user)
    mine = visible if user.is_superuser else visible.filter(memberships__user=user.pk)
    products = list(mine.order_by("name")[:OVERVIEW_ROWS])
    context = {
        "products": products,
        "health": health_summary([p.pk for p in products]),
        "mine_total": mine.count(),
        "visible_total": visible.count(),
        "can_view_clusters": permissions.can_view_clusters(user),
        "can_manage_clusters": permissions.can_manage_clusters(user),
        "has_clusters": suitable_cluster_rows().exists(),
        "operations": list(permissions.operations_visible_to(user)[:5]),
    }
    for product in products:
        product.health_counts = context["health"].get(product.pk, [])  # type: ignore[attr-defined]
    return render(request, "home.html", context)


@require_GET
@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    visible = permissions.products_visible_to(request.user).order_by("name")
    filters = ProductFilter(request.GET, queryset=visible, request=request)
    page = paginate(request, filters.qs)
    health = health_summary([p.pk for p in page.object_list])
    for product in page.object_list:
        product.health_counts = health.get(product.pk, [])
    template = "products/product_list.html" + ("#results" if htmx_partial(request) else "")
    return render(
        request,
        template,
        {"filter": filters, "page": page, "any_products": filters.active or page.paginator.count},
    )


# ---- One product --------------------------------------------------------------------------------


@require_GET
@login_required
def product_detail(request: HttpRequest, name: str) -> HttpResponse:
    if name == "new":  # `/products/new/` is also matched by this route: it is the wizard
        return redirect("product-new-step", step="product")
    product = visible_product(request, name)
    sections = []
    for ui in KIND_UIS.values():
        rows = ui.api.model.objects.filter(product=product).order_by("name")
        shown = list(rows[:OVERVIEW_ROWS])
        names = repo_names_of(product, ui, shown)
        sections.append(
            {
                "ui": ui,
                "count": rows.count(),
                "rows": [
                    {
                        "row": row,
                        "key": getattr(row, ui.lookup),
                        "values": row_cells(ui, row, names),
                    }
                    for row in shown
                ],
                "can_add": ui.api.may_write(request.user, product),
            }
        )
    context = {
        "product": product,
        "sections": sections,
        "can_update": permissions.can_update_product(request.user, product),
        "can_delete": permissions.can_delete_product(request.user, product),
        "health": health_summary([product.pk]).get(product.pk, []),
    }
    return render(request, "products/product_detail.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def product_settings(request: HttpRequest, name: str) -> HttpResponse:
    product = visible_product(request, name)
    if not permissions.can_update_product(request.user, product):
        raise PermissionDenied("Changing a product needs the Maintainer role in its group.")
    initial = {
        "name": product.name,
        "display_name": product.display_name,
        "description": product.description,
        "visibility": product.visibility,
    }
    form = ProductSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.product_save(
                name=product.name,
                display_name=data["display_name"] or product.name,
                path=product.name,
                visibility=data["visibility"],
                description=data["description"],
                actor=request.user,
            )
        except NautesError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Saved product {product.name}.")
            return redirect("product", name=product.name)
    return render(request, "products/product_settings.html", {"product": product, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def product_delete(request: HttpRequest, name: str) -> HttpResponse:
    product = visible_product(request, name)
    if not permissions.can_delete_product(request.user, product):
        raise PermissionDenied("Deleting a product needs the Owner role in its group.")
    remaining = [
        (ui, ui.api.model.objects.filter(product=product).count()) for ui in KIND_UIS.values()
    ]
    remaining = [(ui, count) for ui, count in remaining if count]
    form = DeleteConfirmForm(request.POST or None, expected=product.name)
    if request.method == "POST" and not remaining and form.is_valid():
        try:
            services.product_delete(product=product, actor=request.user, host=git_host())
        except NautesError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Deleted product {name} and its Git group.")
            return redirect("home")
    context = {"product": product, "form": form, "remaining": remaining}
    return render(request, "products/product_delete.html", context)
