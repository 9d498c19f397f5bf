"""Soak: the `./portal up` process layout under concurrent writers and readers.

    python bench/soak.py                                  # SQLite then PostgreSQL, 60 s each
    python bench/soak.py --database sqlite --seconds 15   # one database, shorter
    python bench/soak.py --write-results                  # also writes the "Soak" section of
                                                          # bench/results.md

The layout is what `./portal up` starts: gunicorn with 2 (sync) workers, one django-q2 cluster
(`manage.py qcluster`, ORM broker) running the portal's schedules (sync from Git, cluster checks,
the status collector, resumption of orphaned operations), the local Git backend, and the
embedded OpenBao (or the one VAULT_ADDR/VAULT_TOKEN name). PostgreSQL runs on a database of its
own, created and dropped here (the server from DATABASE_URL, else 127.0.0.1:5432).

10 writers save projects of 3 products (3 or 4 writers per product; each writer creates and
then rewrites 4 projects of its own) and 10 readers list and read them, for the given time. A
save answered 409 (or 5xx) is retried until it answers 200. Afterwards every project's last
200-answered content must be in Git and in the index, and no log may say "database is locked".
`tests/deploy/test_soak.py` is the short CI variant.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.layout import Layout, base_env, postgres_database, postgres_server  # noqa: E402

PRODUCTS = ("soak-a", "soak-b", "soak-c")
WRITERS = READERS = 10
NAMES_PER_WRITER = 4
RETRY_FOR = 60.0  # seconds a writer keeps retrying one save (409 or 5xx) before giving up
# The django-q2 scheduler first runs about 30 s after its cluster starts, then every 30 s.
SCHEDULER_FIRST_PASS = 30.0
LOCKED = "database is locked"
SCHEDULED = (
    "products.tasks.sync_all",
    "deployments.status.status_collect_task",
    "clusters.services.check_all_clusters",
    "nautes_portal.operations.tasks.resume_stale_operations",
)
CLUSTER = {
    "api_server": "https://127.0.0.1:1",  # refuses at once: checks and collection fail fast
    "cluster_kind": "kubernetes",
    "cluster_type": "physical",
    "usage": "worker",
    "worker_type": "deployment",
    "primary_domain": "127.0.0.1.nip.io",
}
KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
    "users": [{"name": "u", "user": {"token": "soak-kubeconfig-token"}}],
    "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
    "current-context": "ctx",
}


@dataclass
class SoakResult:
    database: str
    seconds: float
    saves_ok: int = 0  # saves that ended in 200 (after retries)
    conflicts: int = 0  # 409 answers
    conflicts_unresolved: int = 0  # saves whose 409 was not followed by a 200
    server_errors: int = 0  # 5xx answers, writes and reads
    other_errors: int = 0  # other 4xx answers to saves (after a retry of a 409 or 5xx)
    reads: int = 0
    no_answer: int = 0  # requests that got no HTTP answer at all
    samples: list[str] = field(default_factory=list)  # a few 5xx/other answers, for the report
    missing_in_git: list[str] = field(default_factory=list)
    missing_in_index: list[str] = field(default_factory=list)
    locked_lines: int = 0
    schedules_during_load: list[str] = field(default_factory=list)
    setup_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds of each phase
    # Where "database is locked" arose: the portal's innermost frame of each traceback.
    locked_sites: dict[str, int] = field(default_factory=dict)

    def failures(self) -> list[str]:
        """What broke a requirement (empty: the soak passed)."""
        found = []
        if self.server_errors:
            found.append(f"{self.server_errors} answers 5xx")
        if self.no_answer:
            found.append(f"{self.no_answer} requests got no answer")
        if self.conflicts_unresolved:
            found.append(f"{self.conflicts_unresolved} saves answered 409 never succeeded")
        if self.missing_in_git:
            found.append(f"{len(self.missing_in_git)} projects not in Git as last saved")
        if self.missing_in_index:
            found.append(f"{len(self.missing_in_index)} projects not in the index as last saved")
        if self.locked_lines:
            found.append(f"{self.locked_lines} log lines say {LOCKED!r}")
        return found


def brief(text: str) -> str:
    """An answer's gist: an HTML page's title, else the first 200 characters on one line."""
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    return (title.group(1) if title else " ".join(text.split()))[:200]


class Load:
    """The writers and readers of one run, and what they saw."""

    def __init__(self, url: str, token: str, result: SoakResult) -> None:
        self.url, self.result = url, result
        self.headers = {"Authorization": f"Bearer {token}"}
        self.lock = threading.Lock()
        self.expected: dict[tuple[str, str], str] = {}  # (product, project) → last 200 language
        self.statuses: Counter[int] = Counter()
        self.end = 0.0

    def _note(self, response: requests.Response, what: str) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.result.server_errors += 1
                self._sample(f"{what}: {response.status_code} {brief(response.text)}")

    def _send(
        self, session: requests.Session, method: str, url: str, body: Any = None
    ) -> requests.Response | None:
        """The answer, or None (counted) when there was none: refused, reset or timed out."""
        try:
            return session.request(method, url, json=body, headers=self.headers, timeout=120)
        except requests.RequestException as exc:
            with self.lock:
                self.result.no_answer += 1
                self._sample(f"{method} {url}: no answer ({exc.__class__.__name__})")
            time.sleep(0.5)
            return None

    def _sample(self, text: str) -> None:
        if len(self.result.samples) < 10:
            self.result.samples.append(text)

    def save(self, session: requests.Session, product: str, name: str, language: str) -> None:
        """POST until 200 (a 409 or 5xx is retried; another answer ends the attempt)."""
        url = f"{self.url}/api/v1/products/{product}/projects/{name}"
        conflicted = False
        give_up = time.monotonic() + RETRY_FOR
        while True:
            response = self._send(session, "POST", url, {"language": language})
            if response is None:  # whether it was saved is unknown: send it again
                if time.monotonic() > give_up:
                    return
                continue
            self._note(response, f"POST {product}/projects/{name}")
            status = response.status_code
            if status == 200:
                with self.lock:
                    self.result.saves_ok += 1
                    self.expected[(product, name)] = language
                return
            if status == 409:
                conflicted = True
                with self.lock:
                    self.result.conflicts += 1
            if (status != 409 and status < 500) or time.monotonic() > give_up:
                with self.lock:
                    if conflicted:
                        self.result.conflicts_unresolved += 1
                    if status < 500 and status != 409:
                        self.result.other_errors += 1
                        self._sample(f"POST {name}: {status} {brief(response.text)}")
                return
            time.sleep(0.05 + secrets.randbelow(200) / 1000)

    def writer(self, index: int) -> None:
        product = PRODUCTS[index % len(PRODUCTS)]
        session, seq = requests.Session(), 0
        while time.monotonic() < self.end:
            self.save(session, product, f"w{index}-{seq % NAMES_PER_WRITER}", f"lang-{index}-{seq}")
            seq += 1

    def reader(self, index: int) -> None:
        session, seq = requests.Session(), 0
        while time.monotonic() < self.end:
            product = PRODUCTS[(index + seq) % len(PRODUCTS)]
            path = (
                "/api/v1/products",
                f"/api/v1/products/{product}/projects",
                f"/api/v1/products/{product}/projects/w{(index + seq) % WRITERS}-0",
            )[seq % 3]
            response = self._send(session, "GET", f"{self.url}{path}")
            if response is None:
                continue
            self._note(response, f"GET {path}")
            with self.lock:
                self.result.reads += 1
            seq += 1

    def run(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        threads = [threading.Thread(target=self.writer, args=(i,)) for i in range(WRITERS)]
        threads += [threading.Thread(target=self.reader, args=(i,)) for i in range(READERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


@contextmanager
def database_url(database: str) -> Iterator[str]:
    if database == "sqlite":
        yield ""  # the embedded default: var/portal.sqlite3 in the data directory
        return
    server = postgres_server()
    if server is None:
        raise RuntimeError("no PostgreSQL answers")
    with postgres_database(server, f"nautes_soak_{os.getpid()}") as url:
        yield url


def start_vault(layout: Layout) -> None:
    """The embedded OpenBao, as `./portal up` starts it when VAULT_ADDR is not set."""
    layout.start("openbao", [sys.executable, "manage.py", "openbao"])
    for _ in range(240):
        try:
            layout.manage("openbao", "--check", timeout=30)
            return
        except RuntimeError:
            time.sleep(0.5)
    raise RuntimeError("the embedded OpenBao did not start")


def setup_api(url: str, token: str) -> None:
    import base64

    headers = {"Authorization": f"Bearer {token}"}
    for product in PRODUCTS:
        body = {"git": {"gitlab": {"name": product, "path": product, "visibility": "private"}}}
        response = requests.post(
            f"{url}/api/v1/products/{product}", json=body, headers=headers, timeout=120
        )
        if response.status_code != 200:
            raise RuntimeError(f"product {product}: {response.status_code} {response.text}")
    # A cluster gives the scheduled checks and the status collector something to visit.
    kubeconfig = base64.b64encode(yaml.safe_dump(KUBECONFIG).encode()).decode()
    response = requests.post(
        f"{url}/api/v1/clusters/soak-cluster",
        json={**CLUSTER, "kubeconfig": kubeconfig},
        headers=headers,
        timeout=120,
    )
    if response.status_code != 200:
        raise RuntimeError(f"cluster: {response.status_code} {response.text}")


def check_index(load: Load) -> list[str]:
    missing = []
    for (product, name), language in sorted(load.expected.items()):
        response = requests.get(
            f"{load.url}/api/v1/products/{product}/projects/{name}",
            headers=load.headers,
            timeout=60,
        )
        if response.status_code != 200 or response.json().get("language") != language:
            missing.append(f"{product}/{name}")
    return missing


def check_git(load: Load, data_dir: Path) -> list[str]:
    missing = []
    for (product, name), language in sorted(load.expected.items()):
        git_dir = data_dir / "git" / product / "default.project.git"
        shown = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"HEAD:projects/{name}/{name}.yaml"],
            capture_output=True,
            text=True,
            check=False,
        )
        document = yaml.safe_load(shown.stdout) if shown.returncode == 0 else None
        if (
            not isinstance(document, dict)
            or (document.get("spec") or {}).get("language") != language
        ):
            missing.append(f"{product}/{name}")
    return missing


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)  # SQLite keeps naive UTC


def scheduled_during(database: str | Path, start: dt.datetime, end: dt.datetime) -> list[str]:
    """The scheduled functions whose task started while the load ran (2 s either side)."""
    query = "SELECT func, started FROM django_q_task"
    if isinstance(database, Path):
        import sqlite3

        with contextlib.closing(sqlite3.connect(database / "portal.sqlite3")) as conn:
            rows = [(f, dt.datetime.fromisoformat(s)) for f, s in conn.execute(query)]
    else:
        import psycopg

        with psycopg.connect(database) as conn:
            rows = list(conn.execute(query))
    margin = dt.timedelta(seconds=2)
    return sorted(
        {
            func
            for func, when in rows
            if func in SCHEDULED and start - margin <= _aware(when) <= end + margin
        }
    )


_FRAME = re.compile(
    r'File "[^"]*/((?:products|deployments|clusters|nautes_portal)/[^"]+)", '
    r"line (\d+), in (\w+)"
)


def _our_frame(lines: list[str]) -> str:
    """The portal's innermost frame in the traceback these log lines end with."""
    frames = [m for line in lines if (m := _FRAME.search(line))]
    if not frames:
        return "no traceback of the portal's code"
    path, number, function = frames[-1].groups()
    return f"{path}:{number} in {function}"


def run_soak(
    database: str,
    seconds: float,
    work: Path,
    *,
    vault: tuple[str, str] | None = None,
    meet_the_scheduler: bool = False,
) -> SoakResult:
    """One soak run; `meet_the_scheduler` delays the load so that a short one covers the
    scheduler's first pass (about 30 s after the worker starts)."""
    result = SoakResult(database=database, seconds=seconds)
    started = last = time.monotonic()

    def phase(name: str) -> None:
        nonlocal last
        now = time.monotonic()
        result.timings[name], last = round(now - last, 1), now

    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)  # as `./portal up` does
    with database_url(database) as url:
        settings = {
            "NAUTES_ADMIN_USER": "admin",
            "NAUTES_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        }
        if url:
            settings["DATABASE_URL"] = url
        if vault:
            settings["VAULT_ADDR"], settings["VAULT_TOKEN"] = vault
        with Layout(work, base_env(data_dir, **settings)) as layout:
            if not vault:
                start_vault(layout)
            layout.manage("migrate", "--noinput")
            phase("migrate")
            # The worker starts before the rest of the set-up (`./portal up` starts it after
            # bootstrap): its scheduler's first pass comes 30 s later, the set-up overlaps that.
            layout.qcluster("worker")
            worker_started = time.monotonic()
            layout.manage("collectstatic", "--noinput", "--verbosity", "0")
            layout.manage("bootstrap")
            token = re.search(r"Generated token (\S+)", layout.manage("drf_create_token", "admin"))
            assert token is not None
            phase("collectstatic, bootstrap, token")
            web = layout.gunicorn("web", workers=2, config=False)
            phase("gunicorn ready")
            setup_api(web, token.group(1))
            phase("products and cluster")
            if meet_the_scheduler:
                time.sleep(
                    max(0.0, worker_started + SCHEDULER_FIRST_PASS - seconds / 2 - time.monotonic())
                )
            phase("wait for the scheduler")
            result.setup_seconds = round(time.monotonic() - started, 1)
            load = Load(web, token.group(1), result)
            load_start = dt.datetime.now(dt.UTC)
            load.run(seconds)
            load_end = dt.datetime.now(dt.UTC)
            phase("load")
            result.missing_in_index = check_index(load)
            result.missing_in_git = check_git(load, data_dir)
            result.schedules_during_load = scheduled_during(url or data_dir, load_start, load_end)
            phase("checks")
        phase("stop")
        for name, text in layout.logs().items():
            lines = text.splitlines()
            for number, line in enumerate(lines):
                if LOCKED in line:
                    result.locked_lines += 1
                    site = _our_frame(lines[max(0, number - 80) : number])
                    key = f"{name}: {site}"
                    result.locked_sites[key] = result.locked_sites.get(key, 0) + 1
    return result


def report(results: list[SoakResult], command: str) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Soak",
        "",
        f"Command: `{command}` — {when}",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "",
        "| database | load | saves 200 | 409 (all retried to 200) | 5xx | reads | lost in Git | "
        "lost in the index | `database is locked` in logs | schedules run during the load | "
        "requirements met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        failures = r.failures()
        lines.append(
            f"| {r.database} | {WRITERS} writers, {READERS} readers, {r.seconds:g} s "
            f"| {r.saves_ok} | {r.conflicts} ({r.conflicts_unresolved} not) "
            f"| {r.server_errors} | {r.reads} "
            f"| {len(r.missing_in_git)} | {len(r.missing_in_index)} | {r.locked_lines} "
            f"| {', '.join(s.rsplit('.', 1)[-1] for s in r.schedules_during_load) or 'none'} "
            f"| {'yes' if not failures else 'no: ' + '; '.join(failures)} |"
        )
    lines += [
        "",
        "The layout is `./portal up`'s: gunicorn with 2 sync workers, one django-q2 cluster on the",
        "ORM broker running the portal's schedules, the local Git backend, the embedded OpenBao.",
        f"{WRITERS} writers save projects of {len(PRODUCTS)} products (3 or 4 writers per product, "
        f"each creating then",
        f"rewriting {NAMES_PER_WRITER} projects of its own); {READERS} readers list products and "
        "projects and read projects.",
        "A 409 or 5xx is retried until 200; at the end",
        "each project's last 200-answered content is read back from the bare Git repository and",
        "through the API (the index). `tests/deploy/test_soak.py` runs the same for 15 s.",
    ]
    for r in results:
        if r.samples or r.locked_sites:
            lines += [
                "",
                f"{r.database}: the first answers that broke a requirement, and where "
                "`database is locked` arose (log: the portal's innermost frame: lines):",
                "",
            ]
            lines += [f"* {s.replace('|', '/')}" for s in r.samples[:3]]
            sites = sorted(r.locked_sites.items(), key=lambda item: -item[1])[:5]
            lines += [f"* {site}: {n}" for site, n in sites]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace (or append) the "## Soak" section of bench/results.md, leaving the rest alone."""
    path = ROOT / "bench" / "results.md"
    current = path.read_text()
    start = current.find("\n## Soak\n")
    if start >= 0:
        following = current.find("\n## ", start + 1)
        current = current[:start] + ("\n" + current[following + 1 :] if following >= 0 else "\n")
    path.write_text(current.rstrip("\n") + "\n\n" + text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--note", default="", help="a paragraph to add to the section")
    args = parser.parse_args()
    vault = None
    if os.environ.get("VAULT_ADDR"):
        vault = (os.environ["VAULT_ADDR"], os.environ.get("VAULT_TOKEN", ""))
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    results = []
    for database in databases:
        with tempfile.TemporaryDirectory(prefix=f"nautes-soak-{database}-") as work:
            result = run_soak(database, args.seconds, Path(work), vault=vault)
        print(json.dumps(dataclasses.asdict(result), indent=1))
        results.append(result)
    # The command that reproduces the figures (--write-results and --note change nothing).
    command = f"python bench/soak.py --database {args.database} --seconds {args.seconds:g}"
    text = report(results, command.strip())
    if args.note:
        text += "\n" + args.note.strip() + "\n"
    print(text)
    if args.write_results:
        write_section(text)
    sys.exit(1 if any(r.failures() for r in results) else 0)


if __name__ == "__main__":
    main()
