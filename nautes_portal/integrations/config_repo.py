"""The config-repository interface every Git backend implements.

A config repository is a Git repository whose `main` branch holds Nautes manifests: the tenant
configuration repository (clusters) or a product's `default.project`. Backends: `git_local`
(bare repositories on disk, real git) and `gitlab` (python-gitlab, Commits API).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from nautes_portal.errors import Conflict, IntegrationError

DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class Author:
    """Who a commit is attributed to (the acting user, not the portal's service identity)."""

    name: str
    email: str


# Commits the portal makes on its own behalf (first commits, when no user acts).
PORTAL_AUTHOR = Author(name="Nautes portal", email="portal@nautes.local")


@dataclass(frozen=True)
class CommitInfo:
    """One commit of a config repository's history."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored_at: dt.datetime
    message: str
    changed_paths: tuple[str, ...] = field(default=())


class CommitConflict(Conflict):
    """The branch moved since the caller read it; nothing was written."""

    reason = "CONFLICT"

    @classmethod
    def moved(cls, expected: str | None, found: str | None) -> CommitConflict:
        """The branch tip is `found`, not the `expected` one the change was based on."""
        short = [sha[:12] if sha else "no commit" for sha in (expected, found)]
        return cls(
            "The configuration repository changed since it was read "
            f"(expected {short[0]}, found {short[1]}); reload and try again.",
            metadata={"expected": expected, "found": found},
        )


class RepositoryError(IntegrationError):
    """The Git backend failed (missing repository, corrupt object, git error)."""


class ConfigRepository(Protocol):
    """Read and atomically write one config repository."""

    def head(self, branch: str = DEFAULT_BRANCH) -> str | None:
        """Return the commit id at the tip of `branch`, or None for an empty repository."""
        ...

    def read_tree(self, ref: str) -> dict[str, bytes]:
        """Return every file (path → content) of the tree at `ref`."""
        ...

    def read_file(self, ref: str, path: str) -> bytes | None:
        """Return one file's content at `ref`, or None when it does not exist there."""
        ...

    def commit(
        self,
        *,
        changes: dict[str, bytes | None],
        expected_parent: str | None,
        message: str,
        author: Author,
        branch: str = DEFAULT_BRANCH,
    ) -> str:
        """Write all `changes` (None deletes a path) as ONE commit on `branch`.

        `expected_parent` is the tip the caller based the change on (None for the first commit of
        an empty repository). When the branch tip differs, raise CommitConflict and write nothing.
        Return the new commit id.
        """
        ...

    def history(
        self, *, ref: str = DEFAULT_BRANCH, path: str | None = None, limit: int = 50
    ) -> list[CommitInfo]:
        """Return commits reachable from `ref` (newest first), optionally touching `path`."""
        ...

    def diff(self, old: str | None, new: str) -> str:
        """Return a unified diff between two commits (`old` None: the commit against its parent)."""
        ...


@dataclass(frozen=True)
class GitGroup:
    """A namespace on the Git host (a GitLab group)."""

    id: int
    path: str
    name: str
    visibility: str
    description: str


@dataclass(frozen=True)
class GitProject:
    """A repository on the Git host (a GitLab project) inside a group."""

    id: int
    path: str
    name: str
    namespace_path: str
    visibility: str
    description: str
    ssh_url: str
    http_url: str

    @property
    def full_path(self) -> str:
        """Return `<namespace>/<project>`, the project's address on the host."""
        return f"{self.namespace_path}/{self.path}"


class GitHost(Protocol):
    """A tiny GitLab-like namespace of groups and projects that hands out config repositories.

    What a host can do beyond groups and projects is said by explicit flags (as Read the Docs
    does per Git provider with its `supports_*` attributes); callers branch on a flag, never on
    the adapter's type or on which methods it happens to have. Every adapter sets every flag
    in its own class body (a test checks it); subclasses inherit them.
    """

    manages_project_access: bool
    """The host keeps deploy keys, project access tokens, webhooks and protected branches on
    its projects, so repository provisioning has work to do there (GitLab). False: the host
    keeps none of these; deleting a project is all there is to deprovisioning (local)."""

    manages_group_members: bool
    """Group memberships live on the host: the creator is made Owner there, ownership is read
    from there, and a group's members tell whether the portal itself created it (GitLab).
    False: ownership is recorded in the portal only (local)."""

    def get_group(self, path: str) -> GitGroup | None:
        """Return the group at `path`, or None when it does not exist."""
        ...

    def create_group(
        self, *, path: str, name: str, visibility: str = "private", description: str = ""
    ) -> GitGroup:
        """Create the group; Conflict ("path has already been taken") when it exists."""
        ...

    def ensure_group(
        self, *, path: str, name: str, visibility: str = "private", description: str = ""
    ) -> GitGroup:
        """Create the group, or update its name, visibility and description; keep its id."""
        ...

    def delete_group(self, path: str) -> None:
        """Delete the group and its projects; no error when it does not exist."""
        ...

    def get_project(self, namespace_path: str, path: str) -> GitProject | None:
        """Return the project `<namespace_path>/<path>`, or None when it does not exist."""
        ...

    def create_project(
        self,
        *,
        namespace_path: str,
        path: str,
        name: str | None = None,
        visibility: str = "private",
        description: str = "",
    ) -> GitProject:
        """Create the project in an existing group; Conflict ("path has already been taken",
        `ALREADY_TAKEN`) when it exists, even if it appeared a moment ago."""
        ...

    def ensure_project(
        self,
        *,
        namespace_path: str,
        path: str,
        name: str | None = None,
        visibility: str = "private",
        description: str = "",
    ) -> GitProject:
        """Create the project in an existing group (RepositoryError otherwise), or update it."""
        ...

    def delete_project(self, namespace_path: str, path: str) -> None:
        """Delete the project and its repository; no error when it does not exist."""
        ...

    def list_projects(self, namespace_path: str) -> list[GitProject]:
        """Return the projects directly inside the group."""
        ...

    def repository(self, project: GitProject) -> ConfigRepository:
        """Return the config repository of `project`."""
        ...
