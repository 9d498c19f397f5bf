"""The fake GitLab server itself: GitLab's REST shapes, spoken over plain HTTP."""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.fakes.gitlab_server import DEVELOPER, GUEST, MAINTAINER, OWNER, FakeGitLab
from tests.plugins.gitlab_fake import PORTAL_BOT_TOKEN

Api = Callable[..., requests.Response]


@pytest.fixture
def api(fake_gitlab: FakeGitLab) -> Api:
    """Call `/api/v4<path>` as the portal bot (or with `token=`)."""
    session = requests.Session()

    def call(method: str, path: str, token: str | None = PORTAL_BOT_TOKEN, **kwargs: Any) -> Any:
        headers = {"PRIVATE-TOKEN": token} if token else {}
        url = f"{fake_gitlab.url}/api/v4{path}"
        return session.request(method, url, headers=headers, timeout=5, **kwargs)

    return call


def _commit(api: Api, project: str, actions: list[dict[str, Any]], **extra: Any) -> Any:
    body = {"branch": "main", "commit_message": "m", "actions": actions, **extra}
    return api("POST", f"/projects/{project}/repository/commits", json=body)


def test_authentication(fake_gitlab: FakeGitLab, api: Api) -> None:
    for token in (None, "nope"):
        response = api("GET", "/user", token=token)
        assert (response.status_code, response.json()) == (401, {"message": "401 Unauthorized"})
    assert api("GET", "/user").json()["username"] == "portal-bot"
    bearer = requests.get(
        f"{fake_gitlab.url}/api/v4/user",
        headers={"Authorization": f"Bearer {PORTAL_BOT_TOKEN}"},
        timeout=5,
    )
    assert bearer.json()["is_admin"] is True
    user = fake_gitlab.add_user("alice", "Alice", "alice@example.com", "alice-token")
    assert api("GET", "/users", params={"username": "ALICE"}).json()[0]["id"] == user.id
    assert (
        api("GET", f"/users/{user.id}", token="alice-token").json()["email"] == "alice@example.com"
    )
    assert api("GET", "/users/999").json() == {"message": "404 User Not Found"}


def test_encoded_paths_are_one_segment(fake_gitlab: FakeGitLab, api: Api) -> None:
    fake_gitlab.create_group("a")
    group = fake_gitlab.create_group("a/b")
    project = fake_gitlab.create_project("a/b/default.project")
    assert api("GET", "/groups/a%2Fb").json()["id"] == group.id
    assert api("GET", "/groups/A%2FB").json()["full_path"] == "a/b"  # Case-insensitive.
    by_path = api("GET", "/projects/a%2Fb%2Fdefault.project").json()
    assert by_path == api("GET", f"/projects/{project.id}").json()
    assert by_path["path_with_namespace"] == "a/b/default.project"
    assert by_path["namespace"] == {
        "id": group.id,
        "name": "b",
        "path": "b",
        "kind": "group",
        "full_path": "a/b",
        "parent_id": group.parent.id if group.parent else None,
        "web_url": f"{fake_gitlab.url}/groups/a/b",
    }
    assert by_path["ssh_url_to_repo"] == "git@127.0.0.1:a/b/default.project.git"
    unencoded = api("GET", "/projects/a/b/default.project")
    assert (unencoded.status_code, unencoded.json()) == (404, {"error": "404 Not Found"})
    assert api("GET", "/projects/a%2Fmissing").json() == {"message": "404 Project Not Found"}


def test_pagination_headers_and_links(fake_gitlab: FakeGitLab, api: Api) -> None:
    for number in range(25):
        fake_gitlab.create_group(f"g{number:02}")
    first = api("GET", "/groups", params={"search": "g"})
    assert len(first.json()) == 20
    headers = first.headers
    assert (headers["X-Page"], headers["X-Per-Page"], headers["X-Total"]) == ("1", "20", "25")
    assert (headers["X-Total-Pages"], headers["X-Next-Page"], headers["X-Prev-Page"]) == (
        "2",
        "2",
        "",
    )
    assert first.links["next"]["url"] == (
        f"{fake_gitlab.url}/api/v4/groups?search=g&page=2&per_page=20"
    )
    assert set(first.links) == {"next", "first", "last"}
    second = requests.get(
        first.links["next"]["url"], headers={"PRIVATE-TOKEN": PORTAL_BOT_TOKEN}, timeout=5
    )
    assert [g["path"] for g in second.json()] == [f"g{n}" for n in range(20, 25)]
    assert set(second.links) == {"prev", "first", "last"}
    assert len(api("GET", "/groups", params={"per_page": 500}).json()) == 25  # Capped at 100.


