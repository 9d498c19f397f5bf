"""The soak of bench/soak.py, short (15 s): `./portal up`'s processes (gunicorn with 2 workers,
a django-q2 cluster running the portal's schedules) under 10 writers and 10 readers, on SQLite
and on PostgreSQL. No answer is 5xx, every 409 is retried to a 200, every 200-answered save is
in Git and in the index at the end, no log says "database is locked"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.layout import postgres_server
from bench.soak import run_soak
from nautes_portal.integrations.vault import SecretStore
from tests.plugins.openbao import OpenBaoDevServer

pytestmark = pytest.mark.slow

SECONDS = 15


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_soak(
    database: str, tmp_path: Path, openbao_dev: OpenBaoDevServer, secret_store: SecretStore
) -> None:
    if database == "postgresql" and postgres_server() is None:
        pytest.skip("no PostgreSQL answers on 127.0.0.1:5432 (or at DATABASE_URL's server)")
    result = run_soak(
        database,
        SECONDS,
        tmp_path,
        vault=(openbao_dev.addr, openbao_dev.token),
        meet_the_scheduler=True,
    )
    assert result.saves_ok > 50 and result.reads > 100, result
    assert result.failures() == [], (result.failures(), result.samples)
    # The load met the worker's schedules: the Git sync and the status collector ran meanwhile.
    assert {"products.tasks.sync_all", "deployments.status.status_collect_task"} <= set(
        result.schedules_during_load
    ), result.schedules_during_load
