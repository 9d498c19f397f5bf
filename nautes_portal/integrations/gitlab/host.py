"""`GitLabHost`: the `GitHost` on a GitLab instance, made of its parts (client, groups and
projects, provisioning, members)."""

from __future__ import annotations

from nautes_portal.integrations.gitlab.members import GitLabMembers
from nautes_portal.integrations.gitlab.provisioning import GitLabProvisioning


class GitLabHost(GitLabProvisioning, GitLabMembers):
    """A `GitHost` on a GitLab instance, acting with the portal's own token."""

    def __repr__(self) -> str:
        return f"GitLabHost({self.url!r})"  # Never the token.
