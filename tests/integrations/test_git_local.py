"""The local Git backend: bare repositories driven by the real git binary."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from nautes_portal.integrations.config_repo import (
    Author,
    CommitConflict,
    ConfigRepository,
    GitHost,
    RepositoryError,
)
from nautes_portal.integrations.git_local import LocalConfigRepository, LocalGitHost, run_git
from tests.integrations.racing import own_file, race
from tests.integrations.test_config_repo_contract import ALICE


@pytest.fixture
def repo(tmp_path: Path) -> LocalConfigRepository:
    return LocalConfigRepository.init_bare(tmp_path / "config.git")


def _commit(repo: LocalConfigRepository, changes: dict[str, bytes | None], **kwargs: object) -> str:
    kwargs.setdefault("author", ALICE)
    kwargs.setdefault("message", "change")
    return repo.commit(changes=changes, expected_parent=repo.head(), **kwargs)  # type: ignore[arg-type]


def test_satisfies_the_protocols(repo: LocalConfigRepository, tmp_path: Path) -> None:
    config_repo: ConfigRepository = repo
    host: GitHost = LocalGitHost(tmp_path / "host")
    assert config_repo and host


def test_the_acting_user_is_the_committer_too(repo: LocalConfigRepository) -> None:
    """The rest of a first commit is the contract's (test_config_repo_contract.py)."""
    sha = repo.commit(
        changes={"clusters/host.yaml": b"kind: Cluster\n"},
        expected_parent=None,
        message="Add host cluster",
        author=ALICE,
    )
    committer = run_git(["log", "-1", "--format=%cn <%ce>", sha], git_dir=repo.path).stdout
    assert committer.decode().strip() == "Alice Admin <alice@example.com>"


def _scratch_refs(repo: LocalConfigRepository) -> str:
    return repo._out("for-each-ref", "refs/nautes")


def test_deleting_the_last_file_of_a_directory_leaves_no_directory(
    repo: LocalConfigRepository,
) -> None:
    _commit(repo, {"a/one.yaml": b"1", "b/three.yaml": b"3"})
    second = _commit(repo, {"b/three.yaml": None})
    listing = run_git(["ls-tree", "--name-only", second], git_dir=repo.path).stdout.split()
    assert listing == [b"a"]


def test_update_ref_is_the_authoritative_check(repo: LocalConfigRepository) -> None:
    base = _commit(repo, {"a.yaml": b"a"})
    theirs = _commit(repo, {"b.yaml": b"b"})
    # Ours was prepared on `base`; the branch moved to `theirs` in the meantime.
    with pytest.raises(CommitConflict):
        repo.commit(changes={"c.yaml": b"c"}, expected_parent=base, message="ours", author=ALICE)
    assert repo.head() == theirs
    assert len(repo.history()) == 2
    assert _scratch_refs(repo) == "", "the commit's temporary ref is gone"


def test_paths_and_names_that_need_quoting_round_trip(repo: LocalConfigRepository) -> None:
    odd = {
        'with space/and "quotes".yaml': b"a",
        "back\\slash/x.yaml": b"b",
        "ünïcødé/ß.yaml": "ü".encode(),
        "binary.bin": bytes(range(256)),
    }
    author = Author(name="Eve <evil>\nInjected: yes", email="eve@example.com> <x")
    sha = repo.commit(changes=odd, expected_parent=None, message="odd", author=author)
    assert repo.read_tree(sha) == odd
    (info,) = repo.history()
    assert info.author_name == "Eve evilInjected: yes"
    assert info.author_email == "eve@example.comx"
    assert _scratch_refs(repo) == ""
    removed = repo.commit(
        changes={'with space/and "quotes".yaml': None},
        expected_parent=sha,
        message="rm",
        author=ALICE,
    )
    assert set(repo.read_tree(removed)) == set(odd) - {'with space/and "quotes".yaml'}


def test_twenty_concurrent_committers(repo: LocalConfigRepository) -> None:
    initial = _commit(repo, {"README": b"start"})
    winners = [own_file(n) for n in race(repo, 20, path_of=own_file, retry=False)]
    assert len(winners) == 1  # All based on the same head: exactly one can win.
    tree = repo.read_tree("main")
    assert sorted(tree) == sorted(["README", *winners])
    history = repo.history(limit=100)
    assert len(history) == len(winners) + 1
    assert history[-1].sha == initial


def test_unknown_revision_and_missing_repository(
    repo: LocalConfigRepository, tmp_path: Path
) -> None:
    _commit(repo, {"a": b"1"})
    with pytest.raises(RepositoryError, match="Unknown revision"):
        repo.read_tree("no-such-branch")
    with pytest.raises(RepositoryError, match="not a git repository"):
        LocalConfigRepository(tmp_path / "missing.git").head()


# --- LocalGitHost -------------------------------------------------------------------------------


def _make_groups(root: str, prefix: str, count: int) -> list[int]:
    host = LocalGitHost(Path(root))
    return [host.ensure_group(path=f"{prefix}{n}", name=f"G {n}").id for n in range(count)]


