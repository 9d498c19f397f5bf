"""Middleware of the portal: security headers on every response, and the API's trailing slash."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Everything is served by the portal itself (closed networks, no CDN). htmx and Swagger UI are
# loaded as files; templates carry no inline script or style.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Add a content-security policy and related headers unless a view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


API_PREFIX = "/api/v1/"


class ApiTrailingSlashMiddleware:
    """Serve `/api/v1/<route>/` as `/api/v1/<route>`.

    Upstream's routes have no trailing slash, but the Nautes CLI lists with one
    (`GET /api/v1/clusters/`, `/api/v1/products/p/environments/`). A redirect would lose a
    POST body and a bearer token through some clients, so the path is read without the slash
    instead; the published schema keeps upstream's routes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(API_PREFIX) and len(path) > len(API_PREFIX) and path.endswith("/"):
            trimmed = path.rstrip("/")
            request.path = request.path[: len(request.path) - (len(path) - len(trimmed))]
            request.path_info = trimmed
        return self.get_response(request)
