"""A worker process killed (SIGKILL) in the middle of an operation.

The worker runs in its own process on the test database, like a django-q worker. It is killed
at the worst moment: GitLab has just created the product's group, and the worker has not
recorded that the step succeeded. The operation stays `running` under the dead worker's lease;
once the lease expires, `resume_stale` (scheduled every minute in production) hands it to
another worker, which redoes the step idempotently and finishes: one group, one repository,
nothing orphaned.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from nautes_portal.integrations.vault import SecretStore
from nautes_portal.operations import operation_create, resume_stale
from nautes_portal.operations.models import Operation, OperationStep
from products.models import Product
from tests.fakes.gitlab_server import FakeGitLab
from tests.plugins.gitlab_fake import PORTAL_BOT_TOKEN
from tests.plugins.openbao import OpenBaoDevServer

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def worker_process(
    operation_id: int, fake: FakeGitLab, vault: OpenBaoDevServer
) -> subprocess.Popen[bytes]:
    """The task `run_operation` (nautes_portal.operations.tasks) in a process of its own, on this
    test's database."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nautes_portal.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "NAUTES_GIT_BACKEND": "gitlab",
        "GITLAB_URL": fake.url,
        "GITLAB_TOKEN": PORTAL_BOT_TOKEN,
        "VAULT_ADDR": vault.addr,
        "VAULT_TOKEN": vault.token,
    }
    code = (
        f"from nautes_portal.operations.tasks import run_operation; run_operation({operation_id})"
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def gitlab_backend(settings: Any, fake_gitlab: FakeGitLab, secret_store: SecretStore) -> FakeGitLab:
    settings.NAUTES_GIT_BACKEND = "gitlab"
    settings.GITLAB_URL = fake_gitlab.url
    settings.GITLAB_TOKEN = PORTAL_BOT_TOKEN
    return fake_gitlab


def test_a_worker_killed_mid_step_is_replaced_and_the_operation_completes(
    gitlab_backend: FakeGitLab, openbao_dev: OpenBaoDevServer, alice: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a server database (CI runs on PostgreSQL)")
    fake = gitlab_backend
    operation = operation_create(
        kind="product.save",
        target="acme",
        params={"name": "acme", "display_name": "acme", "visibility": "private", "description": ""},
        actor=alice,
    )
    worker = worker_process(operation.pk, fake, openbao_dev)
    # The moment GitLab has made the group, before the worker hears back: kill it.
    fake.after_next("POST", r"^/api/v4/groups$", lambda: os.kill(worker.pid, signal.SIGKILL))
    _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == -signal.SIGKILL, stderr.decode()[-2000:]

    operation.refresh_from_db()
    assert operation.status == Operation.Status.RUNNING, "the dead worker still holds it"
    assert operation.lease_until is not None and operation.lease_until > timezone.now()
    group_step = operation.steps.get(name="group")
    assert group_step.status == OperationStep.Status.RUNNING
    assert [g.full_path for g in fake.groups.values()] == ["acme"], "GitLab did the work"
    assert resume_stale() == 0, "a live lease is not taken over"

    # The lease runs out (10 minutes in production; moved here instead of waiting).
    Operation.objects.filter(pk=operation.pk).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    started = time.monotonic()
    assert resume_stale() == 1  # Q_CLUSTER sync=True in tests: the task runs right away
    operation.refresh_from_db()

    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    assert time.monotonic() - started < 30
    attempts = dict(operation.steps.values_list("name", "attempts"))
    assert attempts["group"] == 2 and all(n == 1 for k, n in attempts.items() if k != "group")
    assert [g.full_path for g in fake.groups.values()] == ["acme"], "no second group"
    assert [p.full_path for p in fake.projects.values()] == ["acme/default.project"]
    assert Product.objects.filter(name="acme").exists()