def test_group_ids_are_unique_across_processes(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        jobs = [pool.apply_async(_make_groups, (str(tmp_path), p, 10)) for p in ("a", "b")]
        ids = [job.get(timeout=120) for job in jobs]
    for sequence in ids:
        assert sequence == sorted(sequence)  # Increasing within each process.
    assert sorted(ids[0] + ids[1]) == list(range(1, 21))


def test_groups_and_projects(tmp_path: Path) -> None:
    host = LocalGitHost(tmp_path)
    assert host.get_group("nautes") is None
    group = host.ensure_group(path="nautes", name="Nautes", description="tenant")
    assert (group.id, group.visibility) == (1, "private")
    again = host.ensure_group(path="nautes", name="Nautes 2", visibility="internal")
    assert (again.id, again.name, again.visibility, again.description) == (
        1,
        "Nautes 2",
        "internal",
        "",
    )
    assert host.get_group("nautes") == again

    tenant = host.ensure_project(namespace_path="nautes", path="tenant")
    assert (tenant.id, tenant.name, tenant.full_path) == (1, "tenant", "nautes/tenant")
    assert tenant.http_url == tenant.ssh_url
    assert tenant.http_url.startswith("file://") and tenant.http_url.endswith("/nautes/tenant.git")
    renamed = host.ensure_project(
        namespace_path="nautes", path="tenant", name="Tenant", description="d"
    )
    assert (renamed.id, renamed.name, renamed.description) == (1, "Tenant", "d")
    kept = host.ensure_project(namespace_path="nautes", path="tenant")
    assert kept.name == "Tenant"
    other = host.ensure_project(namespace_path="nautes", path="other.repo_1")
    assert other.id == 2
    assert [p.path for p in host.list_projects("nautes")] == ["other.repo_1", "tenant"]
    assert host.list_projects("nope") == []

    # The repository works and can be cloned with plain git.
    repo = host.repository(tenant)
    _commit(repo, {"clusters/host.yaml": b"kind: Cluster\n"})
    clone = tmp_path / "clone"
    run_git(["clone", "--quiet", tenant.http_url, str(clone)])
    assert (clone / "clusters" / "host.yaml").read_bytes() == b"kind: Cluster\n"

    host.delete_project("nautes", "other.repo_1")
    host.delete_project("nautes", "other.repo_1")  # Idempotent.
    assert host.get_project("nautes", "other.repo_1") is None
    assert host.ensure_project(namespace_path="nautes", path="other.repo_1").id == 3  # Not reused.

    host.delete_group("nautes")
    host.delete_group("nautes")
    assert host.get_group("nautes") is None
    assert host.get_project("nautes", "tenant") is None
    assert host.ensure_group(path="nautes", name="Nautes").id == 2
    assert host.list_projects("nautes") == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".deleted-")]


def test_nested_groups(tmp_path: Path) -> None:
    host = LocalGitHost(tmp_path)
    with pytest.raises(RepositoryError, match="Parent group"):
        host.ensure_group(path="a/b", name="B")
    host.ensure_group(path="a", name="A")
    host.ensure_group(path="a/b", name="B")
    project = host.ensure_project(namespace_path="a/b", path="p")
    assert project.full_path == "a/b/p"
    assert host.list_projects("a") == []
    host.delete_group("a")
    assert host.get_group("a/b") is None


def test_project_needs_its_group(tmp_path: Path) -> None:
    host = LocalGitHost(tmp_path)
    with pytest.raises(RepositoryError, match="Group 'nautes' does not exist"):
        host.ensure_project(namespace_path="nautes", path="tenant")


@pytest.mark.parametrize(
    "path", ["", "-a", "a-", ".a", "a_", "a..b", "a--b", "a b", "a/b", "x.git", "é", "a" * 256]
)
def test_invalid_host_paths_are_refused(tmp_path: Path, path: str) -> None:
    host = LocalGitHost(tmp_path)
    host.ensure_group(path="g", name="G")
    with pytest.raises(RepositoryError, match="Invalid project path"):
        host.ensure_project(namespace_path="g", path=path)
    if "/" not in path:
        with pytest.raises(RepositoryError, match="Invalid group path"):
            host.ensure_group(path=path, name="x")


def test_invalid_visibility(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="visibility"):
        LocalGitHost(tmp_path).ensure_group(path="g", name="G", visibility="secret")


def test_git_ignores_the_users_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings that would visibly change the output if git read them.
    config = tmp_path / "gitconfig"
    config.write_text("[diff]\n\tnoprefix = true\n[core]\n\tquotepath = on\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "stray-index"))
    repo = LocalConfigRepository.init_bare(tmp_path / "r.git")
    first = _commit(repo, {"ü.yaml": b"1\n"})
    second = _commit(repo, {"ü.yaml": b"2\n"})
    assert "--- a/ü.yaml\n+++ b/ü.yaml\n" in repo.diff(first, second)
    assert repo.history()[0].changed_paths == ("ü.yaml",)
    assert not (tmp_path / "elsewhere").exists()
    assert not (tmp_path / "stray-index").exists()
