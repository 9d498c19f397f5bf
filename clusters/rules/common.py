"""What every cluster rule shares: the upstream message prefixes, the allowed kinds, types and
usages, the name pattern, `ClusterInput`, and small helpers to show values and raise problems."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nautes_portal.errors import RuleViolation

SAVE_PREFIX = "failed to validate save request, err: "
CONSTRUCT_PREFIX = "failed to construct cluster, err: "
VALIDATE_PREFIX = "failed to validate cluster, err: "

CLUSTER_KINDS: tuple[str, ...] = ("kubernetes",)
CLUSTER_TYPES: tuple[str, ...] = ("physical", "virtual")
USAGES: tuple[str, ...] = ("host", "worker")
WORKER_TYPES: tuple[str, ...] = ("pipeline", "deployment")

# A cluster name becomes a file name, an Argo CD cluster name and a Vault path segment.
NAME_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
NAME_MAX_LENGTH = 63
# Kubernetes namespaces are DNS-1123 labels too.
NAMESPACE_PATTERN = NAME_PATTERN
_MAX_SHOWN = 200


@dataclass
class ClusterInput:
    """A cluster as the portal is asked to save it.

    `spec` is the CRD spec (camelCase). `kubeconfig` is the raw upload (YAML or base64) and
    never goes into the spec. `vcluster_https_node_port` is None when not applicable (physical
    clusters, specs read from Git) and "" when a virtual cluster has none.
    """

    name: str
    spec: dict[str, Any] = field(default_factory=dict)
    kubeconfig: str | None = None
    vcluster_https_node_port: str | None = None


def _show(value: object) -> str:
    """A user value for a message, cut short so a huge input cannot bloat the error."""
    text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


def _dedupe(messages: Iterable[str]) -> list[str]:
    """Drop repeated messages, keeping the first occurrence's position."""
    return list(dict.fromkeys(messages))


def _raise_if(problems: list[str]) -> None:
    """Raise one RuleViolation listing every problem, if there are any."""
    if problems:
        raise RuleViolation("; ".join(_dedupe(problems)))


def _spec_str(spec: Mapping[str, Any], key: str) -> str:
    """A scalar spec field as a string ("" when absent or of the wrong type)."""
    value = spec.get(key)
    return value if isinstance(value, str) else ""


def _text(value: Any) -> str | None:
    """A JSON string, or a JSON integer written as a string; None for anything else.

    Upstream's protojson would refuse numbers for string fields; accepting `30080` for a node
    port is friendlier and unambiguous. Booleans are not numbers here.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _string_field(body: Mapping[str, Any], key: str, problems: list[str]) -> str:
    """A string body field; missing/null gives ""."""
    value = body.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    problems.append(f"the value of {key} must be a string")
    return ""
