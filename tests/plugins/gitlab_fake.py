"""Pytest plugin: a fake GitLab server per test.

`fake_gitlab` is a started `tests.fakes.gitlab_server.FakeGitLab` on a free 127.0.0.1 port with
one administrator, `portal-bot` (token `portal-bot-token`), the identity the portal uses. Tests
add users, groups, projects and faults through the server's helpers (`add_user`, `create_group`,
`create_project`, `add_member`, `seed_commit`, `fail_next`) and assert on `requests`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.gitlab_server import FakeGitLab

PORTAL_BOT = "portal-bot"
PORTAL_BOT_TOKEN = "portal-bot-token"


@pytest.fixture
def fake_gitlab() -> Iterator[FakeGitLab]:
    """A running fake GitLab with the portal's admin user; stopped after the test."""
    server = FakeGitLab()
    server.add_user(
        PORTAL_BOT, "Portal Bot", "portal-bot@example.com", PORTAL_BOT_TOKEN, admin=True
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
