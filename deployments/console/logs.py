"""A pod's log, read live for a runtime's readers: only pods of the runtime's tree.

A pod is found by name in the runtime's namespaces (one GET per namespace until found). In a
namespace the runtime owns, any pod is its own; in a shared component namespace only a pod the
Application manages, or one owned (through ReplicaSets, Jobs...) by what it manages. Anything
else, wherever it may exist, is 404: a guessed name never reads another product's log.

The log is the users' own output: returned to the caller, never stored, never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from deployments.console.kinds import api_group, known_kind
from deployments.console.pods import PodInfo, pod_info
from deployments.console.scope import Console
from nautes_portal.errors import NotFound, RuleViolation

Obj = dict[str, Any]

DEFAULT_TAIL_LINES = 500
MAX_TAIL_LINES = 5000
# What one reply may carry: 5,000 long lines are well under it; a flood of huge ones is cut.
MAX_LOG_BYTES = 4 * 1024 * 1024
TAIL_RULE = f"tail_lines must be a whole number from 1 to {MAX_TAIL_LINES}"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
_POD_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_WAITING_TO_START = ("ContainerCreating", "PodInitializing")
_OWNER_DEPTH = 4  # Pod → ReplicaSet → Deployment (→ a managing custom resource)


@dataclass(frozen=True)
class PodLog:
    """The text of one container's log and what was read."""

    namespace: str
    pod: str
    container: str
    containers: tuple[str, ...]  # every container of the pod, init containers first
    previous: bool
    tail_lines: int
    text: str
    truncated: bool  # cut at MAX_LOG_BYTES
    note: str = ""  # why there is no text (a container waiting to start)


def tail_lines_from(raw: str | None) -> int:
    """The number of lines asked for: DEFAULT_TAIL_LINES when absent, else 1..MAX (400)."""
    if raw is None or raw == "":
        return DEFAULT_TAIL_LINES
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TAIL_LINES:
        raise RuleViolation(TAIL_RULE)
    return int(raw)


def pod_logs(
    console: Console,
    pod: str,
    *,
    container: str = "",
    tail_lines: int = DEFAULT_TAIL_LINES,
    previous: bool = False,
    namespace: str = "",
) -> PodLog:
    """The last `tail_lines` lines of a container of a pod of the runtime (of its previous run
    with `previous`); the container defaults to the pod's default container (its
    `kubectl.kubernetes.io/default-container` annotation, else its first)."""
    if not 1 <= tail_lines <= MAX_TAIL_LINES:
        raise RuleViolation(TAIL_RULE)
    obj = find_pod(console, pod, namespace=namespace)
    found_ns = str(obj["metadata"]["namespace"])
    info = pod_info(obj)
    names = tuple(info.container_names())
    chosen = container or _default_container(obj, info)
    if chosen not in names:
        raise RuleViolation(
            f"container {chosen or '(none)'} is not a container of pod {pod}; choose one of: "
            + ", ".join(names)
        )
    state = next(c for c in info.containers if c.name == chosen)
    if previous and not state.restarts and not state.last_termination_reason:
        raise RuleViolation(
            f"container {chosen} of pod {pod} has not restarted: it has no previous run to show "
            "(previous=true reads the run before the last restart)"
        )
    if not previous and state.state == "waiting" and state.reason in _WAITING_TO_START:
        note = f"container {chosen} is waiting to start ({state.reason}): no log yet"
        return PodLog(found_ns, pod, chosen, names, previous, tail_lines, "", False, note=note)
    text = console.client.pod_log(
        found_ns,
        pod,
        container=chosen,
        tail_lines=tail_lines,
        previous=previous,
        limit_bytes=MAX_LOG_BYTES,
    )
    truncated = len(text.encode()) >= MAX_LOG_BYTES
    return PodLog(found_ns, pod, chosen, names, previous, tail_lines, text, truncated)


def find_pod(console: Console, pod: str, *, namespace: str = "") -> Obj:
    """The live pod of that name in the runtime's tree, or 404 (one message for every miss)."""
    missing = NotFound(f"pod {pod} is not a pod of runtime {console.name}", reason="POD_NOT_FOUND")
    namespaces = console.namespaces()
    if not _POD_NAME.match(pod) or (namespace and namespace not in namespaces):
        raise missing
    for ns in [namespace] if namespace else list(namespaces):
        obj = console.client.get_object("", "v1", "pods", ns, pod)
        if obj is None:
            continue
        if console.owns(ns) or _managed_ancestor(console, obj):
            return obj
    raise missing


def _managed_ancestor(console: Console, obj: Obj) -> bool:
    """Whether the Application manages `obj` or an owner up its chain (a few GETs at most)."""
    managed = {
        (str(r.get("group") or ""), str(r.get("kind") or ""), str(r.get("namespace") or ""),
         str(r.get("name") or ""))
        for r in console.managed()
    }  # fmt: skip
    current: Obj | None = obj
    for _ in range(_OWNER_DEPTH):
        if current is None:
            return False
        meta = current.get("metadata") or {}
        namespace = str(meta.get("namespace") or "")
        group = api_group(str(current.get("apiVersion") or ""))
        if (
            group,
            str(current.get("kind") or ""),
            namespace,
            str(meta.get("name") or ""),
        ) in managed:
            return True
        refs = [r for r in meta.get("ownerReferences") or [] if r.get("controller")]
        if not refs:
            return False
        ref = refs[0]
        owner_group = api_group(str(ref.get("apiVersion") or ""))
        owner_kind = str(ref.get("kind") or "")
        if (owner_group, owner_kind, namespace, str(ref.get("name") or "")) in managed:
            return True
        kind = known_kind(owner_group, owner_kind)
        if kind is None:
            return False
        current = console.client.get_object(
            kind.group, kind.version, kind.plural, namespace, str(ref.get("name") or "")
        )
        if current is not None and (current.get("metadata") or {}).get("uid") != ref.get("uid"):
            return False  # a new object of the same name: not this pod's owner
    return False


def _default_container(obj: Obj, info: PodInfo) -> str:
    annotated = ((obj.get("metadata") or {}).get("annotations") or {}).get(
        DEFAULT_CONTAINER_ANNOTATION
    )
    main = info.container_names(init=False)
    if annotated in main:
        return str(annotated)
    return main[0] if main else ""
