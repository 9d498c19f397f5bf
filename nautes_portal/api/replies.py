"""Reply shapes and query parameters every endpoint shares, for the OpenAPI document: upstream's
`{"message": ...}` reply, the error body `{code, reason, message, metadata}` (`api/errors.py`
builds it) and the `{"items": [...]}` list shape."""

from __future__ import annotations

from typing import Protocol

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

MessageReply = inline_serializer("MessageReply", {"message": serializers.CharField()})
ErrorReply = inline_serializer(
    "ErrorReply",
    {
        "code": serializers.IntegerField(),
        "reason": serializers.CharField(),
        "message": serializers.CharField(),
        "metadata": serializers.DictField(),
    },
)
FIELD_SELECTOR = OpenApiParameter(
    "field_selector", str, description="Comma-separated `field=value` or `field!=value` filters."
)
SKIP_CHECK = OpenApiParameter(
    "insecure_skip_check", bool, description="Skip the product-wide (global) validation."
)
ERRORS = {code: OpenApiResponse(ErrorReply) for code in (400, 401, 403, 404, 409, 502, 503)}


def items_of(serializer: type[serializers.Serializer]) -> serializers.Serializer:
    """The upstream list shape: `{"items": [...]}`."""
    name = serializer.__name__.replace("Reply", "ListReply")
    return type(name, (serializers.Serializer,), {"items": serializer(many=True)})()


class Outcome(Protocol):
    """What a save or delete service answers besides its result: a warning, or ""."""

    @property
    def warning(self) -> str: ...


def message_reply(message: str, outcome: Outcome) -> Response:
    """Upstream's `{"message"}`, with a provisioning warning appended as upstream does."""
    return Response({"message": f"{message} {outcome.warning}".strip()})
