"""Kubeconfig handling for physical cluster registration (pure, no I/O).

Upstream accepts raw YAML or base64 (auto-detected), requires at least one cluster and one user
and overwrites `clusters[0].cluster.server` with the cluster's `api_server`
(`service/cluster.go` `convertKubeconfig`, `biz/cluster.go:362-406`).

The portal goes further (security rule, #12): a Kubernetes client follows `current-context`, not
`clusters[0]`, so rewriting the first entry alone let a context send the credentials to a server
the portal never shows (and past the https rule). Registration keeps exactly one context — the
one `current-context` names, or the only one — with its cluster and its user, sets that
cluster's server to `api_server` and `current-context` to it. Only this minified kubeconfig is
stored in Vault and used by clients; the other entries (and their credentials) are dropped.

A kubeconfig holds credentials: no message raised here ever quotes its content, and PyYAML's
own errors (which quote the offending line) are never passed on.
"""

from __future__ import annotations

import base64
import binascii
import copy
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
# The one-context rule's messages: they say what the rule is and never quote the file.
_ONE_CONTEXT = "the portal keeps exactly one context, its cluster and its user"
AMBIGUOUS_CONTEXT_MESSAGE = (
    f"invalid kubeconfig: {_ONE_CONTEXT}; it has several contexts and no current-context, so set "
    "current-context to the one the portal should use"
)
MISSING_CONTEXT_MESSAGE = (
    f"invalid kubeconfig: {_ONE_CONTEXT}; current-context names a context that is not in the file"
)

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


def _entries(doc: dict[str, Any], section: str) -> list[Any]:
    entries = doc.get(section)
    return entries if isinstance(entries, list) else []


def _named(doc: dict[str, Any], section: str, name: Any, what: str) -> dict[str, Any]:
    """The one entry of `section` called `name`; refused when absent, repeated or malformed."""
    found = [e for e in _entries(doc, section) if isinstance(e, dict) and e.get("name") == name]
    if not isinstance(name, str) or not name or not found:
        raise RuleViolation(
            f"invalid kubeconfig: {_ONE_CONTEXT}; the selected context names a {what} that is "
            "not in the file"
        )
    if len(found) > 1:
        # Which one a client takes is the client's choice: refuse rather than guess.
        raise RuleViolation(
            f"invalid kubeconfig: {_ONE_CONTEXT}; the selected context's {what} name is used by "
            f"more than one {what} entry"
        )
    return found[0]


def _selected_context(doc: dict[str, Any]) -> dict[str, Any]:
    """The context a client would use: `current-context`'s, or the only one.

    A file with no context but exactly one cluster and one user (upstream accepts those) gets a
    context joining them, so that there is never a choice left to the client.
    """
    contexts = [e for e in _entries(doc, "contexts") if isinstance(e, dict)]
    current = doc.get("current-context")
    if current not in (None, ""):
        found = [e for e in contexts if e.get("name") == current]
        if not found:
            raise RuleViolation(MISSING_CONTEXT_MESSAGE)
        if len(found) > 1:
            raise RuleViolation(
                f"invalid kubeconfig: {_ONE_CONTEXT}; current-context names more than one "
                "context entry"
            )
        return found[0]
    if len(contexts) == 1:
        return contexts[0]
    if contexts:
        raise RuleViolation(AMBIGUOUS_CONTEXT_MESSAGE)
    clusters, users = _entries(doc, "clusters"), _entries(doc, "users")
    if len(clusters) != 1 or len(users) != 1 or not isinstance(users[0], dict):
        raise RuleViolation(
            f"invalid kubeconfig: {_ONE_CONTEXT}; it has no context and more than one cluster "
            "or user, so add a context and set current-context to it"
        )
    cluster_name, user_name = clusters[0].get("name"), users[0].get("name")
    if not isinstance(cluster_name, str) or not cluster_name:
        cluster_name = clusters[0]["name"] = "cluster"
    if not isinstance(user_name, str) or not user_name:
        user_name = users[0]["name"] = "user"
    return {"name": cluster_name, "context": {"cluster": cluster_name, "user": user_name}}


def minify_kubeconfig(doc: dict[str, Any], *, api_server: str) -> dict[str, Any]:
    """Keep one context, its cluster and its user; the cluster's server becomes `api_server`.

    `doc` is a parsed kubeconfig (`parse_kubeconfig`); it is not modified. Raises
    `RuleViolation` naming the one-context rule when the context to keep is ambiguous or names
    an entry that is not in the file.
    """
    doc = copy.deepcopy(doc)
    context = _selected_context(doc)
    name = context.get("name")
    body = context.get("context")
    if not isinstance(name, str) or not name or not isinstance(body, dict):
        raise RuleViolation(
            f"invalid kubeconfig: {_ONE_CONTEXT}; the selected context entry is malformed"
        )
    cluster_entry = _named(doc, "clusters", body.get("cluster"), "cluster")
    user_entry = _named(doc, "users", body.get("user"), "user")
    cluster = cluster_entry.get("cluster")
    if cluster is None:
        # An entry without a `cluster` block still names a cluster; give it one.
        cluster = cluster_entry["cluster"] = {}
    if not isinstance(cluster, dict):
        raise RuleViolation(
            f"invalid kubeconfig: {_ONE_CONTEXT}; the selected cluster entry is malformed"
        )
    cluster["server"] = api_server
    if "proxy-url" in cluster:
        # A proxy would receive every request and its credentials: not the address shown.
        raise RuleViolation(
            f"invalid kubeconfig: {_ONE_CONTEXT}; its cluster's proxy-url is not supported (the "
            "portal talks to api_server directly)"
        )
    if not isinstance(user_entry.get("user", {}), dict):
        raise RuleViolation(
            f"invalid kubeconfig: {_ONE_CONTEXT}; the selected user entry is malformed"
        )
    return {
        "apiVersion": doc.get("apiVersion") or "v1",
        "kind": doc.get("kind") or "Config",
        "clusters": [cluster_entry],
        "users": [user_entry],
        "contexts": [{"name": name, "context": body}],
        "current-context": name,
    }


def normalize_kubeconfig(raw: str, *, api_server: str) -> str:
    """Return the minified kubeconfig (`minify_kubeconfig`) as YAML text.

    Accepts raw YAML or base64-encoded YAML. Raises `RuleViolation` (never quoting the input)
    when it cannot be read, lacks a cluster or a user, or breaks the one-context rule.
    """
    doc = minify_kubeconfig(parse_kubeconfig(raw), api_server=api_server)
    # Keep the author's key order inside entries: this file is read by humans in Vault.
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True)


def kubeconfig_summary(text: str) -> dict[str, Any]:
    """Non-secret facts about a kubeconfig, for display: the server of the cluster that would be
    kept (`minify_kubeconfig`) and the file's entry counts.

    Never includes names, certificates or tokens. Raises `RuleViolation` like `parse_kubeconfig`.
    """
    doc = parse_kubeconfig(text)
    body = _selected_context(doc).get("context") or {}
    cluster = _named(doc, "clusters", body.get("cluster"), "cluster").get("cluster")
    server = cluster.get("server") if isinstance(cluster, dict) else None
    contexts = doc.get("contexts")
    return {
        "server": server if isinstance(server, str) else "",
        "clusters": len(doc["clusters"]),
        "users": len(doc["users"]),
        "contexts": len(contexts) if isinstance(contexts, list) else 0,
    }
