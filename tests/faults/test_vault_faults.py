"""Vault sealed or unreachable in the middle of a multi-step operation.

coderepo.provision creates each deploy key in GitLab first (Vault needs the key's id), then
stores the private key in Vault. Vault failing at that very moment is the worst case: GitLab
holds a key whose private half is nowhere. The step must fail with a reason, and a retry must
replace that key so that no orphaned deploy key stays enabled in GitLab.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from pytest_django.fixtures import Settings

from nautes_portal.integrations.vault import SecretStore, secret_store
from nautes_portal.operations import operation_run
from nautes_portal.operations.models import Operation
from products import repo_provisioning as rp
from tests.fakes.gitlab_server import FakeGitLab
from tests.plugins.openbao import OpenBaoDevServer, start_openbao_dev
from tests.products.test_repo_provisioning import (  # noqa: F401
    _keys,
    _provision,
    _secret,
    _steps,
    add_repo,
    gitlab,
)

pytestmark = pytest.mark.django_db

DEPLOY_KEY_CREATED = r"/projects/{pid}/deploy_keys$"


@pytest.fixture
def vault(
    gitlab: FakeGitLab,  # noqa: F811
    settings: Settings,
    tmp_path: Path,
) -> Iterator[OpenBaoDevServer]:
    """A Vault of this test's own (it gets sealed or frozen), with a short client timeout."""
    server = start_openbao_dev(tmp_path)
    settings.VAULT_ADDR = server.addr
    settings.VAULT_TOKEN = server.token
    settings.VAULT_TIMEOUT = 3.0
    try:
        yield server
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


def unseal(server: OpenBaoDevServer) -> None:
    """Unseal a dev server with the key it printed when it started, and wait until it serves
    again (an unsealed server needs a moment to become active; a busy machine makes it longer)."""
    key = re.search(r"Unseal Key: (\S+)", server.log_path.read_text())
    assert key is not None, "the dev server prints its unseal key"
    client = server.client()
    client.sys.submit_unseal_key(key.group(1))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = requests.get(f"{server.addr}/v1/sys/health", timeout=2)
        if response.status_code == 200:  # initialized, unsealed and active
            return
        time.sleep(0.05)
    raise AssertionError(f"OpenBao did not become active after unsealing: {response.text}")


def assert_keys_match_vault(fake: FakeGitLab, store: SecretStore, pid: int) -> None:
    """Each permission has one key enabled on the project, and it is the one Vault holds."""
    keys = _keys(fake, pid)
    assert set(keys) == {f"repo-{pid}-readonly", f"repo-{pid}-readwrite"}
    for permission in rp.PERMISSIONS:
        secret = _secret(store, pid, permission)
        assert secret is not None
        assert int(secret["id"]) == keys[f"repo-{pid}-{permission}"][0]


def provision_with_vault_failing(
    fake: FakeGitLab, pid: int, break_vault: Callable[[], None]
) -> tuple[Operation, int]:
    """Run coderepo.provision, breaking Vault right after GitLab created the first key."""
    fake.after_next("POST", DEPLOY_KEY_CREATED.format(pid=pid), break_vault)
    operation = _provision(pid, "api")
    assert operation.status == Operation.Status.FAILED
    (orphan,) = fake.projects[pid].deploy_keys  # GitLab has it; Vault never got its private key
    return operation, orphan


def test_vault_sealed_mid_step_fails_visibly_and_a_retry_leaves_no_orphaned_key(
    gitlab: FakeGitLab,  # noqa: F811
    add_repo: Callable[..., int],  # noqa: F811
    vault: OpenBaoDevServer,
) -> None:
    pid = add_repo("api")
    operation, orphan = provision_with_vault_failing(gitlab, pid, vault.client().sys.seal)

    status, _, error = _steps(operation)["deploy_keys"]
    assert status == "failed"
    assert error == f"Vault at {vault.addr} is sealed; unseal it and try again.", error
    assert operation.error.startswith("Create the repository's deploy keys: Vault at")
    from django_q.models import Schedule

    assert Schedule.objects.filter(args=str(operation.pk)).exists()  # retryable: scheduled

    unseal(vault)
    retried = operation_run(operation.pk)

    assert retried.status == Operation.Status.SUCCEEDED, retried.error
    assert_keys_match_vault(gitlab, secret_store(), pid)
    assert orphan not in gitlab.deploy_keys, "the key whose private half was lost is deleted"


@pytest.mark.slow
def test_vault_unreachable_mid_step_fails_visibly_and_a_retry_leaves_no_orphaned_key(
    gitlab: FakeGitLab,  # noqa: F811
    add_repo: Callable[..., int],  # noqa: F811
    vault: OpenBaoDevServer,
) -> None:
    pid = add_repo("api")
    # A frozen Vault accepts connections and never answers: the client's timeout decides.
    freeze = lambda: os.kill(vault.process.pid, signal.SIGSTOP)  # noqa: E731
    operation, orphan = provision_with_vault_failing(gitlab, pid, freeze)

    status, _, error = _steps(operation)["deploy_keys"]
    assert status == "failed"
    assert vault.addr in error and "try again" in error, error

    os.kill(vault.process.pid, signal.SIGCONT)
    retried = operation_run(operation.pk)

    assert retried.status == Operation.Status.SUCCEEDED, retried.error
    assert_keys_match_vault(gitlab, secret_store(), pid)
    assert orphan not in gitlab.deploy_keys
