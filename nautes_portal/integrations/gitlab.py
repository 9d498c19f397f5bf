"""Config repositories and provisioning on GitLab, through python-gitlab (REST API v4).

`GitLabConfigRepository` implements `ConfigRepository` with the Commits API; `GitLabHost`
implements `GitHost` (groups and projects) plus the provisioning upstream Nautes does in GitLab:
protected branches, deploy keys, project access tokens, hooks, memberships and token owners.

This is the only module that imports `gitlab`. Every python-gitlab object stays here (callers
get small frozen dataclasses) and every python-gitlab or `requests` failure is translated here
into a `NautesError` with a user-safe message; tokens never reach a message or a log record.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import gitlab
import gitlab.exceptions
import requests

from nautes_portal.errors import (
    Conflict,
    IntegrationError,
    NautesError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from nautes_portal.integrations.config_repo import (
    DEFAULT_BRANCH,
    Author,
    CommitConflict,
    CommitInfo,
    GitGroup,
    GitProject,
    RepositoryError,
)
from nautes_portal.integrations.git_local import validate_host_path, validate_path

logger = logging.getLogger(__name__)

SYSTEM = "GitLab"
MAINTAINER = 40
# The `*_events` flags of a project hook.
HOOK_EVENTS = frozenset(
    (
        *("push_events", "tag_push_events", "merge_requests_events", "issues_events"),
        *("confidential_issues_events", "note_events", "confidential_note_events", "job_events"),
        *("pipeline_events", "wiki_page_events", "deployment_events", "releases_events"),
    )
)
_VISIBILITIES = ("private", "internal", "public")
# Commits API refusals that mean "the files moved under you" (Files::MultiService and Gitaly).
_STALE_WRITE = (
    "has changed since you started editing it",
    "A file with this name already exists",
    "A file with this name doesn't exist",
    "A directory with this name already exists",
)
_T = TypeVar("_T")


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


# ---- Error translation -------------------------------------------------------------------------


def _message(exc: gitlab.exceptions.GitlabError) -> str:
    """GitLab's error message, flattened (`{"path": ["has already been taken"]}` included)."""
    raw = exc.error_message
    if isinstance(raw, dict):
        raw = "; ".join(
            f"{key} {' '.join(map(str, v)) if isinstance(v, list) else v}" for key, v in raw.items()
        )
    elif isinstance(raw, bytes):
        raw = raw.decode(errors="replace")
    return str(raw)[:300]


def _is(exc: BaseException, code: int, text: str = "") -> bool:
    """Whether `exc` is a GitLab answer with status `code` whose message contains `text`."""
    return (
        isinstance(exc, gitlab.exceptions.GitlabError)
        and exc.response_code == code
        and text in _message(exc)
    )


def _unavailable(action: str, what: str) -> IntegrationError:
    return IntegrationError(
        SYSTEM,
        f"GitLab {what} while {action}; try again.",
        retryable=True,
        status=503,
        reason="GITLAB_UNAVAILABLE",
    )


