"""`LocalGitHost`: groups are directories, projects are bare repositories in them; every
change runs under one `flock`, ids are allocated from a counter file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nautes_portal.errors import Conflict
from nautes_portal.integrations.config_repo import GitGroup, GitProject
from nautes_portal.integrations.git_local.metadata import _read_json, _write_json
from nautes_portal.integrations.git_local.paths import _check_visibility, validate_host_path
from nautes_portal.integrations.git_local.process import _error, _os_error
from nautes_portal.integrations.git_local.repository import LocalConfigRepository


class LocalGitHost:
    """A `GitHost` on disk: groups are directories, projects are bare repositories in them.

    Every change runs under one `flock` on `root/.nautes-host.lock`, so concurrent processes
    never allocate the same id or half-create a project; reads take no lock (files are replaced
    atomically, deletions are a rename followed by removal).
    """

    # Capabilities (`GitHost`): no deploy keys, tokens, hooks or memberships on disk.
    manages_project_access = False
    manages_group_members = False

    GROUP_META = ".nautes-group.json"
    PROJECT_META = "nautes-project.json"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.root / ".nautes-host.lock", "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        except OSError as exc:  # every change runs here: no file name reaches a user
            raise _os_error("change the local Git host's files", exc) from exc

    def _next_id(self, kind: str) -> int:
        """Allocate the next id of `kind` (GitLab-like: increasing, never reused)."""
        counters_file = self.root / ".nautes-ids.json"
        counters = _read_json(counters_file) or {}
        counters[kind] = int(counters.get(kind, 0)) + 1
        _write_json(counters_file, counters)
        return counters[kind]

    def _remove(self, directory: Path) -> None:
        with self._locked():
            if directory.exists():  # Rename first so readers never see a half-deleted tree.
                trash = Path(tempfile.mkdtemp(prefix=".deleted-", dir=self.root))
                os.replace(directory, trash / "x")
                shutil.rmtree(trash)

    def _save(self, file: Path, *fields: Any) -> dict[str, Any]:
        """Write the metadata (id, name, visibility, description) of a group or project."""
        meta = dict(zip(("id", "name", "visibility", "description"), fields, strict=True))
        _write_json(file, meta)
        return meta

    def _group_dir(self, path: str) -> Path:
        return self.root.joinpath(*validate_host_path(path, nested=True).split("/"))

    def _project_dir(self, namespace_path: str, path: str) -> Path:
        return self._group_dir(namespace_path) / f"{validate_host_path(path, what='project')}.git"

    def get_group(self, path: str) -> GitGroup | None:
        """Return the group at `path`, or None."""
        meta = _read_json(self._group_dir(path) / self.GROUP_META)
        if meta is None:
            return None
        return GitGroup(path=path, **meta)

    def create_group(
        self, *, path: str, name: str, visibility: str = "private", description: str = ""
    ) -> GitGroup:
        """Create the group (its parent must exist when nested); never touch an existing one.

        A path that is taken raises Conflict with GitLab's own wording.
        """
        directory = self._group_dir(path)
        _check_visibility(visibility)
        with self._locked():
            parent, _, _ = path.rpartition("/")
            if parent and self.get_group(parent) is None:
                raise _error(f"Parent group {parent!r} does not exist.")
            if self.get_group(path) is not None:
                raise Conflict(
                    f"Failed to create group {path}: path has already been taken",
                    reason="ALREADY_TAKEN",
                )
            directory.mkdir(parents=True, exist_ok=True)
            meta = self._save(
                directory / self.GROUP_META, self._next_id("group"), name, visibility, description
            )
        return GitGroup(path=path, **meta)

    def ensure_group(
        self, *, path: str, name: str, visibility: str = "private", description: str = ""
    ) -> GitGroup:
        """Create the group (its parent must exist when nested) or update it, keeping its id."""
        directory = self._group_dir(path)
        _check_visibility(visibility)
        with self._locked():
            parent, _, _ = path.rpartition("/")
            if parent and self.get_group(parent) is None:
                raise _error(f"Parent group {parent!r} does not exist.")
            existing = self.get_group(path)
            group_id = existing.id if existing else self._next_id("group")
            directory.mkdir(parents=True, exist_ok=True)
            meta = self._save(directory / self.GROUP_META, group_id, name, visibility, description)
        return GitGroup(path=path, **meta)

    def delete_group(self, path: str) -> None:
        """Delete the group with its subgroups and projects; no error when missing."""
        self._remove(self._group_dir(path))

    def get_project(self, namespace_path: str, path: str) -> GitProject | None:
        """Return the project `<namespace_path>/<path>`, or None."""
        directory = self._project_dir(namespace_path, path)
        meta = _read_json(directory / self.PROJECT_META)
        return self._project(namespace_path, path, directory, meta) if meta else None

    @staticmethod
    def _project(ns: str, path: str, directory: Path, meta: dict[str, Any]) -> GitProject:
        url = directory.resolve().as_uri()  # Both URLs clone with plain git.
        return GitProject(path=path, namespace_path=ns, ssh_url=url, http_url=url, **meta)

    def create_project(
        self,
        *,
        namespace_path: str,
        path: str,
        name: str | None = None,
        visibility: str = "private",
        description: str = "",
    ) -> GitProject:
        """Create the project with an empty bare repository; never touch an existing one.

        A path that is taken raises Conflict `ALREADY_TAKEN` with GitLab's own wording.
        """
        directory = self._project_dir(namespace_path, path)
        _check_visibility(visibility)
        with self._locked():
            if self.get_group(namespace_path) is None:
                raise _error(f"Group {namespace_path!r} does not exist.")
            if self.get_project(namespace_path, path) is not None:
                full = f"{namespace_path}/{path}"
                raise Conflict(
                    f"Failed to create project {full}: path has already been taken",
                    reason="ALREADY_TAKEN",
                    metadata={"project": full},
                )
            # The metadata file is written last: a crash leaves no visible half project.
            LocalConfigRepository.init_bare(directory)
            meta = self._save(
                directory / self.PROJECT_META,
                self._next_id("project"),
                path if name is None else name,
                visibility,
                description,
            )
        return self._project(namespace_path, path, directory, meta)

    def ensure_project(
        self,
        *,
        namespace_path: str,
        path: str,
        name: str | None = None,
        visibility: str = "private",
        description: str = "",
    ) -> GitProject:
        """Create the project with an empty bare repository, or update it, keeping its id.

        `name` None keeps the current name (the path for a new project).
        """
        directory = self._project_dir(namespace_path, path)
        _check_visibility(visibility)
        with self._locked():
            if self.get_group(namespace_path) is None:
                raise _error(f"Group {namespace_path!r} does not exist.")
            existing = self.get_project(namespace_path, path)
            if existing is None:
                # The metadata file is written last: a crash leaves no visible half project.
                LocalConfigRepository.init_bare(directory)
                existing_id, existing_name = self._next_id("project"), path
            else:
                existing_id, existing_name = existing.id, existing.name
            name = existing_name if name is None else name
            meta = self._save(
                directory / self.PROJECT_META, existing_id, name, visibility, description
            )
        return self._project(namespace_path, path, directory, meta)

    def delete_project(self, namespace_path: str, path: str) -> None:
        """Delete the project and its repository; no error when missing."""
        self._remove(self._project_dir(namespace_path, path))

    def list_projects(self, namespace_path: str) -> list[GitProject]:
        """Return the group's own projects sorted by path (none when the group is missing)."""
        directory = self._group_dir(namespace_path)
        if not directory.is_dir():
            return []
        try:
            children = sorted(directory.iterdir())
        except OSError as exc:
            raise _os_error(f"list the projects of group {namespace_path!r}", exc) from exc
        projects = (
            self.get_project(namespace_path, child.name.removesuffix(".git"))
            for child in children
            if child.name.endswith(".git") and child.is_dir()
        )
        return [project for project in projects if project is not None]

    def repository(self, project: GitProject) -> LocalConfigRepository:
        """Return the config repository of `project`."""
        return LocalConfigRepository(self._project_dir(project.namespace_path, project.path))
