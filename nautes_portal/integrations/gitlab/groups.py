"""Groups and projects of the `GitHost` interface: read, create, ensure, delete and list them,
and open a project's config repository."""

from __future__ import annotations

from typing import Any

import gitlab
import gitlab.exceptions

from nautes_portal.errors import Conflict, PermissionDenied
from nautes_portal.integrations.config_repo import GitGroup, GitProject, RepositoryError
from nautes_portal.integrations.git_local import validate_host_path
from nautes_portal.integrations.gitlab.client import GitLabClient
from nautes_portal.integrations.gitlab.errors import SYSTEM, _calling, _is, _optional
from nautes_portal.integrations.gitlab.objects import _group, _project
from nautes_portal.integrations.gitlab.repository import GitLabConfigRepository

_VISIBILITIES = ("private", "internal", "public")


def _check_visibility(visibility: str) -> str:
    if visibility not in _VISIBILITIES:
        raise RepositoryError(
            SYSTEM,
            f"Invalid visibility {visibility!r}: use one of {', '.join(_VISIBILITIES)}.",
            retryable=False,
        )
    return visibility


class GitLabGroups(GitLabClient):
    """Groups and projects, with the portal's own token."""

    def get_group(self, path: str) -> GitGroup | None:
        """Return the group at `path` (a full path), or None when missing or invisible."""
        validate_host_path(path, nested=True)
        found = _optional(
            f"reading group {path!r}", lambda: self._gl.groups.get(path, with_projects=False)
        )
        return _group(found.attributes) if found is not None else None

    def create_group(
        self, *, path: str, name: str, visibility: str = "private", description: str = ""
    ) -> GitGroup:
        """Create the group (under its existing parent when nested); never touch an existing one.

        A path that is taken raises Conflict with GitLab's own wording.
        """
        validate_host_path(path, nested=True)
        _check_visibility(visibility)
        parent_path, _, segment = path.rpartition("/")
        data: dict[str, Any] = {"name": name, "path": segment, "visibility": visibility}
        data["description"] = description
        if parent_path:
            parent = self.get_group(parent_path)
            if parent is None:
                raise RepositoryError(
                    SYSTEM, f"Parent group {parent_path!r} does not exist.", retryable=False
                )
            data["parent_id"] = parent.id
        with _calling(f"creating group {path!r}"):
            try:
                return _group(self._gl.groups.create(data).attributes)
            except gitlab.exceptions.GitlabCreateError as exc:
                if not _is(exc, 400, "has already been taken"):
                    raise
        raise Conflict(
            f"Failed to create group {path}: path has already been taken", reason="ALREADY_TAKEN"
        )

    def ensure_group(
        self, *, path: str, name: str, visibility: str = "private", description: str = ""
    ) -> GitGroup:
        """Create the group (under its existing parent when nested) or update it.

        Product groups never come here for a group the portal did not make: `create_group`
        creates them and `products.adoption` decides which existing group a save may update.
        """
        validate_host_path(path, nested=True)
        _check_visibility(visibility)
        existing = self.get_group(path)
        if existing is None:
            try:
                return self.create_group(
                    path=path, name=name, visibility=visibility, description=description
                )
            except Conflict:
                existing = self.get_group(path)  # Created concurrently: update that one.
            if existing is None:
                raise RepositoryError(SYSTEM, f"Group path {path!r} is taken.", retryable=False)
        wanted = {"name": name, "visibility": visibility, "description": description}
        changes = {k: v for k, v in wanted.items() if getattr(existing, k) != v}
        if not changes:
            return existing
        with _calling(f"updating group {path!r}"):
            return _group(self._gl.groups.update(existing.id, changes))

    def delete_group(self, path: str) -> None:
        """Delete the group with its subgroups and projects; no error when missing.

        GitLab deletes in the background (or only marks for deletion when delayed deletion is
        on), so the group may still be readable for a while.
        """
        group = self.get_group(path)
        if group is not None:
            _optional(f"deleting group {path!r}", lambda: self._gl.groups.delete(group.id))

    def get_project(self, namespace_path: str, path: str) -> GitProject | None:
        """Return the project `<namespace_path>/<path>`, or None."""
        validate_host_path(namespace_path, nested=True)
        full = f"{namespace_path}/{validate_host_path(path, what='project')}"
        found = _optional(f"reading project {full!r}", lambda: self._gl.projects.get(full))
        return _project(found.attributes) if found is not None else None

    def create_project(
        self,
        *,
        namespace_path: str,
        path: str,
        name: str | None = None,
        visibility: str = "private",
        description: str = "",
    ) -> GitProject:
        """Create the project in an existing group; never touch an existing one.

        A path that is taken (whoever made the project, even a moment ago) raises Conflict
        `ALREADY_TAKEN` with GitLab's own wording: a save that meant to create a project never
        adopts one someone else made between its lookup and its create (#12).
        """
        _check_visibility(visibility)
        validate_host_path(namespace_path, nested=True)
        full = f"{namespace_path}/{validate_host_path(path, what='project')}"
        group = self.get_group(namespace_path)
        if group is None:
            raise RepositoryError(
                SYSTEM, f"Group {namespace_path!r} does not exist.", retryable=False
            )
        data = {"name": name or path, "path": path, "namespace_id": group.id}
        data.update(visibility=visibility, description=description)
        with _calling(f"creating project {full!r}"):
            try:
                return _project(self._gl.projects.create(data).attributes)
            except gitlab.exceptions.GitlabCreateError as exc:
                if _is(exc, 400, "namespace is not valid"):  # GitLab's answer to "not allowed".
                    raise PermissionDenied(
                        f"GitLab does not allow creating projects in group {namespace_path!r}."
                    ) from None
                if not _is(exc, 400, "path has already been taken"):
                    raise
        raise Conflict(
            f"Failed to create project {full}: path has already been taken",
            reason="ALREADY_TAKEN",
            metadata={"project": full},
        )

    def ensure_project(
        self,
        *,
        namespace_path: str,
        path: str,
        name: str | None = None,
        visibility: str = "private",
        description: str = "",
    ) -> GitProject:
        """Create the project in an existing group, or update it (`name` None keeps it).

        For the portal's own repositories (the tenant repository, `default.project`): a code
        repository a save means to create goes through `create_project`, which never adopts.
        """
        _check_visibility(visibility)
        existing = self.get_project(namespace_path, path)
        full = f"{namespace_path}/{path}"
        if existing is None:
            try:
                return self.create_project(
                    namespace_path=namespace_path,
                    path=path,
                    name=name,
                    visibility=visibility,
                    description=description,
                )
            except Conflict:
                existing = self.get_project(namespace_path, path)  # Created concurrently.
            if existing is None:
                raise RepositoryError(SYSTEM, f"Project path {full!r} is taken.", retryable=False)
        changes: dict[str, Any] = {}
        if name is not None and name != existing.name:
            changes["name"] = name
        if description != existing.description:
            changes["description"] = description
        if visibility != existing.visibility:  # Sent only when it changes (needs Owner).
            changes["visibility"] = visibility
        if not changes:
            return existing
        with _calling(f"updating project {full!r}"):
            return _project(self._gl.projects.update(existing.id, changes))

    def delete_project(self, namespace_path: str, path: str) -> None:
        """Delete the project and its repository; no error when missing (GitLab is async)."""
        project = self.get_project(namespace_path, path)
        if project is not None:
            action = f"deleting project {project.full_path!r}"
            _optional(action, lambda: self._gl.projects.delete(project.id))

    def list_projects(self, namespace_path: str) -> list[GitProject]:
        """Return the group's own projects (no subgroups, no shared ones) sorted by path."""
        group = self.get_group(namespace_path)
        if group is None:
            return []
        with _calling(f"listing the projects of group {namespace_path!r}"):
            manager = self._gl.groups.get(group.id, lazy=True).projects
            items = manager.list(get_all=True, with_shared=False, include_subgroups=False)
        projects = (_project(item.attributes) for item in items)
        return sorted((p for p in projects if p.namespace_path == group.path), key=lambda p: p.path)

    def repository(self, project: GitProject) -> GitLabConfigRepository:
        """Return the config repository of `project`."""
        return GitLabConfigRepository(self._gl, project.id, page_size=self._page_size)