def translate(exc: Exception, action: str) -> NautesError:
    """Return the portal error for a python-gitlab or `requests` failure while `action`."""
    if isinstance(exc, gitlab.exceptions.GitlabAuthenticationError):
        return IntegrationError(
            SYSTEM,
            f"GitLab rejected the portal's own access token while {action}; an administrator "
            "must renew the portal's GitLab token.",
            retryable=False,
            status=502,
            reason="GITLAB_UNAUTHORIZED",
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return _unavailable(action, "did not answer in time")
    if isinstance(exc, requests.exceptions.RequestException):
        return _unavailable(action, "could not be reached")
    code = getattr(exc, "response_code", None)
    if code == 403:
        # Every call here is made with the portal's own token: the fix is on GitLab's side.
        return PermissionDenied(
            f"GitLab denied the portal's account permission while {action}; give that account "
            "the Maintainer role there (Owner for a group) before retrying."
        )
    if code == 404:
        return NotFound(f"Not found on GitLab while {action}.")
    if code is None or code >= 500 or code == 429:
        return _unavailable(
            action, f"failed (HTTP {code})" if code else "sent an unreadable answer"
        )
    detail = _message(exc) if isinstance(exc, gitlab.exceptions.GitlabError) else type(exc).__name__
    return RepositoryError(
        SYSTEM, f"GitLab refused {action}: {detail}", retryable=False, reason="GITLAB_REJECTED"
    )


@contextmanager
def _calling(action: str) -> Iterator[None]:
    """Translate python-gitlab and `requests` failures raised inside the block."""
    try:
        yield
    except (gitlab.exceptions.GitlabError, requests.exceptions.RequestException) as exc:
        error = translate(exc, action)
        code = getattr(exc, "response_code", None)
        # Only the exception type and status: a request URL or body never goes to the log.
        level = logging.DEBUG if code == 404 else logging.WARNING
        logger.log(
            level, "GitLab call failed while %s: %s (HTTP %s)", action, type(exc).__name__, code
        )
        raise error from exc


def _optional(action: str, fetch: Callable[[], _T]) -> _T | None:
    """Run `fetch`; a 404 gives None."""
    try:
        with _calling(action):
            return fetch()
    except NotFound:
        return None


def _check_visibility(visibility: str) -> str:
    if visibility not in _VISIBILITIES:
        raise RepositoryError(
            SYSTEM,
            f"Invalid visibility {visibility!r}: use one of {', '.join(_VISIBILITIES)}.",
            retryable=False,
        )
    return visibility


def _unknown_revision(ref: str) -> RepositoryError:
    return RepositoryError(SYSTEM, f"Unknown revision {ref!r}.", retryable=False)


# ---- Config repository -------------------------------------------------------------------------


class GitLabConfigRepository:
    """A `ConfigRepository` over one GitLab project, written through the Commits API."""

    def __init__(self, gl: gitlab.Gitlab, project_id: int, *, page_size: int = 100) -> None:
        self.project_id = project_id
        self._gl = gl
        self._project = gl.projects.get(project_id, lazy=True)  # No request until used.
        self._page_size = page_size

    def _action(self, verb: str) -> str:
        return f"{verb} the repository of project {self.project_id}"

    def _is_empty(self) -> bool:
        with _calling(self._action("reading")):
            return bool(self._gl.projects.get(self.project_id).attributes.get("empty_repo"))

    def _commit_of(self, ref: str) -> str | None:
        """Resolve `ref` to a commit id; None only in an empty repository."""
        with _calling(self._action(f"resolving {ref!r} in")):
            try:
                return str(self._project.commits.get(ref, stats=False).id)
            except gitlab.exceptions.GitlabGetError as exc:
                if not _is(exc, 404, "Commit"):
                    raise
        if self._is_empty():
            return None
        raise _unknown_revision(ref)

    def head(self, branch: str = DEFAULT_BRANCH) -> str | None:
        """Return the tip of `branch`, or None when the branch does not exist (empty repository)."""
        with _calling(self._action(f"reading branch {branch!r} of")):
            try:
                return str(self._project.branches.get(branch).commit["id"])
            except gitlab.exceptions.GitlabGetError as exc:
                if _is(exc, 404, "Branch"):
                    return None
                raise

    def _blob_paths(self, sha: str) -> list[str]:
        with _calling(self._action("listing")):
            entries = self._project.repository_tree(
                ref=sha, recursive=True, get_all=True, per_page=self._page_size
            )
        # Submodules (`commit` entries) have no content here, as in the local backend.
        return [str(e["path"]) for e in entries if e["type"] == "blob"]

    def read_tree(self, ref: str) -> dict[str, bytes]:
        """Return every file at `ref`: one tree listing, then one raw read per file."""
        sha = self._commit_of(ref)
        if sha is None:
            return {}
        with _calling(self._action("reading")):
            return {
                path: bytes(self._project.files.raw(file_path=path, ref=sha))
                for path in self._blob_paths(sha)
            }

    def read_file(self, ref: str, path: str) -> bytes | None:
        """Return the file at `path` in `ref`, or None when there is no such file."""
        validate_path(path)
        with _calling(self._action(f"reading {path!r} from")):
            try:
                return bytes(self._project.files.raw(file_path=path, ref=ref))
            except gitlab.exceptions.GitlabGetError as exc:
                if _is(exc, 404, "File"):
                    return None  # Missing, or a directory.
                if not _is(exc, 404, "Commit"):
                    raise
        if self._is_empty():
            return None
        raise _unknown_revision(ref)

    def commit(
        self,
        *,
        changes: dict[str, bytes | None],
        expected_parent: str | None,
        message: str,
        author: Author,
        branch: str = DEFAULT_BRANCH,
    ) -> str:
        """Write `changes` as ONE Commits API call, refused when the branch moved.

        GitLab has no compare-and-swap on a branch for this API, so the check is in two steps:
        the branch tip must equal `expected_parent` before writing, and every update or delete
        carries `last_commit_id=expected_parent`, so GitLab refuses the write if one of those
        files changed since (and Gitaly refuses a create whose file appeared meanwhile).
        What remains: a concurrent commit touching only OTHER files, landing between the check
        and the write, is not detected; GitLab applies ours on top of it. That is a clean
        merge (no file of ours was touched, as upstream's fetch-merge-push would do), so it is
        logged and the new commit id returned, never reverted. Deleting a path that does not
        exist is a no-op; `changes={}` still makes an (empty) commit.
        """
        for path in changes:
            validate_path(path)
        current = self.head(branch)
        if current != expected_parent:
            raise CommitConflict.moved(expected_parent, current)
        existing = set(self._blob_paths(expected_parent)) if expected_parent else set()
        actions: list[dict[str, Any]] = []
        for path, content in sorted(changes.items()):
            if content is None and path not in existing:
                continue
            action: dict[str, Any] = {"file_path": path}
            if content is None:
                action["action"] = "delete"
            else:
                action["action"] = "update" if path in existing else "create"
                action.update(content=base64.b64encode(content).decode(), encoding="base64")
            if path in existing:
                action["last_commit_id"] = expected_parent
            actions.append(action)
        payload = {
            "branch": branch,
            "commit_message": message,
            "actions": actions,
            "author_name": author.name,
            "author_email": author.email,
        }
        with _calling(self._action("committing to")):
            try:
                created = self._project.commits.create(payload)
            except gitlab.exceptions.GitlabCreateError as exc:
                if not any(_is(exc, 400, text) for text in _STALE_WRITE):
                    raise
                created = None
        if created is None:
            raise CommitConflict.moved(expected_parent, self.head(branch))
        parents = tuple(created.attributes.get("parent_ids") or ())
        if parents != ((expected_parent,) if expected_parent else ()):
            logger.warning(
                "Commit %s on project %s landed on %s, not on the expected %s: another commit "
                "touching other files arrived in between.",
                created.id,
                self.project_id,
                parents,
                expected_parent,
            )
        return str(created.id)

    def history(
        self, *, ref: str = DEFAULT_BRANCH, path: str | None = None, limit: int = 50
    ) -> list[CommitInfo]:
        """Return up to `limit` commits from `ref`, newest first (one diff request per commit)."""
        sha = self._commit_of(ref)
        if sha is None or limit <= 0:
            return []
        query = {"ref_name": sha}
        if path:
            query["path"] = validate_path(path.rstrip("/"))
        with _calling(self._action("reading the history of")):
            # `query_parameters`: a plain `path=` kwarg would replace python-gitlab's URL path.
            listing = self._project.commits.list(
                iterator=True, per_page=min(limit, 100), query_parameters=query
            )
            return [self._info(c.attributes) for c in itertools.islice(listing, limit)]

    def _info(self, attrs: dict[str, Any]) -> CommitInfo:
        diffs = self._project.commits.get(attrs["id"], lazy=True).diff(
            get_all=True, per_page=self._page_size
        )
        paths = sorted({d["new_path"] for d in diffs} | {d["old_path"] for d in diffs})
        return CommitInfo(
            sha=attrs["id"],
            parents=tuple(attrs.get("parent_ids") or ()),
            author_name=attrs["author_name"],
            author_email=attrs["author_email"],
            authored_at=dt.datetime.fromisoformat(attrs["authored_date"]),
            message=str(attrs["message"]).rstrip("\n"),
            changed_paths=tuple(paths),
        )

    def diff(self, old: str | None, new: str) -> str:
        """Return a Git-style unified diff from `old` (default: `new`'s parent) to `new`.

        Built from GitLab's per-file diffs (no `index` lines); GitLab may cut very large diffs.
        """
        with _calling(self._action("comparing commits in")):
            try:
                if old is None:
                    commit = self._project.commits.get(new, lazy=True)
                    entries = commit.diff(get_all=True, per_page=self._page_size)
                else:
                    compared = self._project.repository_compare(old, new, straight=True)
                    entries = compared["diffs"]
            except gitlab.exceptions.GitlabGetError as exc:
                if not _is(exc, 404) or _is(exc, 404, "Project"):
                    raise
                entries = None
        if entries is None:
            raise _unknown_revision(new if old is None else f"{old}..{new}")
        return "".join(_render(entry) for entry in entries)


def _render(entry: dict[str, Any]) -> str:
    """One file's `diff --git` section from a GitLab diff entry."""
    old, new, body = entry["old_path"], entry["new_path"], entry.get("diff") or ""
    lines = [f"diff --git a/{old} b/{new}\n"]
    if entry.get("new_file"):
        lines.append(f"new file mode {entry['b_mode']}\n")
    elif entry.get("deleted_file"):
        lines.append(f"deleted file mode {entry['a_mode']}\n")
    elif entry.get("renamed_file"):
        lines += [f"rename from {old}\n", f"rename to {new}\n"]
    if body:
        lines.append("--- /dev/null\n" if entry.get("new_file") else f"--- a/{old}\n")
        lines.append("+++ /dev/null\n" if entry.get("deleted_file") else f"+++ b/{new}\n")
        lines.append(body if body.endswith("\n") else f"{body}\n")
    return "".join(lines)


# ---- Host --------------------------------------------------------------------------------------


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


class GitLabHost:
    """A `GitHost` on a GitLab instance, acting with the portal's own token."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        ssl_verify: bool | str = True,
        page_size: int = 100,
    ) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._ssl_verify = ssl_verify
        self._page_size = page_size
        self._gl = self._client(token)

    def __repr__(self) -> str:
        return f"GitLabHost({self.url!r})"  # Never the token.

    def _client(self, token: str, *, bearer: bool = False) -> gitlab.Gitlab:
        credentials = {"oauth_token": token} if bearer else {"private_token": token}
        return gitlab.Gitlab(
            self.url,
            timeout=self._timeout,  # Always set: a hung GitLab must not hang a portal request.
            ssl_verify=self._ssl_verify,
            per_page=self._page_size,
            retry_transient_errors=False,  # The caller decides; errors say "try again".
            **credentials,
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._gl.session.close()

    def _proj(self, project_id: int) -> Any:
        return self._gl.projects.get(project_id, lazy=True)

    # -- groups and projects --

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

    # -- provisioning --

    def protect_branch(
        self,
        project_id: int,
        branch: str,
        *,
        push_access_level: int = MAINTAINER,
        merge_access_level: int = MAINTAINER,
    ) -> ProtectedBranch:
        """Protect `branch` with these levels (a rule with other levels is replaced)."""
        rules = self._proj(project_id).protectedbranches
        wanted = {"push": push_access_level, "merge": merge_access_level}
        with _calling(f"protecting branch {branch!r} of project {project_id}"):
            try:
                attrs = rules.get(branch).attributes
                levels = [attrs[f"{kind}_access_levels"][0]["access_level"] for kind in wanted]
                if levels == list(wanted.values()):
                    return ProtectedBranch(branch, *levels)
                rules.delete(branch)  # Changing levels in place needs PATCH with ids; replace.
            except gitlab.exceptions.GitlabGetError as exc:
                if not _is(exc, 404):
                    raise
            rules.create({"name": branch, **{f"{k}_access_level": v for k, v in wanted.items()}})
        return ProtectedBranch(branch, push_access_level, merge_access_level)

    def list_deploy_keys(self, project_id: int) -> list[DeployKey]:
        """Return the deploy keys enabled on the project."""
        with _calling(f"listing the deploy keys of project {project_id}"):
            keys = self._proj(project_id).keys.list(get_all=True)
        return [_deploy_key(k.attributes) for k in keys]

    def ensure_deploy_key(
        self, project_id: int, title: str, public_key: str, can_push: bool
    ) -> DeployKey:
        """Ensure exactly one key titled `title`, with this public key and `can_push`.

        Keys with the same title but another public key are stale and deleted, as upstream.
        """
        keys = [k for k in self.list_deploy_keys(project_id) if k.title == title]
        wanted = _key_material(public_key)
        match = next((k for k in keys if _key_material(k.key) == wanted), None)
        for stale in keys:
            if stale is not match:
                self.delete_deploy_key(project_id, stale.id)
        if match is None:
            data = {"title": title, "key": public_key, "can_push": can_push}
            with _calling(f"adding deploy key {title!r} to project {project_id}"):
                match = _deploy_key(self._proj(project_id).keys.create(data).attributes)
        if match.can_push == can_push:
            return match
        return self._set_can_push(project_id, match.id, can_push)

    def _set_can_push(self, project_id: int, key_id: int, can_push: bool) -> DeployKey:
        with _calling(f"updating deploy key {key_id} of project {project_id}"):
            updated = self._proj(project_id).keys.update(key_id, {"can_push": can_push})
        return _deploy_key(updated)

    def enable_deploy_key(self, project_id: int, key_id: int, can_push: bool) -> DeployKey:
        """Enable another project's deploy key here, then set `can_push` (enable cannot)."""
        with _calling(f"enabling deploy key {key_id} on project {project_id}"):
            self._proj(project_id).keys.enable(key_id)
        return self._set_can_push(project_id, key_id, can_push)

    def delete_deploy_key(self, project_id: int, key_id: int) -> None:
        """Remove the key from the project; no error when it is not there."""
        action = f"removing deploy key {key_id} from project {project_id}"
        _optional(action, lambda: self._proj(project_id).keys.delete(key_id))

    def list_project_access_tokens(self, project_id: int) -> list[AccessToken]:
        """Return the project's access tokens (active and inactive)."""
        with _calling(f"listing the access tokens of project {project_id}"):
            tokens = self._proj(project_id).access_tokens.list(get_all=True)
        return [_access_token(t.attributes) for t in tokens]

    def ensure_project_access_token(
        self,
        project_id: int,
        name: str,
        scopes: list[str],
        access_level: int,
        expires_at: dt.date | None,
        *,
        rotate: bool = False,
    ) -> tuple[AccessToken, str | None]:
        """Return the one active token `name` with these settings, or make a new one.

        The value is known only when a token is created: `(token, value)`; an existing token
        comes back as `(token, None)`. A new token revokes every other token with the same name
        (upstream's rotation). `rotate=True` forces a new token, e.g. when its stored value is
        lost; so does finding several matching ones (which of them is in use is unknowable).
        """
        same_name = [t for t in self.list_project_access_tokens(project_id) if t.name == name]
        matching = [
            t
            for t in same_name
            if t.active
            and t.scopes == tuple(sorted(scopes))
            and t.access_level == access_level
            and (expires_at is None or t.expires_at == expires_at)
        ]
        if len(matching) == 1 and not rotate:
            return matching[0], None
        data: dict[str, Any] = {"name": name, "scopes": list(scopes), "access_level": access_level}
        if expires_at is not None:
            data["expires_at"] = expires_at.isoformat()
        with _calling(f"creating access token {name!r} on project {project_id}"):
            created = self._proj(project_id).access_tokens.create(data)
        attrs = created.attributes
        value = str(attrs.pop("token"))  # Shown once; never logged, never in AccessToken.
        for old in same_name:
            if old.active:
                action = f"revoking access token {old.id} of project {project_id}"
                _optional(
                    action, lambda old=old: self._proj(project_id).access_tokens.delete(old.id)
                )
        return _access_token(attrs), value

    def list_hooks(self, project_id: int) -> list[ProjectHook]:
        """Return the project's webhooks."""
        with _calling(f"listing the hooks of project {project_id}"):
            hooks = self._proj(project_id).hooks.list(get_all=True)
        return [_hook(h.attributes) for h in hooks]

    def ensure_hook(
        self,
        project_id: int,
        url: str,
        events: list[str],
        token: str | None,
        *,
        enable_ssl_verification: bool = True,
    ) -> ProjectHook:
        """Ensure one hook for `url` with exactly these `*_events` enabled.

        GitLab never returns a hook's secret token, so it is sent on every call when given
        (None leaves the stored one unchanged). Duplicate hooks for the same URL are removed.
        """
        unknown = sorted(set(events) - HOOK_EVENTS)
        if unknown:
            raise ValueError(f"Unknown GitLab hook events: {', '.join(unknown)}")
        data: dict[str, Any] = {"url": url, **{e: e in events for e in HOOK_EVENTS}}
        data["enable_ssl_verification"] = enable_ssl_verification
        if token is not None:
            data["token"] = token
        existing = [h for h in self.list_hooks(project_id) if h.url == url]
        manager = self._proj(project_id).hooks
        with _calling(f"saving the hook of project {project_id}"):
            if not existing:
                return _hook(manager.create(data).attributes)
            for duplicate in existing[1:]:
                manager.delete(duplicate.id)
            return _hook(manager.update(existing[0].id, data))

    def delete_hooks(self, project_id: int, url: str) -> int:
        """Delete every hook of the project that posts to `url`; return how many."""
        doomed = [h for h in self.list_hooks(project_id) if h.url == url]
        for hook in doomed:
            action = f"deleting hook {hook.id} of project {project_id}"
            _optional(action, lambda hook=hook: self._proj(project_id).hooks.delete(hook.id))
        return len(doomed)

    def group_members(self, group_path: str) -> dict[str, int]:
        """Return username → access level of the group's active members, inherited included."""
        group = self.get_group(group_path)
        if group is None:
            raise NotFound(f"GitLab group {group_path!r} does not exist.")
        with _calling(f"listing the members of group {group_path!r}"):
            members = self._gl.groups.get(group.id, lazy=True).members_all.list(get_all=True)
        return _member_levels(m.attributes for m in members)

    def group_member_level(self, group_path: str, user_id: int) -> int:
        """The access level of GitLab user `user_id` in the group, inherited included (0: none).

        Asked with the portal's token (`GET /groups/:id/members/all/:user_id`), so the answer
        does not depend on what the caller's own token may see.
        """
        group = self.get_group(group_path)
        if group is None:
            return 0
        manager = self._gl.groups.get(group.id, lazy=True).members_all
        member = _optional(
            f"reading a member of group {group_path!r}", lambda: manager.get(user_id)
        )
        if member is None or member.attributes.get("state", "active") != "active":
            return 0
        return int(member.attributes.get("access_level") or 0)

    def project_members(self, project_id: int) -> dict[str, int]:
        """Return username → access level of the project's active members, inherited included."""
        with _calling(f"listing the members of project {project_id}"):
            members = self._proj(project_id).members_all.list(get_all=True)
        return _member_levels(m.attributes for m in members)

    def add_group_member(self, group_path: str, username: str, access_level: int) -> None:
        """Give `username` at least `access_level` in the group (creators become Owners)."""
        group = self.get_group(group_path)
        if group is None:
            raise NotFound(f"GitLab group {group_path!r} does not exist.")
        with _calling(f"adding {username!r} to group {group_path!r}"):
            users = self._gl.users.list(username=username, get_all=False)
            if not users:
                raise NotFound(f"GitLab user {username!r} does not exist.")
            user_id = users[0].id
            members = self._gl.groups.get(group.id, lazy=True).members
            try:
                member = members.get(user_id)
            except gitlab.exceptions.GitlabGetError as exc:
                if not _is(exc, 404):
                    raise
                members.create({"user_id": user_id, "access_level": access_level})
                return
            if member.access_level < access_level:
                member.access_level = access_level
                member.save()

    def group_levels_for_token(self, token: str) -> dict[str, int]:
        """Return group full path → the token owner's access level, for every group they belong to.

        GitLab's group list does not say the caller's level, so ask once per level, highest
        first; five small requests with the caller's own token.
        """
        levels: dict[str, int] = {}
        with self._client(token, bearer=True) as client, _calling("listing a user's groups"):
            for level in (50, 40, 30, 20, 10):
                for group in client.groups.list(min_access_level=level, iterator=True):
                    levels.setdefault(group.attributes["full_path"], level)
        return levels

    def user_for_token(self, token: str) -> GitLabUser:
        """Return the GitLab user a personal or OAuth token belongs to (sent as Bearer)."""
        with self._client(token, bearer=True) as client, _calling("reading a token's user"):
            try:
                client.auth()
            except gitlab.exceptions.GitlabAuthenticationError:
                raise Unauthenticated("The GitLab token is invalid, expired or revoked.") from None
            except gitlab.exceptions.GitlabError as exc:
                if not _is(exc, 403):
                    raise
                raise Unauthenticated(
                    "The GitLab token cannot read its user; it needs the read_user or api scope."
                ) from None
            assert client.user is not None
            attrs = client.user.attributes
        email = attrs.get("email") or attrs.get("public_email") or ""
        return GitLabUser(attrs["id"], attrs["username"], attrs["name"], email)


def _member_levels(members: Iterable[dict[str, Any]]) -> dict[str, int]:
    return {m["username"]: int(m["access_level"]) for m in members if m.get("state") == "active"}
