"""The GitLab backend, driven through python-gitlab against the fake GitLab server."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator

import pytest
import requests

from nautes_portal.errors import (
    IntegrationError,
    NautesError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from nautes_portal.integrations.config_repo import (
    CommitConflict,
    ConfigRepository,
    GitHost,
    RepositoryError,
)
from nautes_portal.integrations.gitlab import GitLabConfigRepository, GitLabHost, GitLabUser
from tests.fakes.gitlab_server import DEVELOPER, MAINTAINER, OWNER, REPORTER, FakeGitLab
from tests.integrations.racing import own_file, race
from tests.integrations.test_config_repo_contract import ALICE, BOB
from tests.plugins.gitlab_fake import PORTAL_BOT_TOKEN

# Two well-formed OpenSSH ed25519 public keys, with comments.
KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMqXgRLKG73K+sIxs5oj3E2nhu/4FHxOcrmAd4Wv7ki7 repo-1"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID4j6BYAOVlKM4lPZWThsTSLvXoAiNQsSstz7q7VnACd repo-2"


@pytest.fixture
def host(fake_gitlab: FakeGitLab) -> Iterator[GitLabHost]:
    gitlab_host = GitLabHost(fake_gitlab.url, PORTAL_BOT_TOKEN, timeout=5)
    yield gitlab_host
    gitlab_host.close()


@pytest.fixture
def repo(host: GitLabHost) -> GitLabConfigRepository:
    host.ensure_group(path="nautes", name="Nautes")
    return host.repository(host.ensure_project(namespace_path="nautes", path="tenant"))


def _commit(
    repo: GitLabConfigRepository, changes: dict[str, bytes | None], **kwargs: object
) -> str:
    kwargs.setdefault("author", ALICE)
    kwargs.setdefault("message", "change")
    return repo.commit(changes=changes, expected_parent=repo.head(), **kwargs)  # type: ignore[arg-type]


def _user_host(fake: FakeGitLab, username: str, level: int, target: str = "nautes") -> GitLabHost:
    """A host acting as a new user with `level` on the group `target`."""
    fake.add_user(username, username.title(), f"{username}@example.com", f"{username}-token")
    fake.add_member(fake.group(target), username, level)
    return GitLabHost(fake.url, f"{username}-token", timeout=5)


# --- ConfigRepository ---------------------------------------------------------------------------


def test_satisfies_the_protocols(repo: GitLabConfigRepository, host: GitLabHost) -> None:
    config_repo: ConfigRepository = repo
    git_host: GitHost = host
    assert config_repo and git_host
    assert "token" not in repr(host)


def test_a_commit_is_one_api_call_and_the_portal_account_commits(
    repo: GitLabConfigRepository, fake_gitlab: FakeGitLab
) -> None:
    """The rest of a first commit is the contract's (test_config_repo_contract.py)."""
    sha = repo.commit(
        changes={"clusters/host.yaml": b"kind: Cluster\n"},
        expected_parent=None,
        message="Add host cluster",
        author=ALICE,
    )
    # GitLab records the API user as committer; the acting user is the author.
    stored = fake_gitlab.project("nautes/tenant").commits[sha]
    assert stored.committer_name == "Portal Bot"
    [post] = [r for r in fake_gitlab.requests if r.method == "POST" and "commits" in r.path]
    assert post.body["actions"] == [
        {
            "action": "create",
            "file_path": "clusters/host.yaml",
            "content": "a2luZDogQ2x1c3Rlcgo=",
            "encoding": "base64",
        }
    ]


def test_multi_file_commit_with_delete_is_one_commit(
    repo: GitLabConfigRepository, fake_gitlab: FakeGitLab
) -> None:
    first = _commit(repo, {"a/one.yaml": b"1", "a/two.yaml": b"2", "b/three.yaml": b"3"})
    posts_before = sum(1 for r in fake_gitlab.requests if r.method == "POST")
    second = _commit(
        repo,
        {"a/one.yaml": b"1'", "b/three.yaml": None, "c/four.yaml": b"4", "nope.yaml": None},
        author=BOB,
        message="Rework\n\nwith a body",
    )
    posts = [r for r in fake_gitlab.requests if r.method == "POST"][posts_before:]
    assert len(posts) == 1  # One Commits API call for every change.
    assert {
        (a["action"], a["file_path"], a.get("last_commit_id")) for a in posts[0].body["actions"]
    } == {
        ("update", "a/one.yaml", first),
        ("delete", "b/three.yaml", first),
        ("create", "c/four.yaml", None),
    }
    # What the commit reads back as is the contract suite's (test_config_repo_contract.py).
    assert repo.read_tree(second) == {"a/one.yaml": b"1'", "a/two.yaml": b"2", "c/four.yaml": b"4"}


