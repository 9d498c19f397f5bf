"""`LocalConfigRepository`: a bare repository on disk; a commit is one `git fast-import`
into a scratch ref, then a compare-and-swap `git update-ref` of the branch.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from nautes_portal.integrations.config_repo import (
    DEFAULT_BRANCH,
    Author,
    CommitConflict,
    CommitInfo,
)
from nautes_portal.integrations.git_local.paths import _check_branch, validate_path
from nautes_portal.integrations.git_local.process import _error, _failure, _os_error, run_git

ZERO_SHA = "0" * 40


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