def test_groups_visibility_membership_and_errors(fake_gitlab: FakeGitLab, api: Api) -> None:
    created = api("POST", "/groups", json={"name": "Nautes", "path": "nautes"})
    assert created.status_code == 201
    duplicate = api("POST", "/groups", json={"name": "Again", "path": "nautes"})
    assert (duplicate.status_code, duplicate.json()) == (
        400,
        {"message": {"path": ["has already been taken"]}},
    )
    assert api("POST", "/groups", json={"name": "x"}).json() == {"error": "path is missing"}
    bot = fake_gitlab.user("portal-bot")
    assert fake_gitlab.group("nautes").members == {bot.id: OWNER}  # The creator owns it.

    fake_gitlab.add_user("dev", "Dev", "dev@example.com", "dev-token")
    hidden = api("GET", "/groups/nautes", token="dev-token")
    assert (hidden.status_code, hidden.json()) == (404, {"message": "404 Group Not Found"})
    assert api("GET", "/groups", token="dev-token").json() == []
    sub = fake_gitlab.create_group("nautes/sub")
    fake_gitlab.add_member(sub, "dev", DEVELOPER)
    assert api("GET", "/groups/nautes", token="dev-token").status_code == 200  # Via the subgroup.
    denied = api("DELETE", "/groups/nautes%2Fsub", token="dev-token")
    assert (denied.status_code, denied.json()) == (403, {"message": "403 Forbidden"})
    added = api("POST", "/groups/nautes/members", json={"user_id": 2, "access_level": GUEST})
    assert added.status_code == 201
    assert (
        api("POST", "/groups/nautes/members", json={"user_id": 2, "access_level": 10}).status_code
        == 409
    )
    members = api("GET", "/groups/nautes%2Fsub/members/all").json()
    assert {m["username"]: m["access_level"] for m in members} == {
        "portal-bot": OWNER,
        "dev": DEVELOPER,
    }
    assert api("GET", "/groups/nautes%2Fsub/members").json()[0]["username"] == "dev"
    assert api("GET", "/groups/nautes/members/2").json()["access_level"] == GUEST
    assert api("GET", "/groups/nautes/members/99").json() == {"message": "404 Member Not Found"}
    project = api(
        "POST", "/projects", json={"name": "p", "namespace_id": sub.id}, token="dev-token"
    )
    assert project.json() == {"message": {"namespace": ["is not valid"]}}  # Needs Maintainer.
    deleted = api("DELETE", "/groups/nautes")
    assert (deleted.status_code, deleted.json()) == (202, {"message": "202 Accepted"})
    assert fake_gitlab.groups == {}


