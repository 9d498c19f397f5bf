"""Config repositories and provisioning on GitLab, through python-gitlab (REST API v4).

`GitLabConfigRepository` implements `ConfigRepository` with the Commits API; `GitLabHost`
implements `GitHost` (groups and projects) plus the provisioning upstream Nautes does in GitLab:
protected branches, deploy keys, project access tokens, hooks, memberships and token owners.

This is the only package that imports `gitlab`. Every python-gitlab object stays here (callers
get small frozen dataclasses) and every python-gitlab or `requests` failure is translated here
into a `NautesError` with a user-safe message; tokens never reach a message or a log record.

The package, one module per job: `errors` (failures as portal errors), `objects` (the
dataclasses callers get, and the mapping from GitLab's attributes), `repository`
(`GitLabConfigRepository`), and `GitLabHost` (`host`) built from `client` (the session),
`groups` (groups and projects), `provisioning` (protected branches, deploy keys, access tokens,
hooks) and `members` (memberships and token owners). Logs go to this package's logger.
"""

from __future__ import annotations

from nautes_portal.integrations.gitlab.errors import SYSTEM, translate
from nautes_portal.integrations.gitlab.host import GitLabHost
from nautes_portal.integrations.gitlab.objects import (
    HOOK_EVENTS,
    MAINTAINER,
    AccessToken,
    DeployKey,
    GitLabUser,
    ProjectHook,
    ProtectedBranch,
)
from nautes_portal.integrations.gitlab.repository import GitLabConfigRepository

__all__ = [
    "HOOK_EVENTS",
    "MAINTAINER",
    "SYSTEM",
    "AccessToken",
    "DeployKey",
    "GitLabConfigRepository",
    "GitLabHost",
    "GitLabUser",
    "ProjectHook",
    "ProtectedBranch",
    "translate",
]
