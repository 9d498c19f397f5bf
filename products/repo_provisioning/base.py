"""What every repository provisioning step shares: names and lifetimes, the logger, and the
adapters (the GitLab host, or None for the local backend; the operation's project id).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import cast

from nautes_portal.integrations import git_host
from nautes_portal.integrations.gitlab import GitLabHost
from nautes_portal.operations.models import Operation

# The package's logger: one name for all the steps, as before the split.
logger = logging.getLogger(__package__)


READONLY = "readonly"


READWRITE = "readwrite"


PERMISSIONS: tuple[str, ...] = (READONLY, READWRITE)


ACCESS_TOKEN_NAME = "accesstoken-api"  # noqa: S105 (a token name, not a value)


ACCESS_TOKEN_SCOPES: tuple[str, ...] = ("api",)


ACCESS_TOKEN_LIFETIME = dt.timedelta(days=365)


# A token this close to expiry is replaced, so that consumers never hold a dead one.
ACCESS_TOKEN_RENEW_BEFORE = dt.timedelta(days=30)


REFRESH_DENIED = "REFRESH_PERMISSIONS_ACCESS_DENIED"


# A deploy key the portal manages: `repo-<pid>-<perm>`; other titles are never touched.
_MANAGED_TITLE = re.compile(r"^(repo-\d+)-(readonly|readwrite)$")


_LOCAL = "local backend: "


def _gitlab() -> GitLabHost | None:
    """The Git host when it manages project access (GitLab); None for the local backend."""
    host = git_host()
    # The flag, not the type, decides: tests and future backends may wrap GitLabHost.
    return cast(GitLabHost, host) if host.manages_project_access else None


def _project_id(operation: Operation) -> int:
    return int(operation.params["project_id"])


def _today() -> dt.date:
    # GitLab expires tokens at midnight UTC.
    return dt.datetime.now(dt.UTC).date()
