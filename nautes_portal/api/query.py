"""Shared pieces of the `/api/v1` views: query flags and upstream's `field_selector`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rest_framework.request import Request

from nautes_portal.errors import RuleViolation

TRUE_VALUES = ("true", "1", "yes")


def insecure_skip_check(request: Request) -> bool:
    """Upstream accepts the proto name and the JSON name of the flag."""
    raw = request.query_params.get("insecure_skip_check") or request.query_params.get(
        "insecureSkipCheck", ""
    )
    return raw.lower() in TRUE_VALUES


@dataclass(frozen=True)
class Selector:
    """One field of a list endpoint's `field_selector`: how to read it and how to compare."""

    getter: Callable[[dict[str, Any]], Any]
    exact: bool  # upstream "Eq"; otherwise "In" (substring, or any element for lists)


def _matches(value: Any, wanted: str, exact: bool) -> bool:
    if isinstance(value, list | tuple):
        return any(_matches(item, wanted, exact) for item in value)
    if isinstance(value, bool):
        return str(value).lower() == wanted.lower()
    text = "" if value is None else str(value)
    return text == wanted if exact else wanted in text


def apply_field_selector(
    items: Iterable[dict[str, Any]], raw: str | None, selectors: dict[str, Selector]
) -> list[dict[str, Any]]:
    """Filter reply items by `field1=v1,field2!=v2` (all must hold), as upstream does."""
    items = list(items)
    if not raw:
        return items
    conditions: list[tuple[Selector, str, bool]] = []
    for part in raw.split(","):
        if not part.strip():
            continue
        if "!=" in part:
            field, value = part.split("!=", 1)
            negate, op = True, "!="
        elif "=" in part:
            field, value = part.split("=", 1)
            negate, op = False, "="
        else:
            raise RuleViolation(
                f"failed to get selector, the filter field {part} operator symbol  is not supported"
            )
        field = field.strip()
        if field not in selectors:
            raise RuleViolation(
                f"failed to get selector, the filter field {field} operator symbol {op} "
                "is not supported"
            )
        conditions.append((selectors[field], value.strip(), negate))
    return [
        item
        for item in items
        if all(
            _matches(sel.getter(item), value, sel.exact) != negate
            for sel, value, negate in conditions
        )
    ]
