"""Config repositories as bare Git repositories on local disk, driven by the real `git` binary.

`LocalConfigRepository` implements `ConfigRepository`; `LocalGitHost` implements `GitHost` as a
directory tree: groups are directories, projects are bare repositories `<group>/<project>.git`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nautes_portal.errors import Conflict, redact_paths
from nautes_portal.integrations.config_repo import (
    DEFAULT_BRANCH,
    Author,
    CommitConflict,
    CommitInfo,
    GitGroup,
    GitProject,
    RepositoryError,
)

logger = logging.getLogger(__name__)

SYSTEM = "git"
ZERO_SHA = "0" * 40
# Never read the user's or system's git config, never prompt: the portal's git must behave the
# same on every machine and must not hang waiting for a password.
_BASE_ENV = {
    "HOME": "/nonexistent",
    "XDG_CONFIG_HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}
# Concurrent committers queue on the ref lock instead of failing after git's default 100 ms.
_GIT_OPTIONS = ("-c", "core.quotepath=off", "-c", "core.filesRefLockTimeout=5000")
_BRANCH_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_VISIBILITIES = ("private", "internal", "public")


# An absolute path (or file:// URL) left in a message after the server's known directories were
# replaced: git's own messages quote the repositories and files they failed on.
_ABSOLUTE_PATH_RE = re.compile(r"(?:file://)?(?<![\w.~$-])/[^\s'\"`:;,()]+")


def _error(message: str, *, retryable: bool = False) -> RepositoryError:
    return RepositoryError(SYSTEM, message, retryable=retryable)


def safe_text(text: str) -> str:
    """`text` without absolute paths: the data directory's become `$NAUTES_DATA_DIR/...`,
    any other becomes `<path>`. Users see this; the log keeps the original."""
    return _ABSOLUTE_PATH_RE.sub("<path>", redact_paths(text))


def _os_error(what: str, exc: OSError, *, retryable: bool = False) -> RepositoryError:
    """A user-safe error for a failed file operation; the file's name stays in the log."""
    logger.warning("local Git host: cannot %s: %s", what, exc)
    reason = exc.strerror or type(exc).__name__
    return _error(f"Cannot {what}: {reason}.", retryable=retryable)


