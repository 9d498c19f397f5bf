"""A loopback HTTP proxy in front of a real OpenBao that replays Vault's KV v2 upgrade window.

A new KV v2 mount upgrades its storage in the background; until that finishes Vault answers
every request below the mount with HTTP 400 and `{"errors": ["Upgrading from non-versioned to
versioned data. ..."]}` (vault-plugin-secrets-kv `upgradeCheck`). On a fast local server the
window is usually shorter than one round trip, so a test cannot rely on hitting it. This proxy
forwards everything to the real server unchanged, except that it answers Vault's exact upgrade
reply for requests below a mount:

* for `upgrade_window` seconds after a successful `POST /v1/sys/mounts/<path>` (the window a real
  server has, made long enough to be hit every time);
* for as long as the test wants, with `upgrading(mount, seconds)` (e.g. a mount re-upgrading
  after a restart) or `never_ready(mount)` (an upgrade that never finishes).

Every request is recorded (`requests`: method, path, status) so tests can show the window was
actually hit. The proxy listens on 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Vault's own wording (vault-plugin-secrets-kv, `upgradeCheck`).
UPGRADING_MESSAGE = (
    "Upgrading from non-versioned to versioned data. This backend will be unavailable for a "
    "brief period and will resume service shortly."
)
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    path: str
    status: int
    upgrading: bool


class VaultUpgradeProxy:
    """A started-on-demand proxy to `upstream` (an `http://127.0.0.1:<port>` OpenBao)."""

    def __init__(self, upstream: str, *, upgrade_window: float = 0.0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
            raise ValueError("the proxy only fronts a plain-HTTP server on 127.0.0.1")
        self.upstream_port = parts.port
        self.upgrade_window = upgrade_window
        self.requests: list[ProxiedRequest] = []
        self._until: dict[str, float] = {}  # mount -> monotonic end of its upgrade window
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- Control -------------------------------------------------------------
    def start(self) -> VaultUpgradeProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the proxy first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def upgrading(self, mount: str, seconds: float) -> None:
        """Answer "upgrading" below `mount/` for the next `seconds` (0: stop now)."""
        with self._lock:
            self._until[mount.strip("/")] = time.monotonic() + seconds

    def never_ready(self, mount: str) -> None:
        """Answer "upgrading" below `mount/` until the proxy stops."""
        self.upgrading(mount, float("inf"))

    def upgrading_answers(self, mount: str) -> int:
        """How many requests below `mount/` got the upgrade answer."""
        prefix = f"/v1/{mount.strip('/')}/"
        return sum(1 for r in self.requests if r.upgrading and r.path.startswith(prefix))

    # -- Internals -----------------------------------------------------------
    def _is_upgrading(self, path: str) -> bool:
        parts = path.split("?", 1)[0].split("/")
        if len(parts) < 3 or parts[1] != "v1" or parts[2] == "sys":
            return False
        with self._lock:
            until = self._until.get(parts[2])
        return until is not None and time.monotonic() < until

    def _mounted(self, method: str, path: str, status: int) -> None:
        """Start the upgrade window of a mount that the server just created."""
        prefix = "/v1/sys/mounts/"
        if method in ("POST", "PUT") and path.startswith(prefix) and status in (200, 204):
            mount = path[len(prefix) :].split("?", 1)[0].strip("/")
            if mount and "/" not in mount and self.upgrade_window > 0:
                end = time.monotonic() + self.upgrade_window
                with self._lock:  # never shortens a window the test set (never_ready)
                    self._until[mount] = max(end, self._until.get(mount, end))

    def _record(self, method: str, path: str, status: int, upgrading: bool) -> None:
        with self._lock:
            self.requests.append(ProxiedRequest(method, path, status, upgrading))


class _Handler(BaseHTTPRequestHandler):
    owner: VaultUpgradeProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return  # keep test output quiet

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.owner._is_upgrading(self.path):
            payload = json.dumps({"errors": [UPGRADING_MESSAGE]}).encode()
            self._reply(400, [("Content-Type", "application/json")], payload)
            self.owner._record(self.command, self.path, 400, True)
            return
        connection = http.client.HTTPConnection("127.0.0.1", self.owner.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            kept = [(k, v) for k, v in kept if k.lower() != "content-length"]
        finally:
            connection.close()
        # Before replying: the client's very next request must already see the window.
        self.owner._record(self.command, self.path, response.status, False)
        self.owner._mounted(self.command, self.path, response.status)
        self._reply(response.status, kept, data)

    def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_LIST = _handle
