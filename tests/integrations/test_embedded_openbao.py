"""The embedded OpenBao: persistent storage, unseal on restart, the `openbao` command."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import hvac
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from nautes_portal.embedded_openbao import (
    PORT_ENV,
    EmbeddedOpenBao,
    EmbeddedOpenBaoError,
    free_port,
    read_connection,
)
from nautes_portal.integrations import vault

pytestmark = pytest.mark.slow

KUBECONFIG = "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {token: k8s-s3cr3t}}]\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def openbao_dir(settings: Settings, tmp_path: Path) -> Path:
    """Point the portal at an embedded OpenBao in tmp_path (no external Vault)."""
    settings.VAULT_ADDR = ""
    settings.NAUTES_OPENBAO_DIR = tmp_path / "openbao"
    return tmp_path / "openbao"


def test_restart_keeps_secrets_and_check_command_follows(openbao_dir: Path) -> None:
    location = vault.cluster_kubeconfig_location("host")

    with EmbeddedOpenBao(openbao_dir) as server:
        assert (openbao_dir / "addr").read_text().strip() == server.addr
        connection = read_connection(openbao_dir)
        assert connection is not None
        assert connection.token not in repr(connection)
        client = hvac.Client(url=server.addr, token=connection.token)
        mounts = client.sys.list_mounted_secrets_engines()["data"]
        for engine in vault.KV_ENGINES:
            assert mounts[f"{engine}/"]["options"]["version"] == "2"

        store = vault.secret_store()
        store.write(engine=location.engine, path=location.path, data={"kubeconfig": KUBECONFIG})
        out = io.StringIO()
        call_command("openbao", "--check", stdout=out)
        assert f"Vault at {server.addr} is reachable and unsealed" in out.getvalue()

    assert not (openbao_dir / "addr").exists()
    assert read_connection(openbao_dir) is None
    with pytest.raises(CommandError, match=r"python manage\.py openbao"):
        call_command("openbao", "--check")

    with EmbeddedOpenBao(openbao_dir):
        assert vault.secret_store().read(engine=location.engine, path=location.path) == {
            "kubeconfig": KUBECONFIG
        }


def test_files_are_private(openbao_dir: Path) -> None:
    with EmbeddedOpenBao(openbao_dir):
        init = json.loads((openbao_dir / "init.json").read_text())
        assert set(init) == {"unseal_keys_b64", "root_token"}
        assert _mode(openbao_dir / "init.json") == 0o600
        assert _mode(openbao_dir) == 0o700
        assert _mode(openbao_dir / "config.hcl") == 0o600
        assert _mode(openbao_dir / "server.log") == 0o600
        assert 'storage "raft"' in (openbao_dir / "config.hcl").read_text()
        # Nothing secret lands in the server log.
        log = (openbao_dir / "server.log").read_text()
        assert init["root_token"] not in log
        assert init["unseal_keys_b64"][0] not in log


def test_port_from_environment_and_second_instance_refused(
    openbao_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv(PORT_ENV, str(port))

    with EmbeddedOpenBao(openbao_dir) as server:
        assert server.addr == f"http://127.0.0.1:{port}"
        with pytest.raises(EmbeddedOpenBaoError, match="already runs at"):
            EmbeddedOpenBao(openbao_dir).start()
        # The refused instance must not remove the running server's address file.
        assert (openbao_dir / "addr").exists()


def test_missing_init_json_is_refused_not_reinitialized(openbao_dir: Path) -> None:
    with EmbeddedOpenBao(openbao_dir):
        pass
    (openbao_dir / "init.json").rename(openbao_dir / "init.json.bak")

    with pytest.raises(EmbeddedOpenBaoError, match=r"init\.json is missing"):
        EmbeddedOpenBao(openbao_dir).start()

    assert not (openbao_dir / "addr").exists()
    assert not (openbao_dir / "init.json").exists()


def test_openbao_command_runs_until_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nautes_portal.settings_test",
        "NAUTES_DATA_DIR": str(tmp_path),
        "VAULT_ADDR": "",
        PORT_ENV: "",
    }
    openbao_dir = tmp_path / "openbao"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "openbao"],
        cwd=Path(django_settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not (openbao_dir / "addr").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the openbao command did not start in 30 s"
            time.sleep(0.1)
        addr = (openbao_dir / "addr").read_text().strip()

        check = subprocess.run(
            [sys.executable, "manage.py", "openbao", "--check"],
            cwd=Path(django_settings.BASE_DIR),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stderr
        assert f"Vault at {addr} is reachable and unsealed" in check.stdout

        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr
    assert f"running at {addr}" in stdout.decode()
    assert not (openbao_dir / "addr").exists()
    root_token = json.loads((openbao_dir / "init.json").read_text())["root_token"]
    assert root_token not in stdout.decode() + stderr.decode()

    stopped = subprocess.run(
        [sys.executable, "manage.py", "openbao", "--check"],
        cwd=Path(django_settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stopped.returncode == 1
    assert "embedded OpenBao is not running" in stopped.stderr
