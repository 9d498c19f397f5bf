"""Page sizes of the browser lists: one rule for every paginated page."""

from __future__ import annotations

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