def run_git(
    args: list[str],
    *,
    git_dir: Path | None = None,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run git in a clean environment; a failure (when `check`) becomes a RepositoryError."""
    full_env = {"PATH": os.environ.get("PATH", os.defpath), **_BASE_ENV, **(env or {})}
    if git_dir is not None:
        full_env["GIT_DIR"] = str(git_dir)
    try:
        result = subprocess.run(
            ["git", *_GIT_OPTIONS, *args], input=input, env=full_env, capture_output=True
        )
    except OSError as exc:
        raise _os_error("run git", exc, retryable=True) from exc
    if check and result.returncode != 0:
        raise _failure(args[0], result)
    return result


def _failure(command: str, result: subprocess.CompletedProcess[bytes]) -> RepositoryError:
    stderr = result.stderr.decode(errors="replace").strip()
    logger.warning("git %s failed (exit status %s): %s", command, result.returncode, stderr)
    lines = safe_text(stderr).splitlines()
    summary = " / ".join(lines[-3:])[:300] or f"exit status {result.returncode}"
    return _error(f"git {command} failed: {summary}")


def validate_path(path: str) -> str:
    """Return `path` when it is a safe relative file path inside a repository."""
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or any(ord(char) < 32 for char in path)
        or any(part in ("", ".", "..") or part.lower() == ".git" for part in parts)
    ):
        raise _error(
            f"Invalid repository path {path!r}: it must be relative, without '.', '..', "
            "'.git' or empty components."
        )
    return path


def _quote_path(path: str) -> bytes:
    """A fast-import path as a C-style quoted string (paths never hold control characters)."""
    return b'"' + path.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'


def _person(author: Author) -> bytes:
    """`Name <email> <time> +0000` for fast-import; `<`, `>` and line breaks cannot appear."""
    name = re.sub(r"[<>\n\r]", "", author.name).strip() or "unknown"
    email = re.sub(r"[<>\n\r\s]", "", author.email)
    return f"{name} <{email}> {int(time.time())} +0000".encode()


def _fast_import_stream(
    scratch_ref: str,
    changes: dict[str, bytes | None],
    parent: str | None,
    message: str,
    author: Author,
) -> bytes:
    """The `git fast-import` input for one commit of `changes` on top of `parent`."""
    text = (message if message.endswith("\n") else f"{message}\n").encode()
    person = _person(author)
    out = [
        f"commit {scratch_ref}\nmark :1\n".encode(),
        b"author " + person + b"\n",
        b"committer " + person + b"\n",
        f"data {len(text)}\n".encode() + text,
    ]
    if parent:
        out.append(f"from {parent}\n".encode())
    for path, content in sorted(changes.items()):
        if content is None:
            out.append(b"D " + _quote_path(path) + b"\n")
        else:
            out.append(b"M 100644 inline " + _quote_path(path) + b"\n")
            out.append(f"data {len(content)}\n".encode() + content + b"\n")
    out.append(b"\ndone\n")
    return b"".join(out)


def _check_branch(branch: str) -> str:
    if not _BRANCH_RE.fullmatch(branch) or ".." in branch or branch.endswith((".lock", ".")):
        raise _error(f"Invalid branch name {branch!r}.")
    return branch


class LocalConfigRepository:
    """A `ConfigRepository` over a bare repository on local disk."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def init_bare(cls, path: Path, *, branch: str = DEFAULT_BRANCH) -> LocalConfigRepository:
        """Create a bare repository at `path` (harmless when one exists) and return it."""
        run_git(
            ["init", "--quiet", "--bare", f"--initial-branch={_check_branch(branch)}", str(path)]
        )
        return cls(path)

    def _git(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        return run_git(list(args), git_dir=self.path, **kwargs)

    def _out(self, *args: str, **kwargs: Any) -> str:
        return self._git(*args, **kwargs).stdout.decode().strip()

    def _resolve(self, ref: str) -> str | None:
        result = self._git(
            "rev-parse", "-q", "--verify", "--end-of-options", f"{ref}^{{commit}}", check=False
        )
        if result.returncode == 1:  # Unknown revision (a broken repository exits with 128).
            return None
        if result.returncode != 0:
            raise _failure("rev-parse", result)
        return result.stdout.decode().strip()

    def _commit_of(self, ref: str) -> str | None:
        """Resolve `ref`; None only in an empty repository, where every ref reads as empty."""
        sha = self._resolve(ref)
        if sha is None and self._out("for-each-ref", "--count=1", "refs/heads"):
            raise _error(f"Unknown revision {ref!r}.")
        return sha

    def _require(self, ref: str) -> str:
        sha = self._commit_of(ref)
        if sha is None:
            raise _error(f"Unknown revision {ref!r}: the repository is empty.")
        return sha

    def head(self, branch: str = DEFAULT_BRANCH) -> str | None:
        """Return the tip of `branch`, or None when the branch does not exist (empty repository)."""
        return self._resolve(f"refs/heads/{_check_branch(branch)}")

    def _cat(self, names: list[str]) -> list[tuple[str, bytes] | None]:
        """Read objects with one `cat-file --batch` process: (type, content) or None if missing."""
        if not names:
            return []
        out = self._git(
            "cat-file", "--batch", input="".join(f"{n}\n" for n in names).encode()
        ).stdout
        objects: list[tuple[str, bytes] | None] = []
        pos = 0
        for _ in names:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode(errors="replace").split()
            if header[-1] in ("missing", "ambiguous"):
                objects.append(None)
                pos = end + 1
                continue
            size = int(header[2])
            objects.append((header[1], out[end + 1 : end + 1 + size]))
            pos = end + 1 + size + 1  # Content is followed by a newline.
        return objects

    def read_tree(self, ref: str) -> dict[str, bytes]:
        """Return every file at `ref` (an empty repository reads as no files)."""
        commit = self._commit_of(ref)
        if commit is None:
            return {}
        listing = self._git("ls-tree", "-r", "-z", "--full-tree", commit).stdout
        blobs: list[tuple[str, str]] = []
        for entry in filter(None, listing.split(b"\0")):
            meta, name = entry.split(b"\t", 1)
            _mode, kind, sha = meta.decode().split()
            if kind == "blob":  # Skip submodule entries (`commit`); they have no content here.
                blobs.append((name.decode(errors="surrogateescape"), sha))
        contents = self._cat([sha for _, sha in blobs])
        return {name: obj[1] for (name, _), obj in zip(blobs, contents, strict=True) if obj}

    def read_file(self, ref: str, path: str) -> bytes | None:
        """Return the file at `path` in `ref`, or None when there is no such file."""
        validate_path(path)
        commit = self._commit_of(ref)
        if commit is None:
            return None
        (obj,) = self._cat([f"{commit}:{path}"])
        return obj[1] if obj and obj[0] == "blob" else None

    def commit(
        self,
        *,
        changes: dict[str, bytes | None],
        expected_parent: str | None,
        message: str,
        author: Author,
        branch: str = DEFAULT_BRANCH,
    ) -> str:
        """Write `changes` as one commit; the ref update is a compare-and-swap on `expected_parent`.

        Two git processes: `fast-import` writes the blobs, trees and the commit (on a private
        temporary ref, so concurrent committers share nothing), then one `update-ref --stdin`
        transaction moves the branch only if it still points at `expected_parent` and drops the
        temporary ref. A commit that changes nothing is still created (an empty commit).
        """
        ref = f"refs/heads/{_check_branch(branch)}"
        for path in changes:
            validate_path(path)
        scratch = f"refs/nautes/commit-{uuid.uuid4().hex}"
        stream = _fast_import_stream(scratch, changes, expected_parent, message, author)
        try:
            with tempfile.TemporaryDirectory(prefix="nautes-commit-") as tmp:
                marks = Path(tmp, "marks")
                result = self._git(
                    "fast-import",
                    "--quiet",
                    "--done",
                    f"--export-marks={marks}",
                    input=stream,
                    check=False,
                )
                if result.returncode != 0:
                    self._conflict_or(result, "fast-import", ref, expected_parent)
                new = marks.read_text().split()[1]  # ":1 <sha>"
        except OSError as exc:
            raise _os_error("write the commit", exc, retryable=True) from exc
        transaction = f"update {ref} {new} {expected_parent or ZERO_SHA}\ndelete {scratch} {new}\n"
        result = self._git("update-ref", "--stdin", input=transaction.encode(), check=False)
        if result.returncode != 0:
            self._git("update-ref", "-d", scratch, check=False)
            self._conflict_or(result, "update-ref", ref, expected_parent)
        return new

    def _conflict_or(
        self,
        result: subprocess.CompletedProcess[bytes],
        command: str,
        ref: str,
        expected_parent: str | None,
    ) -> None:
        """Raise CommitConflict when the branch moved away from `expected_parent`, else the
        command's failure."""
        found = self._resolve(ref)
        if found != expected_parent:
            raise CommitConflict.moved(expected_parent, found)
        raise _failure(command, result)

    def history(
        self, *, ref: str = DEFAULT_BRANCH, path: str | None = None, limit: int = 50
    ) -> list[CommitInfo]:
        """Return up to `limit` commits from `ref`, newest first, with every path each touched."""
        commit = self._commit_of(ref)
        if commit is None:
            return []
        # Each record starts with an empty NUL-separated field, which no path can be.
        fmt = "%x00%H%x00%P%x00%an%x00%ae%x00%aI%x00%B"
        args = ["log", "-z", "--name-only", "--no-renames", "--full-diff", f"--format={fmt}"]
        args += [f"--max-count={int(limit)}", commit, "--"]
        if path:
            args.append(validate_path(path.rstrip("/")))
        tokens = self._git(*args, env={"GIT_LITERAL_PATHSPECS": "1"}).stdout.split(b"\0")
        commits: list[CommitInfo] = []
        pos = 1  # tokens[0] is the empty field opening the first record.
        while pos + 6 <= len(tokens):
            sha, parents, name, email, date, body = (
                t.decode(errors="replace") for t in tokens[pos : pos + 6]
            )
            pos += 6
            paths: list[str] = []
            while pos < len(tokens) and tokens[pos]:
                paths.append(tokens[pos].decode(errors="surrogateescape").lstrip("\n"))
                pos += 1
            pos += 1  # Skip the empty field opening the next record.
            when = dt.datetime.fromisoformat(date)
            info = (sha, tuple(parents.split()), name, email, when, body.rstrip("\n"), tuple(paths))
            commits.append(CommitInfo(*info))
        return commits

    def diff(self, old: str | None, new: str) -> str:
        """Return the unified diff from `old` (default: `new`'s first parent) to `new`."""
        new_sha = self._require(new)
        if old is not None:
            old_sha = self._require(old)
        elif parents := self._out("rev-parse", f"{new_sha}^@").split():
            old_sha = parents[0]
        else:  # A root commit: diff against the empty tree.
            old_sha = self._out("hash-object", "-t", "tree", "--stdin", input=b"")
        args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames"]
        return self._git(*args, old_sha, new_sha, "--").stdout.decode(errors="replace")


_GITLAB_PATH_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,253}[A-Za-z0-9])?")


