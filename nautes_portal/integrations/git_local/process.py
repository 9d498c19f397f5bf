"""Running the `git` binary: a clean environment that never reads the user's or system's
config and never prompts; a failure becomes a `RepositoryError` without server paths.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from nautes_portal.errors import redact_paths
from nautes_portal.integrations.config_repo import RepositoryError

# The package's logger: one name for the whole backend, as before the split.
logger = logging.getLogger(__package__)


SYSTEM = "git"


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