def _stale_head(monkeypatch: pytest.MonkeyPatch, stale: str) -> None:
    """Make the first head() read `stale`, as if the other commit landed just after it."""
    real_head = GitLabConfigRepository.head
    calls: list[str] = []

    def head(self: GitLabConfigRepository, branch: str = "main") -> str | None:
        calls.append(branch)
        return stale if len(calls) == 1 else real_head(self, branch)

    monkeypatch.setattr(GitLabConfigRepository, "head", head)


@pytest.mark.parametrize(
    "ours",
    [
        {"shared.yaml": b"ours"},  # update: last_commit_id is stale
        {"shared.yaml": None},  # delete: last_commit_id is stale
        {"new.yaml": b"ours"},  # create: the file appeared meanwhile
    ],
)
def test_gitlab_refuses_a_stale_write_after_the_head_check(
    repo: GitLabConfigRepository,
    monkeypatch: pytest.MonkeyPatch,
    ours: dict[str, bytes | None],
) -> None:
    base = _commit(repo, {"shared.yaml": b"base"})
    theirs = _commit(repo, {"shared.yaml": b"theirs", "new.yaml": b"theirs"})
    _stale_head(monkeypatch, base)
    with pytest.raises(CommitConflict) as caught:
        repo.commit(changes=ours, expected_parent=base, message="ours", author=ALICE)
    monkeypatch.undo()
    assert f"found {theirs[:12]}" in caught.value.message
    assert repo.head() == theirs
    assert repo.read_tree("main") == {"shared.yaml": b"theirs", "new.yaml": b"theirs"}


