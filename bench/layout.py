"""The portal's real process layouts (gunicorn, django-q2 clusters) started for a run.

Used by the soak benchmark (bench/soak.py) and the production-layout tests (tests/deploy/):
each process runs `nautes_portal.settings` (the production settings, not the test ones) from
the environment given, with its output in a log file of its own.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
# What a child process keeps of ours: nothing that configures the portal.
_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """A clean environment for the portal's processes: production settings, loopback only."""
    env = {k: os.environ[k] for k in _KEPT if k in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="nautes_portal.settings",
        SECRET_KEY=secrets.token_urlsafe(50),  # one per layout, shared by its processes
        NAUTES_DATA_DIR=str(data_dir),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DEBUG="false",
        PYTHONUNBUFFERED="1",
        # Commits need an author even where the machine has no git identity.
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_CONFIG_NOSYSTEM="1",
    )
    env.update(settings)
    return env


def postgres_server() -> str | None:
    """The URL of a PostgreSQL server's maintenance database, or None when none answers."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    base = url.rsplit("/", 1)[0] + "/postgres" if url.startswith("postgres") else DEFAULT_POSTGRES
    try:
        with psycopg.connect(base, connect_timeout=3):
            return base
    except psycopg.Error:
        return None


@contextlib.contextmanager
def postgres_database(server: str, name: str) -> Iterator[str]:
    """A fresh, empty database of its own on `server`, dropped afterwards; yields its URL."""
    import psycopg

    def run(sql: str) -> None:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@dataclass
class Layout:
    """Processes of one portal installation, all stopped by `stop()` (or the context)."""

    work: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.work / "logs").mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Layout:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_path(self, name: str) -> Path:
        return self.work / "logs" / f"{name}.log"

    def manage(self, *args: str, timeout: float = 300) -> str:
        """Run a management command to its end; its output, or an error carrying it."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, name: str, argv: list[str], **extra: str) -> subprocess.Popen[bytes]:
        with self.log_path(name).open("ab") as log:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**self.env, **extra},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stop() reaches its children too
            )
        self.processes[name] = process
        return process

    def gunicorn(self, name: str, *, workers: int, config: bool) -> str:
        """A gunicorn on a free loopback port; its base URL once /readyz answers 200.

        `config`: the production config (gunicorn.conf.py, as the Kubernetes web Deployment
        runs it); otherwise the command line `./portal up` uses.
        """
        port = free_port()
        if config:
            argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
            extra = {"NAUTES_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
        else:
            argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
            argv += ["--workers", str(workers), "--access-logfile", "-"]
            extra = {}
        self.start(name, [*argv, "nautes_portal.wsgi"], **extra)
        url = f"http://127.0.0.1:{port}"
        self.wait_ready(name, url)
        return url

    def qcluster(self, name: str, **extra: str) -> subprocess.Popen[bytes]:
        return self.start(name, [sys.executable, "manage.py", "qcluster"], **extra)

    def wait_ready(self, name: str, url: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log_path(name).read_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"{name} not ready:\n{self.log_path(name).read_text()[-3000:]}")

    def stop(self, grace: float = 20) -> None:
        """SIGTERM every process (its own children are its business), then SIGKILL what is
        left of each process group after `grace` seconds."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def logs(self) -> dict[str, str]:
        return {
            path.stem: path.read_text(errors="replace")
            for path in sorted((self.work / "logs").glob("*.log"))
        }
