"""What callers get from GitLab: small frozen dataclasses (users, deploy keys, access tokens,
hooks, protected branches) and the mapping from GitLab's attributes to them and to the
`GitGroup`/`GitProject` of the `GitHost` interface."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nautes_portal.integrations.config_repo import GitGroup, GitProject

MAINTAINER = 40
# The `*_events` flags of a project hook.
HOOK_EVENTS = frozenset(
    (
        *("push_events", "tag_push_events", "merge_requests_events", "issues_events"),
        *("confidential_issues_events", "note_events", "confidential_note_events", "job_events"),
        *("pipeline_events", "wiki_page_events", "deployment_events", "releases_events"),
    )
)


@dataclass(frozen=True)
class GitLabUser:
    """The GitLab account behind a token."""

    id: int
    username: str
    name: str
    email: str


@dataclass(frozen=True)
class DeployKey:
    """A deploy key as enabled on one project."""

    id: int
    title: str
    key: str
    can_push: bool
    fingerprint_sha256: str | None


@dataclass(frozen=True)
class AccessToken:
    """A project access token (never its value)."""

    id: int
    name: str
    scopes: tuple[str, ...]
    access_level: int
    expires_at: dt.date | None
    active: bool


@dataclass(frozen=True)
class ProjectHook:
    """A project webhook; `events` lists the enabled `*_events` flags."""

    id: int
    url: str
    events: tuple[str, ...]
    enable_ssl_verification: bool


@dataclass(frozen=True)
class ProtectedBranch:
    """A protected branch rule with its (first) push and merge access levels."""

    name: str
    push_access_level: int
    merge_access_level: int


def _group(attrs: dict[str, Any]) -> GitGroup:
    return GitGroup(
        id=attrs["id"],
        path=attrs["full_path"],
        name=attrs["name"],
        visibility=attrs["visibility"],
        description=attrs.get("description") or "",
    )


def _project(attrs: dict[str, Any]) -> GitProject:
    return GitProject(
        id=attrs["id"],
        path=attrs["path"],
        name=attrs["name"],
        namespace_path=attrs["namespace"]["full_path"],
        visibility=attrs["visibility"],
        description=attrs.get("description") or "",
        ssh_url=attrs["ssh_url_to_repo"],
        http_url=attrs["http_url_to_repo"],
    )


def _deploy_key(attrs: dict[str, Any]) -> DeployKey:
    return DeployKey(
        id=attrs["id"],
        title=attrs["title"],
        key=attrs["key"],
        can_push=bool(attrs.get("can_push")),
        fingerprint_sha256=attrs.get("fingerprint_sha256"),
    )


def _access_token(attrs: dict[str, Any]) -> AccessToken:
    expires = attrs.get("expires_at")
    return AccessToken(
        id=attrs["id"],
        name=attrs["name"],
        scopes=tuple(sorted(attrs.get("scopes") or ())),
        access_level=int(attrs.get("access_level") or 0),
        expires_at=dt.date.fromisoformat(expires) if expires else None,
        active=bool(attrs.get("active")) and not attrs.get("revoked"),
    )


def _hook(attrs: dict[str, Any]) -> ProjectHook:
    events = tuple(sorted(e for e in HOOK_EVENTS if attrs.get(e)))
    return ProjectHook(
        attrs["id"], attrs["url"], events, bool(attrs.get("enable_ssl_verification"))
    )


def _key_material(public_key: str) -> str:
    """`<type> <base64>` of an OpenSSH public key (the comment does not identify it)."""
    return " ".join(public_key.split()[:2])


def _member_levels(members: Iterable[dict[str, Any]]) -> dict[str, int]:
    return {m["username"]: int(m["access_level"]) for m in members if m.get("state") == "active"}
