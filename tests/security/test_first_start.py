"""A first start that cannot race (issue #12, finding 7).

On a fresh clone `./portal up` started `manage.py openbao` and polled `manage.py openbao
--check` at once; both imported the settings, found no secret key, and the loser of the
exclusive create died with FileExistsError. Generated files are now linked into place complete,
and whoever finds one already there reads it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.security.sqlite_site import ROOT

# Each process does its slow imports first, then waits for the start signal, so the eight
# imports of the settings (which make the key) really happen together.
IMPORT_SETTINGS = """
import os, sys, time
import django, dj_database_url, django.conf
while not os.path.exists(sys.argv[1]):
    time.sleep(0.001)
from django.conf import settings
print(settings.SECRET_KEY)
"""


def _settings_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "nautes_portal.settings",
            "NAUTES_DATA_DIR": str(data_dir),
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


@pytest.mark.slow
def test_eight_processes_starting_on_an_empty_data_directory_share_one_key(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"  # does not exist yet: a fresh clone
    go = tmp_path / "go"
    env = _settings_env(data_dir)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", IMPORT_SETTINGS, str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(8)
    ]
    time.sleep(2.0)  # every process has done its imports and waits
    go.touch()
    outputs = [process.communicate(timeout=60) for process in processes]

    errors = [err.decode()[-1500:] for process, (_, err) in zip(processes, outputs, strict=True)]
    assert [p.returncode for p in processes] == [0] * 8, errors
    keys = {out.decode().strip() for out, _ in outputs}
    assert len(keys) == 1, "every process uses the same key"
    key = keys.pop()
    assert len(key) >= 50
    key_file = data_dir / "secret_key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    leftovers = sorted(p.name for p in data_dir.iterdir() if p.name.endswith(".tmp"))
    assert leftovers == [], "no temporary file is left behind"


def test_portal_up_prepares_the_data_directory_before_starting_processes_in_parallel() -> None:
    """`./portal up` makes the key and the database (migrate) before the first background
    process (`&`) starts, so nothing the processes share is created by two of them at once."""
    script = (ROOT / "portal").read_text()
    body = script[script.index("cmd_up() {") :]
    body = body[: body.index("\n}\n")]
    lines = [line.strip() for line in body.splitlines()]
    prepare = next(i for i, line in enumerate(lines) if "manage.py migrate" in line)
    first_parallel = next(i for i, line in enumerate(lines) if line.endswith("pids+=($!)"))
    assert prepare < first_parallel, "the data directory is prepared before any process forks"
