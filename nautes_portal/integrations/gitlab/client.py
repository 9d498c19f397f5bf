"""`GitLabClient`: the python-gitlab session a `GitLabHost` acts through (the portal's own token,
always with a timeout), and clients for a caller's own token."""

from __future__ import annotations

from typing import Any

import gitlab


class GitLabClient:
    """The connection to one GitLab instance; the base of `GitLabHost`."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        ssl_verify: bool | str = True,
        page_size: int = 100,
    ) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._ssl_verify = ssl_verify
        self._page_size = page_size
        self._gl = self._client(token)

    def _client(self, token: str, *, bearer: bool = False) -> gitlab.Gitlab:
        return gitlab.Gitlab(
            self.url,
            private_token=None if bearer else token,
            oauth_token=token if bearer else None,
            timeout=self._timeout,  # Always set: a hung GitLab must not hang a portal request.
            ssl_verify=self._ssl_verify,
            per_page=self._page_size,
            retry_transient_errors=False,  # The caller decides; errors say "try again".
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._gl.session.close()

    def _proj(self, project_id: int) -> Any:
        return self._gl.projects.get(project_id, lazy=True)
