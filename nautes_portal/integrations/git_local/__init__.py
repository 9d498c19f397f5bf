"""Config repositories as bare Git repositories on local disk, driven by the real `git` binary.

`LocalConfigRepository` implements `ConfigRepository`; `LocalGitHost` implements `GitHost` as a
directory tree: groups are directories, projects are bare repositories `<group>/<project>.git`.

The package, one module per job: `process` (running git in a clean environment, its errors),
`paths` (validating paths, branches and visibilities), `repository` (`LocalConfigRepository`:
commits via fast-import and update-ref), `metadata` (the host's JSON files) and `host`
(`LocalGitHost`: groups, projects, ids, the lock).
"""

from __future__ import annotations

from nautes_portal.integrations.git_local.host import LocalGitHost
from nautes_portal.integrations.git_local.paths import validate_host_path, validate_path
from nautes_portal.integrations.git_local.process import SYSTEM, run_git, safe_text
from nautes_portal.integrations.git_local.repository import ZERO_SHA, LocalConfigRepository

__all__ = [
    "SYSTEM",
    "ZERO_SHA",
    "LocalConfigRepository",
    "LocalGitHost",
    "run_git",
    "safe_text",
    "validate_host_path",
    "validate_path",
]
