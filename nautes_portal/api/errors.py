"""One mapping from errors to upstream Nautes' error body `{code, reason, message, metadata}`."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from nautes_portal.errors import NautesError

logger = logging.getLogger(__name__)


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """Turn DRF's nested error detail into 'field: message' lines."""
    if isinstance(detail, dict):
        lines: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            lines += _flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _flatten(item, prefix)]
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def error_response(status: int, reason: str, message: str, metadata: Any = None) -> Response:
    return Response(
        {"code": status, "reason": reason, "message": message, "metadata": metadata or {}},
        status=status,
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every refusal in the upstream shape; unexpected errors become a logged 500."""
    if isinstance(exc, NautesError):
        if exc.status >= 500:
            logger.warning("upstream failure: %s", exc.message)
        return error_response(exc.status, exc.reason, exc.message, exc.metadata)
    if isinstance(exc, DjangoValidationError):
        return error_response(400, "VALIDATOR", "; ".join(exc.messages))
    if isinstance(exc, drf.ValidationError):
        return error_response(400, "VALIDATOR", "; ".join(_flatten(exc.detail)))
    if isinstance(exc, drf.ParseError):
        return error_response(400, "VALIDATOR", f"invalid request body: {exc.detail}")
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        refused = error_response(401, "UNAUTHENTICATED", str(exc.detail))
        refused["WWW-Authenticate"] = 'Bearer realm="api"'
        return refused
    if isinstance(exc, drf.PermissionDenied):
        return error_response(403, "NO_AUTHORIZATION", str(exc.detail))
    if isinstance(exc, Http404 | drf.NotFound):
        return error_response(404, "RESOURCE_NOT_FOUND", "the resource is not found")
    if isinstance(exc, drf.APIException):
        response = drf_exception_handler(exc, context)
        status = response.status_code if response is not None else 500
        return error_response(status, exc.default_code.upper(), str(exc.detail))
    return None