def test_files_tree_and_commit_shapes(fake_gitlab: FakeGitLab, api: Api) -> None:
    fake_gitlab.create_group("g")
    project = fake_gitlab.create_project("g/p")
    assert api("GET", "/projects/g%2Fp/repository/tree").json() == {"message": "404 Tree Not Found"}
    content = b"kind: Cluster\n"
    made = _commit(
        api,
        "g%2Fp",
        [
            {"action": "create", "file_path": "a/b.yaml", "content": content.decode()},
            {"action": "create", "file_path": "c.bin", "content": "AP8=", "encoding": "base64"},
        ],
        author_name="Alice",
        author_email="alice@example.com",
    )
    assert made.status_code == 201
    commit = made.json()
    assert (commit["parent_ids"], commit["author_name"], commit["committer_name"]) == (
        [],
        "Alice",
        "Portal Bot",
    )
    assert commit["stats"] == {"additions": 1, "deletions": 0, "total": 1}
    assert project.default_branch == "main"
    assert project.protected["main"].push_access_level == MAINTAINER  # GitLab's default.

    file = api("GET", "/projects/g%2Fp/repository/files/a%2Fb.yaml", params={"ref": "main"})
    body = file.json()
    assert base64.b64decode(body["content"]) == content
    git_blob = subprocess.run(
        ["git", "hash-object", "--stdin"], input=content, capture_output=True, check=True
    )
    assert body["blob_id"] == git_blob.stdout.decode().strip()  # A real Git blob id.
    assert body["last_commit_id"] == commit["id"] == file.headers["X-Gitlab-Last-Commit-Id"]
    head = requests.head(
        f"{fake_gitlab.url}/api/v4/projects/{project.id}/repository/files/a%2Fb.yaml?ref=main",
        headers={"PRIVATE-TOKEN": PORTAL_BOT_TOKEN},
        timeout=5,
    )
    assert head.headers["X-Gitlab-Size"] == str(len(content))
    raw = api("GET", "/projects/g%2Fp/repository/files/c.bin/raw", params={"ref": commit["id"]})
    assert raw.content == b"\x00\xff"
    missing = api("GET", "/projects/g%2Fp/repository/files/a%2Fnope/raw")
    assert missing.json() == {"message": "404 File Not Found"}
    assert api("GET", "/projects/g%2Fp/repository/files/c.bin").json() == {
        "error": "ref is missing"
    }
    tree = api("GET", "/projects/g%2Fp/repository/tree", params={"recursive": "true"}).json()
    assert [(e["path"], e["type"]) for e in tree] == [
        ("a", "tree"),
        ("a/b.yaml", "blob"),
        ("c.bin", "blob"),
    ]
    top = api("GET", "/projects/g%2Fp/repository/tree", params={"path": "a"}).json()
    assert [e["name"] for e in top] == ["b.yaml"]
    branch = api("GET", "/projects/g%2Fp/repository/branches/main").json()
    assert (branch["commit"]["id"], branch["protected"], branch["default"]) == (
        commit["id"],
        True,
        True,
    )
    assert api("GET", "/projects/g%2Fp/repository/branches/x").json() == {
        "message": "404 Branch Not Found"
    }


def test_commit_actions_follow_gitlab(fake_gitlab: FakeGitLab, api: Api) -> None:
    fake_gitlab.create_group("g")
    project = fake_gitlab.create_project("g/p")
    first = fake_gitlab.seed_commit(project, {"a": b"1", "b": b"1", "d/e": b"1"})
    second = fake_gitlab.seed_commit(project, {"a": b"2"})

    def refused(actions: list[dict[str, Any]]) -> Any:
        response = _commit(api, "g%2Fp", actions)
        assert response.status_code == 400
        return response.json()["message"]

    create = {"action": "create", "file_path": "a", "content": "x"}
    assert refused([create]) == "A file with this name already exists"
    assert refused([{**create, "file_path": "d"}]) == "A directory with this name already exists"
    assert refused([{"action": "update", "file_path": "z", "content": "x"}]) == (
        "A file with this name doesn't exist"
    )
    assert (
        refused([{"action": "delete", "file_path": "z"}]) == "A file with this name doesn't exist"
    )
    assert refused([{"action": "copy", "file_path": "a"}]) == "Unknown action 'copy'"
    # `a` changed after `first`: GitLab compares the file's last commit on the branch and at it.
    stale = {"action": "update", "file_path": "a", "content": "3", "last_commit_id": first}
    assert refused([stale]) == "The file has changed since you started editing it: a"
    assert project.branches["main"] == second  # Nothing was written.
    # `b` did not change since `first`: an older last_commit_id is fine (and so is the head).
    ok = {"action": "update", "file_path": "b", "content": "2", "last_commit_id": first}
    moved = {"action": "move", "file_path": "f", "previous_path": "d/e"}
    accepted = _commit(api, "g%2Fp", [ok, moved, {**stale, "last_commit_id": second}])
    assert accepted.status_code == 201
    assert project.commits[project.branches["main"]].files == {"a": b"3", "b": b"2", "f": b"1"}
    assert _commit(api, "g%2Fp", [create], branch="x", start_branch="nope").json() == {
        "message": "You can only create or edit files when you are on a branch"
    }

    history = api("GET", "/projects/g%2Fp/repository/commits", params={"path": "b"}).json()
    assert [c["id"] for c in history] == [accepted.json()["id"], first]
    listing = api("GET", "/projects/g%2Fp/repository/commits", params={"per_page": 1})
    assert "X-Total" not in listing.headers and listing.headers["X-Next-Page"] == "2"
    diff = api("GET", f"/projects/g%2Fp/repository/commits/{second}/diff").json()
    assert diff == [
        {
            "old_path": "a",
            "new_path": "a",
            "a_mode": "100644",
            "b_mode": "100644",
            "new_file": False,
            "renamed_file": False,
            "deleted_file": False,
            "generated_file": False,
            "diff": "@@ -1 +1 @@\n-1\n\\ No newline at end of file\n"
            "+2\n\\ No newline at end of file\n",
        }
    ]
    compare = api("GET", "/projects/g%2Fp/repository/compare", params={"from": second, "to": first})
    assert compare.json()["diffs"] == []  # From the merge base, as GitLab does by default.
    params = {"from": second, "to": first, "straight": "true"}
    straight = api("GET", "/projects/g%2Fp/repository/compare", params=params).json()
    assert [d["old_path"] for d in straight["diffs"]] == ["a"]


