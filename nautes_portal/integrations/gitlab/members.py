"""Memberships (group and project members, adding a member) and who a caller's token belongs to
(its user, and its level in every group)."""

from __future__ import annotations

import gitlab.exceptions

from nautes_portal.errors import NotFound, Unauthenticated
from nautes_portal.integrations.gitlab.errors import _calling, _is, _optional
from nautes_portal.integrations.gitlab.groups import GitLabGroups
from nautes_portal.integrations.gitlab.objects import GitLabUser, _member_levels


class GitLabMembers(GitLabGroups):
    """Members of groups and projects, and the owners of callers' tokens."""

    def group_members(self, group_path: str) -> dict[str, int]:
        """Return username → access level of the group's active members, inherited included."""
        group = self.get_group(group_path)
        if group is None:
            raise NotFound(f"GitLab group {group_path!r} does not exist.")
        with _calling(f"listing the members of group {group_path!r}"):
            members = self._gl.groups.get(group.id, lazy=True).members_all.list(get_all=True)
        return _member_levels(m.attributes for m in members)

    def group_member_level(self, group_path: str, user_id: int) -> int:
        """The access level of GitLab user `user_id` in the group, inherited included (0: none).

        Asked with the portal's token (`GET /groups/:id/members/all/:user_id`), so the answer
        does not depend on what the caller's own token may see.
        """
        group = self.get_group(group_path)
        if group is None:
            return 0
        manager = self._gl.groups.get(group.id, lazy=True).members_all
        member = _optional(
            f"reading a member of group {group_path!r}", lambda: manager.get(user_id)
        )
        if member is None or member.attributes.get("state", "active") != "active":
            return 0
        return int(member.attributes.get("access_level") or 0)

    def project_members(self, project_id: int) -> dict[str, int]:
        """Return username → access level of the project's active members, inherited included."""
        with _calling(f"listing the members of project {project_id}"):
            members = self._proj(project_id).members_all.list(get_all=True)
        return _member_levels(m.attributes for m in members)

    def add_group_member(self, group_path: str, username: str, access_level: int) -> None:
        """Give `username` at least `access_level` in the group (creators become Owners)."""
        group = self.get_group(group_path)
        if group is None:
            raise NotFound(f"GitLab group {group_path!r} does not exist.")
        with _calling(f"adding {username!r} to group {group_path!r}"):
            users = self._gl.users.list(username=username, get_all=False)
            if not users:
                raise NotFound(f"GitLab user {username!r} does not exist.")
            user_id = users[0].id
            members = self._gl.groups.get(group.id, lazy=True).members
            try:
                member = members.get(user_id)
            except gitlab.exceptions.GitlabGetError as exc:
                if not _is(exc, 404):
                    raise
                members.create({"user_id": user_id, "access_level": access_level})
                return
            if member.access_level < access_level:
                member.access_level = access_level
                member.save()

    def group_levels_for_token(self, token: str) -> dict[str, int]:
        """Return group full path → the token owner's access level, for every group they belong to.

        GitLab's group list does not say the caller's level, so ask once per level, highest
        first; five small requests with the caller's own token.
        """
        levels: dict[str, int] = {}
        with self._client(token, bearer=True) as client, _calling("listing a user's groups"):
            for level in (50, 40, 30, 20, 10):
                for group in client.groups.list(min_access_level=level, iterator=True):
                    levels.setdefault(group.attributes["full_path"], level)
        return levels

    def user_for_token(self, token: str) -> GitLabUser:
        """Return the GitLab user a personal or OAuth token belongs to (sent as Bearer)."""
        with self._client(token, bearer=True) as client, _calling("reading a token's user"):
            try:
                client.auth()
            except gitlab.exceptions.GitlabAuthenticationError:
                raise Unauthenticated("The GitLab token is invalid, expired or revoked.") from None
            except gitlab.exceptions.GitlabError as exc:
                if not _is(exc, 403):
                    raise
                raise Unauthenticated(
                    "The GitLab token cannot read its user; it needs the read_user or api scope."
                ) from None
            assert client.user is not None
            attrs = client.user.attributes
        email = attrs.get("email") or attrs.get("public_email") or ""
        return GitLabUser(attrs["id"], attrs["username"], attrs["name"], email)
