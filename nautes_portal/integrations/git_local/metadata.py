"""The local host's JSON files (group and project metadata, id counters): read, and
replaced atomically under the host's lock.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nautes_portal.integrations.git_local.process import _error, _os_error, logger


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
