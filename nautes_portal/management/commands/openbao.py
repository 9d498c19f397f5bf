"""`manage.py openbao`: run the embedded OpenBao in the foreground, or `--check` the store."""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from nautes_portal.embedded_openbao import EmbeddedOpenBao, EmbeddedOpenBaoError
from nautes_portal.integrations.vault import KV_ENGINES, SecretStoreError, secret_store


class Command(BaseCommand):
    # Infrastructure that starts before the portal: it must not depend on the apps' checks.
    requires_system_checks: list[str] = []
    help = (
        "Run the embedded OpenBao (storage under NAUTES_OPENBAO_DIR) until SIGTERM/SIGINT, "
        "or with --check report whether the portal's secret store is reachable, unsealed and "
        "its engines accept reads."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Check the configured secret store instead of running a server.",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="API port on 127.0.0.1 (default: NAUTES_OPENBAO_PORT, else a free port).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            self._check()
            return
        self._run(port=options["port"])

    def _check(self) -> None:
        try:
            store = secret_store()
            store.check_ready()
        except SecretStoreError as exc:
            raise CommandError(exc.message) from None
        where = getattr(store, "url", "the secret store")
        engines = ", ".join(f"{engine}/" for engine in KV_ENGINES)
        # check_ready waited for engines still upgrading to KV v2: "ready" means they answer.
        self.stdout.write(
            f"OK: Vault at {where} is reachable and unsealed, and its engines ({engines}) "
            "accept reads."
        )

    def _run(self, *, port: int | None) -> None:
        if settings.VAULT_ADDR:
            self.stderr.write(
                f"Note: VAULT_ADDR is set ({settings.VAULT_ADDR}), so the portal uses that Vault, "
                "not this embedded OpenBao."
            )
        stopping = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        # Install before starting so a signal during start-up still leads to a clean stop.
        previous = {
            signum: signal.signal(signum, request_stop)
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        server = EmbeddedOpenBao(Path(settings.NAUTES_OPENBAO_DIR), port=port)
        try:
            try:
                addr = server.start()
            except EmbeddedOpenBaoError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"Embedded OpenBao is running at {addr}; stop it with Ctrl-C.")
            self.stdout.flush()
            while not stopping.wait(0.5):
                code = server.poll()
                if code is not None:
                    raise CommandError(
                        f"OpenBao exited unexpectedly (code {code}); see {server.layout.log}."
                    )
            self.stdout.write("Stopping the embedded OpenBao…")
        finally:
            server.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
