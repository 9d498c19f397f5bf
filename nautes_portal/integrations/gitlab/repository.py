"""`GitLabConfigRepository`: a `ConfigRepository` over one GitLab project, read through the
repository and files APIs and written through the Commits API (one commit per change)."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import logging
from typing import Any, cast

import gitlab
import gitlab.exceptions

from nautes_portal.integrations.config_repo import (
    DEFAULT_BRANCH,
    Author,
    CommitConflict,
    CommitInfo,
    RepositoryError,
)
from nautes_portal.integrations.git_local import validate_path
from nautes_portal.integrations.gitlab.errors import SYSTEM, _calling, _is

logger = logging.getLogger(__package__)

# Commits API refusals that mean "the files moved under you" (Files::MultiService and Gitaly).
_STALE_WRITE = (
    "has changed since you started editing it",
    "A file with this name already exists",
    "A file with this name doesn't exist",
    "A directory with this name already exists",
)


def _unknown_revision(ref: str) -> RepositoryError:
    return RepositoryError(SYSTEM, f"Unknown revision {ref!r}.", retryable=False)


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
                    entries = cast(dict[str, Any], compared)["diffs"]
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
