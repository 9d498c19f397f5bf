"""htmx requests: which ones ask for a fragment instead of a whole page."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (every request of the portal)."""

    htmx: HtmxDetails


def htmx_partial(request: HttpRequest) -> bool:
    """An htmx request for a fragment (not a boosted page load)."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted
