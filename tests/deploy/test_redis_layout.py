"""The layout deploy/kubernetes describes, run for real: two web processes (gunicorn with the
production config) and two django-q2 clusters (`manage.py qcluster`) on PostgreSQL, with Redis
as the task broker (NAUTES_QUEUE) and the cache (CACHE_URL), GitLab mode against the fake GitLab.

It shows that the worker starts at all with a Redis broker (it died on a missing `redis`
module before), that a batch of operations queued through Redis runs each operation exactly
once, that a worker killed (SIGKILL) in the middle of a step leaves its operation to be resumed
at that step, and that a GitLab token's identity cached by one web process is used by the other.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.layout import Layout, base_env, postgres_database, postgres_server, redis_answers
from nautes_portal.integrations.vault import SecretStore
from tests.fakes.gitlab_server import FakeGitLab
from tests.plugins.gitlab_fake import PORTAL_BOT_TOKEN
from tests.plugins.openbao import OpenBaoDevServer

pytestmark = pytest.mark.slow

# Database numbers of this test's own (the manifests use 0 and 1); only these are flushed.
QUEUE_URL = "redis://127.0.0.1:6379/14"
CACHE_URL = "redis://127.0.0.1:6379/15"
BATCH = [f"batch-{i}" for i in range(6)]
ALICE_PAT = "alice-layout-pat"

ENQUEUE = """
import json
from django.contrib.auth import get_user_model
from django.db import transaction
from nautes_portal.operations import operation_create, operation_enqueue
actor = get_user_model().objects.get(username="alice")
ids = []
for name in {names!r}:
    params = {{"name": name, "display_name": name, "visibility": "private", "description": ""}}
    with transaction.atomic():
        operation = operation_create(kind="product.save", target=name, params=params, actor=actor)
        operation_enqueue(operation)
    ids.append(operation.pk)
print(json.dumps(ids))
"""
RESUME = "from nautes_portal.operations import resume_stale; print(resume_stale())"


def shell_result(layout: Layout, code: str) -> Any:
    """Run `code` in `manage.py shell`; the JSON its last output line holds."""
    return json.loads(layout.manage("shell", "-c", code).strip().splitlines()[-1])


def redis_db(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


@pytest.fixture
def database_url() -> Iterator[str]:
    if not redis_answers(QUEUE_URL):
        pytest.skip("no Redis answers on 127.0.0.1:6379 (.ci/run starts one)")
    server = postgres_server()
    if server is None:
        pytest.skip("no PostgreSQL answers (the layout runs on PostgreSQL, as in production)")
    for url in (QUEUE_URL, CACHE_URL):
        redis_db(url).flushdb()
    try:
        with postgres_database(server, f"nautes_layout_{os.getpid()}") as url:
            yield url
    finally:
        for url in (QUEUE_URL, CACHE_URL):
            redis_db(url).flushdb()


@pytest.fixture
def layout(
    tmp_path: Path,
    database_url: str,
    fake_gitlab: FakeGitLab,
    openbao_dev: OpenBaoDevServer,
    secret_store: SecretStore,
) -> Iterator[Layout]:
    fake_gitlab.create_group("nautes")
    fake_gitlab.create_project("nautes/tenant")
    fake_gitlab.add_user("alice", "Alice Liddell", "alice@example.com", ALICE_PAT)
    env = base_env(
        tmp_path / "data",
        DATABASE_URL=database_url,
        DATABASE_CONN_MAX_AGE="60",
        NAUTES_QUEUE=QUEUE_URL,
        CACHE_URL=CACHE_URL,
        NAUTES_GIT_BACKEND="gitlab",
        GITLAB_URL=fake_gitlab.url,
        GITLAB_TOKEN=PORTAL_BOT_TOKEN,
        VAULT_ADDR=openbao_dev.addr,
        VAULT_TOKEN=openbao_dev.token,
        NAUTES_LOCAL_LOGIN="true",
        NAUTES_WORKERS="1",  # one worker process per cluster: two clusters, as two pods
        WEB_THREADS="2",
    )
    with Layout(tmp_path, env) as running:
        running.manage("migrate", "--noinput")
        running.manage("bootstrap")
        yield running


def ops_state(database_url: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each operation's status and lease, and its steps' status and attempts (by name)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        state = {
            pk: {"status": status, "lease_live": live, "steps": {}}
            for pk, status, live in conn.execute(
                "SELECT id, status, lease_until > now() FROM deployments_operation"
                " WHERE id = ANY(%s)",
                [ids],
            )
        }
        for pk, name, status, attempts in conn.execute(
            "SELECT operation_id, name, status, attempts FROM deployments_operationstep"
            " WHERE operation_id = ANY(%s)",
            [ids],
        ):
            state[pk]["steps"][name] = (status, attempts)
    return state


def wait_for(predicate: Any, timeout: float, what: str, layout: Layout) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    logs = "\n".join(f"--- {k}\n{v[-2500:]}" for k, v in layout.logs().items())
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def pid_of_client(port: int) -> int | None:
    """The process holding the loopback TCP socket whose local port is `port` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except OSError:
            continue
    return None


