"""`GitLabHost`: the `GitHost` on a GitLab instance, made of its parts (client, groups and
projects, provisioning, members)."""

from __future__ import annotations

from nautes_portal.integrations.gitlab.members import GitLabMembers
from nautes_portal.integrations.gitlab.provisioning import GitLabProvisioning


class GitLabHost(GitLabProvisioning, GitLabMembers):
    """A `GitHost` on a GitLab instance, acting with the portal's own token."""

    # Capabilities (`GitHost`): GitLab keeps project access and group members itself.
    manages_project_access = True
    manages_group_members = True

    def __repr__(self) -> str:
        return f"GitLabHost({self.url!r})"  # Never the token.
