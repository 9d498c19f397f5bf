"""The embedded SQLite database under its own worker (issue #12, findings 5 and 9).

With `./portal up` running, a save could answer 500 ("database is locked" in the index update
after its Git commit had landed) and the next one 409 (the index was behind Git); the database
file was world-readable. These tests run real processes on a file-based database in a fresh
data directory (`tests.security.sqlite_site`), as the web server and the worker share it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.security.sqlite_site import ROOT, command, site_env


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> Any:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, timeout=timeout)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return json.loads(result.stdout.decode().splitlines()[-1])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_a_first_migrate_makes_an_owner_only_wal_database(tmp_path: Path) -> None:
    """Session keys and password hashes are not world-readable: the data directory is 0700,
    the database, its -wal/-shm files and the secret key 0600; the database is in WAL mode."""
    data_dir = tmp_path / "var"
    env = site_env(data_dir, DJANGO_SETTINGS_MODULE="nautes_portal.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]

    database = data_dir / "portal.sqlite3"
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "secret_key") == 0o600
    assert _mode(database) == 0o600
    # Another process (the worker) writing while this one reads: SQLite makes the -wal and
    # -shm files now, with the database file's mode.
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM django_session")
        writer.execute("COMMIT")
        for suffix in ("-wal", "-shm"):
            assert _mode(database.with_name(database.name + suffix)) == 0o600, suffix
    finally:
        writer.close()


def test_an_installation_made_before_the_rule_is_tightened_on_start(tmp_path: Path) -> None:
    """A data directory from an earlier version (0755, a 0644 database) is made owner-only by
    the next start of any portal process."""
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    database = data_dir / "portal.sqlite3"
    sqlite3.connect(database).close()
    database.chmod(0o644)
    key = data_dir / "secret_key"
    key.write_text("an-old-key-" + "x" * 50)
    env = site_env(data_dir, DJANGO_SETTINGS_MODULE="nautes_portal.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert _mode(data_dir) == 0o700
    assert _mode(database) == 0o600
    assert key.read_text() == "an-old-key-" + "x" * 50, "the existing key is kept"


@pytest.mark.slow
def test_every_file_of_the_embedded_openbao_is_owner_only(tmp_path: Path) -> None:
    """Its unseal key, root token, storage and log, and the address file too: nothing under
    the data directory is readable by another user."""
    from nautes_portal.embedded_openbao import EmbeddedOpenBao

    directory = tmp_path / "var" / "openbao"
    with EmbeddedOpenBao(directory):
        found = {
            path.relative_to(directory).as_posix(): _mode(path) for path in directory.rglob("*")
        }
    assert {"init.json", "addr", "config.hcl", "server.log", "data"} <= set(found), found
    wrong = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != (0o700 if (directory / name).is_dir() else 0o600)
    }
    assert wrong == {}, "owner-only: files 0600, directories 0700"
    assert _mode(directory) == 0o700


def test_the_portal_connects_with_immediate_transactions_and_a_busy_timeout() -> None:
    """Every transaction takes the write lock when it begins (so it waits for another writer
    instead of failing when it tries to upgrade a read), and waits up to the busy timeout."""
    from django.conf import settings

    from nautes_portal import settings as production

    options = production.DATABASES["default"]["OPTIONS"]
    if production.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("the embedded default is SQLite; this run configures another database")
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.slow
def test_two_web_processes_and_a_syncing_worker_never_find_the_database_locked(
    tmp_path: Path,
) -> None:
    """Two processes save projects of two products at once while a third re-imports one of
    them in a loop, as the worker's schedule does: every save answers 200, no process ever
    reports "database is locked", and each product's index ends equal to Git."""
    data_dir = tmp_path / "var"
    env = site_env(data_dir)
    _run(command("setup", "alpha", "beta"), env)

    count = 25
    processes = [
        subprocess.Popen(
            command("save", product, "p", str(count)),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for product in ("alpha", "beta")
    ]
    processes.append(
        subprocess.Popen(
            command("sync", "alpha", "8"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    )
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        log = err.decode()
        assert "database is locked" not in log, log[-3000:]
        assert process.returncode == 0, log[-3000:]
    for out, _ in outputs[:2]:
        saved = json.loads(out.decode().splitlines()[-1])
        assert saved["failures"] == [], saved
        assert set(saved["statuses"]) <= {200, 409}, saved
    for product in ("alpha", "beta"):
        state = _run(command("state", product), env)
        assert state["index_sha"] == state["head"], state
        assert state["index_projects"] == state["git_projects"], state
        assert len(state["git_projects"]) == count


HOOK = """#!/bin/sh
# Once armed: right after the branch moved, another process takes the database's write lock
# and keeps it for a while (a worker's long transaction), before the portal indexes the commit.
[ "$1" = committed ] || exit 0
grep -q " refs/heads/" || exit 0
rm {armed} 2>/dev/null || exit 0
{python} {holder} {database} {ready} {hold} </dev/null >/dev/null 2>&1 &
while [ ! -e {ready} ]; do sleep 0.01; done
"""

HOLDER = """import pathlib, sqlite3, sys, time
database, ready, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
connection = sqlite3.connect(database, timeout=60, isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
pathlib.Path(ready).touch()
time.sleep(hold)
connection.execute("COMMIT")
"""


def hold_the_database_after_next_commit(
    git_dir: Path, work: Path, database: Path, seconds: float
) -> Path:
    """Install a reference-transaction hook in the bare repository `git_dir` that, on the next
    commit, makes another process hold the SQLite write lock for `seconds`; return the file
    whose presence arms it (removed when it fires)."""
    holder = work / "holder.py"
    holder.write_text(HOLDER)
    armed = work / "armed"
    hook = git_dir / "hooks" / "reference-transaction"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(
        HOOK.format(
            armed=armed,
            python=sys.executable,
            holder=holder,
            database=database,
            ready=work / "ready",
            hold=seconds,
        )
    )
    hook.chmod(0o755)
    armed.touch()
    return armed


@pytest.mark.slow
def test_a_save_whose_index_update_finds_the_database_locked_still_answers_200(
    tmp_path: Path,
) -> None:
    """The commit lands, then another process holds the database longer than the busy
    timeout: the save re-indexes the product from Git before replying, so it answers 200, the
    index equals Git, and the next save succeeds at once (no 409)."""
    data_dir = tmp_path / "var"
    env = site_env(data_dir, NAUTES_SQLITE_TIMEOUT="0.1")
    _run(command("setup", "alpha"), env)
    before = _run(command("state", "alpha"), env)
    work = tmp_path / "hook"
    work.mkdir()
    armed = hold_the_database_after_next_commit(
        data_dir / "git" / "alpha" / "default.project.git",
        work,
        data_dir / "portal.sqlite3",
        seconds=1.0,
    )

    saved = _run(command("save", "alpha", "locked", "1"), env)

    assert not armed.exists(), "the hook fired: the database was held after the commit"
    assert saved == {"statuses": [200], "failures": []}
    state = _run(command("state", "alpha"), env)
    assert state["head"] != before["head"], "Git has the commit"
    assert state["git_projects"] == ["locked-0"]
    assert state["index_sha"] == state["head"], "the index caught up with Git"
    assert state["index_projects"] == state["git_projects"]
    again = _run(command("save", "alpha", "after", "1"), env)
    assert again == {"statuses": [200], "failures": []}, "no 409: the index was not behind"


@pytest.mark.slow
def test_a_cluster_save_whose_index_update_finds_the_database_locked_still_answers_200(
    tmp_path: Path, openbao_dev: Any, secret_store: Any
) -> None:
    """The same for the tenant repository: a cluster update commits, another process holds the
    database past the busy timeout, the save re-imports the clusters from Git and answers 200."""
    data_dir = tmp_path / "var"
    env = site_env(
        data_dir,
        NAUTES_SQLITE_TIMEOUT="0.1",
        VAULT_ADDR=openbao_dev.addr,
        VAULT_TOKEN=openbao_dev.token,
    )
    _run(command("setup"), env)
    before = _run(command("cluster-setup", "cluster-a"), env)
    work = tmp_path / "hook"
    work.mkdir()
    armed = hold_the_database_after_next_commit(
        data_dir / "git" / "nautes" / "tenant.git",
        work,
        data_dir / "portal.sqlite3",
        seconds=1.0,
    )

    saved = _run(command("cluster-save", "cluster-a", "https://127.0.0.2:1"), env)

    assert not armed.exists(), "the hook fired: the database was held after the commit"
    assert saved["status"] == 200, saved
    state = _run(command("cluster-state"), env)
    assert state["head"] != before["head"], "Git has the commit"
    assert state["git_servers"] == {"cluster-a": "https://127.0.0.2:1"}
    assert state["index_sha"] == state["head"], "the index caught up with Git"
    assert state["index_servers"] == state["git_servers"]
    again = _run(command("cluster-save", "cluster-a", "https://127.0.0.3:1"), env)
    assert again["status"] == 200, again


def test_the_data_directory_helpers_never_replace_a_created_file(tmp_path: Path) -> None:
    """`create_new` (OpenBao's init.json: the unseal key) refuses to replace a file, and
    `create_once` returns the file that is there rather than writing another."""
    from nautes_portal.datadir import create_new, create_once

    target = tmp_path / "init.json"
    create_new(target, "first")
    with pytest.raises(FileExistsError):
        create_new(target, "second")
    assert target.read_text() == "first"
    assert create_once(target, lambda: "third") == "first"
    assert _mode(target) == 0o600
    assert os.listdir(tmp_path) == ["init.json"], "no temporary file is left behind"