def validate_host_path(path: str, *, what: str = "group", nested: bool = False) -> str:
    """Return `path` when it is a valid GitLab group/project path (`a/b` only when `nested`)."""
    segments = path.split("/") if nested else [path]
    for segment in segments:
        if (
            not _GITLAB_PATH_RE.fullmatch(segment)
            or re.search(r"[_.-]{2}", segment)
            or segment.lower().endswith((".git", ".atom"))
        ):
            raise _error(
                f"Invalid {what} path {path!r}: use letters, digits, '_', '-' and '.', start and "
                "end with a letter or digit, no consecutive special characters, no '.git' suffix."
            )
    return path


def _check_visibility(visibility: str) -> str:
    if visibility not in _VISIBILITIES:
        raise _error(f"Invalid visibility {visibility!r}: use one of {', '.join(_VISIBILITIES)}.")
    return visibility


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _os_error(f"read the local Git host's file {path.name}", exc) from exc
    except ValueError as exc:
        logger.warning("local Git host: %s is not valid JSON: %s", path, exc)
        raise _error(f"The local Git host's file {path.name} is not valid JSON.") from exc


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Replace `path` atomically (readers see the old or the new file); call under the lock."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())  # An id counter that rolls back after a crash would reuse ids.
    os.replace(tmp, path)


class LocalGitHost:
    """A `GitHost` on disk: groups are directories, projects are bare repositories in them.

    Every change runs under one `flock` on `root/.nautes-host.lock`, so concurrent processes
    never allocate the same id or half-create a project; reads take no lock (files are replaced
    atomically, deletions are a rename followed by removal).
    """

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
