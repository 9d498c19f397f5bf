"""Bounded input: every document read from Git or sent by a user has a size, a depth and no aliases.

One place for the limits and the two readers that apply them:

* `load_yaml_bounded` for YAML read from Git (sync, import, history), the forms' YAML textareas,
  kubeconfigs and cluster files: anchors/aliases are refused (Nautes never writes them, and they
  are how a 570-byte file expands to gigabytes), a file over `MAX_YAML_BYTES` is refused before
  parsing, nesting deeper than `MAX_DEPTH` is refused while the event stream is read (before any
  recursive construction), and the result must be plain JSON data (what the index stores).
* `BoundedJSONParser` for the DRF API, `read_bounded` + `parse_json_bounded` for the webhook: a
  body over `MAX_BODY_BYTES` answers 413 (the declared Content-Length and the bytes actually read
  are both counted), nesting deeper than `MAX_DEPTH` answers 400 — never a RecursionError, a 500.

Length caps of names and free-text fields are the constants below; the serializers use them.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Mapping
from typing import IO, Any, Protocol

import yaml
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from nautes_portal.errors import NautesError, RuleViolation

MAX_YAML_BYTES = 256 * 1024  # one manifest, kubeconfig or form textarea
MAX_BODY_BYTES = 1024 * 1024  # one API request or webhook body
MAX_DEPTH = 64  # nesting of mappings and lists in any document

LABEL_MAX = 63  # RFC 1123 label: products, code repositories, namespaces
NAME_MAX = 253  # RFC 1123 subdomain: every other resource name and reference
GIT_NAME_MAX = 255  # GitLab's limit for a group or project name and path
TEXT_MAX = 255  # short free text: language, revisions, branch, environment type, timezone
DESCRIPTION_MAX = 2000  # GitLab's limit for a group or project description
PATH_MAX = 1024  # a file path inside a repository
URL_MAX = 2048
ITEMS_MAX = 1000  # entries of any list in a request body
AUDIT_DIFF_MAX = 1024 * 1024  # characters of the diff one audit event keeps

ALIAS_RULE = "YAML anchors and aliases are not allowed (Nautes never writes them)"


class InputTooLarge(NautesError):
    """A request body over the size limit: 413."""

    status = 413
    reason = "REQUEST_ENTITY_TOO_LARGE"


class InputRefused(RuleViolation):
    """A document breaks an input limit (size, depth, aliases, non-JSON values): 400."""


def too_large_message(limit: int, what: str) -> str:
    return f"{what} is larger than the limit of {limit} bytes"


def too_deep_message(what: str) -> str:
    return f"{what} is nested deeper than the limit of {MAX_DEPTH} levels"


# ---- YAML ------------------------------------------------------------------------------

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _JsonLikeLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader without implicit timestamps: `2024-01-01` stays a string, as it does in
    upstream (sigs.k8s.io/yaml reads YAML as JSON), and the index can store it."""


_JsonLikeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def _check_events(text: str | bytes, what: str) -> None:
    """Walk the event stream (libyaml, no recursion): refuse anchors, aliases and deep nesting."""
    depth = 0
    for event in yaml.parse(text, Loader=_JsonLikeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise InputRefused(f"{what}: {ALIAS_RULE}")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputRefused(too_deep_message(what))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def check_plain_data(value: Any, what: str) -> None:
    """Refuse values JSON (and so the index) cannot hold, and nesting over `MAX_DEPTH`.

    Iterative, so a deep document cannot exhaust the stack.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise InputRefused(too_deep_message(what))
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
            if isinstance(item, dict) and not all(
                isinstance(key, str | int | float | bool) or key is None for key in item
            ):
                raise InputRefused(f"{what}: mapping keys must be strings")
        elif isinstance(item, float) and not math.isfinite(item):
            raise InputRefused(f"{what}: numbers must be finite (no .nan or .inf)")
        elif not (item is None or isinstance(item, str | int | float | bool)):
            raise InputRefused(
                f"{what}: a value of type {type(item).__name__} is not allowed "
                "(documents hold strings, numbers, booleans, lists and mappings only)"
            )


def load_yaml_bounded(text: str | bytes, *, what: str = "the YAML document") -> Any:
    """`yaml.safe_load` with the input limits; syntax errors stay `yaml.YAMLError`.

    Raises `InputRefused` (a `RuleViolation`, 400) naming the limit that was broken.
    """
    size = len(text.encode("utf-8", errors="surrogatepass")) if isinstance(text, str) else len(text)
    if size > MAX_YAML_BYTES:
        raise InputRefused(too_large_message(MAX_YAML_BYTES, what))
    _check_events(text, what)
    try:
        document = yaml.load(text, Loader=_JsonLikeLoader)  # noqa: S506 - a safe loader
    except (ValueError, OverflowError) as exc:  # e.g. an integer over Python's digit limit
        raise yaml.YAMLError(f"a value cannot be read ({exc.__class__.__name__})") from None
    check_plain_data(document, what)
    return document


def bounded_diff(diff: str) -> str:
    """A diff cut at `AUDIT_DIFF_MAX` characters (a push may change many files; Git has all)."""
    if len(diff) <= AUDIT_DIFF_MAX:
        return diff
    note = f"\n[diff cut at {AUDIT_DIFF_MAX} characters; Git has the rest]\n"
    return diff[:AUDIT_DIFF_MAX] + note


# ---- Lengths ---------------------------------------------------------------------------


def check_lengths(
    body: Any, *, default: int = URL_MAX, caps: Mapping[str, int] | None = None
) -> None:
    """Refuse any string longer than its cap (by top-level field, else `default`), any list or
    mapping of more than `ITEMS_MAX` entries and any key longer than `NAME_MAX`.

    For bodies without a serializer (clusters); the message names the field and the limit.
    """
    caps = caps or {}
    problems: list[str] = []
    stack: list[tuple[str, Any, int]] = [("", body, default)]
    while stack and len(problems) < 10:
        where, value, cap = stack.pop()
        if isinstance(value, str):
            if len(value) > cap:
                problems.append(f"{where}: Ensure this field has no more than {cap} characters.")
        elif isinstance(value, dict | list):
            if len(value) > ITEMS_MAX:
                problems.append(f"{where or 'the body'}: at most {ITEMS_MAX} entries")
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and len(key) > NAME_MAX:
                    problems.append(f"{where}: keys have at most {NAME_MAX} characters")
                    break
                child = f"{where}.{key}" if where else str(key)
                stack.append((child, item, caps.get(child, cap) if not where else cap))
    if problems:
        raise RuleViolation("; ".join(sorted(problems)), metadata={"problems": sorted(problems)})


# ---- JSON bodies -----------------------------------------------------------------------


class Readable(Protocol):
    """A request body: a file, or the request itself (Django's HttpRequest reads its body)."""

    def read(self, size: int = ..., /) -> bytes: ...


def read_bounded(stream: Readable, declared_length: Any, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read a request body, refusing one over `limit` bytes (declared or actually sent)."""
    try:
        declared = int(declared_length or 0)
    except (TypeError, ValueError):
        declared = 0
    if declared > limit:
        raise InputTooLarge(too_large_message(limit, "the request body"))
    raw = stream.read(limit + 1)
    if len(raw) > limit:  # a chunked body, or one longer than it declared
        raise InputTooLarge(too_large_message(limit, "the request body"))
    return raw


def parse_json_bounded(raw: bytes, *, encoding: str = "utf-8") -> Any:
    """Parse a JSON body: ParseError for bad JSON, InputRefused for nesting over `MAX_DEPTH`."""
    try:
        text = codecs.decode(raw, encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(f"JSON parse error - {exc.__class__.__name__}") from None
    try:
        data = json.loads(text, parse_constant=_strict_constant)
    except RecursionError:
        raise InputRefused(too_deep_message("the request body")) from None
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
    check_plain_data(data, "the request body")
    return data


def _strict_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON value")


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the body limits (Django's own upload limit does not cover DRF)."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        context = parser_context or {}
        request = context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        raw = read_bounded(stream, declared)
        return parse_json_bounded(raw, encoding=context.get("encoding") or "utf-8")
