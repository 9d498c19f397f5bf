"""Private files in the data directory, created so that concurrent first starts cannot race.

Imported by the settings: no Django here. Everything the portal generates under
NAUTES_DATA_DIR (secret key, SQLite database, OpenBao keys) is readable by its owner only, and
a generated file appears complete or not at all: it is written to a temporary file in the same
directory, then linked (create-once files) or renamed (rewritten files) into place.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if missing; make it owner-only (where we may chmod it)."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> None:
    """Make an existing file owner-only; a missing one is left missing."""
    if path.exists():
        _tighten(path, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 & ~mode:
            os.chmod(path, mode)
    except PermissionError:
        # A mounted volume owned by someone else (e.g. a container's fsGroup): leave it as is.
        pass


def _temp_copy(path: Path, content: str, mode: int) -> Path:
    """`content` in a new temporary file next to `path`, flushed to disk, with exactly `mode`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # O_CREAT honours the umask; make the mode exact.
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def create_once(path: Path, make: Callable[[], str], *, mode: int = PRIVATE_FILE) -> str:
    """The content of `path`, creating it with `make()` if it does not exist yet.

    Many processes may call this at once on a fresh directory: each writes its own temporary
    file and links it into place; the link fails for all but one, and the others read the
    winner's file. Nobody ever sees a partly written file.
    """
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    tmp = _temp_copy(path, make(), mode)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won: its file is complete (it was linked after being written)
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text()


def replace_file(path: Path, content: str, *, mode: int = PRIVATE_FILE) -> None:
    """Write `path` atomically (temporary file + rename), created with `mode`."""
    tmp = _temp_copy(path, content, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_new(path: Path, content: str, *, mode: int = PRIVATE_FILE) -> None:
    """Write `path` atomically, refusing (FileExistsError) to replace an existing file."""
    tmp = _temp_copy(path, content, mode)
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_empty_file(path: Path, *, mode: int = PRIVATE_FILE) -> None:
    """Create `path` empty with `mode` unless it exists (then only tighten its mode).

    SQLite creates a missing database file 0644 and gives its -wal and -shm files the mode of the
    database file: creating it first makes all three owner-only.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        private_file(path)
        return
    os.fchmod(fd, mode)
    os.close(fd)
