"""Newest-first cursor pages (`{"items", "next", "previous"}`) for the portal's own logs: the
audit log and the operations list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class NewestFirstPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50


def page_serializer(
    item: type[serializers.Serializer], name: str, doc: str
) -> type[serializers.Serializer]:
    """The OpenAPI shape of one page of `item`s (`<name>Serializer`, described by `doc`)."""
    fields: dict[str, Any] = {
        "__doc__": doc,
        "__module__": item.__module__,
        "items": item(many=True),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
    }
    return type(f"{name}Serializer", (serializers.Serializer,), fields)


def newest_first_page(
    rows: QuerySet[Any], item: type[serializers.Serializer], request: Request, view: APIView
) -> Response:
    """One page of `rows`, newest first, with the links to the next and previous pages."""
    paginator = NewestFirstPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return Response(
        {
            "items": item(page, many=True).data,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
        }
    )
