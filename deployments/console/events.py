"""Events of a runtime's namespaces, or of one object in them, newest first, read live.

One LIST of core v1 `events` per namespace, with `involvedObject.kind`/`involvedObject.name`
field selectors when one object is asked for. In a shared component namespace only events about
objects of the runtime's tree are kept (the rest concern other tenants of that namespace).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from deployments.console.kinds import api_group, node_id
from deployments.console.scope import Console
from deployments.console.tree import resource_tree
from nautes_portal.errors import NotFound, RuleViolation

Obj = dict[str, Any]

MAX_EVENTS = 500
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]{0,62}$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.:]{0,251}[a-z0-9])?$")
KIND_RULE = (
    "kind must be a Kubernetes kind such as Deployment or Pod (a capital letter, then letters "
    "or digits, at most 63)"
)
NAME_RULE = (
    "name must be a Kubernetes object name (lowercase letters, digits, '-', '.' or ':', at "
    "most 253, starting and ending with a letter or digit)"
)
PAIR_RULE = "kind and name go together: give both to read one object's events, or neither"


@dataclass(frozen=True)
class EventRow:
    """One Event, as the console shows it."""

    namespace: str
    type: str  # Normal or Warning
    warning: bool
    reason: str
    message: str
    kind: str  # of the object it is about
    name: str
    object_id: str  # that object's tree node id
    count: int
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    source: str


@dataclass(frozen=True)
class EventReading:
    """The newest events (at most MAX_EVENTS) and how many there were."""

    events: tuple[EventRow, ...]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.events)


def check_object(kind: str, name: str) -> None:
    """Refuse an object filter that is incomplete or could not name an object (400)."""
    if bool(kind) != bool(name):
        raise RuleViolation(PAIR_RULE)
    if kind and not _KIND.match(kind):
        raise RuleViolation(KIND_RULE)
    if name and not _NAME.match(name):
        raise RuleViolation(NAME_RULE)


def runtime_events(
    console: Console, *, kind: str = "", name: str = "", namespace: str = ""
) -> EventReading:
    """Events of the runtime's namespaces (or of `namespace`, one of them), optionally only
    about the object `kind`/`name`, newest first."""
    check_object(kind, name)
    namespaces = console.namespaces()
    if namespace and namespace not in namespaces:
        raise NotFound(
            f"namespace {namespace} is not one of runtime {console.name}'s namespaces",
            reason="NAMESPACE_NOT_FOUND",
        )
    selector = f"involvedObject.kind={kind},involvedObject.name={name}" if kind else ""
    in_tree: set[str] | None = None
    rows: list[tuple[EventRow, int]] = []
    for ns in [namespace] if namespace else list(namespaces):
        events = console.client.list_objects("", "v1", "events", ns, field_selector=selector)
        found = [(_row(e, ns), _version(e)) for e in events]
        if ns in console.shared:
            if in_tree is None:
                in_tree = {n.id for n in resource_tree(console).nodes}
            found = [(row, version) for row, version in found if row.object_id in in_tree]
        rows.extend(found)
    rows.sort(key=_newest_first)
    return EventReading(events=tuple(row for row, _ in rows[:MAX_EVENTS]), total=len(rows))


def _row(event: Obj, namespace: str) -> EventRow:
    involved = event.get("involvedObject") or {}
    kind, name = str(involved.get("kind") or ""), str(involved.get("name") or "")
    group = api_group(str(involved.get("apiVersion") or ""))
    meta = event.get("metadata") or {}
    source = event.get("source") or {}
    kind_type = str(event.get("type") or "Normal")
    last = (
        _time(event.get("lastTimestamp"))
        or _time(event.get("eventTime"))
        or _time((event.get("series") or {}).get("lastObservedTime"))
        or _time(event.get("firstTimestamp"))
        or _time(meta.get("creationTimestamp"))
    )
    count = event.get("count")
    return EventRow(
        namespace=namespace,
        type=kind_type,
        warning=kind_type == "Warning",
        reason=str(event.get("reason") or ""),
        message=str(event.get("message") or "")[:2000],
        kind=kind,
        name=name,
        object_id=node_id(group, kind, str(involved.get("namespace") or namespace), name),
        count=count if isinstance(count, int) and count > 0 else 1,
        first_seen=_time(event.get("firstTimestamp")) or _time(event.get("eventTime")) or last,
        last_seen=last,
        source=str(source.get("component") or event.get("reportingComponent") or ""),
    )


def _newest_first(item: tuple[EventRow, int]) -> tuple[float, int]:
    """By when it was last seen, then (same second) by the order the cluster stored them."""
    row, version = item
    return (-(row.last_seen.timestamp() if row.last_seen else 0.0), -version)


def _version(event: Obj) -> int:
    version = str((event.get("metadata") or {}).get("resourceVersion") or "")
    return int(version) if version.isdigit() else 0


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
