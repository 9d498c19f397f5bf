"""Reading one spec with the expected types (`_Static`), recording every deviation as a
message: the tool of every kind's static check."""

from __future__ import annotations

from typing import Any

from products.rules.common import _show, dns_problem
from products.rules.messages import EMPTY_ITEM, NOT_ONE_OF, REQUIRED, TOO_FEW, WRONG_TYPE


class _Static:
    """Reads one spec with the expected types, recording every deviation as a message."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def wrong(self, field: str, expected: str) -> None:
        self.add(WRONG_TYPE.format(field=field, expected=expected))

    def text(
        self, data: dict[str, Any], key: str, field: str, *, needed: bool = False, dns: str = ""
    ) -> str:
        """A string field ("" when absent or wrong); `dns` is "subdomain" or "label"."""
        value = data.get(key)
        if value is None or value == "":
            if needed:
                self.add(REQUIRED.format(field=field))
            return ""
        if not isinstance(value, str):
            self.wrong(field, "a string")
            return ""
        if problem := dns_problem(field, value, dns):
            self.add(problem)
        return value

    def choice(self, data: dict[str, Any], key: str, field: str, allowed: tuple[str, ...]) -> None:
        """An enum field; absent or empty is not one of the allowed values either."""
        raw = data.get(key)
        if raw is not None and not isinstance(raw, str):
            self.wrong(field, "a string")
        elif (raw or "") not in allowed:
            self.add(
                NOT_ONE_OF.format(field=field, allowed=", ".join(allowed), value=_show(raw or ""))
            )

    def mapping(
        self, data: dict[str, Any], key: str, field: str, *, needed: bool = False
    ) -> dict[str, Any] | None:
        """An object field; None when absent (reported when needed) or of the wrong type."""
        value = data.get(key)
        if value is None and needed:
            self.add(REQUIRED.format(field=field))
        elif value is not None and not isinstance(value, dict):
            self.wrong(field, "an object")
        return value if isinstance(value, dict) else None

    def items(self, data: dict[str, Any], key: str, field: str, *, min_items: int = 0) -> list[Any]:
        """A list field ([] when absent or wrong), with upstream's min_items rule."""
        value = data.get(key)
        if value is not None and not isinstance(value, list):
            self.wrong(field, "a list")
            return []
        value = value or []
        if len(value) < min_items:
            self.add(TOO_FEW.format(field=field, count=min_items))
        return value

    def objects(
        self, data: dict[str, Any], key: str, field: str, *, min_items: int = 0
    ) -> list[tuple[str, dict[str, Any]]]:
        """A list of objects, each with its field path; wrong items are reported and skipped."""
        result = []
        for index, item in enumerate(self.items(data, key, field, min_items=min_items)):
            if isinstance(item, dict):
                result.append((f"{field}[{index}]", item))
            else:
                self.wrong(f"{field}[{index}]", "an object")
        return result

    def strings(self, data: dict[str, Any], key: str, field: str, *, dns: str = "") -> None:
        """A list of non-empty strings."""
        for index, item in enumerate(self.items(data, key, field)):
            path = f"{field}[{index}]"
            if not isinstance(item, str):
                self.wrong(path, "a string")
            elif item == "":
                self.add(EMPTY_ITEM.format(field=path))
            elif problem := dns_problem(path, item, dns):
                self.add(problem)

    def flag(self, data: dict[str, Any], key: str, field: str) -> None:
        if data.get(key) is not None and not isinstance(data.get(key), bool):
            self.wrong(field, "true or false")

    def string_map(self, data: dict[str, Any], key: str, field: str) -> None:
        value = self.mapping(data, key, field)
        if value and not all(isinstance(v, str) for v in value.values()):
            self.wrong(field, "a map of strings")
