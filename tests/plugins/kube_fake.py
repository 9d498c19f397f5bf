"""Pytest plugin: fake Kubernetes API servers (`tests/fakes/kube_server.py`) for tests.

Load it with `-p tests.plugins.kube_fake` (pytest addopts) or `pytest_plugins` in a test module.

* `fake_kube`: one started server without Argo CD; `fake_kube.install_argocd()` adds it.
* `fake_kube_factory(count=1, **options)`: start `count` servers with `FakeKubeServer` options
  (e.g. `argocd_installed=True`, `latency=0.05`) and return them as a list.
* `fake_kube_tls`: a session-wide throw-away CA with server and client certificates, for
  `FakeKubeServer(tls=...)` (skips the test when the `openssl` command is missing).

Every server a fixture started is stopped when the test ends.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.kube_server import FakeKubeServer, TlsMaterial, make_tls_material, stop_all


@pytest.fixture
def fake_kube_factory() -> Iterator[Callable[..., list[FakeKubeServer]]]:
    """Start fake API servers on demand; all are stopped after the test."""
    started: list[FakeKubeServer] = []

    def start(count: int = 1, **options: Any) -> list[FakeKubeServer]:
        servers = [FakeKubeServer(**options).start() for _ in range(count)]
        started.extend(servers)
        return servers

    yield start
    stop_all(started)


@pytest.fixture
def fake_kube(fake_kube_factory: Callable[..., list[FakeKubeServer]]) -> FakeKubeServer:
    """One started fake API server (Argo CD not installed)."""
    return fake_kube_factory()[0]


@pytest.fixture(scope="session")
def fake_kube_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made once."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    return make_tls_material(tmp_path_factory.mktemp("fake-kube-tls"))