def process_group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_the_kubernetes_layout_runs_on_redis_and_postgresql(
    layout: Layout, fake_gitlab: FakeGitLab, database_url: str
) -> None:
    fake = fake_gitlab
    web_a = layout.gunicorn("web-a", workers=1, config=True)
    web_b = layout.gunicorn("web-b", workers=1, config=True)
    workers = {name: layout.qcluster(name) for name in ("worker-a", "worker-b")}

    # -- A GitLab token's identity, resolved by web A, is a cache hit in web B (shared Redis).
    cache = redis_db(CACHE_URL)
    token_key = "nautes:gitlab-token:" + hashlib.sha256(ALICE_PAT.encode()).hexdigest()
    assert not cache.keys("*nautes:gitlab-token:*")
    headers = {"Authorization": f"Bearer {ALICE_PAT}"}
    assert requests.get(f"{web_a}/api/v1/products", headers=headers, timeout=30).status_code == 200
    assert [k.decode() for k in cache.keys("*nautes:gitlab-token:*")] == [f":1:{token_key}"]
    assert not any(
        ALICE_PAT.encode() in k or ALICE_PAT.encode() in (cache.get(k) or b"")
        for k in cache.keys("*")
    ), "the token itself is never stored"
    asked_gitlab = sum(1 for r in fake.requests if r.user == "alice")
    assert asked_gitlab > 0, "web A resolved the token with GitLab"
    assert requests.get(f"{web_b}/api/v1/products", headers=headers, timeout=30).status_code == 200
    assert sum(1 for r in fake.requests if r.user == "alice") == asked_gitlab, (
        "web B asked GitLab again: the identity cache is not shared"
    )

    # -- A batch queued through Redis: every operation runs, each step exactly once.
    ids = shell_result(layout, ENQUEUE.format(names=BATCH))
    wait_for(
        lambda: all(s["status"] == "succeeded" for s in ops_state(database_url, ids).values()),
        120,
        "the batch of operations",
        layout,
    )
    for pk, state in ops_state(database_url, ids).items():
        assert all(attempts == 1 for _, attempts in state["steps"].values()), (pk, state)
    for name in BATCH:
        assert fake.group(name).full_path == name
        posts = [
            r
            for r in fake.requests
            if r.method == "POST"
            and r.path == "/api/v4/groups"
            and (r.body or {}).get("path") == name
        ]
        assert len(posts) == 1, f"{name}: group created {len(posts)} times"

    # -- A worker killed (SIGKILL) right after GitLab made the group, before it hears back.
    killed: dict[str, int] = {}
    done = threading.Event()

    def kill_the_caller() -> None:
        assert fake.trigger_client is not None
        pid = pid_of_client(fake.trigger_client[1])
        if pid is not None:
            killed["pid"], killed["pgid"] = pid, process_group(pid) or 0
            os.kill(pid, signal.SIGKILL)
        done.set()

    fake.after_next("POST", r"^/api/v4/groups$", kill_the_caller)
    [victim] = shell_result(layout, ENQUEUE.format(names=["victim"]))
    assert done.wait(120), "no worker took the operation"
    assert "pid" in killed, "the process that called GitLab was not found"
    owners = {proc.pid: name for name, proc in workers.items()}
    assert killed["pgid"] in owners, "the killed process is a django-q2 worker of ours"
    assert killed["pid"] not in owners, "a worker process, not its cluster, was killed"

    time.sleep(2)
    state = ops_state(database_url, [victim])[victim]
    assert state["status"] == "running" and state["lease_live"], "the dead worker still holds it"
    assert state["steps"]["group"] == ("running", 1)
    assert [p for p in fake.groups.values() if p.full_path == "victim"]

    # The lease runs out (10 minutes in production; moved here instead of waiting), and the
    # scheduled resumption (here called at once) queues it again through Redis.
    import psycopg

    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE deployments_operation SET lease_until = now() - interval '1 second'"
            " WHERE id = %s",
            [victim],
        )
    assert shell_result(layout, RESUME) == 1
    wait_for(
        lambda: ops_state(database_url, [victim])[victim]["status"] == "succeeded",
        120,
        "the resumed operation",
        layout,
    )
    steps = ops_state(database_url, [victim])[victim]["steps"]
    assert steps["group"] == ("succeeded", 2), "resumed at its step"
    assert all(a == 1 for name, (_, a) in steps.items() if name != "group"), steps
    assert [g.full_path for g in fake.groups.values() if g.full_path == "victim"] == ["victim"]
    assert all(proc.poll() is None for proc in workers.values()), "both clusters still run"
    logs = layout.logs()
    assert "ModuleNotFoundError" not in "".join(logs.values())
