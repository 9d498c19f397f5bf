"""Helpers of the product pages: the product and resource kind a URL names, table cells."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from nautes_portal import permissions
from products.forms.kinds import KIND_UIS, KindUi
from products.models import CodeRepo, Product, ProductResource


def visible_product(request: HttpRequest, name: str) -> Product:
    """The product, or 404 when it does not exist or the user may not read it."""
    product = permissions.visible_product(request.user, name)
    if product is None:
        raise Http404("No such product.")
    return product


def kind_ui(collection: str) -> KindUi:
    ui = KIND_UIS.get(collection)
    if ui is None:
        raise Http404("No such kind of resource.")
    return ui


def cell(value: Any) -> str:
    """A table cell: lists joined, empty values as a dash."""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value not in (None, "") else "—"


REPO_ID_COLUMNS = frozenset({"code_repo", "manifest_code_repo"})


def repo_names_of(product: Product, ui: KindUi, rows: list[ProductResource]) -> dict[str, str]:
    """Repository names of the ids shown in `rows` (one query, only for the rows shown)."""
    ids = {getattr(row, attr) for row in rows for _, attr in ui.columns if attr in REPO_ID_COLUMNS}
    if not ids:
        return {}
    return dict(
        CodeRepo.objects.filter(product=product, name__in=ids).values_list("name", "repo_name")
    )


def row_cells(ui: KindUi, row: ProductResource, names: dict[str, str]) -> list[str]:
    """A row's table cells; repository ids (`repo-<pid>`) are shown by repository name."""
    cells = []
    for _, attr in ui.columns:
        value = getattr(row, attr)
        cells.append(cell(names.get(value, value) if attr in REPO_ID_COLUMNS else value))
    return cells
