"""Validating what reaches git and the disk: file paths inside a repository, branch names,
GitLab-like group and project paths, visibilities.
"""

from __future__ import annotations

import re

from nautes_portal.integrations.git_local.process import _error

_BRANCH_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")


_VISIBILITIES = ("private", "internal", "public")


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


def _check_branch(branch: str) -> str:
    if not _BRANCH_RE.fullmatch(branch) or ".." in branch or branch.endswith((".lock", ".")):
        raise _error(f"Invalid branch name {branch!r}.")
    return branch


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
