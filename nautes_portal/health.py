"""Liveness and readiness probes for Kubernetes and load balancers."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from nautes_portal.errors import NautesError
from nautes_portal.integrations.vault import secret_store

# A probe must answer well within the orchestrator's timeout (5 s in deploy/kubernetes): a KV
# engine still upgrading after this long makes the answer "not ready" rather than a slow "ready".
ENGINE_WAIT_SECONDS = 1.0


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the secret store answer (every Nautes engine accepts reads); 503 names
    what does not."""
    problems: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any database failure means "not ready"
        problems["database"] = f"the database does not answer ({exc.__class__.__name__})"
    try:
        secret_store().check_ready(wait=ENGINE_WAIT_SECONDS)
    except NautesError as exc:
        problems["vault"] = exc.message
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ready"})
