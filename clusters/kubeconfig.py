"""Kubeconfig handling for physical cluster registration (pure, no I/O).

Upstream accepts raw YAML or base64 (auto-detected), requires at least one cluster and one user
and overwrites `clusters[0].cluster.server` with the cluster's `api_server`
(`service/cluster.go` `convertKubeconfig`, `biz/cluster.go:362-406`).

A kubeconfig holds credentials: no message raised here ever quotes its content, and PyYAML's
own errors (which quote the offending line) are never passed on.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import yaml

from nautes_portal.errors import RuleViolation
from nautes_portal.limits import load_yaml_bounded

# Upstream's text is "register physical cluster, kubeconfig is not empty" (sic); this says
# what the user has to do.
KUBECONFIG_REQUIRED_MESSAGE = "a kubeconfig is required to register a physical cluster"
NO_CLUSTER_MESSAGE = "invalid kubeconfig file: must have at least one cluster"
NO_USER_MESSAGE = "invalid kubeconfig file: must have at least one user"

# Real kubeconfigs are a few KiB; the cap keeps a hostile upload from costing much to parse.
MAX_KUBECONFIG_BYTES = 1024 * 1024

_BASE64_ALPHABET = re.compile(r"^[A-Za-z0-9+/=]+$")
_WHITESPACE = re.compile(r"\s+")


def looks_like_base64(text: str) -> bool:
    """Upstream's detection (`IsBase64Decoding`), ignoring whitespace.

    Whitespace is dropped first so that the wrapped output of `base64` (76 columns) is
    recognised too. A YAML kubeconfig always contains `:` and so never qualifies.
    """
    compact = _WHITESPACE.sub("", text)
    return bool(compact) and len(compact) % 4 == 0 and bool(_BASE64_ALPHABET.match(compact))


def decode_kubeconfig(raw: str) -> str:
    """Return the kubeconfig text, base64-decoding it when it looks like base64."""
    if len(raw.encode("utf-8", errors="replace")) > MAX_KUBECONFIG_BYTES:
        raise RuleViolation("invalid kubeconfig: it is larger than 1 MiB")
    if not looks_like_base64(raw):
        return raw
    try:
        decoded = base64.b64decode(_WHITESPACE.sub("", raw), validate=True)
        return decoded.decode("utf-8")
    except (binascii.Error, ValueError):
        # ValueError covers UnicodeDecodeError. Neither message is passed on: both can quote
        # bytes of the secret.
        raise RuleViolation(
            "invalid kubeconfig: it looks like base64 but does not decode to UTF-8 text"
        ) from None


def parse_kubeconfig(raw: str) -> dict[str, Any]:
    """Decode and parse a kubeconfig; check it has a cluster and a user."""
    if not isinstance(raw, str) or not raw.strip():
        raise RuleViolation(KUBECONFIG_REQUIRED_MESSAGE)
    text = decode_kubeconfig(raw)
    try:
        doc = load_yaml_bounded(text, what="the kubeconfig")  # limits: a RuleViolation
    except yaml.YAMLError:
        raise RuleViolation(
            "invalid kubeconfig: it is neither valid YAML nor base64-encoded YAML"
        ) from None
    if not isinstance(doc, dict):
        raise RuleViolation("invalid kubeconfig: it must be a YAML mapping (a kubeconfig file)")
    clusters = doc.get("clusters")
    if not isinstance(clusters, list) or not clusters:
        raise RuleViolation(NO_CLUSTER_MESSAGE)
    first = clusters[0]
    if not isinstance(first, dict) or not isinstance(first.get("cluster") or {}, dict):
        raise RuleViolation("invalid kubeconfig file: the first cluster entry is malformed")
    users = doc.get("users")
    if not isinstance(users, list) or not users:
        raise RuleViolation(NO_USER_MESSAGE)
    return doc


def normalize_kubeconfig(raw: str, *, api_server: str) -> str:
    """Return the kubeconfig as YAML text with `clusters[0].cluster.server` set to `api_server`.

    Accepts raw YAML or base64-encoded YAML. Raises `RuleViolation` (never quoting the input)
    when it cannot be read or lacks a cluster or a user.
    """
    doc = parse_kubeconfig(raw)
    first = doc["clusters"][0]
    cluster = first.get("cluster")
    if not isinstance(cluster, dict):
        # An entry without a `cluster` block still names a cluster; give it one.
        cluster = first["cluster"] = {}
    cluster["server"] = api_server
    # Keep the author's key order: this file is read by humans in Vault, not diffed in Git.
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True)


def kubeconfig_summary(text: str) -> dict[str, Any]:
    """Non-secret facts about a kubeconfig, for display: server and entry counts.

    Never includes names, certificates or tokens. Raises `RuleViolation` like `parse_kubeconfig`.
    """
    doc = parse_kubeconfig(text)
    cluster = doc["clusters"][0].get("cluster") or {}
    server = cluster.get("server")
    contexts = doc.get("contexts")
    return {
        "server": server if isinstance(server, str) else "",
        "clusters": len(doc["clusters"]),
        "users": len(doc["users"]),
        "contexts": len(contexts) if isinstance(contexts, list) else 0,
    }
