"""The ConfigRepository contract, run against both backends: the local one (bare repositories and
the real git binary) and the GitLab one (python-gitlab against the fake GitLab server).

What each backend does beyond the contract (GitLab's request bodies and committer, the local
backend's git plumbing, host operations) is in test_git_local.py and test_gitlab.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from nautes_portal.integrations.config_repo import (
    Author,
    CommitConflict,
    ConfigRepository,
    RepositoryError,
)
from nautes_portal.integrations.git_local import LocalConfigRepository
from nautes_portal.integrations.gitlab import GitLabHost
from tests.fakes.gitlab_server import FakeGitLab
from tests.integrations.racing import own_file, race
from tests.plugins.gitlab_fake import PORTAL_BOT_TOKEN

ALICE = Author("Alice Admin", "alice@example.com")
BOB = Author("Bob Builder", "bob@example.com")


@pytest.fixture(params=["local", "gitlab"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConfigRepository]:
    if request.param == "local":
        yield LocalConfigRepository.init_bare(tmp_path / "config.git")
        return
    fake: FakeGitLab = request.getfixturevalue("fake_gitlab")
    host = GitLabHost(fake.url, PORTAL_BOT_TOKEN, timeout=5)
    host.ensure_group(path="nautes", name="Nautes")
    yield host.repository(host.ensure_project(namespace_path="nautes", path="tenant"))
    host.close()


def commit(repo: ConfigRepository, changes: dict[str, bytes | None], **kwargs: object) -> str:
    kwargs.setdefault("author", ALICE)
    kwargs.setdefault("message", "change")
    return repo.commit(changes=changes, expected_parent=repo.head(), **kwargs)  # type: ignore[arg-type]


def test_an_empty_repository_reads_as_empty(repo: ConfigRepository) -> None:
    assert repo.head() is None
    assert repo.read_tree("main") == {}
    assert repo.read_file("main", "a.yaml") is None
    assert repo.history() == []


def test_the_first_commit_into_an_empty_repository(repo: ConfigRepository) -> None:
    sha = repo.commit(
        changes={"clusters/host.yaml": b"kind: Cluster\n"},
        expected_parent=None,
        message="Add host cluster",
        author=ALICE,
    )
    assert repo.head() == sha
    assert repo.read_tree(sha) == {"clusters/host.yaml": b"kind: Cluster\n"}
    [info] = repo.history()
    assert (info.sha, info.parents, info.message) == (sha, (), "Add host cluster")
    assert (info.author_name, info.author_email) == ("Alice Admin", "alice@example.com")
    assert info.changed_paths == ("clusters/host.yaml",)


def test_a_multi_file_commit_with_a_delete_is_one_commit(repo: ConfigRepository) -> None:
    first = commit(repo, {"a/one.yaml": b"1", "a/two.yaml": b"2", "b/three.yaml": b"3"})
    second = commit(
        repo,
        # Deleting a file that is not there is nothing, not an error.
        {"a/one.yaml": b"1'", "b/three.yaml": None, "c/four.yaml": b"4", "nope.yaml": None},
        author=BOB,
        message="Rework\n\nwith a body",
    )
    assert repo.read_tree(second) == {"a/one.yaml": b"1'", "a/two.yaml": b"2", "c/four.yaml": b"4"}
    assert repo.read_tree(first) == {"a/one.yaml": b"1", "a/two.yaml": b"2", "b/three.yaml": b"3"}
    assert repo.read_file(first, "a/one.yaml") == b"1"
    assert repo.read_file("main", "a/one.yaml") == b"1'"
    assert repo.read_file(second, "b/three.yaml") is None
    assert repo.read_file(second, "a") is None  # A directory is not a file.

    newest, oldest = repo.history()
    assert (newest.sha, newest.parents, oldest.sha) == (second, (first,), first)
    assert (newest.author_name, newest.author_email) == ("Bob Builder", "bob@example.com")
    assert newest.message == "Rework\n\nwith a body"
    assert sorted(newest.changed_paths) == ["a/one.yaml", "b/three.yaml", "c/four.yaml"]
    assert newest.authored_at.tzinfo is not None
    assert [c.sha for c in repo.history(path="c/four.yaml")] == [second]
    assert [c.sha for c in repo.history(path="a/two.yaml")] == [first]
    assert [c.sha for c in repo.history(path="a/")] == [second, first]
    assert [c.sha for c in repo.history(limit=1)] == [second]
    assert [c.sha for c in repo.history(ref=first)] == [first]


def test_binary_content_and_odd_file_names_round_trip(repo: ConfigRepository) -> None:
    files = {
        "dir with space/é.yaml": b"\x00\xff\nbinary",
        "x/\u00fcber:1.txt": b"",
        "p%2Fq": b"%",
        "all-bytes.bin": bytes(range(256)),
    }
    sha = commit(repo, files)
    assert repo.read_tree(sha) == files
    assert repo.read_file(sha, "dir with space/é.yaml") == b"\x00\xff\nbinary"
    assert repo.read_file(sha, "p%2Fq") == b"%"
    assert sorted(repo.history()[0].changed_paths) == sorted(files)


def test_diff(repo: ConfigRepository) -> None:
    first = commit(repo, {"a.yaml": b"name: one\n"})
    second = commit(repo, {"a.yaml": b"name: two\n", "b.yaml": b"new\n"})
    text = repo.diff(first, second)
    assert "--- a/a.yaml\n+++ b/a.yaml\n" in text
    assert "-name: one\n+name: two\n" in text
    assert "+new\n" in text
    assert repo.diff(None, second) == text
    root = repo.diff(None, first)
    assert "new file mode 100644" in root
    assert "+name: one\n" in root
    assert repo.diff(second, second) == ""
    assert "-name: two\n+name: one\n" in repo.diff(second, first)  # Straight, not merge-base.
    third = commit(repo, {"b.yaml": None})
    removal = repo.diff(second, third)
    assert "deleted file mode 100644\n" in removal
    assert "--- a/b.yaml\n+++ /dev/null\n" in removal and "-new\n" in removal


def test_an_empty_change_still_commits(repo: ConfigRepository) -> None:
    first = commit(repo, {"a": b"1"})
    second = commit(repo, {"a": b"1"})
    assert second != first
    assert repo.history()[0].changed_paths == ()


def test_a_stale_expected_parent_conflicts_and_writes_nothing(repo: ConfigRepository) -> None:
    base = commit(repo, {"a.yaml": b"a"})
    theirs = repo.commit(
        changes={"b.yaml": b"b"}, expected_parent=base, message="theirs", author=BOB
    )
    with pytest.raises(CommitConflict) as caught:
        repo.commit(changes={"c.yaml": b"c"}, expected_parent=base, message="ours", author=ALICE)
    assert caught.value.status == 409
    assert f"expected {base[:12]}, found {theirs[:12]}" in caught.value.message
    assert "reload and try again" in caught.value.message
    assert repo.head() == theirs
    assert repo.read_tree("main") == {"a.yaml": b"a", "b.yaml": b"b"}
    # A first commit into a repository that is no longer empty conflicts too.
    with pytest.raises(CommitConflict):
        repo.commit(changes={"c.yaml": b"c"}, expected_parent=None, message="x", author=ALICE)
    assert len(repo.history()) == 2


def test_ten_concurrent_committers_that_retry_all_land(repo: ConfigRepository) -> None:
    commit(repo, {"README": b"start"})
    landed = [own_file(n) for n in race(repo, 10, path_of=own_file, retry=True)]
    assert len(landed) == 10
    assert sorted(repo.read_tree("main")) == sorted(["README", *landed])
    history = repo.history(limit=100)
    assert len(history) == 11
    # The history is linear: every commit's parent is the next older one.
    assert all(c.parents == (p.sha,) for c, p in itertools.pairwise(history))


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a//b",
        "a/",
        "./a",
        ".git/config",
        "a/.GIT/x",
        "a\nb",
    ],
)
def test_invalid_paths_are_refused(repo: ConfigRepository, path: str) -> None:
    with pytest.raises(RepositoryError, match="Invalid repository path"):
        repo.commit(changes={path: b"x"}, expected_parent=None, message="x", author=ALICE)
    assert repo.head() is None


def test_an_unknown_revision_is_an_error(repo: ConfigRepository) -> None:
    commit(repo, {"a": b"1"})
    with pytest.raises(RepositoryError, match="Unknown revision"):
        repo.read_tree("no-such-branch")
    with pytest.raises(RepositoryError, match="Unknown revision"):
        repo.read_file("no-such-branch", "a")
    with pytest.raises(RepositoryError, match="Unknown revision"):
        repo.diff(None, "0" * 40)
    with pytest.raises(RepositoryError):
        repo.read_file("main", "../a")
