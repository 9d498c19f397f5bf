"""Page sizes and pages of the browser lists: one rule for every paginated page."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PAGE_SIZES = (25, 50, 100)


def page_size(request: HttpRequest) -> int:
    """`?per_page=` when it is one of PAGE_SIZES, else the smallest (an unknown size is ignored,
    not an error: the links that set it are the page's own)."""
    try:
        size = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


def paginate(request: HttpRequest, queryset: QuerySet[Any]) -> Page:
    """One page of `queryset`: a COUNT and a LIMIT/OFFSET query, whatever the table size."""
    return Paginator(queryset, page_size(request)).get_page(request.GET.get("page"))