def test_a_concurrent_commit_to_other_files_is_merged_not_detected(
    repo: GitLabConfigRepository,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The documented race: GitLab has no ref compare-and-swap for the Commits API.
    base = _commit(repo, {"a.yaml": b"a"})
    theirs = _commit(repo, {"b.yaml": b"b"})
    _stale_head(monkeypatch, base)
    with caplog.at_level(logging.WARNING, logger="nautes_portal.integrations.gitlab"):
        ours = repo.commit(
            changes={"c.yaml": b"c"}, expected_parent=base, message="ours", author=ALICE
        )
    monkeypatch.undo()
    assert repo.history()[0].parents == (theirs,)
    assert repo.head() == ours
    assert repo.read_tree("main") == {"a.yaml": b"a", "b.yaml": b"b", "c.yaml": b"c"}
    assert "landed on" in caplog.text


def test_ten_concurrent_committers_of_different_files(repo: GitLabConfigRepository) -> None:
    # Unlike the local backend, more than one can win: a commit that passed the head check is
    # applied on top of one that landed meanwhile (see the race test above). What holds: every
    # committer succeeded or got CommitConflict, and the tree holds exactly the winners' files.
    _commit(repo, {"README": b"start"})
    winners = [own_file(n) for n in race(repo, 10, path_of=own_file, retry=False)]
    assert 1 <= len(winners) <= 10
    assert sorted(repo.read_tree("main")) == sorted(["README", *winners])
    history = repo.history(limit=100)
    assert len(history) == len(winners) + 1
    assert all(c.parents == (p.sha,) for c, p in itertools.pairwise(history))


def test_ten_concurrent_committers_of_the_same_file(repo: GitLabConfigRepository) -> None:
    _commit(repo, {"shared.yaml": b"start"})
    winners = race(repo, 10, path_of=lambda _: "shared.yaml", retry=False)
    assert len(winners) == 1  # last_commit_id makes GitLab refuse every other update.
    assert repo.read_file("main", "shared.yaml") == f"n: {winners[0]}\n".encode()
    assert len(repo.history(limit=100)) == 2


def test_unknown_revision_and_missing_project(
    repo: GitLabConfigRepository, host: GitLabHost
) -> None:
    _commit(repo, {"a": b"1"})
    with pytest.raises(RepositoryError, match="Unknown revision"):
        repo.read_tree("no-such-branch")
    with pytest.raises(RepositoryError, match="Unknown revision"):
        repo.read_file("no-such-branch", "a")
    with pytest.raises(RepositoryError, match="Unknown revision"):
        repo.diff(None, "0" * 40)
    project = host.get_project("nautes", "tenant")
    assert project is not None
    host.delete_project("nautes", "tenant")
    with pytest.raises(NotFound):
        host.repository(project).head()


# --- GitHost ------------------------------------------------------------------------------------


def test_groups_and_projects(host: GitLabHost, fake_gitlab: FakeGitLab) -> None:
    assert host.get_group("nautes") is None
    group = host.ensure_group(path="nautes", name="Nautes", description="tenant")
    assert (group.path, group.visibility, group.description) == ("nautes", "private", "tenant")
    again = host.ensure_group(path="nautes", name="Nautes 2", visibility="internal")
    assert (again.id, again.name, again.visibility, again.description) == (
        group.id,
        "Nautes 2",
        "internal",
        "",
    )
    assert host.get_group("nautes") == again
    puts = len([r for r in fake_gitlab.requests if r.method == "PUT"])
    assert host.ensure_group(path="nautes", name="Nautes 2", visibility="internal") == again
    assert len([r for r in fake_gitlab.requests if r.method == "PUT"]) == puts  # No-op.

    tenant = host.ensure_project(namespace_path="nautes", path="tenant")
    assert (tenant.name, tenant.full_path, tenant.visibility) == (
        "tenant",
        "nautes/tenant",
        "private",
    )
    assert tenant.ssh_url == "git@127.0.0.1:nautes/tenant.git"
    assert tenant.http_url == f"{fake_gitlab.url}/nautes/tenant.git"
    renamed = host.ensure_project(
        namespace_path="nautes", path="tenant", name="Tenant", description="d"
    )
    assert (renamed.id, renamed.name, renamed.description) == (tenant.id, "Tenant", "d")
    kept = host.ensure_project(namespace_path="nautes", path="tenant", description="d")
    assert kept == renamed
    other = host.ensure_project(namespace_path="nautes", path="other.repo_1")
    assert other.id != tenant.id
    assert [p.path for p in host.list_projects("nautes")] == ["other.repo_1", "tenant"]
    assert host.list_projects("nope") == []
    assert host.get_project("nautes", "tenant") == kept

    host.delete_project("nautes", "other.repo_1")
    host.delete_project("nautes", "other.repo_1")  # Idempotent.
    assert host.get_project("nautes", "other.repo_1") is None
    assert host.ensure_project(namespace_path="nautes", path="other.repo_1").id > other.id

    host.delete_group("nautes")
    host.delete_group("nautes")
    assert host.get_group("nautes") is None
    assert host.get_project("nautes", "tenant") is None
    assert host.ensure_group(path="nautes", name="Nautes").id > group.id
    assert host.list_projects("nautes") == []


def test_nested_groups_and_url_encoded_paths(host: GitLabHost, fake_gitlab: FakeGitLab) -> None:
    with pytest.raises(RepositoryError, match="Parent group"):
        host.ensure_group(path="a/b", name="B")
    host.ensure_group(path="a", name="A")
    sub = host.ensure_group(path="a/b", name="B")
    assert sub.path == "a/b"
    project = host.ensure_project(namespace_path="a/b", path="default.project")
    assert project.full_path == "a/b/default.project"
    assert host.get_project("a/b", "default.project") == project
    assert host.list_projects("a") == []
    assert [p.path for p in host.list_projects("a/b")] == ["default.project"]
    raw_paths = {r.path for r in fake_gitlab.requests}
    assert "/api/v4/groups/a%2Fb" in raw_paths
    assert "/api/v4/projects/a%2Fb%2Fdefault.project" in raw_paths
    repo = host.repository(project)
    sha = _commit(repo, {"production/kustomization.yaml": b"kind: Kustomization\n"})
    assert repo.read_file(sha, "production/kustomization.yaml") == b"kind: Kustomization\n"
    host.delete_group("a")
    assert host.get_group("a/b") is None
    assert host.get_project("a/b", "default.project") is None


def test_project_needs_its_group(host: GitLabHost) -> None:
    with pytest.raises(RepositoryError, match="Group 'nautes' does not exist"):
        host.ensure_project(namespace_path="nautes", path="tenant")


@pytest.mark.parametrize("path", ["", "-a", "a-", "a..b", "a b", "x.git", "é"])
def test_invalid_host_paths_and_visibility_are_refused(host: GitLabHost, path: str) -> None:
    host.ensure_group(path="g", name="G")
    with pytest.raises(RepositoryError, match="Invalid project path"):
        host.ensure_project(namespace_path="g", path=path)
    with pytest.raises(RepositoryError, match="Invalid group path"):
        host.ensure_group(path=path, name="x")
    with pytest.raises(RepositoryError, match="visibility"):
        host.ensure_group(path="g", name="G", visibility="secret")


def test_list_projects_follows_pagination(fake_gitlab: FakeGitLab) -> None:
    fake_gitlab.create_group("big")
    for number in range(25):
        fake_gitlab.create_project(f"big/p{number:02}")
    small_pages = GitLabHost(fake_gitlab.url, PORTAL_BOT_TOKEN, timeout=5, page_size=10)
    projects = small_pages.list_projects("big")
    assert [p.path for p in projects] == [f"p{n:02}" for n in range(25)]
    pages = [r.query for r in fake_gitlab.requests if r.path == "/api/v4/groups/1/projects"]
    assert len(pages) == 3 and "page=3" in pages[-1]
    default = GitLabHost(fake_gitlab.url, PORTAL_BOT_TOKEN, timeout=5)
    assert len(default.list_projects("big")) == 25


def test_private_groups_are_invisible_to_non_members(
    host: GitLabHost, fake_gitlab: FakeGitLab
) -> None:
    host.ensure_group(path="nautes", name="Nautes")
    host.ensure_group(path="other", name="Other")
    developer = _user_host(fake_gitlab, "dev", DEVELOPER, target="other")
    assert developer.get_group("nautes") is None
    assert developer.get_project("nautes", "tenant") is None
    assert developer.get_group("other") is not None
    with pytest.raises(PermissionDenied, match="deleting group 'other'"):
        developer.delete_group("other")
    with pytest.raises(PermissionDenied, match="creating projects in group 'other'"):
        developer.ensure_project(namespace_path="other", path="x")


def test_members(host: GitLabHost, fake_gitlab: FakeGitLab) -> None:
    host.ensure_group(path="nautes", name="Nautes")
    host.ensure_group(path="nautes/sub", name="Sub")
    project = host.ensure_project(namespace_path="nautes/sub", path="tenant")
    fake_gitlab.add_user("dev", "Dev", "dev@example.com", "dev-token")
    fake_gitlab.add_user("rep", "Rep", "rep@example.com", "rep-token")
    fake_gitlab.add_member(fake_gitlab.group("nautes"), "dev", DEVELOPER)
    fake_gitlab.add_member(fake_gitlab.group("nautes/sub"), "dev", MAINTAINER)
    fake_gitlab.add_member(fake_gitlab.group("nautes/sub"), "rep", REPORTER)
    # The portal bot created the groups, so it is their Owner.
    assert host.group_members("nautes") == {"portal-bot": OWNER, "dev": DEVELOPER}
    assert host.group_members("nautes/sub") == {"portal-bot": OWNER, "dev": MAINTAINER, "rep": 20}
    assert host.project_members(project.id) == {"portal-bot": OWNER, "dev": MAINTAINER, "rep": 20}
    with pytest.raises(NotFound):
        host.group_members("missing")


# --- Provisioning -------------------------------------------------------------------------------


@pytest.fixture
def project_id(host: GitLabHost) -> int:
    host.ensure_group(path="nautes", name="Nautes")
    return host.ensure_project(namespace_path="nautes", path="repo").id


def test_protect_branch_and_developers_cannot_push(
    host: GitLabHost, fake_gitlab: FakeGitLab, project_id: int
) -> None:
    rule = host.protect_branch(project_id, "main")
    assert (rule.push_access_level, rule.merge_access_level) == (MAINTAINER, MAINTAINER)
    assert host.protect_branch(project_id, "main") == rule
    opened = host.protect_branch(project_id, "main", push_access_level=DEVELOPER)
    assert opened.push_access_level == DEVELOPER
    assert fake_gitlab.project("nautes/repo").protected["main"].push_access_level == DEVELOPER
    host.protect_branch(project_id, "main")

    developer = _user_host(fake_gitlab, "dev", DEVELOPER)
    project = developer.get_project("nautes", "repo")
    assert project is not None
    with pytest.raises(PermissionDenied, match="committing"):
        developer.repository(project).commit(
            changes={"a": b"1"}, expected_parent=None, message="m", author=ALICE
        )
    maintainer = _user_host(fake_gitlab, "maint", MAINTAINER)
    assert maintainer.repository(project).commit(
        changes={"a": b"1"}, expected_parent=None, message="m", author=ALICE
    )


def test_deploy_keys(host: GitLabHost, fake_gitlab: FakeGitLab, project_id: int) -> None:
    readonly = host.ensure_deploy_key(project_id, "repo-1-readonly", KEY_A, can_push=False)
    assert (readonly.title, readonly.can_push) == ("repo-1-readonly", False)
    assert readonly.fingerprint_sha256 and readonly.fingerprint_sha256.startswith("SHA256:")
    assert host.ensure_deploy_key(project_id, "repo-1-readonly", KEY_A, can_push=False) == readonly
    # The comment does not identify a key; can_push is updated in place.
    pushing = host.ensure_deploy_key(
        project_id, "repo-1-readonly", KEY_A.replace("repo-1", "other"), can_push=True
    )
    assert (pushing.id, pushing.can_push) == (readonly.id, True)
    # Another public key under the same title replaces the stale one.
    replaced = host.ensure_deploy_key(project_id, "repo-1-readonly", KEY_B, can_push=False)
    assert replaced.id != readonly.id
    assert [k.id for k in host.list_deploy_keys(project_id)] == [replaced.id]

    other = host.ensure_project(namespace_path="nautes", path="other").id
    enabled = host.enable_deploy_key(other, replaced.id, can_push=True)
    assert (enabled.id, enabled.can_push) == (replaced.id, True)
    assert [k.can_push for k in host.list_deploy_keys(project_id)] == [False]
    host.delete_deploy_key(other, replaced.id)
    host.delete_deploy_key(other, replaced.id)  # Idempotent.
    assert host.list_deploy_keys(other) == []
    assert [k.id for k in host.list_deploy_keys(project_id)] == [replaced.id]
    with pytest.raises(NotFound):
        host.enable_deploy_key(other, 9999, can_push=False)


def test_project_access_token_rotation(
    host: GitLabHost, fake_gitlab: FakeGitLab, project_id: int
) -> None:
    token, value = host.ensure_project_access_token(
        project_id, "accesstoken-api", ["api"], 40, None
    )
    assert value and value.startswith("glpat-")
    assert (token.name, token.scopes, token.access_level, token.active) == (
        "accesstoken-api",
        ("api",),
        40,
        True,
    )
    bot = host.user_for_token(value)
    assert bot.username.startswith(f"project_{project_id}_bot")
    assert host.project_members(project_id)[bot.username] == MAINTAINER

    same, none = host.ensure_project_access_token(project_id, "accesstoken-api", ["api"], 40, None)
    assert (same, none) == (token, None)

    rotated, new_value = host.ensure_project_access_token(
        project_id, "accesstoken-api", ["api"], 40, None, rotate=True
    )
    assert rotated.id != token.id and new_value and new_value != value
    with pytest.raises(Unauthenticated):
        host.user_for_token(value)  # The old token was revoked.
    states = {t.id: t.active for t in host.list_project_access_tokens(project_id)}
    assert states == {token.id: False, rotated.id: True}

    # Other settings make a new token too, revoking the same-named one; other names stay.
    host.ensure_project_access_token(project_id, "keep-me", ["read_api"], 20, None)
    narrower, _ = host.ensure_project_access_token(
        project_id, "accesstoken-api", ["read_repository"], 30, None
    )
    active = {t.name: t.id for t in host.list_project_access_tokens(project_id) if t.active}
    assert active == {"accesstoken-api": narrower.id, "keep-me": active["keep-me"]}
    with pytest.raises(RepositoryError, match="scopes"):
        host.ensure_project_access_token(project_id, "bad", ["everything"], 40, None)


def test_hooks(host: GitLabHost, fake_gitlab: FakeGitLab, project_id: int) -> None:
    url = "https://portal.example.com/hooks/gitlab"
    hook = host.ensure_hook(project_id, url, ["push_events", "tag_push_events"], "hook-secret")
    assert hook.events == ("push_events", "tag_push_events")
    stored = fake_gitlab.project("nautes/repo").hooks[hook.id]
    assert stored.token == "hook-secret"
    assert "hook-secret" not in repr(hook)  # GitLab never returns a hook's token.
    changed = host.ensure_hook(project_id, url, ["merge_requests_events"], None)
    assert (changed.id, changed.events) == (hook.id, ("merge_requests_events",))
    assert stored.token == "hook-secret"  # None keeps the secret.
    # A duplicate hook for the URL is folded into one.
    requests.post(
        f"{fake_gitlab.url}/api/v4/projects/{project_id}/hooks",
        json={"url": url},
        headers={"PRIVATE-TOKEN": PORTAL_BOT_TOKEN},
        timeout=5,
    ).raise_for_status()
    assert len(host.list_hooks(project_id)) == 2
    host.ensure_hook(project_id, url, ["push_events"], "s2")
    assert [h.id for h in host.list_hooks(project_id)] == [hook.id]
    host.ensure_hook(project_id, "https://elsewhere.example.com/", ["push_events"], None)
    assert host.delete_hooks(project_id, url) == 1
    assert [h.url for h in host.list_hooks(project_id)] == ["https://elsewhere.example.com/"]
    with pytest.raises(ValueError, match="Unknown GitLab hook events"):
        host.ensure_hook(project_id, url, ["push"], None)


def test_user_for_token(host: GitLabHost, fake_gitlab: FakeGitLab) -> None:
    fake_gitlab.add_user("alice", "Alice Admin", "alice@example.com", "alice-pat")
    assert host.user_for_token("alice-pat") == GitLabUser(
        fake_gitlab.user("alice").id, "alice", "Alice Admin", "alice@example.com"
    )
    with pytest.raises(Unauthenticated) as caught:
        host.user_for_token("wrong-token")
    assert caught.value.status == 401
    assert "wrong-token" not in caught.value.message
    bearer = [r for r in fake_gitlab.requests if r.path == "/api/v4/user"]
    assert [r.user for r in bearer] == ["alice", None]


# --- Failures -----------------------------------------------------------------------------------


def test_unavailable_gitlab_is_a_retryable_integration_error(
    host: GitLabHost, fake_gitlab: FakeGitLab
) -> None:
    fake_gitlab.fail_next("GET", r"^/api/v4/groups/nautes$", status=503)
    with pytest.raises(IntegrationError) as caught:
        host.get_group("nautes")
    error = caught.value
    assert (error.status, error.reason, error.retryable, error.system) == (
        503,
        "GITLAB_UNAVAILABLE",
        True,
        "GitLab",
    )
    assert error.message == "GitLab failed (HTTP 503) while reading group 'nautes'; try again."
    assert host.get_group("nautes") is None  # Only the next request failed.


def test_slow_gitlab_times_out(fake_gitlab: FakeGitLab) -> None:
    impatient = GitLabHost(fake_gitlab.url, PORTAL_BOT_TOKEN, timeout=0.2)
    fake_gitlab.fail_next("GET", r"/groups/", status=None, delay=0.6)
    with pytest.raises(IntegrationError) as caught:
        impatient.get_group("nautes")
    assert caught.value.retryable and caught.value.status == 503
    assert caught.value.message == (
        "GitLab did not answer in time while reading group 'nautes'; try again."
    )


def test_unreachable_gitlab(fake_gitlab: FakeGitLab) -> None:
    host = GitLabHost(fake_gitlab.url, PORTAL_BOT_TOKEN, timeout=2)
    fake_gitlab.stop()
    with pytest.raises(IntegrationError, match="could not be reached while reading group"):
        host.get_group("nautes")


def test_forbidden_is_permission_denied(
    repo: GitLabConfigRepository, fake_gitlab: FakeGitLab
) -> None:
    fake_gitlab.fail_next("POST", r"/repository/commits$", status=403)
    with pytest.raises(PermissionDenied) as caught:
        repo.commit(changes={"a": b"1"}, expected_parent=None, message="m", author=ALICE)
    assert (caught.value.status, caught.value.reason) == (403, "NO_AUTHORIZATION")
    assert caught.value.message.startswith(
        "GitLab denied the portal's account permission while committing to the repository of"
    )
    assert caught.value.message.endswith(
        "the Maintainer role there (Owner for a group) before retrying."
    )
    assert repo.head() is None


def test_a_bad_portal_token_is_an_integration_error(fake_gitlab: FakeGitLab) -> None:
    broken = GitLabHost(fake_gitlab.url, "expired-portal-token", timeout=5)
    with pytest.raises(IntegrationError) as caught:
        broken.ensure_group(path="nautes", name="Nautes")
    assert (caught.value.status, caught.value.reason, caught.value.retryable) == (
        502,
        "GITLAB_UNAUTHORIZED",
        False,
    )
    assert "portal's own access token" in caught.value.message
    assert "expired-portal-token" not in caught.value.message


def test_gitlab_validation_errors_are_readable(host: GitLabHost, fake_gitlab: FakeGitLab) -> None:
    host.ensure_group(path="nautes", name="Nautes")
    fake_gitlab.create_project("nautes/taken")
    fake_gitlab.project("nautes/taken").name = "clash"
    with pytest.raises(RepositoryError, match="name has already been taken") as caught:
        host.ensure_project(namespace_path="nautes", path="fresh", name="clash")
    assert caught.value.reason == "GITLAB_REJECTED"


def test_no_token_reaches_a_message_or_a_log_record(
    fake_gitlab: FakeGitLab, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = [PORTAL_BOT_TOKEN, "expired-portal-token", "hook-secret"]
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        host = GitLabHost(fake_gitlab.url, PORTAL_BOT_TOKEN, timeout=5)
        impatient = GitLabHost(fake_gitlab.url, PORTAL_BOT_TOKEN, timeout=0.2)
        host.ensure_group(path="nautes", name="Nautes")
        pid = host.ensure_project(namespace_path="nautes", path="repo").id
        _, value = host.ensure_project_access_token(pid, "accesstoken-api", ["api"], 40, None)
        assert value
        secrets.append(value)
        host.ensure_hook(pid, "https://example.com/h", ["push_events"], "hook-secret")
        repo = host.repository(host.get_project("nautes", "repo"))  # type: ignore[arg-type]
        attempts: list[tuple[dict[str, object] | None, Callable[[], object]]] = [
            (None, lambda: GitLabHost(fake_gitlab.url, "expired-portal-token").get_group("x")),
            (None, lambda: host.user_for_token(value + "x")),
            (None, lambda: repo.diff(None, "nope")),
            ({"status": 500}, lambda: host.list_hooks(pid)),
            ({"status": 503}, lambda: host.list_deploy_keys(pid)),
            ({"status": 403}, lambda: host.project_members(pid)),
            (
                {"status": None, "delay": 0.5},
                lambda: impatient.ensure_hook(pid, "https://x.example/", [], "hook-secret"),
            ),
        ]
        for fault, attempt in attempts:
            if fault is not None:
                fake_gitlab.fail_next("*", r"/projects/1/", **fault)  # type: ignore[arg-type]
            with pytest.raises(NautesError) as caught:
                attempt()
            messages.append(str(caught.value))
            messages.append(repr(caught.value.as_body()))
    texts = messages + [r.getMessage() for r in caplog.records]
    assert len(caplog.records) > len(attempts)  # The failures were logged (urllib3 too).
    for secret in secrets:
        assert not [text for text in texts if secret in text]