def test_protected_branches_and_push_rights(fake_gitlab: FakeGitLab, api: Api) -> None:
    group = fake_gitlab.create_group("g")
    project = fake_gitlab.create_project("g/p")
    fake_gitlab.add_user("dev", "Dev", "dev@example.com", "dev-token")
    fake_gitlab.add_member(group, "dev", DEVELOPER)
    actions = [{"action": "create", "file_path": "a", "content": "1"}]
    body = {"branch": "main", "commit_message": "m", "actions": actions}
    path = f"/projects/{project.id}/repository/commits"
    assert api("POST", path, json=body, token="dev-token").status_code == 201  # Initial push.
    refused = api("POST", path, json={**body, "actions": []}, token="dev-token")
    assert (refused.status_code, refused.json()) == (
        403,
        {"message": "403 Forbidden - You are not allowed to push into this branch"},
    )
    rules = f"/projects/{project.id}/protected_branches"
    assert api("POST", rules, json={"name": "main"}).json() == {
        "message": "Protected branch 'main' already exists"
    }
    assert api("DELETE", f"{rules}/main").status_code == 204
    created = api("POST", rules, json={"name": "main", "push_access_level": DEVELOPER})
    assert created.json()["push_access_levels"][0]["access_level"] == DEVELOPER
    assert api("POST", path, json={**body, "actions": []}, token="dev-token").status_code == 201
    assert api("GET", f"{rules}/main", token="dev-token").status_code == 403


def test_access_tokens_authenticate_until_revoked(fake_gitlab: FakeGitLab, api: Api) -> None:
    fake_gitlab.create_group("g")
    project = fake_gitlab.create_project("g/p")
    body = {"name": "accesstoken-api", "scopes": ["api"], "access_level": 40}
    created = api("POST", f"/projects/{project.id}/access_tokens", json=body)
    assert created.status_code == 201
    token = created.json()
    assert token["token"].startswith("glpat-") and token["active"] is True
    me = api("GET", "/user", token=token["token"]).json()
    assert me["bot"] is True and me["username"].startswith(f"project_{project.id}_bot_")
    listed = api("GET", f"/projects/{project.id}/access_tokens").json()
    assert "token" not in listed[0]
    revoked = api("DELETE", f"/projects/{project.id}/access_tokens/{token['id']}")
    assert revoked.status_code == 204
    assert api("GET", "/user", token=token["token"]).status_code == 401
    bad = api("POST", f"/projects/{project.id}/access_tokens", json={**body, "scopes": ["x"]})
    assert bad.json() == {"error": "scopes does not have a valid value"}


def test_fault_injection_and_request_log(fake_gitlab: FakeGitLab, api: Api) -> None:
    fake_gitlab.fail_next("GET", r"^/api/v4/user$", status=503, times=2)
    assert [api("GET", "/user").status_code for _ in range(3)] == [503, 503, 200]
    fake_gitlab.fail_next("*", r"/user", status=None, delay=0.3)
    started = time.monotonic()
    assert api("GET", "/user").status_code == 200
    assert time.monotonic() - started >= 0.3
    fake_gitlab.fail_next("GET", r"/user", status=None, delay=1.0)
    with pytest.raises(requests.Timeout):
        requests.get(f"{fake_gitlab.url}/api/v4/user", timeout=0.2)
    logged = fake_gitlab.requests[0]
    assert (logged.method, logged.path, logged.user, logged.status) == (
        "GET",
        "/api/v4/user",
        "portal-bot",
        503,
    )
